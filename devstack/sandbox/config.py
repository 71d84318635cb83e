"""Configuration and default seed data of the provider sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_API_KEY = "sandbox-key"
DEFAULT_CLIENT_ID = "sandbox"
DEFAULT_SENDERS: tuple[str, ...] = ("0212345678",)

# What `make run` talks to: one template of each kind the product has to cope with.
DEFAULT_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "template_code": "A1111",
        "template_name": "배송 안내",
        "template_msg": "#{name}님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요.",
        "status": "승인",
        "btnList": [
            {
                "template_btn_type": "웹링크",
                "template_btn_name": "배송조회",
                "template_btn_url": "https://shop.example/o/#{order}",
                "template_btn_url2": None,
            }
        ],
    },
    {
        "template_code": "A2222",
        "template_name": "인증번호",
        "template_msg": "[#{service}] 인증번호는 #{code} 입니다.",
        "status": "승인",
        "btnList": [],
    },
    {
        "template_code": "R3333",
        "template_name": "반려된 광고",
        "template_msg": "#{name}님께만 드리는 특별 할인 쿠폰!",
        "status": "반려",
        "btnList": [],
    },
    {
        "template_code": "P4444",
        "template_name": "결제 완료",
        "template_msg": "#{name}님, #{amount}원 결제가 완료되었습니다.",
        "status": "검수요청",
        "btnList": [],
    },
)

# Mostly delivered, with the two failures a real list always shows: wrong number and phone off.
DEFAULT_OUTCOME_MIX: dict[str, dict[str, float]] = {
    "sms": {"4100": 0.90, "4410": 0.05, "4401": 0.05},
    "lms": {"6600": 0.90, "6606": 0.05, "6604": 0.05},
    "mms": {"6600": 0.90, "6606": 0.05, "6604": 0.05},
    "kko": {"0": 0.90, "A": 0.10},
    # MSG_RSLT of the provider-side fallback SMS/LMS after an AlimTalk failure
    "fallback": {"00": 1.0},
}

DEFAULT_PRICES: dict[str, int] = {"sms": 1, "lms": 1, "mms": 1, "kko": 1}

REPORT_PENDING_STYLES = ("message", "null", "empty")


@dataclass
class SandboxConfig:
    api_key: str = field(default=DEFAULT_API_KEY, repr=False)
    client_id: str = DEFAULT_CLIENT_ID
    host: str = "127.0.0.1"
    port: int = 0
    report_delay_s: float = 5.0
    seed: int | None = None
    balance: int = 1_000_000
    registered_senders: tuple[str, ...] = DEFAULT_SENDERS
    # None means DEFAULT_TEMPLATES; an empty list means no templates at all.
    templates: list[dict[str, Any]] | None = None
    # Client ids that own a KakaoTalk sender profile; None means the configured client_id.
    profiles: tuple[str, ...] | None = None
    # Partial override of DEFAULT_OUTCOME_MIX, by kind (sms, lms, mms, kko, fallback).
    outcome_mix: dict[str, dict[str, float]] | None = None
    prices: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    # How a report that is not ready yet (or an unknown cmid) answers: "message" is
    # {"result_code":"200","result_message":"result is null"}, "null" a JSON null, "empty" no body.
    report_pending: str = "message"
    clock: Callable[[], float] = time.time
    verbose: bool = False
