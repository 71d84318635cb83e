"""`python -m devstack.killprobe` (or `make killprobe`): how honest is `unknown` when dispatchers die?

Dispatchers run in separate processes, each the real handler fed by the emulated SQS event source,
against moto server and the provider sandbox over HTTP. A killer SIGKILLs one at a random moment,
then starts a fresh one (a cold container), again and again while the queue has work. Then the
survivors work off the redeliveries (the killed invocations' messages come back after the queue's
visibility timeout, their claims' leases over), and one scheduled poller tick runs. It prints figures,
never a pass/fail:

- records by status, and what is still `sending`;
- `unknown` records whose message the sandbox never accepted: the customer got nothing, yet the
  record says the provider may have it (the figure issue 11 is about);
- ids the sandbox accepted more than once (at most one send per id), and ids lost (no record, not in
  the DLQ).

The sandbox records every message it accepts; each event's text carries its id, so a message is
matched to its record by text, not by the provider's message id (an `unknown` record has none).
To keep a run short the queue's visibility timeout and each invocation's time-out are shortened
(both printed); everything else is the template's.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

ID_PATTERN = re.compile(r"kp[0-9a-f]{6}-\d{5}")
SHIPPED = "님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."  # template A1111, after #{name}


def bodies(run: str, n: int, rng: random.Random, bucket: str) -> list[str]:
    """SMS, MMS (an S3 attachment to fetch) and AlimTalk (a template list to read): every kind of work a
    dispatcher does around its claim. Each text carries the event's id."""
    out = []
    for i in range(n):
        rid = f"kp{run}-{i:05d}"
        to = f"010{rng.randrange(10**8):08d}"
        kind = rng.random()
        if kind < 0.6:
            event: dict[str, Any] = {"id": rid, "channel": "sms", "to": to, "text": f"probe {rid}"}
        elif kind < 0.8:
            event = {
                "id": rid,
                "channel": "mms",
                "to": to,
                "subject": "probe",
                "text": f"probe {rid}",
                "attachments": [{"s3": f"s3://{bucket}/samples/coupon.jpg"}],
            }
        else:
            event = {
                "id": rid,
                "channel": "alimtalk",
                "to": to,
                "text": rid + SHIPPED,
                "alimtalk": {"template_code": "A1111", "variables": {"name": rid, "order": str(i)}},
            }
        out.append(json.dumps(event, ensure_ascii=False))
    return out


# ---------------------------------------------------------------------------------------------- a worker


def worker(source: dict[str, Any]) -> None:
    """One dispatcher "container": the real handler behind the event source, until killed."""
    import boto3

    from notifier.handlers.dispatcher import app, handler

    from .esm import SqsEventSource

    # The container's cold start (clients, SSM) before "ready", so the killer's clock runs over work.
    app().wiring.warm_up()
    sqs = boto3.client("sqs")
    events = SqsEventSource(sqs, handler, **source)
    print("ready", flush=True)
    while True:
        try:
            received = events.poll_once().received
        except Exception as exc:  # a failed SQS call (moto answers 500 at times): Lambda's poller goes on too
            print(f"poll failed: {exc!r}", file=sys.stderr, flush=True)
            received = []
        if not received:
            time.sleep(0.05)


@dataclass
class Worker:
    proc: subprocess.Popen[str]
    ready: bool = False


class Workers:
    def __init__(self, source: dict[str, Any], env: dict[str, str], logs: Path) -> None:
        self.source = source
        self.env = env
        self.logs = logs
        self.started = 0

    def spawn(self) -> Worker:
        self.started += 1
        log: TextIO = open(self.logs / f"worker-{self.started}.log", "w")  # noqa: SIM115 (the child owns it)
        proc = subprocess.Popen(
            [sys.executable, "-m", "devstack.killprobe", "--worker", json.dumps(self.source)],
            stdout=subprocess.PIPE,
            stderr=log,
            env=self.env,
            text=True,
        )
        log.close()
        return Worker(proc)


def wait_ready(w: Worker, timeout_s: float = 60.0) -> None:
    """Until the worker has imported the handler (its cold start), so a kill lands in its work."""
    assert w.proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = w.proc.stdout.readline()
        if line.strip() == "ready":
            w.ready = True
            # The handler logs JSON lines to stdout: drain them so the pipe never fills and blocks it.
            os.set_blocking(w.proc.stdout.fileno(), False)
            return
        if not line and w.proc.poll() is not None:
            raise RuntimeError(f"a dispatcher worker exited at start ({w.proc.returncode})")
    raise RuntimeError("a dispatcher worker did not start within 60 s")


def drain_pipe(w: Worker) -> None:
    if w.proc.stdout is not None and w.ready:
        try:
            while w.proc.stdout.read(65536):
                pass
        except (BlockingIOError, TypeError, ValueError):
            pass


# ---------------------------------------------------------------------------------------------- the run


def queue_depth(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(v) for v in attrs.values())


def probe(args: argparse.Namespace) -> dict[str, Any]:
    from .stack import ATTACHMENT_BUCKET, LocalStack

    rng = random.Random(args.seed)
    run = uuid.uuid4().hex[:6]
    params = {"Provider": args.provider} if args.provider != "apistore" else {}
    logs = Path(tempfile.mkdtemp(prefix="killprobe-"))
    with LocalStack.start(parameters=params, log_stream=open(os.devnull, "w")) as stack:
        stack.sandbox.set_faults(latency_ms=args.latency_ms)
        sqs = stack.aws.client("sqs")
        sqs.set_queue_attributes(QueueUrl=stack.queue_url, Attributes={"VisibilityTimeout": str(args.visibility_s)})
        source = {**stack.source, "fast_forward": False, "function_timeout_s": args.invocation_s}
        env = {
            **os.environ,
            # So the shortened invocation still has time for a whole provider call (time_needed_ms).
            "PROVIDER_CONNECT_TIMEOUT": "1",
            # (1 + read + 2 s); the rest of the invocation is for a cold start's SSM read and clients.
            "PROVIDER_READ_TIMEOUT": str(max(1.0, args.invocation_s - 6)),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        published = bodies(run, args.events, rng, ATTACHMENT_BUCKET)
        stack.publish(published)
        workers = Workers(source, env, logs)
        pool = [workers.spawn() for _ in range(args.workers)]
        for w in pool:
            wait_ready(w)
        kills = 0
        started = time.monotonic()
        # Kill while first deliveries are still waiting, so every kill lands on work.
        while kills < args.kills and queue_depth(sqs, stack.queue_url) > 0:
            time.sleep(rng.uniform(args.min_gap_s, args.max_gap_s))
            for w in pool:
                drain_pipe(w)
            victim = rng.randrange(len(pool))
            pool[victim].proc.send_signal(signal.SIGKILL)
            pool[victim].proc.wait()
            kills += 1
            pool[victim] = workers.spawn()
            wait_ready(pool[victim])
        # The redeliveries: the killed invocations' messages come back after the visibility timeout.
        quiet = 0
        deadline = time.monotonic() + args.settle_timeout_s
        while time.monotonic() < deadline and quiet < 3:
            for w in pool:
                drain_pipe(w)
            quiet = quiet + 1 if queue_depth(sqs, stack.queue_url) == 0 else 0
            time.sleep(1.0)
        for w in pool:
            w.proc.terminate()
            w.proc.wait()
        elapsed = time.monotonic() - started
        # One scheduled poller tick after every lease is over (it settles what it can).
        time.sleep(max(0.0, args.invocation_s - (time.monotonic() - started)))
        stack.poll()
        return figures(stack, published, kills, elapsed, args)


def sends_per_id(messages: list[dict[str, Any]], ids: re.Pattern[str]) -> collections.Counter[str]:
    """How many of the sandbox's accepted messages carry each record id (every probe text carries its
    id, so a message is matched to its record without the provider's message id, which an `unknown`
    record lacks). SOLAPI's own fallback SMS of an AlimTalk is part of that AlimTalk's one send."""
    accepted: collections.Counter[str] = collections.Counter()
    for m in messages:
        if m.get("fallback_of"):
            continue
        for rid in set(ids.findall(json.dumps(m, ensure_ascii=False))):
            accepted[rid] += 1
    return accepted


def figures(stack: Any, published: list[str], kills: int, elapsed: float, args: argparse.Namespace) -> dict[str, Any]:
    ids = [json.loads(b)["id"] for b in published]
    records = {r["id"]: r for r in stack.records() if r["id"] in set(ids)}
    accepted = sends_per_id(stack.sandbox.messages(), ID_PATTERN)
    dlq = {json.loads(b)["id"] for b in stack.dlq_bodies()}
    # API Store takes one request per message: a request the sandbox counted but never accepted left the
    # dispatcher and was cut off by its death while the sandbox was answering (it then drops the body).
    counts = stack.sandbox.requests_count()
    requests = sum(counts.get(k, 0) for k in ("sms", "lms", "mms", "kko_msg"))
    status = collections.Counter(r["status"] for r in records.values())
    unknown = [rid for rid, r in records.items() if r["status"] == "unknown"]
    never_sent = [rid for rid in unknown if accepted[rid] == 0]
    return {
        "provider": args.provider,
        "events": len(ids),
        "kills": kills,
        "seconds": round(elapsed, 1),
        "statuses": dict(sorted(status.items())),
        "unknown": len(unknown),
        "unknown_never_sent": len(never_sent),
        "unknown_never_sent_share": round(len(never_sent) / len(unknown), 2) if unknown else None,
        # Claims whose owner died before the mark, taken over and sent by a later delivery.
        "taken_over": sum(1 for r in records.values() if int(r.get("attempts") or 0) > 1 and r["status"] != "unknown"),
        "still_sending": sorted(rid for rid, r in records.items() if r["status"] == "sending"),
        "sent_twice": sorted(rid for rid, n in accepted.items() if n > 1),
        "lost": sorted(rid for rid in ids if rid not in records and rid not in dlq),
        "in_dlq": len(dlq & set(ids)),
        "examples_never_sent": never_sent[:5],
        **(
            {"send_requests_received_not_accepted": requests - sum(accepted.values())}
            if args.provider == "apistore"
            else {}
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.killprobe", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="dispatcher processes running at once")
    parser.add_argument("--provider", choices=("apistore", "solapi"), default="apistore")
    parser.add_argument("--latency-ms", type=float, default=50, help="the sandbox's latency per request")
    parser.add_argument("--min-gap-s", type=float, default=0.2, help="shortest wait between kills")
    parser.add_argument("--max-gap-s", type=float, default=1.5, help="longest wait between kills")
    parser.add_argument("--invocation-s", type=float, default=10, help="each invocation's time-out (the lease)")
    parser.add_argument("--visibility-s", type=int, default=12, help="the queue's visibility timeout")
    parser.add_argument("--settle-timeout-s", type=float, default=180)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    if args.visibility_s <= args.invocation_s:
        parser.error("--visibility-s must exceed --invocation-s: a message comes back only after its lease")
    out = probe(args)
    width = max(len(k) for k in out)
    for k, v in out.items():
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
