"""Rejections: recorded with a clear reason, never retried."""

from __future__ import annotations

import logging
from typing import Any

from ..domain import phone
from ..domain import record as rec
from ..domain.limits import RAW_BODY_MAX_CHARS, REASON_MAX_CHARS, bounded
from ..domain.status import Status
from ..domain.timefmt import iso_utc
from ..ports import RecordStore
from .claiming import describe
from .dispatching import Inbound, Outcome, Settings
from .duplicates import conflict, duplicate
from .parsing import Rejection

log = logging.getLogger("notifier.dispatch")


class Rejecter:
    def __init__(self, records: RecordStore, settings: Settings) -> None:
        self.records = records
        self.settings = settings

    def reject(self, r: Rejection, m: Inbound, now: float) -> Outcome:
        # The reason may quote the producer's keys and values: bounded, and no whole phone number, since
        # it is logged and published as well as stored.
        reason = bounded(phone.mask_in_text(r.reason), REASON_MAX_CHARS)
        item: dict[str, Any] = {
            "id": r.record_id,
            "status": Status.REJECTED.value,
            "reason": reason,
            "attempts": 0,
            "accepted_at": iso_utc(now),
            "updated_at": iso_utc(now),
            "sqs_message_id": m.message_id,
            "receive_count": m.receive_count,
            "metadata": r.metadata or {},
            "fingerprint": r.fingerprint,
            "expires_at": int(now) + self.settings.ttl_days * 86400,
            **(r.extra or {}),
        }
        if r.raw is not None:
            item["raw_body"] = bounded(r.raw, RAW_BODY_MAX_CHARS)  # enough to find the producer's bug
        if r.plan is not None and r.event is not None:
            item.update(describe(r.event, r.plan))
        existing = self.records.create(rec.Record(**item).to_item())
        if existing is not None:
            return conflict(r.record_id, existing, r.fingerprint, m) or duplicate(r.record_id, existing)
        log.warning("rejected", extra={"record_id": r.record_id, "reason": reason})
        return Outcome("ack", "rejected", r.record_id, Status.REJECTED.value, reason)
