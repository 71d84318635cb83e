"""Reading delivery reports (domain, pure): every row of both report code tables, every shape of
"not ready yet", the back-off schedule and the 72-hour rule.

The code rows are the spec transcriptions of test_codes.py (written from the spec text, not from the
module), so a wrong mapping here is caught against the spec, not against itself.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain import reports
from notifier.domain.reports import Final, NoReport, Pending
from notifier.providers.apistore import reports as apistore_reports
from tests.unit.test_codes import MSG_RSLT_ROWS, PPURIO_ROWS, RSLT_ROWS

DELIVERED_CALL_STATUS = {"4100", "6600"}
MSG_RSLT_OK = {"0", "00"}


def ppurio_body(call_status: str) -> dict[str, str]:
    return {
        "dest_phone": "01012345678",
        "report_time": "20261122180501",
        "call_status": call_status,
        "umid": "apisto_A1",
    }


def kko_body(status: str = "3", rslt: str = "", msg_rslt: str = "") -> dict[str, str]:
    # As the live server sent it: STATUS, CMID, RSLT upper case; phone, callback, msg_rslt lower case.
    return {
        "STATUS": status,
        "CMID": "2026112218000000001",
        "RSLT": rslt,
        "phone": "01012345678",
        "callback": "0212345678",
        "msg_rslt": msg_rslt,
    }


# -- ppurio: call_status ------------------------------------------------------------------------


@pytest.mark.parametrize(("group", "code", "text"), PPURIO_ROWS, ids=[r[1] for r in PPURIO_ROWS])
def test_each_call_status_row_becomes_delivered_or_failed_with_the_spec_reason(group, code, text) -> None:
    # Given a report carrying a call_status row of the appendix
    channel = "sms" if group == "SMS" else "lms"

    # When it is read
    report = apistore_reports.ppurio(ppurio_body(code), channel)

    # Then 4100 and 6600 are delivered (by the channel sent), everything else failed; code and reason kept
    assert isinstance(report, Final)
    assert report.status == ("delivered" if code in DELIVERED_CALL_STATUS else "failed")
    assert (report.report_code, report.report_reason) == (code, text)
    assert report.delivered_via == (channel if code in DELIVERED_CALL_STATUS else None)
    assert report.report_time == "20261122180501"


def test_an_unknown_call_status_is_failed_with_its_code_kept_verbatim() -> None:
    report = apistore_reports.ppurio(ppurio_body("4999"), "sms")
    assert report == Final("failed", "4999", "unknown code", None, report_time="20261122180501",
                           codes={"call_status": "4999"})  # fmt: skip


def test_ppurio_report_keys_are_read_in_any_case_and_values_stripped() -> None:
    # Given a report whose keys are upper case (as the spec's table spells Report_time) and padded values
    body = {"DEST_PHONE": "01012345678", "Report_time": " 20261122180501 ", "CALL_STATUS": " 4410 ", "UMID": "u"}

    # When it is read
    report = apistore_reports.ppurio(body, "sms")

    # Then it is the 4410 row
    assert isinstance(report, Final)
    assert (report.status, report.report_code, report.report_reason) == ("failed", "4410", "잘못된번호")
    assert report.report_time == "20261122180501"


def test_a_numeric_call_status_is_read_as_its_code() -> None:
    report = apistore_reports.ppurio({"call_status": 4100}, "mms")
    assert isinstance(report, Final)
    assert (report.status, report.report_code, report.delivered_via) == ("delivered", "4100", "mms")


# -- not ready yet: every shape the server used --------------------------------------------------

NOT_READY = [
    None,  # JSON null
    "",  # empty body
    "result is null",  # a bare JSON string
    "  ",
    [],
    {"result_code": "200", "result_message": "result is null"},
    {"RESULT_CODE": "200", "RESULT_MESSAGE": "Result Is Null "},
    {},
    {"dest_phone": "01012345678", "umid": "u"},  # no call_status yet
    {"call_status": ""},
    {"call_status": None},
    {"call_status": "  "},
]


@pytest.mark.parametrize("payload", NOT_READY, ids=repr)
def test_a_ppurio_report_that_is_not_ready_leaves_the_record_pending(payload) -> None:
    assert isinstance(apistore_reports.ppurio(payload, "sms"), Pending)


@pytest.mark.parametrize(
    "payload",
    [*NOT_READY[:8], {"STATUS": "3", "RSLT": ""}, {"status": "3"}, kko_body("1"), kko_body("2"), kko_body("2", "", "")],
    ids=repr,
)
def test_a_kko_report_that_is_not_ready_leaves_the_record_pending(payload) -> None:
    assert isinstance(apistore_reports.kko(payload), Pending)


def test_waiting_statuses_say_which_wait() -> None:
    assert apistore_reports.kko(kko_body("1")) == Pending("STATUS 1 (waiting to be sent)")
    assert apistore_reports.kko(kko_body("2")) == Pending("STATUS 2 (sent, waiting for the result)")


@pytest.mark.parametrize("read", [lambda p: apistore_reports.ppurio(p, "sms"), apistore_reports.kko])
def test_an_error_result_code_is_no_report_rather_than_pending(read) -> None:
    # Given the provider's answer to a bad key (business errors come back as HTTP 200)
    report = read({"result_code": "100", "result_message": "User Error"})

    # Then it is an error to count and retry, with the code and the provider's text
    assert isinstance(report, NoReport)
    assert report.code == "100"
    assert "check the API key" in report.reason and "User Error" in report.reason


@pytest.mark.parametrize("read", [lambda p: apistore_reports.ppurio(p, "sms"), apistore_reports.kko])
def test_a_reply_that_is_not_an_object_is_no_report(read) -> None:
    assert read([{"call_status": "4100"}]) == NoReport("bad-reply", "report is not a JSON object (list)")
    assert isinstance(read(42), NoReport)


# -- kko: STATUS, RSLT, MSG_RSLT ----------------------------------------------------------------


@pytest.mark.parametrize(("rslt", "name", "text"), RSLT_ROWS, ids=[r[0] for r in RSLT_ROWS])
@pytest.mark.parametrize("msg_rslt", ["", "00", "0", "2"])
def test_each_rslt_row_with_each_kind_of_fallback_result(rslt, name, text, msg_rslt) -> None:
    # Given a final AlimTalk report (STATUS 3) with an RSLT row and a fallback result (none, ok, ok, failed)
    report = apistore_reports.kko(kko_body("3", rslt, msg_rslt), fallback_kind="lms")

    assert isinstance(report, Final)
    assert f"AlimTalk RSLT {rslt}: {name} {text}" in report.report_reason
    if rslt == "0":
        # Then RSLT 0 is delivered by AlimTalk, whatever MSG_RSLT says
        assert (report.status, report.delivered_via, report.fallback_used) == ("delivered", "alimtalk", False)
        assert report.report_code == "0"
    elif msg_rslt in MSG_RSLT_OK:
        # Then a failed AlimTalk whose fallback SMS got through is delivered, by the fallback, recorded so
        assert (report.status, report.delivered_via, report.fallback_used) == ("delivered", "lms", True)
        assert report.report_code == f"{rslt}/{msg_rslt}"
        assert f"fallback SMS MSG_RSLT {msg_rslt}: E_OK 성공" in report.report_reason
    elif msg_rslt:
        # Then both failed: failed, with both reasons
        assert (report.status, report.delivered_via, report.fallback_used) == ("failed", None, True)
        assert report.report_code == f"{rslt}/{msg_rslt}"
        assert "fallback SMS MSG_RSLT 2: E_INVALID_PHONE 잘못된 전화번호/비가입자" in report.report_reason
    else:
        # Then no fallback was sent: failed, with the AlimTalk reason
        assert (report.status, report.delivered_via, report.fallback_used) == ("failed", None, False)
        assert report.report_code == rslt
        assert report.report_reason.endswith("no fallback SMS was sent")
    assert report.codes == {"status": "3", "rslt": rslt, "msg_rslt": msg_rslt}


@pytest.mark.parametrize(("msg_rslt", "name", "text"), MSG_RSLT_ROWS, ids=[r[0] for r in MSG_RSLT_ROWS])
def test_each_msg_rslt_row_after_a_failed_alimtalk(msg_rslt, name, text) -> None:
    # Given AlimTalk failed because the phone has no KakaoTalk (A) and the provider sent the fallback SMS
    report = apistore_reports.kko(kko_body("3", "A", msg_rslt))

    # Then only MSG_RSLT 0 (E_OK) means the SMS reached the phone; both reasons come from the tables
    assert isinstance(report, Final)
    assert report.status == ("delivered" if msg_rslt in MSG_RSLT_OK else "failed")
    assert (
        report.report_reason
        == f"AlimTalk RSLT A: NO_USER 카카오톡을 미사용자; fallback SMS MSG_RSLT {msg_rslt}: {name} {text}"
    )
    assert report.delivered_via == ("sms" if msg_rslt in MSG_RSLT_OK else None)


def test_msg_rslt_00_as_the_live_server_sent_it_counts_as_the_fallback_delivered() -> None:
    report = apistore_reports.kko({"STATUS": "3", "RSLT": "A", "msg_rslt": "00"})
    assert isinstance(report, Final)
    assert (report.status, report.report_code, report.delivered_via) == ("delivered", "A/00", "sms")


def test_kko_keys_are_read_in_any_case_and_values_stripped() -> None:
    for body in (
        {"status": " 3", "rslt": "0 ", "MSG_RSLT": "00"},
        {"Status": "3", "Rslt": "0", "Msg_Rslt": ""},
        {"STATUS": 3, "RSLT": 0},
    ):
        report = apistore_reports.kko(body)
        assert isinstance(report, Final)
        assert (report.status, report.delivered_via) == ("delivered", "alimtalk"), body


def test_kko_codes_keep_their_case() -> None:
    # 'a' (E_INSUFFICIENT) and 'A' (NO_USER) are different rows: values are stripped, never case-folded
    report = apistore_reports.kko(kko_body("3", "a"))
    assert isinstance(report, Final)
    assert "E_INSUFFICIENT" in report.report_reason and "NO_USER" not in report.report_reason


def test_status_4_is_failed_with_what_reasons_it_gives() -> None:
    with_codes = apistore_reports.kko(kko_body("4", "H", "1"))
    bare = apistore_reports.kko(kko_body("4"))
    assert isinstance(with_codes, Final) and isinstance(bare, Final)
    assert (with_codes.status, with_codes.report_code) == ("failed", "H/1")
    assert "FAILED_TO_SEND_MESSAGE" in with_codes.report_reason and "E_TIMEOUT" in with_codes.report_reason
    assert (bare.status, bare.report_code) == ("failed", "STATUS 4")
    assert bare.report_reason.startswith("provider reported an error (STATUS 4)")


def test_status_4_of_a_template_mismatch_is_failed_even_without_a_fallback_result() -> None:
    # Given the report public clients saw for a message that did not match its template: STATUS 4, RSLT U
    report = apistore_reports.kko(kko_body("4", "U"))
    # Then it is final and failed, with the RSLT as its code and its meaning in the reason
    assert isinstance(report, Final)
    assert (report.status, report.report_code, report.delivered_via) == ("failed", "U", None)
    assert "NO_MATCHED_TEMPLATE" in report.report_reason
    assert report.codes == {"status": "4", "rslt": "U", "msg_rslt": ""}


def test_an_unknown_rslt_is_failed_and_kept_verbatim() -> None:
    report = apistore_reports.kko(kko_body("3", "Z"))
    assert isinstance(report, Final)
    assert (report.status, report.report_code) == ("failed", "Z")
    assert report.report_reason.startswith("AlimTalk RSLT Z: unknown code")


@given(st.one_of(st.none(), st.text(), st.integers(), st.dictionaries(st.text(), st.one_of(st.text(), st.none()))))
def test_reading_any_reply_never_raises(payload) -> None:
    assert isinstance(apistore_reports.ppurio(payload, "sms"), Pending | Final | NoReport)
    assert isinstance(apistore_reports.kko(payload), Pending | Final | NoReport)


# -- back-off --------------------------------------------------------------------------------------


def test_each_record_backs_off_1_2_5_10_then_30_minutes() -> None:
    # Given the dispatcher's first poll one minute after the send
    t, times = reports.FIRST_POLL_S, []
    # When every poll finds no final report
    for polls in range(1, 9):
        times.append(t // 60)
        t += reports.delay_after(polls)
    # Then the polls happen at these minutes after the send
    assert times == [1, 3, 8, 18, 48, 78, 108, 138]


def test_next_poll_never_lands_past_the_report_deadline() -> None:
    deadline = 1_000_000.0
    assert reports.next_poll(deadline - 3600, 4, deadline) == deadline - 1800
    assert reports.next_poll(deadline - 60, 4, deadline) == deadline
    assert reports.next_poll(deadline - 60, 4, None) == deadline - 60 + 1800


# -- the 72-hour rule -----------------------------------------------------------------------------


def test_the_deadline_is_72_hours_after_the_send() -> None:
    record = {"sent_at": "2026-11-22T09:00:00.000Z"}
    deadline = reports.report_deadline(record)
    assert deadline == reports.sent_moment(record) + 72 * 3600
    assert not reports.expired(deadline - 1, deadline)
    assert reports.expired(deadline, deadline)


def test_a_scheduled_message_gets_its_72_hours_from_its_send_time() -> None:
    # Given a message accepted on Nov 22 to be sent on Dec 1 at 09:00 KST (00:00 UTC)
    record = {"sent_at": "2026-11-22T09:00:00.000Z", "scheduled_for": "20261201090000"}
    # Then the 72 hours start on Dec 1
    assert reports.sent_moment(record) == reports._epoch_of_iso("2026-12-01T00:00:00Z")
    assert reports.report_deadline(record, 72) == reports._epoch_of_iso("2026-12-04T00:00:00Z")


def test_a_record_without_a_send_time_never_expires_by_itself() -> None:
    assert reports.report_deadline({}) is None
    assert reports.report_deadline({"sent_at": "garbage", "scheduled_for": "2026"}) is None
    assert not reports.expired(10**12, None)


def test_the_expiry_reason_says_the_rule_and_the_last_answer() -> None:
    assert reports.expiry_reason(72, Pending("not ready (result is null)")) == (
        "no final delivery report within 72 hours of sending (last answer: not ready (result is null))"
    )
    assert "last answer: error timeout: slow" in reports.expiry_reason(72, NoReport("timeout", "slow"))
