"""The report poller use case: one tick reads the records due for a poll, asks the provider for their
reports concurrently, and writes what it learned.

Only records in `sent` carry `poll_shard` / `next_poll_at`, the keys of the sparse index `pending`,
so a tick reads the pending work and never the table. Every write is conditional on the record
still being `sent` with the same provider message id, so two overlapping ticks (a slow tick and the next one, a
retried invocation) cannot both settle a record: exactly one wins the terminal transition (and the outbox function
publishes it from the table's stream). A reschedule is conditional on the `next_poll_at` it read
too, so overlapping ticks do not back a record off twice.

The tick stops taking new work while enough time is left to finish what is in flight (the
provider's time-outs included) and leaves the rest for the next tick.

No boto3, no urllib3: the store and the report API come in through notifier.ports.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..domain import record as rec
from ..domain import reports
from ..domain.reports import Final, NoReport, Pending
from ..domain.status import Status
from ..domain.timefmt import iso_utc
from ..ports import PendingRecords, ReportSource

log = logging.getLogger("notifier.poller")


# ---------------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class PollSettings:
    shards: int = 4  # from POLL_SHARDS, which the dispatcher reads too: it writes "0".."shards-1"
    concurrency: int = 32
    page_size: int = 200
    expiry_hours: float = reports.REPORT_EXPIRY_HOURS
    min_margin_s: float = 10.0
    margin_fraction: float = 0.2
    call_budget_s: float = 15.0  # the longest a report call may take (connect + read time-outs, and slack)

    def margin_s(self, budget_s: float) -> float:
        """Time to keep in hand when taking new work: a call started just before it still finishes."""
        return max(self.min_margin_s, self.margin_fraction * budget_s, self.call_budget_s)


@dataclass
class TickResult:
    read: int = 0  # items the index queries read
    polled: int = 0  # report calls made
    delivered: int = 0
    failed: int = 0
    unknown: int = 0
    pending: int = 0  # still no final report: rescheduled
    errors: int = 0  # the provider answered with an error instead of a report: rescheduled
    raced: int = 0  # another tick settled or rescheduled the record first: nothing written, nothing published
    left: int = 0  # due items read but not taken because time ran short
    stopped_early: bool = False
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "latencies_ms"}
        out["report_latency_ms_median"] = round(statistics.median(self.latencies_ms), 1) if self.latencies_ms else None
        return out


# ---------------------------------------------------------------------------------------------- the use case


class Poller:
    def __init__(
        self,
        *,
        records: PendingRecords,
        reports: ReportSource,
        settings: PollSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.records = records
        self.reports = reports
        self.settings = settings or PollSettings()
        self.clock = clock

    # ---------------------------------------------------------------- one tick
    def tick(self, remaining_s: Callable[[], float]) -> TickResult:
        """Poll what is due now until done or until `remaining_s()` (the invocation's time left)
        falls under the margin."""
        result = TickResult()
        margin = self.settings.margin_s(remaining_s())
        feed = _Feed(self.records, self.settings, int(self.clock()))
        lock = threading.Lock()  # the result's counters
        feeding = threading.Lock()  # the feed: one index query at a time, without holding up the counters
        workers: list[threading.Thread] = []

        def spawn() -> None:
            worker = threading.Thread(target=work, name=f"poll-{len(workers)}", daemon=True)
            workers.append(worker)
            worker.start()

        def take() -> dict[str, Any] | None:
            with feeding:
                if feed.stopped:
                    return None
                if remaining_s() < margin:
                    feed.stopped = True
                    return None
                item = feed.next()
                # Threads only as the work needs them: an idle tick (the usual case) starts one.
                if item is not None and not feed.exhausted() and len(workers) < self.settings.concurrency:
                    spawn()
                return item

        def work() -> None:
            while (item := take()) is not None:
                try:
                    self.poll_one(item, result, lock)
                except Exception:  # one broken record must not end the tick for the others
                    log.exception("poll failed", extra={"record_id": item.get("id")})
                    with lock:
                        result.errors += 1

        spawn()
        joined = 0
        while joined < len(workers):  # a worker may start another until the work runs out
            workers[joined].join()
            joined += 1
        result.read = feed.read
        if feed.stopped:
            result.stopped_early = True
            result.left = feed.buffered()
            log.warning("tick stopped before its time-out; the rest waits for the next tick", extra=result.summary())
        return result

    # ---------------------------------------------------------------- one record
    def poll_one(self, item: dict[str, Any], result: TickResult, lock: threading.Lock) -> None:
        if item.get("status") == Status.SENDING:
            self._sweep(item, result, lock)
            return
        if not rec.message_id_of(item):
            # Nothing to ask the provider about, and nothing will change that: settle it now.
            reason = "the record is sent but has no provider message id (cmid), so its report cannot be asked for"
            self._expire(item, reason, self.clock(), result, lock)
            return
        deadline = reports.report_deadline(item, self.settings.expiry_hours)
        fetched = self.reports.fetch(item)
        with lock:
            result.polled += 1
            result.latencies_ms.append(fetched.latency_ms)
        report = fetched.report
        now = self.clock()
        if isinstance(report, Final):
            self._settle(item, report, now, result, lock)
        elif reports.expired(now, deadline):
            self._expire(item, reports.expiry_reason(self.settings.expiry_hours, report), now, result, lock)
        else:
            self._reschedule(item, report, now, deadline, result, lock)

    def _settle(
        self, item: dict[str, Any], report: Final, now: float, result: TickResult, lock: threading.Lock
    ) -> None:
        changes: dict[str, Any] = {
            "report_code": report.report_code,
            "report_reason": report.report_reason,
            "reason": _reason(item, report),
            "delivered_via": report.delivered_via,
            "fallback_used": report.fallback_used,
            "report_time": report.report_time,
            **{f"report_{k}": v for k, v in report.codes.items() if v},
        }
        change = rec.report(item=item, dst=Status(report.status), changes=changes, now=iso_utc(now))
        if self._finish(item, change, result, lock):
            with lock:
                if report.status == Status.DELIVERED.value:
                    result.delivered += 1
                else:
                    result.failed += 1
            log.info(
                "report",
                extra={"record_id": item["id"], "status": report.status, "code": report.report_code,
                       "delivered_via": report.delivered_via},
            )  # fmt: skip

    def _sweep(self, item: dict[str, Any], result: TickResult, lock: threading.Lock) -> None:
        """A claim made on its message's last delivery, still held after its lease: its owner stopped and
        no redelivery will come. The dispatch mark decides, as on a redelivery (usecases/claiming.py)."""
        now = iso_utc(self.clock())
        if rec.never_left(item):
            reason = (
                "the dispatcher stopped before sending, on the message's last delivery; nothing was sent and "
                "the message is in the dead-letter queue (redrive it to send)"
            )
            if self._finish(item, rec.give_up(claim_token=str(item["claim_token"]), reason=reason, now=now),
                            result, lock):  # fmt: skip
                with lock:
                    result.failed += 1
                log.error("swept a claim that never sent", extra={"record_id": item["id"]})
            return
        reason = (
            "the dispatcher that claimed this message stopped after its request may have left for the provider "
            "and before recording the answer, on the message's last delivery; the provider may have it"
        )
        change = rec.abandon(
            claim_token=item.get("claim_token"), dispatched_at=item.get(rec.DISPATCH_MARK), reason=reason, now=now
        )
        if self._finish(item, change, result, lock):
            with lock:
                result.unknown += 1
            log.error("swept a claim that may have sent", extra={"record_id": item["id"]})

    def _expire(self, item: dict[str, Any], reason: str, now: float, result: TickResult, lock: threading.Lock) -> None:
        if self._finish(item, rec.expire(item=item, reason=reason, now=iso_utc(now)), result, lock):
            with lock:
                result.unknown += 1
            log.error("no final report", extra={"record_id": item["id"], "reason": reason})

    def _finish(self, item: dict[str, Any], change: rec.Change, result: TickResult, lock: threading.Lock) -> bool:
        rid = str(item["id"])
        won = self.records.apply(rid, change)
        if not won:
            with lock:
                result.raced += 1
            log.info("already settled by another tick", extra={"record_id": rid})
            return False
        return True

    def _reschedule(
        self,
        item: dict[str, Any],
        report: Pending | NoReport,
        now: float,
        deadline: float | None,
        result: TickResult,
        lock: threading.Lock,
    ) -> None:
        rid = str(item["id"])
        polls = int(item.get("polls") or 0) + 1
        at = reports.next_poll(now, polls, deadline)
        note = report.detail if isinstance(report, Pending) else f"error {report.code}: {report.reason}"
        won = self.records.apply(rid, rec.reschedule(item=item, next_poll_at=at, note=note[:300], now=iso_utc(now)))
        with lock:
            if not won:
                result.raced += 1
            elif isinstance(report, Pending):
                result.pending += 1
            else:
                result.errors += 1
        if won and isinstance(report, NoReport):
            log.warning("report call failed", extra={"record_id": rid, "code": report.code, "reason": report.reason})


class _Feed:
    """Due items of every shard, a page at a time, shards taken in turn so none waits behind another.
    Not thread-safe: the tick calls it under its feeding lock."""

    def __init__(self, records: PendingRecords, settings: PollSettings, now: int) -> None:
        self._records = records
        self._page_size = settings.page_size
        self._now = now
        self.read = 0
        self._cursors: dict[str, Any] = {str(s): None for s in range(settings.shards)}
        self._turn: list[str] = list(self._cursors)
        self._buffer: deque[dict[str, Any]] = deque()
        self.stopped = False

    def next(self) -> dict[str, Any] | None:
        while not self._buffer and self._turn:
            shard = self._turn.pop(0)
            page = self._records.due(shard, self._now, self._page_size, self._cursors[shard])
            self.read += page.scanned
            self._buffer.extend(page.items)
            if page.cursor is not None:
                self._cursors[shard] = page.cursor
                self._turn.append(shard)
        return self._buffer.popleft() if self._buffer else None

    def exhausted(self) -> bool:
        """Nothing buffered and no page left to read."""
        return not self._buffer and not self._turn

    def buffered(self) -> int:
        """Due items read and not taken; pages not read yet are not counted (reading them would cost)."""
        return len(self._buffer)


def _reason(item: Mapping[str, Any], report: Final) -> str:
    """The record's readable reason: what the report said, and by which route when that matters."""
    if report.status == "delivered":
        via = report.delivered_via or str(item.get("channel_used") or "")
        if report.fallback_used:
            return f"delivered by the fallback {via.upper()} after the AlimTalk failed ({report.report_reason})"
        if item.get("fallback") == "app":
            return (
                f"delivered by {via.upper()} (report {report.report_code}), sent by the app as the AlimTalk was refused"
            )
        return f"delivered by {via.upper() if via != 'alimtalk' else 'AlimTalk'} (report {report.report_code})"
    return f"report {report.report_code}: {report.report_reason}"
