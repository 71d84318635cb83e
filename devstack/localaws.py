"""template.yaml deployed into an embedded AWS (moto server), so local and cloud cannot drift.

The template is read as written, translated offline by samtranslator (the library behind the
Serverless transform) and created through moto's CloudFormation API over HTTP. What moto's
CloudFormation skips is applied afterwards with the service APIs, each with the reason.

    local = LocalAws.start(parameters={"MaxReceiveCount": "3"})
    local.apply_env()                        # unmodified boto3 / Powertools code now reaches moto
    env = local.function_env("DispatcherFunction")
    ...
    local.stop()
"""

from __future__ import annotations

import errno
import functools
import io
import json
import logging
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import yaml
from moto.server import ThreadedMotoServer
from samtranslator.metrics.metrics import Metrics
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template
from samtranslator.yaml_helper import intrinsics_multi_constructor

log = logging.getLogger(__name__)

STACK_NAME = "kr-notifier-local"
_BOOT_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# Applied to os.environ by apply_env(); anything that would send boto3 elsewhere is removed.
_ENV_KEYS_REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
_NO_VALUE = object()

# Created by LocalAws after the stack: moto's CloudFormation has no model for these types.
_APPLIED_AFTER_STACK = {
    "AWS::CloudWatch::Alarm",
    "AWS::SNS::Subscription",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::SQS::QueuePolicy",
    # Its body names the alarms (applied after the stack too).
    "AWS::CloudWatch::Dashboard",
}
# What a producer or an operator configures by name: fixed names when stable_names is asked for.
_NAME_PROPERTY = {"AWS::SQS::Queue": "QueueName", "AWS::DynamoDB::Table": "TableName"}
_NOT_GIVEN_TO_MOTO = {
    *_APPLIED_AFTER_STACK,
    # moto's SQS would invoke a mapped function itself on every SendMessage, through Docker: the
    # mapping is emulated by devstack.esm instead, from the same template properties.
    "AWS::Lambda::EventSourceMapping",
}


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that reads CloudFormation short forms (!Ref, !Sub, !GetAtt, !If ...).

    A subclass, because samtranslator's own yaml_parse registers the tags on yaml.SafeLoader
    itself, which would change yaml.safe_load for everyone in the process.
    """


_CfnLoader.add_multi_constructor("!", intrinsics_multi_constructor)


def load_template(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The SAM template as a dict, short-form tags turned into their long forms."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_CfnLoader)


def translate(
    template: dict[str, Any],
    parameters: dict[str, str],
    region: str,
    code_uri: str = "s3://local-code/code.zip",
) -> dict[str, Any]:
    """SAM -> plain CloudFormation, offline, exactly as the Serverless transform would do it.

    Local CodeUri paths become code_uri first, as `sam package` turns them into S3 URIs: the
    transform accepts nothing else.

    samtranslator.translator.transform.transform() is this, except that it takes the region from
    the process's boto3 configuration; a session with an explicit region keeps this independent of
    the caller's environment. Managed policies named without an ARN are resolved from the list moto
    ships (the real loader would call IAM ListPolicies on AWS).
    """
    template = json.loads(json.dumps(template))  # samtranslator mutates its input
    _point_local_code_at(template, code_uri)
    parameter_values: dict[str, Any] = dict(parameters)
    to_py27_compatible_template(template, parameter_values)
    metrics = Metrics()  # samtranslator's own timings, kept in memory; published to nowhere
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region), metrics=metrics)
    try:
        translated = translator.translate(
            template, parameter_values=parameter_values, get_managed_policy_map=_aws_managed_policy_map
        )
    finally:
        metrics.publish()  # else it warns about "unpublished metrics" when garbage-collected
    return undo_mark_unicode_str_in_template(translated)


def _aws_managed_policy_map() -> dict[str, str]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policies = json.loads(aws_managed_policies_data)
    return {name: f"arn:aws:iam::aws:policy{p.get('Path', '/')}{name}" for name, p in policies.items()}


def _forget_cached_clients() -> None:
    """Drop process-wide clients built from an earlier environment.

    boto3.client() with no arguments goes through boto3's default session, which keeps the first
    credentials it resolved; Powertools Parameters keeps its SSM provider (and client) too. A Lambda
    container never changes account or endpoint, but a test process runs several LocalAws in turn.
    """
    boto3.DEFAULT_SESSION = None
    try:
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()
    except ImportError:  # pragma: no cover - Powertools is a runtime dependency
        pass


_DDB_SERIALISED = ("put_item", "get_item", "query", "scan", "update_item", "delete_item", "transact_write_items")
_ddb_lock = threading.RLock()


def make_moto_dynamodb_atomic() -> None:
    """DynamoDB applies a conditional write atomically. moto checks the condition, then writes, with no
    lock, and serves requests on threads: two concurrent conditional updates of one item can both pass
    (seen: two overlapping poller ticks both settling a record). Serialising moto's DynamoDB backend
    calls restores the guarantee the product relies on; moto is bound by one GIL anyway."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_localaws_atomic", False):
        return
    for name in _DDB_SERIALISED:
        original = getattr(DynamoDBBackend, name)

        def serialised(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _ddb_lock:
                return _original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, functools.wraps(original)(serialised))
    DynamoDBBackend._localaws_atomic = True  # type: ignore[attr-defined]


def make_moto_events_fast() -> None:
    """moto's EventBridge renders every event it delivers to a rule's target through jsonpath-ng, whose
    parse() rebuilds its PLY parser tables on each call: about 0.1 s per event, so an outbox batch of
    100 outcomes took 10 s to land in a queue. The expressions are the same few paths every time;
    caching the parsed ones changes nothing but the time (a parsed path is only read by find())."""
    import jsonpath_ng.ext

    if getattr(jsonpath_ng.ext, "_localaws_cached", False):
        return
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)  # type: ignore[attr-defined]
    jsonpath_ng.ext._localaws_cached = True  # type: ignore[attr-defined]


class MotoProcess:
    """moto server in a child process, with ThreadedMotoServer's start/stop/get_host_and_port.

    The child runs in a session of its own: a Ctrl-C at the terminal reaches only the parent, which
    stops the child itself, after its last request (else moto dies mid-request and the parent prints
    a traceback for every call in flight). The child exits on its own if the parent dies first.
    """

    def __init__(self, port: int = 0) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._port = port

    def start(self) -> None:
        if not self._port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self._port = s.getsockname()[1]
        elif _in_use(self._port):
            raise PortInUse(self._port)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "devstack.motoserver", "--parent", str(os.getpid()),
             "-H", "127.0.0.1", "-p", str(self._port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self._port), timeout=0.2):
                    return
            except OSError:
                if self._proc.poll() is not None:
                    raise RuntimeError("moto server exited at start") from None
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto server did not listen within 30 s")

    def get_host_and_port(self) -> tuple[str, int]:
        return "127.0.0.1", self._port

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


class PortInUse(OSError):
    def __init__(self, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} on 127.0.0.1 is already in use")
        self.port = port


def _in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class LocalAws:
    """A moto server on loopback holding the resources that template.yaml declares."""

    def __init__(
        self, server: ThreadedMotoServer | MotoProcess, endpoint_url: str, region: str, account_id: str
    ) -> None:
        self._server = server
        self.endpoint_url = endpoint_url
        self.region = region
        self.account_id = account_id
        self.stack_name = STACK_NAME
        self.stable_names = False
        self.outputs: dict[str, str] = {}
        self.parameters: dict[str, str] = {}
        self.template: dict[str, Any] = {}  # as translated, before anything was left out for moto
        self.physical_ids: dict[str, str] = {}
        self._credentials: dict[str, str] = dict(_BOOT_CREDENTIALS)
        self._session = boto3.session.Session(region_name=region, **_BOOT_CREDENTIALS)
        self._saved_env: dict[str, str | None] | None = None
        self._session_lock = threading.Lock()

    # -- life cycle ---------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        template_path: str | os.PathLike[str] = "template.yaml",
        parameters: dict[str, str] | None = None,
        region: str = "ap-northeast-2",
        code_dir: str | os.PathLike[str] = "src",
        separate_process: bool = False,
        default_account: bool = False,
        port: int = 0,
        stable_names: bool = False,
    ) -> LocalAws:
        """Start moto server and create the template's stack in it.

        separate_process runs moto server as its own process: its request handling then no longer
        competes with the caller's threads for this interpreter's GIL, as real AWS would not. The
        benchmark needs that; tests and `make run` do not.

        code_dir (relative to the template's folder unless absolute) is packaged as the code of
        every function whose CodeUri is a local path: moto never runs it, but it wants a real
        package in S3 to create the function, and creating the function is what resolves its
        environment the way CloudFormation does.

        port: 0 for any free port (fixed ports need separate_process). stable_names names the queues
        and tables the template leaves unnamed `<stack>-<logical id>` (CloudFormation would add a
        random suffix): the queue URL a producer configured against `make serve` then survives a
        restart, and any change to the template.
        """
        template_path = Path(template_path)
        code_path = Path(code_dir)
        if not code_path.is_absolute():
            code_path = template_path.resolve().parent / code_path
        parameters = {k: str(v) for k, v in (parameters or {}).items()}

        # Werkzeug logs every request at INFO: thousands of lines in a local run, none of them useful.
        werkzeug_log = logging.getLogger("werkzeug")
        if werkzeug_log.level == logging.NOTSET:
            werkzeug_log.setLevel(logging.WARNING)
        make_moto_dynamodb_atomic()
        make_moto_events_fast()
        server: ThreadedMotoServer | MotoProcess
        if port and not separate_process:
            raise ValueError("a fixed port needs separate_process=True")
        server = (
            MotoProcess(port) if separate_process else ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        )
        server.start()
        host, port = server.get_host_and_port()
        # moto keeps its state per process, not per server: a fresh account for every LocalAws keeps
        # two of them in one process (a test module and the next one, a test and `make run`) apart.
        # default_account: moto's own account, which any credentials reach; for `make serve`, where
        # applications outside this process must find the queue with whatever keys they have.
        account_id = "123456789012" if default_account else str(random.randrange(10**11, 10**12))
        local = cls(server, f"http://{host}:{port}", region, account_id)
        local.stable_names = stable_names
        try:
            if not default_account:
                local._assume_fresh_account()
            local._create_stack(load_template(template_path), parameters, code_path)
        except BaseException:
            local.stop()
            raise
        return local

    def stop(self) -> None:
        self.restore_env()
        self._server.stop()

    def __enter__(self) -> LocalAws:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- public API ---------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        # A boto3 Session is not safe to create clients from in several threads at once.
        with self._session_lock:
            return self._session.client(service, endpoint_url=self.endpoint_url)

    def apply_env(self) -> None:
        """Point unmodified boto3 / Powertools code in this process at moto (undone by stop())."""
        values: dict[str, str | None] = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self._credentials["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": self._credentials["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": self._credentials.get("aws_session_token"),
        }
        # A per-service endpoint (AWS_ENDPOINT_URL_SQS ...) would win over AWS_ENDPOINT_URL.
        values.update({k: None for k in os.environ if k.startswith("AWS_ENDPOINT_URL_")})
        values.update({k: None for k in _ENV_KEYS_REMOVED})
        if self._saved_env is None:
            self._saved_env = {k: os.environ.get(k) for k in values}
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _forget_cached_clients()

    def restore_env(self) -> None:
        """Put back what apply_env() changed (stop() does it too)."""
        if self._saved_env is None:
            return
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = None
        _forget_cached_clients()

    def function_env(self, logical_id: str) -> dict[str, str]:
        """The function's environment as CloudFormation resolved it (TABLE_NAME -> the real table)."""
        config = self._function_configuration(logical_id)
        variables = config.get("Environment", {}).get("Variables", {})
        # Lambda's environment holds strings only; moto keeps a Number parameter's value as an int.
        return {k: str(v) for k, v in variables.items() if v is not None}

    def function_log_group(self, logical_id: str) -> str:
        config = self._function_configuration(logical_id)
        return self._log_group_name(logical_id, config["FunctionName"])

    def function_timeout(self, logical_id: str) -> int:
        return int(self._function_configuration(logical_id)["Timeout"])

    def sqs_event_source(self, logical_id: str) -> dict[str, Any]:
        """The SQS event source of a function, as SqsEventSource(**...) takes it."""
        mapping = self._event_source_mapping(logical_id)
        props = mapping["Properties"]
        queue_arn = self._resolve(props["EventSourceArn"])
        sqs = self.client("sqs")
        queue_url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes["RedrivePolicy"]) if "RedrivePolicy" in attributes else None
        dlq_url = None
        if redrive:
            dlq_name = redrive["deadLetterTargetArn"].rsplit(":", 1)[1]
            dlq_url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
        config = self._function_configuration(logical_id)
        response_types = self._resolve(props.get("FunctionResponseTypes", [])) or []
        # Lambda's defaults for an SQS source when the template leaves them out.
        batch_size = self._resolve(props.get("BatchSize", 10))
        window = self._resolve(props.get("MaximumBatchingWindowInSeconds", 0))
        scaling = self._resolve(props.get("ScalingConfig", {})) or {}
        return {
            "queue_url": queue_url,
            "queue_arn": queue_arn,
            "batch_size": int(batch_size),
            "max_batching_window_s": int(window),
            "visibility_timeout_s": int(attributes["VisibilityTimeout"]),
            "max_receive_count": int(redrive["maxReceiveCount"]) if redrive else None,
            "dlq_url": dlq_url,
            "function_timeout_s": int(config["Timeout"]),
            "report_batch_item_failures": "ReportBatchItemFailures" in response_types,
            "region": self.region,
            "function_name": config["FunctionName"],
            "memory_limit_in_mb": int(config.get("MemorySize", 128)),
            "log_group_name": self._log_group_name(logical_id, config["FunctionName"]),
            "maximum_concurrency": int(scaling["MaximumConcurrency"]) if "MaximumConcurrency" in scaling else None,
        }

    def stream_event_source(self, logical_id: str) -> dict[str, Any]:
        """The DynamoDB Streams event source of a function, as DynamoDBStreamEventSource(**...) takes it."""
        props = self._resolve(self._event_source_mapping(logical_id, "AWS::DynamoDB::Table")["Properties"])
        config = self._function_configuration(logical_id)
        on_failure = (props.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
        queue_url = None
        if on_failure:
            queue_url = self.client("sqs").get_queue_url(QueueName=on_failure.rsplit(":", 1)[1])["QueueUrl"]
        filters = (props.get("FilterCriteria") or {}).get("Filters", [])
        # Lambda's defaults for a stream source when the template leaves them out.
        return {
            "stream_arn": props["EventSourceArn"],
            "region": self.region,
            "batch_size": int(props.get("BatchSize", 100)),
            "starting_position": props["StartingPosition"],
            "filter_patterns": [f["Pattern"] for f in filters],
            "report_batch_item_failures": "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            "bisect_on_function_error": str(props.get("BisectBatchOnFunctionError", False)).lower() == "true",
            "maximum_retry_attempts": int(props.get("MaximumRetryAttempts", -1)),
            "maximum_record_age_s": int(props.get("MaximumRecordAgeInSeconds", -1)),
            "on_failure_queue_url": queue_url,
            "function_name": config["FunctionName"],
            "function_timeout_s": int(config["Timeout"]),
            "memory_limit_in_mb": int(config.get("MemorySize", 128)),
            "log_group_name": self._log_group_name(logical_id, config["FunctionName"]),
        }

    def schedules(self, logical_id: str) -> list[str]:
        """The schedule expressions of the EventBridge rules that target the function, as deployed."""
        events = self.client("events")
        expressions = []
        for rule_id, resource in self._resources_of("AWS::Events::Rule"):
            targets = resource["Properties"].get("Targets", [])
            if any(t.get("Arn") == {"Fn::GetAtt": [logical_id, "Arn"]} for t in targets):
                rule = events.describe_rule(Name=self.physical_ids[rule_id])
                if rule.get("ScheduleExpression"):
                    expressions.append(rule["ScheduleExpression"])
        return expressions

    def schedule_rule_arn(self, logical_id: str) -> str:
        """The ARN of the (first) schedule rule targeting the function: a Scheduled Event's resource."""
        events = self.client("events")
        for rule_id, resource in self._resources_of("AWS::Events::Rule"):
            targets = resource["Properties"].get("Targets", [])
            if any(t.get("Arn") == {"Fn::GetAtt": [logical_id, "Arn"]} for t in targets):
                return str(events.describe_rule(Name=self.physical_ids[rule_id])["Arn"])
        raise KeyError(f"{logical_id!r} has no schedule in the template")

    def put_secret(self, name: str, value: str, secure: bool = True) -> None:
        """An SSM parameter, as an operator would create it before deploying (never in the template)."""
        self.client("ssm").put_parameter(
            Name=name, Value=value, Type="SecureString" if secure else "String", Overwrite=True
        )

    # -- internals ----------------------------------------------------------------------------

    def _assume_fresh_account(self) -> None:
        creds = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{self.account_id}:role/localaws", RoleSessionName="localaws"
        )["Credentials"]
        self._credentials = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
        self._session = boto3.session.Session(region_name=self.region, **self._credentials)

    def _create_stack(self, sam_template: dict[str, Any], parameters: dict[str, str], code_path: Path) -> None:
        self.template = translate(sam_template, parameters, self.region, self._upload_code(code_path))

        for_moto = json.loads(json.dumps(self.template))
        resources = for_moto["Resources"]
        for logical_id, resource in list(resources.items()):
            if resource["Type"] in _NOT_GIVEN_TO_MOTO:
                del resources[logical_id]
            elif self.stable_names and resource["Type"] in _NAME_PROPERTY:
                props = resource.setdefault("Properties", {})
                suffix = ".fifo" if str(props.get("FifoQueue", "")).lower() == "true" else ""
                props.setdefault(_NAME_PROPERTY[resource["Type"]], f"{self.stack_name}-{logical_id}{suffix}")

        cfn = self.client("cloudformation")
        cfn.create_stack(
            StackName=self.stack_name,
            TemplateBody=json.dumps(for_moto),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        stack = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(f"local stack not created: {stack['StackStatus']} {stack.get('StackStatusReason')}")
        self.parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
        created: set[str] = set()
        for resource in cfn.describe_stack_resources(StackName=self.stack_name)["StackResources"]:
            # moto lists a resource it has no model for without a logical id, and some (Lambda
            # permissions) without a physical id.
            if "LogicalResourceId" in resource:
                created.add(resource["LogicalResourceId"])
                if "PhysicalResourceId" in resource:
                    self.physical_ids[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
        self.outputs = {o["OutputKey"]: self._local_url(o["OutputValue"]) for o in stack.get("Outputs", [])}

        self._apply_what_moto_skipped()
        skipped = [
            f"{lid} ({r['Type']})"
            for lid, r in resources.items()
            if lid not in created and self._condition_holds(r.get("Condition"))
        ]
        if skipped:
            warnings.warn(f"moto's CloudFormation did not create: {', '.join(skipped)}", stacklevel=3)

    def _upload_code(self, code_path: Path) -> str:
        bucket = f"localaws-code-{self.account_id}"
        s3 = self.client("s3")
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region})
        s3.put_object(Bucket=bucket, Key="code.zip", Body=_zip_dir(code_path))
        return f"s3://{bucket}/code.zip"

    def _apply_what_moto_skipped(self) -> None:
        # moto's SSM stores a parameter whatever its AllowedPattern; SSM refuses it, failing the stack.
        for logical_id, resource in self._resources_of("AWS::SSM::Parameter"):
            props = self._resolve(resource["Properties"])
            pattern, value = props.get("AllowedPattern"), str(props.get("Value"))
            if pattern and not re.search(pattern, value):
                raise RuntimeError(
                    f"local stack not created: {logical_id}: Parameter value, {value}, failed to satisfy "
                    f"constraint: Parameter value must match the pattern {pattern}"
                )

        sqs = self.client("sqs")
        for _, resource in self._resources_of("AWS::SQS::QueuePolicy"):
            props = self._resolve(resource["Properties"])
            for queue_url in props["Queues"]:
                sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})

        ddb = self.client("dynamodb")
        for logical_id, resource in self._resources_of("AWS::DynamoDB::Table"):
            props = resource["Properties"]
            table = self.physical_ids[logical_id]
            # moto's CloudFormation ignores TimeToLiveSpecification and PointInTimeRecoverySpecification.
            # (moto never expires TTL items: enabling it makes DescribeTimeToLive tell the truth.)
            ttl = self._resolve(props.get("TimeToLiveSpecification"))
            if ttl and ttl.get("Enabled"):
                ddb.update_time_to_live(
                    TableName=table,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
            pitr = self._resolve(props.get("PointInTimeRecoverySpecification"))
            if pitr and pitr.get("PointInTimeRecoveryEnabled"):
                ddb.update_continuous_backups(
                    TableName=table,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )

        cloudwatch = self.client("cloudwatch")
        for logical_id, resource in self._resources_of("AWS::CloudWatch::Alarm"):
            props = {k: v for k, v in self._resolve(resource["Properties"]).items() if v is not None}
            props.setdefault("AlarmName", f"{self.stack_name}-{logical_id}")
            cloudwatch.put_metric_alarm(**_numbers_as_numbers(props))
            self.physical_ids[logical_id] = props["AlarmName"]

        for logical_id, resource in self._resources_of("AWS::CloudWatch::Dashboard"):
            props = self._resolve(resource["Properties"])
            name = props.get("DashboardName") or f"{self.stack_name}-{logical_id}"
            try:
                json.loads(props["DashboardBody"])  # PutDashboard refuses a body that is not JSON; moto does not
            except ValueError as exc:
                raise RuntimeError(f"local stack not created: {logical_id}: DashboardBody is not JSON: {exc}") from exc
            cloudwatch.put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
            self.physical_ids[logical_id] = name

        sns = self.client("sns")
        for logical_id, resource in self._resources_of("AWS::SNS::Subscription"):
            props = self._resolve(resource["Properties"])
            arn = sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"])
            self.physical_ids[logical_id] = arn["SubscriptionArn"]

        # moto matches a schedule rule (it has no event pattern) against every PutEvents on its bus and
        # then fails on its Lambda target (NotImplementedError), which breaks every publish to the bus.
        # moto never runs schedules anyway (LocalStack.poll() plays the schedule), so the rule stays,
        # for its ScheduleExpression, without targets.
        events = self.client("events")
        for logical_id, resource in self._resources_of("AWS::Events::Rule"):
            if "ScheduleExpression" in resource["Properties"] and logical_id in self.physical_ids:
                name = self.physical_ids[logical_id]
                targets = events.list_targets_by_rule(Rule=name).get("Targets", [])
                if targets:
                    events.remove_targets(Rule=name, Ids=[t["Id"] for t in targets])

        lambda_ = self.client("lambda")
        for logical_id, resource in self._resources_of("AWS::Lambda::EventInvokeConfig"):
            props = self._resolve(resource["Properties"])
            config = {k: int(props[k]) for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds") if k in props}
            if props.get("DestinationConfig"):
                config["DestinationConfig"] = props["DestinationConfig"]
            lambda_.put_function_event_invoke_config(
                FunctionName=props["FunctionName"], Qualifier=props.get("Qualifier", "$LATEST"), **config
            )
            self.physical_ids[logical_id] = props["FunctionName"]

    def _resources_of(self, resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.template["Resources"].items():
            if resource["Type"] == resource_type and self._condition_holds(resource.get("Condition")):
                yield logical_id, resource

    def _function_configuration(self, logical_id: str) -> dict[str, Any]:
        if logical_id not in self.physical_ids:
            raise KeyError(f"no function {logical_id!r} in the local stack")
        return self.client("lambda").get_function_configuration(FunctionName=self.physical_ids[logical_id])

    def _event_source_mapping(self, logical_id: str, source_type: str = "AWS::SQS::Queue") -> dict[str, Any]:
        """The function's event source mapping whose source is a resource of source_type (a queue, or a
        table's stream)."""
        prefix = {"AWS::SQS::Queue": "arn:aws:sqs:", "AWS::DynamoDB::Table": "arn:aws:dynamodb:"}[source_type]
        for resource in self.template["Resources"].values():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Lambda::EventSourceMapping" and props.get("FunctionName") == {
                "Ref": logical_id
            }:
                source = props.get("EventSourceArn")
                if isinstance(source, dict) and "Fn::GetAtt" in source:
                    if self.template["Resources"][source["Fn::GetAtt"][0]]["Type"] == source_type:
                        return resource
                elif str(self._resolve(source)).startswith(prefix):
                    return resource
        raise KeyError(f"{logical_id!r} has no {source_type} event source in the template")

    def _log_group_name(self, logical_id: str, function_name: str) -> str:
        sam_props = self.template["Resources"][logical_id].get("Properties", {})
        group = self._resolve(sam_props.get("LoggingConfig", {}).get("LogGroup"))
        return group or f"/aws/lambda/{function_name}"

    def _local_url(self, value: str) -> str:
        """A queue URL as the local endpoint serves it (moto's CloudFormation writes AWS's host)."""
        match = re.fullmatch(r"https://sqs\.[a-z0-9-]+\.amazonaws\.com/(\d{12})/(.+)", value)
        if not match:
            return value
        return f"{self.endpoint_url}/{match.group(1)}/{match.group(2)}"

    # -- intrinsic functions, for what is applied after the stack ------------------------------

    def _condition_holds(self, name: str | None) -> bool:
        if name is None:
            return True
        return bool(self._resolve(self.template.get("Conditions", {})[name]))

    def _resolve(self, value: Any) -> Any:
        resolved = self._resolve_any(value)
        return None if resolved is _NO_VALUE else resolved

    def _resolve_any(self, value: Any) -> Any:
        if isinstance(value, list):
            resolved = [self._resolve_any(v) for v in value]
            return [v for v in resolved if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Condition":
                return self._condition_holds(arg)
            if key.startswith("Fn::"):
                return self._fn(key, arg)
        items = {k: self._resolve_any(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not _NO_VALUE}

    def _fn(self, key: str, arg: Any) -> Any:
        if key == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self._get_att(logical_id, attribute)
        if key == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self._resolve_any(arg[1]))
            text = re.sub(r"\$\{([^!}][^}]*)\}", lambda m: str(self._sub_var(m.group(1), extra)), text)
            return text.replace("${!", "${")
        if key == "Fn::Join":
            return arg[0].join(str(v) for v in self._resolve_any(arg[1]))
        if key == "Fn::Select":
            return self._resolve_any(arg[1])[int(self._resolve_any(arg[0]))]
        if key == "Fn::If":
            condition, if_true, if_false = arg
            return self._resolve_any(if_true if self._condition_holds(condition) else if_false)
        if key == "Fn::FindInMap":
            name, top, second = (self._resolve_any(v) for v in arg)
            return self.template["Mappings"][name][top][second]
        if key == "Fn::Equals":
            left, right = (self._resolve_any(v) for v in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._resolve_any(arg[0])
        if key == "Fn::And":
            return all(self._resolve_any(v) for v in arg)
        if key == "Fn::Or":
            return any(self._resolve_any(v) for v in arg)
        raise NotImplementedError(f"LocalAws cannot resolve {key} (add it to LocalAws._fn)")

    def _sub_var(self, name: str, extra: dict[str, Any]) -> Any:
        if name in extra:
            return extra[name]
        if "." in name and not name.startswith("AWS::"):
            return self._get_att(*name.split(".", 1))
        return self._ref(name)

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::NoValue": _NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical_ids:
            return self._local_url(self.physical_ids[name])
        raise KeyError(f"cannot resolve Ref {name!r}")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        resource_type = self.template["Resources"][logical_id]["Type"]
        physical = self.physical_ids[logical_id]
        if resource_type == "AWS::SQS::Queue":
            name = physical.rsplit("/", 1)[1]
            if attribute == "QueueName":
                return name
            if attribute == "QueueUrl":
                return self._local_url(physical)
            if attribute == "Arn":
                return f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"
        if resource_type == "AWS::CloudWatch::Alarm" and attribute == "Arn":
            return f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{physical}"
        if resource_type == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{physical}"
        if resource_type == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            return str(self.client("dynamodb").describe_table(TableName=physical)["Table"]["LatestStreamArn"])
        if resource_type == "AWS::SNS::Topic" and attribute == "TopicArn":
            return physical
        if resource_type == "AWS::Lambda::Function" and attribute == "Arn":
            return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{physical}"
        raise NotImplementedError(f"LocalAws cannot resolve GetAtt {logical_id}.{attribute} ({resource_type})")


def _point_local_code_at(sam_template: dict[str, Any], code_uri: str) -> None:
    """Every CodeUri that is a local path (what `sam build` would package) -> the package in moto S3."""
    globals_fn = sam_template.get("Globals", {}).get("Function", {})
    if _is_local_path(globals_fn.get("CodeUri")):
        globals_fn["CodeUri"] = code_uri
    for resource in sam_template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and _is_local_path(props.get("CodeUri")):
            props["CodeUri"] = code_uri


def _is_local_path(value: Any) -> bool:
    return isinstance(value, str) and not value.startswith("s3://")


def _zip_dir(path: Path) -> bytes:
    if not path.is_dir():
        raise FileNotFoundError(f"code directory {path} does not exist")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(path.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc":
                archive.write(file, file.relative_to(path).as_posix())
    return buffer.getvalue()


def _numbers_as_numbers(alarm: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation accepts "60" for a number; the PutMetricAlarm API does not."""
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in alarm:
            alarm[key] = int(alarm[key])
    if "Threshold" in alarm:
        alarm["Threshold"] = float(alarm["Threshold"])
    return alarm
