"""MMS: multipart with up to three JPG files of at most 20KB each and 40KB in all."""

from __future__ import annotations

import json

import pytest

from .conftest import PHONE, SENDER, Api

KB = 1024


def jpg(size: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + b"\x00" * (size - 6) + b"\xff\xd9"


def send_mms(api: Api, files: list[tuple[str, bytes]], **fields: str) -> dict:
    body = {"send_phone": SENDER, "dest_phone": PHONE, "msg_body": "사진을 보내드립니다.", "subject": "사진"}
    body.update(fields)
    response = api.raw("POST", "/ppurio/1/message/mms/{client_id}", body, files=files)
    assert response.status == 200
    return json.loads(response.data)


def test_multipart_mms_with_jpg_files_is_accepted_and_records_their_names_and_sizes(api: Api) -> None:
    # Given two JPGs of 20KB each: 40KB in all, both limits reached exactly
    files = [("a.jpg", jpg(20 * KB)), ("b.jpg", jpg(20 * KB))]
    # When they are sent as MMS
    reply = send_mms(api, files)
    # Then the MMS is accepted with its text fields and files
    assert reply["result_code"] == "200"
    [message] = api.sandbox.messages()
    assert message["kind"] == "mms"
    assert message["subject"] == "사진"
    assert message["msg_body"] == "사진을 보내드립니다."
    assert message["files"] == [{"name": "a.jpg", "size": 20 * KB}, {"name": "b.jpg", "size": 20 * KB}]


def test_multipart_fields_are_accepted_in_upper_case_too(api: Api) -> None:
    reply = send_mms(api, [("a.jpg", jpg(KB))], SEND_PHONE=SENDER, DEST_PHONE=PHONE, MSG_BODY="대문자")
    assert reply["result_code"] == "200"


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ([("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)], "is not a JPG"),
        ([("big.jpg", jpg(20 * KB + 1))], "at most 20480 bytes"),
        ([(f"{n}.jpg", jpg(KB)) for n in range(4)], "at most 3 JPG files"),
        ([("a.jpg", jpg(20 * KB)), ("b.jpg", jpg(15 * KB)), ("c.jpg", jpg(6 * KB))], "total at most 40960 bytes"),
    ],
    ids=["not a jpg", "over 20KB", "four files", "over 40KB in all"],
)
def test_mms_files_breaking_a_limit_are_rejected_with_300(
    api: Api, files: list[tuple[str, bytes]], reason: str
) -> None:
    reply = send_mms(api, files)
    assert reply["result_code"] == "300"
    assert reason in reply["result_message"]
    assert api.sandbox.messages() == []


def test_mms_body_is_limited_to_under_2000_bytes(api: Api) -> None:
    reply = send_mms(api, [("a.jpg", jpg(KB))], msg_body="a" * 2000)
    assert reply["result_code"] == "300"
    assert "msg_body must be under 2000 bytes" in reply["result_message"]


def test_files_sent_to_lms_are_refused_rather_than_silently_dropped(api: Api) -> None:
    response = api.raw(
        "POST",
        "/ppurio/1/message/lms/{client_id}",
        {"send_phone": SENDER, "dest_phone": PHONE, "msg_body": "x"},
        files=[("a.jpg", jpg(KB))],
    )
    assert json.loads(response.data)["result_code"] == "300"
