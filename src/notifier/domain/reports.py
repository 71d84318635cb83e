"""What a delivery report means to the poller, whatever provider gave it, and when to ask again.

A provider's report source (providers/<name>/reports.py) reads its report API's bodies, in all the
shapes "not yet" takes there, and turns each into one of three answers: `Pending` (ask again
later), `Final` (delivered or failed, with the provider's code and its reason), or `NoReport` (the
provider answered with an error instead of a report: ask again later, and count it). Here: those
answers, the poll shards, the back-off and the expiry.

Pure domain: standard library only.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from .timefmt import KST

# Intervals after the n-th unanswered poll (the dispatcher schedules the first poll a minute after
# the send time): polls at about 1, 3, 8, 18, 48 minutes, then every 30 minutes until the expiry.
BACKOFF_S: tuple[int, ...] = (120, 300, 600, 1800)
FIRST_POLL_S = 60
# Carriers give a final result within 72 hours; AWS End User Messaging applies the same rule.
REPORT_EXPIRY_HOURS = 72.0


@dataclass(frozen=True, slots=True)
class Pending:
    """No final result yet: poll again after the back-off."""

    detail: str


@dataclass(frozen=True, slots=True)
class NoReport:
    """The provider answered with an error (or garbage) instead of a report."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Final:
    status: Literal["delivered", "failed"]
    report_code: str
    """ppurio: the call_status. kko: the RSLT, or "RSLT/MSG_RSLT" when the fallback SMS has a result."""
    report_reason: str
    delivered_via: str | None = None
    """"alimtalk", or the SMS/LMS/MMS kind that reached the phone; None when nothing did."""
    fallback_used: bool | None = None
    """kko only: whether the provider's fallback SMS/LMS was sent after the AlimTalk failed."""
    report_time: str | None = None
    codes: dict[str, str] = field(default_factory=dict)
    """The provider's fields verbatim (call_status, or status/rslt/msg_rslt), for the record."""


Report = Pending | Final | NoReport


# ------------------------------------------------------------------------------------------------
# When to ask again, and when to stop asking
# ------------------------------------------------------------------------------------------------


def poll_shard(record_id: str, shards: int) -> str:
    """The partition of the sparse `pending` index a record goes in: stable, and spread evenly so no
    index partition runs hot. The dispatcher writes it; the poller queries every one."""
    return str(zlib.crc32(record_id.encode()) % shards)


def delay_after(polls: int) -> int:
    """Seconds to wait after the `polls`-th poll (1-based) that gave no final result."""
    if polls < 1:
        return FIRST_POLL_S
    return BACKOFF_S[min(polls, len(BACKOFF_S)) - 1]


def _epoch_of_iso(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _epoch_of_kst(text: str) -> float | None:
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=KST).timestamp()
    except ValueError:
        return None


def sent_moment(record: Mapping[str, Any]) -> float | None:
    """When the message left (or leaves) the provider: the scheduled send time if later than the send."""
    sent = _epoch_of_iso(str(record.get("sent_at") or "")) if record.get("sent_at") else None
    scheduled = _epoch_of_kst(str(record.get("scheduled_for") or "")) if record.get("scheduled_for") else None
    moments = [m for m in (sent, scheduled) if m is not None]
    return max(moments) if moments else None


def report_deadline(record: Mapping[str, Any], expiry_hours: float = REPORT_EXPIRY_HOURS) -> float | None:
    """Epoch seconds after which no final report is expected any more; None when the record has no send time."""
    moment = sent_moment(record)
    return None if moment is None else moment + expiry_hours * 3600


def next_poll(now: float, polls: int, deadline: float | None) -> int:
    """The next poll time, never past the deadline, so an expired record is settled on time."""
    at = now + delay_after(polls)
    if deadline is not None:
        at = min(at, max(deadline, now + 1))
    return int(at)


def expired(now: float, deadline: float | None) -> bool:
    return deadline is not None and now >= deadline


def expiry_reason(expiry_hours: float, last: Pending | NoReport) -> str:
    hours = f"{expiry_hours:g}"
    last_text = last.detail if isinstance(last, Pending) else f"error {last.code}: {last.reason}"
    return f"no final delivery report within {hours} hours of sending (last answer: {last_text})"
