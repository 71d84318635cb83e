"""The provider's report APIs over the API Store wire: the poller's ReportSource.

ppurio: GET /ppurio/1/message/report/{client_id}?cmid=    (SMS, LMS, MMS, and the app's own fallback SMS)
kko:    GET /kko/1/report/{client_id}?cmid=               (AlimTalk, with the provider's fallback SMS)

Report calls are reads: any transport failure or HTTP error is "no report this time" and the record
is simply polled again; it can never send anything twice. The body is decoded here from the raw
bytes, not taken from Reply.body, because the not-ready answers include bare JSON strings and null,
which the domain must see as they came.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from ...domain import reports
from ...domain.record import message_id_of
from ...domain.reports import NoReport
from ...ports import Fetched
from .client import ApiStoreHttp, TransportError

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
            return Fetched(reports.kko(payload, fallback_kind=kind if kind in ("sms", "lms") else "sms"), latency)
        return Fetched(reports.ppurio(payload, channel), latency)
