"""send-many/detail: the type SOLAPI detects, its limits, failedMessageList, groupInfo, balance, senders."""

from __future__ import annotations

from typing import Any

from devstack.sandbox import Sandbox

from .conftest import PHONE, Solapi


def only(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [m for m in sandbox.messages() if m["provider"] == "solapi"]


def test_the_type_is_detected_sms_up_to_90_euckr_bytes_lms_above_mms_with_an_image(solapi: Solapi) -> None:
    # Given an uploaded image
    _, image = solapi.upload()
    # When four messages without a type are sent
    reply = solapi.send(
        {"text": "가" * 45},
        {"text": "가" * 45 + "a"},
        {"text": "짧은 글", "subject": "제목"},
        {"text": "사진", "imageId": image["fileId"]},
        allowDuplicates=True,
    )
    # Then 90 bytes is an SMS, 91 an LMS, a subject makes an LMS, an image an MMS
    assert reply["failedMessageList"] == []
    assert [m["kind"] for m in only(solapi.sandbox)] == ["sms", "lms", "lms", "mms"]
    assert reply["groupInfo"]["countForCharge"]["lms"] == {"82": 2}


def test_a_reply_has_a_message_list_only_when_asked_and_always_a_failed_message_list(solapi: Solapi) -> None:
    plain = solapi.send({"text": "하나"})
    assert "messageList" not in plain
    assert plain["failedMessageList"] == []
    listed = solapi.send({"text": "둘"}, showMessageList=True)
    [item] = listed["messageList"]
    assert item["statusCode"] == "2000"
    assert item["statusMessage"] == "정상 접수(이통사로 접수 예정)"
    assert [item["messageId"]] == [m["message_id"] for m in only(solapi.sandbox) if m["text"] == "둘"]


def test_invalid_messages_fail_one_by_one_with_solapis_status_codes_and_the_rest_is_sent(solapi: Solapi) -> None:
    # Given one good message among broken ones
    reply = solapi.send(
        {"text": "정상", "to": "01000000001"},
        {"text": "가" * 1001, "to": "01000000002"},
        {"text": "똠방각하", "to": "01000000003"},
        {"text": "보낸 사람", "to": "01000000004", "from": "0299999999"},
        {"text": "짧다", "to": "01000000005", "type": "SMS", "subject": "제목"},
        {"text": "", "to": "01000000006"},
        {"text": "형식", "to": "010-12"},
        {"text": "팩스", "to": "01000000008", "type": "FAX"},
        {"text": "문자", "to": "01000000009", "kakaoOptions": {"pfId": "x"}, "type": "SMS"},
        {"text": "긴 제목", "to": "01000000010", "subject": "가" * 21},
    )
    # Then each failure names its code, the table's text and the field
    failed = {f["to"]: (f["statusCode"], f["statusMessage"]) for f in reply["failedMessageList"]}
    assert {to: code for to, (code, _) in failed.items()} == {
        "01000000002": "1031",
        "01000000003": "1029",
        "01000000004": "1062",
        "01000000005": "1013",
        "01000000006": "1010",
        "010-12": "1011",
        "01000000008": "1025",
        "01000000009": "1033",
        "01000000010": "1014",
    }
    assert failed["01000000004"][1].startswith("발신번호 미등록")
    assert "0299999999" in failed["01000000004"][1]
    assert "U+B620" in failed["01000000003"][1]
    # And only the good one was accepted and counted as such
    assert [m["to"] for m in only(solapi.sandbox)] == ["01000000001"]
    count = reply["groupInfo"]["count"]
    assert (count["total"], count["registeredSuccess"], count["registeredFailed"]) == (10, 1, 9)
    assert all(f["messageId"].startswith("M4V") and f["accountId"] for f in reply["failedMessageList"])


def test_an_explicit_type_is_checked_against_its_own_limit(solapi: Solapi) -> None:
    reply = solapi.send({"text": "가" * 46, "type": "sms"})
    [failed] = reply["failedMessageList"]
    assert failed["statusCode"] == "1031"
    assert "92" in failed["statusMessage"]


def test_the_same_recipient_twice_fails_unless_duplicates_are_allowed(solapi: Solapi) -> None:
    refused = solapi.send({"text": "하나"}, {"text": "둘"})
    assert [f["statusCode"] for f in refused["failedMessageList"]] == ["1026"]
    allowed = solapi.send({"text": "하나"}, {"text": "둘"}, allowDuplicates=True)
    assert allowed["failedMessageList"] == []
    assert allowed["groupInfo"]["allowDuplicates"] is True


def test_a_list_of_recipients_makes_one_message_each(solapi: Solapi) -> None:
    reply = solapi.send({"text": "공지", "to": ["01000000001", "010-0000-0002"]})
    assert reply["groupInfo"]["count"]["registeredSuccess"] == 2
    assert [m["to"] for m in only(solapi.sandbox)] == ["01000000001", "01000000002"]


def test_each_accepted_message_is_charged_and_an_empty_balance_refuses_with_1030(solapi: Solapi) -> None:
    # Given 60 won: enough for one LMS (50), not for a second
    solapi.sandbox.set_solapi_balance(60)
    reply = solapi.send({"text": "가" * 50}, {"text": "나" * 50, "to": "01000000002"})
    # Then the first is sent and charged, the second refused for the balance
    assert [f["statusCode"] for f in reply["failedMessageList"]] == ["1030"]
    assert solapi.ok("GET", "/cash/v1/balance")["balance"] == 10
    assert reply["groupInfo"]["balance"]["requested"] == 50


def test_a_body_without_messages_is_a_validation_error_naming_the_field(solapi: Solapi) -> None:
    status, reply = solapi.call("POST", "/messages/v4/send-many/detail", {"message": {"to": PHONE}})
    assert status == 400
    assert reply == {"errorCode": "ValidationError", "errorMessage": "messages must be a non-empty array"}


def test_the_2022_send_many_endpoint_answers_with_the_group(solapi: Solapi) -> None:
    group = solapi.ok(
        "POST", "/messages/v4/send-many", {"messages": [{"to": PHONE, "from": "0212345678", "text": "옛"}]}
    )
    assert group["groupId"].startswith("G4V")
    assert group["count"]["registeredSuccess"] == 1


def test_the_simple_send_endpoint_answers_with_the_message_or_a_4xx_naming_the_rule(solapi: Solapi) -> None:
    sent = solapi.ok("POST", "/messages/v4/send", {"message": {"to": PHONE, "from": "0212345678", "text": "단건"}})
    assert (sent["statusCode"], sent["type"]) == ("2000", "SMS")
    status, refused = solapi.call(
        "POST", "/messages/v4/send", {"message": {"to": PHONE, "from": "0299999999", "text": "x"}}
    )
    assert (status, refused["errorCode"]) == (400, "1062")


def test_a_sender_registered_through_inspection_can_send(solapi: Solapi) -> None:
    solapi.sandbox.register_sender("0299999999", api="solapi")
    reply = solapi.send({"text": "새 번호", "from": "0299999999"})
    assert reply["failedMessageList"] == []
    assert solapi.sandbox.senders()["solapi"][-1]["sendnumber"] == "0299999999"
