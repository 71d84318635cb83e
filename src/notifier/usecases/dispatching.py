"""What the dispatch use case's parts share: its settings, the message it is given, the outcome it
returns, and the one-message result of a batch send."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..domain.reports import FIRST_POLL_S
from ..domain.verdict import Verdict
from ..ports import SendResult

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


def only(results: list[SendResult]) -> SendResult:
    """The result of a one-message batch. A provider that answered for some other number of
    messages broke its port's contract: whether it took this one is not known."""
    if len(results) == 1:
        return results[0]
    return SendResult(Verdict.UNKNOWN, "bad-batch", f"provider answered {len(results)} results for 1 message")
