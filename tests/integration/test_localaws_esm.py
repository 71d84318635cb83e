"""LocalAws (template.yaml in moto server, over HTTP) and the emulated SQS event source mapping."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.esm import BatchOutcome, SqsEventSource
from devstack.localaws import LocalAws

ROOT = Path(__file__).resolve().parents[2]
MAX_RECEIVE_COUNT = 3


@pytest.fixture(scope="module")
def local() -> Iterator[LocalAws]:
    aws = LocalAws.start(ROOT / "template.yaml", parameters={"MaxReceiveCount": str(MAX_RECEIVE_COUNT)})
    yield aws
    aws.stop()


@pytest.fixture(scope="module")
def mapping(local: LocalAws) -> dict[str, Any]:
    return local.sqs_event_source("DispatcherFunction")


@pytest.fixture
def sqs(local: LocalAws, mapping: dict[str, Any]) -> Any:
    """The SQS client, with both queues empty: the tests share one stack."""
    client = local.client("sqs")
    # Main queue first: receiving there may still redrive a message into the DLQ.
    for url in (mapping["queue_url"], mapping["dlq_url"]):
        _take_all(client, url)  # not PurgeQueue: moto enforces its one-per-60-seconds limit
    return client


class Recorder:
    """A fake handler: remembers every event and context, fails the bodies it is told to fail."""

    def __init__(self, fail_bodies: set[str] | None = None, raises: Exception | None = None) -> None:
        self.fail_bodies = fail_bodies or set()
        self.raises = raises
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.remaining_ms: list[int] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        self.contexts.append(context)
        self.remaining_ms.append(context.get_remaining_time_in_millis())
        if self.raises:
            raise self.raises
        failures = [r["messageId"] for r in event["Records"] if r["body"] in self.fail_bodies]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failures]}

    def bodies_seen(self) -> list[str]:
        return [r["body"] for e in self.events for r in e["Records"]]


def _source(local: LocalAws, mapping: dict[str, Any], handler: Any, **overrides: Any) -> SqsEventSource:
    return SqsEventSource(local.client("sqs"), handler, **{**mapping, **overrides})


def _send(sqs: Any, url: str, *bodies: str, **kwargs: Any) -> list[str]:
    return [sqs.send_message(QueueUrl=url, MessageBody=b, **kwargs)["MessageId"] for b in bodies]


def _take_all(sqs: Any, url: str) -> list[str]:
    """Receive and delete every visible message of a queue; their bodies, sorted."""
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [m["Body"] for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    return sorted(bodies)


# -- LocalAws: the template's resources, created in moto ----------------------------------------


def test_start_creates_the_queue_with_its_redrive_policy_to_the_dlq(local: LocalAws) -> None:
    # Given the stack started with MaxReceiveCount=3
    sqs = local.client("sqs")

    # When the queues named in the outputs are described
    queue = sqs.get_queue_attributes(QueueUrl=local.outputs["QueueUrl"], AttributeNames=["All"])["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=local.outputs["DeadLetterQueueUrl"], AttributeNames=["All"])["Attributes"]

    # Then the queue redrives to the DLQ after 3 receives, with the template's timeouts
    assert json.loads(queue["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq["QueueArn"],
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    }
    assert queue["QueueArn"] == local.outputs["QueueArn"]
    assert queue["VisibilityTimeout"] == "180"
    assert queue["SqsManagedSseEnabled"] == "true"
    assert dlq["MessageRetentionPeriod"] == "1209600"


def test_start_creates_the_table_with_the_pending_index_ttl_and_recovery(local: LocalAws) -> None:
    # Given the stack
    ddb = local.client("dynamodb")
    name = local.outputs["TableName"]

    # When the table is described
    table = ddb.describe_table(TableName=name)["Table"]
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]

    # Then it has the key, the sparse index, TTL on expires_at and point-in-time recovery
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "pending"
    assert index["KeySchema"] == [
        {"AttributeName": "poll_shard", "KeyType": "HASH"},
        {"AttributeName": "next_poll_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert types == {"id": "S", "poll_shard": "S", "next_poll_at": "N"}
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_function_env_resolves_refs_to_the_local_resources(local: LocalAws) -> None:
    # Given the stack started with MaxReceiveCount=3

    # When the dispatcher's environment is read
    env = local.function_env("DispatcherFunction")

    # Then TABLE_NAME is the table that exists, parameters are resolved, and every value is a string
    assert env["TABLE_NAME"] == local.outputs["TableName"]
    local.client("dynamodb").describe_table(TableName=env["TABLE_NAME"])
    assert env["MAX_RECEIVE_COUNT"] == str(MAX_RECEIVE_COUNT)
    assert env["PROVIDER_KEY_PARAM"] == "/notifier/dev/provider/api-key"
    assert env["ATTACHMENT_BUCKET"] == ""
    assert all(isinstance(v, str) for v in env.values())
    assert local.function_timeout("DispatcherFunction") == 30


def test_start_creates_the_alarms_moto_cloudformation_skips(local: LocalAws) -> None:
    # Given the stack (moto's CloudFormation has no AWS::CloudWatch::Alarm)

    # When the alarms are listed
    alarms = {a["AlarmName"]: a for a in local.client("cloudwatch").describe_alarms()["MetricAlarms"]}

    # Then both exist and notify the alarm topic; the DLQ alarm watches the stack's DLQ
    dlq_name = local.outputs["DeadLetterQueueUrl"].rsplit("/", 1)[1]
    dlq_alarm = alarms[f"{local.stack_name}-DeadLetterQueueAlarm"]
    assert dlq_alarm["Dimensions"] == [{"Name": "QueueName", "Value": dlq_name}]
    unknown_alarm = alarms[f"{local.stack_name}-UnknownOutcomeAlarm"]
    assert (unknown_alarm["Namespace"], unknown_alarm["MetricName"]) == ("Notifier", "Unknown")
    for alarm in (dlq_alarm, unknown_alarm):
        assert alarm["AlarmActions"] == [local.outputs["AlarmTopicArn"]]


def test_sqs_event_source_reads_the_mapping_from_the_template(mapping: dict[str, Any], local: LocalAws) -> None:
    # Given the stack; When the dispatcher's SQS source is read (fixture)
    # Then it carries the template's settings and the queue's own redrive
    assert mapping["queue_url"] == local.outputs["QueueUrl"]
    assert mapping["queue_arn"] == local.outputs["QueueArn"]
    assert mapping["dlq_url"] == local.outputs["DeadLetterQueueUrl"]
    assert (mapping["batch_size"], mapping["max_batching_window_s"]) == (10, 1)
    assert mapping["visibility_timeout_s"] == 180
    assert mapping["function_timeout_s"] == 30
    assert mapping["max_receive_count"] == MAX_RECEIVE_COUNT
    assert mapping["report_batch_item_failures"] is True
    assert mapping["function_name"] == local.outputs["DispatcherFunctionName"]


def test_put_secret_stores_a_securestring_readable_decrypted(local: LocalAws) -> None:
    # Given an API key stored the way an operator stores it
    local.put_secret("/notifier/test/provider/api-key", "k3y-value")
    ssm = local.client("ssm")

    # When it is read with and without decryption
    decrypted = ssm.get_parameter(Name="/notifier/test/provider/api-key", WithDecryption=True)["Parameter"]
    raw = ssm.get_parameter(Name="/notifier/test/provider/api-key")["Parameter"]

    # Then it is a SecureString whose plain value needs decryption
    assert decrypted["Type"] == "SecureString"
    assert decrypted["Value"] == "k3y-value"
    assert raw["Value"] != "k3y-value"


def test_put_secret_can_store_a_plain_string(local: LocalAws) -> None:
    # Given a client id, which is not secret
    local.put_secret("/notifier/test/provider/client-id", "client-1", secure=False)

    # When it is read; Then it is a String
    parameter = local.client("ssm").get_parameter(Name="/notifier/test/provider/client-id")["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("String", "client-1")


def test_apply_env_points_unmodified_boto3_at_moto_until_restored(local: LocalAws) -> None:
    # Given a secret in the local SSM, and the environment as it was
    local.put_secret("/notifier/test/env-check", "reachable")
    before = os.environ.get("AWS_ENDPOINT_URL")

    # When the environment is applied, a client built with no arguments reaches moto
    local.apply_env()
    try:
        value = boto3.client("ssm").get_parameter(Name="/notifier/test/env-check", WithDecryption=True)
        assert value["Parameter"]["Value"] == "reachable"
        assert os.environ["AWS_REGION"] == local.region
    finally:
        local.restore_env()

    # Then restoring puts the environment back
    assert os.environ.get("AWS_ENDPOINT_URL") == before


# -- SqsEventSource: Lambda's event source mapping ---------------------------------------------


def test_event_has_lambdas_sqs_record_shape(local: LocalAws, mapping: dict[str, Any], sqs: Any) -> None:
    # Given a message with a string, a number and a binary attribute
    (message_id,) = _send(
        sqs,
        mapping["queue_url"],
        '{"id": "shape-1"}',
        MessageAttributes={
            "tenant": {"DataType": "String", "StringValue": "shop"},
            "priority": {"DataType": "Number", "StringValue": "3"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    handler = Recorder()

    # When the event source polls once
    outcome = _source(local, mapping, handler).poll_once()

    # Then the handler got one Lambda-shaped record, and the message was deleted
    assert outcome == BatchOutcome(received=[message_id], succeeded=[message_id], failed=[], handler_error=None)
    (record,) = handler.events[0]["Records"]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["messageId"] == message_id
    assert record["body"] == '{"id": "shape-1"}'
    assert record["md5OfBody"] == hashlib.md5(b'{"id": "shape-1"}').hexdigest()
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        mapping["queue_arn"],
        local.region,
    )
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        record["attributes"]
    )
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"] == {
        "tenant": {"stringValue": "shop", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "priority": {"stringValue": "3", "stringListValues": [], "binaryListValues": [], "dataType": "Number"},
        "blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }
    assert sqs.receive_message(QueueUrl=mapping["queue_url"]).get("Messages") is None


def test_context_looks_like_lambdas(local: LocalAws, mapping: dict[str, Any], sqs: Any) -> None:
    # Given a message
    _send(sqs, mapping["queue_url"], "ctx")
    handler = Recorder()

    # When it is handled
    _source(local, mapping, handler).poll_once()

    # Then the context names the function and counts down from its timeout
    context = handler.contexts[0]
    assert context.function_name == mapping["function_name"]
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn == (
        f"arn:aws:lambda:{local.region}:{local.account_id}:function:{mapping['function_name']}"
    )
    assert context.memory_limit_in_mb == "512"
    assert len(context.aws_request_id) == 36
    assert context.log_group_name == mapping["log_group_name"]
    assert context.log_stream_name
    assert 0 < handler.remaining_ms[0] <= mapping["function_timeout_s"] * 1000


def test_receive_count_increases_on_redelivery(local: LocalAws, mapping: dict[str, Any], sqs: Any) -> None:
    # Given a message the handler fails
    _send(sqs, mapping["queue_url"], "again")
    handler = Recorder(fail_bodies={"again"})
    source = _source(local, mapping, handler)

    # When it is polled twice
    source.poll_once()
    source.poll_once()

    # Then the second delivery carries a higher receive count
    counts = [e["Records"][0]["attributes"]["ApproximateReceiveCount"] for e in handler.events]
    assert counts == ["1", "2"]


def test_partial_failure_deletes_only_the_successes(local: LocalAws, mapping: dict[str, Any], sqs: Any) -> None:
    # Given three messages, one of which the handler reports as failed
    ok1, bad, ok2 = _send(sqs, mapping["queue_url"], "ok-1", "bad", "ok-2")
    handler = Recorder(fail_bodies={"bad"})
    source = _source(local, mapping, handler)

    # When one batch is handled
    outcome = source.poll_once()

    # Then only the failure stays in the queue, and it comes back on the next poll
    assert sorted(outcome.received) == sorted([ok1, bad, ok2])
    assert sorted(outcome.succeeded) == sorted([ok1, ok2])
    assert outcome.failed == [bad]
    assert outcome.handler_error is None
    again = source.poll_once()
    assert again.received == [bad]


def test_message_failing_every_time_lands_in_the_dlq_after_max_receive_count(
    local: LocalAws, mapping: dict[str, Any], sqs: Any
) -> None:
    # Given a message the handler always fails, next to one it handles
    _send(sqs, mapping["queue_url"], "poison", "fine")
    handler = Recorder(fail_bodies={"poison"})

    # When the queue is drained
    _source(local, mapping, handler).drain(timeout_s=20)

    # Then the handler saw it maxReceiveCount times, and SQS moved it to the DLQ
    assert handler.bodies_seen().count("poison") == MAX_RECEIVE_COUNT
    assert handler.bodies_seen().count("fine") == 1
    assert _take_all(sqs, mapping["dlq_url"]) == ["poison"]
    assert _take_all(sqs, mapping["queue_url"]) == []


def test_raising_handler_fails_the_whole_batch(local: LocalAws, mapping: dict[str, Any], sqs: Any) -> None:
    # Given two messages and a handler that raises
    ids = _send(sqs, mapping["queue_url"], "a", "b")
    source = _source(local, mapping, Recorder(raises=RuntimeError("boom")))

    # When the batch is handled
    outcome = source.poll_once()

    # Then nothing was deleted, both come back, and the error is reported
    assert sorted(outcome.failed) == sorted(ids)
    assert outcome.succeeded == []
    assert outcome.handler_error == "RuntimeError: boom"
    redelivered = source.poll_once()
    assert sorted(redelivered.received) == sorted(ids)


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_empty_batch_response_means_all_succeeded(
    local: LocalAws, mapping: dict[str, Any], sqs: Any, response: Any
) -> None:
    # Given two messages and a handler returning an empty response
    ids = _send(sqs, mapping["queue_url"], "x", "y")

    # When the batch is handled
    outcome = _source(local, mapping, lambda event, context: response).poll_once()

    # Then Lambda's rule applies: all succeeded
    assert sorted(outcome.succeeded) == sorted(ids)
    assert outcome.failed == []


@pytest.mark.parametrize(
    "failures",
    [
        [{"itemIdentifier": "not-in-this-batch"}],
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{"itemIdentifer": "typo-in-the-key"}],
    ],
)
def test_invalid_batch_item_failure_fails_the_whole_batch(
    local: LocalAws, mapping: dict[str, Any], sqs: Any, failures: list[dict[str, Any]]
) -> None:
    # Given two messages and a handler reporting a failure Lambda cannot match
    ids = _send(sqs, mapping["queue_url"], "x", "y")

    # When the batch is handled
    outcome = _source(local, mapping, lambda event, context: {"batchItemFailures": failures}).poll_once()

    # Then both are retried
    assert sorted(outcome.failed) == sorted(ids)
    assert outcome.handler_error is not None


def test_without_report_batch_item_failures_the_response_is_ignored(
    local: LocalAws, mapping: dict[str, Any], sqs: Any
) -> None:
    # Given a mapping without ReportBatchItemFailures and a handler reporting a failure
    (bad,) = _send(sqs, mapping["queue_url"], "bad")
    handler = Recorder(fail_bodies={"bad"})

    # When the batch is handled
    outcome = _source(local, mapping, handler, report_batch_item_failures=False).poll_once()

    # Then the message counts as done, as Lambda would count it
    assert outcome.succeeded == [bad]


def test_batch_larger_than_ten_is_received_in_several_calls(local: LocalAws, mapping: dict[str, Any], sqs: Any) -> None:
    # Given 25 messages and a batch size of 25
    sqs.send_message_batch(
        QueueUrl=mapping["queue_url"],
        Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)],
    )
    sqs.send_message_batch(
        QueueUrl=mapping["queue_url"],
        Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10, 20)],
    )
    _send(sqs, mapping["queue_url"], *[f"m{i}" for i in range(20, 25)])
    handler = Recorder()

    # When one batch is handled
    outcome = _source(local, mapping, handler, batch_size=25).poll_once()

    # Then a single invocation got all of them
    assert len(handler.events) == 1
    assert len(outcome.received) == 25


def test_handler_running_past_the_timeout_fails_the_batch(local: LocalAws, mapping: dict[str, Any], sqs: Any) -> None:
    # Given a handler slower than the function's timeout
    ids = _send(sqs, mapping["queue_url"], "slow")

    def slow(event: dict[str, Any], context: Any) -> None:
        time.sleep(0.2)

    # When the batch is handled
    outcome = _source(local, mapping, slow, function_timeout_s=0.05).poll_once()

    # Then it counts as a timed-out invocation: nothing deleted
    assert outcome.failed == ids
    assert outcome.handler_error is not None and "timed out" in outcome.handler_error


def test_drain_returns_once_the_queue_is_empty(local: LocalAws, mapping: dict[str, Any], sqs: Any) -> None:
    # Given 12 messages (more than one batch)
    _send(sqs, mapping["queue_url"], *[f"d{i}" for i in range(12)])
    handler = Recorder()

    # When the queue is drained
    outcomes = _source(local, mapping, handler).drain(timeout_s=10)

    # Then every message was handled exactly once, in batches of at most 10
    assert sorted(handler.bodies_seen()) == sorted(f"d{i}" for i in range(12))
    assert all(len(o.received) <= 10 for o in outcomes)
    assert _take_all(sqs, mapping["queue_url"]) == []


# -- the DynamoDB Streams event source (the outbox's) ---------------------------------------------


class StreamRecorder:
    """A fake stream handler: remembers the record ids of each invocation; fails the ids it is told to
    (per record, by sequence number), or raises for a batch holding a poisoned id (a function error)."""

    def __init__(self, fail: set[str] = frozenset(), poison: set[str] = frozenset()) -> None:
        self.fail, self.poison = set(fail), set(poison)
        self.batches: list[list[str]] = []
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        ids = [r["dynamodb"]["Keys"]["id"]["S"] for r in event["Records"]]
        self.batches.append(ids)
        if self.poison & set(ids):
            raise RuntimeError("boom")
        failed = [r["dynamodb"]["SequenceNumber"] for r, i in zip(event["Records"], ids, strict=True) if i in self.fail]
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}


def _stream_source(local: LocalAws, handler: Any, **overrides: Any) -> Any:
    from devstack.esm import DynamoDBStreamEventSource

    source = DynamoDBStreamEventSource(
        local.client("dynamodbstreams"),
        local.client("sqs"),
        handler,
        **{**local.stream_event_source("OutboxFunction"), **overrides},
    )
    source.skip_to_latest()  # the module's stack is shared: only this test's writes
    return source


def _put(local: LocalAws, *items: dict[str, str]) -> None:
    ddb = local.client("dynamodb")
    for item in items:
        ddb.put_item(TableName=local.outputs["TableName"], Item={k: {"S": v} for k, v in item.items()})


def test_the_stream_mapping_hands_over_only_what_the_filter_passes_in_lambdas_shape(local: LocalAws) -> None:
    # Given the outbox's mapping as the template declares it, and a handler that takes everything
    handler = StreamRecorder()
    source = _stream_source(local, handler)
    # When a claim, an outcome and a plain sent record are written
    _put(local, {"id": "s-claim", "status": "sending"}, {"id": "s-done", "status": "rejected"},
         {"id": "s-sent", "status": "sent"})  # fmt: skip
    outcomes = source.drain()
    # Then only the outcome reached the function, as one Lambda DynamoDB stream record
    assert handler.batches == [["s-done"]]
    assert sum(o.filtered_out for o in outcomes) == 2
    (record,) = handler.events[0]["Records"]
    assert (record["eventSource"], record["eventName"], record["awsRegion"]) == ("aws:dynamodb", "INSERT", local.region)
    assert record["eventSourceARN"] == local.stream_event_source("OutboxFunction")["stream_arn"]
    assert record["dynamodb"]["NewImage"] == {"id": {"S": "s-done"}, "status": {"S": "rejected"}}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)


def test_a_partial_batch_failure_retries_from_the_failed_record_on(local: LocalAws) -> None:
    # Given a handler that fails one record of three once
    handler = StreamRecorder(fail={"p-2"})
    source = _stream_source(local, handler)
    _put(local, *({"id": f"p-{i}", "status": "failed"} for i in range(1, 4)))
    # When the mapping runs: the first invocation fails p-2, then the handler is healed
    first = source.poll_once()
    handler.fail.clear()
    source.drain()
    # Then p-1 was checkpointed; p-2 and the record after it were handed over again, in order
    assert handler.batches == [["p-1", "p-2", "p-3"], ["p-2", "p-3"]]
    assert len(first.succeeded) == 1 and len(first.failed) == 2


def test_a_function_error_bisects_the_batch_and_a_record_that_never_passes_goes_to_the_on_failure_queue(
    local: LocalAws,
) -> None:
    # Given a handler that raises for any batch holding b-3
    handler = StreamRecorder(poison={"b-3"})
    mapping = local.stream_event_source("OutboxFunction")
    source = _stream_source(local, handler, maximum_retry_attempts=3)
    _put(local, *({"id": f"b-{i}", "status": "unknown"} for i in range(1, 5)))
    # When the mapping runs to the end
    outcomes = source.drain()
    # Then the batch was split until b-3 was alone, b-3 was tried 1 + 3 times, and the rest went through
    assert handler.batches[:3] == [["b-1", "b-2", "b-3", "b-4"], ["b-1", "b-2"], ["b-3", "b-4"]]
    assert sum(b == ["b-3"] for b in handler.batches) >= 1 and ["b-4"] in handler.batches
    (dead,) = [o for o in outcomes if o.dead_lettered]
    sqs = local.client("sqs")
    (message,) = sqs.receive_message(QueueUrl=mapping["on_failure_queue_url"], MaxNumberOfMessages=10)["Messages"]
    info = json.loads(message["Body"])
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["requestContext"]["approximateInvokeCount"] == 4
    assert info["DDBStreamBatchInfo"]["batchSize"] == 1
    assert info["DDBStreamBatchInfo"]["startSequenceNumber"] == dead.dead_lettered[0]
    sqs.delete_message(QueueUrl=mapping["on_failure_queue_url"], ReceiptHandle=message["ReceiptHandle"])
