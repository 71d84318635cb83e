"""Lambda's event source mappings, emulated against moto: SQS (SqsEventSource) and DynamoDB Streams
(DynamoDBStreamEventSource, at the end of this file).

SQS:

What Lambda's poller does for a standard queue, step by step: receive a batch, invoke the
function synchronously with the Lambda SQS event, delete what succeeded, and leave the rest to
become visible again after the queue's visibility timeout. The dead-letter queue is SQS's own
redrive (maxReceiveCount), which moto implements on receive: nothing here moves messages.

    source = SqsEventSource(local.client("sqs"), handler, **local.sqs_event_source("DispatcherFunction"))
    outcomes = source.drain()
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

_SQS_MAX_PER_CALL = 10  # ReceiveMessage, DeleteMessageBatch and ChangeMessageVisibilityBatch


@dataclass
class BatchOutcome:
    """One invocation: the message ids it received, which of them were deleted, which were not."""

    received: list[str] = field(default_factory=list)
    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    handler_error: str | None = None


class LambdaContext:
    """The context object the Python runtime passes to a handler (the attributes handlers read)."""

    def __init__(
        self,
        *,
        function_name: str,
        region: str,
        account_id: str,
        memory_limit_in_mb: int,
        timeout_s: float,
        log_group_name: str,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        # The runtime reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE, so it is a string there too.
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = log_group_name
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + timeout_s

    @classmethod
    def of(cls, source: Any) -> LambdaContext:
        """A fresh invocation's context for an event source that names its function's settings."""
        return cls(
            function_name=source.function_name,
            region=source.region,
            account_id=source._account_id,
            memory_limit_in_mb=source.memory_limit_in_mb,
            timeout_s=source.function_timeout_s,
            log_group_name=source.log_group_name,
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class SqsEventSource:
    """Feeds an SQS queue to a handler the way Lambda's event source mapping does."""

    def __init__(
        self,
        sqs_client: Any,
        handler: Callable[[dict[str, Any], Any], Any],
        *,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        function_timeout_s: float,
        visibility_timeout_s: int,
        region: str,
        max_batching_window_s: float = 0,
        fast_forward: bool = True,
        function_name: str = "DispatcherFunction",
        report_batch_item_failures: bool = True,
        memory_limit_in_mb: int = 512,
        log_group_name: str | None = None,
        **_ignored: Any,
    ) -> None:
        self._sqs = sqs_client
        self._handler = handler
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = batch_size
        self.function_timeout_s = function_timeout_s
        self.visibility_timeout_s = visibility_timeout_s
        self.region = region
        self.max_batching_window_s = max_batching_window_s
        self.fast_forward = fast_forward
        self.function_name = function_name
        self.report_batch_item_failures = report_batch_item_failures
        self.memory_limit_in_mb = memory_limit_in_mb
        self.log_group_name = log_group_name or f"/aws/lambda/{function_name}"
        self._account_id = queue_arn.split(":")[4]

    def poll_once(self) -> BatchOutcome:
        """One receive -> invoke -> delete cycle. An empty queue gives an empty outcome."""
        messages = self._receive_batch()
        if not messages:
            return BatchOutcome()
        received = [m["MessageId"] for m in messages]
        event = self.lambda_event(messages)
        context = LambdaContext.of(self)

        started = time.monotonic()
        error: str | None
        try:
            response = self._handler(event, context)
            # Lambda serialises the return value; one that cannot be is a function error.
            json.dumps(response)
        except Exception as exc:
            log.warning("handler failed; the whole batch of %d is retried", len(messages), exc_info=True)
            failed, error = set(received), f"{type(exc).__name__}: {exc}"
        else:
            failed, error = self._failed_ids(response, received)
        # Lambda would have stopped the function at its timeout: the batch failed, whatever it returned.
        # (Here it ran to the end, so its side effects after the deadline did happen.)
        elapsed = time.monotonic() - started
        if elapsed > self.function_timeout_s and error is None:
            failed, error = set(received), f"Task timed out after {self.function_timeout_s:.2f} seconds"

        succeeded = [m for m in messages if m["MessageId"] not in failed]
        retried = [m for m in messages if m["MessageId"] in failed]
        self._delete(succeeded)
        if self.fast_forward and retried:
            # Lambda leaves a failed message invisible until the queue's visibility timeout ends.
            # Making it visible now only shortens the wait: the receive count, the redrive to the
            # DLQ and the order of attempts are the same as on AWS.
            self._make_visible(retried)
        return BatchOutcome(
            received=received,
            succeeded=[m["MessageId"] for m in succeeded],
            failed=[m["MessageId"] for m in retried],
            handler_error=error,
        )

    def drain(self, timeout_s: float = 60.0, idle_polls: int = 2) -> list[BatchOutcome]:
        """Poll until the queue holds nothing visible, in flight or delayed (or until timeout_s)."""
        outcomes: list[BatchOutcome] = []
        deadline = time.monotonic() + timeout_s
        idle = 0
        while time.monotonic() < deadline:
            outcome = self.poll_once()
            if outcome.received:
                outcomes.append(outcome)
                idle = 0
                continue
            if self._queue_is_empty():
                idle += 1
                if idle >= idle_polls:
                    break
            else:
                idle = 0
                time.sleep(0.05)  # messages in flight or delayed: wait for them to come back
        return outcomes

    # -- SQS -------------------------------------------------------------------------------------

    def _receive_batch(self) -> list[dict[str, Any]]:
        """Up to batch_size messages, waiting up to the batching window for a fuller batch."""
        messages: list[dict[str, Any]] = []
        window_ends = time.monotonic() + (0 if self.fast_forward else self.max_batching_window_s)
        while len(messages) < self.batch_size:
            response = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(_SQS_MAX_PER_CALL, self.batch_size - len(messages)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            received = response.get("Messages", [])
            messages.extend(received)
            if not received:
                if time.monotonic() >= window_ends:
                    break
                time.sleep(0.05)
        return messages

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for chunk in _chunks(messages):
            response = self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failure in response.get("Failed", []):
                log.warning("could not delete a processed message: %s", failure)

    def _make_visible(self, messages: list[dict[str, Any]]) -> None:
        for chunk in _chunks(messages):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(chunk)
                ],
            )

    def _queue_is_empty(self) -> bool:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return all(int(v) == 0 for v in attributes.values())

    # -- Lambda's side -------------------------------------------------------------------------

    def lambda_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The event Lambda invokes the function with for these received messages."""
        return {"Records": [self._record(m) for m in messages]}

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        """One entry of event["Records"], in the shape (and key spelling) Lambda delivers."""
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            # Every system attribute SQS returned: the four always there, and MessageGroupId,
            # SequenceNumber, AWSTraceHeader ... when the message has them. All strings.
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {
                name: _lambda_message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def _failed_ids(self, response: Any, received: list[str]) -> tuple[set[str], str | None]:
        """Which messages Lambda would retry, read from the handler's return value."""
        if not self.report_batch_item_failures:
            return set(), None
        # Lambda counts these as "all succeeded".
        if response is None or response == {}:
            return set(), None
        if not isinstance(response, dict):
            return set(received), f"invalid batch response (not an object): {response!r}"
        failures = response.get("batchItemFailures")
        if failures is None or failures == []:
            return set(), None
        if not isinstance(failures, list):
            return set(received), f"invalid batchItemFailures: {failures!r}"
        failed: set[str] = set()
        for item in failures:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            # A null, empty, misspelled or unknown identifier makes Lambda fail the whole batch.
            if not identifier or identifier not in received:
                return set(received), f"invalid batch item failure: {item!r}"
            failed.add(identifier)
        return failed, None


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An SQS API message attribute -> Lambda's event shape (camelCase, binary as base64 text)."""
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    attribute["stringListValues"] = list(value.get("StringListValues", []))
    attribute["binaryListValues"] = [base64.b64encode(v).decode("ascii") for v in value.get("BinaryListValues", [])]
    attribute["dataType"] = value["DataType"]
    return attribute


def _chunks(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [items[i : i + _SQS_MAX_PER_CALL] for i in range(0, len(items), _SQS_MAX_PER_CALL)]


# ---------------------------------------------------------------------------------------------------
# DynamoDB Streams


@dataclass
class StreamOutcome:
    """One pass of the stream mapping: what was read, filtered out, invoked, checkpointed, dead-lettered."""

    read: int = 0
    filtered_out: int = 0
    invoked: list[str] = field(default_factory=list)  # sequence numbers handed to the function
    succeeded: list[str] = field(default_factory=list)  # checkpointed past
    failed: list[str] = field(default_factory=list)  # to be retried
    dead_lettered: list[str] = field(default_factory=list)  # sent to the OnFailure destination
    handler_error: str | None = None


@dataclass
class _Batch:
    records: list[dict[str, Any]]  # in Lambda's shape, in shard order
    attempts: int = 0  # invocations so far


class DynamoDBStreamEventSource:
    """Feeds a DynamoDB stream to a handler the way Lambda's stream event source mapping does.

    Per shard, in order: read up to batch_size records from the checkpoint, drop those no filter
    pattern matches (they count as processed), invoke the function synchronously with the rest, and
    move the checkpoint only past what succeeded. With ReportBatchItemFailures the function names
    failed records by sequence number: the batch is retried from the lowest one (records before it are
    done; the ones after it come again). A function error (or an invalid response) fails the whole
    batch: with BisectBatchOnFunctionError it is split in two and each half retried. A batch whose
    records exhausted MaximumRetryAttempts or passed MaximumRecordAgeInSeconds is skipped, and its
    description (not the records: DDBStreamBatchInfo) goes to the OnFailure SQS destination.

    The filter is FilterCriteria's patterns, matched with moto's EventBridge pattern matcher (Lambda's
    filter grammar is EventBridge's). Retries are immediate here (Lambda backs off); the order of
    attempts, the checkpoints and what reaches the destination are the same.

        source = DynamoDBStreamEventSource(local.client("dynamodbstreams"), local.client("sqs"), handler,
                                           **local.stream_event_source("OutboxFunction"))
        source.drain()
    """

    def __init__(
        self,
        streams_client: Any,
        sqs_client: Any,
        handler: Callable[[dict[str, Any], Any], Any],
        *,
        stream_arn: str,
        region: str,
        batch_size: int = 100,
        starting_position: str = "TRIM_HORIZON",
        filter_patterns: list[str] | None = None,
        report_batch_item_failures: bool = False,
        bisect_on_function_error: bool = False,
        maximum_retry_attempts: int = -1,
        maximum_record_age_s: int = -1,
        on_failure_queue_url: str | None = None,
        function_name: str = "OutboxFunction",
        function_timeout_s: float = 30,
        memory_limit_in_mb: int = 128,
        log_group_name: str | None = None,
        **_ignored: Any,
    ) -> None:
        from moto.events.models import EventPattern

        self._streams = streams_client
        self._sqs = sqs_client
        self.handler = handler  # the function: a test may put a crashing one in for a while
        self.stream_arn = stream_arn
        self.region = region
        self.batch_size = batch_size
        self.report_batch_item_failures = report_batch_item_failures
        self.bisect = bisect_on_function_error
        self.maximum_retry_attempts = maximum_retry_attempts
        self.maximum_record_age_s = maximum_record_age_s
        self.on_failure_queue_url = on_failure_queue_url
        self.function_name = function_name
        self.function_timeout_s = function_timeout_s
        self.memory_limit_in_mb = memory_limit_in_mb
        self.log_group_name = log_group_name or f"/aws/lambda/{function_name}"
        self._account_id = stream_arn.split(":")[4]
        self._patterns = [EventPattern.load(p) for p in filter_patterns or []]
        shards = streams_client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        self._iterators = {
            s["ShardId"]: streams_client.get_shard_iterator(
                StreamArn=stream_arn, ShardId=s["ShardId"], ShardIteratorType=starting_position
            )["ShardIterator"]
            for s in shards
        }
        self._pending: dict[str, list[_Batch]] = {shard: [] for shard in self._iterators}
        self._lock = threading.Lock()  # one poller per mapping, as Lambda runs one per shard

    def skip_to_latest(self) -> None:
        """Move every shard's checkpoint to the stream's end, as a mapping created with LATEST would
        start: what was written before is never delivered."""
        with self._lock:
            for shard in self._iterators:
                self._iterators[shard] = self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="LATEST"
                )["ShardIterator"]
                self._pending[shard] = []

    # -- the loop ----------------------------------------------------------------------------------

    def poll_once(self) -> StreamOutcome:
        """One invocation (or one read that found nothing to invoke) per shard with work."""
        outcome = StreamOutcome()
        with self._lock:
            for shard in self._iterators:
                self._poll_shard(shard, outcome)
        return outcome

    def drain(self, timeout_s: float = 60.0) -> list[StreamOutcome]:
        """Poll until every shard is read to its end and nothing waits for a retry (or until timeout_s)."""
        outcomes: list[StreamOutcome] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            outcome = self.poll_once()
            if not outcome.read and not outcome.invoked and not outcome.dead_lettered:
                break
            outcomes.append(outcome)
        return outcomes

    def _poll_shard(self, shard: str, outcome: StreamOutcome) -> None:
        pending = self._pending[shard]
        if not pending:
            records = self._read(shard)
            outcome.read += len(records)
            kept = [r for r in records if self._matches(r)]
            outcome.filtered_out += len(records) - len(kept)
            if not kept:
                return
            pending.append(_Batch(kept))
        batch = pending[0]
        expired = self._expired(batch)
        if expired:
            pending.pop(0)
            self._dead_letter(shard, batch, expired, outcome)
            return
        self._invoke(shard, batch, outcome)

    def _invoke(self, shard: str, batch: _Batch, outcome: StreamOutcome) -> None:
        pending = self._pending[shard]
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch.records]
        outcome.invoked += sequence_numbers
        batch.attempts += 1
        context = LambdaContext.of(self)
        started = time.monotonic()
        first_failed: int | None
        try:
            response = self.handler({"Records": batch.records}, context)
            json.dumps(response)
        except Exception as exc:
            log.warning("stream handler failed; the batch of %d is retried", len(batch.records), exc_info=True)
            first_failed, outcome.handler_error = None, f"{type(exc).__name__}: {exc}"
        else:
            first_failed, outcome.handler_error = self._first_failed(response, sequence_numbers)
        if time.monotonic() - started > self.function_timeout_s and outcome.handler_error is None:
            first_failed, outcome.handler_error = None, f"Task timed out after {self.function_timeout_s:.2f} seconds"

        if outcome.handler_error is None and first_failed is None:
            pending.pop(0)
            outcome.succeeded += sequence_numbers
            return
        if outcome.handler_error is None:
            # A partial batch response: done up to the first failure, retried from it on.
            assert first_failed is not None
            outcome.succeeded += sequence_numbers[:first_failed]
            outcome.failed += sequence_numbers[first_failed:]
            pending[0] = _Batch(batch.records[first_failed:], batch.attempts)
            return
        outcome.failed += sequence_numbers
        if self.bisect and len(batch.records) > 1:
            half = len(batch.records) // 2
            pending[0:1] = [_Batch(batch.records[:half], batch.attempts), _Batch(batch.records[half:], batch.attempts)]

    def _expired(self, batch: _Batch) -> str | None:
        if 0 <= self.maximum_retry_attempts < batch.attempts:
            return "RetryAttemptsExhausted"
        if self.maximum_record_age_s >= 0:
            oldest = min(r["dynamodb"]["ApproximateCreationDateTime"] for r in batch.records)
            if time.time() - oldest > self.maximum_record_age_s:
                return "RecordAgeExceeded"
        return None

    def _dead_letter(self, shard: str, batch: _Batch, condition: str, outcome: StreamOutcome) -> None:
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch.records]
        outcome.dead_lettered += sequence_numbers
        if self.on_failure_queue_url is None:
            log.warning("stream batch of %d skipped (%s); no OnFailure destination", len(sequence_numbers), condition)
            return
        arrivals = [r["dynamodb"]["ApproximateCreationDateTime"] for r in batch.records]
        self._sqs.send_message(QueueUrl=self.on_failure_queue_url, MessageBody=json.dumps(self._batch_info(
            shard, sequence_numbers, arrivals, condition, batch.attempts
        )))  # fmt: skip

    def _batch_info(
        self, shard: str, sequence_numbers: list[str], arrivals: list[float], condition: str, attempts: int
    ) -> dict[str, Any]:
        """What Lambda sends to a stream mapping's OnFailure destination: where the batch is, not the batch."""

        def iso(ts: float) -> str:
            return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{self.region}:{self._account_id}:function:{self.function_name}",
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": sequence_numbers[0],
                "endSequenceNumber": sequence_numbers[-1],
                "approximateArrivalOfFirstRecord": iso(min(arrivals)),
                "approximateArrivalOfLastRecord": iso(max(arrivals)),
                "batchSize": len(sequence_numbers),
                "streamArn": self.stream_arn,
            },
        }

    # -- the stream --------------------------------------------------------------------------------

    def _read(self, shard: str) -> list[dict[str, Any]]:
        response = self._streams.get_records(ShardIterator=self._iterators[shard], Limit=self.batch_size)
        self._iterators[shard] = response["NextShardIterator"]
        return [self._record(r) for r in response["Records"]]

    def _record(self, raw: dict[str, Any]) -> dict[str, Any]:
        """A GetRecords record -> one entry of a Lambda DynamoDB stream event (Lambda's shape and spelling)."""
        images = dict(raw["dynamodb"])
        created = images.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):  # boto3 parses it; Lambda delivers epoch seconds
            images["ApproximateCreationDateTime"] = created.timestamp()
        return {
            "eventID": raw["eventID"],
            "eventName": raw["eventName"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": images,
            "eventSourceARN": self.stream_arn,
        }

    def _matches(self, record: dict[str, Any]) -> bool:
        matches = [p.matches_event(record) for p in self._patterns]  # type: ignore[arg-type]
        return not self._patterns or any(matches)

    def _first_failed(self, response: Any, sequence_numbers: list[str]) -> tuple[int | None, str | None]:
        """Index of the first record to retry (None: all done), or an error that fails the whole batch."""
        if not self.report_batch_item_failures or response is None or response == {}:
            return None, None
        if not isinstance(response, dict):
            return None, f"invalid batch response (not an object): {response!r}"
        failures = response.get("batchItemFailures")
        if failures is None or failures == []:
            return None, None
        if not isinstance(failures, list):
            return None, f"invalid batchItemFailures: {failures!r}"
        indexes = []
        for item in failures:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not identifier or identifier not in sequence_numbers:
                return None, f"invalid batch item failure: {item!r}"
            indexes.append(sequence_numbers.index(identifier))
        return min(indexes), None
