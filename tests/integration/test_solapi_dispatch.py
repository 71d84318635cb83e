"""SOLAPI as the deployment's provider (Provider=solapi): the real dispatcher and poller handlers,
moto server for SQS/DynamoDB/SSM (SOLAPI's key and secret read from SecureStrings), and the SOLAPI
sandbox over real HTTP."""

from __future__ import annotations

import io
import json
import time
import uuid
from typing import Any

import pytest

from devstack.samples import sqs_record
from devstack.stack import LocalStack

pytestmark = pytest.mark.integration

SHIPPED = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."  # seed template A1111
COUPON = "s3://kr-notifier-dev-attachments/samples/coupon.jpg"


@pytest.fixture(scope="module")
def stack():
    s = LocalStack.start(
        parameters={"Provider": "solapi"}, sandbox_config={"report_delay_s": 0.0}, log_stream=io.StringIO()
    )
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def clean(stack):
    stack.sandbox.reset()
    yield


def event(channel: str, to: str, **over: Any) -> str:
    e = {"id": f"sol-{channel}-{uuid.uuid4().hex[:8]}", "channel": channel, "to": to, "text": "[Shop] 발송되었습니다.",
         **over}  # fmt: skip
    return json.dumps(e, ensure_ascii=False)


def invoke(stack, *bodies: str) -> dict[str, Any]:
    records = [sqs_record(b, i) for i, b in enumerate(bodies)]
    for r in records:
        r["messageId"] = str(uuid.uuid4())
    return stack.handler({"Records": records}, stack.context())


def test_sms_lms_mms_and_alimtalk_go_through_solapi_and_their_reports_settle_the_records(stack):
    # Given one event of each kind, every phone delivered
    bodies = [
        event("sms", "010-1111-0001"),
        event("lms", "010-1111-0002", text="긴 안내문입니다. " * 12, subject="배송 안내"),
        event("mms", "010-1111-0003", subject="쿠폰", attachments=[{"s3": COUPON}]),
        event("alimtalk", "010-1111-0004", text=SHIPPED,
              alimtalk={"template_code": "A1111", "variables": {"name": "홍길동", "order": "1234"}}),
    ]  # fmt: skip
    for phone in ("01011110001", "01011110002", "01011110003", "01011110004"):
        stack.sandbox.force_outcome(phone, status_code="4000")
    # When the dispatcher handles them as one SQS batch
    assert invoke(stack, *bodies) == {"batchItemFailures": []}
    # Then SOLAPI registered each with the type the dispatcher chose, signed with the key and secret from SSM
    sent = {m["to"]: m for m in stack.sandbox.messages() if m["provider"] == "solapi"}
    assert [sent[p]["kind"] for p in sorted(sent)] == ["sms", "lms", "mms", "ata"]
    ids = [json.loads(b)["id"] for b in bodies]
    records = [stack.record(i) for i in ids]
    assert all(r and r["status"] == "sent" and r["provider"] == "solapi" for r in records), records
    assert all(r and str(r["provider_message_id"]).startswith("M4V") for r in records)
    # When the poller runs after the reports are in
    stack.poll(clock=lambda: time.time() + 3600)
    # Then every record is delivered, the AlimTalk by AlimTalk
    settled = [stack.record(i) for i in ids]
    assert [r and r["status"] for r in settled] == ["delivered"] * 4, settled
    assert settled[3] and settled[3].get("delivered_via") == "alimtalk"


def test_a_phone_that_is_off_fails_with_solapis_korean_reason(stack):
    stack.sandbox.force_outcome("01011110009", status_code="3043")
    b = event("sms", "010-1111-0009")
    invoke(stack, b)
    stack.poll(clock=lambda: time.time() + 3600)
    rec = stack.record(json.loads(b)["id"])
    assert rec and rec["status"] == "failed" and "단말기 Power off" in str(rec.get("report_reason"))
