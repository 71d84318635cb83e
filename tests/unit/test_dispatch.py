"""The dispatcher's guarantees, with the ports faked: at most one send per id, nothing lost,
bad input recorded and never retried."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from notifier.ports import AttachmentError, SendResult
from notifier.usecases.dispatch import Dispatcher, Inbound, Settings
from tests.fakes import Clock, InMemoryRecords, ScriptedProvider, accepted, published

SENDER = "0212345678"


def make(provider=None, *, records=None, clock=None, attachments=None, bucket="", max_receive=3):
    records = records or InMemoryRecords()
    provider = provider or ScriptedProvider(accepted())
    clock = clock or Clock()
    d = Dispatcher(
        records=records,
        provider=provider,
        settings=Settings(
            default_sender=SENDER, provider="apistore", max_receive_count=max_receive, attachment_bucket=bucket
        ),
        attachments=attachments,
        clock=clock,
    )
    return d, records, provider, clock


def msg(body: Any, *, message_id="m-1", receive_count=1, clock: Clock | None = None, lease_s=30.0) -> Inbound:
    raw = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    now = clock.now if clock else Clock().now
    return Inbound(message_id=message_id, body=raw, receive_count=receive_count, lease_until=now + lease_s)


def event(**over: Any) -> dict[str, Any]:
    return {"id": "order-1-shipped", "to": "010-1234-5678", "text": "[Shop] 발송되었습니다.", **over}


# ------------------------------------------------------------------ the happy path


def test_valid_sms_is_sent_once_and_recorded_sent_with_its_string_cmid():
    # Given a dispatcher whose provider accepts
    d, records, provider, clock = make(ScriptedProvider(accepted("00001234567890123456")))
    # When one valid event arrives
    out = d.handle(msg(event(), clock=clock))
    # Then it is sent as SMS to the normalised number and recorded sent, waiting for its report
    assert (out.action, out.kind, out.status) == ("ack", "sent", "sent")
    assert [(m.kind, m.dest_phone, m.send_phone) for m in provider.sent] == [("sms", "01012345678", SENDER)]
    rec = records.get("order-1-shipped")
    assert rec["status"] == "sent" and rec["cmid"] == "00001234567890123456"
    assert rec["channel_requested"] == "auto" and rec["channel_used"] == "sms"
    assert rec["attempts"] == 1 and "claim_token" not in rec and "lease_until" not in rec
    assert rec["next_poll_at"] == int(clock.now) + 60 and rec["poll_shard"] in {"0", "1", "2", "3"}
    assert rec["expires_at"] == int(clock.now) + 90 * 86400


def test_sms_over_90_bytes_is_sent_as_lms_and_the_record_says_so():
    # Given an event asking for SMS with a 100-byte text
    d, records, provider, clock = make()
    # When it is dispatched
    d.handle(msg(event(channel="sms", text="가" * 50, subject="안내"), clock=clock))
    # Then the provider got an LMS (the spec's automatic conversion) and the record explains it
    assert provider.sent[0].kind == "lms" and provider.sent[0].subject == "안내"
    rec = records.get("order-1-shipped")
    assert rec["channel_used"] == "lms"
    assert rec["conversion"] == "sms->lms: text is 100 bytes in EUC-KR, SMS takes under 90"


def test_scheduled_event_passes_kst_send_time_and_is_not_polled_before_it():
    # Given an event for 2026-12-01 09:00 KST while now is earlier
    d, records, provider, clock = make()
    # When it is dispatched
    d.handle(msg(event(send_at="2026-12-01T00:00:00Z"), clock=clock))
    # Then the provider is asked to send at that KST time and the first poll comes after it
    assert provider.sent[0].send_time == "20261201090000"
    rec = records.get("order-1-shipped")
    assert rec["scheduled_for"] == "20261201090000"
    assert rec["next_poll_at"] == 1_796_083_200 + 60


# ------------------------------------------------------------------ duplicates


def test_same_event_in_two_batches_is_sent_once_and_the_second_is_a_duplicate():
    d, records, provider, clock = make()
    # Given the event was already sent
    d.handle(msg(event(), message_id="m-1", clock=clock))
    # When the same id arrives again in another message
    out = d.handle(msg(event(), message_id="m-2", clock=clock))
    # Then nothing more is sent and the duplicate is acknowledged
    assert (out.action, out.kind, out.status) == ("ack", "duplicate", "sent")
    assert len(provider.sent) == 1


def test_concurrent_duplicates_send_exactly_once():
    # Given a slow provider and 8 threads holding the same event
    gate = threading.Barrier(8, timeout=5)
    d, records, provider, clock = make(ScriptedProvider(accepted()))
    outcomes = []

    def run(i: int) -> None:
        gate.wait()
        outcomes.append(d.handle(msg(event(), message_id=f"m-{i}", clock=clock)))

    # When they dispatch at the same moment
    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then one sent, seven duplicates, one provider call
    assert sorted(o.kind for o in outcomes) == ["duplicate"] * 7 + ["sent"]
    assert len(provider.sent) == 1


def test_duplicate_arriving_while_the_first_is_in_flight_is_acknowledged_without_sending():
    # Given a record claimed by another, still-running delivery (lease in the future)
    d, records, provider, clock = make()
    records.create({"id": "order-1-shipped", "status": "sending", "claim_token": "t", "lease_until": clock.now + 20,
                    "sqs_message_id": "m-other"})  # fmt: skip
    # When a different SQS message with the same id arrives
    out = d.handle(msg(event(), message_id="m-2", clock=clock))
    # Then it is acknowledged as a duplicate; the owner's message carries the work
    assert (out.action, out.kind) == ("ack", "duplicate")
    assert provider.sent == []


def test_redelivery_of_the_same_message_while_its_lease_holds_comes_back_later():
    d, records, provider, clock = make()
    records.create({"id": "order-1-shipped", "status": "sending", "claim_token": "t", "lease_until": clock.now + 20,
                    "sqs_message_id": "m-1"})  # fmt: skip
    # When the same SQS message is seen again before the lease ends
    out = d.handle(msg(event(), message_id="m-1", receive_count=2, clock=clock))
    # Then it is retried later, not sent and not dropped
    assert (out.action, out.kind) == ("retry", "retried")
    assert provider.sent == []


# ------------------------------------------------------------------ crash and lost replies


class CrashAfterSend(InMemoryRecords):
    """The process dies between the provider's OK and the write of `sent`."""

    def apply(self, record_id, change) -> bool:
        if change.set.get("status") == "sent":
            raise RuntimeError("container frozen")
        return super().apply(record_id, change)


def test_crash_after_the_provider_call_ends_unknown_and_never_sends_twice():
    records = CrashAfterSend()
    d, _, provider, clock = make(records=records)
    # Given a dispatcher that dies right after the provider accepted
    with pytest.raises(RuntimeError):
        d.handle(msg(event(), clock=clock))
    # When SQS redelivers after the lease (the Lambda's deadline) has passed
    clock.advance(31)
    out = d.handle(msg(event(), receive_count=2, clock=clock))
    # Then the record becomes unknown, with the reason, and the provider saw one send only
    assert (out.action, out.kind, out.status) == ("ack", "unknown", "unknown")
    rec = records.get("order-1-shipped")
    assert rec["status"] == "unknown" and "not sent again" in rec["reason"]
    assert len(provider.sent) == 1


def test_reply_lost_after_acceptance_is_unknown_and_a_redelivery_sends_nothing():
    # Given a provider whose reply never arrives (read time-out: it may have the message)
    lost = SendResult("unknown", "timeout", "the provider did not answer in time after the request was sent")
    d, records, provider, clock = make(ScriptedProvider(lost))
    # When the event is dispatched and then redelivered
    first = d.handle(msg(event(), clock=clock))
    again = d.handle(msg(event(), receive_count=2, clock=clock))
    # Then it ends unknown at once and the redelivery is only a duplicate
    assert (first.kind, first.status) == ("unknown", "unknown")
    assert (again.kind, again.status) == ("duplicate", "unknown")
    assert records.get("order-1-shipped")["provider_code"] == "timeout"
    assert len(provider.sent) == 1


# ------------------------------------------------------------------ retries


def test_connection_refused_is_retried_and_then_sent_once():
    refused = SendResult("retry", "connect", "could not connect to the provider (NewConnectionError)")
    d, records, provider, clock = make(ScriptedProvider(refused, accepted()))
    # Given the provider refused the first connection
    first = d.handle(msg(event(), clock=clock))
    rec = records.get("order-1-shipped")
    # Then the message goes back to the queue with the claim released and the error kept
    assert (first.action, first.kind, rec["status"]) == ("retry", "retried", "sending")
    assert "claim_token" not in rec and rec["last_error"].startswith("could not connect")
    # When SQS redelivers it
    second = d.handle(msg(event(), receive_count=2, clock=clock))
    # Then it is sent, and the record counts two attempts
    assert (second.action, second.kind) == ("ack", "sent")
    assert records.get("order-1-shipped")["attempts"] == 2
    assert records.get("order-1-shipped")["status"] == "sent"


def test_retryable_failure_on_the_last_receive_is_recorded_failed_and_left_for_the_dlq():
    broke = SendResult("retry", "600", "prepaid balance insufficient: 선불제 충전요금 부족")
    d, records, provider, clock = make(ScriptedProvider(broke), max_receive=3)
    # When every delivery meets an empty balance
    outs = [d.handle(msg(event(), receive_count=n, clock=clock)) for n in (1, 2, 3)]
    # Then the first two are retried and the third fails it, still reporting a failure so SQS dead-letters it
    assert [o.kind for o in outs] == ["retried", "retried", "failed"]
    assert all(o.action == "retry" for o in outs)
    rec = records.get("order-1-shipped")
    assert rec["status"] == "failed" and rec["dead_lettered"] is True
    assert rec["reason"].startswith("prepaid balance insufficient") and "dead-letter queue" in rec["reason"]


def test_a_dead_lettered_message_redriven_by_an_operator_is_sent():
    broke = SendResult("retry", "600", "balance")
    d, records, provider, clock = make(ScriptedProvider(broke, accepted()), max_receive=1)
    d.handle(msg(event(), clock=clock))
    assert records.get("order-1-shipped")["status"] == "failed"
    # When the operator moves it back from the DLQ (a new SQS message id, receive count 1)
    out = d.handle(msg(event(), message_id="m-redriven", clock=clock))
    # Then it is claimed again and sent
    assert (out.kind, records.get("order-1-shipped")["status"]) == ("sent", "sent")
    assert "dead_lettered" not in records.get("order-1-shipped")


def test_provider_parameter_error_is_rejected_and_not_retried():
    refused = SendResult("rejected", "300", "parameter error (provider said: msg_body)")
    d, records, provider, clock = make(ScriptedProvider(refused))
    out = d.handle(msg(event(), clock=clock))
    assert (out.action, out.kind, out.status) == ("ack", "rejected", "rejected")
    assert records.get("order-1-shipped")["reason"] == "parameter error (provider said: msg_body)"
    assert records.get("order-1-shipped")["provider_code"] == "300"


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json {", "body: not valid JSON (Expecting value: line 1 column 1 (char 0))"),
        ("[1, 2]", "body: must be a JSON object, got list"),
        ('{"to": "01012345678", "text": "x"}', "id: required (the producer's idempotency key, 1-128 characters)"),
        ('{"id": 7, "to": "01012345678", "text": "x"}',
         "id: must be a string of 1-128 printable characters with no leading or trailing spaces"),
    ],
)  # fmt: skip
def test_body_without_a_usable_id_is_rejected_under_the_sqs_message_id(body, reason):
    d, records, provider, clock = make()
    # When such a body arrives, twice
    first = d.handle(msg(body, message_id="sqs-abc", clock=clock))
    second = d.handle(msg(body, message_id="sqs-abc", receive_count=2, clock=clock))
    # Then it is recorded rejected under the message id, acknowledged, and never sent
    assert (first.action, first.kind) == ("ack", "rejected")
    assert (second.action, second.kind) == ("ack", "duplicate")
    rec = records.get("sqs-abc")
    assert rec["status"] == "rejected" and rec["reason"] == reason and rec["id_source"] == "sqs_message_id"
    assert rec["raw_body"] == body
    assert provider.sent == []


def test_invalid_event_is_rejected_under_its_id_with_every_reason():
    d, records, provider, clock = make()
    out = d.handle(msg(event(to="12345", chanel="sms", metadata={"tenant": "shop"}), clock=clock))
    assert (out.action, out.kind) == ("ack", "rejected")
    rec = records.get("order-1-shipped")
    assert rec["reason"] == (
        "to: not a Korean phone number (5 digits): expected a mobile number (010 + 8 digits, or 011/016-019 + "
        "7-8 digits) or a landline with its area code; chanel: unknown field (a typo? unknown fields are rejected)"
    )
    assert rec["metadata"] == {"tenant": "shop"}
    assert provider.sent == []


# ------------------------------------------------------------------ MMS attachments

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100 + b"\xff\xd9"


class Bucket:
    def __init__(self, objects: dict[str, bytes], error: AttachmentError | None = None) -> None:
        self.objects = objects
        self.error = error

    def fetch(self, bucket: str, key: str, max_bytes: int) -> bytes:
        if self.error:
            raise self.error
        if key not in self.objects:
            raise AttachmentError(f"attachment s3://{bucket}/{key} not found", retryable=False)
        return self.objects[key][: max_bytes + 1]


def mms(*keys: str) -> dict[str, Any]:
    return event(channel="mms", subject="사진", attachments=[{"s3": f"s3://media/{k}"} for k in keys])


def test_mms_sends_its_jpgs_as_files():
    d, records, provider, clock = make(attachments=Bucket({"a.jpg": JPEG, "b.jpg": JPEG}), bucket="media")
    out = d.handle(msg(mms("a.jpg", "b.jpg"), clock=clock))
    assert out.kind == "sent"
    assert [(f.name, f.content) for f in provider.sent[0].files] == [("a.jpg", JPEG), ("b.jpg", JPEG)]


@pytest.mark.parametrize(
    ("objects", "keys", "reason"),
    [
        ({"a.jpg": b"GIF89a"}, ["a.jpg"], "attachments[0] (s3://media/a.jpg): not a JPEG image (MMS takes JPG only)"),
        ({"a.jpg": JPEG + b"\x00" * 20480}, ["a.jpg"],
         "attachments[0] (s3://media/a.jpg): larger than 20 KB (the MMS limit per JPG)"),
        ({k: JPEG[:4] + b"\x00" * 15000 for k in ("a.jpg", "b.jpg", "c.jpg")}, ["a.jpg", "b.jpg", "c.jpg"],
         "attachments: 45012 bytes in all; MMS images must total at most 40 KB"),
        ({}, ["gone.jpg"], "attachment s3://media/gone.jpg not found"),
    ],
)  # fmt: skip
def test_mms_attachment_breaking_a_limit_is_rejected_before_any_send(objects, keys, reason):
    d, records, provider, clock = make(attachments=Bucket(objects), bucket="media")
    out = d.handle(msg(mms(*keys), clock=clock))
    assert (out.action, out.kind) == ("ack", "rejected")
    assert records.get("order-1-shipped")["reason"] == reason
    assert provider.sent == []


def test_mms_attachment_that_cannot_be_read_for_now_is_retried():
    flaky = Bucket({}, AttachmentError("attachment s3://media/a.jpg could not be read (SlowDown)", retryable=True))
    d, records, provider, clock = make(attachments=flaky, bucket="media")
    out = d.handle(msg(mms("a.jpg"), clock=clock))
    assert (out.action, out.kind) == ("retry", "retried")
    assert provider.sent == []


def test_mms_from_a_bucket_other_than_the_configured_one_is_rejected():
    d, records, provider, clock = make(attachments=Bucket({}), bucket="media")
    d.handle(msg(event(channel="mms", attachments=[{"s3": "s3://elsewhere/a.jpg"}]), clock=clock))
    assert records.get("order-1-shipped")["reason"] == (
        "attachments[0].s3: bucket 'elsewhere' is not the configured attachment bucket 'media'"
    )


# ------------------------------------------------------------------ telling the application


def test_each_terminal_transition_at_dispatch_publishes_one_event_and_a_send_publishes_none():
    lost = SendResult("unknown", "timeout", "lost")
    d, records, provider, clock = make(ScriptedProvider(accepted(), lost))
    # Given one accepted send, one rejected event, one lost reply, and a duplicate of the rejection
    d.handle(msg(event(id="ok"), clock=clock))
    d.handle(msg(event(id="bad", to="1"), clock=clock))
    d.handle(msg(event(id="bad", to="1"), message_id="m-2", clock=clock))
    d.handle(msg(event(id="lost"), clock=clock))
    # Then the outbox (the table's stream) publishes one event per terminal transition, with the reason
    events = published(records)
    assert [(e["id"], e["status"]) for e in events] == [("bad", "rejected"), ("lost", "unknown")]
    assert events[0]["reason"].startswith("to: ")


def test_concurrent_duplicate_rejections_publish_a_single_event():
    d, records, provider, clock = make()
    gate = threading.Barrier(6, timeout=5)

    def run(i: int) -> None:
        gate.wait()
        d.handle(msg(event(to="12"), message_id=f"m-{i}", clock=clock))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(published(records)) == 1


@pytest.mark.parametrize(
    "metadata", [{"": "empty key"}, {"n": float("inf")}, {"n": 10**40}, {"nested": {"a": [1, None]}}, ["not", "a dict"]]
)
def test_an_invalid_event_with_unstorable_metadata_is_still_rejected_keeping_it_as_text(metadata):
    # Given an invalid event whose metadata could not be stored as a DynamoDB map (found by fuzzing:
    # the rejection write itself failed and the message was retried into the DLQ)
    d, records, provider, clock = make()
    raw = json.dumps({"id": "bad-meta", "to": "1", "text": "x", "metadata": metadata})
    # When it is dispatched
    out = d.handle(msg(raw, clock=clock))
    # Then it is rejected and acknowledged, its metadata kept as bounded JSON text
    rec = records.get("bad-meta")
    assert (out.action, rec["status"]) == ("ack", "rejected")
    assert rec["metadata"] == {} and rec["metadata_raw"] == json.dumps(metadata, ensure_ascii=False)
