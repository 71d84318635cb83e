"""Writes events/*.json: Lambda-shaped SQS batches (and a schedule event) built from plain bodies.

`python -m devstack.samples` regenerates them; `make run` and `sam local invoke -e` use the files.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"
REGION = "ap-northeast-2"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:kr-notifier-dev-NotificationQueue"
ATTACHMENT_BUCKET = "kr-notifier-dev-attachments"

LONG_RECEIPT = (
    "[Shop] 결제가 완료되었습니다.\n주문번호: 1234-5678\n결제금액: 39,800원\n"
    "배송지: 서울특별시 중구 세종대로 110\n문의: 1588-0000"
)

SHIPPED_TEXT = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."  # template A1111


def _alimtalk(rid: str, to: str, **over: Any) -> dict[str, Any]:
    a = {"template_code": "A1111", "variables": {"name": "홍길동", "order": "1234"}, **over.pop("alimtalk", {})}
    return {"id": rid, "channel": "alimtalk", "to": to, "text": SHIPPED_TEXT, "alimtalk": a, **over}


# Report outcomes the sandbox gives these sample recipients, so `make run` shows every route.
SANDBOX_OUTCOMES: dict[str, dict[str, str]] = {
    # not a KakaoTalk user: the provider's fallback SMS delivers (API Store RSLT A, SOLAPI 3104)
    "01055550011": {"rslt": "A", "msg_rslt": "00", "status_code": "3104"},
}

BATCHES: dict[str, list[Any]] = {
    "sqs-alimtalk.json": [
        _alimtalk("sample-alimtalk-shipped", "010-5555-0010", metadata={"tenant": "shop", "order": "1234"}),
        _alimtalk("sample-alimtalk-provider-fallback", "010-5555-0011"),
        _alimtalk(
            "sample-alimtalk-app-fallback",
            "010-5555-0012",
            text="홍길동님께만 드리는 특별 할인 쿠폰!",
            alimtalk={"template_code": "R3333", "variables": {"name": "홍길동"}},
        ),
        _alimtalk(
            "sample-alimtalk-unknown-template",
            "010-5555-0013",
            alimtalk={"template_code": "Z9999", "fallback_text": "[Shop] 주문하신 상품이 발송되었습니다."},
        ),
        _alimtalk("sample-alimtalk-missing-variable", "010-5555-0014", alimtalk={"variables": {"name": "홍길동"}}),
        _alimtalk("sample-alimtalk-test-mode", "010-5555-0015", test=True),
    ],
    "sqs-sms.json": [
        {
            "id": "sample-sms-otp",
            "channel": "sms",
            "to": "010-1234-5678",
            "text": "[Shop] 인증번호 [482913]를 입력해 주세요.",
            "metadata": {"tenant": "shop", "kind": "otp"},
        }
    ],
    "sqs-lms-auto.json": [
        {
            "id": "sample-auto-receipt",
            "channel": "auto",
            "to": "01098765432",
            "subject": "결제 영수증",
            "text": LONG_RECEIPT,
            "to_name": "홍길동",
            "metadata": {"tenant": "shop", "order": "1234"},
        },
        {"id": "sample-sms-too-long", "channel": "sms", "to": "010-2222-3333", "text": LONG_RECEIPT},
    ],
    "sqs-mms.json": [
        {
            "id": "sample-mms-coupon",
            "channel": "mms",
            "to": "010-5555-0001",
            "subject": "10% 할인 쿠폰",
            "text": "[Shop] 이번 주 할인 쿠폰을 보내 드립니다.",
            "attachments": [{"s3": f"s3://{ATTACHMENT_BUCKET}/samples/coupon.jpg"}],
        }
    ],
    "sqs-scheduled.json": [
        {
            "id": "sample-scheduled-reminder",
            "to": "010-5555-0002",
            "text": "[Clinic] 내일 오전 9시 예약이 있습니다.",
            "send_at": "2030-01-15T09:00:00+09:00",
        }
    ],
    "sqs-duplicate-pair.json": [
        {"id": "sample-duplicate-shipped", "to": "010-5555-0003", "text": "[Shop] 상품이 발송되었습니다."},
        {"id": "sample-duplicate-shipped", "to": "010-5555-0003", "text": "[Shop] 상품이 발송되었습니다."},
    ],
    "sqs-invalid.json": [
        "{this is not json",
        {"to": "010-5555-0004", "text": "id가 없는 메시지"},
        {"id": "sample-invalid-phone", "to": "010-12", "text": "번호 오류", "chanel": "sms"},
        {"id": "sample-invalid-charset", "to": "010-5555-0005", "text": "똠양꿍 할인 😀"},
    ],
}


def sqs_record(body: Any, n: int) -> dict[str, Any]:
    raw = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"kr-notifier-sample-{n}-{raw}"))
    return {
        "messageId": message_id,
        "receiptHandle": f"sample-receipt-{message_id}",
        "body": raw,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795000000000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1795000000100",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(raw.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": REGION,
    }


def schedule_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-12-01T00:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:123456789012:rule/kr-notifier-dev-PollerSchedule"],
        "detail": {},
    }


def main() -> None:
    n = 0
    for name, bodies in BATCHES.items():
        records = []
        for body in bodies:
            n += 1
            records.append(sqs_record(body, n))
        (EVENTS / name).write_text(json.dumps({"Records": records}, ensure_ascii=False, indent=2) + "\n")
    (EVENTS / "schedule.json").write_text(json.dumps(schedule_event(), indent=2) + "\n")


if __name__ == "__main__":
    main()
