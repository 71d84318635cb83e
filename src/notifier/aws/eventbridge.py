"""Outcomes to EventBridge, so an application can subscribe with a rule.

The records table's stream is the outbox: the outbox function (handlers/outbox.py) publishes each
committed transition from it, at least once, whatever happened to the writer. Each event carries a
stable `event_id` (record id + outcome), the same on every redelivery, so a consumer deduplicates on it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..domain import phone
from ..domain.status import TESTED, outcome_of

SOURCE = "kr-notifier"
DETAIL_TYPES = {
    "delivered": "Notification Delivered",
    "failed": "Notification Failed",
    "unknown": "Notification Unknown",
    "rejected": "Notification Rejected",
    TESTED: "Notification Tested",  # the test endpoint accepted it: the verdict a test send asks for
}
DETAIL_KEYS = (
    "id", "status", "channel_requested", "channel_used", "fallback", "reason", "provider_code",
    "report_code", "report_reason", "delivered_via", "fallback_used", "cmid", "test", "accepted_at", "sent_at",
    "reported_at", "metadata",
)  # fmt: skip
# PutEvents takes at most 10 entries and 256 KiB per request.
MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024


def _outcome(record: dict[str, Any]) -> str:
    return outcome_of(record) or str(record.get("status"))


def detail_type(record: dict[str, Any]) -> str:
    outcome = _outcome(record)
    return DETAIL_TYPES.get(outcome, f"Notification {outcome.title()}")


def event_id(record: dict[str, Any]) -> str:
    """The same for every delivery of one transition: the record's id and the outcome it reached."""
    return f"{record.get('id')}:{_outcome(record)}"


def detail_of(record: dict[str, Any]) -> dict[str, Any]:
    detail = {k: record[k] for k in DETAIL_KEYS if record.get(k) is not None}
    if record.get("recipient"):
        detail["recipient_masked"] = phone.mask(str(record["recipient"]))
    detail["event_id"] = event_id(record)
    return detail


def entry_of(record: dict[str, Any], bus: str) -> dict[str, Any]:
    """The PutEvents entry for a record's transition."""
    return {
        "Source": SOURCE,
        "DetailType": detail_type(record),
        "Detail": json.dumps(detail_of(record), ensure_ascii=False, default=str),
        "EventBusName": bus,
        "Resources": [],
    }


def _entry_bytes(entry: dict[str, Any]) -> int:
    # EventBridge's own measure: Source, DetailType, Detail and each Resource in UTF-8 (no Time set).
    return sum(len(str(entry[k]).encode()) for k in ("Source", "DetailType", "Detail")) + sum(
        len(r.encode()) for r in entry["Resources"]
    )


def _requests(entries: list[dict[str, Any]]) -> list[list[int]]:
    """Indexes of `entries`, grouped into PutEvents requests within both limits."""
    requests: list[list[int]] = []
    size = 0
    for i, entry in enumerate(entries):
        n = _entry_bytes(entry)
        if not requests or len(requests[-1]) == MAX_ENTRIES or size + n > MAX_REQUEST_BYTES:
            requests.append([])
            size = 0
        requests[-1].append(i)
        size += n
    return requests


class EventBridgePublisher:
    """The TerminalEvents port: PutEvents, up to 10 entries a request, one answer per record."""

    def __init__(self, client: Any, bus_name: str = "default") -> None:
        self._client = client
        self._bus = bus_name or "default"

    def publish_all(self, records: Sequence[dict[str, Any]]) -> list[str | None]:
        entries = [entry_of(r, self._bus) for r in records]
        errors: list[str | None] = [None] * len(entries)
        for request in _requests(entries):
            try:
                resp = self._client.put_events(Entries=[entries[i] for i in request])
            except Exception as exc:  # any transport or service error: every entry of it is retried
                for i in request:
                    errors[i] = type(exc).__name__
                continue
            if not resp.get("FailedEntryCount"):
                continue
            # One answer per entry, in order: an ErrorCode marks the ones EventBridge did not take.
            for i, answer in zip(request, resp.get("Entries", []), strict=False):
                if answer.get("ErrorCode"):
                    errors[i] = f"{answer['ErrorCode']}: {answer.get('ErrorMessage', '')}".rstrip(": ")
        return errors
