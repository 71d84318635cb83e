"""The dispatch use case: one SQS message in, at most one provider send out, one record kept.

The record is the claim. A conditional write (`sending`, with a claim token and a lease) happens
before the provider call, so a redelivered or concurrent duplicate finds it and does not send.
A claim whose owner vanished (crash, Lambda time-out) after the lease cannot tell whether the
provider took the message, so it becomes `unknown` instead of a second SMS. A claim is released
for a retry only when the provider surely did not accept the message.

No boto3, no urllib3: the store, the provider and the attachment store come in through ports.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError

from ..domain import fingerprint, phone
from ..domain import record as rec
from ..domain.alimtalk import CheckFailure, check, fallback_text, provider_fallback
from ..domain.body import BodyProblem, read
from ..domain.event import Event, format_errors, metadata_problem
from ..domain.limits import METADATA_RAW_MAX_CHARS, RAW_BODY_MAX_CHARS, REASON_MAX_CHARS, bounded
from ..domain.plan import Plan, plan, sms_or_lms
from ..domain.reports import FIRST_POLL_S, poll_shard
from ..domain.status import Status
from ..domain.timefmt import iso_utc
from ..domain.verdict import Verdict
from ..ports import (
    AlimTalkMessage,
    AlimTalkProvider,
    AttachmentError,
    AttachmentStore,
    File,
    MessagingProvider,
    RecordStore,
    SendResult,
    TemplateSource,
    TemplatesUnavailable,
    TerminalEvents,
    TextMessage,
)

log = logging.getLogger("notifier.dispatch")

MAX_FILE_BYTES = 20 * 1024
MAX_TOTAL_FILE_BYTES = 40 * 1024
JPEG_MAGIC = b"\xff\xd8\xff"

Action = Literal["ack", "retry"]


@dataclass(frozen=True)
class Settings:
    default_sender: str
    provider: str  # the deployment's provider (configuration PROVIDER), named on every record it sends
    max_receive_count: int = 5
    ttl_days: int = 90
    attachment_bucket: str = ""
    poll_shards: int = 4
    first_poll_after_s: int = FIRST_POLL_S


@dataclass(frozen=True)
class Inbound:
    """What the dispatcher needs of an SQS message."""

    message_id: str
    body: str
    receive_count: int
    lease_until: float  # epoch seconds: when this invocation is surely over (its Lambda deadline)


@dataclass
class Outcome:
    action: Action  # ack: delete from the queue; retry: report as a batch item failure
    kind: str  # the metric it counts toward: sent, rejected, duplicate, conflict, retried, failed, unknown
    record_id: str
    status: str
    reason: str = ""
    channel_used: str | None = None
    latency_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _only(results: list[SendResult]) -> SendResult:
    """The result of a one-message batch. A provider that answered for some other number of
    messages broke its port's contract: whether it took this one is not known."""
    if len(results) == 1:
        return results[0]
    return SendResult(Verdict.UNKNOWN, "bad-batch", f"provider answered {len(results)} results for 1 message")


def _usable_id(body: dict[str, Any]) -> str | None:
    raw = body.get("id")
    if isinstance(raw, str) and 1 <= len(raw) <= 128 and raw.isprintable() and raw == raw.strip():
        return raw
    return None


def _id_problem(body: dict[str, Any]) -> str:
    if "id" not in body:
        return "id: required (the producer's idempotency key, 1-128 characters)"
    return "id: must be a string of 1-128 printable characters with no leading or trailing spaces"


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
        self.records = records
        self.provider = provider
        self.settings = settings
        self.attachments = attachments
        self.events = events
        self.alimtalk = alimtalk
        self.templates = templates
        self.clock = clock
        self.new_token = new_token

    # ---------------------------------------------------------------- entry point
    def handle(self, m: Inbound) -> Outcome:
        now = self.clock()
        body = read(m.body)
        if isinstance(body, BodyProblem):
            # Too big, too deep, not JSON, ambiguous or not text: recorded, never retried (a retry
            # would meet the same body). Under the producer's id when the body still has a usable one.
            parsed = body.parsed
            key = _usable_id(parsed) if parsed is not None else None
            fp = fingerprint.of_body(parsed) if parsed is not None else fingerprint.of_text(m.body)
            if key is None:
                return self._reject_unparseable(m, body.reason, now, fp)
            return self._reject(key, body.reason, m, now, fp, raw=m.body)
        event_id = _usable_id(body)
        if event_id is None:
            return self._reject_unparseable(m, _id_problem(body), now, fingerprint.of_body(body))
        try:
            event = Event.model_validate(body)
            p = plan(event, default_sender=self.settings.default_sender, now=datetime.fromtimestamp(now, UTC))
            fp = fingerprint.of_event(event)
        except ValidationError as exc:
            fp = fingerprint.of_body(body)
            meta = body.get("metadata")
            if isinstance(meta, dict) and metadata_problem(meta) is None:
                return self._reject(event_id, format_errors(exc), m, now, fp, metadata=meta)
            # Metadata the model refuses may not even be storable (an empty key, Infinity, 40 digits):
            # kept as bounded text, so the rejection itself can always be written.
            raw_meta = (
                {"metadata_raw": bounded(json.dumps(meta, ensure_ascii=False), METADATA_RAW_MAX_CHARS)}
                if meta is not None
                else None
            )
            return self._reject(event_id, format_errors(exc), m, now, fp, extra=raw_meta)
        except Exception as exc:
            # Validation is pure: whatever it raised, every redelivery of this body would raise it
            # again and carry it to the DLQ with no record. A rejection is recorded instead, and the
            # traceback logged, since it is a bug of ours.
            log.exception("validation raised", extra={"record_id": event_id})
            reason = f"body: could not be validated ({type(exc).__name__}: {exc}), a defect of kr-notifier's"
            return self._reject(event_id, reason, m, now, fingerprint.of_body(body), raw=m.body)

        problem = self._config_problem(event)
        if problem:
            return self._reject(event_id, problem, m, now, fp, metadata=event.metadata, plan_=p, event=event)
        return self._claim_and_send(event, p, m, now, fp)

    # ---------------------------------------------------------------- rejections (never retried)
    def _reject_unparseable(self, m: Inbound, reason: str, now: float, fp: str) -> Outcome:
        # With no usable id the SQS message id is the only key that makes a redelivery a duplicate.
        return self._reject(m.message_id, reason, m, now, fp, extra={"id_source": "sqs_message_id"}, raw=m.body)

    def _reject(
        self,
        record_id: str,
        reason: str,
        m: Inbound,
        now: float,
        fp: str,
        *,
        metadata: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        raw: str | None = None,
        plan_: Plan | None = None,
        event: Event | None = None,
    ) -> Outcome:
        # The reason may quote the producer's keys and values: bounded, and no whole phone number, since
        # it is logged and published as well as stored.
        reason = bounded(phone.mask_in_text(reason), REASON_MAX_CHARS)
        item: dict[str, Any] = {
            "id": record_id,
            "status": Status.REJECTED.value,
            "reason": reason,
            "attempts": 0,
            "accepted_at": iso_utc(now),
            "updated_at": iso_utc(now),
            "sqs_message_id": m.message_id,
            "receive_count": m.receive_count,
            "metadata": metadata or {},
            "fingerprint": fp,
            "expires_at": int(now) + self.settings.ttl_days * 86400,
            **(extra or {}),
        }
        if raw is not None:
            item["raw_body"] = bounded(raw, RAW_BODY_MAX_CHARS)  # enough to find the producer's bug
        if plan_ is not None and event is not None:
            item.update(self._describe(event, plan_))
        existing = self.records.create(rec.Record(**item).to_item())
        if existing is not None:
            return self._conflict(record_id, existing, fp, m) or self._duplicate(record_id, existing)
        log.warning("rejected", extra={"record_id": record_id, "reason": reason})
        self._publish(item)
        return Outcome("ack", "rejected", record_id, Status.REJECTED.value, reason)

    def _config_problem(self, event: Event) -> str | None:
        if event.channel == "alimtalk" and (self.alimtalk is None or self.templates is None):
            return "channel: alimtalk is not configured in this deployment"
        for i, a in enumerate(event.attachments):
            if not self.settings.attachment_bucket:
                return f"attachments[{i}].s3: MMS attachments are disabled (no attachment bucket configured)"
            if a.bucket != self.settings.attachment_bucket:
                return (
                    f"attachments[{i}].s3: bucket {a.bucket!r} is not the configured attachment bucket "
                    f"{self.settings.attachment_bucket!r}"
                )
        return None

    # ---------------------------------------------------------------- the claim
    def _describe(self, event: Event, p: Plan) -> dict[str, Any]:
        return {
            "channel_requested": p.channel_requested,
            "channel_used": p.channel_used,
            "conversion": p.conversion,
            "recipient": event.to,
            "sender": p.sender,
            "scheduled_for": p.send_time,
            "test": event.test or None,
        }

    def _claim_and_send(self, event: Event, p: Plan, m: Inbound, now: float, fp: str) -> Outcome:
        token = self.new_token()
        item = {
            "id": event.id,
            "status": Status.SENDING.value,
            "claim_token": token,
            "lease_until": math.ceil(m.lease_until),
            "attempts": 1,
            "accepted_at": iso_utc(now),
            "updated_at": iso_utc(now),
            "sqs_message_id": m.message_id,
            "receive_count": m.receive_count,
            "metadata": event.metadata,
            "fingerprint": fp,
            "expires_at": int(now) + self.settings.ttl_days * 86400,
            **self._describe(event, p),
        }
        existing = self.records.create(rec.Record(**item).to_item())
        phase = None
        if existing is not None:
            # Checked before any take-over: a released claim or a redriven record is retried with the
            # content of the event that made it, never with a later event that reuses its id.
            conflict = self._conflict(event.id, existing, fp, m)
            if conflict is not None:
                return conflict
            took_over = self._take_over(existing, token, m, now)
            if isinstance(took_over, Outcome):
                return took_over
            phase = existing.get("phase")
        if p.channel_used != "alimtalk":
            return self._send(event, p, token, m)
        if phase == rec.SMS_FALLBACK_PHASE:
            # A redelivery after the AlimTalk was refused: never a second AlimTalk, only the SMS.
            return self._send_fallback_sms(event, p, token, m)
        return self._send_alimtalk(event, p, token, m)

    def _take_over(self, existing: dict[str, Any], token: str, m: Inbound, now: float) -> Outcome | None:
        record_id = str(existing["id"])
        status = existing.get("status")

        def claim(src: Status) -> rec.Change:
            return rec.claim(
                src=src,
                token=token,
                lease_until=m.lease_until,
                sqs_message_id=m.message_id,
                receive_count=m.receive_count,
                now=iso_utc(now),
            )

        if status == Status.SENDING and "claim_token" not in existing:
            # Released by an earlier attempt that surely did not reach the provider: ours to retry.
            if self.records.apply(record_id, claim(Status.SENDING)):
                return None
            return Outcome("retry", "retried", record_id, Status.SENDING.value, "lost a race for the claim")
        if status == Status.FAILED and existing.get("dead_lettered"):
            # An operator redrove it from the DLQ: the earlier attempts surely sent nothing.
            if self.records.apply(record_id, claim(Status.FAILED)):
                return None
            return self._duplicate(record_id, self.records.get(record_id) or existing)
        if status == Status.SENDING and float(existing.get("lease_until", 0)) <= now:
            return self._owner_gone(existing, now)
        if status == Status.SENDING and existing.get("sqs_message_id") == m.message_id:
            # Our own earlier delivery still holds the lease: come back after it is over.
            return Outcome("retry", "retried", record_id, Status.SENDING.value, "earlier delivery still in flight")
        return self._duplicate(record_id, existing)

    def _owner_gone(self, existing: dict[str, Any], now: float) -> Outcome:
        record_id = str(existing["id"])
        reason = (
            "the dispatcher that claimed this message stopped before recording the provider's answer "
            "(crash or time-out); the provider may have it, so it is not sent again"
        )
        if self.records.apply(
            record_id, rec.abandon(claim_token=existing.get("claim_token"), reason=reason, now=iso_utc(now))
        ):
            log.error("unknown outcome", extra={"record_id": record_id, "reason": reason})
            self._publish_current(record_id)
            return Outcome("ack", "unknown", record_id, Status.UNKNOWN.value, reason)
        return self._duplicate(record_id, self.records.get(record_id) or existing)

    def _conflict(self, record_id: str, existing: dict[str, Any], fp: str, m: Inbound) -> Outcome | None:
        """A second event with the id of the first and other content: a producer bug. The first event
        wins, as for any duplicate, but this one is counted (ConflictingDuplicate, alarmed) and logged."""
        first = existing.get("fingerprint")
        if not first or first == fp:  # records written before fingerprints cannot tell: a plain duplicate
            return None
        status = str(existing.get("status", ""))
        log.warning(
            "duplicate id with different content: the first event wins, this one is not sent",
            extra={
                "record_id": record_id,
                "status": status,
                "first_fingerprint": first,
                "this_fingerprint": fp,
                "sqs_message_id": m.message_id,
            },
        )
        reason = f"duplicate id with different content ({fp}, first {first}); not sent: the first event wins"
        return Outcome("ack", "conflict", record_id, status, reason)

    def _duplicate(self, record_id: str, existing: dict[str, Any]) -> Outcome:
        status = str(existing.get("status", ""))
        log.info("duplicate", extra={"record_id": record_id, "status": status})
        return Outcome("ack", "duplicate", record_id, status, f"duplicate of a record already {status}")

    # ---------------------------------------------------------------- the send
    def _files(self, event: Event) -> tuple[File, ...]:
        if not event.attachments:
            return ()
        if self.attachments is None:
            raise AttachmentError("attachments: no attachment store configured", retryable=False)
        files = []
        total = 0
        for i, a in enumerate(event.attachments):
            data = self.attachments.fetch(a.bucket, a.key, MAX_FILE_BYTES)
            where = f"attachments[{i}] ({a.s3})"
            if len(data) > MAX_FILE_BYTES:
                raise AttachmentError(f"{where}: larger than 20 KB (the MMS limit per JPG)", retryable=False)
            if not data.startswith(JPEG_MAGIC):
                raise AttachmentError(f"{where}: not a JPEG image (MMS takes JPG only)", retryable=False)
            total += len(data)
            files.append(File(name=a.key.rsplit("/", 1)[-1], content=data))
        if total > MAX_TOTAL_FILE_BYTES:
            raise AttachmentError(
                f"attachments: {total} bytes in all; MMS images must total at most 40 KB", retryable=False
            )
        return tuple(files)

    def _send(self, event: Event, p: Plan, token: str, m: Inbound) -> Outcome:
        try:
            files = self._files(event)
        except AttachmentError as exc:
            result = SendResult(Verdict.RETRY if exc.retryable else Verdict.REJECTED, "attachment", exc.reason)
            return self._settle(event, p, token, m, result)
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
        result = _only(self.provider.send_texts([msg]))
        return self._settle(event, p, token, m, result)

    # ---------------------------------------------------------------- AlimTalk
    def _send_alimtalk(self, event: Event, p: Plan, token: str, m: Inbound) -> Outcome:
        assert event.alimtalk is not None and self.templates is not None and self.alimtalk is not None
        a = event.alimtalk
        last_try = m.receive_count >= self.settings.max_receive_count
        # A test send must never turn into a real SMS, so test mode has no app-side fallback.
        app_fallback = a.fallback != "none" and not event.test
        try:
            template = self.templates.get(a.template_code)
        except TemplatesUnavailable as exc:
            if last_try and a.fallback != "none":
                return self._app_fallback(
                    event, p, token, m, "templates", f"{exc}; still so after {m.receive_count} deliveries"
                )
            return self._settle(event, p, token, m, SendResult(Verdict.RETRY, "templates", str(exc)))
        checked = check(a, event.text, template)
        if isinstance(checked, CheckFailure):
            if checked.producer_error or not app_fallback:
                return self._settle(
                    event, p, token, m, SendResult(Verdict.REJECTED, f"check:{checked.kind}", checked.reason)
                )
            return self._app_fallback(event, p, token, m, f"check:{checked.kind}", checked.reason)
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
        result = _only(self.alimtalk.send_alimtalks([msg]))
        route = {"fallback": "provider" if fb.failed_type != "N" else "none", "fallback_type": fb.failed_type}
        if result.verdict == "fallback" and app_fallback:
            return self._app_fallback(event, p, token, m, result.code, result.reason)
        if result.verdict == "retry" and last_try and app_fallback:
            reason = f"{result.reason}; AlimTalk still unavailable after {m.receive_count} deliveries"
            return self._app_fallback(event, p, token, m, result.code, reason)
        return self._settle(event, p, token, m, result, extra=route)

    def _app_fallback(self, event: Event, p: Plan, token: str, m: Inbound, code: str, reason: str) -> Outcome:
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
            return self._duplicate(rid, self.records.get(rid) or {"status": ""})
        log.warning("AlimTalk refused, sending SMS instead", extra={"record_id": rid, "code": code, "reason": reason})
        return self._send_fallback_sms(event, p, token, m)

    def _send_fallback_sms(self, event: Event, p: Plan, token: str, m: Inbound) -> Outcome:
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
        result = _only(self.provider.send_texts([msg]))
        return self._settle(event, replace(p, channel_used=kind), token, m, result, extra={"channel_used": kind})

    def _settle(
        self,
        event: Event,
        p: Plan,
        token: str,
        m: Inbound,
        result: SendResult,
        extra: dict[str, Any] | None = None,
    ) -> Outcome:
        now = self.clock()
        rid = event.id
        latency = result.latency_ms or None
        provider = self.settings.provider

        def settle(dst: Status, reason: str | None, **kw: Any) -> rec.Change:
            return rec.settle(token=token, dst=dst, code=result.code, reason=reason, now=iso_utc(now), **kw)

        if result.verdict == "accepted" and event.test:
            # msg_test validates without delivering: no report will ever come, so it is not polled.
            reason = "test mode (msg_test): the provider validated and accepted it; nothing was delivered"
            self.records.apply(
                rid, settle(Status.SENT, reason, provider=provider, message_id=result.message_id, extra=extra)
            )
            log.info("test send accepted", extra={"record_id": rid, "message_id": result.message_id})
            self._publish_current(rid)  # its final word: a test send is never polled
            return Outcome("ack", "sent", rid, Status.SENT.value, reason, p.channel_used, latency)
        if result.verdict == "accepted":
            first_poll = max(now, p.send_at_epoch or 0) + self.settings.first_poll_after_s
            poll = (poll_shard(rid, self.settings.poll_shards), int(first_poll))
            change = settle(Status.SENT, None, provider=provider, message_id=result.message_id, poll=poll, extra=extra)
            if not self.records.apply(rid, change):
                # Our lease ran out and another delivery already called it unknown; the record stays
                # as that delivery left it, and the message id is only in the log to reconcile by hand.
                log.error("claim lost after send", extra={"record_id": rid, "message_id": result.message_id})
            log.info("sent", extra={"record_id": rid, "message_id": result.message_id, "channel": p.channel_used})
            return Outcome("ack", "sent", rid, Status.SENT.value, "", p.channel_used, latency)
        if result.verdict in ("rejected", "fallback"):
            self._finish(rid, settle(Status.REJECTED, bounded(result.reason, REASON_MAX_CHARS), extra=extra))
            log.warning("provider rejected", extra={"record_id": rid, "code": result.code, "reason": result.reason})
            return Outcome("ack", "rejected", rid, Status.REJECTED.value, result.reason, p.channel_used, latency)
        if result.verdict == "unknown":
            self._finish(rid, settle(Status.UNKNOWN, bounded(result.reason, REASON_MAX_CHARS), extra=extra))
            log.error("unknown outcome", extra={"record_id": rid, "code": result.code, "reason": result.reason})
            return Outcome("ack", "unknown", rid, Status.UNKNOWN.value, result.reason, p.channel_used, latency)
        # retry: the provider surely did not take it.
        if m.receive_count >= self.settings.max_receive_count:
            reason = (
                f"{result.reason}; gave up after {m.receive_count} deliveries, the message goes to the "
                "dead-letter queue (redrive it once the cause is fixed)"
            )
            # bounded: it may quote the producer's variables or urls
            change = settle(
                Status.FAILED, bounded(reason, REASON_MAX_CHARS), extra={**(extra or {}), "dead_lettered": True}
            )
            self._finish(rid, change)
            log.error("giving up", extra={"record_id": rid, "code": result.code, "reason": reason})
            return Outcome("retry", "failed", rid, Status.FAILED.value, reason, p.channel_used, latency)
        last_error = bounded(result.reason, REASON_MAX_CHARS)
        self.records.apply(
            rid, rec.release(token=token, code=result.code, last_error=last_error, now=iso_utc(now), extra=extra)
        )
        log.warning("will retry", extra={"record_id": rid, "code": result.code, "reason": result.reason})
        return Outcome("retry", "retried", rid, Status.SENDING.value, result.reason, p.channel_used, latency)

    def _finish(self, rid: str, change: rec.Change) -> None:
        if not self.records.apply(rid, change):
            log.error("claim lost before settling", extra={"record_id": rid, "status": change.set.get("status")})
        else:
            self._publish_current(rid)

    # ---------------------------------------------------------------- telling the application
    def _publish(self, record: dict[str, Any]) -> None:
        # Only the writer that won the conditional transition gets here: one event per transition.
        if self.events is not None:
            self.events.publish(record)

    def _publish_current(self, record_id: str) -> None:
        if self.events is not None:
            record = self.records.get(record_id)
            if record is not None:
                self.events.publish(record)
