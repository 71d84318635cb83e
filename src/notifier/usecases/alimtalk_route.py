"""The AlimTalk route: check the event against its approved template, send it with the provider's
SMS fallback, and where the AlimTalk is refused synchronously send the fallback SMS/LMS from the app,
once, under the same claim."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from ..domain import phone
from ..domain import record as rec
from ..domain.alimtalk import CheckFailure, check, fallback_text, provider_fallback
from ..domain.event import Event
from ..domain.limits import REASON_MAX_CHARS, bounded
from ..domain.plan import Plan, sms_or_lms
from ..domain.timefmt import iso_utc
from ..domain.verdict import Verdict
from ..ports import (
    AlimTalkMessage,
    AlimTalkProvider,
    MessagingProvider,
    RecordStore,
    SendResult,
    TemplateSource,
    TemplatesUnavailable,
    TextMessage,
)
from .dispatching import Inbound, Outcome, Settings, only
from .duplicates import duplicate
from .settling import Settler

log = logging.getLogger("notifier.dispatch")


class AlimTalkRoute:
    def __init__(
        self,
        *,
        records: RecordStore,
        provider: MessagingProvider,
        alimtalk: AlimTalkProvider,
        templates: TemplateSource,
        settings: Settings,
        settler: Settler,
        clock: Callable[[], float],
    ) -> None:
        self.records = records
        self.provider = provider
        self.alimtalk = alimtalk
        self.templates = templates
        self.settings = settings
        self.settler = settler
        self.clock = clock

    def send(self, event: Event, p: Plan, token: str, m: Inbound) -> Outcome:
        assert event.alimtalk is not None
        a = event.alimtalk
        last_try = m.receive_count >= self.settings.max_receive_count
        # A test send must never turn into a real SMS, so test mode has no app-side fallback.
        app_fallback = a.fallback != "none" and not event.test
        try:
            template = self.templates.get(a.template_code)
        except TemplatesUnavailable as exc:
            if last_try and a.fallback != "none":
                return self.app_fallback(
                    event, p, token, m, "templates", f"{exc}; still so after {m.receive_count} deliveries"
                )
            return self.settler.settle(event, p, token, m, SendResult(Verdict.RETRY, "templates", str(exc)))
        checked = check(a, event.text, template)
        if isinstance(checked, CheckFailure):
            if checked.producer_error or not app_fallback:
                return self.settler.settle(
                    event, p, token, m, SendResult(Verdict.REJECTED, f"check:{checked.kind}", checked.reason)
                )
            return self.app_fallback(event, p, token, m, f"check:{checked.kind}", checked.reason)
        assert template is not None
        fb = provider_fallback(event, template.name)
        msg = AlimTalkMessage(
            phone=event.to,
            callback=p.sender,
            msg=checked.text,
            template_code=a.template_code,
            failed_type=fb.failed_type,
            failed_subject=fb.subject,
            failed_msg=fb.text,
            reqdate=p.send_time,
            buttons=checked.buttons,
            test=event.test,
        )
        log.info("sending", extra={"record_id": event.id, "channel": "alimtalk", "to": phone.mask(event.to)})
        result = only(self.alimtalk.send_alimtalks([msg]))
        route = {"fallback": "provider" if fb.failed_type != "N" else "none", "fallback_type": fb.failed_type}
        if result.verdict == "fallback" and app_fallback:
            return self.app_fallback(event, p, token, m, result.code, result.reason)
        if result.verdict == "retry" and last_try and app_fallback:
            reason = f"{result.reason}; AlimTalk still unavailable after {m.receive_count} deliveries"
            return self.app_fallback(event, p, token, m, result.code, reason)
        return self.settler.settle(event, p, token, m, result, extra=route)

    def app_fallback(self, event: Event, p: Plan, token: str, m: Inbound, code: str, reason: str) -> Outcome:
        """The AlimTalk route refused synchronously: send the fallback SMS/LMS now, ourselves."""
        rid = event.id
        # Written before the SMS goes out, so a redelivery after a crash or a retry never tries
        # the AlimTalk again; and the claim token still guards the single SMS.
        change = rec.fall_back(
            token=token,
            code=code,
            reason=bounded(reason, REASON_MAX_CHARS),
            record_reason=bounded(
                f"AlimTalk not sent ({reason}); sent as SMS/LMS by the app instead", REASON_MAX_CHARS
            ),
            now=iso_utc(self.clock()),
        )
        if not self.records.apply(rid, change):
            log.error("claim lost before the fallback SMS", extra={"record_id": rid})
            return duplicate(rid, self.records.get(rid) or {"status": ""})
        log.warning("AlimTalk refused, sending SMS instead", extra={"record_id": rid, "code": code, "reason": reason})
        return self.send_fallback_sms(event, p, token, m)

    def send_fallback_sms(self, event: Event, p: Plan, token: str, m: Inbound) -> Outcome:
        assert event.alimtalk is not None
        a = event.alimtalk
        body = fallback_text(event)
        kind = {"sms": "sms", "lms": "lms"}.get(a.fallback) or sms_or_lms(body)[0]
        msg = TextMessage(
            kind=kind,  # type: ignore[arg-type]
            dest_phone=event.to,
            send_phone=p.sender,
            msg_body=body,
            subject=(a.fallback_subject or event.subject) if kind != "sms" else None,
            dest_name=event.to_name,
            send_name=event.from_name,
            send_time=p.send_time,
        )
        log.info("sending", extra={"record_id": event.id, "channel": kind, "to": phone.mask(event.to)})
        result = only(self.provider.send_texts([msg]))
        return self.settler.settle(event, replace(p, channel_used=kind), token, m, result, extra={"channel_used": kind})
