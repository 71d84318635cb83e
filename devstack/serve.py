"""`make serve`: the local stack as a dev server, for an application under development to send to.

Starts moto server (template.yaml's resources) and the provider sandbox on fixed ports, with the
same queue URL at every start, then runs what AWS would: the dispatcher consumes the queue as
Lambda's SQS event source mapping does (real visibility time-outs), and the report poller runs on
its schedule. Prints one line per record write (read from the table's DynamoDB stream) and one per
EventBridge event, until Ctrl-C or SIGTERM, which stop everything and exit 0. State is in memory:
every start is fresh. Handler logs go to .local/serve.log.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The stack (boto3, moto, samtranslator: seconds of imports) is imported only once the stop signals
# are handled, so a Ctrl-C at any moment of the start is a clean stop too.
if TYPE_CHECKING:
    from .stack import LocalStack

# Fixed, so a producer's configuration survives a restart; below Linux's ephemeral range (32768+),
# so no outgoing connection can be holding them.
AWS_PORT = 7460
SANDBOX_PORT = 7461
REGION = "ap-northeast-2"


def producer_commands(endpoint_url: str, queue_url: str) -> tuple[str, str]:
    """How a producer sends to this stack, from a shell and from Python: printed at start, and in the
    README for the default port (a test runs the README's as printed)."""
    shell = f"""\
AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \\
aws sqs send-message --region {REGION} --endpoint-url {endpoint_url} \\
    --queue-url {queue_url} \\
    --message-body '{{"id":"dev-1","to":"010-1234-5678","text":"안녕하세요"}}'"""
    python = f"""\
import json

import boto3

sqs = boto3.client(
    "sqs",
    region_name="{REGION}",
    endpoint_url="{endpoint_url}",
    aws_access_key_id="local",
    aws_secret_access_key="local",
)
event = {{"id": "dev-2", "to": "010-1234-5678", "text": "안녕하세요"}}
sqs.send_message(
    QueueUrl="{queue_url}",
    MessageBody=json.dumps(event, ensure_ascii=False),
)"""
    return shell, python


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines())


class PollClock:
    """The poller's and the sandbox's notion of now. At the schedule's own pace it is the wall clock;
    with a tick every `every` seconds for a schedule period of `period`, each tick moves it ahead by
    the rest of the period, so back-offs of minutes pass in a few ticks (as `make run` fast-forwards)."""

    def __init__(self, period: float, every: float) -> None:
        self.period, self.every = period, every
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def tick(self) -> None:
        self.offset += max(0.0, self.period - self.every)


def _clock() -> str:
    return time.strftime("%H:%M:%S")


def change_line(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    """One record write: its status after the write, the channel and route, and what the write said."""
    from notifier.domain.record import message_id_of

    rec = new or old or {}
    status = str(rec.get("status", "removed")) if new else "removed"
    used = rec.get("delivered_via") or rec.get("channel_used") or "-"
    route = f" via {rec['fallback']} fallback" if rec.get("fallback") in ("app", "provider") else ""
    was = (old or {}).get("status")
    if new and was == status == "sent" and rec.get("poll_note"):
        detail = f"report not ready at poll {rec.get('polls', '?')}: {rec['poll_note']}"
    elif status == "sent" and message_id_of(rec):
        # API Store's id is its cmid (the name its tools print); SOLAPI's is a messageId
        label = "cmid" if rec.get("cmid") else "message id"
        detail = f"{label} {message_id_of(rec)}" + (f"  {rec['reason']}" if rec.get("reason") else "")
        if rec.get("scheduled_for"):
            detail += f"  scheduled for {rec['scheduled_for']} KST"
    else:
        detail = str(rec.get("reason") or rec.get("conversion") or "")
    line = f"{_clock()}  record  {rec.get('id', '?')}  {status}  [{used}{route}]  {detail}"
    return line.replace("\n", " ").rstrip()


def event_line(event: dict[str, Any]) -> str:
    d = event.get("detail", {})
    via = f"  via {d['delivered_via']}" if d.get("delivered_via") else ""
    reason = f"  {d['reason']}" if d.get("reason") else ""
    return f"{_clock()}  event   {event.get('detail-type', '?')}  {d.get('id', '?')}{via}{reason}".replace("\n", " ")


class _Interrupted(BaseException):
    """A stop signal while the stack was still starting. A BaseException, like KeyboardInterrupt, so
    that no library's `except Exception` (botocore's retries) swallows it."""


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1-65535)")
    return port


def _seconds(value: str) -> float:
    seconds = float(value.removesuffix("s"))
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{value}: must be more than 0 seconds")
    return seconds


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ
    ap = argparse.ArgumentParser(
        prog="make serve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='From make: make serve OPTS="--poll-every 5". Each option also reads the environment variable named.',
    )
    ap.add_argument(
        "--aws-port",
        type=_port,
        default=_port(env.get("NOTIFIER_AWS_PORT", str(AWS_PORT))),
        help=f"embedded AWS (moto server) port; $NOTIFIER_AWS_PORT, default {AWS_PORT}",
    )
    ap.add_argument(
        "--sandbox-port",
        type=_port,
        default=_port(env.get("NOTIFIER_SANDBOX_PORT", str(SANDBOX_PORT))),
        help=f"provider sandbox port; $NOTIFIER_SANDBOX_PORT, default {SANDBOX_PORT}",
    )
    ap.add_argument(
        "--poll-every",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="run a poller tick every SECONDS of wall time, each standing for one period of the "
        "schedule (PollRate, 60 s): reports arrive in seconds instead of minutes; "
        "$NOTIFIER_POLL_EVERY, default: the schedule itself",
    )
    ap.add_argument(
        "--report-delay",
        type=float,
        default=float(env.get("NOTIFIER_REPORT_DELAY", "5")),
        metavar="SECONDS",
        help="seconds before the sandbox's reports are ready; default 5",
    )
    args = ap.parse_args(argv)  # fmt: skip
    if args.poll_every is None and env.get("NOTIFIER_POLL_EVERY"):
        args.poll_every = _seconds(env["NOTIFIER_POLL_EVERY"])
    return args


def main(argv: list[str] | None = None) -> int:
    stop = False
    starting = True

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True
        if starting:
            raise _Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    args = parse_args(argv)
    print(f"starting the local stack (embedded AWS on :{args.aws_port}, sandbox on :{args.sandbox_port}) ...",
          flush=True)  # fmt: skip
    log = stack = None
    try:
        from .stack import ROOT, LocalStack, provider_from_env

        log_file = ROOT / ".local" / "serve.log"
        log_file.parent.mkdir(exist_ok=True)
        log = open(log_file, "w", encoding="utf-8")  # noqa: SIM115 - open for the life of the process
        stack = LocalStack.start(
            log_stream=log,
            sandbox_config={"report_delay_s": args.report_delay, "port": args.sandbox_port},
            moto_process=True,
            default_account=True,
            aws_port=args.aws_port,
            stable_names=True,
            parameters=provider_from_env(),
        )
        starting = False
    except BaseException as exc:
        if stack is not None:
            stack.stop()
        if log is not None:
            log.close()
        if isinstance(exc, _Interrupted):
            print("stopped before the stack was up.", flush=True)
            return 0
        if not isinstance(exc, OSError) or exc.errno != errno.EADDRINUSE:
            raise
        # LocalAws names its port (PortInUse); the sandbox's bind fails with the plain OSError.
        port, option = (
            (args.aws_port, "--aws-port or NOTIFIER_AWS_PORT")
            if getattr(exc, "port", None) == args.aws_port
            else (args.sandbox_port, "--sandbox-port or NOTIFIER_SANDBOX_PORT")
        )
        print(f"make serve: port {port} on 127.0.0.1 is already in use (another make serve?); choose another "
              f"with {option}", file=sys.stderr)  # fmt: skip
        return 1
    try:
        serve(stack, args, lambda: stop, log_file.relative_to(ROOT))
    finally:
        stack.stop()
        log.close()
    print("stopped.", flush=True)
    return 0


def serve(stack: LocalStack, args: argparse.Namespace, stopping: Callable[[], bool], log_file: Path) -> None:
    from .stack import CLIENT_ID, SOLAPI_PF_ID

    period = stack.poll_interval_s()
    every = args.poll_every or float(period)
    clock = PollClock(period, every)
    stack.sandbox.clock = clock
    (rate,) = stack.aws.schedules("PollerFunction")
    pace = "the schedule's own pace" if every == period else f"a tick every {every:g} s, each standing for {period} s"
    env = stack.aws
    shell, python = producer_commands(env.endpoint_url, stack.queue_url)
    # Each provider's account on the sandbox, and a report staged its way (a number that does not exist)
    account, staged = (
        (f"KakaoTalk channel (pfId) {SOLAPI_PF_ID}", {"phone": "01012345678", "status_code": "3032"})
        if stack.provider == "solapi"
        else (f"client id {CLIENT_ID}", {"phone": "01012345678", "call_status": "4410"})
    )
    print(
        f"""kr-notifier local stack is up (Ctrl-C to stop). State is in memory: every start is fresh.

  embedded AWS     {env.endpoint_url}   region {env.region}, any credentials
  queue            {stack.queue_url}
  dead letters     {stack.dlq_url}
  records table    {stack.env["TABLE_NAME"]}
  report poller    {rate}, at {pace}
  provider         {stack.provider}   (template parameter Provider; PROVIDER=apistore|solapi make serve)
  provider sandbox {stack.sandbox.url}   {account}
                   inbox page: {stack.sandbox.url}/_sandbox/inbox   (every message as the phone shows it, live)
                   what reached phones, as JSON: {stack.sandbox.url}/_sandbox/messages
                   stage a report: POST {stack.sandbox.url}/_sandbox/outcomes {json.dumps(staged)}
  handler logs     {log_file}

Send an event from a shell (any credentials do; region and endpoint must be given):
{_indent(shell)}

or from Python:
{_indent(python)}

One line per record write and per EventBridge event (source kr-notifier) follows.
""",
        flush=True,
    )  # fmt: skip
    changes = stack.record_changes()
    source = stack.event_source(fast_forward=False)
    next_tick = time.monotonic() + every
    while not stopping():
        outcome = source.poll_once()
        if time.monotonic() >= next_tick:
            clock.tick()
            try:
                stack.poll(clock=clock)
            except Exception as exc:  # a failed tick is not retried on AWS either: the next one does its work
                print(f"{_clock()}  poller  tick failed: {type(exc).__name__}: {exc}", flush=True)
            next_tick = max(next_tick + every, time.monotonic())
        for old, new in changes.read():
            print(change_line(old, new), flush=True)
        for event in stack.new_events():
            print(event_line(event), flush=True)
        if not outcome.received:
            time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
