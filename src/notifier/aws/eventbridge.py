"""Terminal transitions to EventBridge, so an application can subscribe with a rule.

Called only by the writer that won the conditional transition, so each transition is published
once. A failed PutEvents is retried a little, then logged and counted: the record stays the
source of truth and the transition is never undone for want of an event.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from ..domain import phone

log = logging.getLogger("notifier.events")

SOURCE = "kr-notifier"
DETAIL_TYPES = {
    "delivered": "Notification Delivered",
    "failed": "Notification Failed",
    "unknown": "Notification Unknown",
    "rejected": "Notification Rejected",
}
DETAIL_KEYS = (
    "id", "status", "channel_requested", "channel_used", "fallback", "reason", "provider_code",
    "report_code", "report_reason", "delivered_via", "fallback_used", "cmid", "test", "accepted_at", "sent_at",
    "reported_at", "metadata",
)  # fmt: skip


def detail_type(record: dict[str, Any]) -> str:
    status = str(record.get("status"))
    if record.get("test") and status == "sent":
        return "Notification Tested"  # msg_test accepted it: the verdict a test send asks for
    return DETAIL_TYPES.get(status, f"Notification {status.title()}")


def detail_of(record: dict[str, Any]) -> dict[str, Any]:
    detail = {k: record[k] for k in DETAIL_KEYS if record.get(k) is not None}
    if record.get("recipient"):
        detail["recipient_masked"] = phone.mask(str(record["recipient"]))
    return detail


def entry_of(record: dict[str, Any], bus: str) -> dict[str, Any]:
    """The PutEvents entry for a record's terminal transition."""
    return {
        "Source": SOURCE,
        "DetailType": detail_type(record),
        "Detail": json.dumps(detail_of(record), ensure_ascii=False, default=str),
        "EventBusName": bus,
        "Resources": [],
    }


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str = "default", attempts: int = 3) -> None:
        self._client = client
        self._bus = bus_name or "default"
        self._attempts = attempts
        self.failures = 0

    def publish(self, record: dict[str, Any]) -> None:
        entry = entry_of(record, self._bus)
        for attempt in range(1, self._attempts + 1):
            try:
                resp = self._client.put_events(Entries=[entry])
                if not resp.get("FailedEntryCount"):
                    return
                error = resp["Entries"][0].get("ErrorCode", "failed entry")
            except Exception as exc:  # any transport or service error: the transition itself stands
                error = type(exc).__name__
            if attempt < self._attempts:
                time.sleep(0.05 * 2**attempt)
        self.failures += 1
        log.error("terminal event not published", extra={"record_id": record.get("id"), "error": error})
