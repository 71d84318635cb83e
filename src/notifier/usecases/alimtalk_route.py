"""The AlimTalk route: check the event against its approved template, prepare it with the provider's
SMS fallback, and where the AlimTalk is refused synchronously prepare the fallback SMS/LMS the app
sends itself, once, under the same claim. The dispatcher sends what this prepares, in batches."""

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
    RecordStore,
    SendResult,
    TemplateSource,
    TemplatesUnavailable,
    TextMessage,
)
from .dispatching import Inbound, Ready, Send, Settings, Step
from .duplicates import duplicate
from .settling import Settler

log = logging.getLogger("notifier.dispatch")


class AlimTalkRoute:
    def __init__(
        self,
        *,
        records: RecordStore,
        templates: TemplateSource,
        settings: Settings,
        settler: Settler,
        clock: Callable[[], float],
    ) -> None:
        self.records = records
        self.templates = templates
        self.settings = settings
        self.settler = settler
        self.clock = clock

    def prepare(self, event: Event, p: Plan, m: Inbound) -> Ready:
        """Before the claim: the template read and checked and the AlimTalk built. What follows the
        claim at once: the AlimTalk to send, or the outcome that ends it before any send (a refused
        check, templates unreadable) or the app-side fallback SMS."""
        assert event.alimtalk is not None
        a = event.alimtalk
        last_try = m.receive_count >= self.settings.max_receive_count
        # A test send must never turn into a real SMS, so test mode has no app-side fallback.
        app_fallback = a.fallback != "none" and not event.test
        try:
            template = self.templates.get(a.template_code)
        except TemplatesUnavailable as exc:
            if last_try and a.fallback != "none":
                why = f"{exc}; still so after {m.receive_count} deliveries"
                return lambda token: self.app_fallback(event, p, token, m, "templates", why)
            unreadable = SendResult(Verdict.RETRY, "templates", str(exc))
            return lambda token: self.settler.settle(event, p, token, m, unreadable)
        checked = check(a, event.text, template)
        if isinstance(checked, CheckFailure):
            failure = checked
            if failure.producer_error or not app_fallback:
                refused = SendResult(Verdict.REJECTED, f"check:{failure.kind}", failure.reason)
                return lambda token: self.settler.settle(event, p, token, m, refused)
            return lambda token: self.app_fallback(event, p, token, m, f"check:{failure.kind}", failure.reason)
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
        route = {"fallback": "provider" if fb.failed_type != "N" else "none", "fallback_type": fb.failed_type}

        def send(token: str) -> Step:
            def settle(result: SendResult) -> Step:
                if result.verdict == "fallback" and app_fallback:
                    return self.app_fallback(event, p, token, m, result.code, result.reason)
                if result.verdict == "retry" and last_try and app_fallback:
                    reason = f"{result.reason}; AlimTalk still unavailable after {m.receive_count} deliveries"
                    return self.app_fallback(event, p, token, m, result.code, reason)
                return self.settler.settle(event, p, token, m, result, extra=route)

            log.info("sending", extra={"record_id": event.id, "channel": "alimtalk", "to": phone.mask(event.to)})
            return Send(event.id, token, msg, settle)

        return send

    def app_fallback(self, event: Event, p: Plan, token: str, m: Inbound, code: str, reason: str) -> Step:
        """The AlimTalk route refused synchronously: the fallback SMS/LMS is ours to send, now."""
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
        return self.fallback_sms(event, p, token, m)

    def fallback_sms(self, event: Event, p: Plan, token: str, m: Inbound) -> Send:
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
        sent_as = replace(p, channel_used=kind)
        return Send(
            event.id,
            token,
            msg,
            lambda result: self.settler.settle(event, sent_as, token, m, result, extra={"channel_used": kind}),
        )
