"""The report APIs adapter over a scripted wire: which API a record is asked on, and how every reply
the wire can give (bare JSON strings and null included, which Reply.body cannot show) is read."""

from __future__ import annotations

from typing import Any

import pytest

from notifier.domain.reports import Final, NoReport, Pending
from notifier.handlers.poller_wiring import PollerWiring
from notifier.handlers.wiring import ConfigError
from notifier.providers.apistore.client import Reply, TransportError
from notifier.providers.apistore.reports import ApiStoreReports


class Wire:
    """ApiStoreHttp's call(), answering with one scripted reply (or raising one transport error)."""

    def __init__(self, answer: Reply | TransportError) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str, dict[str, str] | None]] = []

    def call(self, method: str, path: str, *, query: dict[str, str] | None = None, **_: Any) -> Reply:
        self.calls.append((method, path, query))
        if isinstance(self.answer, TransportError):
            raise self.answer
        return self.answer


def reply(raw: bytes, status: int = 200) -> Reply:
    return Reply(status, None, raw)  # body is what the adapter must not rely on


SMS = {"id": "r1", "cmid": "20261122180000000001", "channel_used": "sms"}
ALIMTALK = {"id": "r2", "cmid": "20261122180000000002", "channel_used": "alimtalk", "fallback": "provider",
            "fallback_type": "LMS"}  # fmt: skip


def test_sms_lms_and_mms_are_asked_on_the_ppurio_report_api_by_cmid_as_text() -> None:
    wire = Wire(reply(b'{"call_status":"4100"}'))
    ApiStoreReports(wire).fetch(SMS)  # type: ignore[arg-type]
    assert wire.calls == [("GET", "/ppurio/1/message/report/{client_id}", {"cmid": "20261122180000000001"})]


def test_alimtalk_is_asked_on_the_kko_report_api() -> None:
    wire = Wire(reply(b'{"STATUS":"3","RSLT":"0","msg_rslt":"00"}'))
    fetched = ApiStoreReports(wire).fetch(ALIMTALK)  # type: ignore[arg-type]
    assert wire.calls == [("GET", "/kko/1/report/{client_id}", {"cmid": "20261122180000000002"})]
    assert isinstance(fetched.report, Final) and fetched.report.delivered_via == "alimtalk"


def test_a_delivered_alimtalk_fallback_names_the_fallback_type_the_dispatcher_asked_for() -> None:
    wire = Wire(reply(b'{"STATUS":"3","RSLT":"A","msg_rslt":"0"}'))
    report = ApiStoreReports(wire).fetch(ALIMTALK).report  # type: ignore[arg-type]
    assert isinstance(report, Final)
    assert (report.status, report.delivered_via, report.fallback_used) == ("delivered", "lms", True)


@pytest.mark.parametrize(
    "raw", [b'"result is null"', b"null", b"", b"  \n", b'{"result_code":"200","result_message":"result is null"}']
)
def test_every_not_ready_reply_is_pending_whatever_its_json_shape(raw: bytes) -> None:
    assert isinstance(ApiStoreReports(Wire(reply(raw))).fetch(SMS).report, Pending)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (TransportError("timeout", "the provider did not answer in time", surely_not_sent=False), "timeout"),
        (TransportError("connect", "could not connect", surely_not_sent=True), "connect"),
        (reply(b"<html>503</html>", status=503), "http-503"),
        (reply(b"<html>oops</html>"), "bad-reply"),
        (reply(b"\xff\xfe"), "bad-reply"),
    ],
)
def test_a_failed_call_is_no_report_to_retry_later(answer: Reply | TransportError, code: str) -> None:
    report = ApiStoreReports(Wire(answer)).fetch(SMS).report  # type: ignore[arg-type]
    assert isinstance(report, NoReport) and report.code == code


ENV = {
    "TABLE_NAME": "t",
    "PROVIDER_KEY_PARAM": "/k",
    "PROVIDER_CLIENT_ID_PARAM": "/c",
    "DEFAULT_SENDER": "0212345678",
    "PROVIDER_CONNECT_TIMEOUT": "3",
    "PROVIDER_READ_TIMEOUT": "5",
}


def test_poller_settings_come_from_the_environment_with_the_call_budget_from_the_timeouts() -> None:
    wiring = PollerWiring.from_env({**ENV, "POLL_CONCURRENCY": "8", "POLL_SHARDS": "4", "REPORT_EXPIRY_HOURS": "72"})
    s = wiring.settings
    assert (s.concurrency, s.shards, s.expiry_hours, s.page_size, s.call_budget_s) == (8, 4, 72.0, 200, 10.0)
    assert PollerWiring.from_env(ENV).settings.concurrency == 32


def test_poller_configuration_errors_are_named() -> None:
    with pytest.raises(ConfigError, match="POLL_SHARDS"):
        PollerWiring.from_env({**ENV, "POLL_SHARDS": "0"})
    with pytest.raises(ConfigError, match="TABLE_NAME"):
        PollerWiring.from_env({k: v for k, v in ENV.items() if k != "TABLE_NAME"})
