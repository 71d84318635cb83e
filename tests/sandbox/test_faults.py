"""Faults: latency, HTTP 503, a reply lost after acceptance, and result codes answered without accepting."""

from __future__ import annotations

import time

import pytest
import urllib3

from .conftest import Api


def test_latency_is_added_to_every_provider_request(api: Api) -> None:
    # Given 200 ms of latency
    api.sandbox.set_faults(latency_ms=200)
    # When a message is sent
    started = time.monotonic()
    reply = api.sms()
    elapsed = time.monotonic() - started
    # Then the reply is normal but late
    assert reply["result_code"] == "200"
    assert elapsed >= 0.2


def test_a_5xx_fault_answers_503_and_accepts_nothing(api: Api) -> None:
    api.sandbox.set_faults(error_5xx_rate=1.0)
    response = api.raw("POST", "/ppurio/1/message/sms/{client_id}", {"send_phone": "0212345678"})
    assert response.status == 503
    assert api.sandbox.messages() == []
    assert api.sandbox.requests_count() == {"sms": 1}


def test_a_timeout_fault_accepts_and_records_the_message_but_the_reply_never_comes_in_time(api: Api) -> None:
    # Given every reply lost, the sandbox holding the connection 2 s
    api.sandbox.set_faults(timeout_rate=1.0, timeout_s=2.0)
    # When the client sends with a 0.3 s read timeout
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        api.raw("POST", "/kko/1/msg/{client_id}", api_kko_fields(), timeout=0.3)
    # Then the message was accepted anyway: it would reach the phone, and it was charged
    [message] = api.sandbox.messages()
    assert message["kind"] == "kko"
    assert api.sandbox.balance == 1_000_000 - 1


def test_after_timeout_s_the_connection_is_closed_without_any_reply(api: Api) -> None:
    api.sandbox.set_faults(timeout_rate=1.0, timeout_s=0.2)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        api.raw("POST", "/ppurio/1/message/sms/{client_id}", sms_fields(), timeout=3)
    assert len(api.sandbox.messages()) == 1


def test_stop_does_not_wait_for_a_request_held_by_a_timeout_fault(api: Api) -> None:
    api.sandbox.set_faults(timeout_rate=1.0, timeout_s=30)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        api.raw("POST", "/ppurio/1/message/sms/{client_id}", sms_fields(), timeout=0.2)
    started = time.monotonic()
    api.sandbox.stop()
    assert time.monotonic() - started < 2


def test_a_result_code_fault_answers_that_code_without_accepting(api: Api) -> None:
    # Given every send answered "600"
    api.sandbox.set_faults(result_codes={"600": 1.0})
    # When an SMS and an AlimTalk are sent
    sms = api.sms()
    kko = api.kko()
    # Then both say 600 with the spec's wording, and nothing is accepted or charged
    assert sms["result_code"] == kko["result_code"] == "600"
    assert "충전요금 부족" in sms["result_message"]
    assert api.sandbox.messages() == []
    assert api.sandbox.balance == 1_000_000


def test_result_code_faults_touch_only_send_endpoints(api: Api) -> None:
    api.sandbox.set_faults(result_codes={"600": 1.0})
    assert api.get("/kko/1/template/list/{client_id}")["result_code"] == "200"


def test_result_code_faults_hit_about_their_share_of_sends(api: Api) -> None:
    api.sandbox.set_faults(result_codes={"400": 0.5})
    codes = [api.sms()["result_code"] for _ in range(60)]
    assert 10 < codes.count("400") < 50
    assert codes.count("200") == len(api.sandbox.messages())


def test_faults_never_apply_to_the_inspection_api(api: Api) -> None:
    api.sandbox.set_faults(error_5xx_rate=1.0, latency_ms=1000)
    started = time.monotonic()
    status, messages = api.inspect("messages")
    assert (status, messages) == (200, [])
    assert time.monotonic() - started < 0.5


def test_faults_can_be_set_over_http_and_bad_rates_are_refused(api: Api) -> None:
    status, faults = api.inspect("faults", {"error_5xx_rate": 0.25, "result_codes": {"600": 0.5}})
    assert status == 200
    assert faults == {
        "latency_ms": 0.0,
        "error_5xx_rate": 0.25,
        "timeout_rate": 0.0,
        "result_codes": {"600": 0.5},
        "timeout_s": 30.0,
    }
    status, body = api.inspect("faults", {"error_5xx_rate": 0.8, "timeout_rate": 0.5})
    assert status == 400
    assert "add up to at most 1" in body["error"]
    status, body = api.inspect("faults", {"latency": 5})
    assert status == 400


def test_reset_clears_faults(api: Api) -> None:
    api.sandbox.set_faults(error_5xx_rate=1.0)
    api.inspect("reset", {})
    assert api.sms()["result_code"] == "200"


def sms_fields() -> dict[str, str]:
    return {"send_phone": "0212345678", "dest_phone": "01012345678", "msg_body": "지연"}


def api_kko_fields() -> dict[str, str]:
    return {
        "PHONE": "01012345678",
        "CALLBACK": "0212345678",
        "MSG": "[Shop] 인증번호는 1 입니다.",
        "TEMPLATE_CODE": "A2222",
        "FAILED_TYPE": "N",
    }
