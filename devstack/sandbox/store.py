"""The sandbox's state: everything the provider remembered, behind one lock."""

from __future__ import annotations

import copy
import random
import re
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .config import DEFAULT_OUTCOME_MIX, DEFAULT_TEMPLATES, ERROR_PAGE_STYLES, REPORT_PENDING_STYLES, SandboxConfig

KST = timezone(timedelta(hours=9))

STATUS_WORDS = {"1": "등록", "2": "검수요청", "3": "승인", "4": "반려", "5": "승인중단"}
BUTTON_TYPES = ("웹링크", "앱링크", "봇키워드", "메시지전달", "배송조회")
LINK_BUTTON_TYPES = ("웹링크", "앱링크")
MAX_BUTTONS = 5
PIN_TTL_S = 180.0
PPURIO_KINDS = ("sms", "lms", "mms")


class Pending:
    """A report that is not there (yet); rendered in the configured null-ish style."""


PENDING = Pending()


@dataclass
class Upload:
    field: str
    filename: str
    content_type: str
    data: bytes


class ProviderError(Exception):
    """A business error the provider answered with HTTP 200 and a result_code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def kst_stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, KST).strftime("%Y%m%d%H%M%S")


def parse_kst_stamp(text: str) -> float | None:
    """Epoch seconds of a yyyyMMddHHmmss Korea-time stamp, or None when it is not one."""
    if not re.fullmatch(r"\d{14}", text):
        return None
    try:
        moment = datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=KST)
    except ValueError:
        return None
    return moment.timestamp()


def pick(rng: random.Random, mix: dict[str, float]) -> str:
    total = sum(mix.values())
    point = rng.random() * total
    for code, weight in mix.items():
        point -= weight
        if point < 0:
            return code
    return next(reversed(mix))


_PLACEHOLDER = re.compile(r"#\{[^}]*\}")


def placeholder_pattern(text: str) -> re.Pattern[str]:
    """A template text (or button URL) as a regex where each #{var} matches any text."""
    parts = _PLACEHOLDER.split(text.replace("\r\n", "\n"))
    return re.compile("(?s)" + ".*?".join(re.escape(part) for part in parts))


def matches_template_text(template_text: str, text: str) -> bool:
    return placeholder_pattern(template_text).fullmatch(text.replace("\r\n", "\n")) is not None


def normalize_template(raw: dict[str, Any]) -> dict[str, Any]:
    """Accept a template in the list-response shape (or with short keys); raise ValueError if broken."""
    if not isinstance(raw, dict):
        raise ValueError("a template must be a JSON object")
    lowered = {str(k).lower(): v for k, v in raw.items()}
    code = lowered.get("template_code") or lowered.get("code")
    msg = lowered.get("template_msg") or lowered.get("msg") or lowered.get("text")
    if not code or not isinstance(code, str):
        raise ValueError("template_code is required")
    if not msg or not isinstance(msg, str):
        raise ValueError(f"template {code}: template_msg is required")
    status = str(lowered.get("status", "승인"))
    status = STATUS_WORDS.get(status, status)
    if status not in STATUS_WORDS.values():
        raise ValueError(f"template {code}: status must be one of {sorted(STATUS_WORDS.values())} or 1-5")
    buttons = []
    for btn in lowered.get("btnlist") or lowered.get("buttons") or []:
        b = {str(k).lower(): v for k, v in btn.items()}
        kind = b.get("template_btn_type") or b.get("type")
        if kind not in BUTTON_TYPES:
            raise ValueError(f"template {code}: button type must be one of {BUTTON_TYPES}")
        buttons.append(
            {
                "template_btn_type": kind,
                "template_btn_name": b.get("template_btn_name") or b.get("name") or "",
                "template_btn_url": b.get("template_btn_url") or b.get("url") or b.get("url_mobile"),
                "template_btn_url2": b.get("template_btn_url2") or b.get("url2") or b.get("url_pc"),
            }
        )
    if len(buttons) > MAX_BUTTONS:
        raise ValueError(f"template {code}: at most {MAX_BUTTONS} buttons")
    return {
        "template_code": code,
        "template_name": lowered.get("template_name") or lowered.get("name") or code,
        "template_msg": msg,
        "status": status,
        "btnList": buttons,
    }


@dataclass
class Faults:
    latency_ms: float = 0.0
    error_5xx_rate: float = 0.0
    timeout_rate: float = 0.0
    result_codes: dict[str, float] = field(default_factory=dict)
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        self.result_codes = {str(code): float(rate) for code, rate in (self.result_codes or {}).items()}
        rates = [self.error_5xx_rate, self.timeout_rate, *self.result_codes.values()]
        if any(not 0.0 <= rate <= 1.0 for rate in rates):
            raise ValueError("fault rates must be between 0 and 1")
        if sum(rates) > 1.0 + 1e-9:
            raise ValueError("fault rates must add up to at most 1")
        if self.latency_ms < 0 or self.timeout_s < 0:
            raise ValueError("latency_ms and timeout_s must not be negative")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Message:
    cmid: str
    kind: str  # sms, lms, mms, kko, kko_test
    requested_kind: str
    client_id: str
    dest_phone: str
    send_phone: str
    msg_body: str
    accepted_at: float
    send_at: float
    ready_at: float
    subject: str | None = None
    dest_name: str | None = None
    send_name: str | None = None
    send_time: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    template_code: str | None = None
    buttons: list[dict[str, Any]] | None = None
    failed_type: str | None = None
    failed_subject: str | None = None
    failed_msg: str | None = None
    template_matched: bool | None = None
    template_mismatch: str | None = None
    outcome: dict[str, Any] = field(default_factory=dict)
    umid: str | None = None
    # Accepted by a test endpoint (kko msg_test, ppurio_test message_test): validated, never delivered.
    test: bool = False

    def public(self) -> dict[str, Any]:
        data = {"provider": "apistore", **asdict(self)}
        if self.kind in PPURIO_KINDS:
            for key in (
                "template_code",
                "buttons",
                "failed_type",
                "failed_subject",
                "failed_msg",
                "template_matched",
                "template_mismatch",
            ):
                data.pop(key)
        else:
            data.pop("umid")
        return data


class State:
    """All mutable sandbox state. Every public method takes the lock, so handlers stay simple."""

    def __init__(self, config: SandboxConfig) -> None:
        if config.report_pending not in REPORT_PENDING_STYLES:
            raise ValueError(f"report_pending must be one of {REPORT_PENDING_STYLES}")
        if config.error_pages not in ERROR_PAGE_STYLES:
            raise ValueError(f"error_pages must be one of {ERROR_PAGE_STYLES}")
        self.lock = threading.RLock()
        self.config = config
        self.clock = config.clock
        self.client_id = config.client_id
        self.seed = config.seed
        self.report_delay_s = float(config.report_delay_s)
        self.report_pending = config.report_pending
        self.error_pages = config.error_pages
        self.prices = dict(config.prices)
        self.mix = copy.deepcopy(DEFAULT_OUTCOME_MIX)
        for kind, mix in (config.outcome_mix or {}).items():
            self.set_mix(kind, mix)
        self.balance = int(config.balance)
        self.templates: dict[str, dict[str, Any]] = {}
        self.set_templates(list(DEFAULT_TEMPLATES) if config.templates is None else config.templates)
        self.profiles: list[str] = list(config.profiles if config.profiles is not None else (config.client_id,))
        # sender number -> {"comment", "USE_YN"}; the two APIs kept separate registries
        self.ppurio_senders: dict[str, dict[str, Any]] = {}
        self.kko_senders: dict[str, dict[str, Any]] = {}
        for number in config.registered_senders:
            self.ppurio_senders[number] = {"comment": None, "USE_YN": "Y"}
            self.kko_senders[number] = {"comment": None, "USE_YN": "Y"}
        self.pins: dict[str, dict[str, Any]] = {}
        self.forced: dict[str, dict[str, Any]] = {}
        self.faults = Faults()
        self.messages: list[Message] = []
        self.test_messages: list[Message] = []
        self.by_cmid: dict[str, list[Message]] = {}
        self.test_by_cmid: dict[str, list[Message]] = {}
        self.requests: Counter[str] = Counter()
        # For the inbox page: MMS image bytes by cmid, and sends the provider refused (never in messages).
        self.images: dict[str, list[bytes]] = {}
        self.refusals: list[dict[str, Any]] = []
        # Inbox entries the page's clear button hid: the messages stay, so their reports still answer.
        self.inbox_hidden: set[str] = set()
        self._refusal_seq = 0
        self._seq = 0
        self._fault_rng = random.Random(config.seed)
        self._pin_rng = random.Random(None if config.seed is None else f"{config.seed}/pins")

    # --- configuration -------------------------------------------------------------------------

    def set_mix(self, kind: str, mix: dict[str, float]) -> None:
        if kind not in DEFAULT_OUTCOME_MIX:
            raise ValueError(f"outcome mix kind must be one of {sorted(DEFAULT_OUTCOME_MIX)}")
        if not mix or any(float(w) < 0 for w in mix.values()) or sum(float(w) for w in mix.values()) <= 0:
            raise ValueError("an outcome mix needs at least one positive weight")
        with self.lock:
            self.mix[kind] = {str(code): float(w) for code, w in mix.items()}

    def set_templates(self, templates: list[dict[str, Any]]) -> None:
        normalized = [normalize_template(t) for t in templates]
        with self.lock:
            self.templates = {t["template_code"]: t for t in normalized}

    def upsert_template(self, template: dict[str, Any]) -> dict[str, Any]:
        normalized = normalize_template(template)
        with self.lock:
            self.templates[normalized["template_code"]] = normalized
        return normalized

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self.faults = faults

    def reset(self) -> None:
        """Forget what happened; keep what was seeded (templates, senders, profiles, mix)."""
        with self.lock:
            self.messages.clear()
            self.test_messages.clear()
            self.by_cmid.clear()
            self.test_by_cmid.clear()
            self.requests.clear()
            self.images.clear()
            self.refusals.clear()
            self.inbox_hidden.clear()
            self.pins.clear()
            self.forced.clear()
            self.faults = Faults()
            self.balance = int(self.config.balance)

    # --- bookkeeping ---------------------------------------------------------------------------

    def count_request(self, kind: str) -> None:
        with self.lock:
            self.requests[kind] += 1

    def draw_fault(self) -> tuple[str | None, Faults]:
        """One draw per request: '5xx', 'timeout', a result code, or None."""
        with self.lock:
            faults = self.faults
            point = self._fault_rng.random()
        for name, rate in (("5xx", faults.error_5xx_rate), ("timeout", faults.timeout_rate)):
            if point < rate:
                return name, faults
            point -= rate
        for code, rate in faults.result_codes.items():
            if point < rate:
                return code, faults
            point -= rate
        return None, faults

    def next_cmid(self) -> str:
        # yyyyMMddHHmmss + 6 sequence digits = 20 digits, inside the observed 16-22
        with self.lock:
            self._seq += 1
            return f"{kst_stamp(self.clock())}{self._seq % 1_000_000:06d}"

    def new_pin(self, pintype: str) -> str:
        digits = 6 if pintype == "SMS" else 2
        with self.lock:
            return "".join(str(self._pin_rng.randrange(10)) for _ in range(digits))

    def outcome_rng(self, cmid: str, phone: str) -> random.Random:
        # Keyed by cmid so a seeded sandbox gives a message the same fate however requests interleave.
        return random.Random(None if self.seed is None else f"{self.seed}/{cmid}/{phone}")

    def timing(self, scheduled: float | None) -> tuple[float, float, float]:
        now = self.clock()
        send_at = max(now, scheduled) if scheduled is not None else now
        return now, send_at, send_at + self.report_delay_s

    def record(self, messages: list[Message], test: bool = False) -> None:
        with self.lock:
            (self.test_messages if test else self.messages).extend(messages)
            index = self.test_by_cmid if test else self.by_cmid
            for message in messages:
                index.setdefault(message.cmid, []).append(message)

    def find(self, cmid: str, test: bool = False) -> list[Message]:
        """Messages of a cmid: real ones, or (test=True) those a test endpoint took; never both."""
        with self.lock:
            return list((self.test_by_cmid if test else self.by_cmid).get(cmid, ()))

    def note_refusal(self, refusal: dict[str, Any]) -> None:
        """A send the provider refused: nothing reached a phone, but the inbox shows why."""
        with self.lock:
            self._refusal_seq += 1
            self.refusals.append({**refusal, "at": self.clock(), "seq": self._refusal_seq})

    def hide_from_inbox(self, entry_ids: set[str]) -> None:
        with self.lock:
            self.inbox_hidden |= entry_ids
            self.refusals.clear()
