"""The API Store adapter against the sandbox's servlet-container error pages over real HTTP: a base URL
that misses the endpoints gets 404, as Tomcat's HTML page or as a JSON body, and every port reads it as
a clear provider error. A send is retried (surely not accepted: the message waits in the DLQ until the URL
is fixed), never recorded as accepted or unknown; a report is asked again later; the templates are
unavailable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.sandbox import Sandbox, SandboxConfig
from notifier.domain.reports import NoReport
from notifier.domain.verdict import Verdict
from notifier.ports import AlimTalkMessage, TemplatesUnavailable, TextMessage
from notifier.providers.apistore.alimtalk import KkoSender, KkoTemplates
from notifier.providers.apistore.client import ApiStoreHttp, Credentials, PpurioProvider, new_pool
from notifier.providers.apistore.reports import ApiStoreReports

pytestmark = pytest.mark.integration

KEY, CLIENT, SENDER = "error-pages-key", "shop", "0212345678"
SMS = TextMessage("sms", "01012345678", SENDER, "[Shop] 발송되었습니다.")
AUTH_CODE = AlimTalkMessage("01012345678", SENDER, "[Shop] 인증번호는 123456 입니다.", "A2222", "N")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(api_key=KEY, client_id=CLIENT, report_delay_s=0)) as sb:
        yield sb


@pytest.fixture(params=["html", "json"])
def style(request: pytest.FixtureRequest, sandbox: Sandbox) -> Iterator[str]:
    sandbox.reset()
    sandbox.configure(error_pages=request.param)
    yield request.param
    sandbox.configure(error_pages="html")


def http(sandbox: Sandbox, prefix: str = "") -> ApiStoreHttp:
    return ApiStoreHttp(sandbox.url + prefix, lambda: Credentials(KEY, CLIENT), pool=new_pool(2))


def test_the_right_base_url_sends_so_the_wrong_one_below_is_what_fails(sandbox: Sandbox, style: str) -> None:
    [result] = PpurioProvider(http(sandbox)).send_texts([SMS])
    assert (result.verdict, result.code) == (Verdict.ACCEPTED, "200")


@pytest.mark.parametrize("channel", ["sms", "alimtalk"])
def test_a_send_answered_404_is_retried_as_surely_not_accepted_with_a_clear_reason(
    sandbox: Sandbox, style: str, channel: str
) -> None:
    # Given an adapter whose base URL misses the provider's paths (an extra "/api" prefix)
    wrong = http(sandbox, "/api")
    # When it sends an SMS or an AlimTalk
    if channel == "sms":
        [result] = PpurioProvider(wrong).send_texts([SMS])
    else:
        [result] = KkoSender(wrong).send_alimtalks([AUTH_CODE])
    # Then the 404 is a retry (the message was surely not taken), whose reason says what came back and why
    page = "HTML error page" if style == "html" else "JSON body"
    assert (result.verdict, result.code, result.message_id) == (Verdict.RETRY, "http-404", None)
    assert result.reason == f"provider HTTP 404 ({page}), not accepted: no such endpoint, check the provider base URL"
    # And the sandbox took nothing
    assert sandbox.messages() == []
    assert sandbox.requests_count() == {"unknown": 1}


def test_a_report_answered_404_is_no_report_to_ask_again(sandbox: Sandbox, style: str) -> None:
    fetched = ApiStoreReports(http(sandbox, "/api")).fetch({"id": "r1", "cmid": "20261123120000000001"})
    assert fetched.report == NoReport("http-404", "provider HTTP 404")


def test_a_template_list_answered_404_makes_the_templates_unavailable(sandbox: Sandbox, style: str) -> None:
    with pytest.raises(TemplatesUnavailable, match=r"template list refused \(http-404\)"):
        KkoTemplates(http(sandbox, "/api")).get("A2222")
