"""`notifier dlq` against moto's SQS over HTTP: messages dead-lettered by the real dispatcher, listed
without being consumed, moved back and then sent; and a redrive interrupted at its worst moments."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

import notifier_cli.aws
import notifier_cli.dlq
from devstack.stack import LocalStack
from notifier_cli.main import main

from .conftest import start_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack():
    s = start_stack()
    yield s
    s.stop()


def _empty(stack: LocalStack, url: str) -> None:
    sqs = stack.aws.client("sqs")
    while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture(autouse=True)
def clean(stack, tmp_path, monkeypatch):
    stack.sandbox.reset()
    _empty(stack, stack.queue_url)  # PurgeQueue is allowed once a minute only
    _empty(stack, stack.dlq_url)
    # The redrive journal of a test run belongs in the test's directory, not the operator's home.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    yield


def event(i: int, prefix: str = "dlq") -> str:
    return json.dumps({"id": f"{prefix}-{i}", "to": f"0101234{i:04d}", "text": f"[Shop] 안내 {i}"}, ensure_ascii=False)


def take_ids(stack: LocalStack, url: str) -> list[str]:
    """The ids of every message in a queue, which is left empty."""
    sqs = stack.aws.client("sqs")
    out: list[str] = []
    while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        out += [json.loads(m["Body"])["id"] for m in msgs]
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def depth(stack: LocalStack, url: str) -> int:
    attrs = stack.aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def dead_letter(stack: LocalStack, n: int, prefix: str) -> None:
    """n events the dispatcher gives up on (no balance: 600, retried) until SQS dead-letters them."""
    stack.sandbox.set_balance(0)
    stack.publish(event(i, prefix) for i in range(n))
    stack.drain()
    stack.sandbox.set_balance(1_000_000)


def test_dead_lettered_messages_are_listed_with_their_reason_and_not_consumed(stack, cli):
    # Given three events the dispatcher gave up on, now in the DLQ
    dead_letter(stack, 3, "list")
    assert depth(stack, stack.dlq_url) == 3
    # When an operator lists the DLQ
    r = cli("dlq", "list")
    # Then each shows its record's status and reason, with the recipient masked
    assert r.code == 0, r.err
    assert "3 message(s) listed" in r.out and "none consumed" in r.out
    for i in range(3):
        assert f"list-{i}" in r.out
    assert "failed (dead-lettered)" in r.out and "prepaid balance insufficient" in r.out
    # (the record's reason quotes the provider, whose message names the unsent numbers)
    assert "010****0001" in r.out and "01012340001" not in r.out
    # And the messages are all still there, visible again at once
    assert depth(stack, stack.dlq_url) == 3
    assert cli("dlq", "list").out.count("list-") == 3


def test_redrive_by_id_moves_only_that_message_and_the_dispatcher_sends_it(stack, cli):
    # Given three dead-lettered events, and the cause (the balance) fixed
    dead_letter(stack, 3, "one")
    # When one of them is redriven by id
    r = cli("dlq", "redrive", "--id", "one-1")
    # Then it alone moved
    assert r.code == 0, r.err
    assert "moved 1 message(s)" in r.out
    assert depth(stack, stack.dlq_url) == 2 and depth(stack, stack.queue_url) == 1
    # And the dispatcher claims its failed record again and sends it
    stack.drain()
    assert [m["dest_phone"] for m in stack.sandbox.messages()] == ["01012340001"]
    rec = stack.record("one-1")
    assert rec["status"] == "sent" and "dead_lettered" not in rec


def test_redrive_all_moves_everything_back(stack, cli):
    dead_letter(stack, 12, "all")
    r = cli("dlq", "redrive", "--all")
    assert r.code == 0, r.err
    assert "moved 12 message(s)" in r.out
    assert depth(stack, stack.dlq_url) == 0
    stack.drain()
    assert len(stack.sandbox.messages()) == 12


def test_redriving_an_id_that_is_not_dead_lettered_is_exit_1(stack, cli):
    dead_letter(stack, 1, "absent")
    r = cli("dlq", "redrive", "--id", "absent-0", "no-such-id")
    assert r.code == 1 and "moved 1 message(s)" in r.out and "not in the dead-letter queue: no-such-id" in r.err


def test_without_move_tasks_redrive_all_falls_back_to_moving_by_hand(stack, capsys):
    # Given messages in the DLQ, and an endpoint reached through AWS_ENDPOINT_URL (as moto is here),
    # so the CLI believes it is on AWS and tries StartMessageMoveTask, which moto lacks
    dead_letter(stack, 2, "task")
    argv = ["--region", stack.aws.region, "--dlq-url", stack.dlq_url, "--queue-url", stack.queue_url]
    # When everything is redriven
    code = main([*argv, "dlq", "redrive", "--all"])
    # Then it says why it moves them by hand, and does
    out = capsys.readouterr().out
    assert code == 0 and "no SQS move tasks" in out and "moved 2 message(s)" in out
    assert depth(stack, stack.dlq_url) == 0 and depth(stack, stack.queue_url) == 2


def test_redrive_all_on_aws_uses_a_move_task_and_says_how_many_moved(stack, monkeypatch, capsys):
    # Given SQS as AWS answers a move task (stubbed: moto has none): running once, then completed
    arn = "arn:aws:sqs:ap-northeast-2:123456789012:dlq"
    real = notifier_cli.aws.make_client

    def stubbed(session, service, endpoint_url, attempts=5):  # type: ignore[no-untyped-def]
        client = real(session, service, endpoint_url, attempts)
        if service == "sqs":
            stub = Stubber(client)
            if attempts == 1:
                stub.add_response("start_message_move_task", {"TaskHandle": "h1"}, {"SourceArn": arn})
            else:
                stub.add_response("get_queue_attributes", {"Attributes": {"QueueArn": arn}})
                running = {"TaskHandle": "h1", "Status": "RUNNING", "ApproximateNumberOfMessagesMoved": 3}
                done = {**running, "Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 7}
                stub.add_response("list_message_move_tasks", {"Results": [running]})
                stub.add_response("list_message_move_tasks", {"Results": [done]})
            stub.activate()
        return client

    monkeypatch.setattr(notifier_cli.aws, "make_client", stubbed)
    monkeypatch.setattr(notifier_cli.dlq, "MOVE_TASK_POLL_S", 0)
    # When everything is redriven against "AWS" (no --endpoint-url)
    code = main(["--region", "ap-northeast-2", "--dlq-url", "https://sqs/dlq", "--queue-url", "https://sqs/q",
                 "dlq", "redrive", "--all"])  # fmt: skip
    # Then SQS did the moving, and the count is the task's
    out = capsys.readouterr().out
    assert code == 0 and "move task started" in out and "moved 7 message(s)" in out


# ------------------------------------------------------------------ interruptions


class Crash(Exception):
    """Stands for the process dying at this line."""


class CrashingSqs:
    """The real client, except that the nth call of one method crashes (before reaching SQS)."""

    def __init__(self, client: Any, method: str, nth: int) -> None:
        self._client, self._method, self._nth, self._calls = client, method, nth, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name != self._method:
            return attr

        def call(**kwargs: Any) -> Any:
            self._calls += 1
            if self._calls == self._nth:
                raise Crash(name)
            return attr(**kwargs)

        return call


@contextlib.contextmanager
def crash_on(monkeypatch: pytest.MonkeyPatch, method: str, nth: int) -> Iterator[None]:
    real = notifier_cli.aws.make_client

    def crashing(session, service, endpoint_url, attempts=5):  # type: ignore[no-untyped-def]
        client = real(session, service, endpoint_url, attempts)
        return CrashingSqs(client, method, nth) if service == "sqs" else client

    with monkeypatch.context() as m, pytest.raises(Crash):
        m.setattr(notifier_cli.aws, "make_client", crashing)
        yield


def fill_dlq(stack: LocalStack, n: int, prefix: str) -> None:
    sqs = stack.aws.client("sqs")
    for start in range(0, n, 10):
        sqs.send_message_batch(
            QueueUrl=stack.dlq_url,
            Entries=[{"Id": str(i), "MessageBody": event(i, prefix)} for i in range(start, min(n, start + 10))],
        )


def test_a_redrive_interrupted_before_a_send_loses_nothing(stack, cli, monkeypatch):
    # Given 25 messages in the DLQ, and a redrive that dies as it sends its second batch
    fill_dlq(stack, 25, "cut-send")
    with crash_on(monkeypatch, "send_message_batch", 2):
        cli("dlq", "redrive", "--all")
    # Then the first batch is in the main queue and the rest still in the DLQ: nothing lost
    assert depth(stack, stack.queue_url) + depth(stack, stack.dlq_url) == 25
    # When the redrive is run again
    r = cli("dlq", "redrive", "--all")
    # Then every message is in the main queue exactly once
    assert r.code == 0 and "moved 15 message(s)" in r.out
    assert sorted(take_ids(stack, stack.queue_url)) == sorted(f"cut-send-{i}" for i in range(25))
    assert depth(stack, stack.dlq_url) == 0


def test_a_redrive_interrupted_between_send_and_delete_neither_loses_nor_duplicates(stack, cli, monkeypatch):
    # Given 25 messages in the DLQ, and a redrive that dies after SQS took its second batch's copies
    # but before deleting them from the DLQ: the worst moment
    fill_dlq(stack, 25, "cut-delete")
    with crash_on(monkeypatch, "delete_message_batch", 2):
        cli("dlq", "redrive", "--all")
    assert depth(stack, stack.queue_url) == 20 and depth(stack, stack.dlq_url) == 15
    # When the redrive is run again (its journal knows the ten copies in flight)
    r = cli("dlq", "redrive", "--all")
    # Then those ten are only deleted from the DLQ, and every message is in the main queue once
    assert r.code == 0, r.err
    assert "moved 5 message(s)" in r.out and "removed 10 from the dead-letter queue" in r.out
    assert sorted(take_ids(stack, stack.queue_url)) == sorted(f"cut-delete-{i}" for i in range(25))
    assert depth(stack, stack.dlq_url) == 0


def test_a_copy_left_by_an_interrupted_redrive_is_sent_once(stack, cli, monkeypatch, tmp_path):
    # Given a redrive that died between send and delete, rerun without its journal (another machine)
    fill_dlq(stack, 25, "copy")
    with crash_on(monkeypatch, "delete_message_batch", 2):
        cli("dlq", "redrive", "--all")
    r = cli("dlq", "redrive", "--all", "--journal", str(tmp_path / "elsewhere.journal"))
    # Then ten messages are in the main queue twice
    assert r.code == 0 and "moved 15 message(s)" in r.out
    assert depth(stack, stack.queue_url) == 35 and depth(stack, stack.dlq_url) == 0
    # And when the dispatcher consumes the queue, each id reaches the provider once
    stack.drain()
    sent = stack.sandbox.messages()
    assert len(sent) == 25 and len({m["dest_phone"] for m in sent}) == 25
