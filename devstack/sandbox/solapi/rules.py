"""SOLAPI's per-message rules: type detection, limits, sender numbers, AlimTalk templates.

A rule that fails raises Refused(statusCode, detail); send-many puts the message in failedMessageList.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from ..euckr import NotSendable, euckr_len
from ..store import placeholder_pattern
from . import codes

SMS_BYTES = 90
LMS_BYTES = 2000
SUBJECT_BYTES = 40
ATA_CHARS = 1000
MAX_BUTTONS = 5
BUTTON_NAME_CHARS = 14
BUTTON_URL_CHARS = 100
LINKS = ("linkMo", "linkPc", "linkAnd", "linkIos")
KNOWN_TYPES = ("SMS", "LMS", "MMS", "ATA")
_PHONE = re.compile(r"\d{8,12}")
_VAR = re.compile(r"#\{[^}]*\}")


class Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        # The table's text first, then which field broke which rule.
        self.message = f"{codes.STATUS_CODES.get(code, '')} ({detail})" if detail else codes.STATUS_CODES[code]


def detect_text_type(text: str, subject: str | None) -> tuple[str, str | None]:
    """SMS or LMS for a text, and a statusCode when it cannot go at all (the fallback path uses this)."""
    try:
        size = euckr_len(text)
    except NotSendable:
        return "SMS", "1029"
    kind = "SMS" if size <= SMS_BYTES and not subject else "LMS"
    return kind, ("1031" if size > LMS_BYTES else None)


def _text_bytes(text: str, name: str) -> int:
    try:
        return euckr_len(text)
    except NotSendable as exc:
        raise Refused("1029", f"{name}: {exc}") from exc


def _phone(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise Refused("1010", f"{name} is required")
    digits = value.replace("-", "")
    if not _PHONE.fullmatch(digits):
        raise Refused("1011", f"{name} must be 8 to 12 digits, got {value!r}")
    return digits


def check_common(raw: dict[str, Any], senders: Collection[str], need_from: bool) -> tuple[str | None, dict[str, str]]:
    """The sender number (registered) and the custom fields; returns (from, customFields)."""
    sender: str | None = None
    if raw.get("from") is not None or need_from:
        sender = _phone(raw.get("from"), "from")
        if sender not in senders:
            raise Refused("1062", f"from {sender} is not a registered sender number")
    custom = raw.get("customFields") or {}
    if not isinstance(custom, dict) or any(
        not isinstance(v, str) or len(k) > 30 or len(v) > 100 for k, v in custom.items()
    ):
        raise Refused("1032", "customFields: names up to 30 characters, string values up to 100")
    return sender, dict(custom)


def text_message(raw: dict[str, Any], asked: str | None, image_ok: bool) -> tuple[str, str, str | None]:
    """(type, text, subject) of an SMS/LMS/MMS; asked is the explicit type, None for auto-detection."""
    text = raw.get("text")
    if not isinstance(text, str) or not text:
        raise Refused("1010", "text is required")
    subject = raw.get("subject")
    if subject is not None and not isinstance(subject, str):
        raise Refused("1011", "subject must be a string")
    subject = subject or None
    size = _text_bytes(text, "text")
    image_id = raw.get("imageId")
    kind = asked or ("MMS" if image_id else "SMS" if size <= SMS_BYTES and subject is None else "LMS")
    if kind == "MMS" and not image_id:
        raise Refused("1010", "imageId is required for MMS")
    if image_id and kind != "MMS":
        raise Refused("1011", f"imageId is only for MMS, not {kind}")
    if image_id and not image_ok:
        raise Refused("1034", f"imageId {image_id} is not an uploaded MMS file")
    if kind == "SMS" and subject is not None:
        raise Refused("1013", "subject")
    if subject is not None and _text_bytes(subject, "subject") > SUBJECT_BYTES:
        raise Refused("1014", f"subject is {_text_bytes(subject, 'subject')} bytes")
    limit = SMS_BYTES if kind == "SMS" else LMS_BYTES
    if size > limit:
        raise Refused("1031", f"text is {size} EUC-KR bytes, {kind} allows {limit}")
    return kind, text, subject


def _fill(text: str, variables: dict[str, str], where: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(0) not in variables:
            raise Refused("1043", f"{where}: variables lacks {match.group(0)}")
        return variables[match.group(0)]

    return _VAR.sub(one, text)


def alimtalk(
    raw: dict[str, Any], kakao: dict[str, Any], templates: dict[str, dict[str, Any]], pf_id: str
) -> tuple[str, dict[str, Any]]:
    """(text, kakaoOptions as recorded) of an AlimTalk, checked against its approved template."""
    if kakao.get("pfId") != pf_id:
        raise Refused("1041", f"kakaoOptions.pfId {kakao.get('pfId')!r} is not a channel of this account")
    template = templates.get(str(kakao.get("templateId")))
    if template is None or template["pfId"] != pf_id:
        raise Refused("1042", f"kakaoOptions.templateId {kakao.get('templateId')!r} is not a template of this channel")
    if template["status"] != "APPROVED":
        raise Refused("1042", f"template {template['templateId']} is {template['status']}, not APPROVED")
    variables = kakao.get("variables") or {}
    if not isinstance(variables, dict) or any(not isinstance(v, str) for v in variables.values()):
        raise Refused("1011", "kakaoOptions.variables must map '#{name}' to strings")
    text = raw.get("text")
    if variables or not text:
        filled = _fill(template["content"], variables, "text")
        if text and text != filled:
            raise Refused("1043", "text differs from the template filled with variables")
        text = filled
    elif not placeholder_pattern(template["content"]).fullmatch(text):
        raise Refused("1043", "text does not match the template")
    if len(text) > ATA_CHARS:
        raise Refused("1031", f"text is {len(text)} characters, ATA allows {ATA_CHARS}")
    buttons = _buttons(kakao.get("buttons"), template, variables)
    recorded = {
        "pfId": pf_id,
        "templateId": template["templateId"],
        "variables": dict(variables),
        "disableSms": bool(kakao.get("disableSms", False)),
        "buttons": buttons,
    }
    return text, recorded


def _buttons(given: Any, template: dict[str, Any], variables: dict[str, str]) -> list[dict[str, Any]]:
    wanted = template["buttons"]
    if given is None:
        # The SDKs send no buttons: the template's own, their URL variables filled.
        return [
            {**b, **{k: _fill(b[k], variables, f"button {b['buttonName']}") for k in LINKS if b.get(k)}} for b in wanted
        ]
    if not isinstance(given, list) or any(not isinstance(b, dict) for b in given):
        raise Refused("1044", "kakaoOptions.buttons must be a list of objects")
    if given and not wanted:
        raise Refused("1047", f"template {template['templateId']} has no buttons")
    if wanted and not given:
        raise Refused("1046", f"template {template['templateId']} has {len(wanted)} button(s)")
    if len(given) > MAX_BUTTONS:
        raise Refused("1050", f"{len(given)} buttons")
    for index, button in enumerate(given):
        if button.get("buttonType") not in ("WL", "AL", "BK", "MD", "DS", "AC", "BC", "BT"):
            raise Refused("1044", f"buttons[{index}].buttonType {button.get('buttonType')!r}")
        if len(str(button.get("buttonName") or "")) > BUTTON_NAME_CHARS:
            raise Refused("1049", f"buttons[{index}].buttonName")
        for key in LINKS:
            if len(str(button.get(key) or "")) > BUTTON_URL_CHARS:
                raise Refused("1048", f"buttons[{index}].{key}")
        if button["buttonType"] == "WL" and not button.get("linkMo"):
            raise Refused("1045", f"buttons[{index}].linkMo is required for WL")
        if button["buttonType"] == "AL" and not (button.get("linkAnd") and button.get("linkIos")):
            raise Refused("1045", f"buttons[{index}].linkAnd and linkIos are required for AL")
    shape = [(b.get("buttonType"), b.get("buttonName")) for b in given]
    if shape != [(b["buttonType"], b["buttonName"]) for b in wanted]:
        raise Refused("1052", "buttons differ from the template's, in type, name or order")
    return [dict(b) for b in given]


def message_type(raw: dict[str, Any]) -> str | None:
    """The explicit type, upper-cased (SOLAPI ignores case), or None for auto-detection."""
    asked = raw.get("type")
    if asked is None or (raw.get("autoTypeDetect") is True and not asked):
        return None
    if not isinstance(asked, str) or asked.upper() not in KNOWN_TYPES:
        raise Refused("1025", f"type {asked!r}; the sandbox knows {', '.join(KNOWN_TYPES)}")
    return asked.upper()


def phone_to(raw: dict[str, Any]) -> list[str]:
    """One recipient or a list of them (one message each)."""
    to = raw.get("to")
    if isinstance(to, list):
        if not to:
            raise Refused("1010", "to is required")
        return [_phone(t, "to") for t in to]
    return [_phone(to, "to")]
