"""SOLAPI behind the product's ports: SMS/LMS/MMS and AlimTalk sends (a batch in one send-many
request), the poller's reports, and the AlimTalk templates for the pre-send check.

The ports speak the product's words (TextMessage, AlimTalkMessage, SendResult, Report); client.py
speaks SOLAPI's. This file only translates between the two.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from ...domain.record import message_id_of
from ...domain.reports import Final, NoReport, Pending
from ...domain.timefmt import KST
from ...domain.verdict import ReportOutcome, Verdict
from ...ports import AlimTalkMessage, Fetched, SendResult, TextMessage
from ..transport import TransportError
from .client import Kakao, KakaoButton, MessageResult, MessageType, OutMessage, SolapiClient, SolapiError

TEXT_TYPES: dict[str, MessageType] = {"sms": "SMS", "lms": "LMS", "mms": "MMS"}


def scheduled(send_time: str | None) -> str | None:
    """The product's send time (yyyyMMddHHmmss, KST) as SOLAPI's scheduledDate (ISO 8601 with offset)."""
    if not send_time:
        return None
    return datetime.strptime(send_time, "%Y%m%d%H%M%S").replace(tzinfo=KST).isoformat()


def _result(r: MessageResult, latency_ms: float) -> SendResult:
    accepted = r.verdict == Verdict.ACCEPTED
    return SendResult(r.verdict, r.code, r.reason, r.message_id if accepted else None, latency_ms)


class SolapiSender:
    """MessagingProvider and AlimTalkProvider: messages with one send time go in one request."""

    def __init__(self, client: SolapiClient, pf_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.pf_id = pf_id
        self.clock = clock

    def send_texts(self, msgs: Sequence[TextMessage]) -> list[SendResult]:
        out = [
            OutMessage(
                ref=str(i),
                type=TEXT_TYPES[m.kind],
                to=m.dest_phone,
                text=m.msg_body,
                from_=m.send_phone,
                subject=m.subject,
                image=m.files[0].content if m.files else None,
            )
            for i, m in enumerate(msgs)
        ]
        too_many = {str(i) for i, m in enumerate(msgs) if len(m.files) > 1}
        return self._send(out, [m.send_time for m in msgs], too_many)

    def send_alimtalks(self, msgs: Sequence[AlimTalkMessage]) -> list[SendResult]:
        out = [
            OutMessage(
                ref=str(i),
                type="ATA",
                to=m.phone,
                text=m.msg,
                from_=m.callback,
                kakao=Kakao(
                    pf_id=self.pf_id,
                    template_id=m.template_code,
                    buttons=tuple(KakaoButton(b.type, b.name, b.url, b.url2) for b in m.buttons),
                    # SOLAPI's own fallback resends the AlimTalk's text as SMS/LMS (it has no separate
                    # fallback text): on unless the event said none.
                    disable_sms=m.failed_type.upper() == "N",
                ),
            )
            for i, m in enumerate(msgs)
        ]
        refused = {str(i) for i, m in enumerate(msgs) if m.test}
        return self._send(out, [m.reqdate for m in msgs], refused, "SOLAPI has no test send for AlimTalk")

    def _send(
        self,
        out: list[OutMessage],
        times: list[str | None],
        refused: set[str],
        why: str = "SOLAPI takes one image per MMS",
    ) -> list[SendResult]:
        results: dict[str, SendResult] = {ref: SendResult(Verdict.REJECTED, "not-supported", why) for ref in refused}
        todo = sorted(
            ((t or "", m) for m, t in zip(out, times, strict=True) if m.ref not in refused), key=lambda pair: pair[0]
        )
        for send_time, group in groupby(todo, key=lambda pair: pair[0]):
            batch = [m for _, m in group]
            started = self.clock()
            answered = self.client.send_many(batch, scheduled_date=scheduled(send_time or None))
            latency = (self.clock() - started) * 1000
            results.update({r.ref: _result(r, latency) for r in answered})
        return [results[m.ref] for m in out]


class SolapiReports:
    """ReportSource: a read can never send anything, so every failure is "no report this time"."""

    def __init__(self, client: SolapiClient, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.clock = clock

    def fetch(self, record: Mapping[str, Any]) -> Fetched:
        message_id = message_id_of(record)
        started = self.clock()
        if not message_id:
            return Fetched(NoReport("no-message-id", "the record has no SOLAPI message id"))
        try:
            r = self.client.report(message_id)
        except TransportError as exc:
            return Fetched(NoReport(exc.code, exc.reason), (self.clock() - started) * 1000)
        except SolapiError as exc:
            return Fetched(NoReport(exc.error.code, exc.error.reason), (self.clock() - started) * 1000)
        latency = (self.clock() - started) * 1000
        if r.outcome == ReportOutcome.PENDING:
            return Fetched(Pending(f"statusCode {r.code or 'not listed yet'}: {r.reason}"), latency)
        final = Final(
            status="delivered" if r.outcome == ReportOutcome.DELIVERED else "failed",
            report_code=r.code,
            report_reason=r.reason,
            delivered_via=r.delivered_via,
            fallback_used=r.fallback_used,
            # report_code holds SOLAPI's statusCode (AlimTalk's/fallback's when its SMS fallback decided);
            # the record's report_<field> columns are API Store's fields, so none are added here.
        )
        return Fetched(final, latency)
