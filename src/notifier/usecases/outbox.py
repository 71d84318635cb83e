"""The record is the outbox: every committed transition to an outcome reaches the application.

The outbox function reads the records table's stream (each write's old and new image) and publishes
the writes that reached an outcome: a terminal status, or a test send's acceptance. Because it reads
what was committed, a writer that dies right after its write loses nothing; because the stream
redelivers what was not confirmed, an event may arrive twice, with the same `event_id`.

No boto3: the stream's images arrive already plain (handlers/outbox.py), the bus through a port.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..domain.status import transition
from ..ports import TerminalEvents

log = logging.getLogger("notifier.outbox")


@dataclass(frozen=True)
class Write:
    """One stream record: its key (the sequence number) and the record before and after the write."""

    key: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None


@dataclass
class Published:
    published: list[dict[str, Any]] = field(default_factory=list)  # the records whose event the bus took
    failed: dict[str, str] = field(default_factory=dict)  # write key -> why its event was not taken
    skipped: int = 0  # writes that reached no outcome


class Outbox:
    def __init__(self, events: TerminalEvents) -> None:
        self.events = events

    def publish(self, writes: Sequence[Write]) -> Published:
        due = [w for w in writes if transition(w.old, w.new) is not None]
        result = Published(skipped=len(writes) - len(due))
        if not due:
            return result
        records = [w.new for w in due if w.new is not None]
        for write, record, error in zip(due, records, self.events.publish_all(records), strict=True):
            if error is None:
                result.published.append(record)
            else:
                result.failed[write.key] = error
                log.warning(
                    "event not taken by the bus; the stream retries it",
                    extra={"record_id": record.get("id"), "error": error},
                )
        return result
