"""`make serve` as a developer uses it: started in its own process on ports of the test's choosing, sent to
by another process exactly as the README and the server's banner say, and stopped with Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from devstack.serve import AWS_PORT, change_line, event_line, producer_commands
from devstack.stack import ROOT

pytestmark = pytest.mark.e2e

README = (ROOT / "README.md").read_text(encoding="utf-8")
# A bound so a broken server fails the test instead of hanging it; not a speed assertion.
LIMIT_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[str]
    stderr: Path
    seen: str = ""

    def read_until(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + LIMIT_S
        start = len(self.seen)
        while time.monotonic() < deadline:
            m = re.search(pattern, self.seen[start:])
            if m:
                return m
            line = self.proc.stdout.readline() if self.proc.stdout else ""
            if not line and self.proc.poll() is not None:
                break
            self.seen += line
        raise AssertionError(f"no line matching {pattern!r}; output:\n{self.seen}\nstderr:\n{self.stderr.read_text()}")

    def stop(self, how: str) -> str:
        """Ctrl-C as a terminal sends it (SIGINT to the whole process group), or SIGTERM to the process."""
        if how == "ctrl-c":
            os.killpg(self.proc.pid, signal.SIGINT)
        else:
            self.proc.send_signal(signal.SIGTERM)
        rest, _ = self.proc.communicate(timeout=LIMIT_S)
        self.seen += rest
        return rest


def start_serve(tmp_path: Path, *options: str, env: dict[str, str] | None = None) -> Server:
    aws_port, sandbox_port = _free_port(), _free_port()
    stderr = tmp_path / f"serve-{aws_port}.stderr"
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "devstack.serve", "--aws-port", str(aws_port),
         "--sandbox-port", str(sandbox_port), *options],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr.open("w"), text=True,
        env={**os.environ, "PROVIDER": "apistore", **(env or {})},  # the tests naming none are API Store's
        start_new_session=True,  # its own process group, as a shell gives a foreground job
    )  # fmt: skip
    server = Server(proc, stderr)
    server.read_until(r"One line per record write")
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Every report is a poll away: a tick a second, each standing for the schedule's minute.
    s = start_serve(tmp_path_factory.mktemp("serve"), "--poll-every", "1")
    yield s
    if s.proc.poll() is None:
        s.stop("sigterm")


def endpoint(server: Server) -> str:
    return re.search(r"embedded AWS\s+(http\S+)", server.seen)[1]


def queue_url(server: Server) -> str:
    return re.search(r"\n\s+queue\s+(http\S+)", server.seen)[1]


def sandbox_url(server: Server) -> str:
    return re.search(r"provider sandbox\s+(http\S+)", server.seen)[1]


def stage(server: Server, phone: str, call_status: str) -> None:
    """Fix the sandbox's report for a number, the way the banner tells a developer to."""
    body = json.dumps({"phone": phone, "call_status": call_status}).encode()
    request = urllib.request.Request(f"{sandbox_url(server)}/_sandbox/outcomes", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def readme_block(language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README, re.S)
    (block,) = [b for b in blocks if containing in b]
    return block


def as_served(text: str, server: Server) -> str:
    """The README's text for the default port, pointed at this test's server."""
    return text.replace(f"127.0.0.1:{AWS_PORT}", endpoint(server).removeprefix("http://"))


def readme_producers(server: Server) -> tuple[str, str]:
    """The README's shell command and Python snippet, which must be what the server prints for the default
    port, pointed at this test's server."""
    shell, python = readme_block("sh", "aws sqs send-message"), readme_block("python", "send_message")
    default = f"http://127.0.0.1:{AWS_PORT}"
    printed = producer_commands(default, queue_url(server).replace(endpoint(server), default))
    assert (shell.strip(), python.strip()) == printed
    return as_served(shell, server), as_served(python, server)


def fresh_machine_env(tmp: Path) -> dict[str, str]:
    """No AWS settings at all, and a home without ~/.aws: what a new machine has."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp)
    return env


def test_the_queue_url_has_no_random_part_so_it_survives_a_restart(server):
    # Given the server's queue URL, on the test's port
    # Then it is the stack's name and the template's logical id, nothing generated
    assert queue_url(server) == f"{endpoint(server)}/123456789012/kr-notifier-local-NotificationQueue"


def test_the_readme_python_producer_runs_as_printed_and_its_event_goes_sent_then_delivered(server):
    # Given the README's Python producer, and the sandbox told to report delivery for its number
    _, python = readme_producers(server)
    stage(server, "01012345678", "4100")

    # When another process runs it on a machine with nothing configured
    done = subprocess.run([sys.executable, "-c", python], env=fresh_machine_env(server.stderr.parent),
                          capture_output=True, text=True, timeout=LIMIT_S, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr

    # Then the server prints each write of its record: claimed, sent with a cmid, delivered by the
    # report the poller read on its (accelerated) schedule; and the EventBridge event
    server.read_until(r"record  dev-2  sending  \[sms\]")
    server.read_until(r"record  dev-2  sent  \[sms\]  cmid \d{16,22}")
    server.read_until(r"record  dev-2  delivered  \[sms\]  delivered by SMS \(report 4100\)")
    server.read_until(r"event   Notification Delivered  dev-2  via sms")


def test_the_readme_shell_command_sends_as_printed(server):
    # Given the README's aws command
    shell, _ = readme_producers(server)
    env = fresh_machine_env(server.stderr.parent)

    # When it runs in a shell on a machine with nothing configured: the aws CLI where there is one,
    # else the same parameters through boto3
    if shutil.which("aws"):
        done = subprocess.run(["bash", "-c", shell], env=env, capture_output=True, text=True, timeout=LIMIT_S,
                              check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
    else:
        argv = shlex.split(shell.replace("\\\n", " "))
        creds = dict(a.split("=", 1) for a in argv[:2])
        opts = dict(zip(argv[5::2], argv[6::2], strict=True))
        sqs = boto3.client("sqs", region_name=opts["--region"], endpoint_url=opts["--endpoint-url"],
                           aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"])  # fmt: skip
        sqs.send_message(QueueUrl=opts["--queue-url"], MessageBody=opts["--message-body"])

    # Then its event is dispatched
    server.read_until(r"record  dev-1  sent  \[sms\]  cmid \d{16,22}")


def test_provider_solapi_serves_through_the_solapi_sandbox_and_says_so(tmp_path):
    # Given make serve started with PROVIDER=solapi
    s = start_serve(tmp_path, "--poll-every", "1", env={"PROVIDER": "solapi"})
    try:
        # Then its banner names the provider and the SOLAPI way to stage a report
        assert re.search(r"\n  provider\s+solapi\b", s.seen), s.seen
        staged = json.loads(re.search(r"stage a report: POST \S+/_sandbox/outcomes (\{.*\})", s.seen)[1])
        assert staged == {"phone": "01012345678", "status_code": "3032"}
        # When a producer sends after staging that report as the banner says
        body = json.dumps(staged).encode()
        request = urllib.request.Request(f"{sandbox_url(s)}/_sandbox/outcomes", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        sqs = boto3.client("sqs", region_name="ap-northeast-2", endpoint_url=endpoint(s),
                           aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
        sqs.send_message(QueueUrl=queue_url(s), MessageBody=json.dumps({"id": "sol-1", "to": "010-1234-5678",
                                                                        "text": "안녕하세요"}))  # fmt: skip
        # Then SOLAPI took it (its message id) and its report settled the record
        s.read_until(r"record  sol-1  sent  \[sms\]  message id M4V\w+")
        s.read_until(r"record  sol-1  failed  \[sms\]  report 3032: 3032 미가입자")
        s.read_until(r"event   Notification Failed  sol-1")
    finally:
        s.stop("sigterm")


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_stop_everything_with_exit_0_and_nothing_on_stderr(tmp_path, how):
    # Given a server that has dispatched a message and holds its ports
    s = start_serve(tmp_path)
    sqs = boto3.client("sqs", region_name="ap-northeast-2", endpoint_url=endpoint(s),
                       aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
    sqs.send_message(QueueUrl=queue_url(s), MessageBody=json.dumps({"id": f"stop-{how}", "to": "01012345678",
                                                                     "text": "안녕하세요"}))  # fmt: skip
    s.read_until(rf"record  stop-{how}  sent")
    aws_port = int(endpoint(s).rsplit(":", 1)[1])
    sandbox_port = int(sandbox_url(s).rsplit(":", 1)[1])

    # When it is stopped
    rest = s.stop(how)

    # Then it says so and exits 0, with nothing on stderr (no traceback from the moto child or anyone)
    assert s.proc.returncode == 0 and rest.strip().endswith("stopped."), rest
    assert s.stderr.read_text() == ""
    # And both ports are free again: nothing was left running
    for port in (aws_port, sandbox_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, port


def test_ctrl_c_while_the_stack_is_starting_stops_it_cleanly_too(tmp_path):
    # Given a server still starting (moto, the template, the sandbox)
    aws_port, sandbox_port = _free_port(), _free_port()
    stderr = tmp_path / "serve.stderr"
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "devstack.serve", "--aws-port", str(aws_port), "--sandbox-port",
         str(sandbox_port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr.open("w"), text=True, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout and proc.stdout.readline().startswith("starting the local stack")
    time.sleep(1)

    # When Ctrl-C is pressed
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=LIMIT_S)

    # Then it exits 0 with nothing on stderr, and leaves no port held: a moto child started just before
    # the interruption, which serve never got to stop, sees its parent gone within a second
    # (motoserver --parent) and exits, so the ports are given a few seconds to be freed
    assert proc.returncode == 0, out
    assert out.strip().endswith(("stopped before the stack was up.", "stopped.")), out
    assert stderr.read_text() == ""
    for port in (aws_port, sandbox_port):
        assert _freed_within(port, seconds=5), port


def _freed_within(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


# -- the printed lines, without a server ------------------------------------------------------------


def test_a_poll_that_finds_no_report_yet_prints_the_note_not_the_cmid_again():
    # Given a write that keeps a sent record sent, with the poller's note
    old = {"id": "a", "status": "sent", "channel_used": "sms", "cmid": "1" * 20, "polls": 0}
    new = {**old, "polls": 1, "poll_note": "result is null"}

    # Then its line says the report is not ready, at which poll
    assert change_line(old, new).endswith("record  a  sent  [sms]  report not ready at poll 1: result is null")


def test_a_record_line_names_the_route_and_the_reason_on_one_line():
    # Given an AlimTalk refused and sent by the app as SMS, and an event rejected at once (no old image)
    app = {"id": "b", "status": "sent", "channel_used": "sms", "fallback": "app", "cmid": "2" * 20,
           "reason": "AlimTalk not sent (template 'R3333' is 반려)\nsent as SMS"}  # fmt: skip
    rejected = {"id": "c", "status": "rejected", "reason": "to: not a Korean phone number"}

    # Then each prints one line: the route, the cmid or the reason
    assert change_line({**app, "status": "sending"}, app).endswith(
        f"record  b  sent  [sms via app fallback]  cmid {'2' * 20}  AlimTalk not sent (template 'R3333' is 반려) sent as SMS"
    )
    assert change_line(None, rejected).endswith("record  c  rejected  [-]  to: not a Korean phone number")


def test_an_eventbridge_event_prints_its_detail_type_id_and_route():
    event = {"detail-type": "Notification Failed", "detail": {"id": "d", "delivered_via": None,
                                                              "reason": "report 4410: 잘못된번호"}}  # fmt: skip
    assert event_line(event).endswith("event   Notification Failed  d  report 4410: 잘못된번호")
