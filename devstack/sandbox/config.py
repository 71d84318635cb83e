"""Configuration and default seed data of the provider sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_API_KEY = "sandbox-key"
DEFAULT_CLIENT_ID = "sandbox"
DEFAULT_SENDERS: tuple[str, ...] = ("0212345678",)
# SOLAPI's API key is 16 upper-case alphanumerics and its secret 32; the defaults keep those shapes.
DEFAULT_SOLAPI_API_KEY = "NCSSANDBOXKEY000"
DEFAULT_SOLAPI_API_SECRET = "SANDBOXSECRET0000000000000000000"
DEFAULT_SOLAPI_PF_ID = "KA01PF261201000000000SANDBOX001"

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
    # SOLAPI statusCode of an SMS/LMS/MMS (its AlimTalk fallback SMS included): wrong number, phone off
    "solapi": {"4000": 0.90, "3010": 0.05, "3043": 0.05},
    # SOLAPI statusCode of an AlimTalk: not a KakaoTalk user (the SMS fallback then goes out)
    "solapi_ata": {"4000": 0.90, "3104": 0.10},
}

DEFAULT_PRICES: dict[str, int] = {"sms": 1, "lms": 1, "mms": 1, "kko": 1}
# SOLAPI charges its balance in won per message, by type (its public list prices, rounded).
DEFAULT_SOLAPI_PRICES: dict[str, float] = {"SMS": 20.0, "LMS": 50.0, "MMS": 200.0, "ATA": 13.0}

REPORT_PENDING_STYLES = ("message", "null", "empty")
# How an unknown path or a wrong method on a provider path answers: "html", the servlet container's error page
# (Tomcat's, as the live service did); "json", {"error": ...} as earlier versions of the sandbox did.
ERROR_PAGE_STYLES = ("html", "json")


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
    error_pages: str = "html"
    clock: Callable[[], float] = time.time
    verbose: bool = False
    # SOLAPI (REST v4) on the same server: its own account, key and secret, balance and KakaoTalk channel.
    solapi_api_key: str = field(default=DEFAULT_SOLAPI_API_KEY, repr=False)
    solapi_api_secret: str = field(default=DEFAULT_SOLAPI_API_SECRET, repr=False)
    solapi_account_id: str = "26120100000001"
    solapi_balance: float = 100_000.0
    solapi_pf_id: str = DEFAULT_SOLAPI_PF_ID
    solapi_prices: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SOLAPI_PRICES))
