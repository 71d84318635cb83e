"""What a delivery report says, and when to ask again.

Both report APIs answer "not yet" in several shapes (JSON null, an empty body, a bare string, an
object whose result_message is "result is null", an object with no result in it), and the
AlimTalk report mixes upper- and lower-case keys in one object. Everything here reads the
decoded JSON as it came and turns it into one of three answers: `Pending` (ask again later),
`Final` (delivered or failed, with the provider's code and the spec's reason), or `NoReport`
(the provider answered with an error instead of a report: ask again later, and count it).

Pure domain: standard library only.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ..providers.apistore.codes import kko_msg_rslt, kko_rslt, ppurio_report, ppurio_send_outcome
from .timefmt import KST
from .verdict import ReportOutcome

# Intervals after the n-th unanswered poll (the dispatcher schedules the first poll a minute after
# the send time): polls at about 1, 3, 8, 18, 48 minutes, then every 30 minutes until the expiry.
BACKOFF_S: tuple[int, ...] = (120, 300, 600, 1800)
FIRST_POLL_S = 60
# Carriers give a final result within 72 hours; AWS End User Messaging applies the same rule.
REPORT_EXPIRY_HOURS = 72.0

NOT_READY_TEXTS = frozenset({"result is null", "null", "none", ""})


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


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


def normalize(payload: Any) -> dict[str, str] | None:
    """A report object with lower-case keys and stripped text values; None when it is not an object."""
    if not isinstance(payload, Mapping):
        return None
    return {str(k).strip().lower(): _text(v) for k, v in payload.items()}


def _not_ready(payload: Any) -> Pending | None:
    """The null-ish shapes a report takes before it exists (or for a cmid the server does not know)."""
    if payload is None:
        return Pending("not ready (null reply)")
    if isinstance(payload, str):
        text = payload.strip()
        return Pending(f"not ready ({text!r})" if text else "not ready (empty reply)")
    if isinstance(payload, list) and not payload:
        return Pending("not ready (empty list)")
    return None


def _error_or_pending(body: dict[str, str], what: str) -> Pending | NoReport:
    """An object without the report's fields: a "result is null" message, or an error result_code."""
    message = body.get("result_message") or body.get("result_msg") or ""
    code = body.get("result_code", "")
    if message.lower() in NOT_READY_TEXTS and code in ("", "200"):
        return Pending(f"not ready ({message or 'no ' + what})")
    if code and code != "200":
        known = ppurio_send_outcome(code)
        reason = known.reason if known.verdict != "unknown" else f"result_code {code}"
        return NoReport(code, reason + (f" (provider said: {message})" if message else ""))
    return Pending(f"not ready (no {what}{'; ' + message if message else ''})")


# ------------------------------------------------------------------------------------------------
# ppurio: GET /ppurio/1/message/report/{client_id}?cmid=
# ------------------------------------------------------------------------------------------------


def ppurio(payload: Any, channel: str) -> Report:
    """Read an SMS/LMS/MMS report. `channel` is the kind that was sent (sms, lms, mms)."""
    pending = _not_ready(payload)
    if pending is not None:
        return pending
    body = normalize(payload)
    if body is None:
        return NoReport("bad-reply", f"report is not a JSON object ({type(payload).__name__})")
    status = body.get("call_status", "")
    if not status:
        return _error_or_pending(body, "call_status")
    code = ppurio_report(status)
    delivered = code.outcome == ReportOutcome.DELIVERED
    return Final(
        status="delivered" if delivered else "failed",
        report_code=status,
        report_reason=code.reason,
        delivered_via=channel if delivered else None,
        report_time=body.get("report_time") or None,
        codes={"call_status": status},
    )


# ------------------------------------------------------------------------------------------------
# kko: GET /kko/1/report/{client_id}?cmid=
# ------------------------------------------------------------------------------------------------

KKO_WAITING = {"1": "STATUS 1 (waiting to be sent)", "2": "STATUS 2 (sent, waiting for the result)"}
KKO_FINAL = "3"
KKO_ERROR = "4"


def _kko_reason(rslt: str, msg_rslt: str) -> str:
    first = kko_rslt(rslt)
    text = f"AlimTalk RSLT {rslt}: {first.reason}"
    if msg_rslt:
        second = kko_msg_rslt(msg_rslt)
        text += f"; fallback SMS MSG_RSLT {msg_rslt}: {second.reason}"
    return text


def kko(payload: Any, fallback_kind: str = "sms") -> Report:
    """Read an AlimTalk report. `fallback_kind` is what the provider was asked to send if Kakao
    failed (sms or lms), so a delivered fallback says which."""
    pending = _not_ready(payload)
    if pending is not None:
        return pending
    body = normalize(payload)
    if body is None:
        return NoReport("bad-reply", f"report is not a JSON object ({type(payload).__name__})")
    status = body.get("status", "")
    rslt = body.get("rslt", "")
    msg_rslt = body.get("msg_rslt", "")
    codes = {"status": status, "rslt": rslt, "msg_rslt": msg_rslt}
    if status in KKO_WAITING:
        return Pending(KKO_WAITING[status])
    if status == KKO_ERROR:
        # The live server used STATUS 4 on error: final, whatever the result fields say.
        detail = _kko_reason(rslt, msg_rslt) if rslt else "no RSLT given"
        return Final(
            "failed",
            "/".join(c for c in (rslt, msg_rslt) if c) or "STATUS 4",
            f"provider reported an error (STATUS 4); {detail}",
            codes=codes,
        )
    if not rslt:
        if not status:
            return _error_or_pending(body, "STATUS")
        return Pending(f"STATUS {status} without RSLT")
    first = kko_rslt(rslt)
    if first.outcome == ReportOutcome.DELIVERED:
        return Final("delivered", rslt, _kko_reason(rslt, ""), "alimtalk", False, codes=codes)
    if msg_rslt and kko_msg_rslt(msg_rslt).outcome == ReportOutcome.DELIVERED:
        return Final(
            "delivered",
            f"{rslt}/{msg_rslt}",
            _kko_reason(rslt, msg_rslt),
            fallback_kind or "sms",
            True,
            codes=codes,
        )
    return Final(
        "failed",
        f"{rslt}/{msg_rslt}" if msg_rslt else rslt,
        _kko_reason(rslt, msg_rslt) if msg_rslt else _kko_reason(rslt, "") + "; no fallback SMS was sent",
        None,
        bool(msg_rslt),
        codes=codes,
    )


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
