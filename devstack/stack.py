"""The whole product on one machine: moto server with template.yaml's resources, the provider
sandbox, secrets in SSM, and the real handlers wired to them. Used by `make run`, `make serve`,
the end-to-end tests and the benchmark.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .esm import BatchOutcome, DynamoDBStreamEventSource, LambdaContext, SqsEventSource, StreamOutcome
from .localaws import LocalAws, load_template
from .sandbox import Sandbox, SandboxConfig

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
ATTACHMENT_BUCKET = "kr-notifier-dev-attachments"
KEY_PARAM = "/notifier/dev/provider/api-key"
CLIENT_ID_PARAM = "/notifier/dev/provider/client-id"
CLIENT_ID = "notifier-dev"
SECRET_PARAM = "/notifier/dev/provider/api-secret"
# SOLAPI's sandbox channel (pfId) for a stack started with Provider=solapi.
SOLAPI_PF_ID = "KA01PF261201000000000LOCALSTACK"
DISPATCHER = "DispatcherFunction"
POLLER = "PollerFunction"
OUTBOX = "OutboxFunction"
# Outcomes reach an application through an EventBridge rule; locally the rule targets this queue, so
# what the outbox function published from the table's stream can be read back.
EVENT_SOURCE = "kr-notifier"
# Every key handed to a local stack, so the test suite can prove none of them is ever logged.
ISSUED_KEYS: set[str] = set()


def provider_from_env(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The template parameter that chooses the provider, from $PROVIDER (`PROVIDER=solapi make run`);
    unset, the template's own default: `make run` and `make serve` deploy what `sam deploy` would."""
    spec = _provider_parameter()
    name = env.get("PROVIDER", "").strip() or str(spec["Default"])
    allowed = spec["AllowedValues"]
    if name not in allowed:
        raise SystemExit(f"PROVIDER: must be one of {', '.join(allowed)}, not {name!r}")
    return {"Provider": name}


def _provider_parameter() -> dict[str, Any]:
    return dict(load_template(ROOT / "template.yaml")["Parameters"]["Provider"])


@dataclass
class LocalStack:
    aws: LocalAws
    sandbox: Sandbox
    env: dict[str, str]
    handler: Callable[[dict[str, Any], Any], Any]
    source: dict[str, Any]
    log_stream: io.TextIOBase | None = None
    _sqs: Any = field(default=None, repr=False)
    poller_env: dict[str, str] = field(default_factory=dict)
    poller: Callable[[dict[str, Any], Any], Any] | None = None
    tap_url: str = ""
    _tapped: list[dict[str, Any]] = field(default_factory=list, repr=False)
    provider: str = "apistore"  # the deployment's Provider parameter
    outbox_env: dict[str, str] = field(default_factory=dict)
    # The outbox function behind the table's stream, as Lambda's stream event source would run it.
    outbox: DynamoDBStreamEventSource | None = None

    # ---------------------------------------------------------------- life cycle
    @classmethod
    def start(
        cls,
        *,
        parameters: dict[str, str] | None = None,
        sandbox_config: dict[str, Any] | None = None,
        log_stream: io.TextIOBase | None = None,
        moto_process: bool = False,
        default_account: bool = False,
        aws_port: int = 0,
        stable_names: bool = False,
    ) -> LocalStack:
        # A fresh random key per stack: tests prove it never appears in any log, so it must be unguessable.
        api_key = "sbx-" + secrets.token_urlsafe(24)
        # SOLAPI's key and secret on the same sandbox: the deployment's Provider picks which pair SSM holds.
        solapi_key, solapi_secret = "NCS" + secrets.token_hex(8).upper(), secrets.token_hex(16)
        ISSUED_KEYS.update({api_key, solapi_key, solapi_secret})
        # A stack that names no provider is API Store's, whatever the template's default: the tests
        # that name none were written against it. make run and make serve name one (provider_from_env).
        provider = (parameters or {}).get("Provider") or "apistore"
        solapi = provider == "solapi"
        sandbox = Sandbox(
            SandboxConfig(
                api_key=api_key,
                client_id=CLIENT_ID,
                solapi_api_key=solapi_key,
                solapi_api_secret=solapi_secret,
                solapi_pf_id=SOLAPI_PF_ID,
                **(sandbox_config or {}),
            )
        ).start()
        try:
            params = {
                "ProviderBaseUrl": sandbox.url,
                # The sandbox speaks plain http on loopback; the template refuses that unless told.
                "AllowInsecureProviderUrl": "true",
                "AttachmentBucketName": ATTACHMENT_BUCKET,
                "ProviderKeyParameterName": KEY_PARAM,
                "ProviderClientIdParameterName": CLIENT_ID_PARAM,
                "ProviderSecretParameterName": SECRET_PARAM,
                **({"SolapiPfId": SOLAPI_PF_ID} if solapi else {}),
                **(parameters or {}),
                "Provider": provider,
            }
            aws = LocalAws.start(
                ROOT / "template.yaml",
                parameters=params,
                separate_process=moto_process,
                default_account=default_account,
                port=aws_port,
                stable_names=stable_names,
            )
        except BaseException:
            sandbox.stop()
            raise
        try:
            aws.put_secret(params["ProviderKeyParameterName"], solapi_key if solapi else api_key)
            aws.put_secret(params["ProviderClientIdParameterName"], CLIENT_ID)
            aws.put_secret(params["ProviderSecretParameterName"], solapi_secret)
            s3 = aws.client("s3")
            # moto's bucket names are global across its accounts, like S3's: an earlier stack may have made it.
            with contextlib.suppress(s3.exceptions.BucketAlreadyExists):
                s3.create_bucket(Bucket=ATTACHMENT_BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.region})
            s3.upload_file(str(EVENTS / "assets" / "coupon.jpg"), ATTACHMENT_BUCKET, "samples/coupon.jpg")
            aws.apply_env()
            env = aws.function_env(DISPATCHER)
            os.environ.update(env)
            from notifier.handlers import dispatcher as dispatcher_module

            handler = _fresh(dispatcher_module, log_stream)
            source = aws.sqs_event_source(DISPATCHER)
            # Both functions share the Globals; the poller adds its own variables on top.
            poller_env = aws.function_env(POLLER)
            os.environ.update(poller_env)
            from notifier.handlers import poller as poller_module

            poller = _fresh(poller_module, log_stream)
            outbox_env = aws.function_env(OUTBOX)
            os.environ.update(outbox_env)
            from notifier.handlers import outbox as outbox_module

            # From TRIM_HORIZON, as the template says: every write from the first one on.
            outbox = DynamoDBStreamEventSource(
                aws.client("dynamodbstreams"),
                aws.client("sqs"),
                _fresh(outbox_module, log_stream),
                **aws.stream_event_source(OUTBOX),
            )
            tap_url = _event_tap(aws, outbox_env.get("EVENT_BUS_NAME") or "default")
        except BaseException:
            aws.stop()
            sandbox.stop()
            raise
        stack = cls(aws, sandbox, env, handler, source, log_stream, aws.client("sqs"))
        # Not a dataclass field: a failing test's report prints its fixtures field by field (hypothesis
        # ignores repr=False), and the key must never be printed.
        stack.api_key = api_key  # type: ignore[attr-defined]
        stack.provider = provider
        stack.poller_env, stack.poller, stack.tap_url = poller_env, poller, tap_url
        stack.outbox_env, stack.outbox = outbox_env, outbox
        return stack

    def stop(self) -> None:
        for key in {*self.env, *self.poller_env, *self.outbox_env}:
            os.environ.pop(key, None)
        self.aws.stop()
        self.sandbox.stop()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reconfigure(self, **env: str) -> None:
        """A new "container" with changed environment variables (as a Lambda configuration update)."""
        self.env.update(env)
        os.environ.update(env)
        from notifier.handlers import dispatcher, outbox, poller

        dispatcher.app.cache_clear()
        poller.app.cache_clear()
        outbox.app.cache_clear()

    def context(self) -> LambdaContext:
        """A Lambda context for invoking the handler directly, with the function's real timeout."""
        return LambdaContext(
            function_name=self.source["function_name"],
            region=self.aws.region,
            account_id=self.aws.account_id,
            memory_limit_in_mb=self.source["memory_limit_in_mb"],
            timeout_s=self.source["function_timeout_s"],
            log_group_name=self.source["log_group_name"],
        )

    # ---------------------------------------------------------------- the queue
    @property
    def queue_url(self) -> str:
        return str(self.source["queue_url"])

    @property
    def dlq_url(self) -> str:
        return str(self.source["dlq_url"])

    def publish(self, bodies: Iterable[str]) -> int:
        """Send raw bodies to the queue, ten to a call, as a producer would."""
        batch: list[dict[str, str]] = []
        n = 0
        for body in bodies:
            batch.append({"Id": str(len(batch)), "MessageBody": body})
            if len(batch) == 10:
                n += self._send(batch)
                batch = []
        if batch:
            n += self._send(batch)
        return n

    def _send(self, batch: list[dict[str, str]]) -> int:
        resp = self._sqs.send_message_batch(QueueUrl=self.queue_url, Entries=batch)
        if resp.get("Failed"):
            raise RuntimeError(f"SQS refused {len(resp['Failed'])} messages: {resp['Failed'][0]}")
        return len(resp.get("Successful", []))

    def event_source(
        self, handler: Callable[[dict[str, Any], Any], Any] | None = None, **overrides: Any
    ) -> SqsEventSource:
        """The dispatcher's SQS mapping; `handler` stands in for the function (e.g. one in another process)."""
        return SqsEventSource(self._sqs, handler or self.handler, **{**self.source, "fast_forward": True, **overrides})

    def drain(self, timeout_s: float = 120.0) -> list[BatchOutcome]:
        return self.event_source().drain(timeout_s=timeout_s)

    def dlq_bodies(self) -> list[str]:
        bodies: list[str] = []
        while True:
            resp = self._sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=60)
            msgs = resp.get("Messages", [])
            if not msgs:
                return bodies
            bodies += [m["Body"] for m in msgs]

    # ---------------------------------------------------------------- the report poller
    def poll(
        self,
        clock: Callable[[], float] | None = None,
        timeout_s: float | None = None,
        handler: Callable[[dict[str, Any], Any], Any] | None = None,
    ) -> dict[str, Any]:
        """One scheduled tick of the real poller handler: the Scheduled Event EventBridge sends for the
        template's rule and a Lambda context with the function's timeout. `clock` (epoch seconds)
        stands for the poller's notion of now, to fast-forward through back-offs and send times."""
        from notifier.handlers import poller as poller_module

        assert self.poller is not None
        poller_module.app().poller.clock = clock or time.time
        now = (clock or time.time)()
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.aws.account_id,
            "time": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.aws.region,
            "resources": [self.aws.schedule_rule_arn(POLLER)],
            "detail": {},
        }
        function_name = self.aws.physical_ids[POLLER]
        context = LambdaContext(
            function_name=function_name,
            region=self.aws.region,
            account_id=self.aws.account_id,
            memory_limit_in_mb=self.source["memory_limit_in_mb"],
            timeout_s=timeout_s if timeout_s is not None else self.aws.function_timeout(POLLER),
            log_group_name=self.aws.function_log_group(POLLER),
        )
        return dict((handler or self.poller)(event, context))

    def poll_interval_s(self) -> int:
        """The poller's schedule as deployed (rate(...) only), in seconds."""
        (expression,) = self.aws.schedules(POLLER)
        match = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression)
        if not match:
            raise ValueError(f"not a rate expression: {expression}")
        return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[match.group(2)]

    # ---------------------------------------------------------------- the outbox
    def run_outbox(self, timeout_s: float = 60.0) -> list[StreamOutcome]:
        """The outbox function's stream mapping, run until it has taken every write so far: what
        Lambda does within about a second of each write on AWS."""
        assert self.outbox is not None
        return self.outbox.drain(timeout_s=timeout_s)

    @property
    def outbox_dlq_url(self) -> str:
        assert self.outbox is not None and self.outbox.on_failure_queue_url is not None
        return self.outbox.on_failure_queue_url

    def events_published(self) -> list[dict[str, Any]]:
        """Every EventBridge event from kr-notifier so far (the envelope: detail-type, detail ...), in
        the order the tap queue gave them, once the outbox has taken every write so far."""
        self.new_events()
        return list(self._tapped)

    def new_events(self) -> list[dict[str, Any]]:
        """The EventBridge events that reached the tap since the last call: the outbox is run over every
        write so far, and the tap read after each of its invocations (moto's SQS costs grow with a
        queue's depth, so a deep tap would make each delivery slower)."""
        assert self.outbox is not None
        new = self._read_tap()
        while True:
            outcome = self.outbox.poll_once()
            new += self._read_tap()
            if not outcome.read and not outcome.invoked and not outcome.dead_lettered:
                self._tapped += new
                return new

    def _read_tap(self) -> list[dict[str, Any]]:
        new: list[dict[str, Any]] = []
        while True:
            resp = self._sqs.receive_message(QueueUrl=self.tap_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            msgs = resp.get("Messages", [])
            if not msgs:
                return new
            new += [json.loads(m["Body"]) for m in msgs]
            self._sqs.delete_message_batch(
                QueueUrl=self.tap_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
            )

    # ---------------------------------------------------------------- records
    def records(self) -> list[dict[str, Any]]:
        from notifier.aws.dynamo import deserialize

        ddb = self.aws.client("dynamodb")
        items: list[dict[str, Any]] = []
        for page in ddb.get_paginator("scan").paginate(TableName=self.env["TABLE_NAME"]):
            items += [deserialize(i) for i in page["Items"]]
        return items

    def record_changes(self) -> RecordChanges:
        """Every record write from now on, read from the table's DynamoDB stream (no table scans)."""
        return RecordChanges(self.aws.client("dynamodbstreams"), self.aws.client("dynamodb"), self.env["TABLE_NAME"])

    def record(self, record_id: str) -> dict[str, Any] | None:
        from notifier.aws.dynamo import deserialize

        item = self.aws.client("dynamodb").get_item(
            TableName=self.env["TABLE_NAME"], Key={"id": {"S": record_id}}, ConsistentRead=True
        )
        return deserialize(item["Item"]) if "Item" in item else None


class RecordChanges:
    """The records table's stream (StreamSpecification NEW_AND_OLD_IMAGES in template.yaml), read from
    where it stood when this was made. moto keeps one shard per stream and never splits it."""

    def __init__(self, streams: Any, dynamodb: Any, table: str) -> None:
        self._streams = streams
        arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self._iterators = [
            streams.get_shard_iterator(StreamArn=arn, ShardId=s["ShardId"], ShardIteratorType="LATEST")["ShardIterator"]
            for s in shards
        ]

    def read(self) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
        """(old, new) images of each write since the last read, in order; None where there is none."""
        from notifier.aws.dynamo import deserialize

        changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
        for i, iterator in enumerate(self._iterators):
            while True:
                resp = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                iterator = resp["NextShardIterator"]
                for r in resp["Records"]:
                    images = r["dynamodb"]
                    old, new = images.get("OldImage"), images.get("NewImage")
                    changes.append((deserialize(old) if old else None, deserialize(new) if new else None))
                if not resp["Records"]:
                    break
            self._iterators[i] = iterator
        return changes


def sample_bodies(names: Iterable[str] | None = None) -> Iterator[str]:
    """The bodies of events/sqs-*.json, in file order (the duplicate pair stays together)."""
    files = sorted(EVENTS.glob("sqs-*.json")) if names is None else [EVENTS / n for n in names]
    for path in files:
        for rec in json.loads(path.read_text())["Records"]:
            yield rec["body"]


def _event_tap(aws: LocalAws, bus: str) -> str:
    """A rule on the bus, as an application would subscribe, delivering to an SQS queue of ours."""
    sqs, events = aws.client("sqs"), aws.client("events")
    name = f"{aws.stack_name}-event-tap-{uuid.uuid4().hex[:8]}"  # several stacks may share an account
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    return str(url)


def _fresh(module: Any, log_stream: io.TextIOBase | None) -> Callable[[dict[str, Any], Any], Any]:
    """A real handler module (notifier.handlers.dispatcher or .poller), rebuilt against the current
    environment: one new "container"."""
    module.app.cache_clear()
    if log_stream is not None:
        for h in logging.getLogger(module.logger.name).handlers:
            if isinstance(h, logging.StreamHandler):
                h.setStream(log_stream)
    handler = module.handler
    if log_stream is None:
        return handler

    def quiet(event: dict[str, Any], context: Any) -> Any:
        # Metrics print their EMF blob to stdout; in a local run it belongs with the logs.
        with contextlib.redirect_stdout(log_stream):
            return handler(event, context)

    return quiet
