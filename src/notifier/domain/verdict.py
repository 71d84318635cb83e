"""The provider-neutral words for what a provider said: one verdict for a send, one outcome for a
report. Every provider's code table maps its codes onto these; the use cases read nothing else.

Pure domain: standard library only.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """What a send attempt means for the message, whatever provider answered."""

    ACCEPTED = "accepted"
    """The provider took the message (it has the provider's message id)."""
    REJECTED = "rejected"
    """The provider refused the message's parameters; retrying the same request cannot help."""
    RETRY = "retry"
    """Surely not accepted, so retrying later cannot send it twice."""
    FALLBACK = "fallback"
    """AlimTalk only: the AlimTalk route refused synchronously; the app may send SMS/LMS instead."""
    UNKNOWN = "unknown"
    """Whether the message was accepted is not known (a code outside the table, a lost reply)."""


class ReportOutcome(StrEnum):
    """What one delivery-report code says about the message."""

    DELIVERED = "delivered"
    FAILED = "failed"
    PENDING = "pending"
