"""AlimTalk send: every result code of the spec, the button wire format, msg_test."""

from __future__ import annotations

import pytest

from .conftest import PHONE, Api

SHIPPED = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."
SHIP_BUTTON = {"BTN_TYPES": "웹링크", "BTN_TXTS": "배송조회", "BTN_URLS1": "https://shop.example/o/1234"}


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"PHONE": None}, "PHONE is required"),
        ({"CALLBACK": None}, "CALLBACK is required"),
        ({"MSG": None}, "MSG is required"),
        ({"TEMPLATE_CODE": None}, "TEMPLATE_CODE is required"),
        ({"PHONE": "010-1234-5678"}, "PHONE must be digits only"),
        ({"CALLBACK": "02 1234 5678"}, "CALLBACK must be digits only"),
        ({"REQDATE": "2026-12-01T09:00"}, "REQDATE must be yyyyMMddHHmmss"),
        ({"MSG": "가" * 1001}, "MSG must be at most 1000 characters"),
        ({"FAILED_TYPE": "MMS"}, "FAILED_TYPE must be SMS, LMS or N"),
        ({"FAILED_TYPE": "SMS", "FAILED_MSG": "뷁"}, "FAILED_MSG cannot be sent"),
        ({"FAILED_TYPE": "SMS", "FAILED_MSG": "가" * 45}, "FAILED_MSG (FAILED_TYPE SMS) must be under 90 bytes"),
        ({"FAILED_TYPE": "LMS", "FAILED_SUBJECT": "가" * 30, "FAILED_MSG": "x"}, "FAILED_SUBJECT must be under 60"),
        ({"BTN_TYPES": "웹링크,전화걸기", "BTN_TXTS": "a,b", "BTN_URLS1": "https://a,"}, "'전화걸기' is not one of"),
        ({"BTN_TYPES": ",".join(["봇키워드"] * 6), "BTN_TXTS": ",".join("abcdef")}, "at most 5 buttons"),
        ({"BTN_TYPES": "봇키워드,봇키워드", "BTN_TXTS": "하나"}, "BTN_TXTS must name each of the 2"),
        ({"BTN_TXTS": "하나"}, "BTN_TXTS given without BTN_TYPES"),
        ({"BTN_TYPES": "배송조회,웹링크", "BTN_TXTS": "a,b", "BTN_URLS1": ","}, "button 2 (웹링크) needs a URL"),
        ({"URL": "https://a.example"}, "URL and URL_BUTTON_TXT go together"),
    ],
)
def test_each_broken_parameter_is_rejected_with_300_naming_the_field_and_rule(
    api: Api, fields: dict[str, str | None], reason: str
) -> None:
    reply = api.kko(**fields)
    assert reply["result_code"] == "300"
    assert reason in reply["result_message"]
    assert api.sandbox.messages() == []


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"FAILED_TYPE": "SMS"}, "FAILED_MSG"),
        ({"FAILED_TYPE": "LMS", "FAILED_MSG": "본문"}, "FAILED_SUBJECT"),
        ({"FAILED_TYPE": None}, "FAILED_MSG"),
    ],
    ids=["SMS without message", "LMS without subject", "no FAILED_TYPE at all"],
)
def test_a_fallback_without_its_text_is_301(api: Api, fields: dict[str, str | None], missing: str) -> None:
    reply = api.kko(**fields)
    assert reply["result_code"] == "301"
    assert f"{missing} is empty" in reply["result_message"]


def test_buttons_for_a_template_without_buttons_are_302(api: Api) -> None:
    reply = api.kko(TEMPLATE_CODE="A2222", BTN_TYPES="봇키워드", BTN_TXTS="문의")
    assert reply["result_code"] == "302"


def test_an_unregistered_callback_number_is_500(api: Api) -> None:
    reply = api.kko(CALLBACK="0311112222")
    assert reply["result_code"] == "500"
    assert "미등록 차단" in reply["result_message"]


def test_an_empty_balance_is_600(api: Api) -> None:
    api.sandbox.set_balance(0)
    assert api.kko()["result_code"] == "600"


@pytest.mark.parametrize("code", ["R3333", "P4444"], ids=["반려", "검수요청"])
def test_a_template_that_is_not_approved_is_700(api: Api, code: str) -> None:
    reply = api.kko(TEMPLATE_CODE=code)
    assert reply["result_code"] == "700"
    assert code in reply["result_message"]


def test_an_unknown_template_code_is_800(api: Api) -> None:
    assert api.kko(TEMPLATE_CODE="NOPE")["result_code"] == "800"


def test_a_client_without_a_sender_profile_is_900(api: Api) -> None:
    api.sandbox.set_profiles([])
    assert api.kko()["result_code"] == "900"


def test_a_matching_message_with_its_button_is_accepted_and_recorded(api: Api) -> None:
    # When the shipping template is sent with its 웹링크 button and an SMS fallback
    reply = api.kko(
        TEMPLATE_CODE="A1111", MSG=SHIPPED, FAILED_TYPE="SMS", FAILED_MSG="상품이 발송되었습니다.", **SHIP_BUTTON
    )
    # Then it is accepted and recorded with what a phone would get
    assert reply["result_code"] == "200"
    [message] = api.sandbox.messages()
    assert message["kind"] == "kko"
    assert message["template_code"] == "A1111"
    assert message["template_matched"] is True
    assert message["buttons"] == [
        {"type": "웹링크", "name": "배송조회", "url_mobile": "https://shop.example/o/1234", "url_pc": None}
    ]
    assert (message["failed_type"], message["failed_msg"]) == ("SMS", "상품이 발송되었습니다.")
    assert api.sandbox.balance == 1_000_000 - 1


def test_button_urls_are_positional_comma_lists_empty_for_non_link_buttons(api: Api) -> None:
    # Given a template shaped like the spec's example: 웹링크, 배송조회, 웹링크
    api.sandbox.add_template(
        {
            "template_code": "B5555",
            "template_msg": "#{name}님, 안내드립니다.",
            "status": "승인",
            "btnList": [
                {"template_btn_type": "웹링크", "template_btn_name": "홈페이지"},
                {"template_btn_type": "배송조회", "template_btn_name": "배송조회"},
                {"template_btn_type": "웹링크", "template_btn_name": "홈페이지"},
            ],
        }
    )
    # When the buttons go out as in the spec (BTN_URLS1 mobile links, BTN_URLS2 PC links)
    reply = api.kko(
        TEMPLATE_CODE="B5555",
        MSG="홍길동님, 안내드립니다.",
        BTN_TYPES="웹링크,배송조회,웹링크",
        BTN_TXTS="홈페이지,배송조회,홈페이지",
        BTN_URLS1=" https://www.apistore.co.kr, ,https://m.apistore.co.kr",
        BTN_URLS2="https://pc.apistore.co.kr,,",
    )
    # Then each button gets the URLs at its position
    assert reply["result_code"] == "200"
    [message] = api.sandbox.messages()
    assert message["buttons"] == [
        {
            "type": "웹링크",
            "name": "홈페이지",
            "url_mobile": "https://www.apistore.co.kr",
            "url_pc": "https://pc.apistore.co.kr",
        },
        {"type": "배송조회", "name": "배송조회", "url_mobile": None, "url_pc": None},
        {"type": "웹링크", "name": "홈페이지", "url_mobile": "https://m.apistore.co.kr", "url_pc": None},
    ]
    assert message["template_matched"] is True


def test_the_legacy_url_and_url_button_txt_pair_is_one_web_link_button(api: Api) -> None:
    api.kko(TEMPLATE_CODE="A1111", MSG=SHIPPED, URL="https://shop.example/o/9", URL_BUTTON_TXT="배송조회")
    [message] = api.sandbox.messages()
    assert message["buttons"] == [
        {"type": "웹링크", "name": "배송조회", "url_mobile": "https://shop.example/o/9", "url_pc": None}
    ]
    assert message["template_matched"] is True


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"MSG": "홍길동님, 상품이 발송되었습니다."}, "MSG does not match the template text"),
        ({"BTN_TXTS": "주문조회"}, "button 1 is 웹링크/주문조회"),
        ({"BTN_URLS1": "https://evil.example/o/1"}, "does not match the template's"),
        ({"BTN_TYPES": None, "BTN_TXTS": None, "BTN_URLS1": None}, "0 buttons sent, the template has 1"),
    ],
    ids=["text", "button name", "button url", "button missing"],
)
def test_a_message_that_does_not_match_its_template_is_accepted_and_marked(
    api: Api, fields: dict[str, str | None], why: str
) -> None:
    # When the message differs from the approved template
    reply = api.kko(**{"TEMPLATE_CODE": "A1111", "MSG": SHIPPED, **SHIP_BUTTON, **fields})
    # Then the provider still accepts it (it fails only in the report), and the record says why
    assert reply["result_code"] == "200"
    [message] = api.sandbox.messages()
    assert message["template_matched"] is False
    assert why in message["template_mismatch"]


def test_msg_test_validates_fully_but_delivers_and_charges_nothing(api: Api) -> None:
    # When a valid and an invalid message go to msg_test
    ok = api.kko("msg_test")
    unknown = api.kko("msg_test", TEMPLATE_CODE="NOPE")
    # Then the answers are those of a real send
    assert ok["result_code"] == "200"
    assert unknown["result_code"] == "800"
    # And nothing would reach a phone, nothing is charged, the test send is listed apart
    assert api.sandbox.messages() == []
    assert api.sandbox.balance == 1_000_000
    [test] = api.sandbox.test_messages()
    assert (test["kind"], test["cmid"], test["dest_phone"]) == ("kko_test", ok["cmid"], PHONE)
    assert api.sandbox.requests_count() == {"kko_test": 2}
