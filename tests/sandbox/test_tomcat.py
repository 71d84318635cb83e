"""What the servlet container in front of API Store did before any endpoint saw a request: merging runs
of '/' in the path, and its own HTML error pages for unknown paths and wrong methods."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from .conftest import KEY, Api, FakeClock

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


# --- error pages ---------------------------------------------------------------------------------------


def test_an_unknown_provider_path_is_tomcats_html_404_before_any_auth(api: Api) -> None:
    # Given a client without a key asking for an endpoint that does not exist (with a query string)
    stranger = Api(api.sandbox, key=None)
    response = stranger.raw("POST", "/ppurio/1/message/fax/{client_id}?cmid=1")
    # Then the container answers 404 with its HTML error report naming the path, not a JSON business error
    assert response.status == 404
    assert response.headers["Content-Type"] == "text/html;charset=utf-8"
    page = response.data.decode("utf-8")
    assert page.startswith("<html><head><title>Apache Tomcat/7.0.47 - Error report</title>")
    assert "<h1>HTTP Status 404 - /ppurio/1/message/fax/shop</h1>" in page
    assert "The requested resource is not available." in page
    assert "cmid" not in page
    assert api.sandbox.requests_count() == {"unknown": 1}


def test_the_404_page_escapes_the_path_it_names(api: Api) -> None:
    # Given a request line whose path carries markup as sent (http.client does not percent-encode it)
    host, port = urlsplit(api.sandbox.url).hostname, urlsplit(api.sandbox.url).port
    connection = http.client.HTTPConnection(host or "", port, timeout=5)
    connection.request("GET", "/kko/1/<b>x</b>")
    page = connection.getresponse().read().decode("utf-8")
    connection.close()
    # Then the page names it as text, never as markup
    assert "HTTP Status 404 - /kko/1/&lt;b&gt;x&lt;/b&gt;" in page
    assert "<b>x</b>" not in page


def test_a_wrong_method_on_a_provider_path_is_tomcats_html_405_with_allow(api: Api) -> None:
    # When a send endpoint is asked with GET
    response = api.raw("GET", "/ppurio/1/message/sms/{client_id}")
    # Then the container answers 405 in HTML, saying which methods the path takes; nothing is sent
    assert response.status == 405
    assert response.headers["Content-Type"] == "text/html;charset=utf-8"
    assert response.headers["Allow"] == "POST"
    page = response.data.decode("utf-8")
    assert "<h1>HTTP Status 405 - HTTP method GET is not supported by this URL</h1>" in page
    assert "The specified HTTP method is not allowed for the requested resource." in page
    assert api.sandbox.messages() == []
    deleted = api.http.request("DELETE", f"{api.sandbox.url}/kko/1/report/shop", headers={"x-waple-authorization": KEY})
    assert (deleted.status, deleted.headers["Allow"]) == (405, "GET, POST")


def test_error_pages_can_be_switched_to_the_earlier_json_bodies(api: Api) -> None:
    # Given the sandbox told to answer errors as it once did (JSON), through the inspection API
    status, settings = api.inspect("config", {"error_pages": "json"})
    assert (status, settings["error_pages"]) == (200, "json")
    # Then a 404 and a 405 carry a JSON {"error"} body, statuses unchanged
    missing = api.raw("POST", "/ppurio/1/message/fax/{client_id}")
    wrong = api.raw("GET", "/kko/1/msg/{client_id}")
    assert (missing.status, json.loads(missing.data)) == (
        404,
        {"error": "no such endpoint: /ppurio/1/message/fax/shop"},
    )
    assert (wrong.status, json.loads(wrong.data)) == (405, {"error": "GET is not allowed on /kko/1/msg/shop"})
    assert wrong.headers["Allow"] == "POST"
    assert api.inspect("config", {"error_pages": "xml"})[0] == 400


def test_the_inspection_api_keeps_answering_json_errors(api: Api) -> None:
    missing = api.raw("GET", "/_sandbox/nothing")
    wrong = api.http.request("DELETE", f"{api.sandbox.url}/_sandbox/messages")
    for response, status in ((missing, 404), (wrong, 405)):
        assert response.status == status
        assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
        assert "error" in json.loads(response.data)


def test_solapi_paths_keep_solapis_json_405(api: Api) -> None:
    response = api.raw("GET", "/messages/v4/send-many/detail")
    assert response.status == 405
    assert json.loads(response.data)["errorCode"] == "MethodNotAllowed"


def test_an_unknown_path_under_solapis_prefixes_gets_solapis_json_404_not_tomcats_page(api: Api) -> None:
    # Given a path under SOLAPI's /messages/ prefix that no SOLAPI route takes
    # When it is requested
    response = api.raw("POST", "/messages/v4/no-such-thing")
    # Then SOLAPI's own error shape answers, since API Store's Tomcat never served SOLAPI's paths
    assert response.status == 404
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert json.loads(response.data)["errorCode"] == "NotFound"
