"""AlimTalk through the real handler, moto server and the sandbox over HTTP: what the sandbox saw
is what Kakao (and the SMS network) would have seen."""

from __future__ import annotations

import io
import json
import threading
import uuid
from typing import Any

import pytest

from devstack.samples import sqs_record
from devstack.stack import LocalStack

pytestmark = pytest.mark.integration

SHIPPED = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."  # seed template A1111


@pytest.fixture(scope="module")
def stack():
    s = LocalStack.start(parameters={"MaxReceiveCount": "3"}, log_stream=io.StringIO())
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def clean(stack):
    stack.sandbox.reset()
    yield


def body(**over: Any) -> str:
    a = {"template_code": "A1111", "variables": {"name": "홍길동", "order": "1234"}, **over.pop("alimtalk", {})}
    e = {"id": f"akt-{uuid.uuid4().hex[:10]}", "channel": "alimtalk", "to": "010-1234-5678", "text": SHIPPED,
         "alimtalk": a, **over}  # fmt: skip
    return json.dumps(e, ensure_ascii=False)


def invoke(stack, *bodies: str, receive_count: int = 1) -> dict[str, Any]:
    records = [sqs_record(b, i) for i, b in enumerate(bodies)]
    for r in records:
        r["messageId"] = str(uuid.uuid4())  # distinct SQS messages, even for the same body
        r["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return stack.handler({"Records": records}, stack.context())


def rid(b: str) -> str:
    return json.loads(b)["id"]


def test_alimtalk_reaches_kakao_with_the_template_buttons_and_provider_fallback_fields(stack):
    b = body()
    invoke(stack, b)
    [m] = stack.sandbox.messages()
    assert (m["kind"], m["template_code"], m["template_matched"]) == ("kko", "A1111", True)
    assert m["buttons"] == [
        {"type": "웹링크", "name": "배송조회", "url_mobile": "https://shop.example/o/1234", "url_pc": None}
    ]
    assert (m["failed_type"], m["failed_msg"]) == ("SMS", SHIPPED)  # 79 bytes in EUC-KR: fits an SMS
    rec = stack.record(rid(b))
    assert (rec["status"], rec["fallback"], rec["channel_used"]) == ("sent", "provider", "alimtalk")


def test_a_batch_of_100_alimtalks_costs_one_template_list_call(stack):
    # Given a fresh container (an empty template cache)
    stack.reconfigure()
    # When a batch of 100 AlimTalk events is handled
    resp = invoke(stack, *[body() for _ in range(100)])
    # Then the template list was read once, and all 100 were sent
    assert resp == {"batchItemFailures": []}
    assert stack.sandbox.requests_count()["template_list"] == 1
    assert stack.sandbox.requests_count()["kko_msg"] == 100


def test_unapproved_template_is_sent_as_sms_by_the_app_once_under_redelivery_and_duplicates(stack):
    # Given an event naming the rejected (반려) template, delivered three times at once and again later
    b = body(
        text="홍길동님께만 드리는 특별 할인 쿠폰!", alimtalk={"template_code": "R3333", "variables": {"name": "홍길동"}}
    )
    gate = threading.Barrier(3)

    def run() -> None:
        gate.wait()
        invoke(stack, b)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    invoke(stack, b, receive_count=2)
    # Then Kakao saw no AlimTalk attempt and the SMS network exactly one SMS
    counts = stack.sandbox.requests_count()
    assert counts.get("kko_msg", 0) == 0 and counts.get("sms") == 1
    rec = stack.record(rid(b))
    assert (rec["status"], rec["fallback"], rec["channel_used"], rec["alimtalk_code"]) == (
        "sent", "app", "sms", "check:not_approved")  # fmt: skip


def test_kakao_refusing_synchronously_falls_back_once_under_redelivery(stack):
    # Given Kakao answers 700 (template not approved at the provider) to every AlimTalk
    stack.sandbox.set_faults(result_codes={"700": 1.0})
    b = body()
    invoke(stack, b)
    invoke(stack, b, receive_count=2)
    counts = stack.sandbox.requests_count()
    # Then one AlimTalk attempt, one SMS, and the record keeps the refusal
    assert counts.get("kko_msg") == 1 and counts.get("sms") == 1
    rec = stack.record(rid(b))
    assert rec["alimtalk_code"] == "700" and "템플릿코드 사전 승인제에 의한 미승인 차단" in rec["alimtalk_reason"]


def test_test_mode_uses_msg_test_and_delivers_nothing(stack):
    b = body(test=True)
    invoke(stack, b)
    assert stack.sandbox.messages() == []
    assert [m["template_code"] for m in stack.sandbox.test_messages()] == ["A1111"]
    rec = stack.record(rid(b))
    assert rec["test"] is True and rec["reason"].startswith("test mode (msg_test)")


def test_missing_variable_is_rejected_and_nothing_reaches_the_provider(stack):
    b = body(alimtalk={"variables": {"name": "홍길동"}})
    invoke(stack, b)
    assert stack.sandbox.messages() == [] and stack.sandbox.requests_count().get("kko_msg", 0) == 0
    assert (
        stack.record(rid(b))["reason"] == "alimtalk.variables: missing 'order' (template 'A1111' has #{name}, #{order})"
    )
