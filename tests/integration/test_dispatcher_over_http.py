"""The real dispatcher handler, fed Lambda-shaped SQS events, against moto server (SQS, DynamoDB,
SSM over HTTP) and the provider sandbox over HTTP. What the sandbox accepted is what a phone got."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import threading
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.stack import LocalStack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack():
    logs = io.StringIO()
    s = LocalStack.start(parameters={"MaxReceiveCount": "3"}, log_stream=logs)
    s.logs = logs  # type: ignore[attr-defined]
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def clean_sandbox(stack):
    stack.sandbox.reset()
    yield
    stack.reconfigure(PROVIDER_BASE_URL=stack.sandbox.url, PROVIDER_READ_TIMEOUT="10")


def body(**over: Any) -> str:
    e = {"id": f"it-{uuid.uuid4().hex[:12]}", "to": "010-1234-5678", "text": "[Shop] 발송되었습니다.", **over}
    return json.dumps(e, ensure_ascii=False)


def sqs_event(stack, *bodies: str, receive_count: int = 1) -> dict[str, Any]:
    records = []
    for b in bodies:
        mid = str(uuid.uuid4())
        records.append(
            {
                "messageId": mid,
                "receiptHandle": f"rh-{mid}",
                "body": b,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": "1795000000000",
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": "1795000000001",
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(b.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": stack.source["queue_arn"],
                "awsRegion": stack.aws.region,
            }
        )
    return {"Records": records}


def invoke(stack, event: dict[str, Any]) -> dict[str, Any]:
    return stack.handler(event, stack.context())


def ids(b: str) -> str:
    return json.loads(b)["id"]


# ------------------------------------------------------------------ batches


class Rendezvous:
    """Stands in for the sandbox's latency: holds each request until `n` are in flight together (or
    a few seconds pass), and remembers how many it saw at once. Requests sent one after another
    would each wait it out alone."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.in_flight = 0
        self.most_in_flight = 0
        self.cond = threading.Condition()

    def sleep(self, _seconds: float) -> None:
        with self.cond:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.most_in_flight >= self.n, timeout=5)
            self.in_flight -= 1


def test_a_batch_of_ten_reaches_the_sandbox_as_ten_requests_in_flight_together(stack, monkeypatch):
    # Given a sandbox with a latency on every request, measured by who is in flight at once
    gate = Rendezvous(10)
    stack.sandbox.set_faults(latency_ms=1)
    monkeypatch.setattr(stack.sandbox, "sleep", gate.sleep)
    bodies = [body() for _ in range(10)]
    # When the real handler takes a batch of ten SMS (SEND_CONCURRENCY is 10)
    resp = invoke(stack, sqs_event(stack, *bodies))
    # Then each was sent in a request of its own, all ten in flight together
    assert resp == {"batchItemFailures": []}
    assert stack.sandbox.requests_count().get("sms") == 10
    assert gate.most_in_flight == 10
    # And every record holds the cmid the sandbox gave its own message
    cmids = {m["cmid"]: m["msg_body"] for m in stack.sandbox.messages()}
    assert len(cmids) == 10
    assert all(stack.record(ids(b))["status"] == "sent" and stack.record(ids(b))["cmid"] in cmids for b in bodies)


# ------------------------------------------------------------------ duplicates


def test_same_event_twice_in_one_batch_reaches_the_provider_once(stack):
    # Given one batch holding the same event twice
    b = body()
    # When the real handler processes it
    resp = invoke(stack, sqs_event(stack, b, b))
    # Then both messages are acknowledged and the sandbox accepted exactly one message
    assert resp == {"batchItemFailures": []}
    assert len(stack.sandbox.messages()) == 1
    assert stack.record(ids(b))["status"] == "sent"


def test_same_event_in_two_batches_reaches_the_provider_once(stack):
    b = body()
    invoke(stack, sqs_event(stack, b))
    resp = invoke(stack, sqs_event(stack, b))
    assert resp == {"batchItemFailures": []}
    assert len(stack.sandbox.messages()) == 1


def test_same_id_with_other_content_is_not_sent_and_counts_a_conflicting_duplicate(stack):
    # Given an event was sent
    first = body()
    invoke(stack, sqs_event(stack, first))
    # When a second event with its id but another text goes through the real handler
    second = json.dumps({**json.loads(first), "text": "[Shop] 다른 내용입니다."}, ensure_ascii=False)
    stack.logs.seek(0)
    stack.logs.truncate()
    resp = invoke(stack, sqs_event(stack, second))
    # Then it is acknowledged and never reaches the provider; the record is the first event's
    assert resp == {"batchItemFailures": []}
    assert [m["msg_body"] for m in stack.sandbox.messages()] == ["[Shop] 발송되었습니다."]
    assert stack.record(ids(first))["status"] == "sent"
    # And the handler counted it as a duplicate and as a conflicting one (the metric the alarm watches)
    lines = stack.logs.getvalue().splitlines()
    emf = [json.loads(line) for line in lines if line.startswith('{"_aws"')][-1]
    assert (emf["Duplicate"], emf["ConflictingDuplicate"]) == ([1.0], [1.0])
    # And the log names both fingerprints
    [warning] = [json.loads(line) for line in lines if "different content" in line]
    assert warning["first_fingerprint"] == stack.record(ids(first))["fingerprint"]
    assert warning["this_fingerprint"].startswith("sha256:")
    assert warning["this_fingerprint"] != warning["first_fingerprint"]


def test_same_event_in_concurrent_invocations_reaches_the_provider_once(stack):
    # Given a slow provider and six invocations holding the same event at once
    stack.sandbox.set_faults(latency_ms=200)
    b = body()
    gate = threading.Barrier(6)
    results: list[dict[str, Any]] = []

    def run() -> None:
        event = sqs_event(stack, b)
        gate.wait()
        results.append(invoke(stack, event))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then every invocation acknowledged its message, and only one reached the provider
    assert results == [{"batchItemFailures": []}] * 6
    assert len(stack.sandbox.messages()) == 1


def test_duplicate_through_the_queue_is_sent_once(stack):
    # Given the same event published twice through SQS
    b = body()
    stack.publish([b, b])
    # When the event source mapping drains the queue
    stack.drain(timeout_s=30)
    # Then one message reached the provider and nothing is left in the DLQ
    assert [m["dest_phone"] for m in stack.sandbox.messages()] == ["01012345678"]
    assert stack.record(ids(b))["status"] == "sent"


# ------------------------------------------------------------------ lost replies and refused connections


def test_reply_lost_after_acceptance_is_not_sent_twice_and_ends_unknown(stack):
    # Given a provider that accepts the message but whose reply never arrives in time
    stack.reconfigure(PROVIDER_READ_TIMEOUT="0.5")
    stack.sandbox.set_faults(timeout_rate=1.0, timeout_s=2)
    b = body()
    # When it is dispatched through the queue (and redelivered if it were retried)
    stack.publish([b])
    stack.drain(timeout_s=30)
    # Then the sandbox holds exactly one accepted message and the record is unknown, saying why
    assert len(stack.sandbox.messages()) == 1
    rec = stack.record(ids(b))
    assert rec["status"] == "unknown" and rec["provider_code"] == "timeout"
    assert rec["reason"] == "the provider did not answer in time after the request was sent"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_retried_then_sent_once(stack):
    # Given the provider's address refuses connections
    stack.reconfigure(PROVIDER_BASE_URL=f"http://127.0.0.1:{_closed_port()}")
    b = body()
    first = invoke(stack, sqs_event(stack, b))
    # Then the message is reported as a failure for SQS to redeliver, and nothing was sent
    assert len(first["batchItemFailures"]) == 1
    assert stack.record(ids(b))["status"] == "sending"
    assert "could not connect" in stack.record(ids(b))["last_error"]
    # When the provider is back and SQS redelivers
    stack.reconfigure(PROVIDER_BASE_URL=stack.sandbox.url)
    second = invoke(stack, sqs_event(stack, b, receive_count=2))
    # Then it is sent, once
    assert second == {"batchItemFailures": []}
    assert len(stack.sandbox.messages()) == 1
    assert stack.record(ids(b))["status"] == "sent" and stack.record(ids(b))["attempts"] == 2


# ------------------------------------------------------------------ provider refusals


def test_provider_parameter_error_is_rejected_and_not_retried(stack):
    # Given a provider that answers 300 (parameter error)
    stack.sandbox.set_faults(result_codes={"300": 1.0})
    b = body()
    resp = invoke(stack, sqs_event(stack, b))
    # Then the message is acknowledged, recorded rejected with the code's meaning, never retried
    assert resp == {"batchItemFailures": []}
    rec = stack.record(ids(b))
    assert rec["status"] == "rejected" and rec["provider_code"] == "300"
    assert rec["reason"].startswith("Parameter Error: the request parameters were refused")
    assert stack.sandbox.requests_count().get("sms") == 1


def test_empty_balance_is_retried_and_dead_lettered_after_max_receive_count(stack):
    # Given the prepaid balance is empty (600)
    stack.sandbox.set_balance(0)
    b = body()
    stack.publish([b])
    # When the queue is drained (MaxReceiveCount=3 in this stack)
    stack.drain(timeout_s=60)
    # Then it was tried three times, nothing was sent, it sits in the DLQ and the record says why
    assert stack.sandbox.requests_count().get("sms") == 3
    assert stack.sandbox.messages() == []
    assert ids(stack.dlq_bodies()[0]) == ids(b)
    rec = stack.record(ids(b))
    assert rec["status"] == "failed" and rec["dead_lettered"] is True and rec["provider_code"] == "600"
    assert "선불제 충전요금 부족" in rec["reason"] and "gave up after 3 deliveries" in rec["reason"]
    # The provider's 600 message lists the unsent numbers; the stored (and published) reason masks them
    assert "01012345678" not in rec["reason"] and "010****5678" in rec["reason"]
    stack.sandbox.set_balance(1_000_000)


def test_unregistered_sender_is_rejected_with_the_spec_meaning(stack):
    b = body(**{"from": "0311234567"})
    invoke(stack, sqs_event(stack, b))
    rec = stack.record(ids(b))
    assert rec["status"] == "rejected" and rec["provider_code"] == "500"
    assert "발신번호 사전 등록제에 의한 미등록 차단" in rec["reason"]


def test_mms_with_an_s3_jpg_reaches_the_sandbox_as_a_multipart_file(stack):
    b = body(channel="mms", subject="쿠폰", attachments=[{"s3": "s3://kr-notifier-dev-attachments/samples/coupon.jpg"}])
    invoke(stack, sqs_event(stack, b))
    [m] = stack.sandbox.messages()
    assert m["kind"] == "mms" and m["subject"] == "쿠폰"
    assert [f["name"] for f in m["files"]] == ["coupon.jpg"]


# ------------------------------------------------------------------ bad input, fuzzed


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=8,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=20) | st.integers(),
        "to": st.sampled_from(["010-1234-5678", "01012345678", "0212345678", "12", ""]) | st.text(max_size=12),
        "text": st.text(max_size=60) | st.sampled_from(["가" * 45, "똠", "😀", "ok"]),
        "channel": st.sampled_from(["sms", "lms", "mms", "auto", "alimtalk", "fax"]),
        "subject": st.text(max_size=40),
        "send_at": st.sampled_from(["2020-01-01T00:00:00+09:00", "2030-01-01T00:00:00Z", "tomorrow", "2030-01-01"]),
        "metadata": JSONISH,
        "extra": JSONISH,
    },
)
BODIES = st.one_of(FIELDS.map(lambda d: json.dumps(d, ensure_ascii=False)), st.text(max_size=40))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(BODIES, min_size=1, max_size=4))
def test_random_bodies_are_sent_rejected_or_retried_and_the_handler_never_raises(stack, bodies):
    # Given any batch of bodies, When the handler takes it (it must not raise)
    event = sqs_event(stack, *bodies)
    resp = invoke(stack, event)
    failed = {f["itemIdentifier"] for f in resp["batchItemFailures"]}
    # Then every message is accounted for: a failure to retry, or a record that is sent or rejected with a reason
    for rec_in, b in zip(event["Records"], bodies, strict=True):
        if rec_in["messageId"] in failed:
            continue
        try:
            key = json.loads(b).get("id")
        except (ValueError, AttributeError):
            key = None
        rec = stack.record(key) if isinstance(key, str) and key else None
        if rec is None or rec.get("sqs_message_id") not in (rec_in["messageId"], None):
            rec = stack.record(rec_in["messageId"]) or rec
        assert rec is not None, b
        assert rec["status"] in {"sent", "rejected", "sending", "unknown", "failed"}
        if rec["status"] == "rejected":
            assert rec["reason"]


def test_the_api_key_never_appears_in_the_handler_logs(stack):
    # Given everything above has run through this stack's handler, including failures
    invoke(stack, sqs_event(stack, body(), "not json"))
    logs = stack.logs.getvalue()
    # Then the logs exist, mask numbers, and never contain the key
    assert '"message":"sent"' in logs
    assert stack.api_key not in logs
    assert "01012345678" not in logs and "010****5678" in logs


class ShortContext:
    """A Lambda context with little time left, as at the end of a long batch."""

    def __init__(self, real, remaining_ms: int) -> None:
        self._real, self._remaining = real, remaining_ms

    def __getattr__(self, name):
        return getattr(self._real, name)

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining


def test_a_message_is_not_claimed_when_the_invocation_lacks_time_for_a_provider_call(stack):
    # Given an invocation with 5 s left while a provider call may take 3 s to connect and 10 s to answer
    b = body()
    event = sqs_event(stack, b)
    # When the handler takes the message
    resp = stack.handler(event, ShortContext(stack.context(), 5_000))
    # Then it is handed back to SQS untouched: no record, no send, redelivered later
    assert resp == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert stack.record(ids(b)) is None and stack.sandbox.messages() == []


def test_rejected_events_with_unstorable_metadata_are_written_and_readable_in_dynamodb(stack):
    # Given invalid events whose metadata moto (or DynamoDB) could not hold as a map
    bodies = [
        json.dumps({"id": f"meta-{uuid.uuid4().hex[:6]}", "metadata": {"": 1}}),
        '{"id": "meta-inf-' + uuid.uuid4().hex[:6] + '", "metadata": {"n": Infinity}}',
    ]
    # When the real handler takes them
    resp = invoke(stack, sqs_event(stack, *bodies))
    # Then both are acknowledged, and their records are written and read back over HTTP
    assert resp == {"batchItemFailures": []}
    for b in bodies:
        rec = stack.record(json.loads(b)["id"])
        assert rec["status"] == "rejected" and rec["metadata_raw"]
