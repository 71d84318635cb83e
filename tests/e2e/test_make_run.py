"""`make run`, whole: the command a new user types, in a subprocess, with its printed table read back."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from devstack.stack import ROOT

pytestmark = pytest.mark.e2e

EXPECTED = {
    # id: (channel asked, channel used, status)
    "sample-sms-otp": ("sms", "sms", "sent"),
    "sample-auto-receipt": ("auto", "lms", "sent"),
    "sample-sms-too-long": ("sms", "lms", "sent"),
    "sample-mms-coupon": ("mms", "mms", "sent"),
    "sample-scheduled-reminder": ("auto", "sms", "sent"),
    "sample-duplicate-shipped": ("auto", "sms", "sent"),
    "sample-invalid-phone": ("-", "-", "rejected"),
    "sample-invalid-charset": ("-", "-", "rejected"),
    "sample-alimtalk-shipped": ("alimtalk", "alimtalk", "sent"),
    "sample-alimtalk-provider-fallback": ("alimtalk", "alimtalk", "sent"),
    "sample-alimtalk-app-fallback": ("alimtalk", "sms", "sent"),
    "sample-alimtalk-unknown-template": ("alimtalk", "sms", "sent"),
    "sample-alimtalk-missing-variable": ("alimtalk", "alimtalk", "rejected"),
    "sample-alimtalk-test-mode": ("alimtalk", "alimtalk", "sent"),
}


@pytest.fixture(scope="module")
def run_output() -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "devstack.run"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def rows(output: str) -> dict[str, list[str]]:
    table = {}
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) >= 4 and cells[3] in {"sending", "sent", "delivered", "failed", "rejected", "unknown"}:
            table[cells[0]] = cells
    return table


def test_every_sample_event_reaches_its_expected_status(run_output):
    table = rows(run_output)
    for rid, (asked, used, status) in EXPECTED.items():
        assert table[rid][1:4] == [asked, used, status], (rid, table.get(rid))


def test_sent_samples_carry_a_cmid_and_rejected_ones_a_reason(run_output):
    table = rows(run_output)
    for rid, (_, _, status) in EXPECTED.items():
        if status == "sent":
            assert re.fullmatch(r"\d{16,22}", table[rid][4]), table[rid]
        elif rid.startswith("sample-alimtalk"):
            assert table[rid][5].startswith("alimtalk.variables: missing 'order'"), table[rid]
        else:
            assert len(table[rid]) == 6 and table[rid][5], table[rid]
    assert table["sample-invalid-charset"][5].startswith("text: character '똠' (U+B620) at position 1")


def test_bodies_without_an_id_are_rejected_under_their_sqs_message_id(run_output):
    by_sqs_id = [cells for rid, cells in rows(run_output).items() if rid.endswith("(sqs id)")]
    reasons = sorted(cells[5] for cells in by_sqs_id)
    assert len(by_sqs_id) == 2
    assert reasons[0].startswith("body: not valid JSON")
    assert reasons[1].startswith("id: required")


def test_the_duplicate_pair_reached_the_provider_once_and_nothing_was_lost(run_output):
    summary = next(line for line in run_output.splitlines() if " records (" in line)
    # 17 messages: a duplicate pair collapses to one record; 10 sends reach a phone (the test-mode
    # AlimTalk is validated by the provider and delivered nowhere; two AlimTalks went out as SMS)
    assert summary.startswith("16 records (rejected 5, sent 11)")
    assert "the sandbox accepted 10 messages; DLQ holds 0" in summary


def test_the_handler_logs_hold_no_key_and_no_whole_phone_number(run_output):
    log = (ROOT / ".local" / "run.log").read_text()
    assert '"message":"sent"' in log
    assert "sbx-" not in log  # every local key starts with sbx-
    assert not re.search(r"(?<!\d)010\d{8}(?!\d)", log)
