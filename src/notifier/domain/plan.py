"""Channel choice and send time: what the dispatcher will ask the provider for, decided purely."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import text as euckr
from .event import Event
from .timefmt import KST


@dataclass(frozen=True)
class Plan:
    channel_requested: str
    channel_used: str  # sms | lms | mms | alimtalk
    conversion: str | None  # why channel_used differs from what was asked, for the record
    sender: str
    send_time: str | None  # yyyyMMddHHmmss in KST, None = now
    send_at_epoch: int | None  # when the provider will send, for scheduling report polls


def kst_send_time(send_at: datetime | None, now: datetime) -> str | None:
    """The provider's REQDATE/send_time; a time in the past means now (no field at all)."""
    if send_at is None or send_at <= now:
        return None
    return send_at.astimezone(KST).strftime("%Y%m%d%H%M%S")


def sms_or_lms(body: str) -> tuple[str, int]:
    n = euckr.euckr_len(body)
    return ("sms" if n < euckr.SMS_MAX_BYTES else "lms"), n


def plan(event: Event, *, default_sender: str, now: datetime) -> Plan:
    used: str = event.channel
    conversion = None
    if event.channel in ("auto", "sms"):
        used, n = sms_or_lms(event.text)
        if event.channel == "sms" and used == "lms":
            conversion = f"sms->lms: text is {n} bytes in EUC-KR, SMS takes under {euckr.SMS_MAX_BYTES}"
        elif event.channel == "auto":
            conversion = f"auto->{used}: text is {n} bytes in EUC-KR"
    send_time = kst_send_time(event.send_at, now)
    return Plan(
        channel_requested=event.channel,
        channel_used=used,
        conversion=conversion,
        sender=event.sender or default_sender,
        send_time=send_time,
        send_at_epoch=int(event.send_at.timestamp()) if send_time and event.send_at else None,
    )
