"""The API Store sandbox's fault settings and inspection API, applied to SOLAPI's routes and messages."""

from __future__ import annotations

import time

import pytest
import urllib3

from ..conftest import Api
from .conftest import PHONE, SENDER, Solapi


def test_a_5xx_fault_answers_503_and_accepts_nothing(solapi: Solapi) -> None:
    solapi.sandbox.set_faults(error_5xx_rate=1.0)
    response = solapi.raw(
        "POST", "/messages/v4/send-many/detail", {"messages": [{"to": PHONE, "from": SENDER, "text": "x"}]}
    )
    assert response.status == 503
    assert solapi.sandbox.messages() == []


def test_a_timeout_fault_records_the_send_but_the_reply_never_comes(solapi: Solapi) -> None:
    solapi.sandbox.set_faults(timeout_rate=1.0, timeout_s=2.0)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        solapi.raw(
            "POST",
            "/messages/v4/send-many/detail",
            {"messages": [{"to": PHONE, "from": SENDER, "text": "x"}]},
            timeout=0.3,
        )
    [message] = solapi.sandbox.messages()
    assert message["provider"] == "solapi"
    assert solapi.sandbox.solapi_balance == 100_000 - 20


def test_latency_delays_solapi_replies(solapi: Solapi) -> None:
    solapi.sandbox.set_faults(latency_ms=200)
    started = time.monotonic()
    solapi.ok("GET", "/cash/v1/balance")
    assert time.monotonic() - started >= 0.2


def test_a_forced_status_code_refuses_every_message_of_a_send_in_failed_message_list(solapi: Solapi) -> None:
    solapi.sandbox.set_faults(result_codes={"1024": 1.0})
    reply = solapi.send({"text": "x"})
    assert [(f["statusCode"], f["statusMessage"]) for f in reply["failedMessageList"]] == [
        ("1024", "서버 오류 (sandbox fault)")
    ]
    assert solapi.sandbox.messages() == []


def test_a_forced_error_code_answers_400_in_solapis_error_shape_on_sends_only(solapi: Solapi) -> None:
    solapi.sandbox.set_faults(result_codes={"TooManyRequests": 1.0})
    status, reply = solapi.call("POST", "/messages/v4/send-many/detail", {"messages": [{"to": PHONE, "text": "x"}]})
    assert (status, reply["errorCode"]) == (400, "TooManyRequests")
    assert solapi.ok("GET", "/cash/v1/balance")["balance"] == 100_000


def test_inspection_shows_both_providers_each_naming_itself(solapi: Solapi, api: Api) -> None:
    # Given one message through each provider
    api.sms()
    solapi.send({"text": "솔라피"})
    # Then the inspection list has both, filterable by provider
    status, messages = api.inspect("messages")
    assert status == 200
    assert [m["provider"] for m in messages] == ["apistore", "solapi"]
    _, only = api.inspect("messages?provider=solapi")
    assert [m["text"] for m in only] == ["솔라피"]
    _, counts = api.inspect("requests")
    assert counts == {"sms": 1, "solapi_send": 1}


def test_inspection_forces_a_solapi_outcome_and_sets_the_solapi_balance(solapi: Solapi, api: Api) -> None:
    status, outcomes = api.inspect("outcomes", {"phone": PHONE, "status_code": "3047"})
    assert status == 200 and outcomes["forced"][PHONE] == {"status_code": "3047"}
    assert api.inspect("outcomes", {"phone": PHONE, "status_code": "1234"})[0] == 400
    assert api.inspect("balance", {"provider": "solapi", "balance": 70}) == (200, {"balance": 70.0})
    assert api.inspect("balance?provider=solapi") == (200, {"balance": 70.0})
    assert api.inspect("balance") == (200, {"balance": 1_000_000})
    [item] = solapi.send({"text": "x"}, showMessageList=True)["messageList"]
    solapi.clock.advance(5)
    assert solapi.messages(messageId=item["messageId"])["messageList"][item["messageId"]]["statusCode"] == "3047"


def test_reset_forgets_solapi_messages_groups_files_signatures_and_balance(solapi: Solapi, api: Api) -> None:
    reply = solapi.send({"text": "x"})
    api.inspect("reset", {})
    assert solapi.sandbox.messages() == []
    assert solapi.sandbox.solapi_balance == 100_000
    status, _ = solapi.call("GET", f"/messages/v4/groups/{reply['groupInfo']['groupId']}")
    assert status == 404


def test_solapi_sender_numbers_are_managed_like_api_stores(api: Api, solapi: Solapi) -> None:
    _, senders = api.inspect("senders", {"solapi": ["0311112222"]})
    assert [s["sendnumber"] for s in senders["solapi"]] == ["0311112222"]
    assert [s["sendnumber"] for s in senders["ppurio"]] == [SENDER]
    [failed] = solapi.send({"text": "x"})["failedMessageList"]
    assert failed["statusCode"] == "1062"
