"""The dispatcher's AlimTalk route: every send result code, the template check, provider-side and
app-side fallback, and the at-most-once guarantee covering the AlimTalk + SMS pair."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from notifier.aws.eventbridge import detail_type
from notifier.domain.alimtalk import Template, TemplateButton
from notifier.domain.verdict import Verdict
from notifier.ports import SendResult, TemplatesUnavailable
from notifier.providers.apistore.alimtalk import wire_buttons
from notifier.providers.apistore.codes import KKO_SEND_CODES
from notifier.usecases.dispatch import Dispatcher, Inbound, Settings
from tests.fakes import Clock, InMemoryRecords, ScriptedAlimTalk, ScriptedProvider, accepted, published

SENDER = "0212345678"
TEXT = "홍길동님, 주문하신 상품이 발송되었습니다."
TEMPLATES = {
    "A1111": Template("A1111", "배송 안내", "#{name}님, 주문하신 상품이 발송되었습니다.", "승인",
                      (TemplateButton("웹링크", "배송조회", "https://shop.example/o/#{order}"),)),
    "R3333": Template("R3333", "쿠폰", "#{name}님께만 드리는 특별 할인 쿠폰!", "반려"),
}  # fmt: skip


class Templates:
    def __init__(self, unavailable: bool = False) -> None:
        self.unavailable = unavailable
        self.calls = 0

    def get(self, code: str) -> Template | None:
        self.calls += 1
        if self.unavailable:
            raise TemplatesUnavailable("cannot read the AlimTalk template list: provider HTTP 503")
        return TEMPLATES.get(code)


class Kko(ScriptedAlimTalk):
    def __init__(self, *results: SendResult, on_send=None) -> None:
        super().__init__(*(results or [accepted("20261122000000000099")]), on_send=on_send)


def make(kko=None, sms=None, templates=None, records=None, max_receive=3):
    kko, sms = kko or Kko(), sms or ScriptedProvider(accepted("20261122000000000001"))
    records, clock = records or InMemoryRecords(), Clock()
    d = Dispatcher(
        records=records,
        provider=sms,
        alimtalk=kko,
        templates=templates or Templates(),
        settings=Settings(default_sender=SENDER, provider="apistore", max_receive_count=max_receive),
        clock=clock,
    )
    return d, records, kko, sms, clock


def body(**over: Any) -> str:
    a = {"template_code": "A1111", "variables": {"name": "홍길동", "order": "1234"}, **over.pop("alimtalk", {})}
    return json.dumps({"id": "akt-1", "channel": "alimtalk", "to": "010-1234-5678", "text": TEXT, "alimtalk": a,
                       **over}, ensure_ascii=False)  # fmt: skip


def msg(b: str, clock: Clock, *, message_id="m-1", receive_count=1) -> Inbound:
    return Inbound(message_id, b, receive_count, clock.now + 30)


def test_an_approved_alimtalk_is_sent_with_provider_fallback_fields_and_recorded():
    d, records, kko, sms, clock = make()
    out = d.handle(msg(body(), clock))
    [m] = kko.sent
    assert (m.phone, m.callback, m.msg, m.template_code) == ("01012345678", SENDER, TEXT, "A1111")
    assert (m.failed_type, m.failed_subject, m.failed_msg) == ("SMS", "배송 안내", TEXT)
    assert wire_buttons(m.buttons) == {
        "btn_types": "웹링크",
        "btn_txts": "배송조회",
        "btn_urls1": "https://shop.example/o/1234",
    }
    rec = records.get("akt-1")
    assert (out.kind, rec["status"], rec["channel_used"], rec["fallback"], rec["fallback_type"]) == (
        "sent", "sent", "alimtalk", "provider", "SMS")  # fmt: skip
    assert rec["cmid"] == "20261122000000000099" and sms.sent == []


def test_fallback_none_sends_failed_type_n_and_records_no_fallback():
    d, records, kko, sms, clock = make()
    d.handle(msg(body(alimtalk={"fallback": "none"}), clock))
    assert kko.sent[0].failed_type == "N" and kko.sent[0].failed_msg is None
    assert records.get("akt-1")["fallback"] == "none"


# ------------------------------------------------------------------ every send result code

EXPECTED_STATUS = {
    Verdict.ACCEPTED: ("sent", "ack"),
    Verdict.REJECTED: ("rejected", "ack"),
    Verdict.RETRY: ("sending", "retry"),
    Verdict.FALLBACK: ("sent", "ack"),  # through the app-side SMS
    Verdict.UNKNOWN: ("unknown", "ack"),
}


@pytest.mark.parametrize("code", sorted(KKO_SEND_CODES))
def test_every_kko_send_result_code_is_handled_by_its_verdict(code):
    spec = KKO_SEND_CODES[code]
    result = SendResult(
        str(spec.verdict), code, spec.reason, message_id="20261122000000000099" if code == "200" else None
    )
    d, records, kko, sms, clock = make(Kko(result))
    out = d.handle(msg(body(), clock))
    rec = records.get("akt-1")
    status, action = EXPECTED_STATUS[spec.verdict]
    assert (rec["status"], out.action) == (status, action)
    if spec.verdict == Verdict.FALLBACK:
        # the AlimTalk refusal is kept, and the SMS went out once, through the app
        assert (rec["fallback"], rec["alimtalk_code"], rec["channel_used"]) == ("app", code, "sms")
        assert rec["alimtalk_reason"] == spec.reason and len(sms.sent) == 1
    else:
        assert sms.sent == []
    if spec.verdict == Verdict.REJECTED:
        assert rec["reason"] == spec.reason


def test_a_code_outside_the_spec_is_unknown_and_never_falls_back():
    d, records, kko, sms, clock = make(Kko(SendResult("unknown", "999", "unknown result_code 999")))
    d.handle(msg(body(), clock))
    assert records.get("akt-1")["status"] == "unknown" and sms.sent == []


# ------------------------------------------------------------------ the check and app-side fallback


def test_unapproved_template_falls_back_to_sms_in_the_app_and_never_calls_kakao():
    d, records, kko, sms, clock = make()
    b = body(
        text="홍길동님께만 드리는 특별 할인 쿠폰!", alimtalk={"template_code": "R3333", "variables": {"name": "홍길동"}}
    )
    d.handle(msg(b, clock))
    rec = records.get("akt-1")
    assert kko.sent == [] and [(m.kind, m.msg_body) for m in sms.sent] == [
        ("sms", "홍길동님께만 드리는 특별 할인 쿠폰!")
    ]
    assert (rec["status"], rec["fallback"], rec["alimtalk_code"]) == ("sent", "app", "check:not_approved")
    assert rec["reason"].startswith("AlimTalk not sent (alimtalk.template_code: template 'R3333' is 반려")


def test_fallback_text_and_subject_are_used_by_the_app_side_sms():
    d, records, kko, sms, clock = make()
    long = "가" * 60
    d.handle(msg(body(alimtalk={"template_code": "NOPE", "fallback_text": long, "fallback_subject": "안내"}), clock))
    [m] = sms.sent
    assert (m.kind, m.msg_body, m.subject) == ("lms", long, "안내")
    assert records.get("akt-1")["channel_used"] == "lms"


def test_missing_variable_is_rejected_whatever_the_fallback_policy():
    d, records, kko, sms, clock = make()
    d.handle(msg(body(alimtalk={"variables": {"name": "홍길동"}}), clock))
    rec = records.get("akt-1")
    assert rec["status"] == "rejected" and rec["provider_code"] == "check:missing_variable"
    assert kko.sent == [] and sms.sent == []


def test_a_failed_check_with_fallback_none_is_rejected():
    d, records, kko, sms, clock = make()
    d.handle(msg(body(text="다른 문구", alimtalk={"fallback": "none"}), clock))
    rec = records.get("akt-1")
    assert rec["status"] == "rejected" and rec["reason"].startswith("text: differs from template 'A1111'")
    assert kko.sent == [] and sms.sent == []


def test_template_list_unavailable_is_retried_and_falls_back_on_the_last_delivery():
    templates = Templates(unavailable=True)
    d, records, kko, sms, clock = make(templates=templates, max_receive=3)
    outs = [d.handle(msg(body(), clock, receive_count=n)) for n in (1, 2, 3)]
    assert [o.action for o in outs] == ["retry", "retry", "ack"]
    rec = records.get("akt-1")
    assert (rec["status"], rec["fallback"], rec["alimtalk_code"]) == ("sent", "app", "templates")
    assert "still so after 3 deliveries" in rec["alimtalk_reason"]
    assert kko.sent == [] and len(sms.sent) == 1


def test_kakao_unavailable_until_the_last_delivery_falls_back_once():
    down = SendResult("retry", "http-503", "provider HTTP 503")
    d, records, kko, sms, clock = make(Kko(down), max_receive=2)
    first = d.handle(msg(body(), clock, receive_count=1))
    second = d.handle(msg(body(), clock, receive_count=2))
    assert (first.action, second.action) == ("retry", "ack")
    assert len(kko.sent) == 2 and len(sms.sent) == 1  # 503 surely did not send: a second try is safe
    assert records.get("akt-1")["alimtalk_reason"] == "provider HTTP 503; AlimTalk still unavailable after 2 deliveries"


# ------------------------------------------------------------------ at most once, for the pair


def test_redelivery_after_an_app_fallback_sends_neither_alimtalk_nor_sms_again():
    refused = SendResult("fallback", "700", "template not approved")
    d, records, kko, sms, clock = make(Kko(refused))
    d.handle(msg(body(), clock))
    again = d.handle(msg(body(), clock, message_id="m-2", receive_count=2))
    assert again.kind == "duplicate"
    assert len(kko.sent) == 1 and len(sms.sent) == 1


def test_fallback_sms_that_must_be_retried_never_retries_the_alimtalk():
    refused = SendResult("fallback", "800", "template code error")
    sms = ScriptedProvider(SendResult("retry", "connect", "could not connect"), accepted())
    d, records, kko, sms, clock = make(Kko(refused), sms=sms)
    first = d.handle(msg(body(), clock))
    assert first.action == "retry" and records.get("akt-1")["phase"] == "sms_fallback"
    second = d.handle(msg(body(), clock, receive_count=2))
    assert second.kind == "sent"
    assert len(kko.sent) == 1 and len(sms.sent) == 2  # the first SMS never connected


class CrashDuringFallbackSms(InMemoryRecords):
    def apply(self, record_id, change) -> bool:
        if change.set.get("status") == "sent":
            raise RuntimeError("container frozen after the fallback SMS")
        return super().apply(record_id, change)


def test_crash_after_the_fallback_sms_ends_unknown_without_a_second_message():
    refused = SendResult("fallback", "900", "no profile")
    d, records, kko, sms, clock = make(Kko(refused), records=CrashDuringFallbackSms())
    with pytest.raises(RuntimeError):
        d.handle(msg(body(), clock))
    clock.advance(31)
    out = d.handle(msg(body(), clock, receive_count=2))
    assert out.kind == "unknown"
    assert len(kko.sent) == 1 and len(sms.sent) == 1


def test_concurrent_duplicates_of_a_falling_back_alimtalk_send_one_alimtalk_and_one_sms():
    refused = SendResult("fallback", "700", "template not approved")
    gate = threading.Barrier(6, timeout=5)
    d, records, kko, sms, clock = make(Kko(refused))

    def run(i: int) -> None:
        gate.wait()
        d.handle(msg(body(), clock, message_id=f"m-{i}"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(kko.sent) == 1 and len(sms.sent) == 1


# ------------------------------------------------------------------ test mode


def test_test_mode_uses_msg_test_is_not_polled_and_never_falls_back_to_a_real_sms():
    d, records, kko, sms, clock = make()
    d.handle(msg(body(test=True), clock))
    # The producer is told the provider's verdict: there will be no report to wait for
    assert [detail_type(e) for e in published(records)] == ["Notification Tested"]
    rec = records.get("akt-1")
    assert kko.sent[0].test is True
    assert rec["test"] is True and rec["status"] == "sent" and "poll_shard" not in rec
    assert rec["reason"].startswith("test mode (msg_test)")
    # And a refused test send is rejected, not turned into a real SMS
    d2, records2, kko2, sms2, clock2 = make(Kko(SendResult("fallback", "700", "template not approved")))
    d2.handle(msg(body(test=True), clock2))
    assert records2.get("akt-1")["status"] == "rejected" and sms2.sent == []
