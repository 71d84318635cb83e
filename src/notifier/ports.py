"""The seams between the dispatcher and the outside world. Adapters implement these; the
dispatcher and the tests' fakes depend only on what is here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

if TYPE_CHECKING:
    from .domain.alimtalk import Template
    from .domain.reports import Report

SendVerdict = Literal["accepted", "rejected", "retry", "unknown", "fallback"]


@dataclass(frozen=True)
class File:
    name: str
    content: bytes
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class TextMessage:
    """An SMS, LMS or MMS as the ppurio API takes it."""

    kind: Literal["sms", "lms", "mms"]
    dest_phone: str
    send_phone: str
    msg_body: str
    subject: str | None = None
    dest_name: str | None = None
    send_name: str | None = None
    send_time: str | None = None
    files: tuple[File, ...] = ()


@dataclass(frozen=True)
class SendResult:
    verdict: SendVerdict
    code: str  # provider result_code, or a transport marker: "connect", "timeout", "http-503", "bad-reply"
    reason: str
    cmid: str | None = None
    latency_ms: float = 0.0


class MessagingProvider(Protocol):
    """What the dispatcher needs from a provider. A new provider implements this and nothing else."""

    def send_text(self, msg: TextMessage) -> SendResult: ...


class AttachmentError(Exception):
    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class AttachmentStore(Protocol):
    def fetch(self, bucket: str, key: str, max_bytes: int) -> bytes: ...


class RecordUpdates(Protocol):
    """Conditional updates of records keyed by id: they report, never raise, a lost race."""

    def update(
        self,
        record_id: str,
        *,
        set_: dict[str, Any],
        remove: tuple[str, ...] | list[str] = (),
        add: dict[str, int] | None = None,
        expect: dict[str, Any] | None = None,
        expect_absent: tuple[str, ...] | list[str] = (),
    ) -> bool: ...


class RecordStore(RecordUpdates, Protocol):
    """What the dispatcher needs: `create` is conditional on the id being new."""

    def create(self, item: dict[str, Any]) -> dict[str, Any] | None: ...

    def get(self, record_id: str) -> dict[str, Any] | None: ...


class DuePage(NamedTuple):
    items: list[dict[str, Any]]
    scanned: int  # items the store read to answer (DynamoDB's ScannedCount): the tick's read cost
    cursor: Any  # pass back to continue; None when the shard has no more due items


class PendingRecords(RecordUpdates, Protocol):
    """What the poller needs: the records due for a report poll, read through the sparse index."""

    def due(self, shard: str, now: int, limit: int, cursor: Any = None) -> DuePage: ...


@dataclass(frozen=True)
class Fetched:
    report: Report
    latency_ms: float = 0.0


class ReportSource(Protocol):
    """The provider's report APIs, for one record (its cmid and the channel it went by)."""

    def fetch(self, record: Mapping[str, Any]) -> Fetched: ...


class TerminalEvents(Protocol):
    """Tells the application that a record reached a terminal status (once per transition)."""

    def publish(self, record: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class AlimTalkMessage:
    """An AlimTalk as /kko/1/msg (or msg_test) takes it; buttons already in their wire fields."""

    phone: str
    callback: str
    msg: str
    template_code: str
    failed_type: str  # SMS | LMS | N
    failed_subject: str | None = None
    failed_msg: str | None = None
    reqdate: str | None = None
    button_fields: tuple[tuple[str, str], ...] = ()
    test: bool = False


class AlimTalkProvider(Protocol):
    def send_alimtalk(self, msg: AlimTalkMessage) -> SendResult: ...


class TemplatesUnavailable(Exception):
    """The template list could not be read, so no AlimTalk can be checked right now."""


class TemplateSource(Protocol):
    def get(self, code: str) -> Template | None: ...
