"""Reports move 2000 -> 3000 -> final; lists page with startKey/nextKey; scheduled groups can be cancelled."""

from __future__ import annotations

import base64

import pytest

from .conftest import JPEG, PHONE, Solapi, iso_date


def status_of(solapi: Solapi, message_id: str) -> str:
    return solapi.messages(messageId=message_id)["messageList"][message_id]["statusCode"]


def test_a_message_moves_from_2000_to_3000_to_4000_as_the_report_delay_passes(solapi: Solapi) -> None:
    # Given a message sent with a 5 s report delay and delivery forced
    solapi.sandbox.force_outcome(PHONE, status_code="4000")
    [item] = solapi.send({"text": "보고서"}, showMessageList=True)["messageList"]
    seen = [status_of(solapi, item["messageId"])]
    # When time passes
    for step in (2.6, 2.5):
        solapi.clock.advance(step)
        seen.append(status_of(solapi, item["messageId"]))
    # Then it was accepted, at the carrier, then delivered
    assert seen == ["2000", "3000", "4000"]


def test_a_forced_failure_code_ends_the_report_with_its_reason_and_refunds_the_message(solapi: Solapi) -> None:
    solapi.sandbox.force_outcome(PHONE, status_code="3043")
    [item] = solapi.send({"text": "꺼진 폰"}, showMessageList=True)["messageList"]
    solapi.clock.advance(10)
    message = solapi.messages(messageId=item["messageId"])["messageList"][item["messageId"]]
    assert (message["statusCode"], message["reason"], message["status"]) == ("3043", "단말기 Power off", "COMPLETE")
    assert solapi.sandbox.solapi_balance == 100_000


def test_a_pending_forced_outcome_stays_at_3000(solapi: Solapi) -> None:
    solapi.sandbox.force_outcome(PHONE, pending=True)
    [item] = solapi.send({"text": "대기"}, showMessageList=True)["messageList"]
    solapi.clock.advance(3600)
    assert status_of(solapi, item["messageId"]) == "3000"


def test_the_outcome_mix_decides_unforced_reports(solapi: Solapi) -> None:
    solapi.sandbox.set_outcome_mix("solapi", {"3010": 1})
    [item] = solapi.send({"text": "번호 오류"}, showMessageList=True)["messageList"]
    solapi.clock.advance(5)
    assert status_of(solapi, item["messageId"]) == "3010"


def test_a_forced_code_outside_solapis_table_is_refused() -> None:
    from devstack.sandbox import Sandbox

    with pytest.raises(ValueError, match="9999"):
        Sandbox().force_outcome(PHONE, status_code="9999")


def test_the_message_list_pages_newest_first_with_start_key_and_next_key(solapi: Solapi) -> None:
    # Given five messages sent a second apart
    ids = []
    for n in range(5):
        ids += [m["messageId"] for m in solapi.send({"text": f"{n}번"}, showMessageList=True)["messageList"]]
        solapi.clock.advance(1)
    # When they are read two at a time
    pages, key = [], None
    while True:
        page = solapi.messages(limit=2, **({"startKey": key} if key else {}))
        pages.append(list(page["messageList"]))
        key = page["nextKey"]
        if key is None:
            break
    # Then every message comes once, newest first, in pages of two
    assert pages == [ids[4:2:-1], ids[2:0:-1], ids[:1]]


def test_the_message_list_filters_by_group_recipient_status_type_and_dates(solapi: Solapi) -> None:
    solapi.sandbox.set_outcome_mix("solapi", {"4000": 1})
    first = solapi.send({"text": "가"}, {"text": "나" * 50, "to": "01000000002"})
    solapi.clock.advance(100)
    solapi.send({"text": "다"})
    group_id = first["groupInfo"]["groupId"]
    assert len(solapi.messages(groupId=group_id)["messageList"]) == 2
    assert len(solapi.messages(to="01000000002")["messageList"]) == 1
    assert len(solapi.messages(type="LMS")["messageList"]) == 1
    assert len(solapi.messages(criteria="groupId,type", cond="eq,eq", value=f"{group_id},SMS")["messageList"]) == 1
    assert len(solapi.messages(startDate=iso_date(solapi.clock() - 50))["messageList"]) == 1
    assert len(solapi.messages(statusCode="4000")["messageList"]) == 2
    # list-old, which the Python SDK calls, answers the same
    assert solapi.ok("GET", "/messages/v4/list-old", query={"groupId": group_id})["messageList"].keys() == (
        solapi.messages(groupId=group_id)["messageList"].keys()
    )


def test_a_bad_limit_or_start_key_is_a_validation_error(solapi: Solapi) -> None:
    assert solapi.call("GET", "/messages/v4/list", query={"limit": "0"})[1]["errorCode"] == "ValidationError"
    status, reply = solapi.call("GET", "/messages/v4/list", query={"startKey": "M4VNOPE"})
    assert status == 400 and "startKey" in reply["errorMessage"]


def test_groups_are_listed_read_and_their_messages_paged(solapi: Solapi) -> None:
    first = solapi.send({"text": "a"}, {"text": "b", "to": "01000000002"})["groupInfo"]["groupId"]
    solapi.clock.advance(1)
    second = solapi.send({"text": "c"})["groupInfo"]["groupId"]
    listed = solapi.ok("GET", "/messages/v4/groups", query={"limit": 1})
    assert list(listed["groupList"]) == [second] and listed["nextKey"] == first
    only = solapi.ok("GET", "/messages/v4/groups", query={"criteria": "groupId", "cond": "eq", "value": first})
    assert list(only["groupList"]) == [first]
    in_group = solapi.ok("GET", f"/messages/v4/groups/{first}/messages", query={"limit": 1})
    assert len(in_group["messageList"]) == 1 and in_group["nextKey"]
    status, missing = solapi.call("GET", "/messages/v4/groups/G4VNOPE")
    assert (status, missing["errorCode"]) == (404, "NotFound")


def test_a_scheduled_group_waits_and_can_be_cancelled_with_a_refund(solapi: Solapi) -> None:
    # Given a group scheduled an hour ahead
    reply = solapi.send({"text": "예약"}, scheduledDate=iso_date(solapi.clock() + 3600), showMessageList=True)
    group_id = reply["groupInfo"]["groupId"]
    assert reply["groupInfo"]["status"] == "SCHEDULED"
    assert solapi.sandbox.solapi_balance == 100_000 - 20
    solapi.clock.advance(600)
    assert status_of(solapi, reply["messageList"][0]["messageId"]) == "2000"
    # When it is cancelled
    cancelled = solapi.ok("DELETE", f"/messages/v4/groups/{group_id}/schedule")
    # Then the group is FAILED, the message never goes, and the money is back
    assert cancelled["status"] == "FAILED"
    assert cancelled["log"][-1]["message"] == "메시지 예약이 성공적으로 취소됐습니다."
    solapi.clock.advance(7200)
    assert status_of(solapi, reply["messageList"][0]["messageId"]) == "2000"
    assert solapi.sandbox.solapi_balance == 100_000
    # And cancelling again is refused
    status, again = solapi.call("DELETE", f"/messages/v4/groups/{group_id}/schedule")
    assert status == 400 and again["errorCode"] == "CannotCancelGroup"


def test_a_scheduled_group_sends_at_its_time(solapi: Solapi) -> None:
    reply = solapi.send({"text": "예약"}, scheduledDate=iso_date(solapi.clock() + 60), showMessageList=True)
    solapi.clock.advance(60 + 5)
    assert status_of(solapi, reply["messageList"][0]["messageId"]) == "4000"
    group = solapi.ok("GET", f"/messages/v4/groups/{reply['groupInfo']['groupId']}")
    assert group["status"] == "COMPLETE"


def test_the_balance_endpoint_follows_what_was_charged(solapi: Solapi) -> None:
    solapi.send({"text": "a"}, {"text": "가" * 50, "to": "01000000002"})
    assert solapi.ok("GET", "/cash/v1/balance")["balance"] == 100_000 - 20 - 50


def test_an_uploaded_jpeg_gets_a_file_id_usable_as_image_id(solapi: Solapi) -> None:
    status, stored = solapi.upload()
    assert status == 200 and stored["fileId"].startswith("ST01FZ") and stored["type"] == "MMS"
    reply = solapi.send({"text": "사진", "imageId": stored["fileId"]})
    assert reply["failedMessageList"] == []


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"file": base64.b64encode(JPEG + b"\x00" * 200 * 1024).decode(), "type": "MMS"}, "allows 204800"),
        ({"file": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10).decode(), "type": "MMS"}, "JPEG"),
        ({"file": "not base64!", "type": "MMS"}, "base64"),
        ({"file": base64.b64encode(JPEG).decode(), "type": "VIDEO"}, "type must be"),
        ({"type": "MMS"}, "file"),
    ],
    ids=["too-big", "png-for-mms", "not-base64", "unknown-type", "no-file"],
)
def test_storage_refuses_files_outside_solapis_limits(solapi: Solapi, body: dict[str, str], rule: str) -> None:
    status, reply = solapi.call("POST", "/storage/v1/files", body)
    assert status == 400 and reply["errorCode"] == "ValidationError"
    assert rule in reply["errorMessage"]


def test_an_image_id_that_was_never_uploaded_fails_1034(solapi: Solapi) -> None:
    [failed] = solapi.send({"text": "사진", "imageId": "ST01FZNOPE"})["failedMessageList"]
    assert failed["statusCode"] == "1034"
