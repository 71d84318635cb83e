"""ppurio SMS/LMS send: parameter rules (300), sender registration (500), balance (600)."""

from __future__ import annotations

import pytest

from .conftest import PHONE, SENDER, Api


@pytest.mark.parametrize(
    ("kind", "fields", "reason"),
    [
        ("sms", {"send_phone": None}, "send_phone is required"),
        ("sms", {"dest_phone": None}, "dest_phone is required"),
        ("sms", {"msg_body": None}, "msg_body is required"),
        ("sms", {"send_phone": "02-1234-5678"}, "send_phone must be digits only"),
        ("sms", {"dest_phone": "010-1234-5678"}, "dest_phone must be digits only"),
        ("sms", {"dest_phone": "01012345678,"}, "dest_phone has an empty entry"),
        ("sms", {"send_time": "2026-11-23 12:00"}, "send_time must be yyyyMMddHHmmss"),
        ("sms", {"send_time": "20261332120000"}, "send_time must be yyyyMMddHHmmss"),
        ("sms", {"send_name": "가" * 16}, "send_name must be under 32 bytes"),
        ("sms", {"dest_name": "a" * 32}, "dest_name must be under 32 bytes"),
        ("lms", {"subject": "제" * 30}, "subject must be under 60 bytes"),
        ("lms", {"msg_body": "가" * 1000}, "msg_body must be under 2000 bytes"),
        ("sms", {"msg_body": "가" * 1000}, "msg_body must be under 2000 bytes"),
        ("sms", {"msg_body": "안녕 똠방각하"}, "msg_body cannot be sent"),
        ("sms", {"msg_body": "가격 ₩1000"}, "msg_body cannot be sent"),
        ("lms", {"subject": "웃음 😀"}, "subject cannot be sent"),
    ],
)
def test_each_broken_parameter_is_rejected_with_300_naming_the_field_and_rule(
    api: Api, kind: str, fields: dict[str, str | None], reason: str
) -> None:
    # When a message breaks one rule
    reply = api.sms(kind, **fields)
    # Then the provider says 300 and why, and sends nothing
    assert reply["result_code"] == "300"
    assert reason in reply["result_message"]
    assert api.sandbox.messages() == []


def test_hangul_outside_ks_x_1001_is_rejected_although_pythons_euc_kr_codec_encodes_it(api: Api) -> None:
    # Given 똠: Python's euc-kr writes it as 8 bytes of jamo instead of failing
    assert len("똠".encode("euc-kr")) == 8
    # When it is sent
    reply = api.sms(msg_body="똠")
    # Then it is refused, naming the character
    assert reply["result_code"] == "300"
    assert "U+B620" in reply["result_message"]


def test_sms_body_of_89_bytes_stays_sms(api: Api) -> None:
    reply = api.sms(msg_body="가" * 44 + "a")  # 89 bytes
    assert reply["result_code"] == "200"
    assert api.sandbox.messages()[0]["kind"] == "sms"


def test_sms_body_of_90_bytes_or_more_is_accepted_and_sent_as_lms(api: Api) -> None:
    # Given a body at the 90-byte limit ("90byte 미만" is the SMS rule)
    reply = api.sms(msg_body="가" * 45)
    # Then the provider converts it to LMS instead of refusing it, and says so in the record
    assert reply["result_code"] == "200"
    [message] = api.sandbox.messages()
    assert (message["requested_kind"], message["kind"]) == ("sms", "lms")


def test_lms_records_subject_names_and_schedule(api: Api) -> None:
    api.sms("lms", subject="배송 안내", send_name="Shop", dest_name="홍길동", send_time="20261201090000")
    [message] = api.sandbox.messages()
    assert message["kind"] == "lms"
    assert message["subject"] == "배송 안내"
    assert (message["send_name"], message["dest_name"]) == ("Shop", "홍길동")
    assert message["send_time"] == "20261201090000"


def test_an_unregistered_sender_is_blocked_with_500(api: Api) -> None:
    reply = api.sms(send_phone="0311112222")
    assert reply["result_code"] == "500"
    assert "발신번호 사전 등록제에 의한 미등록 차단" in reply["result_message"]
    assert api.sandbox.messages() == []


def test_each_accepted_message_costs_one_unit_and_an_empty_balance_answers_600(api: Api) -> None:
    # Given a balance of one message
    api.sandbox.set_balance(1)
    # When two are sent
    first, second = api.sms(), api.sms()
    # Then the first is accepted, the second refused with 600 listing the unsent number
    assert first["result_code"] == "200"
    assert second["result_code"] == "600"
    assert PHONE in second["result_message"]
    assert api.sandbox.balance == 0
    assert len(api.sandbox.messages()) == 1


def test_comma_separated_recipients_share_one_cmid_and_each_costs(api: Api) -> None:
    reply = api.sms(dest_phone="01011112222,01033334444")
    messages = api.sandbox.messages()
    assert [m["dest_phone"] for m in messages] == ["01011112222", "01033334444"]
    assert {m["cmid"] for m in messages} == {reply["cmid"]}
    assert api.sandbox.balance == 1_000_000 - 2


def test_send_phone_is_checked_against_the_registered_list_not_a_pattern(api: Api) -> None:
    api.sandbox.register_sender("15881234", api="ppurio")
    assert api.sms(send_phone="15881234")["result_code"] == "200"
    assert api.sms(send_phone=SENDER)["result_code"] == "200"
