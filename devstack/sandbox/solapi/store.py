"""What the SOLAPI account remembers: messages, groups, files, templates, senders, balance.

It shares the sandbox's lock, clock, seed, report delay, forced outcomes, outcome mix and faults
(one control surface for both providers) and keeps its own rules and records.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..store import KST, pick
from . import codes
from .auth import Verifier

if TYPE_CHECKING:
    from ..store import State

TEMPLATE_STATUS = {
    "등록": "PENDING",
    "검수요청": "INSPECTING",
    "승인": "APPROVED",
    "반려": "REJECTED",
    "승인중단": "DORMANT",
}
BUTTON_TYPES = {"웹링크": "WL", "앱링크": "AL", "봇키워드": "BK", "메시지전달": "MD", "배송조회": "DS"}
_ID_CHARS = string.ascii_uppercase + string.digits


def iso(epoch: float | None) -> str | None:
    """SOLAPI writes dates as UTC ISO 8601 with milliseconds and Z."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch * 1000) % 1000:03d}Z"


def _button(apistore: dict[str, Any]) -> dict[str, Any]:
    """An API Store template button in SOLAPI's shape: a web link has linkMo/linkPc, an app link linkAnd/linkIos."""
    kind = BUTTON_TYPES[apistore["template_btn_type"]]
    button: dict[str, Any] = {"buttonType": kind, "buttonName": apistore["template_btn_name"]}
    if kind == "WL":
        button.update(linkMo=apistore.get("template_btn_url"), linkPc=apistore.get("template_btn_url2"))
    elif kind == "AL":
        button.update(linkAnd=apistore.get("template_btn_url"), linkIos=apistore.get("template_btn_url2"))
    return button


@dataclass
class StoredFile:
    file_id: str
    type: str
    name: str
    original_name: str
    size: int
    link: str | None
    created_at: float
    data: bytes = field(default=b"", repr=False)  # served to the inbox page (MMS images)

    def to_json(self, account_id: str, base_url: str) -> dict[str, Any]:
        return {
            "kakao": {"daou": None, "biztalk": None},
            "type": self.type,
            "originalName": self.original_name,
            "link": self.link,
            "fileSize": self.size,
            "fileId": self.file_id,
            "name": self.name,
            "url": f"{base_url}/storage/v1/files/{self.file_id}",
            "accountId": account_id,
            "references": [],
            "dateCreated": iso(self.created_at),
            "dateUpdated": iso(self.created_at),
        }


@dataclass
class SolapiMessage:
    message_id: str
    group_id: str
    type: str  # SMS, LMS, MMS, ATA
    to: str
    from_: str | None
    text: str
    accepted_at: float
    send_at: float
    ready_at: float
    outcome: str  # the statusCode the report ends with
    price: float
    subject: str | None = None
    image_id: str | None = None
    country: str = "82"
    kakao: dict[str, Any] | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)
    auto_type_detect: bool = True
    pending_forever: bool = False
    fallback_of: str | None = None  # the AlimTalk this SMS/LMS replaced
    fallback_id: str | None = None  # the SMS/LMS that replaced this AlimTalk
    canceled: bool = False
    refunded: bool = False

    def status_code(self, now: float) -> str:
        if self.canceled or now < self.send_at + (self.ready_at - self.send_at) / 2:
            return codes.ACCEPTED
        if self.pending_forever or now < self.ready_at:
            return codes.AT_CARRIER
        return self.outcome

    def final(self, now: float) -> bool:
        return self.status_code(now) not in (codes.ACCEPTED, codes.AT_CARRIER)

    def to_json(self, account_id: str, now: float) -> dict[str, Any]:
        code = self.status_code(now)
        status = "PENDING" if code == codes.ACCEPTED else "SENDING" if code == codes.AT_CARRIER else "COMPLETE"
        done = self.ready_at if code not in (codes.ACCEPTED, codes.AT_CARRIER) else None
        return {
            "_id": self.message_id,
            "messageId": self.message_id,
            "groupId": self.group_id,
            "accountId": account_id,
            "type": self.type,
            "country": self.country,
            "to": self.to,
            "from": self.from_,
            "text": self.text,
            "subject": self.subject,
            "imageId": self.image_id,
            "kakaoOptions": self.kakao,
            "customFields": dict(self.custom_fields),
            "autoTypeDetect": self.auto_type_detect,
            "replacement": self.fallback_of is not None,
            "statusCode": code,
            "status": "FAILED" if self.canceled else status,
            "reason": None
            if code in (codes.ACCEPTED, codes.AT_CARRIER, codes.DELIVERED)
            else codes.STATUS_CODES.get(code),
            "networkName": "ETC",
            "log": [],
            "dateCreated": iso(self.accepted_at),
            "dateUpdated": iso(done or self.accepted_at),
            "dateProcessed": iso(self.send_at) if code != codes.ACCEPTED else None,
            "dateReported": iso(done),
            "dateReceived": iso(done) if code == codes.DELIVERED else None,
        }

    def public(self, now: float) -> dict[str, Any]:
        """The inspection view: one name per idea, plus what the report will say."""
        kakao = self.kakao or {}
        return {
            "provider": "solapi",
            "kind": self.type.lower(),
            "message_id": self.message_id,
            "group_id": self.group_id,
            "to": self.to,
            "from": self.from_,
            "text": self.text,
            "subject": self.subject,
            "image_id": self.image_id,
            "pf_id": kakao.get("pfId"),
            "template_id": kakao.get("templateId"),
            "variables": kakao.get("variables"),
            "buttons": kakao.get("buttons"),
            "disable_sms": kakao.get("disableSms"),
            "custom_fields": dict(self.custom_fields),
            "fallback_of": self.fallback_of,
            "fallback_id": self.fallback_id,
            "canceled": self.canceled,
            "status_code": self.status_code(now),
            "outcome": self.outcome,
            "accepted_at": self.accepted_at,
            "send_at": self.send_at,
            "ready_at": self.ready_at,
            "price": self.price,
        }


@dataclass
class Group:
    group_id: str
    created_at: float
    scheduled_at: float | None
    allow_duplicates: bool
    message_ids: list[str] = field(default_factory=list)
    failed: int = 0
    canceled_at: float | None = None
    app_id: str | None = None
    log: list[dict[str, Any]] = field(default_factory=list)


class SolapiState:
    """SOLAPI's account; every method runs under the sandbox's lock."""

    def __init__(self, state: State) -> None:
        config = state.config
        self.state = state
        self.lock = state.lock
        self.account_id = config.solapi_account_id
        self.pf_id = config.solapi_pf_id
        self.verifier = Verifier(config.solapi_api_key, config.solapi_api_secret)
        self.prices = dict(config.solapi_prices)
        # sender number -> {"comment", "USE_YN"}, like the API Store registries
        self.senders: dict[str, dict[str, Any]] = {
            n: {"comment": None, "USE_YN": "Y"} for n in config.registered_senders
        }
        self.templates: dict[str, dict[str, Any]] = {}
        self.balance = float(config.solapi_balance)
        self.messages: dict[str, SolapiMessage] = {}
        self.groups: dict[str, Group] = {}
        self.files: dict[str, StoredFile] = {}
        self._ids = random.Random(None if config.seed is None else f"{config.seed}/solapi-ids")
        self.seed_templates(list(state.templates.values()))

    def seed_templates(self, apistore_templates: list[dict[str, Any]]) -> None:
        """The API Store seed in SOLAPI's shape: the product's samples then work against either provider.
        templateId is SOLAPI's opaque id; the sandbox reuses the API Store code for it."""
        now = self.state.clock()
        with self.lock:
            self.templates = {}
            for t in apistore_templates:
                self.templates[t["template_code"]] = {
                    "templateId": t["template_code"],
                    "accountId": self.account_id,
                    "name": t["template_name"],
                    "pfId": self.pf_id,
                    "content": t["template_msg"],
                    "status": TEMPLATE_STATUS[t["status"]],
                    "buttons": [_button(b) for b in t["btnList"]],
                    "dateCreated": iso(now),
                }

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.groups.clear()
            self.files.clear()
            self.verifier.reset()
            self.balance = float(self.state.config.solapi_balance)

    def new_id(self, prefix: str) -> str:
        """M4V/G4V + KST yyyyMMddHHmmss + 15 random characters: 32, like SOLAPI's ids."""
        with self.lock:
            tail = "".join(self._ids.choice(_ID_CHARS) for _ in range(15))
        return prefix + datetime.fromtimestamp(self.state.clock(), KST).strftime("%Y%m%d%H%M%S") + tail

    def plan_outcome(self, message_type: str, to: str, message_id: str) -> tuple[str, bool]:
        """(final statusCode, never settles) for a message just accepted: forced by number, else the mix."""
        with self.lock:
            forced = dict(self.state.forced.get(to, {}))
            mix = dict(self.state.mix["solapi_ata" if message_type == "ATA" else "solapi"])
        if forced.get("pending"):
            return codes.DELIVERED, True
        # A Kakao-only code pins the AlimTalk; its fallback SMS then follows the mix.
        kakao_only = forced.get("status_code") in codes.KAKAO_FAILURES and message_type != "ATA"
        if "status_code" in forced and not kakao_only:
            return str(forced["status_code"]), False
        return pick(self.state.outcome_rng(message_id, to), mix), False

    def settle(self) -> None:
        """Bring reports up to the clock: refund failures, send the SMS fallback of failed AlimTalks."""
        now = self.state.clock()
        with self.lock:
            for message in list(self.messages.values()):
                if message.canceled or not message.final(now):
                    continue
                if message.outcome != codes.DELIVERED and not message.refunded:
                    message.refunded = True
                    self.balance += message.price
                kakao = message.kakao or {}
                if (
                    message.type == "ATA"
                    and message.outcome in codes.KAKAO_FAILURES
                    and not kakao.get("disableSms")
                    and message.fallback_id is None
                ):
                    self._send_fallback(message)

    def _send_fallback(self, ata: SolapiMessage) -> None:
        from .rules import detect_text_type

        kind, problem = detect_text_type(ata.text, ata.subject)
        fallback_id = self.new_id("M4V")
        outcome, forever = self.plan_outcome(kind, ata.to, fallback_id)
        price = self.prices.get(kind, 0.0)
        self.balance -= price
        delay = ata.ready_at - ata.send_at
        fallback = SolapiMessage(
            message_id=fallback_id,
            group_id=ata.group_id,
            type=kind,
            to=ata.to,
            from_=ata.from_,
            text=ata.text,
            subject=ata.subject if kind == "LMS" else None,
            accepted_at=ata.ready_at,
            send_at=ata.ready_at,
            ready_at=ata.ready_at + delay,
            outcome=problem or outcome,
            pending_forever=forever and problem is None,
            price=price,
            fallback_of=ata.message_id,
        )
        ata.fallback_id = fallback_id
        self.messages[fallback_id] = fallback
        self.groups[ata.group_id].message_ids.append(fallback_id)
