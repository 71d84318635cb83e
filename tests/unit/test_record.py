"""The typed record (domain/record.py): its attributes, and the builders every write goes through,
each checked against the status table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devstack.memstore import InMemoryRecords
from notifier.domain import record as rec
from notifier.domain.status import Status

NOW = "2026-12-01T00:00:00.000Z"


def _stored(item: dict) -> InMemoryRecords:
    store = InMemoryRecords()
    store.create(item)
    return store


def test_readme_lists_exactly_the_attributes_of_the_record_type():
    # Given the README's section on the record
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## The record", 1)[1].split("\n## ", 1)[0]
    listed = section.split("<!-- record-attributes -->", 2)[1]
    # When its attribute list is read
    names = re.findall(r"^\| `([a-z_]+)` \|", listed, re.MULTILINE)
    # Then it is the type's fields, in the type's order
    assert names == list(rec.FIELDS)


def test_a_record_survives_the_round_trip_through_an_item_and_drops_unset_attributes():
    # Given a record with a few attributes set
    record = rec.Record(id="a", status="sent", provider="apistore", provider_message_id="2026", attempts=1)
    # When it becomes an item and is read back
    item = record.to_item()
    # Then the item has only what was set, and reads back equal
    assert item == {"id": "a", "status": "sent", "provider": "apistore", "provider_message_id": "2026", "attempts": 1}
    assert rec.Record.from_item(item) == record


def test_a_record_has_no_attribute_the_type_does_not_name():
    # Given an attribute that is not in the type
    # When a record is made with it
    # Then it is refused
    with pytest.raises(TypeError):
        rec.Record(id="a", status="sent", cmd="typo")  # type: ignore[call-arg]


def test_the_message_id_of_an_old_record_is_its_cmid():
    # Given a record written before provider_message_id existed, and a new one
    # When their message ids are read
    # Then the old one's is its cmid
    assert rec.message_id_of({"cmid": "2026112218000000001"}) == "2026112218000000001"
    assert rec.message_id_of({"provider_message_id": "M1", "cmid": "C"}) == "M1"
    assert rec.message_id_of({}) is None


def test_claim_of_a_released_record_takes_it_only_while_no_one_holds_it():
    # Given a released claim
    store = _stored({"id": "a", "status": "sending", "attempts": 1})
    change = rec.claim(src=Status.SENDING, token="t1", lease_until=10.2, sqs_message_id="m", receive_count=2, now=NOW)
    # When it is claimed twice
    first, second = store.apply("a", change), store.apply("a", change)
    # Then the first wins, with the lease rounded up and the attempt counted, and the second loses
    assert (first, second) == (True, False)
    item = store.get("a")
    assert item is not None and item["claim_token"] == "t1" and item["lease_until"] == 11 and item["attempts"] == 2


def test_claim_of_a_redriven_failure_moves_it_back_to_sending():
    # Given a failure that went to the DLQ
    store = _stored({"id": "a", "status": "failed", "dead_lettered": True, "reason": "gave up", "attempts": 5})
    # When an operator's redrive claims it
    ok = store.apply(
        "a", rec.claim(src=Status.FAILED, token="t", lease_until=1, sqs_message_id="m", receive_count=1, now=NOW)
    )
    # Then it is sending again, without its old reason or DLQ mark
    item = store.get("a")
    assert ok and item is not None
    assert item["status"] == "sending" and "dead_lettered" not in item and "reason" not in item


def test_release_gives_the_claim_back_with_the_error():
    # Given a claimed record
    store = _stored({"id": "a", "status": "sending", "claim_token": "t", "lease_until": 9})
    # When the send surely did not reach the provider
    ok = store.apply("a", rec.release(token="t", code="connect", last_error="refused", now=NOW))
    # Then the claim is gone and the error kept, still sending
    item = store.get("a")
    assert ok and item == {
        "id": "a",
        "status": "sending",
        "provider_code": "connect",
        "last_error": "refused",
        "updated_at": NOW,
    }


def test_fall_back_marks_the_sms_phase_under_the_same_claim():
    # Given a claimed AlimTalk, and a claim someone else holds
    store = _stored({"id": "a", "status": "sending", "claim_token": "t"})
    change = rec.fall_back(token="t", code="700", reason="not approved", record_reason="sent as SMS", now=NOW)
    # When the app falls back to SMS
    ok = store.apply("a", change)
    lost = store.apply("a", rec.fall_back(token="other", code="700", reason="x", record_reason="y", now=NOW))
    # Then only the holder's write lands, and the claim stays
    item = store.get("a")
    assert ok and not lost and item is not None
    assert item["phase"] == rec.SMS_FALLBACK_PHASE and item["fallback"] == "app" and item["claim_token"] == "t"


def test_settle_sent_names_the_provider_and_its_message_id_and_enters_the_index():
    # Given a claimed record
    store = _stored({"id": "a", "status": "sending", "claim_token": "t", "lease_until": 9})
    # When the provider accepted it
    change = rec.settle(
        token="t",
        dst=Status.SENT,
        code="200",
        reason=None,
        now=NOW,
        provider="apistore",
        message_id="77",
        poll=("1", 60),
    )
    # Then it is sent, keyed for the poller, with API Store's cmid beside the neutral id
    assert store.apply("a", change)
    item = store.get("a")
    assert item is not None and "claim_token" not in item
    assert (item["status"], item["provider"], item["provider_message_id"], item["cmid"]) == (
        "sent",
        "apistore",
        "77",
        "77",
    )
    assert (item["poll_shard"], item["next_poll_at"], item["sent_at"]) == ("1", 60, NOW)


def test_settle_sent_writes_no_cmid_for_another_provider():
    # Given a provider other than API Store
    # When its accepted send is settled
    change = rec.settle(token="t", dst=Status.SENT, code="2000", reason=None, now=NOW, provider="other", message_id="M")
    # Then the record has the neutral id only
    assert change.set["provider_message_id"] == "M" and "cmid" not in change.set


def test_settle_terminal_keeps_the_reason_as_the_last_error():
    # Given a claimed record
    store = _stored({"id": "a", "status": "sending", "claim_token": "t"})
    # When the provider refused it
    ok = store.apply("a", rec.settle(token="t", dst=Status.REJECTED, code="300", reason="bad", now=NOW))
    # Then it is rejected with its reason
    item = store.get("a")
    assert (
        ok and item is not None and (item["status"], item["reason"], item["last_error"]) == ("rejected", "bad", "bad")
    )


def test_abandon_makes_a_vanished_claim_unknown_only_if_it_is_still_that_claim():
    # Given a claim whose owner vanished
    store = _stored({"id": "a", "status": "sending", "claim_token": "old"})
    # When two dispatchers abandon it, one with a stale token
    stale = store.apply("a", rec.abandon(claim_token="older", dispatched_at=None, reason="gone", now=NOW))
    ok = store.apply("a", rec.abandon(claim_token="old", dispatched_at=None, reason="gone", now=NOW))
    # Then only the one that read the current claim wins
    item = store.get("a")
    assert not stale and ok and item is not None and item["status"] == "unknown" and "claim_token" not in item


def test_report_settles_a_sent_record_and_takes_it_out_of_the_index():
    # Given a sent record of an older release, with only a cmid
    item = {"id": "a", "status": "sent", "cmid": "9", "poll_shard": "0", "next_poll_at": 5}
    store = _stored(item)
    # When its final report is written
    change = rec.report(item=item, dst=Status.DELIVERED, changes={"report_code": "4100"}, now=NOW)
    # Then it is delivered, out of the index, counted as a poll, conditional on the cmid read
    assert change.expect == {"status": "sent", "cmid": "9"}
    assert store.apply("a", change)
    after = store.get("a")
    assert after is not None and after["status"] == "delivered" and after["polls"] == 1
    assert "poll_shard" not in after and "next_poll_at" not in after


def test_expire_of_a_record_without_message_id_expects_none_to_appear():
    # Given a sent record with no message id at all
    item = {"id": "a", "status": "sent"}
    # When it is expired
    change = rec.expire(item=item, reason="no id", now=NOW)
    # Then the write is conditional on no id having been written meanwhile
    assert change.set["status"] == "unknown"
    assert set(change.expect_absent) == {"provider_message_id", "cmid"}


def test_reschedule_is_conditional_on_the_poll_time_read():
    # Given a sent record read by two overlapping ticks
    item = {"id": "a", "status": "sent", "provider_message_id": "M", "poll_shard": "0", "next_poll_at": 5}
    store = _stored(item)
    change = rec.reschedule(item=item, next_poll_at=50, note="waiting", now=NOW)
    # When both reschedule it
    first, second = store.apply("a", change), store.apply("a", change)
    # Then only one backs it off
    assert (first, second) == (True, False)
    after = store.get("a")
    assert after is not None and after["next_poll_at"] == 50 and after["status"] == "sent"


@pytest.mark.parametrize(
    "build",
    [
        lambda: rec.claim(src=Status.DELIVERED, token="t", lease_until=1, sqs_message_id="m", receive_count=1, now=NOW),
        lambda: rec.claim(src=Status.SENT, token="t", lease_until=1, sqs_message_id="m", receive_count=1, now=NOW),
        lambda: rec.settle(token="t", dst=Status.DELIVERED, code="200", reason=None, now=NOW),
        lambda: rec.report(item={"status": "sent"}, dst=Status.REJECTED, changes={}, now=NOW),
        lambda: rec.report(item={"status": "sent"}, dst=Status.SENDING, changes={}, now=NOW),
        lambda: rec.reschedule(item={"status": "delivered"}, next_poll_at=1, note="", now=NOW),
    ],
    ids=[
        "claim-delivered",
        "claim-sent",
        "settle-to-delivered",
        "report-rejected",
        "report-sending",
        "reschedule-final",
    ],
)
def test_a_forbidden_move_raises_before_anything_is_written(build):
    # Given a builder asked for a move the status table forbids
    # When it builds the change
    # Then it raises, naming the move
    with pytest.raises(rec.ForbiddenTransition, match="may not move"):
        build()


def test_a_change_with_an_attribute_the_record_does_not_have_is_refused():
    # Given an extra attribute that is not in the record type
    # When a settle change is built with it
    # Then it is refused, naming the attribute
    with pytest.raises(ValueError, match="no attribute fallbak"):
        rec.settle(token="t", dst=Status.REJECTED, code="1", reason="r", now=NOW, extra={"fallbak": "app"})
