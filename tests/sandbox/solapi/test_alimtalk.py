"""AlimTalk (ATA): templates from the seed, variables, buttons, and SOLAPI's own SMS fallback."""

from __future__ import annotations

from typing import Any

from .conftest import PF_ID, Solapi

VARS = {"#{name}": "홍길동", "#{order}": "1234"}
SHIPPED = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."


def ata(template: str = "A1111", variables: dict[str, str] | None = VARS, **kakao: Any) -> dict[str, Any]:
    return {"kakaoOptions": {"pfId": PF_ID, "templateId": template, "variables": variables, **kakao}}


def solapi_messages(solapi: Solapi) -> list[dict[str, Any]]:
    return [m for m in solapi.sandbox.messages() if m["provider"] == "solapi"]


def test_an_alimtalk_is_detected_from_kakao_options_and_filled_from_its_template(solapi: Solapi) -> None:
    # When an AlimTalk goes out with no text and no type, as the SDKs send it
    reply = solapi.send(ata())
    # Then it is an ATA with the template's text and buttons, variables filled
    assert reply["failedMessageList"] == []
    [message] = solapi_messages(solapi)
    assert (message["kind"], message["text"]) == ("ata", SHIPPED)
    assert message["buttons"] == [
        {"buttonType": "WL", "buttonName": "배송조회", "linkMo": "https://shop.example/o/1234", "linkPc": None}
    ]


def test_a_text_that_equals_the_filled_template_is_accepted_and_one_that_differs_fails_1043(solapi: Solapi) -> None:
    reply = solapi.send({"text": SHIPPED, **ata()}, {"text": "다른 글", "to": "01000000002", **ata()})
    assert [(f["to"], f["statusCode"]) for f in reply["failedMessageList"]] == [("01000000002", "1043")]


def test_a_missing_variable_fails_1043_naming_the_variable(solapi: Solapi) -> None:
    [failed] = solapi.send(ata(variables={"#{name}": "홍길동"}))["failedMessageList"]
    assert failed["statusCode"] == "1043"
    assert "#{order}" in failed["statusMessage"]


def test_template_and_channel_problems_fail_with_their_codes(solapi: Solapi) -> None:
    reply = solapi.send(
        {"to": "01000000001", **ata("NOPE")},
        {"to": "01000000002", **ata("R3333", {"#{name}": "a"})},
        {"to": "01000000003", "kakaoOptions": {"pfId": "KA01PFOTHER", "templateId": "A1111", "variables": VARS}},
        {"to": "01000000004", **ata(buttons=[])},
        {
            "to": "01000000005",
            **ata(
                "A2222",
                {"#{service}": "Shop", "#{code}": "1"},
                buttons=[{"buttonType": "WL", "buttonName": "x", "linkMo": "https://a"}],
            ),
        },
        {"to": "01000000006", **ata(buttons=[{"buttonType": "BK", "buttonName": "배송조회"}])},
    )
    assert [(f["to"], f["statusCode"]) for f in reply["failedMessageList"]] == [
        ("01000000001", "1042"),
        ("01000000002", "1042"),
        ("01000000003", "1041"),
        ("01000000004", "1046"),
        ("01000000005", "1047"),
        ("01000000006", "1052"),
    ]
    assert "REJECTED" in reply["failedMessageList"][1]["statusMessage"]


def test_when_kakao_fails_solapi_sends_the_sms_fallback_and_records_it(solapi: Solapi) -> None:
    # Given Kakao will answer "not a KakaoTalk user" for this number
    solapi.sandbox.force_outcome("01012345678", status_code="3104")
    solapi.send(ata())
    # When the report is in
    solapi.clock.advance(5)
    # Then the AlimTalk failed, was refunded, and an SMS with its text (78 bytes) went out in the same group
    ata_message, fallback = solapi_messages(solapi)
    assert ata_message["status_code"] == "3104"
    assert (fallback["kind"], fallback["fallback_of"], fallback["text"]) == ("sms", ata_message["message_id"], SHIPPED)
    assert ata_message["fallback_id"] == fallback["message_id"]
    group = solapi.ok("GET", f"/messages/v4/groups/{ata_message['group_id']}")
    assert group["count"]["sentReplacement"] == 1
    assert fallback["status_code"] == "2000"
    assert solapi.sandbox.solapi_balance == 100_000 - 20
    listed = solapi.messages(messageId=fallback["message_id"])["messageList"]
    assert listed[fallback["message_id"]]["replacement"] is True


def test_with_disable_sms_a_failed_alimtalk_sends_nothing_else(solapi: Solapi) -> None:
    solapi.sandbox.force_outcome("01012345678", status_code="3104")
    solapi.send(ata(disableSms=True))
    solapi.clock.advance(60)
    [only] = solapi_messages(solapi)
    assert only["status_code"] == "3104" and only["fallback_id"] is None


def test_templates_are_listed_and_read_in_solapis_shape_on_v1_and_v2(solapi: Solapi) -> None:
    listed = solapi.ok("GET", "/kakao/v2/templates", query={"status": "APPROVED"})
    assert [t["templateId"] for t in listed["templateList"]] == ["A1111", "A2222"]
    one = solapi.ok("GET", "/kakao/v1/templates/A1111")
    assert (one["pfId"], one["status"], one["codes"][0]["status"]) == (PF_ID, "APPROVED", "APPROVED")
    assert one["content"].startswith("#{name}님")
    assert one["buttons"][0]["buttonType"] == "WL"
    status, missing = solapi.call("GET", "/kakao/v1/templates/NOPE")
    assert (status, missing["errorCode"]) == (404, "NotFound")


def test_a_template_added_through_inspection_is_usable_on_solapi_too(solapi: Solapi) -> None:
    solapi.sandbox.add_template({"template_code": "N5555", "template_msg": "#{who}님 안녕하세요"})
    reply = solapi.send(ata("N5555", {"#{who}": "영희"}))
    assert reply["failedMessageList"] == []
    assert solapi_messages(solapi)[0]["text"] == "영희님 안녕하세요"
