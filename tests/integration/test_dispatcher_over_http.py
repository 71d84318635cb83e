"""The real dispatcher handler, fed Lambda-shaped SQS events, against moto server (SQS, DynamoDB,
SSM over HTTP) and the provider sandbox over HTTP. What the sandbox accepted is what a phone got.

Every test runs once per provider (API Store, SOLAPI: a module-scoped stack each): the guarantees
are the product's, not one provider's. Where a provider's wire differs, tests/integration/providers.py
says how (its codes, its sandbox's inspection view, its send requests)."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import threading
import time
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.stack import ISSUED_KEYS, LocalStack
from tests.integration.providers import PROVIDERS, Provider

pytestmark = pytest.mark.integration

SHIPPED = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."  # seed template A1111


def start_stack(provider: Provider) -> LocalStack:
    logs = io.StringIO()
    s = LocalStack.start(parameters={"MaxReceiveCount": "3", **provider.parameters}, log_stream=logs)
    s.logs = logs  # type: ignore[attr-defined]
    s.provider = provider  # type: ignore[attr-defined]
    return s


@pytest.fixture(scope="module", params=PROVIDERS, ids=str)
def stack(request):
    s = start_stack(request.param)
    yield s
    s.stop()


@pytest.fixture
def provider(stack) -> Provider:
    return stack.provider


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


def invoke_at_once(stack, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each event in an invocation of its own, all released at the same moment; their responses."""
    gate = threading.Barrier(len(events))
    results: list[dict[str, Any]] = []

    def run(event: dict[str, Any]) -> None:
        gate.wait()
        results.append(invoke(stack, event))

    threads = [threading.Thread(target=run, args=(e,)) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


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


def test_a_batch_of_ten_takes_as_few_provider_round_trips_as_the_api_allows(stack, provider, monkeypatch):
    # Given a sandbox with a latency on every request, measured by who is in flight at once
    requests = provider.requests_per_batch(10)
    gate = Rendezvous(requests)
    stack.sandbox.set_faults(latency_ms=1)
    monkeypatch.setattr(stack.sandbox, "sleep", gate.sleep)
    bodies = [body() for _ in range(10)]
    # When the real handler takes a batch of ten SMS (SEND_CONCURRENCY is 10)
    resp = invoke(stack, sqs_event(stack, *bodies))
    # Then API Store got ten requests, all in flight together, and SOLAPI one send-many request of ten
    assert resp == {"batchItemFailures": []}
    assert provider.send_requests(stack.sandbox) == requests
    assert gate.most_in_flight == requests
    assert len(provider.accepted(stack.sandbox)) == 10
    # And every record holds the message id the sandbox gave its own message
    assert len({stack.record(ids(b))["provider_message_id"] for b in bodies}) == 10
    assert all(stack.record(ids(b))["status"] == "sent" for b in bodies)


# ------------------------------------------------------------------ duplicates


def test_same_event_twice_in_one_batch_reaches_the_provider_once(stack, provider):
    # Given one batch holding the same event twice
    b = body()
    # When the real handler processes it
    resp = invoke(stack, sqs_event(stack, b, b))
    # Then both messages are acknowledged and the sandbox accepted exactly one message
    assert resp == {"batchItemFailures": []}
    assert len(provider.accepted(stack.sandbox)) == 1
    assert stack.record(ids(b))["status"] == "sent"


def test_same_event_in_two_batches_reaches_the_provider_once(stack, provider):
    b = body()
    invoke(stack, sqs_event(stack, b))
    resp = invoke(stack, sqs_event(stack, b))
    assert resp == {"batchItemFailures": []}
    assert len(provider.accepted(stack.sandbox)) == 1


def test_same_id_with_other_content_is_not_sent_and_counts_a_conflicting_duplicate(stack, provider):
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
    assert [m.text for m in provider.accepted(stack.sandbox)] == ["[Shop] 발송되었습니다."]
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


def test_same_event_in_concurrent_invocations_reaches_the_provider_once(stack, provider):
    # Given a slow provider and six invocations holding the same event at once
    stack.sandbox.set_faults(latency_ms=200)
    b = body()
    results = invoke_at_once(stack, [sqs_event(stack, b) for _ in range(6)])
    # Then every invocation acknowledged its message, and only one reached the provider
    assert results == [{"batchItemFailures": []}] * 6
    assert len(provider.accepted(stack.sandbox)) == 1
    assert provider.send_requests(stack.sandbox) == 1


def test_duplicate_through_the_queue_is_sent_once(stack, provider):
    # Given the same event published twice through SQS
    b = body()
    stack.publish([b, b])
    # When the event source mapping drains the queue
    stack.drain(timeout_s=30)
    # Then one message reached the provider and nothing is left in the DLQ
    assert [m.to for m in provider.accepted(stack.sandbox)] == ["01012345678"]
    assert stack.record(ids(b))["status"] == "sent"
    assert stack.dlq_bodies() == []


# ------------------------------------------------------------------ lost replies and refused connections


def test_reply_lost_after_acceptance_is_not_sent_twice_and_ends_unknown(stack, provider):
    # Given a provider that accepts the message but whose reply never arrives in time
    stack.reconfigure(PROVIDER_READ_TIMEOUT="0.5")
    stack.sandbox.set_faults(timeout_rate=1.0, timeout_s=2)
    bodies = [body(), body(to="010-1234-5679")]
    # When two events are dispatched through the queue in one batch (and redelivered if they were retried;
    # SOLAPI takes both in one request, API Store one request each)
    stack.publish(bodies)
    stack.drain(timeout_s=30)
    # Then the sandbox holds exactly one accepted message per event and both records are unknown, saying why
    assert sorted(m.to for m in provider.accepted(stack.sandbox)) == ["01012345678", "01012345679"]
    assert stack.dlq_bodies() == []
    for b in bodies:
        rec = stack.record(ids(b))
        assert rec["status"] == "unknown" and rec["provider_code"] == "timeout"
        assert rec["reason"] == "the provider did not answer in time after the request was sent"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_retried_then_sent_once(stack, provider):
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
    assert len(provider.accepted(stack.sandbox)) == 1
    assert stack.record(ids(b))["status"] == "sent" and stack.record(ids(b))["attempts"] == 2


# ------------------------------------------------------------------ a crash between the provider's OK and the record


class CrashAfterSend:
    """The records table as the dispatcher sees it, except that the container dies (the write raises)
    at the one line between the provider's OK and the write of `sent`."""

    def __init__(self, real) -> None:
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def apply(self, record_id, change) -> bool:
        if change.set.get("status") == "sent":
            raise RuntimeError("container frozen after the provider's OK")
        return self._real.apply(record_id, change)


def test_crash_after_the_provider_accepted_ends_unknown_after_the_lease_and_is_never_sent_again(stack, provider):
    from notifier.handlers import dispatcher

    # Given a container that dies right after the provider accepted the message
    d = dispatcher.app().dispatcher
    real = d.records
    d.records = CrashAfterSend(real)
    b = body()
    try:
        first = invoke(stack, sqs_event(stack, b))
    finally:
        d.records = real
    assert len(first["batchItemFailures"]) == 1
    assert stack.record(ids(b))["status"] == "sending"
    # When SQS redelivers to a new container before the lease (the Lambda's deadline) is over
    stack.reconfigure()
    early = invoke(stack, sqs_event(stack, b, receive_count=2))
    # Then it is only a duplicate: nothing is sent while the first owner may still be running
    assert early == {"batchItemFailures": []}
    assert stack.record(ids(b))["status"] == "sending"
    # When it is redelivered again after the lease
    dispatcher.app().dispatcher.clock = lambda: time.time() + 2 * stack.source["function_timeout_s"]
    late = invoke(stack, sqs_event(stack, b, receive_count=3))
    # Then the record is unknown, saying why, and the provider saw one send only
    assert late == {"batchItemFailures": []}
    rec = stack.record(ids(b))
    assert rec["status"] == "unknown" and "not sent again" in rec["reason"]
    assert len(provider.accepted(stack.sandbox)) == 1 and provider.send_requests(stack.sandbox) == 1


# ------------------------------------------------------------------ provider refusals


def test_provider_parameter_error_is_rejected_and_not_retried(stack, provider):
    # Given a provider that refuses the request's parameters (API Store 300, SOLAPI ValidationError)
    stack.sandbox.set_faults(result_codes={provider.parameter_fault: 1.0})
    b = body()
    resp = invoke(stack, sqs_event(stack, b))
    # Then the message is acknowledged, recorded rejected with the code's meaning, never retried
    assert resp == {"batchItemFailures": []}
    rec = stack.record(ids(b))
    assert rec["status"] == "rejected" and rec["provider_code"] == provider.parameter_error.code
    assert rec["reason"].startswith(provider.parameter_error.reason)
    assert provider.send_requests(stack.sandbox) == 1


def test_empty_balance_is_retried_and_dead_lettered_after_max_receive_count(stack, provider):
    # Given the prepaid balance is empty (API Store 600, SOLAPI 1030)
    provider.empty_balance(stack.sandbox)
    b = body()
    stack.publish([b])
    # When the queue is drained (MaxReceiveCount=3 in this stack)
    stack.drain(timeout_s=60)
    # Then it was tried three times, nothing was sent, it sits in the DLQ and the record says why
    assert provider.send_requests(stack.sandbox) == 3
    assert provider.accepted(stack.sandbox) == []
    assert [ids(d) for d in stack.dlq_bodies()] == [ids(b)]
    rec = stack.record(ids(b))
    assert rec["status"] == "failed" and rec["dead_lettered"] is True
    assert rec["provider_code"] == provider.balance.code
    assert provider.balance.reason in rec["reason"] and "gave up after 3 deliveries" in rec["reason"]
    # API Store's 600 message lists the unsent numbers; no stored (and published) reason holds a whole one
    assert "01012345678" not in rec["reason"]


def test_unregistered_sender_is_rejected_with_the_spec_meaning(stack, provider):
    b = body(**{"from": "0311234567"})
    invoke(stack, sqs_event(stack, b))
    rec = stack.record(ids(b))
    assert rec["status"] == "rejected" and rec["provider_code"] == provider.unregistered_sender.code
    assert provider.unregistered_sender.reason in rec["reason"]
    assert provider.accepted(stack.sandbox) == []


def test_mms_with_an_s3_jpg_reaches_the_sandbox_with_its_image(stack, provider):
    b = body(channel="mms", subject="쿠폰", attachments=[{"s3": "s3://kr-notifier-dev-attachments/samples/coupon.jpg"}])
    invoke(stack, sqs_event(stack, b))
    [m] = provider.accepted(stack.sandbox)
    assert (m.kind, m.subject, m.images) == ("mms", "쿠폰", 1)
    if provider.name == "apistore":  # API Store takes the file itself (multipart), named
        [raw] = stack.sandbox.messages()
        assert [f["name"] for f in raw["files"]] == ["coupon.jpg"]


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
    assert not [k for k in ISSUED_KEYS if k in logs]
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
    assert stack.sandbox.requests_count() == {}


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


# ------------------------------------------------------------------ AlimTalk refused by the provider


def alimtalk_body() -> str:
    a = {"template_code": "A1111", "variables": {"name": "홍길동", "order": "1234"}}
    return body(channel="alimtalk", text=SHIPPED, alimtalk=a)


def test_alimtalk_refused_by_the_provider_is_sent_as_sms_by_the_app_once_under_redelivery(stack, provider):
    # Given the product's template cache says A1111 is approved, but the provider has since stopped
    # approving it (반려): the provider refuses the AlimTalk at send time
    invoke(stack, sqs_event(stack, alimtalk_body()))
    [approved] = [t for t in stack.sandbox.templates() if t["template_code"] == "A1111"]
    stack.sandbox.reset()
    stack.sandbox.add_template({**approved, "status": "반려"})
    b = alimtalk_body()
    try:
        # When it is dispatched, and redelivered twice at once afterwards
        first = invoke(stack, sqs_event(stack, b))
        results = invoke_at_once(stack, [sqs_event(stack, b, receive_count=2) for _ in range(2)])
    finally:
        stack.sandbox.add_template(approved)
    # Then the provider saw one AlimTalk attempt and one SMS, and only the SMS reached the phone
    assert first == {"batchItemFailures": []} and results == [{"batchItemFailures": []}] * 2
    assert provider.send_requests(stack.sandbox) == 2
    assert [(m.kind, m.text) for m in provider.accepted(stack.sandbox)] == [("sms", SHIPPED)]
    rec = stack.record(ids(b))
    assert (rec["status"], rec["fallback"], rec["channel_used"]) == ("sent", "app", "sms")
    assert rec["alimtalk_code"] == provider.alimtalk_refused.code
    assert provider.alimtalk_refused.reason in rec["alimtalk_reason"]
