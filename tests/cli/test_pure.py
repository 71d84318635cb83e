"""The CLI's pure parts: spreadsheet cells to event fields, record rendering, masking, durations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifier_cli import bulk
from notifier_cli.aws import Aws, Target
from notifier_cli.output import mask_numbers
from notifier_cli.status import render, since


@pytest.mark.parametrize(
    "cell, iso",
    [
        ("20261201090000", "2026-12-01T09:00:00+09:00"),  # the spec's send_time, Korea time
        (20261201090000, "2026-12-01T09:00:00+09:00"),  # the same typed into a number cell
        ("202612010900", "2026-12-01T09:00:00+09:00"),
        ("2026-12-01 09:00", "2026-12-01T09:00:00+09:00"),
        ("2026-12-01T00:00:00Z", "2026-12-01T00:00:00+00:00"),
        (datetime(2026, 12, 1, 9, 0), "2026-12-01T09:00:00+09:00"),  # an Excel date-time has no zone
        ("", None),
        (None, None),
    ],
)
def test_send_times_are_read_in_korea_time_unless_they_say_otherwise(cell, iso):
    assert bulk._send_at(cell) == iso


@pytest.mark.parametrize("cell", ["20261301090000", "tomorrow", "2026-12-01"])
def test_a_send_time_that_is_not_a_time_is_a_row_problem(cell):
    with pytest.raises(bulk.RowProblem, match="send_time"):
        bulk._send_at(cell)


def test_variables_come_as_pairs_or_as_json():
    assert bulk._variables("name=홍길동; order=1234") == {"name": "홍길동", "order": "1234"}
    assert bulk._variables('{"name": "홍길동", "amount": 1000}') == {"name": "홍길동", "amount": "1000"}
    with pytest.raises(bulk.RowProblem, match="name=value"):
        bulk._variables("홍길동")


def test_a_header_row_may_name_the_columns_in_any_order():
    layout = bulk.layout_of(["내용", "to", "#{name}", "템플릿코드"])
    assert layout.header and layout.fields == {0: "text", 1: "to", 3: "template"} and layout.variables == {2: "name"}
    assert bulk.layout_of([None, "01012345678", "홍길동"]) is bulk.POSITIONAL


def test_only_a_number_that_needs_its_leading_zero_gets_it():
    c = bulk.Converter("p", "f")
    assert c.phone(1012345678) == "01012345678"
    assert c.phone(15881234) == "15881234"  # a representative number has no 0
    assert c.phone("010-1234-5678") == "010-1234-5678"
    assert c.zeros_restored == 1


def test_phone_numbers_in_free_text_are_masked():
    assert (
        mask_numbers("잔금 부족[미발송 목록] 01012345678, 0212345678")
        == "잔금 부족[미발송 목록] 010****5678, 02****5678"
    )


def test_durations_count_back_from_now():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert since("90m", now) == datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
    assert since("2026-11-01T00:00:00", now) == datetime(2026, 11, 1, tzinfo=UTC)


def test_a_record_delivered_by_the_providers_fallback_says_so():
    rec = {
        "id": "o-1",
        "status": "delivered",
        "channel_requested": "alimtalk",
        "channel_used": "alimtalk",
        "fallback": "provider",
        "fallback_type": "SMS",
        "cmid": "20261122120000000001",
        "report_code": "A/00",
        "report_reason": "NO_USER 카카오톡을 미사용자; fallback SMS delivered",
        "delivered_via": "sms",
        "fallback_used": True,
        "attempts": 1,
        "dead_lettered": None,
    }
    lines = {line[:16].strip(): line[16:] for line in render(rec).splitlines()}
    assert lines["status"].startswith("delivered: the report says delivered")
    assert "the provider sends it as SMS" in lines["route"]
    assert lines["report"] == (
        "A/00: NO_USER 카카오톡을 미사용자; fallback SMS delivered, delivered via sms, "
        "after the provider's fallback SMS/LMS was sent"
    )
    assert "dead-lettered" not in lines and "True" not in render(rec)


class PartlyRefusingSqs:
    """SendMessageBatch as SQS answers under trouble: entry 0 refused for good (sender's fault),
    entry 1 refused once for a passing reason, the rest taken."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, object]:
        ids = [e["Id"] for e in Entries]
        self.calls.append(ids)
        failed = []
        if "0" in ids:
            failed.append({"Id": "0", "SenderFault": True, "Code": "InvalidMessageContents", "Message": "bad"})
        if "1" in ids and len(self.calls) == 1:
            failed.append({"Id": "1", "SenderFault": False, "Code": "InternalError", "Message": "try again"})
        refused = {f["Id"] for f in failed}
        return {"Successful": [{"Id": i} for i in ids if i not in refused], "Failed": failed}


def test_a_batch_retries_what_sqs_may_take_later_and_reports_what_it_never_will(monkeypatch):
    monkeypatch.setattr(bulk.time, "sleep", lambda s: None)
    sqs = PartlyRefusingSqs()
    bodies = [f'{{"id": "r-{i}"}}' for i in range(3)]
    sent, failed = bulk._send_batch(sqs, "q", bodies)
    assert sent == 2 and sqs.calls == [["0", "1", "2"], ["1"]]
    assert failed == [("r-0", "InvalidMessageContents: bad")]


@pytest.mark.parametrize(
    "given, parameter, expected",
    [
        ("http://127.0.0.1:9", "https://proxy.example", "http://127.0.0.1:9"),  # --provider-url wins
        (None, "https://proxy.example", "https://proxy.example"),  # else the stack's parameter
        (None, "", "https://api.solapi.com"),  # left empty: the URL the stack's functions use
    ],
)
def test_the_provider_url_is_the_option_else_the_stack_parameter_else_the_stacks_own_output(given, parameter, expected):
    # Given a stack whose ProviderBaseUrl parameter is as given, deployed with Provider solapi
    aws = Aws(Target(provider_url=given))
    aws._stack = {
        "Parameters": [{"ParameterKey": "ProviderBaseUrl", "ParameterValue": parameter}],
        "Outputs": [{"OutputKey": "ProviderBaseUrl", "OutputValue": "https://api.solapi.com"}],
    }
    # Then the CLI calls that URL
    assert aws.provider_base_url() == expected
