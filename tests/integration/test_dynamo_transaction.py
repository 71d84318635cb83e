"""The DynamoDB adapter's atomic write of several records (the dispatch marks of a batch), against
moto server over HTTP with the table template.yaml declares."""

from __future__ import annotations

import io
import uuid

import pytest

from devstack.stack import LocalStack
from notifier.aws.dynamo import DynamoRecords
from notifier.domain import record as rec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def records():
    with LocalStack.start(log_stream=io.StringIO()) as stack:
        yield DynamoRecords(stack.aws.client("dynamodb"), stack.env["TABLE_NAME"])


def claims(records, n: int) -> list[str]:
    ids = [f"tx-{uuid.uuid4().hex[:10]}" for _ in range(n)]
    for i, rid in enumerate(ids):
        assert records.create({"id": rid, "status": "sending", "claim_token": f"t{i}", "marks_dispatch": True}) is None
    return ids


def test_marks_whose_claims_all_hold_are_written_together(records):
    # Given three claims
    ids = claims(records, 3)
    # When their marks are written as one
    held = records.apply_together([(rid, rec.dispatch(token=f"t{i}", now="2026-12-02T13:00:00Z")) for i, rid in
                                   enumerate(ids)])  # fmt: skip
    # Then all held and every record carries its mark
    assert held == [True, True, True]
    assert [records.get(rid)["dispatched_at"] for rid in ids] == ["2026-12-02T13:00:00Z"] * 3


def test_one_lost_claim_writes_no_mark_at_all_and_is_named(records):
    # Given three claims, the second of which is no longer held with the token given
    ids = claims(records, 3)
    changes = [(rid, rec.dispatch(token=f"t{i}", now="2026-12-02T13:00:00Z")) for i, rid in enumerate(ids)]
    changes[1] = (ids[1], rec.dispatch(token="someone-else", now="2026-12-02T13:00:00Z"))
    # When their marks are written as one
    held = records.apply_together(changes)
    # Then the answer names the lost one and nothing was written
    assert held == [True, False, True]
    assert all("dispatched_at" not in records.get(rid) for rid in ids)
