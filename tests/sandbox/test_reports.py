"""Reports: null-ish until ready (report_delay_s after acceptance or after send_time), then the outcome."""

from __future__ import annotations

import re

import pytest

from devstack.sandbox import Sandbox, SandboxConfig

from .conftest import CLIENT, KEY, PHONE, REPORT_DELAY, SENDER, Api, FakeClock

PPURIO_REPORT = "/ppurio/1/message/report/{client_id}"
KKO_REPORT = "/kko/1/report/{client_id}"
NOT_READY = {"result_code": "200", "result_message": "result is null"}
SHIPPED = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."


def test_a_ppurio_report_is_result_is_null_until_the_delay_has_passed(api: Api, clock: FakeClock) -> None:
    # Given an SMS just accepted, whose recipient is pinned to "delivered"
    api.sandbox.force_outcome(PHONE, call_status="4100")
    cmid = api.sms()["cmid"]
    # When the report is asked for before the delay
    clock.advance(REPORT_DELAY - 0.1)
    early = api.get(PPURIO_REPORT, {"cmid": cmid})
    # Then it is not there yet; after the delay it is one object with the spec's fields
    assert early == NOT_READY
    clock.advance(0.1)
    report = api.get(PPURIO_REPORT, {"cmid": cmid})
    assert set(report) == {"dest_phone", "report_time", "call_status", "umid"}
    assert report["dest_phone"] == PHONE
    assert report["call_status"] == "4100"
    assert report["report_time"] == "20261123120005"  # KST, yyyyMMddHHmmss
    assert re.fullmatch(r"apisto_\w+", report["umid"])


@pytest.mark.parametrize(("style", "body"), [("null", b"null"), ("empty", b"")])
def test_the_not_ready_reply_style_is_configurable(api: Api, style: str, body: bytes) -> None:
    status, _ = api.inspect("config", {"report_pending": style})
    assert status == 200
    cmid = api.sms()["cmid"]
    response = api.raw("GET", PPURIO_REPORT, {"cmid": cmid})
    assert (response.status, response.data) == (200, body)


def test_a_scheduled_message_reports_only_after_its_send_time_in_korea_time(api: Api, clock: FakeClock) -> None:
    # Given an SMS scheduled one hour ahead (clock is 2026-11-23 12:00 KST)
    cmid = api.sms(send_time="20261123130000")["cmid"]
    # Then its report is not ready an hour later, but is ready the delay after 13:00 KST
    clock.advance(3600)
    assert api.get(PPURIO_REPORT, {"cmid": cmid}) == NOT_READY
    clock.advance(REPORT_DELAY)
    assert api.get(PPURIO_REPORT, {"cmid": cmid})["report_time"] == "20261123130005"


def test_a_send_time_in_the_past_is_sent_now(api: Api, clock: FakeClock) -> None:
    cmid = api.sms(send_time="20200101000000")["cmid"]
    clock.advance(REPORT_DELAY)
    assert "call_status" in api.get(PPURIO_REPORT, {"cmid": cmid})


@pytest.mark.parametrize(
    ("kind", "delivered", "codes"),
    [("sms", "4100", {"4100", "4410", "4401"}), ("lms", "6600", {"6600", "6606", "6604"})],
)
def test_default_outcomes_are_mostly_delivered_with_real_failure_codes_per_message_type(
    api: Api, clock: FakeClock, kind: str, delivered: str, codes: set[str]
) -> None:
    cmids = [api.sms(kind, dest_phone=f"010000000{n:02d}")["cmid"] for n in range(40)]
    clock.advance(REPORT_DELAY)
    seen = [api.get(PPURIO_REPORT, {"cmid": c})["call_status"] for c in cmids]
    assert set(seen) <= codes
    assert seen.count(delivered) > len(seen) / 2


def test_an_sms_converted_to_lms_reports_with_lms_codes(api: Api, clock: FakeClock) -> None:
    api.sandbox.set_outcome_mix("lms", {"6600": 1.0})
    cmid = api.sms(msg_body="가" * 60)["cmid"]
    clock.advance(REPORT_DELAY)
    assert api.get(PPURIO_REPORT, {"cmid": cmid})["call_status"] == "6600"


def test_a_forced_outcome_pins_the_report_of_that_recipient(api: Api, clock: FakeClock) -> None:
    # Given a wrong-number outcome forced through the inspection API
    status, _ = api.inspect("outcomes", {"phone": "01000000001", "call_status": "4410"})
    assert status == 200
    # When SMS go to that number and to another
    pinned = api.sms(dest_phone="01000000001")["cmid"]
    api.sandbox.force_outcome("01000000002", call_status="4100")
    other = api.sms(dest_phone="01000000002")["cmid"]
    clock.advance(REPORT_DELAY)
    # Then each report says what was forced
    assert api.get(PPURIO_REPORT, {"cmid": pinned})["call_status"] == "4410"
    assert api.get(PPURIO_REPORT, {"cmid": other})["call_status"] == "4100"


def test_a_recipient_forced_pending_never_gets_a_report(api: Api, clock: FakeClock) -> None:
    api.sandbox.force_outcome(PHONE, pending=True)
    cmid = api.sms()["cmid"]
    clock.advance(86_400)
    assert api.get(PPURIO_REPORT, {"cmid": cmid}) == NOT_READY


def test_an_unknown_cmid_gets_the_null_ish_reply_and_a_missing_cmid_is_300(api: Api) -> None:
    assert api.get(PPURIO_REPORT, {"cmid": "20990101000000000001"}) == NOT_READY
    assert api.get(KKO_REPORT, {"CMID": "20990101000000000001"}) == NOT_READY
    assert api.get(PPURIO_REPORT)["result_code"] == "300"


def test_an_alimtalk_report_is_not_ready_then_waiting_then_sent_then_result_with_mixed_case_keys(
    api: Api, clock: FakeClock
) -> None:
    # Given an AlimTalk just accepted, whose recipient is pinned to "delivered"
    api.sandbox.force_outcome(PHONE, rslt="0")
    cmid = api.kko()["cmid"]
    # When its report is asked for at once, then a quarter, half and all of the report delay later
    at_once = api.get(KKO_REPORT, {"CMID": cmid})
    clock.advance(REPORT_DELAY / 4)
    waiting = api.get(KKO_REPORT, {"CMID": cmid})
    clock.advance(REPORT_DELAY / 4)
    sent = api.get(KKO_REPORT, {"cmid": cmid})
    clock.advance(REPORT_DELAY / 2)
    done = api.get(KKO_REPORT, {"CMID": cmid})
    # Then it is first the not-ready reply (as the ppurio report is), then STATUS 1, 2 and 3 with the result
    assert at_once == NOT_READY
    assert (waiting["STATUS"], sent["STATUS"], done["STATUS"]) == ("1", "2", "3")
    assert (waiting["RSLT"], sent["RSLT"]) == ("", "")
    assert done == {"STATUS": "3", "CMID": cmid, "RSLT": "0", "phone": PHONE, "callback": SENDER, "msg_rslt": "00"}


def test_an_alimtalk_report_asked_at_once_takes_the_configured_not_ready_style(api: Api) -> None:
    api.sandbox.configure(report_pending="null")
    cmid = api.kko()["cmid"]
    response = api.raw("GET", KKO_REPORT, {"CMID": cmid})
    assert (response.status, response.data) == (200, b"null")


def test_a_scheduled_alimtalk_is_waiting_with_status_1_until_its_reqdate(api: Api, clock: FakeClock) -> None:
    # Given an AlimTalk scheduled an hour ahead (clock is 2026-11-23 12:00 KST)
    cmid = api.kko(REQDATE="20261123130000")["cmid"]
    # Then it is STATUS 1 through the wait, and its result comes the report delay after 13:00 KST
    clock.advance(3599)
    assert api.get(KKO_REPORT, {"CMID": cmid})["STATUS"] == "1"
    clock.advance(1 + REPORT_DELAY)
    assert api.get(KKO_REPORT, {"CMID": cmid})["STATUS"] in ("3", "4")


@pytest.mark.parametrize(
    ("outcome", "fallback", "status"),
    [
        ({"rslt": "0"}, {}, "3"),
        ({"rslt": "A", "msg_rslt": "00"}, {"FAILED_TYPE": "SMS", "FAILED_MSG": "대체 문자"}, "3"),
        ({"rslt": "A", "msg_rslt": "E"}, {"FAILED_TYPE": "SMS", "FAILED_MSG": "대체 문자"}, "4"),
        ({"rslt": "A"}, {"FAILED_TYPE": "N"}, "4"),
        ({"rslt": "U", "msg_rslt": "F"}, {"FAILED_TYPE": "SMS", "FAILED_MSG": "대체 문자"}, "4"),
    ],
    ids=["by kakao", "by the fallback sms", "fallback failed", "no fallback", "template mismatch"],
)
def test_a_final_alimtalk_report_is_status_3_when_delivered_and_4_when_nothing_reached_the_phone(
    api: Api, clock: FakeClock, outcome: dict[str, str], fallback: dict[str, str], status: str
) -> None:
    api.sandbox.force_outcome(PHONE, **outcome)
    cmid = api.kko(**fallback)["cmid"]
    clock.advance(REPORT_DELAY)
    report = api.get(KKO_REPORT, {"CMID": cmid})
    assert (report["STATUS"], report["RSLT"]) == (status, outcome["rslt"])


def test_a_message_not_matching_its_template_fails_with_status_4_and_rslt_u(api: Api, clock: FakeClock) -> None:
    # Given an AlimTalk accepted although its text differs from the approved template, with no fallback
    reply = api.kko(TEMPLATE_CODE="A2222", MSG="[Shop] 템플릿과 다른 내용", FAILED_TYPE="N")
    assert reply["result_code"] == "200"
    clock.advance(REPORT_DELAY)
    # Then the report fails it: STATUS 4, RSLT U (NO_MATCHED_TEMPLATE)
    report = api.get(KKO_REPORT, {"CMID": reply["cmid"]})
    assert (report["STATUS"], report["RSLT"], report["msg_rslt"]) == ("4", "U", "")


@pytest.mark.parametrize(
    ("fallback", "msg_rslt"),
    [({"FAILED_TYPE": "SMS", "FAILED_MSG": "대체 문자"}, "00"), ({"FAILED_TYPE": "N"}, "")],
    ids=["with SMS fallback", "no fallback"],
)
def test_a_non_kakao_user_gets_the_fallback_sms_only_when_one_was_given(
    api: Api, clock: FakeClock, fallback: dict[str, str], msg_rslt: str
) -> None:
    api.sandbox.force_outcome(PHONE, rslt="A")
    cmid = api.kko(**fallback)["cmid"]
    clock.advance(REPORT_DELAY)
    report = api.get(KKO_REPORT, {"CMID": cmid})
    assert (report["RSLT"], report["msg_rslt"]) == ("A", msg_rslt)


def test_a_forced_fallback_result_shows_in_msg_rslt(api: Api, clock: FakeClock) -> None:
    status, _ = api.inspect("outcomes", {"phone": PHONE, "rslt": "A", "msg_rslt": "E"})
    assert status == 200
    cmid = api.kko(FAILED_TYPE="SMS", FAILED_MSG="대체 문자")["cmid"]
    clock.advance(REPORT_DELAY)
    assert api.get(KKO_REPORT, {"CMID": cmid})["msg_rslt"] == "E"


def test_a_message_not_matching_its_template_fails_in_the_report_with_rslt_u(api: Api, clock: FakeClock) -> None:
    cmid = api.kko(
        TEMPLATE_CODE="A1111",
        MSG="다른 내용",
        BTN_TYPES="웹링크",
        BTN_TXTS="배송조회",
        BTN_URLS1="https://shop.example/o/1",
    )["cmid"]
    clock.advance(REPORT_DELAY)
    assert api.get(KKO_REPORT, {"CMID": cmid})["RSLT"] == "U"


def test_a_msg_test_cmid_has_no_report(api: Api, clock: FakeClock) -> None:
    cmid = api.kko("msg_test")["cmid"]
    clock.advance(REPORT_DELAY)
    assert api.get(KKO_REPORT, {"CMID": cmid}) == NOT_READY


def test_a_ppurio_cmid_is_not_an_alimtalk_report_and_vice_versa(api: Api, clock: FakeClock) -> None:
    sms, kko = api.sms()["cmid"], api.kko()["cmid"]
    clock.advance(REPORT_DELAY)
    assert api.get(KKO_REPORT, {"CMID": sms}) == NOT_READY
    assert api.get(PPURIO_REPORT, {"cmid": kko}) == NOT_READY


def outcomes_with_seed(seed: int) -> list[tuple[str, str]]:
    clock = FakeClock()
    config = SandboxConfig(api_key=KEY, client_id=CLIENT, seed=seed, report_delay_s=0, clock=clock)
    config.outcome_mix = {"sms": {"4100": 1, "4410": 1, "4401": 1}, "kko": {"0": 1, "A": 1}}
    with Sandbox(config) as sb:
        api = Api(sb)
        for _ in range(10):
            api.sms()
            api.kko()
        return [(m["cmid"], m["outcome"].get("call_status") or m["outcome"]["rslt"]) for m in sb.messages()]


def test_with_a_seed_each_cmid_gets_the_same_outcome_every_run() -> None:
    first, again, other = outcomes_with_seed(1), outcomes_with_seed(1), outcomes_with_seed(2)
    assert first == again
    assert first != other
    assert len({outcome for _, outcome in first}) > 2
