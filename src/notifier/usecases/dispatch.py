"""The dispatch use case: one SQS message in, at most one provider send out, one record kept.

The record is the claim: it is written before the provider call (claiming.py), so a redelivered or
concurrent duplicate finds it and does not send. Its parts, one idea each: parsing.py (body to event,
or the rejection), rejection.py, claiming.py (claim and lease) with duplicates.py, mms.py (image
limits), alimtalk_route.py (template check, provider and app-side fallback), settling.py (the
provider's result to the record), publishing.py (terminal events). This file routes between them.

No boto3, no urllib3: the store, the provider and the attachment store come in through ports.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from ..domain import phone
from ..domain import record as rec
from ..domain.event import Event
from ..domain.plan import Plan
from ..domain.verdict import Verdict
from ..ports import (
    AlimTalkProvider,
    AttachmentError,
    AttachmentStore,
    MessagingProvider,
    RecordStore,
    SendResult,
    TemplateSource,
    TerminalEvents,
    TextMessage,
)
from . import mms
from .alimtalk_route import AlimTalkRoute
from .claiming import Claimed, Claims
from .dispatching import Inbound, Outcome, Settings, only
from .parsing import Rejection, parse
from .publishing import Publisher
from .rejection import Rejecter
from .settling import Settler

__all__ = ["Dispatcher", "Inbound", "Outcome", "Settings"]

log = logging.getLogger("notifier.dispatch")


class Dispatcher:
    def __init__(
        self,
        *,
        records: RecordStore,
        provider: MessagingProvider,
        settings: Settings,
        attachments: AttachmentStore | None = None,
        events: TerminalEvents | None = None,
        alimtalk: AlimTalkProvider | None = None,
        templates: TemplateSource | None = None,
        clock: Callable[[], float] = time.time,
        new_token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.provider = provider
        self.settings = settings
        self.attachments = attachments
        self.events = events
        self.alimtalk = alimtalk
        self.templates = templates
        self.clock = clock
        self.new_token = new_token
        self.records = records  # builds the parts, which share this store

    @property
    def records(self) -> RecordStore:
        return self._records

    @records.setter
    def records(self, store: RecordStore) -> None:
        # The benchmark swaps the store of a live dispatcher; every part must then use the new one.
        self._records = store
        self.publisher = Publisher(store, self.events)
        self.rejecter = Rejecter(store, self.settings, self.publisher)
        self.claims = Claims(store, self.settings, self.publisher, self.new_token)
        self.settler = Settler(store, self.settings, self.publisher, self.clock)
        self.alimtalk_route = None
        if self.alimtalk is not None and self.templates is not None:
            self.alimtalk_route = AlimTalkRoute(
                records=store,
                provider=self.provider,
                alimtalk=self.alimtalk,
                templates=self.templates,
                settings=self.settings,
                settler=self.settler,
                clock=self.clock,
            )

    def handle(self, m: Inbound) -> Outcome:
        now = self.clock()
        parsed = parse(m, now, self.settings, alimtalk=self.alimtalk_route is not None)
        if isinstance(parsed, Rejection):
            return self.rejecter.reject(parsed, m, now)
        event, p = parsed.event, parsed.plan
        claimed = self.claims.claim(event, p, m, now, parsed.fingerprint)
        if not isinstance(claimed, Claimed):
            return claimed
        if p.channel_used != "alimtalk":
            return self._send_text(event, p, claimed.token, m)
        assert self.alimtalk_route is not None  # parse rejects AlimTalk where it is not configured
        if claimed.phase == rec.SMS_FALLBACK_PHASE:
            # A redelivery after the AlimTalk was refused: never a second AlimTalk, only the SMS.
            return self.alimtalk_route.send_fallback_sms(event, p, claimed.token, m)
        return self.alimtalk_route.send(event, p, claimed.token, m)

    def _send_text(self, event: Event, p: Plan, token: str, m: Inbound) -> Outcome:
        try:
            files = mms.files(event, self.attachments)
        except AttachmentError as exc:
            result = SendResult(Verdict.RETRY if exc.retryable else Verdict.REJECTED, "attachment", exc.reason)
            return self.settler.settle(event, p, token, m, result)
        msg = TextMessage(
            kind=p.channel_used,  # type: ignore[arg-type]
            dest_phone=event.to,
            send_phone=p.sender,
            msg_body=event.text,
            subject=event.subject if p.channel_used != "sms" else None,
            dest_name=event.to_name,
            send_name=event.from_name,
            send_time=p.send_time,
            files=files,
        )
        log.info(
            "sending",
            extra={"record_id": event.id, "channel": p.channel_used, "to": phone.mask(event.to)},
        )
        result = only(self.provider.send_texts([msg]))
        return self.settler.settle(event, p, token, m, result)
