"""What the servlet container in front of API Store did before any endpoint saw a request: merging runs
of '/' in the path, and its own HTML error pages for unknown paths and wrong methods."""

from __future__ import annotations

import json

from .conftest import Api, FakeClock

TEMPLATES = "/kko/1/template/list/{client_id}"


def test_an_inner_double_slash_reaches_the_same_endpoint_with_its_query_string(api: Api) -> None:
    # Given a client whose template-list URL has an inner '//' (as a public PHP client's did)
    # When it asks for approved templates (STATUS=3) through that path
    doubled = api.get("/kko/1//template/list/{client_id}", {"STATUS": "3"})
    # Then it gets what the single-slash path answers, filter included
    assert doubled == api.get(TEMPLATES, {"STATUS": "3"})
    assert [t["template_code"] for t in doubled["templateList"]] == ["A1111", "A2222"]
    assert api.sandbox.requests_count() == {"template_list": 2}


def test_a_base_url_ending_in_a_slash_still_sends_and_reports(api: Api, clock: FakeClock) -> None:
    # Given a client configured with a base URL ending in '/', so every path starts with '//'
    sent = api.post("//ppurio/1/message/sms/{client_id}", {"send_phone": "0212345678", "dest_phone": "01012345678",
                                                             "msg_body": "슬래시"})  # fmt: skip
    # Then the SMS is accepted and recorded like any other
    assert sent["result_code"] == "200"
    assert [m["msg_body"] for m in api.sandbox.messages()] == ["슬래시"]
    # And its report is found through a path with runs of slashes, cmid taken from the query string
    clock.advance(60)
    report = api.get("///ppurio/1/message//report///{client_id}", {"cmid": sent["cmid"]})
    assert report["call_status"] and report["dest_phone"] == "01012345678"


def test_the_inspection_api_is_not_routed_as_a_provider_path_after_merging(api: Api) -> None:
    status, body = api.inspect("/messages")  # /_sandbox//messages
    assert (status, body) == (200, [])
    assert json.loads(api.raw("GET", "/_sandbox//requests").data) == {}
