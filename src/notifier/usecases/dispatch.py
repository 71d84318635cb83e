"""The dispatch use case: a batch of SQS messages in, at most one provider send per message out, one
record kept per message. The batch goes in phases: prepare each (parse, check, read its attachments
or template, build the provider message), claim it, mark the claims of all that are ready, one
provider call per kind for them, settle each from its own result.

The record is the claim: it is written before the provider call (claiming.py), so a redelivered or
concurrent duplicate finds it and does not send. Whatever can fail or take time comes before the
claim, so only the dispatch mark separates a claim from its send, and a dispatcher that stops
between the two leaves a claim that the next delivery takes over instead of calling it `unknown`.
Its parts, one idea each: parsing.py (body to event, or the rejection), rejection.py, claiming.py
(claim, lease and mark) with duplicates.py, mms.py (image limits), alimtalk_route.py (template check,
provider and app-side fallback), settling.py (the provider's result to the record). This file routes
between them. Outcomes reach the application from the table's stream (usecases/outbox.py), not from
here: the record is the outbox.

No boto3, no urllib3: the store, the provider and the attachment store come in through ports.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import cast

from ..domain import phone
from ..domain import record as rec
from ..domain.event import Event
from ..domain.plan import Plan
from ..domain.verdict import Verdict
from ..ports import (
    AlimTalkMessage,
    AlimTalkProvider,
    AttachmentError,
    AttachmentStore,
    MessagingProvider,
    RecordStore,
    SendResult,
    TemplateSource,
    TextMessage,
)
from . import mms
from .alimtalk_route import AlimTalkRoute
from .claiming import Claimed, Claims
from .dispatching import Inbound, Outcome, Ready, Send, Settings, Step, per_message
from .parsing import Rejection, parse
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
        alimtalk: AlimTalkProvider | None = None,
        templates: TemplateSource | None = None,
        clock: Callable[[], float] = time.time,
        new_token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.provider = provider
        self.settings = settings
        self.attachments = attachments
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
        self.rejecter = Rejecter(store, self.settings)
        self.claims = Claims(store, self.settings, self.new_token, self.clock)
        self.settler = Settler(store, self.settings, self.clock)
        self.alimtalk_route = None
        if self.alimtalk is not None and self.templates is not None:
            self.alimtalk_route = AlimTalkRoute(
                records=store,
                templates=self.templates,
                settings=self.settings,
                settler=self.settler,
                clock=self.clock,
            )

    def handle(self, m: Inbound) -> Outcome:
        """One message: a batch of one. An error it raised is raised here."""
        [done] = self.handle_batch([m])
        if isinstance(done, Exception):
            raise done
        return done

    def handle_batch(self, ms: Sequence[Inbound], pool: Executor | None = None) -> list[Outcome | Exception]:
        """A batch in phases: every message prepared up to "ready to send" (parsed, checked, built,
        then claimed); then the dispatch mark on each ready claim and one provider call per kind for
        all the marked ones; then each settled from its own result. The app-side fallback SMS of
        refused AlimTalks is one more round of the last three.

        One answer per message, in order: its outcome, or the error it raised (the handler reports
        that message as a batch item failure; its claim, if any, ends `unknown` once its lease is over).
        `pool` runs the per-message work and the calls of different kinds concurrently."""
        steps: list[Step | Exception] = _each(pool, self._prepare, ms)
        while ready := [(i, s) for i, s in enumerate(steps) if isinstance(s, Send)]:
            # Concurrent single UpdateItems rather than one TransactWriteItems: one write unit each instead
            # of two, a lost claim does not cancel the others, and the window a transaction would close
            # (a stop with some of the batch marked) is one DynamoDB round trip. Unmarked: not sent.
            marks = _each(pool, lambda s: self.claims.mark(s.record_id, s.token), [s for _, s in ready])
            sends = []
            for (i, s), marked in zip(ready, marks, strict=True):
                if marked is None:
                    sends.append((i, s))
                else:
                    steps[i] = marked
            if not sends:
                continue
            results = self._send_all([s for _, s in sends], pool)
            settled = _each(pool, _settle, list(zip([s for _, s in sends], results, strict=True)))
            for (i, _), done in zip(sends, settled, strict=True):
                steps[i] = done
        return [s for s in steps if not isinstance(s, Send)]

    def _prepare(self, m: Inbound) -> Step:
        now = self.clock()
        parsed = parse(m, now, self.settings, alimtalk=self.alimtalk_route is not None)
        if isinstance(parsed, Rejection):
            return self.rejecter.reject(parsed, m, now)
        event, p = parsed.event, parsed.plan
        # A redelivery of a finished id skips the slow preparation (its claim only finds the duplicate):
        # one read, only for redeliveries that have attachments to download or a template to read.
        slow = bool(event.attachments) or p.channel_used == "alimtalk"
        ready = None if slow and m.receive_count > 1 and self.claims.finished(event.id) else self._ready(event, p, m)
        claimed = self.claims.claim(event, p, m, now, parsed.fingerprint)
        if not isinstance(claimed, Claimed):
            return claimed
        if claimed.phase == rec.SMS_FALLBACK_PHASE:
            # A redelivery after the AlimTalk was refused: never a second AlimTalk, only the SMS.
            assert self.alimtalk_route is not None  # only the AlimTalk route leaves that phase
            return self.alimtalk_route.fallback_sms(event, p, claimed.token, m)
        if ready is None:  # a finished record cannot be claimed again; should it ever be, prepare it now
            ready = self._ready(event, p, m)
        return ready(claimed.token)

    def _ready(self, event: Event, p: Plan, m: Inbound) -> Ready:
        if p.channel_used != "alimtalk":
            return self._text(event, p, m)
        assert self.alimtalk_route is not None  # parse rejects AlimTalk where it is not configured
        return self.alimtalk_route.prepare(event, p, m)

    def _text(self, event: Event, p: Plan, m: Inbound) -> Ready:
        try:
            files = mms.files(event, self.attachments)
        except AttachmentError as exc:
            result = SendResult(Verdict.RETRY if exc.retryable else Verdict.REJECTED, "attachment", exc.reason)
            return lambda token: self.settler.settle(event, p, token, m, result)
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

        def send(token: str) -> Step:
            log.info(
                "sending",
                extra={"record_id": event.id, "channel": p.channel_used, "to": phone.mask(event.to)},
            )
            return Send(event.id, token, msg, lambda result: self.settler.settle(event, p, token, m, result))

        return send

    def _send_all(self, sends: list[Send], pool: Executor | None) -> list[SendResult | Exception]:
        """One provider call per kind, each message answered by its own entry of its call's reply."""
        texts = [i for i, s in enumerate(sends) if isinstance(s.msg, TextMessage)]
        talks = [i for i, s in enumerate(sends) if isinstance(s.msg, AlimTalkMessage)]
        calls: list[tuple[list[int], Callable[[], list[SendResult]]]] = []
        if texts:
            batch = [cast(TextMessage, sends[i].msg) for i in texts]
            calls.append((texts, lambda: self.provider.send_texts(batch)))
        if talks:
            assert self.alimtalk is not None  # only the AlimTalk route prepares AlimTalks
            alimtalk, talk_batch = self.alimtalk, [cast(AlimTalkMessage, sends[i].msg) for i in talks]
            calls.append((talks, lambda: alimtalk.send_alimtalks(talk_batch)))
        out: list[SendResult | Exception] = [RuntimeError("not sent")] * len(sends)
        for (where, _), answered in zip(calls, _each(pool, lambda c: c[1](), calls), strict=True):
            if isinstance(answered, Exception):
                # The provider broke its port's contract (it raises for no provider or transport
                # error): nothing tells whether it took them, so each is handled as a crash would be.
                log.error(
                    "provider call raised", extra={"record_ids": [sends[i].record_id for i in where]}, exc_info=answered
                )
                each: list[SendResult | Exception] = [answered] * len(where)
            else:
                each = list(per_message(answered, len(where)))
            for i, r in zip(where, each, strict=True):
                out[i] = r
        return out


def _settle(sent: tuple[Send, SendResult | Exception]) -> Step:
    send, result = sent
    if isinstance(result, Exception):
        raise result
    return send.settle(result)


def _each[T, R](pool: Executor | None, fn: Callable[[T], R], items: Sequence[T]) -> list[R | Exception]:
    """fn over items (concurrently when there is a pool and more than one), each error kept as its answer."""

    def one(item: T) -> R | Exception:
        try:
            return fn(item)
        except Exception as exc:
            return exc

    if pool is None or len(items) <= 1:
        return [one(item) for item in items]
    return list(pool.map(one, items))
