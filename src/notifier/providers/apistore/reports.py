"""The provider's report APIs over the API Store wire: the poller's ReportSource.

ppurio: GET /ppurio/1/message/report/{client_id}?cmid=    (SMS, LMS, MMS, and the app's own fallback SMS)
kko:    GET /kko/1/report/{client_id}?cmid=               (AlimTalk, with the provider's fallback SMS)

Report calls are reads: any transport failure or HTTP error is "no report this time" and the record
is simply polled again; it can never send anything twice. The body is decoded here from the raw
bytes, not taken from Reply.body, because the not-ready answers include bare JSON strings and null,
which `ppurio` and `kko` below must see as they came.

Both report APIs answer "not yet" in several shapes (JSON null, an empty body, a bare string, an
object whose result_message is "result is null", an object with no result in it), and the
AlimTalk report mixes upper- and lower-case keys in one object: `ppurio` and `kko` read the decoded
JSON as it came and turn it into the domain's Pending, Final or NoReport.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from ...domain.record import message_id_of
from ...domain.reports import Final, NoReport, Pending, Report
from ...domain.verdict import ReportOutcome
from ...ports import Fetched
from .client import ApiStoreHttp, TransportError
from .codes import kko_msg_rslt, kko_rslt, ppurio_report, ppurio_send_outcome

PPURIO_REPORT = "/ppurio/1/message/report/{client_id}"
KKO_REPORT = "/kko/1/report/{client_id}"


class ApiStoreReports:
    def __init__(self, http: ApiStoreHttp, clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self.clock = clock

    def fetch(self, record: Mapping[str, Any]) -> Fetched:
        cmid = str(message_id_of(record))  # a digit string: never a number
        channel = str(record.get("channel_used") or "sms")
        alimtalk = channel == "alimtalk"
        # The live server took lower-case parameters (DESIGN.md); the spec's example spells it CMID.
        path = KKO_REPORT if alimtalk else PPURIO_REPORT
        started = self.clock()
        try:
            reply = self.http.call("GET", path, query={"cmid": cmid})
        except TransportError as exc:
            return Fetched(NoReport(exc.code, exc.reason), (self.clock() - started) * 1000)
        latency = (self.clock() - started) * 1000
        if reply.status != 200:
            return Fetched(NoReport(f"http-{reply.status}", f"provider HTTP {reply.status}"), latency)
        try:
            text = reply.raw.decode("utf-8").strip()
            payload = json.loads(text) if text else None
        except (UnicodeDecodeError, ValueError):
            return Fetched(NoReport("bad-reply", f"report is not JSON ({len(reply.raw)} bytes)"), latency)
        if alimtalk:
            kind = str(record.get("fallback_type") or "sms").lower()
            return Fetched(kko(payload, fallback_kind=kind if kind in ("sms", "lms") else "sms"), latency)
        return Fetched(ppurio(payload, channel), latency)


# ------------------------------------------------------------------------------------------------
# What a report body says (moved from domain/reports.py: these are API Store's shapes)
# ------------------------------------------------------------------------------------------------

NOT_READY_TEXTS = frozenset({"result is null", "null", "none", ""})


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


def _report_object(payload: Any) -> dict[str, str] | Pending | NoReport:
    """The report as a normalised object, or the answer when there is none yet (or it is not one)."""
    pending = _not_ready(payload)
    if pending is not None:
        return pending
    body = normalize(payload)
    if body is None:
        return NoReport("bad-reply", f"report is not a JSON object ({type(payload).__name__})")
    return body


def ppurio(payload: Any, channel: str) -> Report:
    """Read an SMS/LMS/MMS report. `channel` is the kind that was sent (sms, lms, mms)."""
    body = _report_object(payload)
    if not isinstance(body, dict):
        return body
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
    body = _report_object(payload)
    if not isinstance(body, dict):
        return body
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
