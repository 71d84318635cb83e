"""What the dispatch use case's parts share: its settings, the message it is given, the outcome it
returns, and the per-message results of a batch send."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..domain.reports import FIRST_POLL_S
from ..domain.verdict import Verdict
from ..ports import AlimTalkMessage, SendResult, TextMessage

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


@dataclass(frozen=True)
class Send:
    """A claimed message ready for the provider, and what its own result makes of it: an outcome, or
    one more send under the same claim (the app-side fallback SMS after a refused AlimTalk)."""

    record_id: str
    token: str  # its claim, which the dispatch mark is written under right before the call
    msg: TextMessage | AlimTalkMessage
    settle: Callable[[SendResult], Outcome | Send]


Step = Outcome | Send
# A message prepared before its claim (checked, its attachments read, its provider message built):
# given the claim's token, what follows at once, a Send or the settling of what the preparation found.
Ready = Callable[[str], Step]


def per_message(results: list[SendResult], n: int) -> list[SendResult]:
    """One result per message of an n-message batch. A provider that answered for some other number
    of messages broke its port's contract: whether it took any of them is not known."""
    if len(results) == n:
        return results
    lost = SendResult(Verdict.UNKNOWN, "bad-batch", f"provider answered {len(results)} results for {n} messages")
    return [lost] * n
