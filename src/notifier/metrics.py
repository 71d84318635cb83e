"""The metrics the functions emit (namespace Notifier, as CloudWatch embedded-metric log lines), each
name once: the handlers emit these, template.yaml's alarms and dashboard name them, and a test holds
the two together.

Two dimension sets:
- (service): the totals, through each handler's Powertools `Metrics`, one record per invocation;
  the alarms read these.
- (service, channel): the per-channel figures of the dashboard. Counted during the invocation and
  written at its end as one record per channel seen, so a batch of ten costs a few log lines, not
  one per message.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, get_args

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from .domain.body import BodyProblem
from .domain.body import read as read_body
from .domain.event import Channel

SERVICE_DIMENSION = "service"
CHANNEL_DIMENSION = "channel"

# The dispatcher, per message.
ACCEPTED = "Accepted"
SENT = "Sent"
REJECTED = "Rejected"
DUPLICATE = "Duplicate"
# Same id, other content: a producer bug (the first event wins). Alarmed; counted as a Duplicate too.
CONFLICTING_DUPLICATE = "ConflictingDuplicate"
RETRIED = "Retried"
FAILED = "Failed"
UNKNOWN = "Unknown"
OTHER = "Other"
ERRORS = "Errors"
PROVIDER_LATENCY = "ProviderLatency"
# The AlimTalk route refused at once and the dispatcher sent the fallback SMS/LMS itself.
APP_FALLBACK = "AppFallback"

# The report poller, per tick.
PENDING_READ = "PendingRead"
REPORTS_POLLED = "ReportsPolled"
DELIVERED = "Delivered"
STILL_PENDING = "StillPending"
REPORT_ERRORS = "ReportErrors"
POLL_RACED = "PollRaced"
POLL_LEFT = "PollLeftForNextTick"
REPORT_LATENCY = "ReportLatency"
# Kakao could not deliver and the provider's own fallback SMS/LMS did.
PROVIDER_FALLBACK = "ProviderFallback"

# The outbox function, per invocation: events the bus took, and those it refused (retried by the stream).
EVENTS_PUBLISHED = "EventsPublished"
EVENTS_REFUSED = "EventsRefused"

# Dispatcher outcome kind -> its total.
DISPATCH_TOTALS = {
    "sent": SENT,
    "duplicate": DUPLICATE,
    "conflict": CONFLICTING_DUPLICATE,
    "retried": RETRIED,
}
# Poller TickResult attribute -> its total (every tick writes all of them, zeros included).
POLL_TOTALS = {
    "read": PENDING_READ,
    "polled": REPORTS_POLLED,
    "pending": STILL_PENDING,
    "errors": REPORT_ERRORS,
    "raced": POLL_RACED,
    "left": POLL_LEFT,
}

# A terminal transition -> its count: emitted by the outbox function, once per committed transition
# (from the table's stream), as a total and per channel. The dispatcher and the poller do not count
# them, so a writer that dies after its write cannot lose one.
TERMINAL_METRICS = {"delivered": DELIVERED, "failed": FAILED, "rejected": REJECTED, "unknown": UNKNOWN}


SERVICE_METRICS = frozenset(
    {
        ACCEPTED,
        ERRORS,
        OTHER,
        PROVIDER_LATENCY,
        REPORT_LATENCY,
        *DISPATCH_TOTALS.values(),
        *POLL_TOTALS.values(),
        *TERMINAL_METRICS.values(),
        EVENTS_PUBLISHED,
        EVENTS_REFUSED,
    }
)
CHANNEL_METRICS = frozenset({ACCEPTED, SENT, DELIVERED, FAILED, REJECTED, UNKNOWN, APP_FALLBACK, PROVIDER_FALLBACK})


def terminal_metric(record: dict[str, Any]) -> str | None:
    """The metric a record's terminal status counts toward (None for a test send's `sent`)."""
    return TERMINAL_METRICS.get(str(record.get("status")))


CHANNELS = frozenset(get_args(Channel))
# A producer writes the channel: anything else is one value, so a typo never becomes a new metric.
INVALID_CHANNEL = "invalid"


def channel_value(value: Any) -> str:
    return value if isinstance(value, str) and value in CHANNELS else INVALID_CHANNEL


def channel_asked(body: str | None) -> str:
    """An SQS body's channel, for the per-channel Accepted count (the dispatcher validates it properly).
    Read through the same guard as the dispatcher: a plain json.loads of a hostile body raises
    RecursionError, which here, before the dispatcher, would retry the message into the DLQ."""
    event = read_body(body or "")
    return INVALID_CHANNEL if isinstance(event, BodyProblem) else channel_value(event.get("channel", "auto"))


def record_channel(record: dict[str, Any]) -> str:
    """The channel a record went by (the one asked for, if it never got as far as choosing one)."""
    return channel_value(record.get("channel_used") or record.get("channel_requested") or "auto")


class ChannelCounts:
    """Per-channel counts of one invocation, written by flush() at its end. Thread-safe: the poller
    counts from its worker threads."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def add(self, name: str, channel: str, value: int = 1) -> None:
        with self._lock:
            self._counts[name, channel_value(channel)] += value

    def terminal(self, record: dict[str, Any]) -> None:
        """Count a terminal transition: its status per channel, and a provider-side fallback."""
        name = terminal_metric(record)
        if name is None:  # a test send's "sent": not an outcome
            return
        self.add(name, record_channel(record))
        if name == DELIVERED and record.get("fallback_used"):
            self.add(PROVIDER_FALLBACK, channel_value(record.get("delivered_via")))

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)

    def flush(self) -> None:
        """One embedded-metric record per channel counted since the last flush (namespace and service
        from the POWERTOOLS_ variables, as for the totals)."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        by_channel: dict[str, dict[str, int]] = {}
        for (name, channel), value in counts.items():
            by_channel.setdefault(channel, {})[name] = value
        for channel, values in sorted(by_channel.items()):
            record = EphemeralMetrics()
            record.add_dimension(name=CHANNEL_DIMENSION, value=channel)
            for name, value in sorted(values.items()):
                record.add_metric(name=name, unit=MetricUnit.Count, value=value)
            record.flush_metrics()
