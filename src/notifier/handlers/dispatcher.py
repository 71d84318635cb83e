"""SQS -> dispatcher Lambda. Thin: build the parts once per container, hand each record to Dispatcher.

Messages of one batch are dispatched concurrently (bounded by SEND_CONCURRENCY), so a batch takes
about one provider round trip, not one per message. Failures are reported per item
(ReportBatchItemFailures): one bad message never holds back the rest.
"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
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
    metrics.add_metric(name=m.DISPATCH_TOTALS.get(outcome.kind, m.OTHER), unit=MetricUnit.Count, value=1)
    if outcome.latency_ms is not None:
        metrics.add_metric(name=m.PROVIDER_LATENCY, unit=MetricUnit.Milliseconds, value=outcome.latency_ms)
    # Terminal outcomes are counted per channel as they are published (Wiring.events); "sent" is not one.
    if outcome.kind == "sent" and outcome.channel_used:
        channels.add(m.SENT, outcome.channel_used)
        if asked == "alimtalk" and outcome.channel_used != "alimtalk":
            channels.add(m.APP_FALLBACK, outcome.channel_used)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    a = app()
    records = event.get("Records") or []
    if records:
        a.wiring.warm_up()  # one SSM read for the batch, not one per thread racing for the cache
    lease_until = time.time() + context.get_remaining_time_in_millis() / 1000

    channels = a.wiring.channel_counts

    async def one(record: SQSRecord) -> str:
        asked = m.channel_asked(record.body)
        metrics.add_metric(name=m.ACCEPTED, unit=MetricUnit.Count, value=1)
        channels.add(m.ACCEPTED, asked)
        if context.get_remaining_time_in_millis() < a.wiring.time_needed_ms:
            # Too close to the deadline to finish a provider call: a send cut off by the time-out
            # would end `unknown`. Unclaimed, it is simply redelivered.
            metrics.add_metric(name=m.RETRIED, unit=MetricUnit.Count, value=1)
            raise RetryLater("not enough time left in this invocation to send")
        inbound = Inbound(
            message_id=record.message_id,
            body=record.body or "",
            receive_count=int(record.attributes.approximate_receive_count or 1),
            lease_until=lease_until,
        )
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(a.pool, a.dispatcher.handle, inbound)
        except Exception:
            logger.exception("dispatch failed; SQS will redeliver", extra={"message_id": record.message_id})
            metrics.add_metric(name=m.ERRORS, unit=MetricUnit.Count, value=1)
            raise
        _count(outcome, asked, channels)
        if outcome.action == "retry":
            raise RetryLater(outcome.reason)
        return outcome.status

    processor = AsyncBatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    try:
        return dict(
            async_process_partial_response(event=event, record_handler=one, processor=processor, context=context)
        )
    finally:
        channels.flush()


handler = traced(handler)
