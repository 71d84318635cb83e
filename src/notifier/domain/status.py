"""The statuses of a record (DESIGN.md, "The record") and which moves between them are allowed."""

from __future__ import annotations

from enum import StrEnum


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
