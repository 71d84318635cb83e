"""What happens between a claim and its send: everything slow comes before the claim, the dispatch mark
right before the provider call, and a claim whose owner stopped without that mark is taken over and
sent by the next delivery instead of ending `unknown`."""

from __future__ import annotations

import json

import pytest

from notifier.ports import SendResult
from notifier.usecases.dispatch import Dispatcher, Settings
from tests.fakes import Clock, InMemoryRecords, ScriptedAlimTalk, ScriptedProvider, accepted
from tests.unit.test_dispatch import JPEG, Bucket, event, mms, msg
from tests.unit.test_dispatch_alimtalk import Templates, body

SENDER = "0212345678"


class Died(BaseException):
    """The process stopping (SIGKILL, Lambda time-out): nothing after it runs, no handler catches it."""


class Records(InMemoryRecords):
    """The store, dying at the n-th write that matches `when`, or never."""

    def __init__(self, when=None, nth: int = 1) -> None:
        super().__init__()
        self.when, self.left = when, nth

    def _maybe_die(self, what) -> None:
        if self.when is not None and self.when(what):
            self.left -= 1
            if self.left == 0:
                raise Died()

    def create(self, item):
        self._maybe_die(("create", item["id"], item))
        return super().create(item)

    def apply(self, record_id, change):
        self._maybe_die(("apply", record_id, change))
        return super().apply(record_id, change)


def marking(what) -> bool:
    return what[0] == "apply" and "dispatched_at" in what[2].set and what[2].set["dispatched_at"] is not None


def make(*, records=None, provider=None, attachments=None, kko=None, templates=None, max_receive=3):
    records = records or Records()
    provider = provider or ScriptedProvider(accepted())
    clock = Clock()
    d = Dispatcher(
        records=records,
        provider=provider,
        settings=Settings(
            default_sender=SENDER, provider="apistore", max_receive_count=max_receive, attachment_bucket="media"
        ),
        attachments=attachments,
        alimtalk=kko,
        templates=templates or (Templates() if kko else None),
        clock=clock,
    )
    return d, records, provider, clock


# ------------------------------------------------------------------ slow work before the claim


def test_mms_attachments_are_read_before_the_record_is_claimed():
    # Given a bucket that notes whether a record existed when it was read
    records = Records()
    seen: list[object] = []

    class Watching(Bucket):
        def fetch(self, bucket, key, max_bytes):
            seen.append(records.get("order-1-shipped"))
            return super().fetch(bucket, key, max_bytes)

    d, _, provider, clock = make(records=records, attachments=Watching({"a.jpg": JPEG}))
    # When an MMS is dispatched
    out = d.handle(msg(mms("a.jpg"), clock=clock))
    # Then its image was read while no claim existed, and it was sent
    assert seen == [None]
    assert out.kind == "sent" and len(provider.sent) == 1


def test_the_template_list_is_read_before_the_alimtalk_is_claimed():
    # Given a template source that notes whether a record existed when it was read
    records = Records()
    seen: list[object] = []

    class Watching(Templates):
        def get(self, code):
            seen.append(records.get("akt-1"))
            return super().get(code)

    d, _, _, clock = make(records=records, kko=ScriptedAlimTalk(accepted("9")), templates=Watching())
    # When an AlimTalk is dispatched
    out = d.handle(msg(body(), clock=clock))
    # Then its template was read while no claim existed, and it was sent
    assert seen == [None] and out.kind == "sent"


def test_the_dispatch_mark_is_on_the_claim_when_the_provider_is_called():
    # Given a provider that reads the record as it is called
    records = Records()
    at_call: list[dict] = []
    provider = ScriptedProvider(accepted(), on_send=lambda m: at_call.append(records.get("order-1-shipped")))
    d, _, _, clock = make(records=records, provider=provider)
    # When an SMS is dispatched
    d.handle(msg(event(), clock=clock))
    # Then the claim already carried its dispatch mark, and the settled record keeps when it went out
    [record] = at_call
    assert record["status"] == "sending" and record["marks_dispatch"] is True and record["dispatched_at"]
    settled = records.get("order-1-shipped")
    assert settled["status"] == "sent" and settled["dispatched_at"] == record["dispatched_at"]
    assert "marks_dispatch" not in settled and "claim_token" not in settled


def test_a_redelivered_finished_mms_is_not_downloaded_again():
    # Given an MMS that was sent, and a bucket counting its reads
    reads: list[str] = []

    class Counting(Bucket):
        def fetch(self, bucket, key, max_bytes):
            reads.append(key)
            return super().fetch(bucket, key, max_bytes)

    d, records, provider, clock = make(attachments=Counting({"a.jpg": JPEG}))
    d.handle(msg(mms("a.jpg"), clock=clock))
    # When SQS delivers it again
    again = d.handle(msg(mms("a.jpg"), clock=clock, receive_count=2))
    # Then it is a duplicate, sent once, and its image was read once
    assert again.kind == "duplicate" and len(provider.sent) == 1 and reads == ["a.jpg"]


def test_a_retryable_attachment_error_on_the_last_delivery_still_ends_failed_and_dead_lettered():
    # Given a bucket that cannot be read, on the message's last delivery
    from notifier.ports import AttachmentError

    d, records, provider, clock = make(attachments=Bucket({}, AttachmentError("S3 503", retryable=True)))
    # When it is dispatched
    out = d.handle(msg(mms("a.jpg"), clock=clock, receive_count=3))
    # Then nothing was sent and the record is terminal, dead-lettered for a redrive
    r = records.get("order-1-shipped")
    assert out.action == "retry" and provider.sent == []
    assert r["status"] == "failed" and r["dead_lettered"] is True and "dispatched_at" not in r


# ------------------------------------------------------------------ a dispatcher stopping between claim and send


def test_a_dispatcher_stopping_before_the_mark_leaves_a_claim_the_redelivery_takes_over_and_sends():
    # Given a dispatcher that dies as it writes the dispatch mark
    d, records, provider, clock = make(records=Records(when=marking))
    with pytest.raises(Died):
        d.handle(msg(event(), clock=clock))
    assert records.get("order-1-shipped")["status"] == "sending" and provider.sent == []
    # When SQS redelivers after the lease is over
    clock.advance(31)
    out = d.handle(msg(event(), clock=clock, receive_count=2))
    # Then the redelivery takes the claim over and sends, once
    assert (out.kind, out.status) == ("sent", "sent")
    r = records.get("order-1-shipped")
    assert r["status"] == "sent" and r["attempts"] == 2 and len(provider.sent) == 1


def test_a_batch_stopping_between_two_claims_leaves_no_unknown():
    # Given a batch of two whose dispatcher dies claiming the second
    records = Records(when=lambda w: w[0] == "create" and w[1] == "b")
    d, _, provider, clock = make(records=records)
    batch = [msg(event(id="a"), message_id="m-a", clock=clock), msg(event(id="b"), message_id="m-b", clock=clock)]
    with pytest.raises(Died):
        d.handle_batch(batch)
    # When both come back after the lease
    clock.advance(31)
    again = [msg(event(id=i), message_id=f"m-{i}", clock=clock, receive_count=2) for i in ("a", "b")]
    outcomes = d.handle_batch(again)
    # Then each is sent exactly once and neither is unknown
    assert [o.kind for o in outcomes] == ["sent", "sent"]
    assert sorted(m.msg_body for m in provider.sent) == ["[Shop] 발송되었습니다."] * 2
    assert {records.get(i)["status"] for i in ("a", "b")} == {"sent"}


def test_a_dispatcher_stopping_after_the_mark_ends_unknown_and_never_sends_again():
    # Given a provider call that never returns (the process dies inside it)
    calls: list[object] = []

    def die(m):
        calls.append(m)
        raise Died()

    d, records, provider, clock = make(provider=ScriptedProvider(accepted(), on_send=die))
    with pytest.raises(Died):
        d.handle(msg(event(), clock=clock))
    # When SQS redelivers after the lease
    clock.advance(31)
    out = d.handle(msg(event(), clock=clock, receive_count=2))
    # Then the request may have left: unknown, never a second send
    assert (out.kind, out.status) == ("unknown", "unknown")
    assert "may have left" in records.get("order-1-shipped")["reason"]
    assert len(calls) == 1


def test_a_claim_of_an_older_release_without_the_mark_promise_stays_unknown():
    # Given a claim left by a release that did not write dispatch marks, its lease over
    d, records, provider, clock = make()
    records.create({"id": "order-1-shipped", "status": "sending", "claim_token": "old", "lease_until": clock.now - 1,
                    "sqs_message_id": "m-1"})  # fmt: skip
    # When its message is redelivered
    out = d.handle(msg(event(), clock=clock, receive_count=2))
    # Then the missing mark proves nothing: unknown, nothing sent
    assert out.kind == "unknown" and provider.sent == []


def test_a_refused_alimtalk_then_a_stop_before_the_fallback_sms_is_taken_over_without_a_second_alimtalk():
    # Given an AlimTalk refused synchronously, and a dispatcher that dies marking its fallback SMS
    kko = ScriptedAlimTalk(SendResult("fallback", "700", "template not approved"))
    d, records, sms, clock = make(records=Records(when=marking, nth=2), kko=kko)
    with pytest.raises(Died):
        d.handle(msg(body(), clock=clock))
    r = records.get("akt-1")
    assert r["phase"] == "sms_fallback" and "dispatched_at" not in r
    # When its message comes back after the lease
    clock.advance(31)
    out = d.handle(msg(body(), clock=clock, receive_count=2))
    # Then the fallback SMS is sent, once, and the AlimTalk is never tried again
    assert out.kind == "sent" and len(kko.sent) == 1 and len(sms.sent) == 1
    assert records.get("akt-1")["channel_used"] in ("sms", "lms")


def test_a_claim_taken_by_another_delivery_before_the_mark_is_not_sent():
    # Given a store where another delivery takes the claim just before ours is marked
    class Stolen(Records):
        def apply(self, record_id, change):
            if "dispatched_at" in change.set:
                with self.lock:
                    self.items[record_id]["claim_token"] = "someone-else"
            return super().apply(record_id, change)

    d, records, provider, clock = make(records=Stolen())
    # When the message is dispatched
    out = d.handle(msg(event(), clock=clock))
    # Then nothing is sent: the claim is no longer ours
    assert out.kind == "duplicate" and provider.sent == []
    assert json.dumps(records.get("order-1-shipped")["claim_token"]) == '"someone-else"'


# ------------------------------------------------------------------ the last delivery: the poller sweeps


class NoReports:
    def fetch(self, record):
        raise AssertionError(f"a claim has no report to ask for: {record['id']}")


def sweep(records, clock) -> object:
    from notifier.usecases.poll import Poller

    return Poller(records=records, reports=NoReports(), clock=clock).tick(lambda: 300.0)


def test_a_stop_before_the_mark_on_the_last_delivery_is_swept_to_failed_and_a_redrive_sends_it():
    # Given a dispatcher that dies marking the claim it made on the message's last delivery
    d, records, provider, clock = make(records=Records(when=marking), max_receive=3)
    with pytest.raises(Died):
        d.handle(msg(event(), clock=clock, receive_count=3))
    # When the poller ticks after the claim's lease (no redelivery will come: the message is in the DLQ)
    clock.advance(31 + 60)
    tick = sweep(records, clock)
    # Then the record is failed and dead-lettered, with nothing sent, and out of the poller's index
    r = records.get("order-1-shipped")
    assert tick.failed == 1 and provider.sent == []
    assert r["status"] == "failed" and r["dead_lettered"] is True and "the dead-letter queue" in r["reason"]
    assert "poll_shard" not in r and "claim_token" not in r
    # And a redrive from the DLQ claims it again and sends it, once
    out = d.handle(msg(event(), message_id="m-redriven", clock=clock, receive_count=1))
    assert out.kind == "sent" and len(provider.sent) == 1


def test_a_stop_after_the_mark_on_the_last_delivery_is_swept_to_unknown_and_never_sent_again():
    # Given a dispatcher that dies inside the provider call of its message's last delivery
    def die(_):
        raise Died()

    d, records, provider, clock = make(provider=ScriptedProvider(accepted(), on_send=die), max_receive=3)
    with pytest.raises(Died):
        d.handle(msg(event(), clock=clock, receive_count=3))
    # When the poller ticks after the lease
    clock.advance(31 + 60)
    tick = sweep(records, clock)
    # Then the request may have left: unknown, and a redrive only finds the duplicate
    r = records.get("order-1-shipped")
    assert tick.unknown == 1 and r["status"] == "unknown" and "poll_shard" not in r
    again = d.handle(msg(event(), message_id="m-redriven", clock=clock, receive_count=1))
    assert again.kind == "duplicate"


def test_a_claim_of_an_earlier_delivery_is_not_in_the_poller_index_and_a_settled_one_leaves_it():
    # Given a first delivery that dies before its mark, and a last delivery that sends
    d, records, provider, clock = make(records=Records(when=marking), max_receive=3)
    with pytest.raises(Died):
        d.handle(msg(event(), clock=clock, receive_count=1))
    # Then the first claim is left to the redelivery, not to the poller
    assert "poll_shard" not in records.get("order-1-shipped")
    clock.advance(31)
    # When its last delivery takes it over and the provider accepts
    out = d.handle(msg(event(), clock=clock, receive_count=3))
    # Then it is sent and indexed for its report only (next_poll_at a minute after the send)
    r = records.get("order-1-shipped")
    assert out.kind == "sent" and r["next_poll_at"] == int(clock.now) + 60
