"""`make run`: the main job, whole, on this machine. Starts the local stack, pushes every sample in
events/ onto the queue, lets the real handler consume them as Lambda would, prints the records.

Exit status 0 when every sample reached a settled status (nothing left `sending`, queue drained).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

from .stack import ROOT, LocalStack, sample_bodies

LOG_FILE = ROOT / ".local" / "run.log"


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


COLUMNS = (("id", 46), ("asked", 8), ("used", 8), ("status", 10), ("cmid", 22), ("reason", 70))


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
        str(rec.get("cmid") or "-"),
        reason.replace("\n", " "),
    ]


def table(records: list[dict[str, Any]]) -> str:
    lines = ["  ".join(pad(name, w) for name, w in COLUMNS).rstrip()]
    lines.append("  ".join("-" * w for _, w in COLUMNS))
    for rec in sorted(records, key=lambda r: str(r.get("accepted_at", ""))):
        lines.append("  ".join(pad(v, w) for v, (_, w) in zip(row(rec), COLUMNS, strict=True)).rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make run", description=__doc__)
    ap.add_argument("--verbose", action="store_true", help="handler logs on stdout instead of .local/run.log")
    args = ap.parse_args(argv)

    LOG_FILE.parent.mkdir(exist_ok=True)
    log: io.TextIOBase | None = None if args.verbose else open(LOG_FILE, "w", encoding="utf-8")  # noqa: SIM115
    started = time.monotonic()
    print("starting moto server (template.yaml via samtranslator) and the provider sandbox ...", flush=True)
    with LocalStack.start(log_stream=log) as stack:
        print(f"  embedded AWS  {stack.aws.endpoint_url}  (region {stack.aws.region})")
        print(f"  sandbox       {stack.sandbox.url}")
        print(f"  queue         {stack.queue_url}")
        bodies = list(sample_bodies())
        stack.publish(bodies)
        print(f"published {len(bodies)} sample messages from events/; dispatching ...", flush=True)
        batches = stack.drain(timeout_s=120)
        records = stack.records()
        print()
        print(table(records))
        print()
        counts: dict[str, int] = {}
        for r in records:
            counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
        delivered = stack.sandbox.messages()
        dlq = stack.dlq_bodies()
        print(
            f"{len(records)} records ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}); "
            f"{len(batches)} handler invocations; the sandbox accepted {len(delivered)} messages; "
            f"DLQ holds {len(dlq)}; {time.monotonic() - started:.1f} s"
        )
        if log is not None:
            print(f"handler logs (JSON, phones masked, no key): {Path(LOG_FILE).relative_to(ROOT)}")
        stuck = [r["id"] for r in records if r["status"] == "sending"]
        if stuck:
            print(f"not settled: {stuck}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
