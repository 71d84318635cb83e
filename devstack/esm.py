"""Lambda's SQS event source mapping, emulated against (moto) SQS.

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
        event = {"Records": [self._record(m) for m in messages]}
        context = LambdaContext(
            function_name=self.function_name,
            region=self.region,
            account_id=self._account_id,
            memory_limit_in_mb=self.memory_limit_in_mb,
            timeout_s=self.function_timeout_s,
            log_group_name=self.log_group_name,
        )

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
