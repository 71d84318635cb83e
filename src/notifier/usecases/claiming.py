"""The claim and its lease: the record is written (`sending`, a claim token, a lease) before the
provider call, so a redelivered or concurrent duplicate finds it and does not send. Everything that
can fail or take time is done before the claim; right before the request goes out the claim is
marked (`dispatched_at`, `mark`).

A claim whose owner vanished (crash, Lambda time-out) after the lease is judged by that mark: with
it, the provider may have the message, so it becomes `unknown` instead of a second SMS; without it,
the request surely never left, so the delivery that finds it takes it over and sends. A released
claim (the provider surely did not take it) or a failure an operator redrove from the DLQ is taken
again.
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
from ..domain.reports import poll_shard
from ..domain.status import Status, is_terminal
from ..domain.timefmt import iso_utc
from ..ports import RecordStore
from .dispatching import Inbound, Outcome, Settings
from .duplicates import conflict, duplicate

log = logging.getLogger("notifier.dispatch")

SWEEP_AFTER_LEASE_S = 60  # past the lease (the Lambda's deadline) by more than any clock skew


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
    def __init__(
        self, records: RecordStore, settings: Settings, new_token: Callable[[], str], clock: Callable[[], float]
    ) -> None:
        self.records = records
        self.settings = settings
        self.new_token = new_token
        self.clock = clock

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
            "marks_dispatch": True,
            **describe(event, p),
        }
        sweep_at = self._sweep_at(event.id, m)
        if sweep_at is not None:
            item.update(poll_shard=sweep_at[0], next_poll_at=sweep_at[1])
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

        def claim(src: Status, from_token: str | None = None) -> rec.Change:
            return rec.claim(
                src=src,
                token=token,
                lease_until=m.lease_until,
                sqs_message_id=m.message_id,
                receive_count=m.receive_count,
                now=iso_utc(now),
                from_token=from_token,
                sweep_at=self._sweep_at(record_id, m),
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
            if rec.never_left(existing):
                # Its owner stopped before the request could leave: the provider surely does not have it.
                if self.records.apply(record_id, claim(Status.SENDING, str(existing["claim_token"]))):
                    log.warning("took over the claim of a dispatcher that stopped before sending",
                                extra={"record_id": record_id})  # fmt: skip
                    return None
                return duplicate(record_id, self.records.get(record_id) or existing)
            return self._owner_gone(existing, now)
        if status == Status.SENDING and existing.get("sqs_message_id") == m.message_id:
            # Our own earlier delivery still holds the lease: come back after it is over.
            return Outcome("retry", "retried", record_id, Status.SENDING.value, "earlier delivery still in flight")
        return duplicate(record_id, existing)

    def _owner_gone(self, existing: dict[str, Any], now: float) -> Outcome:
        record_id = str(existing["id"])
        reason = (
            "the dispatcher that claimed this message stopped after its request may have left for the "
            "provider and before recording the answer (crash or time-out); the provider may have it, so it "
            "is not sent again"
        )
        change = rec.abandon(
            claim_token=existing.get("claim_token"),
            dispatched_at=existing.get(rec.DISPATCH_MARK),
            reason=reason,
            now=iso_utc(now),
        )
        if self.records.apply(record_id, change):
            log.error("unknown outcome", extra={"record_id": record_id, "reason": reason})
            return Outcome("ack", "unknown", record_id, Status.UNKNOWN.value, reason)
        return duplicate(record_id, self.records.get(record_id) or existing)

    def _sweep_at(self, record_id: str, m: Inbound) -> tuple[str, int] | None:
        """On the message's last delivery no redelivery will judge a claim its owner left behind, so the
        claim goes into the poller's index, due a while after its lease: the poller sweeps it then."""
        if m.receive_count < self.settings.max_receive_count:
            return None
        return poll_shard(record_id, self.settings.poll_shards), math.ceil(m.lease_until) + SWEEP_AFTER_LEASE_S

    def mark(self, record_id: str, token: str) -> Outcome | None:
        """The dispatch mark, right before the claimed request goes out; the outcome that ends it
        instead when the claim is no longer ours (nothing is sent then)."""
        if self.records.apply(record_id, rec.dispatch(token=token, now=iso_utc(self.clock()))):
            return None
        log.error("claim lost before the send", extra={"record_id": record_id})
        return duplicate(record_id, self.records.get(record_id) or {"status": ""})

    def finished(self, record_id: str) -> bool:
        """Whether the record is done with sending for good: no claim of this id can succeed, so a
        duplicate need not prepare anything (download attachments, read templates) before its claim."""
        existing = self.records.get(record_id)
        if existing is None:
            return False
        status = str(existing.get("status"))
        if status == Status.FAILED and existing.get("dead_lettered"):
            return False  # a dead-lettered failure may be redriven and claimed
        return status == Status.SENT or is_terminal(status)
