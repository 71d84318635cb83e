"""The record: one item per event id, its every attribute, and the only writes it may take.

`Record` names every attribute a writer may put on an item (README "The record" lists them from
this type, and a test keeps the two equal). A new record is made by `Record(...).to_item()`; every
later write is a `Change` made by one of the builders below, each of which checks its move against
`status.ALLOWED` and raises `ForbiddenTransition` otherwise, so the status table is what the
stores are ever asked to do, not only what a test reads. The `expect` side of a Change is the
condition the store checks atomically: a Change whose condition fails is a lost race, not an error.

Pure domain: standard library only. The DynamoDB adapter turns items into its wire format.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .status import Status, can_move

# marks_dispatch: the claim writes DISPATCH_MARK before its request goes out. A claim of an older
# release has no such promise, so a missing mark on it says nothing (it stays `unknown` when abandoned).
CLAIM_ATTRS = ("claim_token", "lease_until", "marks_dispatch")
# Written under the claim right before the request goes out: a claim whose owner vanished without it
# surely never reached the provider, so it is taken over and sent, not called `unknown`.
DISPATCH_MARK = "dispatched_at"
# The sparse index `pending`: `sent` items carry them, and a claim made on its message's last delivery
# (the poller sweeps it if its owner stops, since no redelivery will come).
INDEX_ATTRS = ("poll_shard", "next_poll_at")
SMS_FALLBACK_PHASE = "sms_fallback"  # the AlimTalk was refused: only the fallback SMS remains to send
# API Store called the provider's message id `cmid`; its records keep that name beside
# provider_message_id, since the EventBridge detail and the operators' tools document it.
CMID_PROVIDER = "apistore"
REPORT_CODE_FIELDS = ("call_status", "status", "rslt", "msg_rslt")  # a report's codes, kept as report_<name>


@dataclass(frozen=True, kw_only=True)
class Record:
    """Every attribute of a record. None means "not on the item"."""

    # identity and the producer's event
    id: str
    status: str
    fingerprint: str | None = None
    metadata: dict[str, Any] | None = None
    metadata_raw: str | None = None  # metadata the event model refused, as bounded text
    raw_body: str | None = None  # the start of a body that could not be read, to find the producer's bug
    id_source: str | None = None  # "sqs_message_id" when the body had no usable id
    test: bool | None = None
    # what was asked and what is sent
    channel_requested: str | None = None
    channel_used: str | None = None
    conversion: str | None = None
    recipient: str | None = None
    sender: str | None = None
    scheduled_for: str | None = None  # yyyyMMddHHmmss KST, when the provider was asked to send later
    # the provider
    provider: str | None = None
    provider_message_id: str | None = None
    cmid: str | None = None  # API Store's name for provider_message_id (its records only)
    provider_code: str | None = None
    # the claim and the queue
    claim_token: str | None = None
    lease_until: int | None = None
    marks_dispatch: bool | None = None  # the claim writes dispatched_at before its request goes out
    dispatched_at: str | None = None  # the claim's request may have left for the provider (set just before it)
    attempts: int | None = None
    sqs_message_id: str | None = None
    receive_count: int | None = None
    dead_lettered: bool | None = None
    # AlimTalk routing
    phase: str | None = None
    fallback: str | None = None  # "provider", "none" or "app": who sends the SMS if the AlimTalk fails
    fallback_type: str | None = None  # the provider's fallback kind: SMS, LMS or N
    alimtalk_code: str | None = None
    alimtalk_reason: str | None = None
    # outcome
    reason: str | None = None
    last_error: str | None = None
    report_code: str | None = None
    report_reason: str | None = None
    report_call_status: str | None = None
    report_status: str | None = None
    report_rslt: str | None = None
    report_msg_rslt: str | None = None
    delivered_via: str | None = None
    fallback_used: bool | None = None
    report_time: str | None = None
    # report polling (poll_shard and next_poll_at are the sparse index's keys)
    poll_shard: str | None = None
    next_poll_at: int | None = None
    polls: int | None = None
    last_polled_at: str | None = None
    poll_note: str | None = None
    # timestamps (timefmt.iso_utc) and the TTL (epoch seconds)
    accepted_at: str | None = None
    sent_at: str | None = None
    reported_at: str | None = None
    updated_at: str | None = None
    expires_at: int | None = None

    def to_item(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Record:
        """The attributes this type knows; anything else on the item is left out."""
        return cls(**{k: item[k] for k in FIELDS if k in item})


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Record))


def message_id_of(item: Mapping[str, Any]) -> str | None:
    """The provider's message id; records written before provider_message_id existed have only cmid."""
    value = item.get("provider_message_id") or item.get("cmid")
    return str(value) if value else None


def never_left(claim: Mapping[str, Any]) -> bool:
    """Whether a claim's request surely never left for the provider: the claim promised the dispatch
    mark (marks_dispatch) and has none. A claim of an older release made no such promise, so a missing
    mark on it says nothing."""
    return bool(claim.get("marks_dispatch")) and DISPATCH_MARK not in claim


class ForbiddenTransition(ValueError):
    def __init__(self, src: str, dst: str) -> None:
        super().__init__(f"status: a record may not move from {src!r} to {dst!r} (domain/status.py)")
        self.src = src
        self.dst = dst


@dataclass(frozen=True)
class Change:
    """A conditional write: applied whole if every `expect` attribute has its value and every
    `expect_absent` attribute is missing, else not at all. A None in `set` removes the attribute."""

    set: Mapping[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    add: Mapping[str, int] = field(default_factory=dict)
    expect: Mapping[str, Any] = field(default_factory=dict)
    expect_absent: tuple[str, ...] = ()


def _checked(src: Status, dst: Status) -> None:
    if not can_move(src, dst):
        raise ForbiddenTransition(src.value, dst.value)


def _known(fields_: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields_) - set(FIELDS))
    if unknown:
        raise ValueError(f"record: no attribute {', '.join(unknown)} (domain/record.py lists them)")


# ---------------------------------------------------------------------------------------------- builders


def claim(
    *,
    src: Status,
    token: str,
    lease_until: float,
    sqs_message_id: str,
    receive_count: int,
    now: str,
    from_token: str | None = None,
    sweep_at: tuple[str, int] | None = None,
) -> Change:
    """Take an existing record to send it: a claim released by an earlier attempt (`sending`, no
    claim token), the claim `from_token` of a dispatcher that stopped before its request could leave
    (`sending`, lease over, no dispatch mark), or a failure an operator redrove from the DLQ
    (`failed`, dead_lettered)."""
    _checked(src, Status.SENDING)
    taken = {
        "claim_token": token,
        "lease_until": math.ceil(lease_until),
        "sqs_message_id": sqs_message_id,
        "receive_count": receive_count,
        "updated_at": now,
        "marks_dispatch": True,
        DISPATCH_MARK: None,
    }
    if sweep_at is not None:  # the message's last delivery: the poller sweeps the claim if its owner stops
        taken.update(poll_shard=sweep_at[0], next_poll_at=sweep_at[1])
    if src == Status.FAILED:
        return Change(
            set={**taken, "status": Status.SENDING.value, "dead_lettered": None, "reason": None},
            add={"attempts": 1},
            expect={"status": Status.FAILED.value, "dead_lettered": True},
        )
    if from_token is not None:
        return Change(
            set=taken,
            add={"attempts": 1},
            expect={"status": Status.SENDING.value, "claim_token": from_token},
            expect_absent=(DISPATCH_MARK,),
        )
    return Change(
        set=taken,
        add={"attempts": 1},
        expect={"status": Status.SENDING.value},
        expect_absent=("claim_token",),
    )


def dispatch(*, token: str, now: str) -> Change:
    """The mark, right before the claimed request goes out: from here the provider may have it."""
    _checked(Status.SENDING, Status.SENDING)
    return Change(set={DISPATCH_MARK: now}, expect={"status": Status.SENDING.value, "claim_token": token})


def release(*, token: str, code: str, last_error: str, now: str, extra: Mapping[str, Any] | None = None) -> Change:
    """Give the claim back after a send that surely did not reach the provider: the next delivery retries."""
    _checked(Status.SENDING, Status.SENDING)
    changes = {"provider_code": code, "updated_at": now, **(extra or {}), "last_error": last_error}
    _known(changes)
    return Change(set=changes, remove=(*CLAIM_ATTRS, *INDEX_ATTRS, DISPATCH_MARK), expect={"claim_token": token})


def fall_back(*, token: str, code: str, reason: str, record_reason: str, now: str) -> Change:
    """The AlimTalk route refused: from now on only the app's SMS/LMS may be sent, under the same claim."""
    _checked(Status.SENDING, Status.SENDING)
    return Change(
        set={
            "phase": SMS_FALLBACK_PHASE,
            "fallback": "app",
            "alimtalk_code": code,
            "alimtalk_reason": reason,
            "reason": record_reason,
            "updated_at": now,
            # The AlimTalk was refused: the fallback SMS that follows has not left yet.
            DISPATCH_MARK: None,
        },
        expect={"claim_token": token},
    )


def settle(
    *,
    token: str,
    dst: Status,
    code: str,
    reason: str | None,
    now: str,
    provider: str | None = None,
    message_id: str | None = None,
    poll: tuple[str, int] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Change:
    """The provider's answer to the claimed send: `sent` (with its message id, and the poll shard and
    first poll time unless no report will come), or a terminal status with its reason."""
    _checked(Status.SENDING, dst)
    changes: dict[str, Any] = {"provider_code": code, "updated_at": now, **(extra or {}), "status": dst.value}
    if dst == Status.SENT:
        changes.update(provider=provider, provider_message_id=message_id, sent_at=now, last_error=None)
        if provider == CMID_PROVIDER:
            changes["cmid"] = message_id
        if reason:
            changes["reason"] = reason
        if poll is not None:
            changes.update(poll_shard=poll[0], next_poll_at=poll[1])
    else:
        changes.update(reason=reason, last_error=reason)
    _known(changes)
    # A last delivery's claim sits in the index for the sweep: out of it unless polled from now on.
    remove = CLAIM_ATTRS if "next_poll_at" in changes else (*CLAIM_ATTRS, *INDEX_ATTRS)
    return Change(set=changes, remove=remove, expect={"claim_token": token})


def abandon(*, claim_token: Any, dispatched_at: Any, reason: str, now: str) -> Change:
    """A claim whose owner vanished after its lease once its request may have left (the dispatch
    mark is on it): the provider may have the message, so `unknown`."""
    _checked(Status.SENDING, Status.UNKNOWN)
    return Change(
        set={"status": Status.UNKNOWN.value, "reason": reason, "updated_at": now},
        remove=(*CLAIM_ATTRS, *INDEX_ATTRS),
        expect={"status": Status.SENDING.value, "claim_token": claim_token}
        | ({DISPATCH_MARK: dispatched_at} if dispatched_at is not None else {}),
        # A claim of an older release has no mark, and none may appear on it since it was read.
        expect_absent=(DISPATCH_MARK,) if dispatched_at is None else (),
    )


def give_up(*, claim_token: str, reason: str, now: str) -> Change:
    """A claim made on its message's last delivery whose owner stopped before its request could leave
    (no dispatch mark): nothing was sent and no redelivery will come (the message is in the DLQ), so
    `failed` and dead_lettered, which a redrive from the DLQ claims again."""
    _checked(Status.SENDING, Status.FAILED)
    return Change(
        set={"status": Status.FAILED.value, "dead_lettered": True, "reason": reason, "last_error": reason,
             "updated_at": now},
        remove=(*CLAIM_ATTRS, *INDEX_ATTRS),
        expect={"status": Status.SENDING.value, "claim_token": claim_token, "marks_dispatch": True},
        expect_absent=(DISPATCH_MARK,),
    )  # fmt: skip


def _still_sent(item: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The poller's condition: still `sent`, with the message id it was read with."""
    if item.get("provider_message_id"):
        return {"status": Status.SENT.value, "provider_message_id": item["provider_message_id"]}, ()
    if item.get("cmid"):
        return {"status": Status.SENT.value, "cmid": item["cmid"]}, ()
    return {"status": Status.SENT.value}, ("provider_message_id", "cmid")


def report(*, item: Mapping[str, Any], dst: Status, changes: Mapping[str, Any], now: str) -> Change:
    """A final delivery report: `delivered` or `failed`, out of the sparse index."""
    _checked(Status.SENT, dst)
    return _finish_poll(item, {**changes, "status": dst.value}, now)


def expire(*, item: Mapping[str, Any], reason: str, now: str) -> Change:
    """No final report in time (or nothing to ask about): `unknown`, out of the sparse index."""
    _checked(Status.SENT, Status.UNKNOWN)
    return _finish_poll(item, {"status": Status.UNKNOWN.value, "reason": reason}, now)


def _finish_poll(item: Mapping[str, Any], changes: Mapping[str, Any], now: str) -> Change:
    full = {**changes, "reported_at": now, "updated_at": now, "last_polled_at": now, "poll_note": None}
    _known(full)
    expect, absent = _still_sent(item)
    return Change(set=full, remove=INDEX_ATTRS, add={"polls": 1}, expect=expect, expect_absent=absent)


def reschedule(*, item: Mapping[str, Any], next_poll_at: int, note: str, now: str) -> Change:
    """No final report yet: stay `sent`, polled again at `next_poll_at`; conditional on the time read,
    so two overlapping ticks do not both back the record off."""
    if item.get("status") != Status.SENT:
        raise ForbiddenTransition(str(item.get("status")), Status.SENT.value)
    expect, absent = _still_sent(item)
    return Change(
        set={"next_poll_at": next_poll_at, "last_polled_at": now, "poll_note": note},
        add={"polls": 1},
        expect={**expect, "next_poll_at": item.get("next_poll_at")},
        expect_absent=absent,
    )
