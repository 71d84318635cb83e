"""The SOLAPI client against the SOLAPI sandbox over real HTTP: signed requests, one send-many per
batch settled per message, MMS upload, reports with SOLAPI's SMS fallback, templates, balance, and
the errors whose retry must never send twice."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from devstack.sandbox import Sandbox, SandboxConfig
from devstack.sandbox.config import DEFAULT_OUTCOME_MIX
from devstack.stack import ISSUED_KEYS
from notifier.domain.alimtalk import check
from notifier.domain.event import AlimTalk
from notifier.providers.solapi.auth import Credentials, Signer
from notifier.providers.solapi.client import Kakao, OutMessage, SolapiClient, SolapiError, SolapiHttp, new_pool

pytestmark = pytest.mark.integration

SENDER = "0212345678"
START = 1_795_402_800.0  # 2026-11-23 12:00 KST
PF_ID = "KA01PF261201000000000WIRETEST01"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2000
SHIPPED = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."  # seed template A1111


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def creds() -> Credentials:
    c = Credentials("NCS" + secrets.token_hex(7).upper()[:13], secrets.token_hex(16))
    ISSUED_KEYS.update({c.api_key, c.api_secret})  # the suite's guard fails any test that prints either
    return c


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def sandbox(creds: Credentials, clock: Clock) -> Iterator[Sandbox]:
    config = SandboxConfig(
        solapi_api_key=creds.api_key, solapi_api_secret=creds.api_secret, solapi_pf_id=PF_ID, clock=clock,
        report_delay_s=5.0, seed=7,
    )  # fmt: skip
    with Sandbox(config).start() as sb:
        yield sb


@pytest.fixture(autouse=True)
def clean(sandbox: Sandbox, clock: Clock) -> None:
    sandbox.reset()
    sandbox.set_faults()
    sandbox.clear_outcomes()
    for kind in ("solapi", "solapi_ata"):
        sandbox.set_outcome_mix(kind, DEFAULT_OUTCOME_MIX[kind])
    clock.now = START


def solapi(sandbox: Sandbox, creds: Credentials, clock: Clock, read_timeout: float = 5.0) -> SolapiClient:
    http = SolapiHttp(sandbox.url, Signer(lambda: creds, clock=clock), pool=new_pool(), read_timeout=read_timeout)
    return SolapiClient(http)


def msg(ref: str, to: str, **kw: object) -> OutMessage:
    return OutMessage(ref=ref, to=to, from_=SENDER, **kw)  # type: ignore[arg-type]


def shipped(disable_sms: bool = True) -> Kakao:
    return Kakao(PF_ID, "A1111", {"name": "홍길동", "order": "1234"}, disable_sms=disable_sms)


def test_sms_lms_mms_and_alimtalk_go_in_one_request_and_each_gets_its_message_id(sandbox, creds, clock) -> None:
    # Given a batch of one message of each kind
    client = solapi(sandbox, creds, clock)
    batch = [
        msg("sms", "01011110001", type="SMS", text="[Shop] 발송되었습니다."),
        msg("lms", "01011110002", type="LMS", text="긴 안내 " * 40, subject="배송 안내"),
        msg("mms", "01011110003", type="MMS", text="사진을 확인하세요", subject="사진", image=JPEG),
        msg("ata", "01011110004", type="ATA", text=SHIPPED, kakao=shipped()),
    ]
    before = sandbox.requests_count().get("solapi_send", 0)
    # When they are sent
    results = client.send_many(batch)
    # Then one send request carried all four, and SOLAPI registered each with the type we chose
    assert sandbox.requests_count()["solapi_send"] - before == 1
    assert [(r.ref, r.verdict, r.code) for r in results] == [(m.ref, "accepted", "2000") for m in batch]
    assert len({r.message_id for r in results}) == 4
    listed = [client.message(r.message_id or "") for r in results]
    assert [m and m["type"] for m in listed] == ["SMS", "LMS", "MMS", "ATA"]


def test_an_mms_image_is_uploaded_once_for_every_message_that_carries_it(sandbox, creds, clock) -> None:
    client = solapi(sandbox, creds, clock)
    first = client.send_many([msg("a", "01011110001", type="MMS", text="사진", image=JPEG)])
    second = client.send_many([msg("b", "01011110002", type="MMS", text="사진", image=JPEG)])
    assert [r.verdict for r in first + second] == ["accepted", "accepted"]
    assert sandbox.requests_count()["solapi_upload"] == 1 and client.uploads == 1


def test_one_refused_message_does_not_hold_back_the_others_in_its_request(sandbox, creds, clock) -> None:
    # Given a batch where one message names a sender number that is not registered
    client = solapi(sandbox, creds, clock)
    bad = OutMessage(ref="bad", type="SMS", to="01011110002", text="안녕", from_="0299999999")
    results = client.send_many([msg("ok", "01011110001", type="SMS", text="안녕"), bad])
    # Then the good one is accepted and the bad one rejected with SOLAPI's code and its Korean reason
    assert [(r.verdict, r.code) for r in results] == [("accepted", "2000"), ("rejected", "1062")]
    assert "발신번호 미등록" in results[1].reason


def test_reports_go_from_pending_to_delivered_or_failed_by_statuscode(sandbox, creds, clock) -> None:
    sandbox.force_outcome("01011110001", status_code="4000")
    sandbox.force_outcome("01011110002", status_code="3043")
    client = solapi(sandbox, creds, clock)
    ok, off = client.send_many(
        [msg("ok", "01011110001", type="SMS", text="안녕"), msg("off", "01011110002", type="SMS", text="안녕")]
    )
    assert client.report(ok.message_id or "").outcome == "pending"
    clock.now += 60
    delivered, failed = client.report(ok.message_id or ""), client.report(off.message_id or "")
    assert (delivered.outcome, delivered.code, delivered.delivered_via) == ("delivered", "4000", "sms")
    assert (failed.outcome, failed.code) == ("failed", "3043")
    assert "단말기 Power off" in failed.reason


def test_an_alimtalk_to_a_non_kakao_user_is_delivered_by_solapis_sms_fallback(sandbox, creds, clock) -> None:
    # Given every AlimTalk fails on Kakao's side (not a KakaoTalk user) and every SMS is delivered
    sandbox.set_outcome_mix("solapi_ata", {"3104": 1.0})
    sandbox.set_outcome_mix("solapi", {"4000": 1.0})
    client = solapi(sandbox, creds, clock)
    [sent] = client.send_many([msg("a", "01011110009", type="ATA", text=SHIPPED, kakao=shipped(disable_sms=False))])
    # When both the AlimTalk's and its fallback's reports are in
    clock.now += 60
    report = client.report(sent.message_id or "")
    # Then the AlimTalk counts as delivered, by the fallback SMS
    assert (report.outcome, report.fallback_used) == ("delivered", True)
    assert report.code.startswith("3104/") and report.delivered_via in ("sms", "lms")


def test_an_alimtalk_with_solapis_fallback_off_fails_with_kakaos_reason(sandbox, creds, clock) -> None:
    sandbox.force_outcome("01011110009", status_code="3104")
    client = solapi(sandbox, creds, clock)
    [sent] = client.send_many([msg("a", "01011110009", type="ATA", text=SHIPPED, kakao=shipped(disable_sms=True))])
    clock.now += 60
    report = client.report(sent.message_id or "")
    assert (report.outcome, report.code, report.fallback_used) == ("failed", "3104", False)
    assert "카카오톡 미사용자" in report.reason


@pytest.mark.parametrize(
    ("wrong", "code"),
    [("secret", "SignatureDoesNotMatch"), ("key", "InvalidAPIKey"), ("clock", "RequestTimeTooSkewed")],
)
def test_an_auth_refusal_is_retried_later_and_nothing_was_sent(sandbox, creds, clock, wrong, code) -> None:
    # Given a rotated secret, a wrong key, or a clock 20 minutes off
    bad = {
        "secret": Credentials(creds.api_key, "not-the-secret-not-the-secret-00"),
        "key": Credentials("NCSNOTAKEY000000", creds.api_secret),
        "clock": creds,
    }[wrong]
    skew = 1200.0 if wrong == "clock" else 0.0
    http = SolapiHttp(sandbox.url, Signer(lambda: bad, clock=lambda: clock.now + skew), pool=new_pool())
    # When a batch is sent
    results = SolapiClient(http).send_many([msg("a", "01011110001", type="SMS", text="안녕")])
    # Then it waits for a retry, and SOLAPI holds no message
    assert [(r.verdict, r.code) for r in results] == [("retry", code)]
    assert [m for m in sandbox.messages() if m["provider"] == "solapi"] == []


def test_an_empty_balance_is_retried_later_and_the_balance_command_reads_it(sandbox, creds, clock) -> None:
    client = solapi(sandbox, creds, clock)
    assert client.balance() == 100_000.0
    sandbox.set_solapi_balance(0)
    [result] = client.send_many([msg("a", "01011110001", type="SMS", text="안녕")])
    assert (result.verdict, result.code) == ("retry", "1030")
    assert client.balance() == 0.0


def test_a_503_is_retried_and_a_reply_lost_after_sending_makes_every_message_unknown(sandbox, creds, clock) -> None:
    client = solapi(sandbox, creds, clock, read_timeout=0.5)
    sandbox.set_faults(error_5xx_rate=1.0)
    assert [r.verdict for r in client.send_many([msg("a", "01011110001", type="SMS", text="안녕")])] == ["retry"]
    sandbox.set_faults(timeout_rate=1.0, timeout_s=1.0)
    batch = [msg("a", "01011110001", type="SMS", text="안녕"), msg("b", "01011110002", type="SMS", text="안녕")]
    assert [(r.verdict, r.code) for r in client.send_many(batch)] == [("unknown", "timeout"), ("unknown", "timeout")]


def test_a_refused_connection_is_retried(creds, clock) -> None:
    http = SolapiHttp("http://127.0.0.1:9", Signer(lambda: creds, clock=clock), pool=new_pool(), connect_timeout=1)
    [result] = SolapiClient(http).send_many([msg("a", "01011110001", type="SMS", text="안녕")])
    assert (result.verdict, result.code) == ("retry", "connect")


def test_solapis_templates_feed_the_same_pre_send_check_as_api_stores(sandbox, creds, clock) -> None:
    client = solapi(sandbox, creds, clock)
    templates = client.templates(pf_id=PF_ID)
    assert {"A1111", "A2222", "R3333"} <= set(templates)
    a = AlimTalk(template_code="A1111", variables={"name": "홍길동", "order": "1234"})
    checked = check(a, SHIPPED, templates["A1111"])
    assert not hasattr(checked, "kind"), checked  # a Checked, not a CheckFailure
    refused = check(AlimTalk(template_code="R3333", variables={"name": "x"}), "x", templates["R3333"])
    assert getattr(refused, "kind", None) == "not_approved"
    assert client.template("A2222") == templates["A2222"]
    assert client.template("NOPE") is None


def test_a_request_error_on_reading_raises_with_solapis_code(sandbox, creds, clock) -> None:
    bad = Credentials(creds.api_key, "not-the-secret-not-the-secret-00")
    http = SolapiHttp(sandbox.url, Signer(lambda: bad, clock=clock), pool=new_pool())
    with pytest.raises(SolapiError) as caught:
        SolapiClient(http).balance()
    assert caught.value.error.code == "SignatureDoesNotMatch" and caught.value.error.verdict == "retry"
