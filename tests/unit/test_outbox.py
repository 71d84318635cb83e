"""The outbox: which writes of the records table reach the application, with what id, in how many
PutEvents calls, and what happens to an event the bus refuses. Pure: the use case, the EventBridge
adapter over a scripted client, and the real handler over a Lambda-shaped DynamoDB stream event."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devstack.esm import LambdaContext
from notifier.aws.dynamo import serialize
from notifier.aws.eventbridge import DETAIL_KEYS, EventBridgePublisher, detail_of, entry_of
from notifier.domain.status import transition
from notifier.handlers.outbox_wiring import OutboxWiring
from notifier.usecases.outbox import Outbox, Write
from tests.fakes import RecordedEvents

SENT = {"id": "o-1", "status": "sent", "channel_used": "sms", "recipient": "01012345678", "cmid": "2026"}


def rec(status: str, **over: Any) -> dict[str, Any]:
    return {**SENT, "status": status, **over}


# ------------------------------------------------------------------ what is a transition


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (rec("sent"), rec("delivered"), "delivered"),
        (rec("sent"), rec("failed"), "failed"),
        (rec("sending"), rec("unknown"), "unknown"),
        (None, rec("rejected"), "rejected"),  # a rejection is the record's first write
        (rec("sending"), rec("sent", test=True), "tested"),  # a test send's final word
        (rec("sending"), rec("sent"), None),  # waiting for its report: not an outcome
        (None, rec("sending"), None),  # a claim
        (rec("delivered"), rec("delivered", polls=3), None),  # a later write to a finished record
        (rec("sent", test=True), rec("sent", test=True, reason="x"), None),
        (rec("delivered"), None, None),  # a TTL delete has no new image
        (rec("failed"), rec("sending"), None),  # a DLQ redrive claims it again
    ],
)
def test_only_a_write_that_reaches_an_outcome_is_a_transition(old, new, expected):
    # Given a write's old and new images; When the outbox reads it; Then it publishes exactly these
    assert transition(old, new) == expected


def test_the_event_id_is_the_record_id_and_its_outcome_and_every_contract_key_stays():
    # Given a delivered record and an accepted test send
    delivered = rec("delivered", metadata={"tenant": "shop"}, fallback_used=False)
    tested = rec("sent", test=True, id="t-1")
    # When their details are built
    detail, test_detail = detail_of(delivered), detail_of(tested)
    # Then each carries a stable id, the recipient masked, and no key outside the contract
    assert (detail["event_id"], test_detail["event_id"]) == ("o-1:delivered", "t-1:tested")
    assert detail["recipient_masked"] == "010****5678" and "recipient" not in detail
    assert set(detail) <= {*DETAIL_KEYS, "recipient_masked", "event_id"}
    assert detail_of(delivered) == detail  # the same on every delivery


# ------------------------------------------------------------------ the use case


def test_the_outbox_publishes_the_transitions_of_a_batch_in_one_call_and_skips_the_rest():
    # Given a batch of writes: two outcomes, a claim, a later write to a finished record, a TTL delete
    events = RecordedEvents()
    writes = [
        Write("1", None, rec("sending", id="a")),
        Write("2", rec("sent", id="b"), rec("delivered", id="b")),
        Write("3", rec("delivered", id="b"), rec("delivered", id="b", polls=2)),
        Write("4", None, rec("rejected", id="c")),
        Write("5", rec("delivered", id="d"), None),
    ]
    # When the outbox publishes them
    result = Outbox(events).publish(writes)
    # Then the two outcomes went to the bus together and nothing else did
    assert [r["id"] for r in result.published] == ["b", "c"] and events.calls == [2]
    assert (result.failed, result.skipped) == ({}, 3)


def test_an_event_the_bus_refuses_is_reported_by_its_write_so_the_stream_retries_it():
    # Given a bus that refuses b's event once
    events = RecordedEvents(refuse=["b"])
    writes = [Write("1", rec("sent", id="a"), rec("failed", id="a")), Write("2", None, rec("rejected", id="b"))]
    # When the outbox publishes, then the stream delivers the refused write again
    first = Outbox(events).publish(writes)
    again = Outbox(events).publish(writes[1:])
    # Then the refusal names write 2, and the retry publishes it under the same event id
    assert [r["id"] for r in first.published] == ["a"] and list(first.failed) == ["2"]
    assert first.failed["2"].startswith("InternalFailure")
    assert [r["id"] for r in again.published] == ["b"]
    assert [detail_of(e)["event_id"] for e in events.published] == ["a:failed", "b:rejected"]


# ------------------------------------------------------------------ the EventBridge adapter


class ScriptedEventBridge:
    """put_events as EventBridge answers it: one entry per entry, an ErrorCode on the refused ones."""

    def __init__(self, refuse: set[str] = frozenset(), raises: Exception | None = None) -> None:
        self.requests: list[list[dict[str, Any]]] = []
        self.refuse, self.raises = refuse, raises

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.requests.append(Entries)
        if self.raises:
            raise self.raises
        answers = [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            if json.loads(e["Detail"])["id"] in self.refuse
            else {"EventId": f"e-{i}"}
            for i, e in enumerate(Entries)
        ]
        return {"FailedEntryCount": sum("ErrorCode" in a for a in answers), "Entries": answers}


def test_put_events_takes_at_most_ten_entries_a_request_and_answers_per_record():
    # Given 23 terminal records, two of which EventBridge refuses
    client = ScriptedEventBridge(refuse={"r-4", "r-17"})
    records = [rec("delivered", id=f"r-{i}") for i in range(23)]
    # When they are published
    errors = EventBridgePublisher(client, "orders").publish_all(records)
    # Then three requests of 10, 10 and 3 went to the named bus, and only the refused two failed
    assert [len(r) for r in client.requests] == [10, 10, 3]
    assert {e["EventBusName"] for r in client.requests for e in r} == {"orders"}
    assert [i for i, e in enumerate(errors) if e] == [4, 17]
    assert errors[4] == "InternalFailure: try again"


def test_put_events_stays_under_the_request_size_limit():
    # Given ten records whose events are 40 KB each (400 KB together, over PutEvents' 256 KiB)
    client = ScriptedEventBridge()
    records = [rec("rejected", id=f"big-{i}", reason="x" * 40_000) for i in range(10)]
    # When they are published
    assert EventBridgePublisher(client).publish_all(records) == [None] * 10
    # Then no request carried more than 256 KiB of events
    sizes = [sum(len(e["Detail"].encode()) for e in r) for r in client.requests]
    assert len(client.requests) > 1 and max(sizes) < 256 * 1024


def test_a_put_events_call_that_fails_fails_each_of_its_entries():
    # Given a bus that cannot be reached
    client = ScriptedEventBridge(raises=ConnectionError("down"))
    # When two records are published, then both are reported, named by the error
    assert EventBridgePublisher(client).publish_all([rec("failed"), rec("unknown", id="o-2")]) == [
        "ConnectionError",
        "ConnectionError",
    ]


# ------------------------------------------------------------------ the handler


def stream_record(seq: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """One record of a Lambda DynamoDB stream event, as Lambda delivers it."""
    images: dict[str, Any] = {
        "ApproximateCreationDateTime": 1795000000.0,
        "Keys": {"id": {"S": (new or old or {})["id"]}},
        "SequenceNumber": seq,
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        images["OldImage"] = serialize(old)
    if new is not None:
        images["NewImage"] = serialize(new)
    return {
        "eventID": f"ev-{seq}",
        "eventName": "INSERT" if old is None else "MODIFY" if new is not None else "REMOVE",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ap-northeast-2",
        "dynamodb": images,
        "eventSourceARN": "arn:aws:dynamodb:ap-northeast-2:123456789012:table/records/stream/2026-12-02T00:00:00.000",
    }


@pytest.fixture
def outbox_handler(monkeypatch):
    from notifier.handlers import outbox

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Notifier")  # the per-channel records read it at flush
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "notifier")
    # The module's Metrics read their namespace at import; this test process may have imported it bare.
    monkeypatch.setattr(outbox.metrics.provider, "namespace", "Notifier")
    monkeypatch.setattr(outbox.metrics.provider, "service", "notifier")
    return outbox


def test_the_handler_reports_the_writes_whose_event_was_refused_and_counts_the_published_ones(
    outbox_handler, monkeypatch, capsys
):
    # Given the real handler with a bus that refuses the event of record "b", and a metadata map with
    # a number in it (the typed image must come back as plain values)
    client = ScriptedEventBridge(refuse={"b"})
    wiring = OutboxWiring("default", Outbox(EventBridgePublisher(client)))
    monkeypatch.setattr(outbox_handler, "app", lambda: wiring)
    event = {
        "Records": [
            stream_record("100", rec("sent", id="a"), rec("delivered", id="a", metadata={"n": 1, "t": "x"})),
            stream_record("200", None, rec("rejected", id="b", channel_requested="auto")),
            stream_record("300", rec("sending", id="c"), rec("sent", id="c")),
        ]
    }
    context = LambdaContext(
        function_name="outbox", region="ap-northeast-2", account_id="123456789012",
        memory_limit_in_mb=256, timeout_s=30, log_group_name="/aws/lambda/outbox",
    )  # fmt: skip
    # When Lambda invokes it with the batch
    response = outbox_handler.handler(event, context)
    # Then only b's write is a batch item failure (by its sequence number), a's event went out with
    # plain metadata, and the published outcome was counted as a total and per channel
    assert response == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    sent = [json.loads(e["Detail"]) for r in client.requests for e in r]
    assert [(d["id"], d["event_id"]) for d in sent] == [("a", "a:delivered"), ("b", "b:rejected")]
    assert sent[0]["metadata"] == {"n": 1, "t": "x"}
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    totals = [b for b in blobs if "channel" not in b]
    per_channel = [b for b in blobs if "channel" in b]
    assert [b.get("Delivered") for b in totals] == [[1.0]] and "Rejected" not in totals[0]
    assert (totals[0]["EventsPublished"], totals[0]["EventsRefused"]) == ([1.0], [1.0])
    assert [(b["channel"], b.get("Delivered")) for b in per_channel] == [("sms", [1.0])]


def test_entry_of_puts_the_detail_type_and_source_the_rules_match():
    entry = entry_of(rec("sent", test=True), "default")
    assert (entry["Source"], entry["DetailType"]) == ("kr-notifier", "Notification Tested")
