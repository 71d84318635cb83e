"""`make serve`: the local stack kept up for an application under development.

Prints the endpoints and the queue URL, then consumes the queue as Lambda's event source mapping
would (real visibility time-outs, no fast-forward) and prints one line per record change, until
Ctrl-C. Handler logs go to .local/serve.log.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from .stack import CLIENT_ID, ROOT, LocalStack

LOG_FILE = ROOT / ".local" / "serve.log"


def _line(rec: dict[str, Any]) -> str:
    used = rec.get("channel_used") or "-"
    route = f" via {rec['fallback']} fallback" if rec.get("fallback") in ("app", "provider") else ""
    cmid = f" cmid {rec['cmid']}" if rec.get("cmid") else ""
    reason = rec.get("reason") or rec.get("conversion") or ""
    return f"{time.strftime('%H:%M:%S')}  {rec['id']}  {rec['status']}  [{used}{route}]{cmid}  {reason}".rstrip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make serve", description=__doc__)
    ap.add_argument("--report-delay", type=float, default=5.0, help="seconds before the sandbox's reports are ready")
    args = ap.parse_args(argv)

    LOG_FILE.parent.mkdir(exist_ok=True)
    log = open(LOG_FILE, "a", encoding="utf-8")  # noqa: SIM115 - open for the life of the process
    stack = LocalStack.start(
        log_stream=log, sandbox_config={"report_delay_s": args.report_delay}, moto_process=True, default_account=True
    )
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    env = stack.aws
    print(
        f"""kr-notifier local stack is up (Ctrl-C to stop)

  embedded AWS     {env.endpoint_url}   region {env.region}
  queue            {stack.queue_url}
  dead letters     {stack.dlq_url}
  records table    {stack.env["TABLE_NAME"]}
  provider sandbox {stack.sandbox.url}   client id {CLIENT_ID}; what reached phones: {stack.sandbox.url}/_sandbox/messages
  handler logs     {LOG_FILE.relative_to(ROOT)}

Send an event from your application (any AWS SDK with these settings):
  AWS_ENDPOINT_URL={env.endpoint_url} AWS_DEFAULT_REGION={env.region} \\
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\
  aws sqs send-message --queue-url {stack.queue_url} \\
      --message-body '{{"id":"dev-1","to":"010-1234-5678","text":"안녕하세요"}}'
""",
        flush=True,
    )
    seen: dict[str, tuple[Any, ...]] = {}
    source = stack.event_source(fast_forward=False)
    try:
        while not stop:
            outcome = source.poll_once()
            if not outcome.received:
                time.sleep(0.5)
            for rec in stack.records():
                key = (rec.get("status"), rec.get("updated_at"), rec.get("reported_at"))
                if seen.get(rec["id"]) != key:
                    seen[rec["id"]] = key
                    print(_line(rec), flush=True)
    finally:
        stack.stop()
        log.close()
    print("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
