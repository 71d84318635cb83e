"""Auth, field-name case, cmid shape: what every provider call shares."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import CLIENT, PHONE, SENDER, Api


@pytest.mark.parametrize("key", ["wrong-key", None], ids=["wrong key", "no key"])
def test_a_wrong_or_missing_key_is_user_error_100_with_http_200(api: Api, key: str | None) -> None:
    # Given a client with a bad key
    bad = Api(api.sandbox, key=key)
    # When it sends an SMS
    response = bad.raw("POST", "/ppurio/1/message/sms/{client_id}", {"send_phone": SENDER, "dest_phone": PHONE})
    # Then the provider answers HTTP 200 with result_code "100", and nothing is sent
    assert response.status == 200
    body = json.loads(response.data)
    assert body["result_code"] == "100"
    assert body["result_message"].startswith("User Error")
    assert api.sandbox.messages() == []


def test_a_client_id_that_does_not_match_the_key_is_user_error_100(api: Api) -> None:
    other = Api(api.sandbox, client_id="someone-else")
    assert other.kko()["result_code"] == "100"
    assert other.get("/kko/1/template/list/{client_id}")["result_code"] == "100"


def test_send_answers_lower_case_keys_and_a_string_cmid_of_16_to_22_digits(api: Api) -> None:
    # When two messages are sent
    first, second = api.sms(), api.kko()
    # Then each reply has result_code "200" (a string) and a unique digit-string cmid
    for reply in (first, second):
        assert reply["result_code"] == "200"
        assert reply["result_message"] == "OK"
        assert isinstance(reply["cmid"], str)
        assert re.fullmatch(r"\d{16,22}", reply["cmid"])
    assert first["cmid"] != second["cmid"]


def test_form_field_names_are_accepted_in_upper_case_for_ppurio_and_lower_case_for_kko(api: Api) -> None:
    # Given field names in the "other" case for each API
    sms = api.post(
        "/ppurio/1/message/sms/{client_id}", {"SEND_PHONE": SENDER, "DEST_PHONE": PHONE, "MSG_BODY": "대문자"}
    )
    kko = api.post(
        "/kko/1/msg/{client_id}",
        {
            "phone": PHONE,
            "callback": SENDER,
            "msg": "[Shop] 인증번호는 1 입니다.",
            "template_code": "A2222",
            "failed_type": "N",
        },
    )
    # Then both are accepted
    assert sms["result_code"] == "200"
    assert kko["result_code"] == "200"
    assert [m["msg_body"] for m in api.sandbox.messages()] == ["대문자", "[Shop] 인증번호는 1 입니다."]


def test_a_json_body_is_not_form_data_so_required_fields_are_missing(api: Api) -> None:
    # Given a client that posts JSON instead of a form
    response = api.raw(
        "POST",
        "/ppurio/1/message/sms/{client_id}",
        headers={"Content-Type": "application/json"},
    )
    # Then it gets a parameter error, as the real server would
    body = json.loads(response.data)
    assert body["result_code"] == "300"
    assert "send_phone is required" in body["result_message"]


def test_replies_are_utf8_json_with_the_cors_header_and_korean_left_unescaped(api: Api) -> None:
    api.sandbox.set_balance(0)
    response = api.raw(
        "POST",
        "/ppurio/1/message/sms/{client_id}",
        {"send_phone": SENDER, "dest_phone": PHONE, "msg_body": "x"},
    )
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "잔금 부족" in response.data.decode("utf-8")


def test_an_unknown_path_is_http_404(api: Api) -> None:
    assert api.raw("POST", "/ppurio/1/message/fax/{client_id}").status == 404
    assert api.sandbox.requests_count() == {"unknown": 1}


def test_client_id_path_segment_is_part_of_auth(api: Api) -> None:
    response = api.raw("GET", f"/kko/1/sendnumber/list/{CLIENT}")
    assert json.loads(response.data)["result_code"] == "200"
