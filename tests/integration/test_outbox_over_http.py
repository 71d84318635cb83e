"""The outbox over HTTP: the real dispatcher and poller write records in moto's DynamoDB; the table's
stream (moto's DynamoDB Streams) feeds the real outbox handler through the emulated stream event source
(template.yaml's filter, retries, bisect and OnFailure destination); its events land on moto's bus and
reach a subscriber's rule (an SQS queue). Nothing here calls the outbox by hand: what the application
receives is what the stream delivered.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.stack import LocalStack

pytestmark = pytest.mark.integration

SHIPPED = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."  # template A1111


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    s = LocalStack.start(log_stream=io.StringIO(), sandbox_config={"report_delay_s": 30})
    s.sandbox.set_outcome_mix("sms", {"4100": 1})
    yield s
    s.stop()


class RefusingBus:
    """The outbox's EventBridge client, refusing the entries of chosen record ids (as EventBridge answers
    a failed entry) a number of times, and passing everything else to moto's bus over HTTP."""

    def __init__(self, real: Any, refuse: dict[str, int]) -> None:
        self.real, self.refuse = real, dict(refuse)
        self.refused: list[str] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        taken, answers = [], []
        for entry in Entries:
            rid = json.loads(entry["Detail"])["id"]
            if self.refuse.get(rid, 0) > 0:
                self.refuse[rid] -= 1
                self.refused.append(rid)
                answers.append({"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"})
            else:
                taken.append(entry)
                answers.append(None)
        real = self.real.put_events(Entries=taken)["Entries"] if taken else []
        merged = [a if a is not None else real.pop(0) for a in answers]
        return {"FailedEntryCount": sum("ErrorCode" in a for a in merged), "Entries": merged}


@pytest.fixture
def bus(stack):
    """Install a RefusingBus in the outbox function's container; put the real client back afterwards."""
    from notifier.handlers import outbox

    publisher = outbox.app().outbox.events
    real = publisher._client
    installed: list[RefusingBus] = []

    def install(refuse: dict[str, int]) -> RefusingBus:
        installed.append(RefusingBus(real, refuse))
        publisher._client = installed[-1]
        return installed[-1]

    yield install
    publisher._client = real


def send(stack: LocalStack, *bodies: dict[str, Any]) -> None:
    stack.publish(json.dumps(b, ensure_ascii=False) for b in bodies)
    stack.drain()


def by_event_id(events: list[dict[str, Any]], ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e["detail"]["id"] in ids:
            found.setdefault(e["detail"]["event_id"], []).append(e)
    return found


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_every_outcome_reaches_the_application_once_per_event_id(stack):
    # Given a delivered SMS, a wrong number, a rejected event and an AlimTalk test send
    clock = Clock()
    stack.sandbox.clock = clock
    ok, wrong, bad, tested = uid("ok"), uid("wrong"), uid("bad"), uid("test")
    stack.sandbox.force_outcome("01055550001", call_status="4410")
    send(
        stack,
        {"id": ok, "to": "010-5555-0002", "text": "안녕하세요"},
        {"id": wrong, "to": "010-5555-0001", "text": "안녕하세요"},
        {"id": bad, "to": "1", "text": "안녕하세요"},
        {"id": tested, "channel": "alimtalk", "to": "010-5555-0003", "text": SHIPPED, "test": True,
         "alimtalk": {"template_code": "A1111", "variables": {"name": "홍길동", "order": "1234"}}},
    )  # fmt: skip
    # When the poller reads the reports, and the stream has delivered every write to the outbox
    clock.now += 90
    stack.poll(clock=clock)
    events = by_event_id(stack.events_published(), {ok, wrong, bad, tested})

    # Then each outcome arrived under its stable id with its detail type and the record's status
    expected = {
        f"{ok}:delivered": "Notification Delivered",
        f"{wrong}:failed": "Notification Failed",
        f"{bad}:rejected": "Notification Rejected",
        f"{tested}:tested": "Notification Tested",
    }
    assert {k: v[0]["detail-type"] for k, v in events.items()} == expected
    # And once each (no retry happened here), with the recipient masked and never whole
    assert all(len(v) == 1 for v in events.values())
    detail = events[f"{ok}:delivered"][0]["detail"]
    assert detail["recipient_masked"] == "010****0002" and "01055550002" not in json.dumps(detail)
    assert stack.record(wrong)["status"] == "failed" and stack.record(tested)["status"] == "sent"


def test_a_later_write_to_a_finished_record_publishes_nothing_more(stack):
    # Given a rejected record whose event went out
    rid = uid("again")
    send(stack, {"id": rid, "to": "1", "text": "x"})
    assert f"{rid}:rejected" in by_event_id(stack.events_published(), {rid})
    # When the same body comes again (acknowledged as a duplicate) and an operator touches the record
    send(stack, {"id": rid, "to": "1", "text": "x"})
    stack.aws.client("dynamodb").update_item(
        TableName=stack.env["TABLE_NAME"],
        Key={"id": {"S": rid}},
        UpdateExpression="SET note = :n",
        ExpressionAttributeValues={":n": {"S": "looked at"}},
    )
    # Then no new event: the write did not change its status
    assert by_event_id(stack.new_events(), {rid}) == {}


def test_an_event_the_bus_refuses_is_retried_from_the_stream_and_delivered(stack, bus):
    # Given a bus that refuses the event of one record twice
    rid, other = uid("late"), uid("beside")
    refusing = bus({rid: 2})
    send(stack, {"id": rid, "to": "1", "text": "x"}, {"id": other, "to": "2", "text": "x"})

    # When the stream mapping runs
    outcomes = stack.run_outbox()

    # Then its write was reported failed twice, retried, and its event arrived in the end
    assert refusing.refused == [rid, rid]
    assert sum(len(o.failed) for o in outcomes) >= 2 and not any(o.dead_lettered for o in outcomes)
    events = by_event_id(stack.events_published(), {rid, other})
    assert set(events) == {f"{rid}:rejected", f"{other}:rejected"}
    # And the retries of the shard may repeat a neighbour's event, always under the same id
    assert all(len({json.dumps(e["detail"], sort_keys=True) for e in v}) == 1 for v in events.values())


def test_an_event_the_bus_never_takes_goes_to_the_outbox_dlq_and_the_rest_flows(stack, bus):
    # Given a bus that always refuses one record's event
    poisoned, fine = uid("poison"), uid("fine")
    bus({poisoned: 10_000})
    send(stack, {"id": poisoned, "to": "1", "text": "x"}, {"id": fine, "to": "2", "text": "x"})

    # When the stream mapping runs to the end
    outcomes = stack.run_outbox()

    # Then after MaximumRetryAttempts the write is skipped into the outbox DLQ, described as Lambda does
    attempts = 1 + stack.aws.stream_event_source("OutboxFunction")["maximum_retry_attempts"]
    (dead,) = [o for o in outcomes if o.dead_lettered]
    resp = stack.aws.client("sqs").receive_message(QueueUrl=stack.outbox_dlq_url, MaxNumberOfMessages=10)
    (message,) = resp["Messages"]
    info = json.loads(message["Body"])
    batch = info["DDBStreamBatchInfo"]
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["requestContext"]["approximateInvokeCount"] == attempts
    assert batch["startSequenceNumber"] == dead.dead_lettered[0] and batch["batchSize"] == len(dead.dead_lettered)
    assert (
        batch["streamArn"]
        == stack.aws.client("dynamodb").describe_table(TableName=stack.env["TABLE_NAME"])["Table"]["LatestStreamArn"]
    )
    # And the other record's event was delivered, and the poisoned record itself is intact in the table
    assert set(by_event_id(stack.events_published(), {poisoned, fine})) == {f"{fine}:rejected"}
    assert stack.record(poisoned)["status"] == "rejected"
    stack.aws.client("sqs").delete_message(QueueUrl=stack.outbox_dlq_url, ReceiptHandle=message["ReceiptHandle"])
