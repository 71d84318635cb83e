"""From an SQS body to an event the dispatcher can send, or the rejection to record.

Validation is pure, so its answer never changes on a redelivery: whatever it refuses is rejected
(recorded, never retried), under the producer's id when the body still has a usable one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ..domain import fingerprint
from ..domain.body import BodyProblem, read
from ..domain.event import Event, format_errors, metadata_problem
from ..domain.limits import METADATA_RAW_MAX_CHARS, bounded
from ..domain.plan import Plan, plan
from .dispatching import Inbound, Settings

log = logging.getLogger("notifier.dispatch")


@dataclass(frozen=True)
class Parsed:
    event: Event
    plan: Plan
    fingerprint: str


@dataclass(frozen=True)
class Rejection:
    """What the rejection record is made of."""

    record_id: str
    reason: str
    fingerprint: str
    metadata: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None
    raw: str | None = None
    plan: Plan | None = None
    event: Event | None = None


def usable_id(body: dict[str, Any]) -> str | None:
    raw = body.get("id")
    if isinstance(raw, str) and 1 <= len(raw) <= 128 and raw.isprintable() and raw == raw.strip():
        return raw
    return None


def _id_problem(body: dict[str, Any]) -> str:
    if "id" not in body:
        return "id: required (the producer's idempotency key, 1-128 characters)"
    return "id: must be a string of 1-128 printable characters with no leading or trailing spaces"


def _unparseable(m: Inbound, reason: str, fp: str) -> Rejection:
    # With no usable id the SQS message id is the only key that makes a redelivery a duplicate.
    return Rejection(m.message_id, reason, fp, extra={"id_source": "sqs_message_id"}, raw=m.body)


def parse(m: Inbound, now: float, settings: Settings, *, alimtalk: bool) -> Parsed | Rejection:
    """`alimtalk`: whether this deployment can send AlimTalk at all."""
    body = read(m.body)
    if isinstance(body, BodyProblem):
        # Too big, too deep, not JSON, ambiguous or not text: recorded, never retried (a retry
        # would meet the same body). Under the producer's id when the body still has a usable one.
        parsed = body.parsed
        key = usable_id(parsed) if parsed is not None else None
        fp = fingerprint.of_body(parsed) if parsed is not None else fingerprint.of_text(m.body)
        if key is None:
            return _unparseable(m, body.reason, fp)
        return Rejection(key, body.reason, fp, raw=m.body)
    event_id = usable_id(body)
    if event_id is None:
        return _unparseable(m, _id_problem(body), fingerprint.of_body(body))
    try:
        event = Event.model_validate(body)
        p = plan(event, default_sender=settings.default_sender, now=datetime.fromtimestamp(now, UTC))
        fp = fingerprint.of_event(event)
    except ValidationError as exc:
        fp = fingerprint.of_body(body)
        meta = body.get("metadata")
        if isinstance(meta, dict) and metadata_problem(meta) is None:
            return Rejection(event_id, format_errors(exc), fp, metadata=meta)
        # Metadata the model refuses may not even be storable (an empty key, Infinity, 40 digits):
        # kept as bounded text, so the rejection itself can always be written.
        raw_meta = (
            {"metadata_raw": bounded(json.dumps(meta, ensure_ascii=False), METADATA_RAW_MAX_CHARS)}
            if meta is not None
            else None
        )
        return Rejection(event_id, format_errors(exc), fp, extra=raw_meta)
    except Exception as exc:
        # Validation is pure: whatever it raised, every redelivery of this body would raise it
        # again and carry it to the DLQ with no record. A rejection is recorded instead, and the
        # traceback logged, since it is a bug of ours.
        log.exception("validation raised", extra={"record_id": event_id})
        reason = f"body: could not be validated ({type(exc).__name__}: {exc}), a defect of kr-notifier's"
        return Rejection(event_id, reason, fingerprint.of_body(body), raw=m.body)

    problem = _config_problem(event, settings, alimtalk=alimtalk)
    if problem:
        return Rejection(event_id, problem, fp, metadata=event.metadata, plan=p, event=event)
    return Parsed(event, p, fp)


def _config_problem(event: Event, settings: Settings, *, alimtalk: bool) -> str | None:
    if event.channel == "alimtalk" and not alimtalk:
        return "channel: alimtalk is not configured in this deployment"
    for i, a in enumerate(event.attachments):
        if not settings.attachment_bucket:
            return f"attachments[{i}].s3: MMS attachments are disabled (no attachment bucket configured)"
        if a.bucket != settings.attachment_bucket:
            return (
                f"attachments[{i}].s3: bucket {a.bucket!r} is not the configured attachment bucket "
                f"{settings.attachment_bucket!r}"
            )
    return None
