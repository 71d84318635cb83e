"""The seams between the dispatcher and the outside world. Adapters implement these; the
dispatcher and the tests' fakes depend only on what is here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from .domain.verdict import Verdict

if TYPE_CHECKING:
    from .domain.alimtalk import Template, WireButton
    from .domain.record import Change
    from .domain.reports import Report


@dataclass(frozen=True)
class File:
    name: str
    content: bytes
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class TextMessage:
    """An SMS, LMS or MMS."""

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
    verdict: Verdict
    code: str  # provider result_code, or a transport marker: "connect", "timeout", "http-503", "bad-reply"
    reason: str
    message_id: str | None = None  # the provider's id for the accepted message (API Store: cmid)
    latency_ms: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", Verdict(self.verdict))  # a misspelt verdict fails here, not later


class MessagingProvider(Protocol):
    """SMS, LMS and MMS through the deployment's provider.

    It takes a batch of messages the dispatcher has already claimed and answers one result per
    message, in the same order. A provider with one request per message sends them one by one (or
    concurrently); one whose API takes many in one request (SOLAPI's send-many) sends one request
    and reads its per-message answer. When the reply to such a request is lost, every message of it
    is `unknown`: the provider may have them all. Never raises for a provider or transport error:
    that is a result."""

    def send_texts(self, msgs: Sequence[TextMessage]) -> list[SendResult]: ...


class AttachmentError(Exception):
    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class AttachmentStore(Protocol):
    def fetch(self, bucket: str, key: str, max_bytes: int) -> bytes: ...


class RecordUpdates(Protocol):
    """Conditional updates of records keyed by id: they report, never raise, a lost race.
    Every change comes from a builder of domain/record.py, which checked the status move."""

    def apply(self, record_id: str, change: Change) -> bool: ...


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
    """An AlimTalk with its provider-side SMS fallback (failed_type SMS, LMS or N: none)."""

    phone: str
    callback: str
    msg: str
    template_code: str
    failed_type: str  # SMS | LMS | N
    failed_subject: str | None = None
    failed_msg: str | None = None
    reqdate: str | None = None
    buttons: tuple[WireButton, ...] = ()  # checked against the template; the provider spells them its way
    test: bool = False


class AlimTalkProvider(Protocol):
    """KakaoTalk AlimTalk through the deployment's provider: a batch in, one result per message, in
    order, as MessagingProvider. `fallback` means its AlimTalk route refused synchronously, so the app
    may send the SMS itself."""

    def send_alimtalks(self, msgs: Sequence[AlimTalkMessage]) -> list[SendResult]: ...


class TemplatesUnavailable(Exception):
    """The template list could not be read, so no AlimTalk can be checked right now."""


class TemplateSource(Protocol):
    """The provider's approved AlimTalk templates, by code; raises TemplatesUnavailable when it cannot tell."""

    def get(self, code: str) -> Template | None: ...


@dataclass(frozen=True)
class ProviderConnection:
    """How a function reaches its provider: the package builds its pooled client from this."""

    base_url: str
    credentials: Callable[[], Any]  # the provider's own credentials type, read from SSM and cached
    pool_size: int  # the calling function's concurrency: a connection for every worker thread
    connect_timeout: float
    read_timeout: float


@dataclass(frozen=True)
class ProviderParts:
    """What a provider package builds for one function: the composition root asks the deployment's
    provider (configuration PROVIDER) for these, and the use cases see nothing else of it.
    A provider without AlimTalk leaves alimtalk and templates None: such events are then rejected."""

    messaging: MessagingProvider
    reports: ReportSource
    alimtalk: AlimTalkProvider | None = None
    templates: TemplateSource | None = None
