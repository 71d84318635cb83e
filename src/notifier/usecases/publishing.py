"""Telling the application: one event per terminal transition, by the writer that won it."""

from __future__ import annotations

from typing import Any

from ..ports import RecordStore, TerminalEvents


class Publisher:
    def __init__(self, records: RecordStore, events: TerminalEvents | None) -> None:
        self.records = records
        self.events = events

    def publish(self, record: dict[str, Any]) -> None:
        # Only the writer that won the conditional transition gets here: one event per transition.
        if self.events is not None:
            self.events.publish(record)

    def publish_current(self, record_id: str) -> None:
        if self.events is not None:
            record = self.records.get(record_id)
            if record is not None:
                self.events.publish(record)
