"""SQS -> dispatcher Lambda. Thin: build the parts once per container, hand the batch to Dispatcher.

The dispatcher works the batch in phases on this function's pool (SEND_CONCURRENCY threads): every
message claimed and made ready concurrently, one provider call per kind for all of them, each settled
from its own result. So a batch takes about one provider round trip, not one per message. Failures
are reported per item (ReportBatchItemFailures): one bad message never holds back the rest.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from .. import metrics as m
from ..observability import ScrubbingFormatter, traced
from ..usecases.dispatch import Dispatcher, Inbound, Outcome
from .wiring import Wiring

logger = Logger(logger_formatter=ScrubbingFormatter())
metrics = Metrics()


class RetryLater(Exception):
    """Reported as a batch item failure, so SQS redelivers the message (and dead-letters it in the end)."""


@dataclass
class App:
    wiring: Wiring
    dispatcher: Dispatcher
    pool: ThreadPoolExecutor


@cache
def app() -> App:
    wiring = Wiring.from_env(os.environ)
    return App(wiring, wiring.dispatcher(), ThreadPoolExecutor(wiring.concurrency, "dispatch"))


def _count(outcome: Outcome, asked: str, channels: m.ChannelCounts) -> None:
    if outcome.kind == "conflict":  # a duplicate too: Duplicate counts them all
        metrics.add_metric(name=m.DUPLICATE, unit=MetricUnit.Count, value=1)
    # Terminal outcomes are counted by the outbox function from the table's stream, so a dispatcher
    # that dies right after its write loses none of them; "sent" is not one.
    if outcome.kind not in m.TERMINAL_METRICS:  # a terminal outcome kind is named as its status
        metrics.add_metric(name=m.DISPATCH_TOTALS.get(outcome.kind, m.OTHER), unit=MetricUnit.Count, value=1)
    if outcome.latency_ms is not None:
        metrics.add_metric(name=m.PROVIDER_LATENCY, unit=MetricUnit.Milliseconds, value=outcome.latency_ms)
    if outcome.kind == "sent" and outcome.channel_used:
        channels.add(m.SENT, outcome.channel_used)
        if asked == "alimtalk" and outcome.channel_used != "alimtalk":
            channels.add(m.APP_FALLBACK, outcome.channel_used)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    a = app()
    records = [SQSRecord(r) for r in event.get("Records") or []]
    if records:
        a.wiring.warm_up()  # one SSM read for the batch, not one per thread racing for the cache
    lease_until = time.time() + context.get_remaining_time_in_millis() / 1000
    channels = a.wiring.channel_counts

    taken: list[SQSRecord] = []
    # Each body's channel read once (a guarded parse), for Accepted now and for the outcome's count later.
    asked = {r.message_id: m.channel_asked(r.body) for r in records}
    for record in records:
        metrics.add_metric(name=m.ACCEPTED, unit=MetricUnit.Count, value=1)
        channels.add(m.ACCEPTED, asked[record.message_id])
        # Too close to the deadline to finish a provider call, a send cut off by the time-out would
        # end `unknown`. Left unclaimed, it is simply redelivered.
        if context.get_remaining_time_in_millis() >= a.wiring.time_needed_ms:
            taken.append(record)
    inbound = [
        Inbound(
            message_id=r.message_id,
            body=r.body or "",
            receive_count=int(r.attributes.approximate_receive_count or 1),
            lease_until=lease_until,
        )
        for r in taken
    ]
    # The batch processor hands each record back wrapped anew: its raw dict is what stays the same.
    done = dict(zip((id(r.raw_event) for r in taken), a.dispatcher.handle_batch(inbound, a.pool), strict=True))

    def one(record: SQSRecord) -> str:
        if id(record.raw_event) not in done:
            metrics.add_metric(name=m.RETRIED, unit=MetricUnit.Count, value=1)
            raise RetryLater("not enough time left in this invocation to send")
        outcome = done[id(record.raw_event)]
        if isinstance(outcome, Exception):
            logger.error(
                "dispatch failed; SQS will redeliver", extra={"message_id": record.message_id}, exc_info=outcome
            )
            metrics.add_metric(name=m.ERRORS, unit=MetricUnit.Count, value=1)
            raise outcome
        _count(outcome, asked[record.message_id], channels)
        if outcome.action == "retry":
            raise RetryLater(outcome.reason)
        return outcome.status

    processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    try:
        return dict(process_partial_response(event=event, record_handler=one, processor=processor, context=context))
    finally:
        channels.flush()


handler = traced(handler)
