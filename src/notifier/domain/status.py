"""The statuses of a record (DESIGN.md, "The record") and which moves between them are allowed."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    SENDING = "sending"  # claimed by a dispatcher; the provider call is in flight (or will be retried)
    SENT = "sent"  # the provider accepted it (has a cmid); waiting for the report
    DELIVERED = "delivered"
    FAILED = "failed"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


TERMINAL = frozenset({Status.DELIVERED, Status.FAILED, Status.REJECTED, Status.UNKNOWN})

ALLOWED: dict[Status, frozenset[Status]] = {
    Status.SENDING: frozenset({Status.SENT, Status.REJECTED, Status.FAILED, Status.UNKNOWN, Status.SENDING}),
    Status.SENT: frozenset({Status.DELIVERED, Status.FAILED, Status.UNKNOWN}),
    # A failure that exhausted its retries went to the DLQ; an operator's redrive may claim it again.
    Status.FAILED: frozenset({Status.SENDING}),
    Status.DELIVERED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.UNKNOWN: frozenset(),
}


def is_terminal(status: str) -> bool:
    return status in TERMINAL


def can_move(src: str, dst: str) -> bool:
    try:
        return Status(dst) in ALLOWED[Status(src)]
    except ValueError:
        return False


# A test send accepted by the provider's test endpoint: its final word, published as "Notification Tested".
TESTED = "tested"


def outcome_of(record: Mapping[str, Any]) -> str | None:
    """What a record's current state tells the application: its terminal status, "tested" for an
    accepted test send (never polled, so `sent` is final for it), or None while it is still going."""
    status = str(record.get("status"))
    if is_terminal(status):
        return status
    if status == Status.SENT and record.get("test"):
        return TESTED
    return None


def transition(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str | None:
    """The outcome a write of `old` -> `new` reached, or None when it reached none: no new image (a
    TTL delete), a state that is not an outcome, or a later write to a record already in that status
    (not a transition)."""
    if new is None:
        return None
    outcome = outcome_of(new)
    if outcome is None or (old is not None and old.get("status") == new.get("status")):
        return None
    return outcome
