"""The inbox page's view of the sandbox: every message as the phone shows it, both providers in one shape.

One entry per message a phone would get (or, for a refused send, would have got):
`id, provider, channel (sms|lms|mms|alimtalk), test, to, to_masked, from, subject, text, bytes, fits,
images, template_code, buttons, accepted_at, send_at, scheduled, report, fallback_of, fallback_id, route`.
`report` is `{state, code, meaning}` with state pending | delivered | failed | refused | test.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import codes
from .euckr import NotSendable, euckr_len
from .solapi import codes as solapi_codes
from .solapi.store import BUTTON_TYPES as SOLAPI_BUTTON_TYPES
from .store import KST, Message

if TYPE_CHECKING:
    from .server import Sandbox

WEB = Path(__file__).resolve().parent / "web"
ASSET_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
# A send the app makes this soon after its AlimTalk was refused, to the same phone, is taken for the
# app's SMS fallback: the provider never learns that the two belong together.
APP_FALLBACK_WINDOW_S = 120.0
_SOLAPI_BUTTON_WORDS = {code: word for word, code in SOLAPI_BUTTON_TYPES.items()}


def asset(name: str) -> tuple[bytes, str] | None:
    """(bytes, content type) of a file of the page, or None for anything else (no path tricks)."""
    path = WEB / name
    if "/" in name or name.startswith(".") or path.suffix not in ASSET_TYPES or not path.is_file():
        return None
    return path.read_bytes(), ASSET_TYPES[path.suffix]


def mask(phone: str) -> str:
    """010****5678: the list shows whose thread it is without showing the number."""
    if len(phone) < 8:
        return phone[:2] + "*" * max(0, len(phone) - 2)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def kst(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, KST).strftime("%Y-%m-%d %H:%M:%S")


def _size(text: str | None, sms_limit_inclusive: bool) -> tuple[int | None, str | None]:
    """EUC-KR bytes and whether that is an SMS or an LMS (None when a character cannot be sent)."""
    if not text:
        return 0, "SMS"
    try:
        size = euckr_len(text)
    except NotSendable:
        return None, None
    fits = size <= 90 if sms_limit_inclusive else size < 90
    return size, "SMS" if fits else "LMS"


def _entry(
    provider: str, entry_id: str, channel: str, to: str, sender: str | None, text: str, **more: Any
) -> dict[str, Any]:
    size, fits = _size(text, sms_limit_inclusive=provider == "solapi")
    accepted, send_at = more.pop("accepted_at"), more.pop("send_at")
    entry = {
        "id": entry_id,
        "provider": provider,
        "channel": channel,
        "test": False,
        "to": to,
        "to_masked": mask(to),
        "from": sender,
        "subject": None,
        "text": text,
        "bytes": size,
        "fits": fits,
        "images": [],
        "template_code": None,
        "buttons": [],
        "accepted_at": accepted,
        "send_at": send_at,
        "send_at_kst": kst(send_at),
        "scheduled": send_at > accepted + 1,
        "fallback_of": None,
        "fallback_id": None,
        "route": None,
    }
    entry.update(more)
    return entry


def _report(state: str, code: str | None = None, meaning: str | None = None) -> dict[str, Any]:
    return {"state": state, "code": code, "meaning": meaning}


# --- API Store -----------------------------------------------------------------------------------


def _apistore(message: Message, now: float, images: dict[str, list[bytes]]) -> Iterator[dict[str, Any]]:
    base = f"apistore:{message.cmid}:{message.dest_phone}"
    out = message.outcome
    ready = not out.get("pending") and now >= message.ready_at
    common = {"cmid": message.cmid, "accepted_at": message.accepted_at, "send_at": message.send_at}
    if message.kind in ("sms", "lms", "mms"):
        code = out.get("call_status")
        if message.test:
            report = _report("test", None, "ppurio_test: validated, never delivered")
        elif not ready:
            report = _report("pending")
        else:
            state = "delivered" if code in codes.CALL_STATUS_DELIVERED else "failed"
            report = _report(state, code, codes.CALL_STATUS.get(str(code), "unknown code"))
        yield _entry(
            "apistore",
            base,
            message.kind,
            message.dest_phone,
            message.send_phone,
            message.msg_body,
            subject=message.subject,
            images=[f"/_sandbox/images/apistore/{message.cmid}/{i}" for i in range(len(images.get(message.cmid, [])))],
            report=report,
            test=message.test,
            **common,
        )
        return
    test = message.kind == "kko_test"
    rslt, status = str(out.get("rslt", "")), str(out.get("status", ""))
    fallback_kind = out.get("fallback")
    fell_back = ready and not test and rslt != "0" and bool(fallback_kind) and bool(out.get("msg_rslt"))
    if test:
        report = _report("test", None, "msg_test: validated, never delivered")
    elif not ready:
        report = _report("pending")
    else:
        report = _report(
            "delivered" if rslt == "0" and status != "4" else "failed", rslt, codes.RSLT.get(rslt, "unknown code")
        )
    buttons = [{"type": b["type"], "name": b["name"], "url": b.get("url_mobile")} for b in message.buttons or []]
    yield _entry(
        "apistore",
        base,
        "alimtalk",
        message.dest_phone,
        message.send_phone,
        message.msg_body,
        test=test,
        template_code=message.template_code,
        buttons=buttons,
        report=report,
        fallback_id=f"{base}:fallback" if fell_back else None,
        template_mismatch=message.template_mismatch,
        **common,
    )
    if fell_back:
        # The provider's own SMS/LMS, sent when Kakao could not deliver: the phone gets it then.
        msg_rslt = str(out["msg_rslt"])
        delivered = msg_rslt in ("0", "00")
        yield _entry(
            "apistore",
            f"{base}:fallback",
            str(fallback_kind).lower(),
            message.dest_phone,
            message.send_phone,
            message.failed_msg or message.msg_body,
            subject=message.failed_subject if str(fallback_kind).upper() == "LMS" else None,
            report=_report("delivered" if delivered else "failed", msg_rslt, codes.msg_rslt_meaning(msg_rslt)),
            fallback_of=base,
            route="provider",
            cmid=message.cmid,
            accepted_at=message.ready_at,
            send_at=message.ready_at,
        )


def apistore_refusal(kind: str, params: dict[str, str], code: str, reason: str) -> dict[str, Any]:
    """A refused API Store send (result_code other than 200), in the shape State.note_refusal keeps."""
    alimtalk = kind in ("kko_msg", "kko_test")
    dest = params.get("phone" if alimtalk else "dest_phone", "")
    return {
        "provider": "apistore",
        "kind": "alimtalk" if alimtalk else kind.removesuffix("_test"),
        "test": kind.endswith("_test"),
        "to": [d.strip() for d in dest.split(",") if d.strip()] or [""],
        "from": params.get("callback" if alimtalk else "send_phone"),
        "text": params.get("msg" if alimtalk else "msg_body"),
        "subject": params.get("subject"),
        "template_code": params.get("template_code"),
        "code": code,
        "reason": reason,
    }


def _refusals(refusals: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for refusal in refusals:
        for index, to in enumerate(refusal["to"]):
            yield _entry(
                refusal["provider"],
                f"refused:{refusal['seq']}:{index}",
                refusal["kind"],
                to,
                refusal.get("from"),
                refusal.get("text") or "",
                subject=refusal.get("subject"),
                test=bool(refusal.get("test")),
                template_code=refusal.get("template_code"),
                report=_report("refused", refusal["code"], refusal["reason"]),
                accepted_at=refusal["at"],
                send_at=refusal["at"],
            )


# --- SOLAPI --------------------------------------------------------------------------------------


def _solapi(public: dict[str, Any]) -> dict[str, Any]:
    code = str(public["status_code"])
    if public["canceled"]:
        report = _report("failed", code, "예약 취소됨 (canceled before sending)")
    elif code in (solapi_codes.ACCEPTED, solapi_codes.AT_CARRIER):
        report = _report("pending", code, solapi_codes.STATUS_CODES[code])
    else:
        state = "delivered" if code == solapi_codes.DELIVERED else "failed"
        report = _report(state, code, solapi_codes.STATUS_CODES.get(code, "unknown code"))
    kind = public["kind"]
    buttons = [
        {
            "type": _SOLAPI_BUTTON_WORDS.get(str(b.get("buttonType")), b.get("buttonType")),
            "name": b.get("buttonName"),
            "url": b.get("linkMo") or b.get("linkAnd"),
        }
        for b in public.get("buttons") or []
        if isinstance(b, dict)
    ]
    image = public.get("image_id")
    return _entry(
        "solapi",
        f"solapi:{public['message_id']}",
        "alimtalk" if kind == "ata" else kind,
        str(public["to"]),
        public.get("from"),
        public.get("text") or "",
        subject=public.get("subject"),
        images=[f"/_sandbox/images/solapi/{image}/0"] if image and kind == "mms" else [],
        template_code=public.get("template_id"),
        buttons=buttons,
        report=report,
        message_id=public["message_id"],
        fallback_of=f"solapi:{public['fallback_of']}" if public.get("fallback_of") else None,
        fallback_id=f"solapi:{public['fallback_id']}" if public.get("fallback_id") else None,
        route="provider" if public.get("fallback_of") else None,
        accepted_at=public["accepted_at"],
        send_at=public["send_at"],
    )


# --- both ----------------------------------------------------------------------------------------


def _link_app_fallbacks(entries: list[dict[str, Any]]) -> None:
    """Pair each refused AlimTalk with the SMS/LMS the app sent next to the same phone (same provider)."""
    for refused in entries:
        if refused["channel"] != "alimtalk" or refused["report"]["state"] != "refused" or refused["test"]:
            continue
        for later in entries:
            if (
                later["provider"] == refused["provider"]
                and later["to"] == refused["to"]
                and later["channel"] in ("sms", "lms")
                and later["fallback_of"] is None
                and 0 <= later["accepted_at"] - refused["accepted_at"] <= APP_FALLBACK_WINDOW_S
                and later["report"]["state"] != "refused"
            ):
                later["fallback_of"], later["route"] = refused["id"], "app"
                refused["fallback_id"] = later["id"]
                break


def view(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Every inbox entry, oldest first."""
    state = sandbox.state
    with state.lock:
        sandbox.solapi.settle()
        now = state.clock()
        entries = [e for m in [*state.messages, *state.test_messages] for e in _apistore(m, now, state.images)]
        entries += _refusals(state.refusals)
        entries += [_solapi(m.public(now)) for m in sandbox.solapi.messages.values()]
        hidden = set(state.inbox_hidden)
    entries = [e for e in entries if e["id"] not in hidden and e["fallback_of"] not in hidden]
    # At the same instant a refusal goes first: what the app sends then is its fallback.
    entries.sort(key=lambda e: (e["accepted_at"], e["report"]["state"] != "refused"))
    _link_app_fallbacks(entries)
    for entry in entries:
        entry["accepted_at_kst"] = kst(entry["accepted_at"])
    return entries


def image(sandbox: Sandbox, provider: str, key: str, index: int) -> bytes | None:
    state = sandbox.state
    with state.lock:
        if provider == "apistore":
            images = state.images.get(key, [])
            return images[index] if 0 <= index < len(images) else None
        stored = sandbox.solapi.files.get(key)
        return stored.data if provider == "solapi" and stored is not None and index == 0 else None


def fingerprint(shown: Any) -> str:
    """Changes whenever anything the page shows changes (a report settling included)."""
    return hashlib.sha256(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def snapshot(sandbox: Sandbox) -> dict[str, Any]:
    """Everything the page shows, in one answer: the messages and each panel."""
    return {
        "messages": view(sandbox),
        "templates": sandbox.templates(),
        "senders": sandbox.senders(),
        "pins": sandbox.pins(),
        "balance": {"apistore": sandbox.balance, "solapi": sandbox.solapi_balance},
        "faults": sandbox.faults(),
        "outcomes": sandbox.outcomes(),
        "config": sandbox.settings(),
    }


def code_tables() -> dict[str, dict[str, str]]:
    """The report codes a panel can force or mix, with their meanings."""
    return {
        "call_status": codes.CALL_STATUS,
        "rslt": codes.RSLT,
        "msg_rslt": codes.MSG_RSLT,
        "status_code": {c: solapi_codes.STATUS_CODES[c] for c in solapi_codes.REPORT_CODES},
    }
