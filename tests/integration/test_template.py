"""Facts about template.yaml that `sam validate --lint` does not check (it accepts a misspelled
FunctionResponseTypes value or a malformed rate()), read from the template and from its offline
translation to CloudFormation."""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from devstack.localaws import load_template, translate

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-northeast-2"


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return translate(load_template(ROOT / "template.yaml"), {}, REGION)


def _functions(sam: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every SAM function's properties, with the Globals merged in underneath."""
    globals_fn = sam.get("Globals", {}).get("Function", {})
    merged = {}
    for name, r in sam["Resources"].items():
        if r["Type"] != "AWS::Serverless::Function":
            continue
        props = {**globals_fn, **r.get("Properties", {})}
        # SAM merges maps such as the environment variables (the function's win), not replaces them.
        variables = {
            **globals_fn.get("Environment", {}).get("Variables", {}),
            **r.get("Properties", {}).get("Environment", {}).get("Variables", {}),
        }
        if variables:
            props["Environment"] = {"Variables": variables}
        merged[name] = props
    return merged


def _events(sam: dict[str, Any], event_types: set[str]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (fn, name, event.get("Properties", {}))
        for fn, props in _functions(sam).items()
        for name, event in props.get("Events", {}).items()
        if event["Type"] in event_types
    ]


def _statements(cfn: dict[str, Any]) -> list[dict[str, Any]]:
    """Every IAM statement the stack grants (inline role policies and AWS::IAM::Policy), any branch of an If."""
    documents = []
    for resource in cfn["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents.append(props["PolicyDocument"])
    found = []
    for document in documents:
        for statement in document["Statement"]:
            if "Fn::If" in statement:
                found += [s for s in statement["Fn::If"][1:] if "Effect" in s]
            else:
                found.append(statement)
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- the SQS source -----------------------------------------------------------------------------


def test_every_sqs_event_reports_batch_item_failures_exactly(sam: dict[str, Any]) -> None:
    # Given the SQS events of every function
    events = _events(sam, {"SQS"})

    # Then each asks for partial batch responses with the exact enum value
    assert events, "the dispatcher's SQS event is missing"
    for fn, name, props in events:
        assert props.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], f"{fn}.{name}"


def test_queue_visibility_timeout_is_at_least_six_function_timeouts(sam: dict[str, Any]) -> None:
    # Given each SQS event and the queue it reads
    for fn, name, props in _events(sam, {"SQS"}):
        queue_id = props["Queue"]["Fn::GetAtt"][0]
        visibility = int(sam["Resources"][queue_id]["Properties"]["VisibilityTimeout"])
        timeout = int(_functions(sam)[fn]["Timeout"])

        # Then AWS's rule for Lambda sources holds
        assert visibility >= 6 * timeout, f"{fn}.{name}: {visibility} < 6 x {timeout}"


def test_queue_redrives_to_the_dlq_after_max_receive_count(sam: dict[str, Any]) -> None:
    # Given the queue's redrive policy
    redrive = sam["Resources"]["NotificationQueue"]["Properties"]["RedrivePolicy"]

    # Then it points at the DLQ, with the count from the parameter the dispatcher also gets
    assert redrive == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["NotificationDLQ", "Arn"]},
        "maxReceiveCount": {"Ref": "MaxReceiveCount"},
    }
    env = sam["Globals"]["Function"]["Environment"]["Variables"]
    assert env["MAX_RECEIVE_COUNT"] == {"Ref": "MaxReceiveCount"}
    assert sam["Resources"]["NotificationDLQ"]["Properties"]["MessageRetentionPeriod"] == 1209600


# -- schedules ------------------------------------------------------------------------------------

_RATE = re.compile(r"rate\((?:1 (?:minute|hour|day)|(?:[2-9]|[1-9]\d+) (?:minutes|hours|days))\)")
_CRON_FIELDS = [  # EventBridge: minutes hours day-of-month month day-of-week year
    (r"[0-5]?\d", None),
    (r"[01]?\d|2[0-3]", None),
    (r"[1-9]|[12]\d|3[01]", r"\?|L|LW|([1-9]|[12]\d|3[01])W"),
    (r"[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC", None),
    (r"[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT", r"\?|L|[1-7]L|[1-7]#[1-5]"),
    (r"19[7-9]\d|2[01]\d\d", None),
]


def _valid_cron_field(field: str, value: str, special: str | None) -> bool:
    if special and re.fullmatch(special, field):
        return True
    item = rf"(?:\*|(?:{value})(?:-(?:{value}))?)(?:/\d+)?"
    return re.fullmatch(rf"{item}(?:,{item})*", field) is not None


def is_valid_schedule(expression: str) -> bool:
    if _RATE.fullmatch(expression):
        return True
    match = re.fullmatch(r"cron\(([^)]*)\)", expression)
    if not match:
        return False
    fields = match.group(1).split(" ")
    if len(fields) != 6:
        return False
    if not all(_valid_cron_field(f, v, s) for f, (v, s) in zip(fields, _CRON_FIELDS, strict=True)):
        return False
    # EventBridge needs "?" in exactly one of day-of-month and day-of-week.
    return (fields[2] == "?") != (fields[4] == "?")


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "cron(0/5 * * * ? *)",
     "cron(15 10 ? * MON-FRI *)", "cron(0 18 L * ? *)", "cron(0 9 ? * 6#3 2027)"],
)  # fmt: skip
def test_schedule_syntax_accepts_what_eventbridge_accepts(expression: str) -> None:
    assert is_valid_schedule(expression)


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(-1 minutes)", "rate(5 mins)", "rate(5minutes)",
     "rate( 5 minutes)", "cron(0 12 * * * *)", "cron(0 12 ? * ? *)", "cron(* * * * *)", "cron(60 * * * ? *)",
     "cron(0 24 * * ? *)", "rate(${Minutes} minutes)", "every 5 minutes"],
)  # fmt: skip
def test_schedule_syntax_rejects_what_eventbridge_rejects(expression: str) -> None:
    assert not is_valid_schedule(expression)


def _parameter_candidates(sam: dict[str, Any], name: str) -> list[str]:
    """The values a parameter can take that are worth checking: default, allowed values, bounds."""
    spec = sam.get("Parameters", {})[name]
    values = [spec.get("Default"), *spec.get("AllowedValues", []), spec.get("MinValue"), spec.get("MaxValue")]
    return sorted({str(v) for v in values if v is not None})


def _expressions(sam: dict[str, Any], value: Any) -> list[str]:
    """Every string a schedule value (literal, Ref or Sub of parameters) can become."""
    if isinstance(value, str):
        return [value]
    if "Ref" in value:
        return _parameter_candidates(sam, value["Ref"])
    text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
    names = sorted(set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text)))
    results = []
    for combo in itertools.product(*(_parameter_candidates(sam, n) for n in names)):
        expanded = text
        for name, candidate in zip(names, combo, strict=True):
            expanded = expanded.replace("${" + name + "}", candidate)
        results.append(expanded)
    return results


def test_every_schedule_expression_is_valid_for_every_parameter_value(sam: dict[str, Any], cfn: dict[str, Any]) -> None:
    # Given every schedule: SAM Schedule/ScheduleV2 events and the rules they translate to
    values = [p.get("Schedule", p.get("ScheduleExpression")) for _, _, p in _events(sam, {"Schedule", "ScheduleV2"})]
    for resource in cfn["Resources"].values():
        if resource["Type"] in {"AWS::Events::Rule", "AWS::Scheduler::Schedule"}:
            values.append(resource["Properties"].get("ScheduleExpression"))

    # Then each one, with any parameter at its default, allowed values or bounds, is valid
    for value in filter(None, values):
        for expression in _expressions(sam, value):
            assert is_valid_schedule(expression), expression


# -- the table -----------------------------------------------------------------------------------


def test_records_table_has_the_sparse_pending_index(sam: dict[str, Any]) -> None:
    # Given the records table
    props = sam["Resources"]["RecordsTable"]["Properties"]

    # Then the key is id, and the pending index is keyed by poll_shard / next_poll_at
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert types == {"id": "S", "poll_shard": "S", "next_poll_at": "N"}
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "pending"
    assert index["KeySchema"] == [
        {"AttributeName": "poll_shard", "KeyType": "HASH"},
        {"AttributeName": "next_poll_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_records_expire_through_ttl_on_expires_at(sam: dict[str, Any]) -> None:
    props = sam["Resources"]["RecordsTable"]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_records_table_is_encrypted_recoverable_and_retained(sam: dict[str, Any]) -> None:
    table = sam["Resources"]["RecordsTable"]
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")


# -- permissions ---------------------------------------------------------------------------------


def test_secrets_are_readable_only_by_the_chosen_providers_parameter_arns(cfn: dict[str, Any]) -> None:
    # Given the SSM and KMS statements
    ssm = [s for s in _statements(cfn) if any(a.startswith("ssm:") for a in _as_list(s["Action"]))]
    kms = [s for s in _statements(cfn) if any(a.startswith("kms:") for a in _as_list(s["Action"]))]
    arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${%s}"
    # the API key, then the provider's second parameter: SOLAPI's API secret, else API Store's client id
    expected = [
        {"Fn::Sub": arn % "ProviderKeyParameterName"},
        {"Fn::If": ["ProviderIsSolapi", {"Fn::Sub": arn % "ProviderSecretParameterName"},
                    {"Fn::Sub": arn % "ProviderClientIdParameterName"}]},
    ]  # fmt: skip

    # Then each function that reads them (dispatcher, poller) has one statement of each
    assert len(ssm) == len(kms) == 2
    for read in ssm:
        # limited to the provider's parameters (names start with "/", so no "parameter/${...}")
        assert sorted(_as_list(read["Action"])) == ["ssm:GetParameter", "ssm:GetParameters"]
        assert read["Resource"] == expected
    for decrypt in kms:
        # And decrypting is only through SSM, for those parameters
        assert _as_list(decrypt["Action"]) == ["kms:Decrypt"]
        condition = decrypt["Condition"]["StringEquals"]
        assert condition["kms:ViaService"] == {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}
        assert condition["kms:EncryptionContext:PARAMETER_ARN"] == expected
    # And the switch is the Provider parameter
    assert cfn["Conditions"]["ProviderIsSolapi"] == {"Fn::Equals": [{"Ref": "Provider"}, "solapi"]}


@pytest.mark.parametrize(
    ("provider", "granted", "not_granted"),
    [
        ("apistore", "/notifier/dev/provider/client-id", "/notifier/dev/provider/api-secret"),
        ("solapi", "/notifier/dev/provider/api-secret", "/notifier/dev/provider/client-id"),
    ],
)
def test_a_deployed_stack_may_read_its_own_providers_secrets_and_not_the_others(
    provider: str, granted: str, not_granted: str
) -> None:
    from devstack.localaws import LocalAws

    # Given the stack deployed with a Provider
    with LocalAws.start(ROOT / "template.yaml", parameters={"Provider": provider}) as local:
        iam = local.client("iam")
        for role in ("DispatcherFunctionRole", "PollerFunctionRole"):
            name = local.physical_ids[role]
            (policy,) = iam.list_role_policies(RoleName=name)["PolicyNames"]
            document = json.dumps(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])
            # Then its roles name the API key and that provider's second parameter, not the other provider's
            assert "parameter/notifier/dev/provider/api-key" in document, role
            assert f"parameter{granted}" in document, role
            assert f"parameter{not_granted}" not in document, role
        # And the functions are told which provider, and its own https URL when ProviderBaseUrl is empty
        env = local.function_env("DispatcherFunction")
        assert env["PROVIDER"] == provider
        assert (
            env["PROVIDER_BASE_URL"]
            == {"apistore": "https://api.apistore.co.kr", "solapi": "https://api.solapi.com"}[provider]
        )


def test_the_provider_parameter_offers_both_providers_and_each_has_its_own_url(sam: dict[str, Any]) -> None:
    # Given the Provider parameter and the providers' own URLs
    spec = sam["Parameters"]["Provider"]
    urls = sam["Mappings"]["ProviderUrls"]

    # Then both providers can be chosen, the default is one of them, and each has an https URL
    assert spec["AllowedValues"] == ["apistore", "solapi"]
    assert spec["Default"] in spec["AllowedValues"]
    assert {name: u["BaseUrl"] for name, u in urls.items()} == {
        "apistore": "https://api.apistore.co.kr",
        "solapi": "https://api.solapi.com",
    }
    # And the functions and the URL check read one and the same value: the given URL, else the provider's
    chosen = {"Fn::If": ["HasProviderBaseUrl", {"Ref": "ProviderBaseUrl"},
                         {"Fn::FindInMap": ["ProviderUrls", {"Ref": "Provider"}, "BaseUrl"]}]}  # fmt: skip
    assert sam["Globals"]["Function"]["Environment"]["Variables"]["PROVIDER_BASE_URL"] == chosen
    assert sam["Resources"]["ProviderBaseUrlCheck"]["Properties"]["Value"] == chosen
    # And the stack outputs it, for the operator CLI
    assert sam["Outputs"]["ProviderBaseUrl"]["Value"] == chosen
    assert sam["Conditions"]["HasProviderBaseUrl"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ProviderBaseUrl"}, ""]}]}


def test_parameter_names_must_start_with_a_slash(sam: dict[str, Any]) -> None:
    for name in ("ProviderKeyParameterName", "ProviderClientIdParameterName", "ProviderSecretParameterName"):
        spec = sam["Parameters"][name]
        assert spec["AllowedPattern"].startswith("^/"), name
        assert re.fullmatch(spec["AllowedPattern"], spec["Default"]), name


def test_attachment_reads_are_granted_only_when_a_bucket_is_configured(cfn: dict[str, Any]) -> None:
    # Given the dispatcher's policy
    statements = cfn["Resources"]["DispatcherFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    s3 = [s for s in statements if "Fn::If" in s and s["Fn::If"][0] == "HasAttachmentBucket"]

    # Then s3:GetObject sits behind HasAttachmentBucket, on that bucket's objects only
    (conditional,) = s3
    condition, granted, otherwise = conditional["Fn::If"]
    assert condition == "HasAttachmentBucket"
    assert granted["Action"] == "s3:GetObject"
    assert granted["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${AttachmentBucketName}/*"}
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert cfn["Conditions"]["HasAttachmentBucket"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AttachmentBucketName"}, ""]}]
    }
    assert not any("s3:" in str(s.get("Action")) for s in statements if "Fn::If" not in s)


# -- configuration -------------------------------------------------------------------------------


def _documented_env_vars() -> set[str]:
    """The variables in docs/architecture.md's "Function configuration" table."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Function configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("|"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_every_documented_env_var_is_set_for_every_function(sam: dict[str, Any]) -> None:
    # Given the variables the architecture page documents
    documented = _documented_env_vars()
    assert {"TABLE_NAME", "PROVIDER_KEY_PARAM", "POWERTOOLS_SERVICE_NAME"} <= documented

    # Then every function gets all of them
    for name, props in _functions(sam).items():
        env = set(props["Environment"]["Variables"])
        assert documented <= env, f"{name} lacks {sorted(documented - env)}"


def test_dispatcher_runs_the_documented_handler_on_arm64_python313(sam: dict[str, Any]) -> None:
    dispatcher = _functions(sam)["DispatcherFunction"]
    assert dispatcher["Handler"] == "notifier.handlers.dispatcher.handler"
    assert (dispatcher["Runtime"], dispatcher["Architectures"]) == ("python3.13", ["arm64"])
    assert dispatcher["CodeUri"] == "src/"


def _alarms(sam: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in sam["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _watching(alarm: dict[str, Any]) -> tuple[str, str, str]:
    (dimension,) = alarm["Dimensions"]
    value = dimension["Value"]
    target = value.get("Ref") or value.get("Fn::GetAtt", [""])[0] if isinstance(value, dict) else value
    return alarm["Namespace"], alarm["MetricName"], target


def test_alarms_cover_the_queues_the_functions_and_the_outcomes(sam: dict[str, Any]) -> None:
    # Given the alarms, by what they watch
    alarms = {_watching(a): a for a in _alarms(sam).values()}

    # Then each of these is watched
    assert {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "NotificationDLQ"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", "NotificationQueue"),
        ("Notifier", "Unknown", "notifier"),
        ("Notifier", "ReportErrors", "notifier"),
        ("AWS/Lambda", "Errors", "DispatcherFunction"),
        ("AWS/Lambda", "Throttles", "DispatcherFunction"),
        ("AWS/Lambda", "Errors", "PollerFunction"),
        ("AWS/Lambda", "Throttles", "PollerFunction"),
        ("AWS/Lambda", "Invocations", "PollerFunction"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "OutboxDLQ"),
        ("AWS/Lambda", "Errors", "OutboxFunction"),
        ("AWS/Lambda", "IteratorAge", "OutboxFunction"),
    } <= set(alarms)
    lag = alarms["AWS/Lambda", "IteratorAge", "OutboxFunction"]
    # An outbox that keeps up badly (no error, no DLQ) still pages: its oldest unpublished write's age
    assert (lag["Statistic"], lag["ComparisonOperator"], lag["Threshold"]) == (
        "Maximum",
        "GreaterThanThreshold",
        300000,
    )
    dlq = alarms["AWS/SQS", "ApproximateNumberOfMessagesVisible", "NotificationDLQ"]
    assert (dlq["ComparisonOperator"], dlq["Threshold"]) == ("GreaterThanThreshold", 0)
    unknown = alarms["Notifier", "Unknown", "notifier"]
    assert (unknown["Statistic"], unknown["Period"], unknown["Threshold"]) == ("Sum", 300, 0)
    # And the unknown alarm says where unknowns come from: the dispatcher and the poller's 72-hour rule
    assert "72 hours" in unknown["AlarmDescription"] and "dispatcher" in unknown["AlarmDescription"]
    # And every alarm pages through the one topic, with a description for whoever is paged
    for name, alarm in _alarms(sam).items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert len(alarm["AlarmDescription"]) > 40, name


def test_a_poller_that_stops_running_pages_by_itself(sam: dict[str, Any]) -> None:
    # Given the alarm on the poller's invocations
    (silent,) = [a for a in _alarms(sam).values() if _watching(a) == ("AWS/Lambda", "Invocations", "PollerFunction")]

    # Then fewer than one invocation in each of PollerSilenceMinutes one-minute periods alarms,
    # and no data at all (a disabled rule, a deleted function) counts as silence
    assert (silent["Statistic"], silent["Period"], silent["Threshold"]) == ("Sum", 60, 1)
    assert silent["ComparisonOperator"] == "LessThanThreshold"
    assert silent["EvaluationPeriods"] == silent["DatapointsToAlarm"] == {"Ref": "PollerSilenceMinutes"}
    assert silent["TreatMissingData"] == "breaching"
    # And the window tolerates the default schedule twice over, within CloudWatch's one-day limit
    silence = sam["Parameters"]["PollerSilenceMinutes"]
    poll_rate = re.fullmatch(r"rate\((\d+) minutes?\)", sam["Parameters"]["PollRate"]["Default"])
    assert poll_rate is not None
    assert silence["Default"] >= 2 * int(poll_rate.group(1))
    assert silence["MaxValue"] * 60 <= 86400 and silence["MinValue"] >= 2


def test_the_queue_age_alarm_fires_only_beyond_what_retries_explain(sam: dict[str, Any]) -> None:
    (age,) = [a for a in _alarms(sam).values() if a["MetricName"] == "ApproximateAgeOfOldestMessage"]
    assert (age["Statistic"], age["Threshold"]) == ("Maximum", {"Ref": "QueueAgeAlarmSeconds"})
    # A message retried to the DLQ waits a visibility time-out between receives
    visibility = sam["Resources"]["NotificationQueue"]["Properties"]["VisibilityTimeout"]
    retries = sam["Parameters"]["MaxReceiveCount"]["Default"]
    assert sam["Parameters"]["QueueAgeAlarmSeconds"]["Default"] >= retries * visibility


# -- the dashboard ---------------------------------------------------------------------------------


def _substituted(sam: dict[str, Any], text: str) -> str:
    """An Fn::Sub string as CloudFormation would expand it: every ${X} names a parameter (its default),
    a pseudo parameter or a resource (its name or attribute, here a stand-in)."""

    def value(match: re.Match[str]) -> str:
        name, _, attribute = match.group(1).partition(".")
        if name in sam["Parameters"]:
            return str(sam["Parameters"][name]["Default"])
        assert name.startswith("AWS::") or name in sam["Resources"], f"${{{match.group(1)}}} names nothing"
        if attribute:
            assert attribute in {"Arn", "QueueName"}, match.group(1)
        return f"{name}-{attribute or 'ref'}"

    return re.sub(r"\$\{([^}!]+)\}", value, text)


@pytest.fixture(scope="module")
def dashboard(sam: dict[str, Any]) -> dict[str, Any]:
    body = sam["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    parsed: dict[str, Any] = json.loads(_substituted(sam, body))
    return parsed


def _dashboard_metrics(dashboard: dict[str, Any]) -> set[tuple[str, str, frozenset[str]]]:
    """(namespace, metric, dimension names) of every metric the dashboard shows, SEARCH expressions included."""
    found = set()
    for widget in dashboard["widgets"]:
        for row in widget["properties"].get("metrics", []):
            if isinstance(row[0], dict):
                expression = row[0]["expression"]
                for schema, terms in re.findall(r"SEARCH\('\{([^}]*)\}([^']*)'", expression):
                    namespace, *dimensions = schema.split(",")
                    for metric in re.findall(r'MetricName="([^"]+)"', terms):
                        found.add((namespace, metric, frozenset(dimensions)))
                continue
            namespace, metric, *rest = row
            pairs = [v for v in rest if not isinstance(v, dict)]
            found.add((namespace, metric, frozenset(pairs[0::2])))
    return found


def test_the_dashboard_body_is_json_once_substituted(dashboard: dict[str, Any]) -> None:
    widgets = dashboard["widgets"]
    assert len(widgets) >= 10
    for widget in widgets:
        # Then every widget sits on CloudWatch's 24-column grid
        assert widget["x"] + widget["width"] <= 24, widget["properties"].get("title")


def test_the_dashboard_shows_what_the_issue_asks_for(dashboard: dict[str, Any]) -> None:
    shown = _dashboard_metrics(dashboard)
    per_channel = {m for ns, m, dims in shown if ns == "Notifier" and dims == {"service", "channel"}}
    assert {"Accepted", "Sent", "Delivered", "Failed", "Rejected", "Unknown", "AppFallback", "ProviderFallback"} <= (
        per_channel
    )
    assert ("Notifier", "ProviderLatency", frozenset({"service"})) in shown
    stats = {
        row[-1].get("stat")
        for w in dashboard["widgets"]
        for row in w["properties"].get("metrics", [])
        if "ProviderLatency" in row
    }
    assert {"p50", "p99"} <= stats
    sqs = {(m, next(iter(d))) for ns, m, d in shown if ns == "AWS/SQS"}
    assert {("ApproximateNumberOfMessagesVisible", "QueueName"), ("ApproximateAgeOfOldestMessage", "QueueName")} <= sqs
    expressions = [r[0]["expression"] for w in dashboard["widgets"] for r in w["properties"].get("metrics", [])
                   if isinstance(r[0], dict)]  # fmt: skip
    assert any("/" in e and "FILL(d, 0)" in e for e in expressions), "no delivery rate"


def test_the_dashboard_shows_every_alarm(sam: dict[str, Any], dashboard: dict[str, Any]) -> None:
    (widget,) = [w for w in dashboard["widgets"] if w["type"] == "alarm"]
    assert sorted(widget["properties"]["alarms"]) == sorted(f"{name}-Arn" for name in _alarms(sam))


def test_every_metric_the_alarms_and_dashboard_name_is_declared_by_the_code(
    sam: dict[str, Any], dashboard: dict[str, Any]
) -> None:
    from notifier import metrics

    env = sam["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Notifier" and env["POWERTOOLS_SERVICE_NAME"] == "notifier"
    named = {m for m in _dashboard_metrics(dashboard) if m[0] == "Notifier"}
    for alarm in _alarms(sam).values():
        if alarm["Namespace"] == "Notifier":
            assert alarm["Dimensions"] == [{"Name": "service", "Value": "notifier"}]
            named.add(("Notifier", alarm["MetricName"], frozenset({"service"})))

    # Then each is emitted by the handlers with exactly those dimensions
    declared = {("Notifier", m, frozenset({"service"})) for m in metrics.SERVICE_METRICS} | {
        ("Notifier", m, frozenset({"service", "channel"})) for m in metrics.CHANNEL_METRICS
    }
    assert named and named <= declared, sorted(named - declared)


def test_the_queue_age_chart_marks_the_alarm_threshold_as_a_number(
    sam: dict[str, Any], dashboard: dict[str, Any]
) -> None:
    # A Sub of a Number parameter lands in the body unquoted: it must stay a number
    (marked,) = [w for w in dashboard["widgets"] if "annotations" in w["properties"]]
    (line,) = marked["properties"]["annotations"]["horizontal"]
    assert line["value"] == sam["Parameters"]["QueueAgeAlarmSeconds"]["Default"]
    assert marked["properties"]["metrics"][0][1] == "ApproximateAgeOfOldestMessage"


def test_outputs_name_what_producers_and_operators_need(sam: dict[str, Any]) -> None:
    assert {
        "QueueUrl",
        "QueueArn",
        "DeadLetterQueueUrl",
        "TableName",
        "DispatcherFunctionName",
        "PollerFunctionName",
        "AlarmTopicArn",
        "ProducerPolicyArn",
    } <= set(sam["Outputs"])


def test_samconfig_deploys_the_dev_stack_to_seoul() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    deploy = config["default"]["deploy"]["parameters"]
    assert config["version"] == 0.1
    assert config["default"]["global"]["parameters"]["stack_name"] == "kr-notifier-dev"
    assert (deploy["region"], deploy["capabilities"], deploy["resolve_s3"]) == (
        "ap-northeast-2",
        "CAPABILITY_IAM",
        True,
    )
    assert config["default"]["validate"]["parameters"]["lint"] is True


# -- the report poller ---------------------------------------------------------------------------


def _role_statements(cfn: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """A role's inline statements, both branches of an If (a NoValue branch is no statement)."""
    found = []
    for policy in cfn["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                found += [s for s in statement["Fn::If"][1:] if "Effect" in s]
            else:
                found.append(statement)
    return found


def test_poller_runs_the_documented_handler_on_the_parameterised_schedule(sam: dict[str, Any]) -> None:
    # Given the poller function
    poller = _functions(sam)["PollerFunction"]

    # Then it runs the poller handler on an EventBridge schedule whose rate is the PollRate parameter
    assert poller["Handler"] == "notifier.handlers.poller.handler"
    assert (poller["Runtime"], poller["Architectures"], poller["CodeUri"]) == ("python3.13", ["arm64"], "src/")
    ((name, event),) = poller["Events"].items()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == {"Ref": "PollRate"}
    assert sam["Parameters"]["PollRate"]["Default"] == "rate(1 minute)"


_RATES_ACCEPTED = [
    "rate(1 minute)",
    "rate(2 minutes)",
    "rate(15 minutes)",
    "rate(1 hour)",
    "rate(6 hours)",
    "rate(1 day)",
]
_RATES_REFUSED = ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(05 minutes)", "rate(5 mins)",
                  "rate(5minutes)", "rate( 5 minutes)", "cron(0/5 * * * ? *)", "every minute", ""]  # fmt: skip


@pytest.mark.parametrize("expression", _RATES_ACCEPTED + _RATES_REFUSED)
def test_poll_rate_parameter_accepts_exactly_the_valid_rate_expressions(sam: dict[str, Any], expression: str) -> None:
    # Given the parameter's AllowedPattern (what CloudFormation checks at deploy time)
    pattern = sam["Parameters"]["PollRate"]["AllowedPattern"]

    # Then it agrees with EventBridge's rate syntax: no bad rate reaches the schedule
    assert (re.fullmatch(pattern, expression) is not None) == (expression in _RATES_ACCEPTED)
    assert (expression in _RATES_ACCEPTED) == (is_valid_schedule(expression) and expression.startswith("rate"))


def test_poller_may_only_query_the_pending_index_and_update_records(cfn: dict[str, Any]) -> None:
    # Given the poller's own policy
    statements = _role_statements(cfn, "PollerFunctionRole")
    dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))]
    table_arn = {"Fn::GetAtt": ["RecordsTable", "Arn"]}

    # Then it queries the sparse index only (never scans), and only updates records in the table
    granted = {a: s["Resource"] for s in dynamo for a in _as_list(s["Action"])}
    assert granted == {
        "dynamodb:Query": {"Fn::Sub": "${RecordsTable.Arn}/index/pending"},
        "dynamodb:UpdateItem": table_arn,
    }
    # And nothing else beyond the two secrets, its own logs and (with tracing on) X-Ray: no PutEvents,
    # the outbox function publishes its outcomes from the table's stream
    other = [s for s in statements if s not in dynamo]
    assert {a for s in other for a in _as_list(s["Action"])} == {
        "ssm:GetParameter", "ssm:GetParameters", "kms:Decrypt", "logs:CreateLogStream", "logs:PutLogEvents",
        "xray:PutTraceSegments", "xray:PutTelemetryRecords",
    }  # fmt: skip


def test_the_dispatcher_cannot_query_or_scan_and_the_poller_cannot_create_records(cfn: dict[str, Any]) -> None:
    dispatcher = {a for s in _role_statements(cfn, "DispatcherFunctionRole") for a in _as_list(s.get("Action", []))}
    poller = {a for s in _role_statements(cfn, "PollerFunctionRole") for a in _as_list(s["Action"])}
    assert not {"dynamodb:Query", "dynamodb:Scan"} & dispatcher
    assert not {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:GetItem"} & poller


def test_poller_shards_match_the_shards_the_dispatcher_writes(sam: dict[str, Any]) -> None:
    from notifier.handlers.poller_wiring import PollerWiring
    from notifier.handlers.wiring import Wiring

    # Given the shared environment (the dispatcher writes poll_shard "0".."N-1", the poller queries them)
    shared = sam["Globals"]["Function"]["Environment"]["Variables"]
    env = _functions(sam)["PollerFunction"]["Environment"]["Variables"]
    local = {k: str(v) for k, v in shared.items() if isinstance(v, str)} | {
        "TABLE_NAME": "t", "PROVIDER_KEY_PARAM": "k", "PROVIDER_CLIENT_ID_PARAM": "c", "DEFAULT_SENDER": "0212345678",
    }  # fmt: skip

    # Then neither function overrides POLL_SHARDS, both read the same value, and the 72-hour rule is set
    own = [
        r.get("Properties", {}).get("Environment", {}).get("Variables", {})
        for r in sam["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    ]
    assert "POLL_SHARDS" in shared and len(own) == 3 and all("POLL_SHARDS" not in v for v in own)
    assert PollerWiring.from_env(local).settings.shards == Wiring.from_env(local).settings.poll_shards == 4
    assert env["REPORT_EXPIRY_HOURS"] == "72"
    assert env["POLL_CONCURRENCY"] == {"Ref": "PollConcurrency"}


def test_poller_keeps_most_of_its_timeout_for_work_and_is_not_retried(sam: dict[str, Any]) -> None:
    from notifier.usecases.poll import PollSettings

    poller = _functions(sam)["PollerFunction"]
    timeout = int(poller["Timeout"])
    env = sam["Globals"]["Function"]["Environment"]["Variables"]
    call_budget = float(env["PROVIDER_CONNECT_TIMEOUT"]) + float(env["PROVIDER_READ_TIMEOUT"]) + 2

    # Then the time-out margin (no new work after it) leaves most of the invocation for work
    margin = PollSettings(call_budget_s=call_budget).margin_s(timeout)
    assert margin >= call_budget and margin <= timeout / 2
    # And a failed tick is not retried on top of the next scheduled one
    assert poller["EventInvokeConfig"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}


def test_every_function_logs_to_its_own_group_with_retention(sam: dict[str, Any]) -> None:
    groups = set()
    for name, props in _functions(sam).items():
        group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
        group = sam["Resources"][group_id]
        assert group["Type"] == "AWS::Logs::LogGroup", name
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        groups.add(group_id)
    assert len(groups) == len(_functions(sam)) == 3


# -- safe by default: the provider URL -------------------------------------------------------------


def _check_pattern(sam: dict[str, Any], allow_insecure: str) -> str:
    """The AllowedPattern SSM applies to the provider URL, for a value of AllowInsecureProviderUrl."""
    check = sam["Resources"]["ProviderBaseUrlCheck"]["Properties"]
    condition, if_allowed, otherwise = check["AllowedPattern"]["Fn::If"]
    assert sam["Conditions"][condition] == {"Fn::Equals": [{"Ref": "AllowInsecureProviderUrl"}, "true"]}
    return str(if_allowed if allow_insecure == "true" else otherwise)


def test_the_provider_url_defaults_to_https_and_plain_http_needs_the_explicit_parameter(sam: dict[str, Any]) -> None:
    # Given the parameters as deployed without overrides
    params = sam["Parameters"]
    assert params["ProviderBaseUrl"]["Default"] == ""  # the provider's own URL, https for each
    assert all(u["BaseUrl"].startswith("https://") for u in sam["Mappings"]["ProviderUrls"].values())
    assert params["AllowInsecureProviderUrl"]["Default"] == "false"
    assert params["AllowInsecureProviderUrl"]["AllowedValues"] == ["false", "true"]

    # Then the URL check refuses http:// unless it is allowed, and always takes https://
    for url, allow, accepted in [
        ("https://api.apistore.co.kr", "false", True),
        ("http://api.apistore.co.kr", "false", False),
        ("HTTP://api.apistore.co.kr", "false", False),
        ("http://127.0.0.1:8080", "true", True),
        ("https://api.apistore.co.kr", "true", True),
    ]:
        assert (re.search(_check_pattern(sam, allow), url) is not None) == accepted, (url, allow)
    # And the functions get the same switch, to refuse it themselves at start
    env = sam["Globals"]["Function"]["Environment"]["Variables"]
    assert env["ALLOW_INSECURE_PROVIDER_URL"] == {"Ref": "AllowInsecureProviderUrl"}
    assert env["PROVIDER_BASE_URL"] == sam["Resources"]["ProviderBaseUrlCheck"]["Properties"]["Value"]


def test_a_local_stack_with_a_plain_http_provider_url_is_refused_unless_allowed() -> None:
    from devstack.localaws import LocalAws

    # When the template is deployed with an http:// URL and no permission
    with pytest.raises(RuntimeError) as refused:
        LocalAws.start(ROOT / "template.yaml", parameters={"ProviderBaseUrl": "http://api.apistore.co.kr"})

    # Then the stack is not created, and the error names the check, the value and the rule
    assert "ProviderBaseUrlCheck" in str(refused.value)
    assert "http://api.apistore.co.kr" in str(refused.value) and "^https://" in str(refused.value)
    # And with the permission it deploys
    allowed = {"ProviderBaseUrl": "http://127.0.0.1:9", "AllowInsecureProviderUrl": "true"}
    with LocalAws.start(ROOT / "template.yaml", parameters=allowed) as local:
        assert local.function_env("DispatcherFunction")["ALLOW_INSECURE_PROVIDER_URL"] == "true"


# -- safe by default: permissions ------------------------------------------------------------------

_QUEUE_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}
_XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _lambda_functions(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in cfn["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}


def test_each_function_has_a_role_of_its_own_with_no_managed_policy(cfn: dict[str, Any]) -> None:
    # Given the translated functions (what CloudFormation creates)
    functions = _lambda_functions(cfn)
    assert set(functions) == {"DispatcherFunction", "PollerFunction", "OutboxFunction"}

    # Then each assumes its own role, written in the template
    roles = {name: props["Role"]["Fn::GetAtt"] for name, props in functions.items()}
    assert roles == {
        "DispatcherFunction": ["DispatcherFunctionRole", "Arn"],
        "PollerFunction": ["PollerFunctionRole", "Arn"],
        "OutboxFunction": ["OutboxFunctionRole", "Arn"],
    }
    # And no role in the stack carries a managed policy (SAM's would receive from any queue, log anywhere)
    for name, resource in cfn["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            assert "ManagedPolicyArns" not in resource["Properties"], name
            assert resource["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ], name


def test_no_data_plane_action_is_granted_on_every_resource(cfn: dict[str, Any]) -> None:
    # Given every statement the stack grants (inline role policies and AWS::IAM::Policy / ManagedPolicy)
    for statement in _statements(cfn):
        resources = [str(r) for r in _as_list(statement.get("Resource", []))]
        # Then "*" is a resource only for X-Ray (it has no resource-level permissions), and no action is a wildcard
        if any(r == "*" for r in resources):
            assert set(_as_list(statement["Action"])) <= _XRAY_ACTIONS, statement
        assert not any(a == "*" or a.endswith(":*") for a in _as_list(statement["Action"])), statement


def test_x_ray_is_granted_only_when_tracing_is_active(cfn: dict[str, Any]) -> None:
    for role in ("DispatcherFunctionRole", "PollerFunctionRole", "OutboxFunctionRole"):
        statements = cfn["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        xray = [s for s in statements if "xray" in json.dumps(s)]
        # Then the only X-Ray statement sits behind TracingActive, with nothing in the other branch
        ((only,),) = [xray]
        condition, granted, otherwise = only["Fn::If"]
        assert condition == "TracingActive" and otherwise == {"Ref": "AWS::NoValue"}
        assert set(granted["Action"]) == _XRAY_ACTIONS
    assert cfn["Conditions"]["TracingActive"] == {"Fn::Equals": [{"Ref": "Tracing"}, "Active"]}


def test_only_the_dispatcher_reads_the_queue_and_only_that_queue(cfn: dict[str, Any]) -> None:
    dispatcher = _role_statements(cfn, "DispatcherFunctionRole")
    poller = _role_statements(cfn, "PollerFunctionRole")

    (queue,) = [s for s in dispatcher if any(a.startswith("sqs:") for a in _as_list(s["Action"]))]
    assert set(queue["Action"]) == _QUEUE_ACTIONS
    assert queue["Resource"] == {"Fn::GetAtt": ["NotificationQueue", "Arn"]}
    assert not any(a.startswith("sqs:") for s in poller for a in _as_list(s["Action"]))


def test_each_function_writes_logs_only_to_its_own_group(cfn: dict[str, Any]) -> None:
    for role, group in (
        ("DispatcherFunctionRole", "DispatcherLogGroup"),
        ("PollerFunctionRole", "PollerLogGroup"),
        ("OutboxFunctionRole", "OutboxLogGroup"),
    ):
        (logs,) = [s for s in _role_statements(cfn, role) if any(a.startswith("logs:") for a in _as_list(s["Action"]))]
        assert set(logs["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
        assert logs["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${" + group + "}:*"
        }


def test_the_queues_refuse_requests_without_tls(sam: dict[str, Any]) -> None:
    # Given the queue policies
    policies = [r["Properties"] for r in sam["Resources"].values() if r["Type"] == "AWS::SQS::QueuePolicy"]

    # Then one covers every queue and denies everything to anyone without TLS
    (policy,) = policies
    assert policy["Queues"] == [{"Ref": "NotificationQueue"}, {"Ref": "NotificationDLQ"}, {"Ref": "OutboxDLQ"}]
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "sqs:*")
    assert deny["Resource"] == [
        {"Fn::GetAtt": ["NotificationQueue", "Arn"]},
        {"Fn::GetAtt": ["NotificationDLQ", "Arn"]},
        {"Fn::GetAtt": ["OutboxDLQ", "Arn"]},
    ]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_producers_get_a_policy_that_may_only_send_to_the_queue(sam: dict[str, Any]) -> None:
    producer = sam["Resources"]["ProducerPolicy"]
    assert producer["Type"] == "AWS::IAM::ManagedPolicy"
    (statement,) = producer["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert set(statement["Action"]) == {"sqs:SendMessage", "sqs:GetQueueUrl"}
    assert statement["Resource"] == {"Fn::GetAtt": ["NotificationQueue", "Arn"]}
    assert sam["Outputs"]["ProducerPolicyArn"]["Value"] == {"Ref": "ProducerPolicy"}


def test_every_checkov_suppression_names_a_check_and_gives_its_reason(sam: dict[str, Any]) -> None:
    skips = [
        (name, skip)
        for name, resource in sam["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips, "no suppressions found where checkov reads them (Metadata.checkov.skip)"
    for name, skip in skips:
        assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), name
        # one line of why: a sentence, not a placeholder
        assert len(skip.get("comment", "").split()) >= 6 and "\n" not in skip["comment"], (name, skip)


def _emitted(log: str) -> set[tuple[str, str, frozenset[str]]]:
    """(namespace, metric, dimension names) of every embedded-metric record in a handler log."""
    found = set()
    for line in log.splitlines():
        if line.startswith('{"_aws"'):
            for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                for dimensions in directive["Dimensions"]:
                    found |= {(directive["Namespace"], m["Name"], frozenset(dimensions)) for m in directive["Metrics"]}
    return found


def test_every_metric_the_alarms_and_dashboard_name_is_emitted_by_the_real_handlers(
    sam: dict[str, Any], dashboard: dict[str, Any]
) -> None:
    import io

    from devstack.run import DELIVERED_MIX, REPORT_DELAY_S, RUN_OUTCOMES, FastForward, poll_until_settled
    from devstack.stack import LocalStack, sample_bodies

    named = {m for m in _dashboard_metrics(dashboard) if m[0] == "Notifier"} | {
        ("Notifier", a["MetricName"], frozenset({"service"}))
        for a in _alarms(sam).values()
        if a["Namespace"] == "Notifier"
    }
    log = io.StringIO()
    # Given the local stack with `make run`'s samples (every channel, AlimTalk fallbacks on both sides, an
    # invalid event, a failed report), one message whose report never comes, and a conflicting duplicate of it
    with LocalStack.start(log_stream=log, sandbox_config={"report_delay_s": REPORT_DELAY_S}) as stack:
        clock = FastForward()
        stack.sandbox.clock = clock
        for kind, mix in DELIVERED_MIX.items():
            stack.sandbox.set_outcome_mix(kind, mix)
        for number, outcome in RUN_OUTCOMES.items():
            stack.sandbox.force_outcome(number, **outcome)
        stack.sandbox.force_outcome("01055550099", pending=True)
        never = json.dumps({"id": "metrics-never-reported", "to": "010-5555-0099", "text": "안녕하세요"})

        # When the dispatcher handles them and the poller runs until only that one is left, then 72 hours on
        stack.publish([*sample_bodies(), never])
        stack.drain(timeout_s=120)
        # And one event that reuses an id with other content (a producer bug, alarmed)
        stack.publish([json.dumps({"id": "metrics-never-reported", "to": "010-5555-0099", "text": "다른 내용"})])
        stack.drain(timeout_s=60)
        _, due = poll_until_settled(stack, clock)
        assert due == ["metrics-never-reported"]
        clock.advance(72 * 3600)
        stack.poll(clock=clock)
        assert stack.record("metrics-never-reported")["status"] == "unknown"
        # And the outbox function has taken every write from the table's stream (it counts the outcomes)
        stack.run_outbox()

    # Then every metric the alarms and the dashboard read was written, with the dimensions they read
    emitted = _emitted(log.getvalue())
    assert named <= emitted, sorted(named - emitted)
    # And the per-channel figures add up to the totals the alarms read
    totals = _sums(log.getvalue())
    for metric in ("Accepted", "Sent", "Delivered", "Failed", "Rejected", "Unknown"):
        by_channel = sum(v for (name, dims), v in totals.items() if name == metric and "channel" in dims)
        assert by_channel == totals[metric, frozenset({"service"})] > 0, metric


def _sums(log: str) -> dict[tuple[str, frozenset[str]], float]:
    sums: dict[tuple[str, frozenset[str]], float] = {}
    for line in log.splitlines():
        if line.startswith('{"_aws"'):
            record = json.loads(line)
            for directive in record["_aws"]["CloudWatchMetrics"]:
                for dimensions in directive["Dimensions"]:
                    for metric in directive["Metrics"]:
                        key = (metric["Name"], frozenset(dimensions))
                        value = record[metric["Name"]]
                        sums[key] = sums.get(key, 0) + sum(value if isinstance(value, list) else [value])
    return sums


# -- the outbox: outcomes from the table's stream to the bus --------------------------------------

OUTCOME = {"status": {"S": "delivered"}, "id": {"S": "a"}}


def _stream_record(new: dict[str, Any] | None, old: dict[str, Any] | None = None) -> dict[str, Any]:
    images: dict[str, Any] = {"SequenceNumber": "1", "Keys": {"id": {"S": "a"}}, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if new is not None:
        images["NewImage"] = new
    if old is not None:
        images["OldImage"] = old
    event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    return {"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": images}


@pytest.mark.parametrize(
    ("new", "passes"),
    [
        ({**OUTCOME}, True),
        ({**OUTCOME, "status": {"S": "failed"}}, True),
        ({**OUTCOME, "status": {"S": "rejected"}}, True),
        ({**OUTCOME, "status": {"S": "unknown"}}, True),
        ({**OUTCOME, "status": {"S": "sent"}, "test": {"BOOL": True}}, True),
        ({**OUTCOME, "status": {"S": "sent"}, "test": {"BOOL": False}}, False),
        ({**OUTCOME, "status": {"S": "sent"}}, False),
        ({**OUTCOME, "status": {"S": "sending"}}, False),
        (None, False),  # a TTL delete
    ],
)
def test_the_stream_filter_passes_exactly_the_writes_that_may_be_an_outcome(
    sam: dict[str, Any], new: dict[str, Any] | None, passes: bool
) -> None:
    from moto.events.models import EventPattern

    # Given the outbox's FilterCriteria, read with the EventBridge pattern grammar Lambda's filters use
    (stream,) = _events(sam, {"DynamoDB"})
    patterns = [EventPattern.load(f["Pattern"]) for f in stream[2]["FilterCriteria"]["Filters"]]
    # When a write's stream record is matched
    record = _stream_record(new, old=None if new else OUTCOME)
    # Then it reaches the function only if it may be an outcome
    assert any(p.matches_event(record) for p in patterns) is passes


def test_the_outbox_reads_the_tables_stream_from_the_start_and_retries_then_dead_letters(sam: dict[str, Any]) -> None:
    # Given the outbox's stream event
    ((fn, _, props),) = _events(sam, {"DynamoDB"})
    assert fn == "OutboxFunction"
    assert sam["Resources"]["RecordsTable"]["Properties"]["StreamSpecification"] == {
        "StreamViewType": "NEW_AND_OLD_IMAGES"
    }
    # Then it reads the records table's stream from its oldest record, reports failures per record,
    # bisects a failing batch, gives up after a bounded time, and sends what it gave up on to its DLQ
    assert props["Stream"] == {"Fn::GetAtt": ["RecordsTable", "StreamArn"]}
    assert props["StartingPosition"] == "TRIM_HORIZON"
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 < props["MaximumRetryAttempts"] <= 100
    assert 60 <= props["MaximumRecordAgeInSeconds"] < 24 * 3600  # the stream keeps records 24 h
    assert props["DestinationConfig"] == {
        "OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["OutboxDLQ", "Arn"]}}
    }
    # And its DLQ pages
    alarms = {_watching(a): a for a in _alarms(sam).values()}
    dlq = alarms["AWS/SQS", "ApproximateNumberOfMessagesVisible", "OutboxDLQ"]
    assert (dlq["ComparisonOperator"], dlq["Threshold"], dlq["AlarmActions"]) == (
        "GreaterThanThreshold", 0, [{"Ref": "AlarmTopic"}]
    )  # fmt: skip


def test_only_the_outbox_may_put_events_and_only_on_the_bus_the_stream_and_its_dlq(cfn: dict[str, Any]) -> None:
    # Given each role's statements
    for role in ("DispatcherFunctionRole", "PollerFunctionRole"):
        actions = {a for s in _role_statements(cfn, role) for a in _as_list(s["Action"])}
        assert "events:PutEvents" not in actions, role
    outbox = {a: s["Resource"] for s in _role_statements(cfn, "OutboxFunctionRole") for a in _as_list(s["Action"])}
    # Then the outbox reads only the table's streams, puts only on the configured bus, sends only to its DLQ
    stream = {"Fn::Sub": "${RecordsTable.Arn}/stream/*"}
    assert outbox == {
        "dynamodb:DescribeStream": stream, "dynamodb:GetRecords": stream, "dynamodb:GetShardIterator": stream,
        "dynamodb:ListStreams": stream,
        "events:PutEvents": {
            "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}"
        },
        "sqs:SendMessage": {"Fn::GetAtt": ["OutboxDLQ", "Arn"]},
        "logs:CreateLogStream": outbox["logs:CreateLogStream"], "logs:PutLogEvents": outbox["logs:PutLogEvents"],
        "xray:PutTraceSegments": "*", "xray:PutTelemetryRecords": "*",
    }  # fmt: skip


def test_only_the_outbox_is_told_the_bus(sam: dict[str, Any]) -> None:
    functions = _functions(sam)
    assert functions["OutboxFunction"]["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": "EventBusName"}
    assert functions["OutboxFunction"]["Handler"] == "notifier.handlers.outbox.handler"
    for name in ("DispatcherFunction", "PollerFunction"):
        assert "EVENT_BUS_NAME" not in functions[name]["Environment"]["Variables"], name
