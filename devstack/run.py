"""`make run`: the main job, whole, on this machine. Starts the local stack, pushes every sample in
events/ onto the queue, lets the real handler consume them as Lambda would, prints the records; then
runs the real report poller on its schedule, fast-forwarded, until every notification has its final
status, and prints the final table and the EventBridge events the application would receive.

Exit status 0 when every sample reached a settled status (nothing left `sending`, queue drained, no
report still due).
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from notifier.domain.record import message_id_of
from notifier.domain.timefmt import KST

from .samples import SANDBOX_OUTCOMES
from .stack import ROOT, LocalStack, provider_from_env, sample_bodies

LOG_FILE = ROOT / ".local" / "run.log"
# Reports become ready 90 s after the send: the first poll (a minute after) finds "result is null",
# so the run shows the back-off too.
REPORT_DELAY_S = 90.0
MAX_TICKS = 30
# Every sample's report is fixed, so the final table is the same on every run: delivered, except
# these, staged on purpose (the samples' own AlimTalk outcomes, and one wrong number to show a
# failure); the final table marks them.
RUN_OUTCOMES: dict[str, dict[str, str]] = {
    **SANDBOX_OUTCOMES,
    # sample-duplicate-shipped: API Store 4410 잘못된번호, SOLAPI 3032 미가입자 (each provider reads its own)
    "01055550003": {"call_status": "4410", "status_code": "3032"},
}
DELIVERED_MIX: dict[str, dict[str, float]] = {
    "sms": {"4100": 1},
    "lms": {"6600": 1},
    "mms": {"6600": 1},
    "kko": {"0": 1},
    "fallback": {"00": 1},
    "solapi": {"4000": 1},
    "solapi_ata": {"4000": 1},
}


class FastForward:
    """Wall-clock time plus an offset the run advances: the poller's schedule, the dispatcher's
    next-poll times and the sandbox's report delays all agree on it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def width(s: str) -> int:
    # Hangul is two columns wide in a terminal; without this the table's columns wander.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def cut(s: str, n: int) -> str:
    if width(s) <= n:
        return s
    out, w = "", 0
    for c in s:
        cw = width(c)
        if w + cw > n - 1 and len(out) < len(s):
            return out + "…"
        out, w = out + c, w + cw
    return out


def pad(s: str, n: int) -> str:
    s = cut(s, n)
    return s + " " * (n - width(s))


# "message id": the provider's id of the accepted message (API Store's cmid, SOLAPI's messageId).
COLUMNS = (("id", 46), ("asked", 8), ("used", 8), ("status", 10), ("message id", 32), ("reason", 70))


def row(rec: dict[str, Any]) -> list[str]:
    rid = str(rec["id"]) + (" (sqs id)" if rec.get("id_source") == "sqs_message_id" else "")
    reason = rec.get("reason") or rec.get("conversion") or ""
    if rec.get("scheduled_for"):
        reason = f"scheduled for {rec['scheduled_for']} KST" + (f"; {reason}" if reason else "")
    return [
        rid,
        str(rec.get("channel_requested") or "-"),
        str(rec.get("channel_used") or "-"),
        str(rec.get("status")),
        str(message_id_of(rec) or "-"),
        reason.replace("\n", " "),
    ]


def table(records: list[dict[str, Any]]) -> str:
    lines = ["  ".join(pad(name, w) for name, w in COLUMNS).rstrip()]
    lines.append("  ".join("-" * w for _, w in COLUMNS))
    for rec in sorted(records, key=lambda r: str(r.get("accepted_at", ""))):
        lines.append("  ".join(pad(v, w) for v, (_, w) in zip(row(rec), COLUMNS, strict=True)).rstrip())
    return "\n".join(lines)


FINAL_COLUMNS = (("id", 46), ("used", 8), ("status", 10), ("report", 10), ("reason", 100))


def _kst(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, KST).strftime("%Y-%m-%d %H:%M KST")


STAGED_NOTE = (
    "staged: the sandbox was told to give that report, to show a failure and the provider's fallback; "
    "every other sent message is reported delivered"
)


def final_row(rec: dict[str, Any], staged: set[str] | frozenset[str] = frozenset()) -> list[str]:
    rid = str(rec["id"]) + (" (sqs id)" if rec.get("id_source") == "sqs_message_id" else "")
    used = str(rec.get("delivered_via") or rec.get("channel_used") or "-")
    reason = str(rec.get("reason") or "")
    if message_id_of(rec) in staged:
        reason = f"staged: {reason}"
    if rec.get("status") == "sent" and rec.get("next_poll_at"):
        reason = f"waiting for its send time; first report poll at {_kst(float(rec['next_poll_at']))}"
    elif rec.get("status") == "sent":
        reason = f"{reason}; never polled (no report will come)" if reason else "not polled"
    return [rid, used, str(rec.get("status")), str(rec.get("report_code") or "-"), reason.replace("\n", " ")]


def final_table(records: list[dict[str, Any]], staged: set[str]) -> str:
    """staged: the provider message ids whose report the run fixed on purpose (RUN_OUTCOMES)."""
    lines = ["  ".join(pad(name, w) for name, w in FINAL_COLUMNS).rstrip()]
    lines.append("  ".join("-" * w for _, w in FINAL_COLUMNS))
    for rec in sorted(records, key=lambda r: str(r.get("accepted_at", ""))):
        cells = final_row(rec, staged)
        lines.append("  ".join(pad(v, w) for v, (_, w) in zip(cells, FINAL_COLUMNS, strict=True)).rstrip())
    return "\n".join(lines)


class Duplicates(logging.Handler):
    """The dispatcher's own account of each message it acknowledged without a send: its `duplicate`
    log line (record id, and the status the id's record had)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "duplicate":
            self.seen.append((str(getattr(record, "record_id", "?")), str(getattr(record, "status", "?"))))


def dropped(duplicates: list[tuple[str, str]]) -> str:
    if not duplicates:
        return "dropped: none"
    lines = [f"dropped {len(duplicates)} message{'s' if len(duplicates) > 1 else ''}, sent at most once per id:"]
    lines += [
        f"  {rid}: a second message with this id, acknowledged without a send: the id was already claimed "
        f"(record {status})"
        for rid, status in duplicates
    ]
    return "\n".join(lines)


def _fallback(detail: dict[str, Any]) -> str:
    """The record's `fallback` says which SMS route was arranged; `fallback_used` whether it was needed."""
    route = detail.get("fallback")
    if route == "provider":
        return "used" if detail.get("fallback_used") else "unused"
    return str(route) if route and route != "none" else "-"


def events_table(events: list[dict[str, Any]]) -> str:
    columns = (("detail-type", 24), ("id", 46), ("status", 10), ("via", 9), ("fallback", 9))
    lines = ["  ".join(pad(name, w) for name, w in columns).rstrip(), "  ".join("-" * w for _, w in columns)]
    for e in events:
        d = e.get("detail", {})
        values = [e.get("detail-type", ""), d.get("id", ""), d.get("status", ""), d.get("delivered_via") or "-",
                  _fallback(d)]  # fmt: skip
        lines.append("  ".join(pad(str(v), w) for v, (_, w) in zip(values, columns, strict=True)).rstrip())
    return "\n".join(lines)


def _counts(records: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for r in records:
        counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _still_due(records: list[dict[str, Any]], now: float) -> list[str]:
    """Records a poll could still settle soon (a scheduled send far ahead waits for its own time)."""
    return [str(r["id"]) for r in records if r.get("status") == "sent" and r.get("next_poll_at", 1e18) <= now + 86400]


def poll_until_settled(stack: LocalStack, clock: FastForward) -> tuple[int, list[str]]:
    """The poller on its schedule, a tick per schedule period, the clock advanced between ticks."""
    interval = stack.poll_interval_s()
    (rate,) = stack.aws.schedules("PollerFunction")
    print(
        f"running the report poller on its schedule ({rate}), fast-forwarded; "
        f"sandbox reports are ready {REPORT_DELAY_S:g} s after the send ...",
        flush=True,
    )
    for tick in range(1, MAX_TICKS + 1):
        clock.advance(interval)
        s = stack.poll(clock=clock)
        if s["polled"]:
            done = [f"{k} {s[k]}" for k in ("delivered", "failed", "unknown", "pending", "errors", "raced") if s[k]]
            print(f"  tick {tick:>2}  +{tick * interval // 60} min  read {s['read']}, polled {s['polled']}: "
                  f"{', '.join(done)}")  # fmt: skip
        due = _still_due(stack.records(), clock())
        if not due:
            return tick, []
    return MAX_TICKS, due


def _sandbox_id(message: dict[str, Any]) -> str:
    """A message as the sandbox shows it: API Store's carry a cmid, SOLAPI's a message_id."""
    return str(message.get("cmid") or message.get("message_id"))


def _sandbox_phone(message: dict[str, Any]) -> str:
    return str(message.get("dest_phone") or message.get("to"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make run", description=__doc__)
    ap.add_argument("--verbose", action="store_true", help="handler logs on stdout instead of .local/run.log")
    args = ap.parse_args(argv)

    LOG_FILE.parent.mkdir(exist_ok=True)
    log: io.TextIOBase | None = None if args.verbose else open(LOG_FILE, "w", encoding="utf-8")  # noqa: SIM115
    started = time.monotonic()
    clock = FastForward()
    print("starting moto server (template.yaml via samtranslator) and the provider sandbox ...", flush=True)
    parameters = provider_from_env()
    with LocalStack.start(
        log_stream=log, sandbox_config={"report_delay_s": REPORT_DELAY_S}, parameters=parameters
    ) as stack:
        stack.sandbox.clock = clock
        for kind, mix in DELIVERED_MIX.items():
            stack.sandbox.set_outcome_mix(kind, mix)
        for number, outcome in RUN_OUTCOMES.items():
            stack.sandbox.force_outcome(number, **outcome)
        print(f"  provider      {stack.provider}  (template parameter Provider; PROVIDER=apistore|solapi make run)")
        print(f"  embedded AWS  {stack.aws.endpoint_url}  (region {stack.aws.region})")
        print(f"  sandbox       {stack.sandbox.url}")
        print(f"  queue         {stack.queue_url}")
        bodies = list(sample_bodies())
        stack.publish(bodies)
        print(f"published {len(bodies)} sample messages from events/; dispatching ...", flush=True)
        duplicates = Duplicates()
        logging.getLogger("notifier.dispatch").addHandler(duplicates)
        try:
            batches = stack.drain(timeout_s=120)
        finally:
            logging.getLogger("notifier.dispatch").removeHandler(duplicates)
        records = stack.records()
        print()
        print(table(records))
        print()
        delivered = stack.sandbox.messages()
        dlq = stack.dlq_bodies()
        print(
            f"{len(records)} records ({_counts(records)}); "
            f"{len(batches)} handler invocations; the sandbox accepted {len(delivered)} messages; "
            f"DLQ holds {len(dlq)}; {time.monotonic() - started:.1f} s"
        )
        print(dropped(duplicates.seen))
        stuck = [r["id"] for r in records if r["status"] == "sending"]
        if stuck:
            print(f"not settled: {stuck}", file=sys.stderr)
            return 1

        print()
        ticks, due = poll_until_settled(stack, clock)
        records = stack.records()
        print()
        print("final status, after the delivery reports:")
        staged = {str(_sandbox_id(m)) for m in delivered if _sandbox_phone(m) in RUN_OUTCOMES}
        print(final_table(records, staged))
        print(STAGED_NOTE)
        events = stack.events_published()
        print()
        print('EventBridge events on the bus (an application\'s rule: {"source": ["kr-notifier"]}):')
        print(events_table(events))
        print()
        print(
            f"after the poller: {len(records)} records ({_counts(records)}); {ticks} ticks "
            f"({ticks * stack.poll_interval_s() // 60} minutes of schedule); {len(events)} EventBridge events; "
            f"{time.monotonic() - started:.1f} s"
        )
        if log is not None:
            print(f"handler logs (JSON, phones masked, no key): {Path(LOG_FILE).relative_to(ROOT)}")
        if due:
            print(f"reports still due after {MAX_TICKS} ticks: {due}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
