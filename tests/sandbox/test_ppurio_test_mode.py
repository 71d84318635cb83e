"""ppurio's test mode, /ppurio_test/1/message_test/{sms,lms,mms,report}/{client_id}: validated and answered
as the real endpoints do, nothing delivered or charged, reports answered for its own cmids."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .conftest import PHONE, REPORT_DELAY, SENDER, Api, FakeClock
from .test_mms import jpg

TEST_SEND = "/ppurio_test/1/message_test/{kind}/{{client_id}}"
REAL_SEND = "/ppurio/1/message/{kind}/{{client_id}}"
TEST_REPORT = "/ppurio_test/1/message_test/report/{client_id}"
REAL_REPORT = "/ppurio/1/message/report/{client_id}"
NOT_READY = {"result_code": "200", "result_message": "result is null"}
GOOD = {"send_phone": SENDER, "dest_phone": PHONE, "msg_body": "테스트 발송입니다."}


def send(api: Api, path: str, kind: str = "sms", **fields: Any) -> dict[str, Any]:
    body = {**GOOD, **fields}
    return api.post(path.format(kind=kind), {k: v for k, v in body.items() if v is not None})


def test_a_test_send_is_accepted_with_a_cmid_and_nothing_is_delivered_or_charged(api: Api) -> None:
    # Given a sandbox with its starting balance
    balance = api.sandbox.balance
    # When an SMS and an LMS go to the test endpoints
    sms = send(api, TEST_SEND)
    lms = send(api, TEST_SEND, "lms", subject="제목", msg_body="가" * 100)
    # Then each is answered as a real send is: result_code "200" and a 16-22 digit cmid
    for reply in (sms, lms):
        assert set(reply) == {"result_code", "result_message", "cmid"}
        assert reply["result_code"] == "200"
        assert re.fullmatch(r"\d{16,22}", reply["cmid"])
    # And nothing reached a phone or the balance; both are kept as test messages
    assert api.sandbox.messages() == []
    assert api.sandbox.balance == balance
    kept = api.sandbox.test_messages()
    assert [(m["kind"], m["cmid"], m["test"]) for m in kept] == [("sms", sms["cmid"], True), ("lms", lms["cmid"], True)]
    assert api.sandbox.requests_count() == {"sms_test": 1, "lms_test": 1}


def test_a_test_mms_takes_its_jpg_files_as_multipart_like_the_real_one(api: Api) -> None:
    fields = {**GOOD, "subject": "사진"}
    response = api.raw("POST", TEST_SEND.format(kind="mms"), fields, files=[("a.jpg", jpg(1024))])
    assert json.loads(response.data)["result_code"] == "200"
    [kept] = api.sandbox.test_messages()
    assert (kept["kind"], kept["files"]) == ("mms", [{"name": "a.jpg", "size": 1024}])
    assert api.sandbox.messages() == []


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("sms", {"send_phone": None}),
        ("sms", {"dest_phone": "010-1234-5678"}),
        ("sms", {"send_phone": "0311112222"}),
        ("sms", {"msg_body": "똠방각하"}),
        ("sms", {"send_time": "2026-11-23 12:00"}),
        ("lms", {"msg_body": "가" * 1000}),
        ("lms", {"subject": "제" * 30}),
        ("sms", {"dest_name": "이" * 16}),
    ],
    ids=["no sender", "dashes", "unregistered sender", "not EUC-KR", "bad send_time", "long body", "long subject",
         "long name"],
)  # fmt: skip
def test_the_test_endpoint_refuses_what_the_real_one_refuses_with_the_same_reply(
    api: Api, kind: str, fields: dict[str, Any]
) -> None:
    # When the same bad request goes to the real endpoint and to the test endpoint
    real = send(api, REAL_SEND, kind, **fields)
    test = send(api, TEST_SEND, kind, **fields)
    # Then both refuse it with the same result code and the same reason
    assert real["result_code"] in ("300", "500")
    assert test == real
    assert api.sandbox.messages() == [] and api.sandbox.test_messages() == []


def test_an_empty_balance_is_600_on_the_test_endpoint_too(api: Api) -> None:
    api.sandbox.set_balance(0)
    assert send(api, TEST_SEND) == send(api, REAL_SEND)
    assert send(api, TEST_SEND)["result_code"] == "600"


def test_a_wrong_key_is_user_error_100_on_the_test_endpoint(api: Api) -> None:
    stranger = Api(api.sandbox, key="not-the-key")
    assert send(stranger, TEST_SEND)["result_code"] == "100"


def test_a_test_report_is_not_ready_first_then_has_the_real_reports_shape(api: Api, clock: FakeClock) -> None:
    # Given a test SMS to a number whose outcome is pinned to "wrong number"
    api.sandbox.force_outcome(PHONE, call_status="4410")
    cmid = send(api, TEST_SEND)["cmid"]
    # When its report is asked for at once, it is not there yet (the not-ready shape of the real report)
    assert api.get(TEST_REPORT, {"cmid": cmid}) == NOT_READY
    # Then after the report delay it is one object with the real report's fields and the planned code
    clock.advance(REPORT_DELAY)
    report = api.get(TEST_REPORT, {"cmid": cmid})
    assert set(report) == {"dest_phone", "report_time", "call_status", "umid"}
    assert (report["dest_phone"], report["call_status"]) == (PHONE, "4410")
    assert api.sandbox.requests_count() == {"sms_test": 1, "report_test": 2}


def test_test_cmids_and_real_cmids_are_reported_only_by_their_own_endpoint(api: Api, clock: FakeClock) -> None:
    # Given one real SMS and one test SMS whose reports are both ready
    real = send(api, REAL_SEND)["cmid"]
    test = send(api, TEST_SEND)["cmid"]
    clock.advance(REPORT_DELAY)
    # Then each report endpoint answers for its own cmid and never for the other's
    assert "call_status" in api.get(REAL_REPORT, {"cmid": real})
    assert "call_status" in api.get(TEST_REPORT, {"cmid": test})
    assert api.get(REAL_REPORT, {"cmid": test}) == NOT_READY
    assert api.get(TEST_REPORT, {"cmid": real}) == NOT_READY


def test_a_forced_result_code_fault_applies_to_test_sends(api: Api) -> None:
    api.sandbox.set_faults(result_codes={"400": 1.0})
    assert send(api, TEST_SEND)["result_code"] == "400"
    assert api.sandbox.test_messages() == []
