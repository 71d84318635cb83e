"""`notifier send-bulk` and `notifier status` against moto's SQS and DynamoDB over HTTP, with the
real dispatcher draining the queue into the provider sandbox: what the sandbox accepted is what
phones would have received."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from devstack.stack import LocalStack

from .conftest import start_stack

pytestmark = pytest.mark.integration

HEADER = ["발송시간", "수신자번호", "수신자이름", "발신자번호", "발신자이름", "제목", "내용"]
SHORT = "[Shop] 주문하신 상품이 발송되었습니다."
LONG = "[Shop] 배송 안내: " + "주문하신 상품이 오늘 출발했습니다. " * 4  # over 90 EUC-KR bytes: an LMS
GOOD = [
    [None, "010-1234-5678", "홍길동", "0212345678", "Shop", None, SHORT],
    ["20991201090000", "01098765432", "김철수", None, None, "배송 안내", LONG],
    [datetime(2026, 1, 1, 9, 0), "01055556666", None, None, None, None, SHORT],  # in the past: now
]
BAD = [
    [None, "12345", "홍길동", None, None, None, SHORT],
    [None, "01012345678", None, None, None, None, "똠 배송"],  # 똠 is outside KS X 1001
    ["2026-13-01 09:00", "01012345678", None, None, None, None, SHORT],
    [None, "01012345678", None, "0215881234", None, None, SHORT],  # an area code before a 15xx number
]


@pytest.fixture(scope="module")
def stack():
    s = start_stack()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def clean(stack):
    stack.sandbox.reset()
    queued_bodies(stack, delete=True)  # PurgeQueue is allowed once a minute only
    yield


def xlsx(path: Path, rows: list[list[object]], header: list[str] | None = HEADER) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    if header:
        ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def depth(stack: LocalStack) -> int:
    attrs = stack.aws.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def queued_bodies(stack: LocalStack, delete: bool = False) -> list[dict[str, object]]:
    sqs = stack.aws.client("sqs")
    bodies = []
    while msgs := sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
        "Messages", []
    ):
        bodies += [json.loads(m["Body"]) for m in msgs]
        if delete:
            for m in msgs:
                sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def test_invalid_rows_are_listed_and_nothing_is_enqueued(stack, cli, tmp_path):
    # Given a workbook with three good rows and four bad ones (rows 5-8 after the header)
    f = xlsx(tmp_path / "orders.xlsx", GOOD + BAD)
    # When it is sent
    r = cli("send-bulk", str(f))
    # Then every bad row is listed with its number and reason, and the queue is untouched
    assert r.code == 2
    assert "7 row(s), 3 valid, 4 invalid" in r.out
    assert "row 5: to: not a Korean phone number (5 digits)" in r.out
    assert "row 6: text: character '똠' (U+B620) at position 1 is not in EUC-KR" in r.out
    assert "row 7: send_time: '2026-13-01 09:00' is neither yyyyMMddHHmmss" in r.out
    assert "row 8: from: a representative number (15xx/16xx/18xx) takes no area code in front" in r.out
    assert "nothing enqueued" in r.err and "--skip-invalid" in r.err
    assert depth(stack) == 0


def test_skip_invalid_sends_the_valid_rows(stack, cli, tmp_path):
    # Given the same mix of rows
    f = xlsx(tmp_path / "orders.xlsx", GOOD + BAD)
    # When it is sent with --skip-invalid and the dispatcher drains the queue
    r = cli("send-bulk", str(f), "--skip-invalid")
    assert r.code == 0, r.err
    assert "enqueued 3 of 3 valid row(s)" in r.out and "skipped 4 invalid row(s)" in r.out
    stack.drain()
    # Then the three good rows reached the provider: an SMS, a scheduled LMS with its subject, an SMS
    sent = sorted(stack.sandbox.messages(), key=lambda m: m["dest_phone"])
    assert [(m["dest_phone"], m["kind"]) for m in sent] == [
        ("01012345678", "sms"),
        ("01055556666", "sms"),
        ("01098765432", "lms"),
    ]
    lms = sent[2]
    assert lms["subject"] == "배송 안내" and lms["send_time"] == "20991201090000"
    assert sent[0]["send_name"] == "Shop" and sent[0]["dest_name"] == "홍길동"


def test_the_same_file_twice_sends_once(stack, cli, tmp_path):
    # Given a file sent once and dispatched
    f = xlsx(tmp_path / "campaign.xlsx", GOOD)
    assert cli("send-bulk", str(f)).code == 0
    stack.drain()
    assert len(stack.sandbox.messages()) == 3
    # When the same file is sent again
    again = cli("send-bulk", str(f))
    # Then it is enqueued (harmlessly) with the same ids, the operator is told it went before,
    assert again.code == 0 and "enqueued 3 of 3" in again.out
    assert "this file was enqueued before" in again.out
    stack.drain()
    # and the provider still got each row once
    assert len(stack.sandbox.messages()) == 3


def test_ids_are_the_file_hash_and_the_row_number(stack, cli, tmp_path):
    f = xlsx(tmp_path / "a.xlsx", GOOD)
    assert cli("send-bulk", str(f)).code == 0
    first = sorted(b["id"] for b in queued_bodies(stack, delete=True))
    assert cli("send-bulk", str(f)).code == 0
    second = sorted(b["id"] for b in queued_bodies(stack, delete=True))
    assert first == second and len(set(first)) == 3
    assert all(i.startswith("bulk-") and i.rsplit("-", 1)[1] in ("2", "3", "4") for i in first)


def test_a_csv_in_cp949_without_header_carries_alimtalk_columns(stack, cli, tmp_path):
    # Given a CSV as Korean Excel writes it (CP949), in the spec's column order plus channel, template
    # and variables; one recipient lost its leading 0 in a number cell; the AlimTalk texts are left empty
    f = tmp_path / "alimtalk.csv"
    with f.open("w", encoding="cp949", newline="") as out:
        w = csv.writer(out)
        w.writerow(["", "1011112222", "홍길동", "", "", "", SHORT])
        w.writerow(["", "010-2222-3333", "홍길동", "", "", "", "", "alimtalk", "A1111", "name=홍길동; order=1234"])
        w.writerow(["", "01033334444", "이영희", "", "", "", "", "", "A2222", '{"service": "Shop", "code": 123456}'])
    # When it is sent and dispatched
    r = cli("send-bulk", str(f))
    assert r.code == 0, r.out + r.err
    assert "1 phone number(s) had lost their leading 0" in r.out
    stack.drain()
    # Then the SMS went to the restored number and both AlimTalks carry their filled templates
    by_phone = {m["dest_phone"]: m for m in stack.sandbox.messages()}
    assert by_phone["01011112222"]["kind"] == "sms"
    a1 = by_phone["01022223333"]
    assert (a1["kind"], a1["template_code"], a1["template_matched"]) == ("kko", "A1111", True)
    assert a1["msg_body"].startswith("홍길동님, 주문하신 상품이 발송되었습니다.")
    assert a1["buttons"][0]["url_mobile"] == "https://shop.example/o/1234"
    assert by_phone["01033334444"]["msg_body"] == "[Shop] 인증번호는 123456 입니다."


def test_alimtalk_rows_failing_the_template_check_are_invalid(stack, cli, tmp_path):
    # Given a header naming template columns and one column per variable; row 3 lacks #{order}
    header = ["수신자번호", "템플릿코드", "#{name}", "#{order}"]
    f = xlsx(
        tmp_path / "t.xlsx", [["01012345678", "A1111", "홍길동", "1"], ["01012345679", "A1111", "홍길동", None]], header
    )
    r = cli("send-bulk", str(f))
    assert r.code == 2
    assert "row 3: template check: alimtalk.variables: missing 'order'" in r.out
    assert depth(stack) == 0


def test_a_dry_run_validates_and_enqueues_nothing(stack, cli, tmp_path):
    r = cli("send-bulk", str(xlsx(tmp_path / "d.xlsx", GOOD)), "--dry-run")
    assert r.code == 0 and "3 row(s) would be enqueued" in r.out
    assert depth(stack) == 0


def test_an_unknown_header_is_bad_usage(stack, cli, tmp_path):
    r = cli("send-bulk", str(xlsx(tmp_path / "h.xlsx", GOOD, ["수신자번호", "내용", "메모"])))
    assert r.code == 2 and "unknown column '메모'" in r.err


def test_the_queue_is_found_through_the_stack_outputs(stack, cli, tmp_path):
    # When only the stack name is given, the queue comes from DescribeStacks' QueueUrl output
    r = cli("send-bulk", str(xlsx(tmp_path / "s.xlsx", GOOD[:1])), resolve="stack")
    assert r.code == 0, r.err
    assert depth(stack) == 1


# ------------------------------------------------------------------ status


def test_status_prints_the_record_of_a_bulk_row(stack, cli, tmp_path):
    # Given a row sent and dispatched
    assert cli("send-bulk", str(xlsx(tmp_path / "one.xlsx", GOOD[1:2])), "--id-prefix", "status-test").code == 0
    stack.drain()
    # When an operator looks it up by its id (row 2)
    r = cli("status", "status-test-2")
    # Then the record shows its status, channels, cmid, schedule, attempts and metadata
    assert r.code == 0, r.err
    assert "status-test-2" in r.out
    lines = {line[:16].strip(): line[16:] for line in r.out.splitlines()}
    assert lines["status"].startswith("sent: the provider accepted it")
    assert lines["channel"].startswith("asked auto, used lms")
    assert lines["scheduled for"] == "2099-12-01 09:00:00 KST"
    assert lines["cmid"].isdigit() and '"row": 2' in lines["metadata"] and lines["attempts"].startswith("1")
    as_json = json.loads(cli("status", "status-test-2", "--json").out)
    assert as_json["status"] == "sent" and as_json["metadata"]["source"] == "send-bulk"


def test_status_of_an_unknown_id_is_exit_1(stack, cli):
    r = cli("status", "no-such-id")
    assert r.code == 1 and "no record with id 'no-such-id'" in r.err


def test_status_since_counts_records_per_status(stack, cli, tmp_path):
    # Given two rows sent and one record rejected by the dispatcher (an invalid event from a producer)
    assert cli("send-bulk", str(xlsx(tmp_path / "c.xlsx", GOOD[:2])), "--id-prefix", "count-test").code == 0
    stack.publish([json.dumps({"id": "count-test-bad", "to": "123", "text": "x"})])
    stack.drain()
    # When the counts of the last hour are asked for
    r = cli("status", "--since", "1h")
    # Then they match the table, per status, with the cost of the scan said
    assert r.code == 0, r.err
    records = stack.records()
    for status in ("sent", "rejected"):
        n = sum(1 for rec in records if rec["status"] == status)
        assert f"  {status:<10} {n:>8,}" in r.out
    assert f"{len(records):,} items read" in r.out
    # And nothing was accepted in the future
    assert "records accepted since" in cli("status", "--since", "2099-01-01T00:00:00").out
    assert json.loads(cli("status", "--since", "2099-01-01T00:00:00", "--json").out)["total"] == 0


def test_status_takes_an_id_or_since_not_both(stack, cli):
    assert cli("status", "x", "--since", "1h").code == 2
    assert cli("status", "--since", "yesterday").code == 2
