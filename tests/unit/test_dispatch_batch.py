"""A batch of SQS messages in phases: every message claimed and made ready, one provider call per
kind for all the ready ones, each record settled from its own entry of that call's answer."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from notifier.domain.alimtalk import Template
from notifier.ports import SendResult
from notifier.usecases.dispatch import Dispatcher, Inbound, Outcome, Settings
from tests.fakes import Clock, InMemoryRecords, ScriptedAlimTalk, ScriptedProvider, accepted

SENDER = "0212345678"
TEXT = "홍길동님, 주문하신 상품이 발송되었습니다."
TEMPLATE = Template("A1111", "배송 안내", "#{name}님, 주문하신 상품이 발송되었습니다.", "승인")
LOST = SendResult("unknown", "timeout", "the provider did not answer in time after the request was sent")


class Templates:
    def get(self, code: str) -> Template | None:
        return TEMPLATE if code == TEMPLATE.code else None


def make(sms: ScriptedProvider | None = None, kko: ScriptedAlimTalk | None = None, records=None):
    sms = sms or ScriptedProvider(*(accepted(f"2026120200000000000{i}") for i in range(10)))
    kko = kko or ScriptedAlimTalk(accepted("20261202000000000099"))
    records, clock = records or InMemoryRecords(), Clock()
    d = Dispatcher(
        records=records,
        provider=sms,
        alimtalk=kko,
        templates=Templates(),
        settings=Settings(default_sender=SENDER, provider="apistore", max_receive_count=3),
        clock=clock,
    )
    return d, records, sms, kko, clock


def sms_body(rid: str, **over: Any) -> str:
    return json.dumps({"id": rid, "to": "010-1234-5678", "text": "[Shop] 발송되었습니다.", **over}, ensure_ascii=False)


def alimtalk_body(rid: str, **alimtalk: Any) -> str:
    a = {"template_code": "A1111", "variables": {"name": "홍길동"}, **alimtalk}
    e = {"id": rid, "channel": "alimtalk", "to": "010-1234-5678", "text": TEXT, "alimtalk": a}
    return json.dumps(e, ensure_ascii=False)


def batch(clock: Clock, *bodies: str, receive_count: int = 1, tag: str = "m") -> list[Inbound]:
    return [Inbound(f"{tag}-{i}", b, receive_count, clock.now + 30) for i, b in enumerate(bodies)]


def outcomes(done: list[Outcome | Exception]) -> list[tuple[str, str]]:
    assert not [o for o in done if isinstance(o, Exception)], done
    return [(o.kind, o.status) for o in done if isinstance(o, Outcome)]


def test_a_batch_of_ten_sms_goes_to_the_provider_in_one_call_of_ten():
    # Given ten valid SMS events in one SQS batch
    d, records, sms, _, clock = make()
    with ThreadPoolExecutor(4) as pool:
        # When the dispatcher takes the batch
        done = d.handle_batch(batch(clock, *(sms_body(f"b-{i}") for i in range(10))), pool)
    # Then the provider got one send_texts call holding all ten messages
    assert [len(b) for b in sms.batches] == [10]
    # And each record is sent with the message id of its own entry in the answer
    assert outcomes(done) == [("sent", "sent")] * 10
    cmids = {records.get(f"b-{i}")["cmid"] for i in range(10)}
    assert cmids == {f"2026120200000000000{i}" for i in range(10)}


def test_a_mixed_batch_makes_one_call_per_kind_with_only_the_claimed_ready_messages():
    # Given an SMS already sent by an earlier batch
    d, records, sms, kko, clock = make()
    d.handle_batch(batch(clock, sms_body("dup"), tag="earlier"))
    # When a batch holds an SMS, an AlimTalk, an invalid event and a duplicate of the earlier SMS
    done = d.handle_batch(
        batch(clock, sms_body("s-1"), alimtalk_body("a-1"), sms_body("bad", to="12"), sms_body("dup"))
    )
    # Then one text call carried only the new SMS, one AlimTalk call only the AlimTalk
    assert [[m.msg_body for m in b] for b in sms.batches[1:]] == [["[Shop] 발송되었습니다."]]
    assert [[m.template_code for m in b] for b in kko.batches] == [["A1111"]]
    # And each message ended its own way, in the order of the batch
    assert outcomes(done) == [("sent", "sent"), ("sent", "sent"), ("rejected", "rejected"), ("duplicate", "sent")]
    assert records.get("a-1")["provider_message_id"] == "20261202000000000099"
    assert "to:" in records.get("bad")["reason"]


def test_a_lost_reply_makes_every_message_of_that_call_unknown_and_a_redelivery_sends_none():
    # Given a provider whose answer to the whole request is lost (its adapter says unknown for all)
    d, records, sms, _, clock = make(ScriptedProvider(LOST))
    bodies = [sms_body(f"l-{i}") for i in range(3)]
    # When a batch of three goes out
    done = d.handle_batch(batch(clock, *bodies))
    # Then every message of that call is unknown, saying why
    assert outcomes(done) == [("unknown", "unknown")] * 3
    assert all(records.get(f"l-{i}")["reason"] == LOST.reason for i in range(3))
    # And when SQS delivers the same batch again, nothing more reaches the provider
    again = d.handle_batch(batch(clock, *bodies, receive_count=2))
    assert outcomes(again) == [("duplicate", "unknown")] * 3
    assert [len(b) for b in sms.batches] == [3]


def test_each_record_is_settled_from_its_own_entry_of_the_answer():
    # Given a provider that refuses the first message of a call and accepts the second
    refused = SendResult("rejected", "300", "parameter error (provider said: msg_body)")
    d, records, sms, _, clock = make(ScriptedProvider(refused, accepted("20261202000000000777")))
    # When both go out in one call
    done = d.handle_batch(batch(clock, sms_body("r-1"), sms_body("r-2")))
    # Then the first is rejected with the provider's reason and the second sent with its cmid
    assert [len(b) for b in sms.batches] == [2]
    assert outcomes(done) == [("rejected", "rejected"), ("sent", "sent")]
    assert records.get("r-1")["reason"] == "parameter error (provider said: msg_body)"
    assert records.get("r-1").get("cmid") is None
    assert records.get("r-2")["cmid"] == "20261202000000000777"


def test_one_retryable_entry_releases_only_its_own_claim():
    # Given a provider that could not take the second message of a call (surely not accepted)
    refused = SendResult("retry", "3205", "insufficient balance")
    d, records, sms, _, clock = make(ScriptedProvider(accepted("20261202000000000001"), refused))
    # When both go out in one call
    done = d.handle_batch(batch(clock, sms_body("t-1"), sms_body("t-2")))
    # Then the first is sent, the second handed back to SQS with its claim released
    assert [(o.action, o.kind) for o in done if isinstance(o, Outcome)] == [("ack", "sent"), ("retry", "retried")]
    assert records.get("t-2")["status"] == "sending" and "claim_token" not in records.get("t-2")
    # And its redelivery sends it, alone
    d.handle_batch(batch(clock, sms_body("t-2"), receive_count=2, tag="again"))
    assert [[m.msg_body for m in b] for b in sms.batches] == [
        ["[Shop] 발송되었습니다."] * 2,
        ["[Shop] 발송되었습니다."],
    ]


def test_refused_alimtalks_get_their_app_side_fallback_sms_in_one_more_batched_call():
    # Given an AlimTalk route that refuses synchronously (the app sends the SMS itself)
    refused = SendResult("fallback", "K105", "AlimTalk not sendable to this number")
    d, records, sms, kko, clock = make(kko=ScriptedAlimTalk(refused))
    # When a batch holds two AlimTalks and one SMS
    done = d.handle_batch(batch(clock, alimtalk_body("f-1"), alimtalk_body("f-2"), sms_body("f-3")))
    # Then the AlimTalks went in one call, the SMS in the first text call, the two fallback SMS in a second
    assert [len(b) for b in kko.batches] == [2]
    assert [len(b) for b in sms.batches] == [1, 2]
    assert [m.msg_body for m in sms.batches[1]] == [TEXT, TEXT]
    # And each AlimTalk record says it went as SMS, sent with its own message id
    assert outcomes(done) == [("sent", "sent")] * 3
    assert [records.get(f"f-{i}")["channel_used"] for i in (1, 2)] == ["sms", "sms"]
    assert {records.get(f"f-{i}")["cmid"] for i in (1, 2, 3)} == {f"2026120200000000000{i}" for i in range(3)}


def test_a_provider_answering_for_another_number_of_messages_leaves_them_all_unknown():
    # Given a provider that breaks its port's contract: two results for three messages
    class Short(ScriptedProvider):
        def send_texts(self, msgs):
            return super().send_texts(msgs)[:2]

    d, records, sms, _, clock = make(Short(accepted()))
    # When three go out in one call
    done = d.handle_batch(batch(clock, *(sms_body(f"n-{i}") for i in range(3))))
    # Then no record claims a result that may belong to another message
    assert outcomes(done) == [("unknown", "unknown")] * 3
    assert records.get("n-0")["reason"] == "provider answered 2 results for 3 messages"


def test_a_provider_call_that_raises_fails_only_the_messages_of_that_call():
    # Given an AlimTalk provider that raises (a defect: it must answer, not raise)
    class Broken(ScriptedAlimTalk):
        def send_alimtalks(self, msgs):
            raise RuntimeError("adapter defect")

    d, records, sms, _, clock = make(kko=Broken())
    # When a batch holds an AlimTalk and an SMS
    done = d.handle_batch(batch(clock, alimtalk_body("x-1"), sms_body("x-2")))
    # Then the AlimTalk's answer is the error (the handler reports it as a batch item failure) and
    # its claim stays, so its redelivery after the lease cannot send it twice; the SMS is sent
    assert isinstance(done[0], RuntimeError)
    assert outcomes(done[1:]) == [("sent", "sent")]
    assert records.get("x-1")["status"] == "sending" and "claim_token" in records.get("x-1")
