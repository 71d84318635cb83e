"""`make run`, whole: the command a new user types, in a subprocess, with its printed table read back,
once per provider (`make run` and `PROVIDER=solapi make run`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from devstack.localaws import load_template
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
# SOLAPI has no test endpoint for AlimTalk (API Store's msg_test): a test-mode AlimTalk is refused.
SOLAPI_TEST_MODE_REASON = "SOLAPI has no test send for AlimTalk"
# The provider's id of an accepted message: API Store's cmid, SOLAPI's messageId.
MESSAGE_ID = {"apistore": r"\d{16,22}", "solapi": r"M4V\d{14}[0-9A-Z]{15}"}
PROVIDERS = ("apistore", "solapi")


def expected(provider: str) -> dict[str, tuple[str, str, str]]:
    if provider == "solapi":
        return {**EXPECTED, "sample-alimtalk-test-mode": ("alimtalk", "alimtalk", "rejected")}
    return EXPECTED


@pytest.fixture(scope="module", params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def run_output(provider: str) -> str:
    env = {**os.environ, "PROVIDER": provider}
    proc = subprocess.run(
        [sys.executable, "-m", "devstack.run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the run says which provider it went through
    assert re.search(rf"^  provider\s+{provider}\b", proc.stdout, re.M), proc.stdout[:500]
    return proc.stdout


STATUSES = {"sending", "sent", "delivered", "failed", "rejected", "unknown"}
POLLER_STARTS = "running the report poller"
FINAL_STARTS = "final status, after the delivery reports:"
EVENTS_START = "EventBridge events on the bus"


def rows(output: str) -> dict[str, list[str]]:
    """The table printed after dispatching: id, asked, used, status, cmid, reason."""
    table = {}
    for line in output.split(POLLER_STARTS, 1)[0].splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) >= 4 and cells[3] in STATUSES:
            table[cells[0]] = cells
    return table


def final_rows(output: str) -> dict[str, list[str]]:
    """The table printed after the poller: id, used, status, report code, reason."""
    table = {}
    for line in output.split(FINAL_STARTS, 1)[1].split(EVENTS_START, 1)[0].splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) >= 3 and cells[2] in STATUSES:
            table[cells[0]] = cells
    return table


def published(output: str) -> list[list[str]]:
    """The EventBridge events: detail-type, id, status, via, fallback."""
    section = output.split(EVENTS_START, 1)[1].split("after the poller:", 1)[0]
    return [
        cells
        for line in section.splitlines()
        if (cells := re.split(r"\s{2,}", line.strip()))[0].startswith("Notification ")
    ]


def test_every_sample_event_reaches_its_expected_status(run_output, provider):
    table = rows(run_output)
    for rid, (asked, used, status) in expected(provider).items():
        assert table[rid][1:4] == [asked, used, status], (rid, table.get(rid))


def test_sent_samples_carry_the_providers_message_id_and_rejected_ones_a_reason(run_output, provider):
    table = rows(run_output)
    for rid, (_, _, status) in expected(provider).items():
        if status == "sent":
            assert re.fullmatch(MESSAGE_ID[provider], table[rid][4]), table[rid]
        elif rid == "sample-alimtalk-test-mode":
            assert table[rid][5] == SOLAPI_TEST_MODE_REASON, table[rid]
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


def test_the_duplicate_pair_reached_the_provider_once_and_nothing_was_lost(run_output, provider):
    summary = next(line for line in run_output.splitlines() if " records (" in line)
    # 17 messages: a duplicate pair collapses to one record; 10 sends reach a phone (the test-mode
    # AlimTalk is validated by API Store and delivered nowhere, refused for SOLAPI; two AlimTalks
    # went out as SMS)
    counts = {"apistore": "rejected 5, sent 11", "solapi": "rejected 6, sent 10"}[provider]
    assert summary.startswith(f"16 records ({counts})"), summary
    assert "the sandbox accepted 10 messages; DLQ holds 0" in summary


def test_the_dropped_duplicate_is_named_with_the_reason(run_output):
    # Given the samples' pair of messages with one id
    # Then the run says which message was dropped and why, from the dispatcher's own account
    lines = run_output.splitlines()
    at = lines.index("dropped 1 message, sent at most once per id:")
    assert re.fullmatch(
        r"  sample-duplicate-shipped: a second message with this id, acknowledged without a send: "
        r"the id was already claimed \(record (sending|sent)\)",
        lines[at + 1],
    ), lines[at + 1]


def test_only_the_outcomes_staged_on_purpose_are_marked_staged(run_output):
    # Given the final table and the outcomes the run told the sandbox to give
    staged = {rid for rid, cells in final_rows(run_output).items() if cells[4].startswith("staged: ")}

    # Then exactly the wrong number and the phone without KakaoTalk are marked, and the mark is explained
    assert staged == {"sample-duplicate-shipped", "sample-alimtalk-provider-fallback"}
    assert any(line.startswith("staged: the sandbox was told to give that report") for line in run_output.splitlines())


def test_the_handler_logs_hold_no_key_and_no_whole_phone_number(run_output):
    log = (ROOT / ".local" / "run.log").read_text()
    assert '"message":"sent"' in log
    assert "sbx-" not in log  # every local API Store key starts with sbx-
    assert not re.search(r"NCS[0-9A-F]{16}", log)  # and every local SOLAPI key with NCS
    assert not re.search(r"(?<!\d)010\d{8}(?!\d)", log)


# -- after the report poller ----------------------------------------------------------------------

FINAL = {
    # id: (delivered via / channel used, status, report code, reason starts with)
    "sample-sms-otp": ("sms", "delivered", "4100", "delivered by SMS (report 4100)"),
    "sample-auto-receipt": ("lms", "delivered", "6600", "delivered by LMS (report 6600)"),
    "sample-sms-too-long": ("lms", "delivered", "6600", "delivered by LMS (report 6600)"),
    "sample-mms-coupon": ("mms", "delivered", "6600", "delivered by MMS (report 6600)"),
    "sample-duplicate-shipped": ("sms", "failed", "4410", "staged: report 4410: 잘못된번호"),
    "sample-alimtalk-shipped": ("alimtalk", "delivered", "0", "delivered by AlimTalk (report 0)"),
    "sample-alimtalk-provider-fallback": (
        "sms", "delivered", "A/00",
        "staged: delivered by the fallback SMS after the AlimTalk failed (AlimTalk RSLT A: NO_USER",
    ),
    "sample-alimtalk-app-fallback": ("sms", "delivered", "4100", "delivered by SMS (report 4100), sent by the app"),
    "sample-alimtalk-unknown-template": ("sms", "delivered", "4100", "delivered by SMS (report 4100), sent by the app"),
    # never polled: a scheduled message before its send time, and a test send that delivers nothing
    "sample-scheduled-reminder": ("sms", "sent", "-", "waiting for its send time; first report poll at 2030-01-15 09:01 KST"),
    "sample-alimtalk-test-mode": ("alimtalk", "sent", "-", "test mode (msg_test)"),
}  # fmt: skip
# The same samples through SOLAPI: its status codes (4000 delivered, 3032 미가입자, 3104 not a KakaoTalk
# user), and the test-mode AlimTalk refused at once (the rejected samples are checked apart).
SOLAPI_FINAL = {
    **{rid: (via, status, "4000", re.sub(r"\(report \d+\)", "(report 4000)", reason))
       for rid, (via, status, code, reason) in FINAL.items() if code in ("4100", "6600", "0")},
    "sample-duplicate-shipped": ("sms", "failed", "3032", "staged: report 3032: 3032 미가입자"),
    "sample-alimtalk-provider-fallback": (
        "sms", "delivered", "3104/4000",
        "staged: delivered by the fallback SMS after the AlimTalk failed (AlimTalk 3104 카카오톡 미사용자",
    ),
    "sample-scheduled-reminder": FINAL["sample-scheduled-reminder"],
}  # fmt: skip


def final(provider: str) -> dict[str, tuple[str, str, str, str]]:
    return SOLAPI_FINAL if provider == "solapi" else FINAL


def test_the_poller_settles_every_sent_sample_with_its_report(run_output, provider):
    # Given make run's table after the poller ran on its schedule
    table = final_rows(run_output)

    # Then each sample that was sent has its final status, report code and reason
    assert len(final(provider)) == len(FINAL) - (provider == "solapi")
    for rid, (via, status, code, reason) in final(provider).items():
        assert table[rid][1:4] == [via, status, code], (rid, table.get(rid))
        assert table[rid][4].startswith(reason), (rid, table[rid][4])


def test_rejected_samples_stay_rejected_after_the_poller(run_output):
    before, after = rows(run_output), final_rows(run_output)
    assert {rid for rid, cells in before.items() if cells[3] == "rejected"} == {
        rid for rid, cells in after.items() if cells[2] == "rejected"
    }


def test_the_poller_backs_off_before_the_report_is_ready(run_output):
    # Given reports ready 90 s after the send, and the first poll a minute after it
    ticks = re.findall(r"tick\s+(\d+)\s+\+(\d+) min\s+read (\d+), polled (\d+): (.*)", run_output)

    # Then the tick at 1 minute finds the 9 polled reports pending, the next poll is 2 minutes later
    # (the tick in between reads nothing), and it finds every one final
    assert ticks == [("1", "1", "9", "9", "pending 9"), ("3", "3", "9", "9", "delivered 8, failed 1")]


def test_one_eventbridge_event_per_terminal_transition(run_output, provider):
    # Given the events the tap rule received, and the final table
    events = published(run_output)
    table = final_rows(run_output)
    terminal = {
        rid.removesuffix(" (sqs id)"): cells[2]
        for rid, cells in table.items()
        if cells[2] in {"delivered", "failed", "rejected", "unknown"}
    }

    # Then every terminal record was published exactly once, with the matching detail-type, and the
    # test-mode send accepted by API Store once as "Notification Tested" (it has no report to wait for)
    tested = {"sample-alimtalk-test-mode": "sent"} if provider == "apistore" else {}
    published_ids = {**terminal, **tested}
    assert sorted(e[1] for e in events) == sorted(published_ids)
    for detail_type, rid, status, *_ in events:
        word = "Tested" if rid in tested else status.title()
        assert detail_type == f"Notification {word}" and published_ids[rid] == status
    # And the AlimTalk routes say which way the message went
    by_id = {e[1]: e for e in events}
    assert by_id["sample-alimtalk-provider-fallback"][3:] == ["sms", "used"]
    assert by_id["sample-alimtalk-shipped"][3:] == ["alimtalk", "unused"]
    assert by_id["sample-alimtalk-app-fallback"][3:] == ["sms", "app"]


def test_the_final_summary_counts_every_record_and_event(run_output, provider):
    summary = next(line for line in run_output.splitlines() if line.startswith("after the poller:"))
    counts = {"apistore": "rejected 5, sent 2", "solapi": "rejected 6, sent 1"}[provider]
    assert summary.startswith(f"after the poller: 16 records (delivered 8, failed 1, {counts}); 3 ticks"), summary
    assert "15 EventBridge events" in summary


# -- the choice of provider, without a stack --------------------------------------------------------


def test_provider_env_picks_the_template_parameter_and_a_wrong_name_is_refused_naming_the_choices():
    from devstack.stack import provider_from_env

    # Given PROVIDER unset, set to each provider, and misspelt
    # Then unset is the template's default (what sam deploy would deploy), a provider is the Provider parameter
    default = load_template(ROOT / "template.yaml")["Parameters"]["Provider"]["Default"]
    assert provider_from_env({}) == {"Provider": default}
    assert provider_from_env({"PROVIDER": "solapi"}) == {"Provider": "solapi"}
    assert provider_from_env({"PROVIDER": "apistore"}) == {"Provider": "apistore"}
    # And a misspelt one stops the command with the variable, the choices and the value
    with pytest.raises(SystemExit, match=r"PROVIDER: must be one of apistore, solapi, not 'sol-api'"):
        provider_from_env({"PROVIDER": "sol-api"})
