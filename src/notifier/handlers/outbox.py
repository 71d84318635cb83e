"""DynamoDB Streams (the records table) -> outbox Lambda -> EventBridge. Thin: build the parts once per
container, hand the batch's writes to the Outbox use case, report the ones the bus did not take.

Only writes that reached an outcome get here (the event source mapping's FilterCriteria in
template.yaml); the use case checks again, since a filter is a cost saving, not a contract. A write
whose event the bus refused is a batch item failure: the stream retries it (and what follows it in the
shard), then sends it to the outbox DLQ. Each published transition is counted here, as a total and per
channel: the metrics follow every committed transition, whichever writer made it.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from .. import metrics as m
from ..observability import ScrubbingFormatter, traced
from .outbox_wiring import OutboxWiring, write_of

logger = Logger(logger_formatter=ScrubbingFormatter())
metrics = Metrics()


class NotPublished(Exception):
    """Reported as a batch item failure, so the stream delivers the write again."""


@cache
def app() -> OutboxWiring:
    return OutboxWiring.from_env(os.environ)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    a = app()
    result = a.outbox.publish([write_of(r) for r in event.get("Records") or []])
    metrics.add_metric(name=m.EVENTS_PUBLISHED, unit=MetricUnit.Count, value=len(result.published))
    metrics.add_metric(name=m.EVENTS_REFUSED, unit=MetricUnit.Count, value=len(result.failed))
    for record in result.published:
        name = m.terminal_metric(record)
        if name is not None:  # a test send's acceptance is published, not counted as an outcome
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        a.channel_counts.terminal(record)
    logger.info(
        "outcomes published",
        extra={"published": len(result.published), "failed": len(result.failed), "skipped": result.skipped},
    )

    def one(record: DynamoDBRecord) -> None:
        error = result.failed.get(str(record.dynamodb.sequence_number if record.dynamodb else None))
        if error is not None:
            raise NotPublished(error)

    processor = BatchProcessor(EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    try:
        return dict(process_partial_response(event=event, record_handler=one, processor=processor, context=context))
    finally:
        a.channel_counts.flush()


handler = traced(handler)
