"""The report poller's part of `make bench`: 10 000 reports due at once, at a fixed sandbox latency.

The real poller handler drains them tick after tick (each tick stops taking work at its time-out
margin, as on Lambda); the figure is the wall time of those ticks. The sequential poller is the same
handler with POLL_CONCURRENCY=1, measured on a sample of records and extrapolated (running it on all
10 000 would take ten minutes). Both are measured twice: with the records in moto server (in its own
process), whose DynamoDB calls cost a few ms of CPU each and are served one at a time, and with
the records in memory, which leaves the provider round trips and the poller itself. The poller
publishes no events (the outbox function does, from the table's stream): not measured here. The records are seeded straight into the store and the sandbox's message list: the
dispatcher is not what is measured here.
"""

from __future__ import annotations

import io
import itertools
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from notifier.domain.record import Change
from notifier.domain.reports import poll_shard
from notifier.domain.timefmt import iso_utc

from .memstore import InMemoryRecords
from .sandbox.store import Message
from .stack import CLIENT_ID, LocalStack

_CMIDS = itertools.count(1)


def _pending(n: int, tag: str, now: float) -> list[dict[str, Any]]:
    """Records as the dispatcher leaves them in `sent`, due now."""
    sent_at = iso_utc(now - 120)
    items = []
    for i in range(n):
        rid = f"bench-poll-{tag}-{i}-{uuid.uuid4().hex[:6]}"
        items.append(
            {
                "id": rid,
                "status": "sent",
                "channel_requested": "auto",
                "channel_used": "sms",
                "recipient": "01012345678",
                "cmid": f"2026{next(_CMIDS):014d}",  # 18 digits, unique across runs, as the provider's
                "attempts": 1,
                "accepted_at": sent_at,
                "sent_at": sent_at,
                "metadata": {"bench": tag},
                "poll_shard": poll_shard(rid, 4),
                "next_poll_at": int(now) - 1,
            }
        )
    return items


def _seed_sandbox(stack: LocalStack, items: list[dict[str, Any]], now: float) -> None:
    """The provider's side: a delivered SMS behind every cmid, its report ready."""
    stack.sandbox.state.record(
        [
            Message(
                cmid=item["cmid"],
                kind="sms",
                requested_kind="sms",
                client_id=CLIENT_ID,
                dest_phone="01012345678",
                send_phone="0212345678",
                msg_body="벤치마크",
                accepted_at=now - 120,
                send_at=now - 120,
                ready_at=now - 60,
                outcome={"call_status": "4100"},
                umid=f"apisto_bench{i}",
            )
            for i, item in enumerate(items)
        ]
    )


def _seed_moto(stack: LocalStack, items: list[dict[str, Any]]) -> None:
    from notifier.aws.dynamo import serialize

    ddb, table = stack.aws.client("dynamodb"), stack.env["TABLE_NAME"]

    def write(chunk: list[dict[str, Any]]) -> None:
        request = {table: [{"PutRequest": {"Item": serialize(item)}} for item in chunk]}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, [items[i : i + 25] for i in range(0, len(items), 25)]))


def _drain(stack: LocalStack, max_ticks: int = 40) -> tuple[float, int, int]:
    """Ticks of the real handler until one finds nothing due; wall time of the ticks that worked."""
    started = time.perf_counter()
    ticks = polled = 0
    for _ in range(max_ticks):
        summary = stack.poll()
        if not summary["polled"] and not summary["stopped_early"]:
            break
        ticks += 1
        polled += summary["polled"]
    return time.perf_counter() - started, ticks, polled


def _use_memory(stack: LocalStack, items: list[dict[str, Any]]) -> None:
    """The poller container's store replaced by an in-memory one (same handler, same provider client)."""
    from notifier.handlers import poller

    records = InMemoryRecords()
    for item in items:
        records.create(item)
    poller.app().poller.records = records  # type: ignore[assignment]


def _run(stack: LocalStack, n: int, sample: int, concurrency: int, in_memory: bool) -> dict[str, float]:
    """Sequential on `sample` records, then concurrent on `n`, each in a freshly configured, warmed container."""
    figures: dict[str, float] = {}
    for label, count, conc in (("seq", sample, 1), ("con", n, concurrency)):
        stack.reconfigure(POLL_CONCURRENCY=str(conc))
        stack.poll()  # a warm container: SSM read, clients and pools built, nothing due yet
        now = time.time()
        items = _pending(count, f"{'m' if in_memory else 's'}{label}", now)
        _seed_sandbox(stack, items, now)
        if in_memory:
            _use_memory(stack, items)
        else:
            _seed_moto(stack, items)
        wall_s, ticks, polled = _drain(stack)
        if polled != count:
            raise RuntimeError(f"drained {polled} of {count} reports")
        figures[f"{label}_wall_s"], figures[f"{label}_ticks"] = wall_s, ticks
    figures["seq_per_report_s"] = figures["seq_wall_s"] / sample
    figures["seq_extrapolated_s"] = figures["seq_per_report_s"] * n
    figures["ratio"] = figures["seq_extrapolated_s"] / figures["con_wall_s"]
    return figures


def _moto_call_ms(stack: LocalStack, repeats: int = 30) -> float:
    from notifier.handlers import poller

    records = poller.app().wiring.records
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        records.apply(f"missing-{uuid.uuid4().hex}", Change(set={"x": 1}))
        samples.append((time.perf_counter() - t) * 1000)
    return sorted(samples)[len(samples) // 2]


def poller_bench(
    n: int = 10_000, latency_ms: int = 50, sample: int = 200, concurrency: int = 32, n_moto: int = 2_000
) -> None:
    print(
        f"report poller: reports due at once, sandbox latency {latency_ms} ms, POLL_CONCURRENCY={concurrency}; "
        "each tick is one invocation of the real handler"
    )
    with LocalStack.start(log_stream=io.StringIO(), moto_process=True, sandbox_config={"report_delay_s": 0}) as stack:
        stack.sandbox.set_faults(latency_ms=latency_ms)
        timeout = stack.aws.function_timeout("PollerFunction")
        in_moto = _run(stack, n_moto, sample, concurrency, in_memory=False)
        ddb_ms = _moto_call_ms(stack)
        in_memory = _run(stack, n, sample, concurrency, in_memory=True)
    columns = (f"records in moto, {n_moto:,} reports", f"records in memory, {n:,} reports")
    print(f"  {'':34}{columns[0]:>34}{columns[1]:>42}")

    def line(label: str, fmt: Callable[[dict[str, float]], str]) -> None:
        print(f"  {label:34}{fmt(in_moto):>34}{fmt(in_memory):>42}")

    line("drain, concurrent (measured)", lambda f: f"{f['con_wall_s']:.1f} s in {f['con_ticks']:.0f} tick(s)")
    line(f"sequential, measured on {sample}", lambda f: f"{f['seq_per_report_s'] * 1000:.1f} ms per report")
    line("sequential, extrapolated", lambda f: f"{f['seq_extrapolated_s']:.0f} s")
    line("concurrent ÷ sequential", lambda f: f"{f['ratio']:.1f}×")
    print(
        f"  ticks stop taking work 15 s before their {timeout} s time-out. moto server spends ~{ddb_ms:.1f} ms of CPU "
        "per DynamoDB call and serves calls one at a time (a query page and an update per report), "
        f"so moto, not the poller, bounds the first column; it runs {n_moto:,} reports to keep `make bench` short."
    )
