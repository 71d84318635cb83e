"""Settling a claimed send from the provider's result: `sent` (and when to poll its report),
a terminal status with its reason, or the claim released for a retry. Every write is conditional on
the claim token, so a delivery whose lease ran out never overwrites the one that took over."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..domain import record as rec
from ..domain.event import Event
from ..domain.limits import REASON_MAX_CHARS, bounded
from ..domain.plan import Plan
from ..domain.reports import poll_shard
from ..domain.status import Status
from ..domain.timefmt import iso_utc
from ..ports import RecordStore, SendResult
from .dispatching import Inbound, Outcome, Settings

log = logging.getLogger("notifier.dispatch")


class Settler:
    def __init__(self, records: RecordStore, settings: Settings, clock: Callable[[], float]) -> None:
        self.records = records
        self.settings = settings
        self.clock = clock

    def settle(
        self,
        event: Event,
        p: Plan,
        token: str,
        m: Inbound,
        result: SendResult,
        extra: dict[str, Any] | None = None,
    ) -> Outcome:
        now = self.clock()
        rid = event.id
        latency = result.latency_ms or None
        provider = self.settings.provider

        def settle(dst: Status, reason: str | None, **kw: Any) -> rec.Change:
            return rec.settle(token=token, dst=dst, code=result.code, reason=reason, now=iso_utc(now), **kw)

        if result.verdict == "accepted" and event.test:
            # msg_test validates without delivering: no report will ever come, so it is not polled.
            reason = "test mode (msg_test): the provider validated and accepted it; nothing was delivered"
            self.records.apply(
                rid, settle(Status.SENT, reason, provider=provider, message_id=result.message_id, extra=extra)
            )
            log.info("test send accepted", extra={"record_id": rid, "message_id": result.message_id})
            return Outcome("ack", "sent", rid, Status.SENT.value, reason, p.channel_used, latency)
        if result.verdict == "accepted":
            first_poll = max(now, p.send_at_epoch or 0) + self.settings.first_poll_after_s
            poll = (poll_shard(rid, self.settings.poll_shards), int(first_poll))
            change = settle(Status.SENT, None, provider=provider, message_id=result.message_id, poll=poll, extra=extra)
            if not self.records.apply(rid, change):
                # Our lease ran out and another delivery already called it unknown; the record stays
                # as that delivery left it, and the message id is only in the log to reconcile by hand.
                log.error("claim lost after send", extra={"record_id": rid, "message_id": result.message_id})
            log.info("sent", extra={"record_id": rid, "message_id": result.message_id, "channel": p.channel_used})
            return Outcome("ack", "sent", rid, Status.SENT.value, "", p.channel_used, latency)
        if result.verdict in ("rejected", "fallback"):
            self.finish(rid, settle(Status.REJECTED, bounded(result.reason, REASON_MAX_CHARS), extra=extra))
            log.warning("provider rejected", extra={"record_id": rid, "code": result.code, "reason": result.reason})
            return Outcome("ack", "rejected", rid, Status.REJECTED.value, result.reason, p.channel_used, latency)
        if result.verdict == "unknown":
            self.finish(rid, settle(Status.UNKNOWN, bounded(result.reason, REASON_MAX_CHARS), extra=extra))
            log.error("unknown outcome", extra={"record_id": rid, "code": result.code, "reason": result.reason})
            return Outcome("ack", "unknown", rid, Status.UNKNOWN.value, result.reason, p.channel_used, latency)
        # retry: the provider surely did not take it.
        if m.receive_count >= self.settings.max_receive_count:
            reason = (
                f"{result.reason}; gave up after {m.receive_count} deliveries, the message goes to the "
                "dead-letter queue (redrive it once the cause is fixed)"
            )
            # bounded: it may quote the producer's variables or urls
            change = settle(
                Status.FAILED, bounded(reason, REASON_MAX_CHARS), extra={**(extra or {}), "dead_lettered": True}
            )
            self.finish(rid, change)
            log.error("giving up", extra={"record_id": rid, "code": result.code, "reason": reason})
            return Outcome("retry", "failed", rid, Status.FAILED.value, reason, p.channel_used, latency)
        last_error = bounded(result.reason, REASON_MAX_CHARS)
        self.records.apply(
            rid, rec.release(token=token, code=result.code, last_error=last_error, now=iso_utc(now), extra=extra)
        )
        log.warning("will retry", extra={"record_id": rid, "code": result.code, "reason": result.reason})
        return Outcome("retry", "retried", rid, Status.SENDING.value, result.reason, p.channel_used, latency)

    def finish(self, rid: str, change: rec.Change) -> None:
        if not self.records.apply(rid, change):
            log.error("claim lost before settling", extra={"record_id": rid, "status": change.set.get("status")})
