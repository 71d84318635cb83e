"""The claim and its lease: the record is written (`sending`, a claim token, a lease) before the
provider call, so a redelivered or concurrent duplicate finds it and does not send.

A claim whose owner vanished (crash, Lambda time-out) after the lease cannot tell whether the
provider took the message, so it becomes `unknown` instead of a second SMS. A released claim (the
provider surely did not take it) or a failure an operator redrove from the DLQ is taken again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..domain import record as rec
from ..domain.event import Event
from ..domain.plan import Plan
from ..domain.status import Status
from ..domain.timefmt import iso_utc
from ..ports import RecordStore
from .dispatching import Inbound, Outcome, Settings
from .duplicates import conflict, duplicate

log = logging.getLogger("notifier.dispatch")


def describe(event: Event, p: Plan) -> dict[str, Any]:
    """The record's attributes that say what was asked and what will be sent."""
    return {
        "channel_requested": p.channel_requested,
        "channel_used": p.channel_used,
        "conversion": p.conversion,
        "recipient": event.to,
        "sender": p.sender,
        "scheduled_for": p.send_time,
        "test": event.test or None,
    }


@dataclass(frozen=True)
class Claimed:
    token: str
    phase: str | None  # what an earlier attempt left to do (rec.SMS_FALLBACK_PHASE), if any


class Claims:
    def __init__(self, records: RecordStore, settings: Settings, new_token: Callable[[], str]) -> None:
        self.records = records
        self.settings = settings
        self.new_token = new_token

    def claim(self, event: Event, p: Plan, m: Inbound, now: float, fp: str) -> Claimed | Outcome:
        """The claim for this event, or the outcome that ends its handling (duplicate, conflict, retry later)."""
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
            **describe(event, p),
        }
        existing = self.records.create(rec.Record(**item).to_item())
        if existing is None:
            return Claimed(token, None)
        # Checked before any take-over: a released claim or a redriven record is retried with the
        # content of the event that made it, never with a later event that reuses its id.
        clash = conflict(event.id, existing, fp, m)
        if clash is not None:
            return clash
        took_over = self._take_over(existing, token, m, now)
        if took_over is not None:
            return took_over
        return Claimed(token, existing.get("phase"))

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
            return duplicate(record_id, self.records.get(record_id) or existing)
        if status == Status.SENDING and float(existing.get("lease_until", 0)) <= now:
            return self._owner_gone(existing, now)
        if status == Status.SENDING and existing.get("sqs_message_id") == m.message_id:
            # Our own earlier delivery still holds the lease: come back after it is over.
            return Outcome("retry", "retried", record_id, Status.SENDING.value, "earlier delivery still in flight")
        return duplicate(record_id, existing)

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
            return Outcome("ack", "unknown", record_id, Status.UNKNOWN.value, reason)
        return duplicate(record_id, self.records.get(record_id) or existing)
