"""`make bench`: figures and ratios, never a pass/fail (machines here are shared and noisy).

Dispatcher: the real handler on Lambda-shaped batches of 10 and 100 messages against moto server
and the sandbox at a fixed provider latency; wall time per batch against one provider round trip.
Cold start: the import time of each handler module from the output of `make build`, in a fresh
interpreter that holds only boto3 (devstack.lambda_runtime), with and without the shipped .pyc and
with Tracing=Active, against `import boto3` alone.
Providers: batches of 10 and 100 SQS messages through API Store and through SOLAPI at the same sandbox
latency: the provider requests each batch made (the sandbox's request counts), wall time and its ratio
to one round trip.
Writes: the record writes of one notification's life (claim, dispatch mark, settle, report), read from
the table's stream with the real handlers; and what the dispatch marks of a batch add to its wall time.
Report poller: 10 000 reports due at once, drained by the real handler's ticks, against a sequential
poller (devstack/bench_poller.py).
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from .memstore import InMemoryRecords
from .samples import sqs_record
from .stack import LocalStack


def _batch(n: int, tag: str) -> dict[str, Any]:
    bodies = [
        json.dumps({"id": f"bench-{tag}-{i}-{uuid.uuid4().hex[:8]}", "to": "01012345678", "text": "벤치마크 메시지"})
        for i in range(n)
    ]
    return {"Records": [sqs_record(b, i) for i, b in enumerate(bodies)]}


def _round_trip_ms(stack: LocalStack, repeats: int) -> float:
    """One provider call from this process, the way the dispatcher makes it (pooled, warm)."""
    from notifier.handlers.dispatcher import app
    from notifier.ports import TextMessage

    provider = app().dispatcher.provider
    samples = []
    for _ in range(repeats):
        msg = TextMessage(kind="sms", dest_phone="01012345678", send_phone="0212345678", msg_body="rt")
        t = time.perf_counter()
        provider.send_texts([msg])
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def _ddb_call_ms(repeats: int) -> float:
    from notifier.handlers.dispatcher import app

    records = app().dispatcher.records
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        records.get(f"missing-{uuid.uuid4().hex}")
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def _handler_ms(stack: LocalStack, n: int, repeats: int) -> tuple[float, int]:
    samples = []
    failures = 0
    for r in range(repeats):
        event = _batch(n, f"{n}-{r}")
        t = time.perf_counter()
        resp = stack.handler(event, stack.context())
        samples.append((time.perf_counter() - t) * 1000)
        failures += len(resp["batchItemFailures"])
    return statistics.median(samples), failures


def cold_start_bench(repeats: int) -> None:
    """Each handler imported from the output of `make build` by a fresh boto3-only python (the
    stand-in runtime of devstack.lambda_runtime), against `import boto3` alone in the same runtime.
    The variants take turns, so a noisy neighbour slows all of them alike."""
    from . import lambda_runtime as lr

    lr.ensure_build()
    fns = lr.functions()

    def handler_ms(fn: lr.Function, **how: bool) -> Callable[[], float]:
        return lambda: lr.import_handler(fn, **how).import_ms

    variants: dict[str, Callable[[], float]] = {"boto3": lr.import_boto3_ms}
    for fn in fns:
        variants[f"{fn.logical_id} pyc"] = handler_ms(fn, tracing=False)
        variants[f"{fn.logical_id} source"] = handler_ms(fn, tracing=False, bytecode=False)
        variants[f"{fn.logical_id} traced"] = handler_ms(fn, tracing=True)
    samples: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(repeats):
        for name, measure in variants.items():
            samples[name].append(measure())
    ms = {k: statistics.median(v) for k, v in samples.items()}
    boto3 = ms["boto3"]
    print(
        f"cold start on python {platform.python_version()}: the handler module imported from .aws-sam/build by a "
        f"fresh interpreter holding only boto3 (median of {repeats})"
    )
    print(f"  import boto3 alone: {boto3:.0f} ms")
    print(
        f"  {'handler of':<20}{'make build (.pyc)':>19}{'plain sam build (no .pyc)':>30}{'make build, Tracing=Active':>30}"
    )
    print(
        f"  {'':<20}{'wall':>10}{'÷ boto3':>9}{'wall':>13}{'÷ boto3':>9}{'÷ .pyc':>8}{'wall':>13}{'÷ boto3':>9}{'÷ off':>8}"
    )
    for fn in fns:
        pyc, src, traced = (ms[f"{fn.logical_id} {v}"] for v in ("pyc", "source", "traced"))
        print(
            f"  {fn.logical_id:<20}{pyc:>7.0f} ms{pyc / boto3:>8.2f}×{src:>10.0f} ms{src / boto3:>8.2f}×{src / pyc:>7.2f}×"
            f"{traced:>10.0f} ms{traced / boto3:>8.2f}×{traced / pyc:>7.2f}×"
        )


def dispatcher_bench(latency_ms: int, repeats: int) -> None:
    # moto in its own process: in-process it would compete with the handler's threads for the GIL,
    # a cost that real DynamoDB, across the network, does not impose.
    with LocalStack.start(log_stream=io.StringIO(), parameters={"SendConcurrency": "10"}, moto_process=True) as stack:
        stack.sandbox.set_faults(latency_ms=latency_ms)
        stack.handler(_batch(2, "warm"), stack.context())  # cold start: SSM, pools, imports
        rt = _round_trip_ms(stack, repeats * 3)
        print(f"provider round trip (sandbox latency {latency_ms} ms): median {rt:.0f} ms")
        ddb_ms = _ddb_call_ms(repeats * 4)
        print(f"one DynamoDB call to moto server: median {ddb_ms:.1f} ms of moto's own CPU (2 per message)")
        print()
        print(f"{'batch':>6}  {'records in moto server':>24}  {'records in memory':>22}  {'sequential':>11}")
        print(f"{'':>6}  {'wall':>10} {'÷ round trip':>13}  {'wall':>8} {'÷ round trip':>13}  {'would be':>11}")
        from notifier.handlers.dispatcher import app

        d = app().dispatcher
        for n in (1, 10, 100):
            moto_ms, f1 = _handler_ms(stack, n, repeats)
            real_store = d.records
            d.records = InMemoryRecords()  # the same handler, dispatcher and provider client
            try:
                mem_ms, f2 = _handler_ms(stack, n, repeats)
            finally:
                d.records = real_store
            note = f"  ({f1 + f2} item failures!)" if f1 + f2 else ""
            print(
                f"{n:>6}  {moto_ms:>7.0f} ms {moto_ms / rt:>12.2f}×  {mem_ms:>5.0f} ms {mem_ms / rt:>12.2f}×"
                f"  {n * rt:>8.0f} ms{note}"
            )
        print(f"concurrency per batch: SEND_CONCURRENCY={stack.env.get('SEND_CONCURRENCY')}")


def _sends(stack: LocalStack) -> int:
    """Send requests the sandbox has answered so far: API Store's one per SMS, SOLAPI's send-many."""
    counts = stack.sandbox.requests_count()
    return sum(n for kind, n in counts.items() if kind in ("sms", "lms", "mms") or kind == "solapi_send")


def provider_bench(latency_ms: int, repeats: int, providers: tuple[str, ...] = ("apistore", "solapi")) -> None:
    """The same SMS batches through each provider (the template's Provider parameter), side by side."""
    rows: list[tuple[str, float, int, float, float]] = []
    for provider in providers:
        with LocalStack.start(
            log_stream=io.StringIO(), parameters={"Provider": provider, "SendConcurrency": "10"}, moto_process=True
        ) as stack:
            stack.sandbox.set_faults(latency_ms=latency_ms)
            stack.handler(_batch(2, "warm"), stack.context())  # cold start: SSM, pools, imports
            rt = _round_trip_ms(stack, repeats * 3)
            for n in (10, 100):
                before = _sends(stack)
                wall, failures = _handler_ms(stack, n, repeats)
                requests = (_sends(stack) - before) / repeats
                rows.append((provider, rt, n, requests, wall))
                if failures:
                    print(f"  {provider}, batch of {n}: {failures} item failures!")
    print(f"providers side by side: SMS batches at sandbox latency {latency_ms} ms, SEND_CONCURRENCY=10, "
          f"median of {repeats} batches")  # fmt: skip
    print(f"  {'provider':<10}{'round trip':>11}{'batch':>7}{'requests':>10}{'per message':>13}{'wall':>10}"
          f"{'÷ round trip':>14}")  # fmt: skip
    for provider, rt, n, requests, wall in rows:
        print(f"  {provider:<10}{rt:>8.0f} ms{n:>7}{requests:>10.1f}{requests / n:>13.2f}{wall:>7.0f} ms"
              f"{wall / rt:>13.2f}×")  # fmt: skip
    print(
        "  requests: send requests the sandbox answered per batch (API Store: one per message; SOLAPI's "
        "send-many takes many, so fewer than one per message only when the dispatcher hands it several)"
    )


def writes_bench(repeats: int, n: int = 10) -> None:
    """What a notification costs in record writes, from the stream of the table, by the real handlers."""
    with LocalStack.start(log_stream=io.StringIO(), moto_process=True) as stack:
        stack.sandbox.configure(report_delay_s=0)
        stack.handler(_batch(2, "warm"), stack.context())
        changes = stack.record_changes()
        event = _batch(n, "life")
        stack.handler(event, stack.context())
        stack.poll(clock=lambda: time.time() + 3600)
        kinds: dict[str, int] = {}
        ids = {json.loads(r["body"])["id"] for r in event["Records"]}
        for old, new in changes.read():
            new = new or {}
            if new.get("id") not in ids:
                continue  # the warm-up batch's reports
            if old is None:
                kind = "claim"
            elif "dispatched_at" in new and "dispatched_at" not in old:
                kind = "dispatch mark"
            elif new.get("status") == "sent":
                kind = "settle (sent)"
            else:
                kind = f"report ({new.get('status')})"
            kinds[kind] = kinds.get(kind, 0) + 1
        per = {k: v / n for k, v in kinds.items()}
        print(f"record writes per SMS lifecycle (a batch of {n}, sent, then its report):")
        for kind, count in per.items():
            print(f"  {kind:<32}{count:>5.1f}")
        print(f"  {'in all (item writes)':<32}{sum(per.values()):>5.1f}   (3 before the dispatch mark)")

        from notifier.domain import record as rec
        from notifier.handlers.dispatcher import app

        records = app().dispatcher.records
        one: list[float] = []
        batch: list[float] = []
        for r in range(repeats):
            claimed = [f"mark-{r}-{i}-{uuid.uuid4().hex[:6]}" for i in range(n)]
            for rid in claimed:
                records.create({"id": rid, "status": "sending", "claim_token": "t", "marks_dispatch": True})
            t = time.perf_counter()
            records.apply(claimed[0], rec.dispatch(token="t", now="now"))
            one.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            list(app().pool.map(lambda rid: records.apply(rid, rec.dispatch(token="t", now="again")), claimed))
            batch.append((time.perf_counter() - t) * 1000)
        print(f"dispatch marks against moto server, median of {repeats}: one UpdateItem "
              f"{statistics.median(one):.0f} ms, a batch's {n} concurrent UpdateItems {statistics.median(batch):.0f} ms "
              "(moto serialises its DynamoDB calls; DynamoDB runs them in parallel)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make bench", description=__doc__)
    ap.add_argument("--latency-ms", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--poll-reports", type=int, default=10_000, help="reports due at once for the poller")
    ap.add_argument("--poll-latency-ms", type=int, default=50)
    ap.add_argument("--only", choices=("cold", "dispatcher", "providers", "writes", "poller"), help="run one part only")
    args = ap.parse_args(argv)
    parts: dict[str, Callable[[], None]] = {
        "cold": lambda: cold_start_bench(args.repeats),
        "dispatcher": lambda: dispatcher_bench(args.latency_ms, args.repeats),
        "providers": lambda: provider_bench(args.latency_ms, args.repeats),
        "writes": lambda: writes_bench(args.repeats),
    }
    if args.only in parts:
        parts[args.only]()
        return 0
    if args.only is None:
        for part in parts.values():
            part()
            print()
    from .bench_poller import poller_bench

    poller_bench(n=args.poll_reports, latency_ms=args.poll_latency_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
