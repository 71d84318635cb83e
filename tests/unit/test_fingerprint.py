"""Same id, different content: the first event wins, the second is never sent, and it is counted and
logged with both fingerprints; the same content in another form is a plain duplicate."""

from __future__ import annotations

import logging

import pytest

from notifier.domain import fingerprint
from notifier.domain.event import Event
from notifier.ports import SendResult
from tests.fakes import ScriptedProvider, accepted
from tests.unit.test_dispatch import event, make, msg

REFUSED = SendResult("retry", "connect", "could not connect to the provider (NewConnectionError)")


# ------------------------------------------------------------------ the fingerprint itself


def test_fingerprint_ignores_key_order_phone_format_and_explicit_defaults():
    # Given one event written three ways that would send the same message
    a = Event.model_validate({"id": "x", "to": "010-1234-5678", "text": "안녕"})
    b = Event.model_validate({"text": "안녕", "channel": "auto", "to": "01012345678", "id": "x", "test": False})
    # When both are fingerprinted
    # Then the fingerprints are equal
    assert fingerprint.of_event(a) == fingerprint.of_event(b)
    assert fingerprint.of_event(a).startswith("sha256:")


@pytest.mark.parametrize(
    "change",
    [
        {"text": "안녕!"},
        {"to": "010-1234-5679"},
        {"channel": "lms"},
        {"metadata": {"order": "2"}},
        {"from": "0299998888"},
    ],
)
def test_fingerprint_changes_with_any_content_that_is_sent_or_kept(change):
    # Given an event and a copy with one field changed
    base = {"id": "x", "to": "010-1234-5678", "text": "안녕"}
    # When both are fingerprinted
    # Then they differ
    assert fingerprint.of_event(Event.model_validate(base)) != fingerprint.of_event(
        Event.model_validate({**base, **change})
    )


def test_fingerprint_of_an_unparseable_body_survives_a_lone_surrogate():
    # Given a body that is not JSON and carries a lone surrogate
    # When it is fingerprinted
    # Then it hashes like any text, and differently from its neighbour
    assert fingerprint.of_text("{\ud800") != fingerprint.of_text("{\ud801")


# ------------------------------------------------------------------ through the dispatcher


def test_the_record_keeps_the_fingerprint_of_the_event_that_made_it():
    d, records, provider, clock = make()
    # When an event is sent
    d.handle(msg(event(), clock=clock))
    # Then its record carries the event's fingerprint
    assert records.get("order-1-shipped")["fingerprint"] == fingerprint.of_event(Event.model_validate(event()))


def test_same_id_with_different_text_is_not_sent_but_counted_and_logged_with_both_fingerprints(caplog):
    d, records, provider, clock = make()
    # Given an event was sent
    d.handle(msg(event(), message_id="m-1", clock=clock))
    # When another event with the same id and another text arrives
    with caplog.at_level(logging.WARNING, logger="notifier.dispatch"):
        out = d.handle(msg(event(text="다른 내용"), message_id="m-2", clock=clock))
    # Then it is acknowledged as a conflict, nothing more is sent, and the record is the first event's
    assert (out.action, out.kind, out.status) == ("ack", "conflict", "sent")
    assert len(provider.sent) == 1 and provider.sent[0].msg_body == "[Shop] 발송되었습니다."
    first = fingerprint.of_event(Event.model_validate(event()))
    second = fingerprint.of_event(Event.model_validate(event(text="다른 내용")))
    assert records.get("order-1-shipped")["fingerprint"] == first
    # And the log line names both fingerprints and the message that carried the second event
    [line] = [r for r in caplog.records if "different content" in r.getMessage()]
    assert (line.first_fingerprint, line.this_fingerprint, line.sqs_message_id) == (first, second, "m-2")
    assert first in out.reason and second in out.reason


def test_same_content_in_another_form_is_a_plain_duplicate():
    d, records, provider, clock = make()
    # Given an event was sent
    d.handle(msg(event(), message_id="m-1", clock=clock))
    # When the same event arrives with the phone written without dashes and keys reordered
    again = {"text": "[Shop] 발송되었습니다.", "to": "01012345678", "id": "order-1-shipped", "channel": "auto"}
    out = d.handle(msg(again, message_id="m-2", clock=clock))
    # Then it is a duplicate, not a conflict
    assert (out.action, out.kind) == ("ack", "duplicate")


def test_a_released_claim_is_retried_with_the_first_events_content_never_a_later_ones():
    # Given the first event's send was refused at connect time, so its claim is released for a retry
    d, records, provider, clock = make(ScriptedProvider(REFUSED, accepted()))
    first = d.handle(msg(event(), message_id="m-1", clock=clock))
    assert (first.action, records.get("order-1-shipped")["status"]) == ("retry", "sending")
    # When a second event with the same id and another text arrives before the redelivery
    second = d.handle(msg(event(text="나중 내용"), message_id="m-2", clock=clock))
    # Then it does not take the claim over and sends nothing
    assert (second.action, second.kind) == ("ack", "conflict")
    assert len(provider.sent) == 1
    # And the first event's redelivery sends the first event's text
    again = d.handle(msg(event(), message_id="m-1", receive_count=2, clock=clock))
    assert again.kind == "sent"
    assert [m.msg_body for m in provider.sent] == ["[Shop] 발송되었습니다.", "[Shop] 발송되었습니다."]


def test_a_corrected_event_reusing_a_rejected_id_is_a_conflict_not_a_send():
    d, records, provider, clock = make()
    # Given an event was rejected (bad phone number)
    d.handle(msg(event(to="12"), message_id="m-1", clock=clock))
    assert records.get("order-1-shipped")["status"] == "rejected"
    # When the producer fixes it and sends it again under the same id
    out = d.handle(msg(event(), message_id="m-2", clock=clock))
    # Then nothing is sent: the first event wins, and the conflict is counted
    assert (out.kind, out.status) == ("conflict", "rejected")
    assert provider.sent == []


def test_records_without_a_fingerprint_treat_any_duplicate_as_plain():
    d, records, provider, clock = make()
    # Given a record written before fingerprints existed
    records.create({"id": "order-1-shipped", "status": "sent", "cmid": "1"})
    # When an event with its id arrives
    out = d.handle(msg(event(text="아무 내용"), clock=clock))
    # Then it is a plain duplicate (nothing to compare), and nothing is sent
    assert (out.kind, provider.sent) == ("duplicate", [])
