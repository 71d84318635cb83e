"""Bodies that are not events, seen by the dispatcher: each is one recorded rejection (under the
producer's id when it has a trustworthy one), acknowledged, never retried and never sent."""

from __future__ import annotations

import pytest

import notifier.usecases.parsing
from tests.fakes import published
from tests.unit.test_dispatch import make, msg


def test_a_body_problem_with_a_usable_id_is_recorded_under_that_id_with_the_raw_body():
    # Given a body repeating `to` (the last value would be sendable)
    d, records, provider, clock = make()
    body = '{"id": "dup-1", "to": "bad", "to": "01012345678", "text": "x"}'
    # When it is dispatched
    out = d.handle(msg(body, clock=clock))
    # Then nothing is sent, and the producer finds the rejection under its own id
    assert (out.action, out.kind, out.record_id) == ("ack", "rejected", "dup-1")
    assert provider.sent == []
    rec = records.get("dup-1")
    assert rec["status"] == "rejected" and rec["raw_body"] == body
    assert rec["reason"].startswith("to: duplicate key, given 2 times")


def test_a_body_problem_whose_id_is_in_doubt_is_recorded_under_the_sqs_message_id():
    d, records, provider, clock = make()
    out = d.handle(msg('{"id": "a", "id": "b", "to": "01012345678", "text": "x"}', message_id="m-9", clock=clock))
    assert (out.action, out.kind, out.record_id) == ("ack", "rejected", "m-9")
    assert records.get("m-9")["id_source"] == "sqs_message_id" and records.get("a") is None
    assert provider.sent == []


def test_a_lone_surrogate_is_rejected_and_the_stored_raw_body_escapes_it():
    # Given a body whose metadata holds a lone surrogate, as an SQS body carries it (a \ud800 escape)
    d, records, _, clock = make()
    raw = '{"id": "sur-1", "to": "01012345678", "text": "x", "metadata": {"note": "\\ud800"}}'
    # When it is dispatched
    d.handle(msg(raw, clock=clock))
    # Then the record is a rejection naming the field, and everything stored can be encoded
    rec = records.get("sur-1")
    assert rec["reason"].startswith("metadata.note: has a lone surrogate (U+D800) at position 1")
    assert rec["metadata"] == {} and rec["raw_body"] == raw
    assert all(str(v).encode("utf-8") for v in rec.values())


@pytest.mark.parametrize(
    ("body", "number"),
    [
        ({"id": "p-1", "to": "+82 10 5400 2442 (mobile)", "text": "x"}, "5400"),
        ({"id": "p-2", "to": "+821054002442", "text": "x", "extra": 1, "+82-10-5400-2442": 1}, "5400"),
        ({"id": "p-3", "to": "01012345678", "text": "x", "metadata": {"010.5400.2442": [1]}}, "5400"),
    ],
)
def test_a_rejection_reason_never_carries_a_whole_phone_number(body, number):
    # Given invalid events quoting numbers in a bad `to`, an unknown key, a metadata key
    d, records, _, clock = make()
    # When each is dispatched
    out = d.handle(msg(body, clock=clock))
    # Then neither the stored nor the published reason carries the number whole
    assert out.kind == "rejected"
    assert number not in records.get(body["id"])["reason"]
    assert number not in published(records)[0]["reason"]


def test_a_validation_that_raises_is_recorded_as_a_rejection_not_retried(monkeypatch):
    # Given a defect: validation raises something that is not a validation error for some body
    def broken_plan(*args, **kwargs):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(notifier.usecases.parsing, "plan", broken_plan)
    d, records, provider, clock = make()
    # When that body arrives
    out = d.handle(msg({"id": "bug-1", "to": "01012345678", "text": "x"}, clock=clock))
    # Then it is acknowledged as a rejection saying what raised (a retry would raise again), not sent
    assert (out.action, out.kind) == ("ack", "rejected")
    assert records.get("bug-1")["reason"] == (
        "body: could not be validated (TypeError: unsupported operand), a defect of kr-notifier's"
    )
    assert provider.sent == []
