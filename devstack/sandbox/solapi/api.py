"""SOLAPI's JSON endpoints: one handler each, and the route table the server dispatches on."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from . import codes, rules
from .auth import parse_date
from .store import Group, SolapiMessage, SolapiState, StoredFile, iso

MAX_MESSAGES = 10_000
MAX_LIMIT = 500
FILE_LIMITS = {"MMS": 200 * 1024, "KAKAO": 500 * 1024, "DOCUMENT": 2 * 1024 * 1024}
JPEG = b"\xff\xd8\xff"
PNG = b"\x89PNG\r\n\x1a\n"
COUNT_TYPES = ("sms", "lms", "mms", "ata", "cta", "cti", "nsa", "rcs_sms", "rcs_lms", "rcs_mms", "rcs_tpl")


class ApiError(Exception):
    def __init__(self, error: tuple[int, str], message: str) -> None:
        super().__init__(message)
        self.status, self.code = error
        self.message = message


Request = dict[str, Any]  # method, match, query, body, base_url
Handler = Callable[[SolapiState, Request], Any]


# --- sending ------------------------------------------------------------------------------------


def _checked(sol: SolapiState, raw: Any, seen: set[str], allow_duplicates: bool) -> list[dict[str, Any]]:
    """One request message as accepted messages (one per recipient), or raise Refused."""
    if not isinstance(raw, dict):
        raise rules.Refused("1011", "each message must be a JSON object")
    asked = rules.message_type(raw)
    recipients = rules.phone_to(raw)
    kakao = raw.get("kakaoOptions")
    is_ata = asked == "ATA" or (asked is None and isinstance(kakao, dict) and kakao.get("templateId"))
    if kakao is not None and not is_ata:
        raise rules.Refused("1033", f"type {asked or 'auto-detected'}")
    recorded_kakao = None
    if is_ata:
        if not isinstance(kakao, dict):
            raise rules.Refused("1010", "kakaoOptions with pfId and templateId is required for ATA")
        text, recorded_kakao = rules.alimtalk(raw, kakao, sol.templates, sol.pf_id)
        kind, subject = "ATA", raw.get("subject") or None
        # The sender number is only needed for the SMS fallback.
        sender, custom = rules.check_common(raw, sol.senders, need_from=not recorded_kakao["disableSms"])
    else:
        image = sol.files.get(str(raw.get("imageId")))
        kind, text, subject = rules.text_message(raw, asked, image is not None and image.type == "MMS")
        sender, custom = rules.check_common(raw, sol.senders, need_from=True)
    out = []
    for to in recipients:
        if not allow_duplicates and to in seen:
            raise rules.Refused("1026", f"to {to} appears twice and allowDuplicates is false")
        seen.add(to)
        out.append(
            {
                "type": kind,
                "to": to,
                "from_": sender,
                "text": text,
                "subject": subject,
                "image_id": raw.get("imageId") if kind == "MMS" else None,
                "country": str(raw.get("country") or "82"),
                "kakao": recorded_kakao,
                "custom_fields": custom,
                "auto_type_detect": asked is None,
            }
        )
    return out


def _failed(sol: SolapiState, raw: Any, refusal: rules.Refused) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    to = raw.get("to")
    return {
        "to": ",".join(map(str, to)) if isinstance(to, list) else to,
        "from": raw.get("from"),
        "type": str(raw.get("type") or ("ATA" if raw.get("kakaoOptions") else "SMS")).upper(),
        "statusMessage": refusal.message,
        "country": str(raw.get("country") or "82"),
        "messageId": sol.new_id("M4V"),
        "statusCode": refusal.code,
        "accountId": sol.account_id,
        "customFields": raw.get("customFields") or {},
    }


def _refusal_for_inbox(raw: Any, refusal: rules.Refused) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    kakao = raw.get("kakaoOptions") if isinstance(raw.get("kakaoOptions"), dict) else {}
    to = raw.get("to")
    return {
        "provider": "solapi",
        "kind": "alimtalk" if kakao.get("templateId") else str(raw.get("type") or "sms").lower(),
        "to": [str(t) for t in to] if isinstance(to, list) else [str(to or "")],
        "from": raw.get("from"),
        "text": raw.get("text"),
        "subject": raw.get("subject"),
        "template_code": kakao.get("templateId"),
        "fallback_text": None if kakao.get("disableSms") else raw.get("text"),
        "code": refusal.code,
        "reason": refusal.message,
    }


def _schedule(body: dict[str, Any], now: float) -> float | None:
    text = body.get("scheduledDate")
    if text in (None, ""):
        return None
    moment = parse_date(str(text)) if isinstance(text, str) else None
    if moment is None:
        raise ApiError(codes.VALIDATION, "scheduledDate must be ISO 8601 with an offset")
    # A date in the past sends now, as SOLAPI does.
    return moment if moment > now else None


def accept(sol: SolapiState, body: Any, fault_code: str | None = None) -> tuple[Group, list[dict[str, Any]], list[str]]:
    """Validate and record one send request: (group, failed messages, accepted message ids)."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise ApiError(codes.VALIDATION, "messages must be a non-empty array")
    if len(body["messages"]) > MAX_MESSAGES:
        raise ApiError(codes.VALIDATION, f"at most {MAX_MESSAGES} messages per request")
    state = sol.state
    allow_duplicates = bool(body.get("allowDuplicates", False))
    with sol.lock:
        now = state.clock()
        scheduled = _schedule(body, now)
        agent: dict[str, Any] = body["agent"] if isinstance(body.get("agent"), dict) else {}
        group = Group(
            sol.new_id("G4V"), now, scheduled, allow_duplicates, app_id=body.get("appId") or agent.get("appId")
        )
        group.log.append({"createAt": iso(now), "message": "메시지 그룹이 생성되었습니다."})
        failed: list[dict[str, Any]] = []
        accepted: list[str] = []
        seen: set[str] = set()
        send_at = scheduled or now
        for raw in body["messages"]:
            try:
                if fault_code is not None:
                    raise rules.Refused(fault_code, "sandbox fault")
                planned = _checked(sol, raw, seen, allow_duplicates)
                price = sum(sol.prices.get(p["type"], 0.0) for p in planned)
                if price > sol.balance:
                    raise rules.Refused("1030", f"balance {sol.balance:g} < {price:g}")
            except rules.Refused as refusal:
                failed.append(_failed(sol, raw, refusal))
                state.note_refusal(_refusal_for_inbox(raw, refusal))
                continue
            for p in planned:
                message_id = sol.new_id("M4V")
                outcome, forever = sol.plan_outcome(p["type"], p["to"], message_id)
                price = sol.prices.get(p["type"], 0.0)
                sol.balance -= price
                sol.messages[message_id] = SolapiMessage(
                    message_id=message_id,
                    group_id=group.group_id,
                    accepted_at=now,
                    send_at=send_at,
                    ready_at=send_at + state.report_delay_s,
                    outcome=outcome,
                    pending_forever=forever,
                    price=price,
                    **p,
                )
                group.message_ids.append(message_id)
                accepted.append(message_id)
        group.failed = len(failed)
        sol.groups[group.group_id] = group
    return group, failed, accepted


def send_many_detail(sol: SolapiState, req: Request) -> dict[str, Any]:
    group, failed, accepted = accept(sol, req["body"], req.get("fault_code"))
    now = sol.state.clock()
    reply: dict[str, Any] = {"failedMessageList": failed, "groupInfo": group_json(sol, group, now)}
    if req["body"].get("showMessageList"):
        reply["messageList"] = [
            {
                "messageId": m.message_id,
                "statusCode": m.status_code(now),
                "statusMessage": codes.STATUS_CODES[m.status_code(now)],
                "to": m.to,
                "from": m.from_,
                "type": m.type,
                "country": m.country,
                "customFields": m.custom_fields,
            }
            for m in (sol.messages[i] for i in accepted)
        ]
    return reply


def send_many(sol: SolapiState, req: Request) -> dict[str, Any]:
    """The 2022 endpoint: the group object alone (failures are only counted)."""
    group, _, _ = accept(sol, req["body"], req.get("fault_code"))
    return group_json(sol, group, sol.state.clock())


def send_one(sol: SolapiState, req: Request) -> dict[str, Any]:
    """POST /messages/v4/send {"message": {...}}: the message's receipt, or a 400 naming the rule."""
    body = req["body"]
    message = body.get("message") if isinstance(body, dict) else None
    group, failed, accepted = accept(
        sol, {**body, "messages": [message]} if isinstance(body, dict) else body, req.get("fault_code")
    )
    if failed:
        raise ApiError((400, failed[0]["statusCode"]), failed[0]["statusMessage"])
    stored = sol.messages[accepted[0]]
    code = stored.status_code(sol.state.clock())
    return {
        "groupId": group.group_id,
        "messageId": stored.message_id,
        "accountId": sol.account_id,
        "statusMessage": codes.STATUS_CODES[code],
        "statusCode": code,
        "to": stored.to,
        "from": stored.from_,
        "type": stored.type,
        "country": stored.country,
    }


# --- groups -------------------------------------------------------------------------------------


def group_json(sol: SolapiState, group: Group, now: float) -> dict[str, Any]:
    messages = [sol.messages[i] for i in group.message_ids]
    final = [m for m in messages if not m.canceled and m.final(now)]
    success = sum(1 for m in final if m.status_code(now) == codes.DELIVERED)
    charge: dict[str, dict[str, int]] = {t: {} for t in COUNT_TYPES}
    requested = replacement = refund = 0.0
    for m in messages:
        per_country = charge[m.type.lower()]
        per_country[m.country] = per_country.get(m.country, 0) + 1
        if m.fallback_of:
            replacement += m.price
        else:
            requested += m.price
        if m.refunded or m.canceled:
            refund += m.price
    if group.canceled_at is not None:
        status = "FAILED"
    elif group.scheduled_at is not None and now < group.scheduled_at:
        status = "SCHEDULED"
    elif messages and len(final) == len(messages):
        status = "COMPLETE"
    else:
        status = "SENDING" if messages else "FAILED"
    dates = [m.ready_at for m in final]
    return {
        "count": {
            "total": len([m for m in messages if not m.fallback_of]) + group.failed,
            "sentTotal": len(final),
            "sentFailed": len(final) - success,
            "sentSuccess": success,
            "sentPending": len(messages) - len(final),
            "sentReplacement": sum(1 for m in messages if m.fallback_of),
            "refund": sum(1 for m in messages if m.refunded or m.canceled),
            "registeredFailed": group.failed,
            "registeredSuccess": len([m for m in messages if not m.fallback_of]),
        },
        "countForCharge": charge,
        "balance": {
            "requested": requested,
            "replacement": replacement,
            "refund": refund,
            "sum": requested + replacement - refund,
        },
        "point": {"requested": 0, "replacement": 0, "refund": 0, "sum": 0},
        "app": {"profit": {t: 0 for t in COUNT_TYPES}, "appId": group.app_id, "version": None},
        "serviceMethod": "MT",
        "log": list(group.log),
        "status": status,
        "scheduledDate": iso(group.scheduled_at),
        "dateSent": iso(group.scheduled_at or group.created_at) if status not in ("SCHEDULED", "FAILED") else None,
        "dateCompleted": iso(max(dates)) if status == "COMPLETE" and dates else None,
        "isRefunded": any(m.refunded or m.canceled for m in messages),
        "flagUpdated": False,
        "prepaid": True,
        "strict": False,
        "masterAccountId": None,
        "allowDuplicates": group.allow_duplicates,
        "_id": group.group_id,
        "groupId": group.group_id,
        "accountId": sol.account_id,
        "apiVersion": "4",
        "customFields": {},
        "hint": None,
        "price": {"82": {t.lower(): p for t, p in sol.prices.items()}},
        "dateCreated": iso(group.created_at),
        "dateUpdated": iso(max([group.created_at, group.canceled_at or 0, *dates])),
    }


def _group(sol: SolapiState, req: Request) -> Group:
    group = sol.groups.get(req["match"].group(1))
    if group is None:
        raise ApiError(codes.NOT_FOUND, f"group {req['match'].group(1)} does not exist")
    return group


def get_group(sol: SolapiState, req: Request) -> dict[str, Any]:
    return group_json(sol, _group(sol, req), sol.state.clock())


def cancel_schedule(sol: SolapiState, req: Request) -> dict[str, Any]:
    group = _group(sol, req)
    now = sol.state.clock()
    if group.canceled_at is not None or group.scheduled_at is None or now >= group.scheduled_at:
        raise ApiError(codes.CANNOT_CANCEL, f"group {group.group_id} is not a scheduled group waiting to be sent")
    group.canceled_at = now
    for message_id in group.message_ids:
        message = sol.messages[message_id]
        message.canceled = True
        sol.balance += message.price
    group.log.append({"createAt": iso(now), "message": "메시지 예약이 성공적으로 취소됐습니다."})
    return group_json(sol, group, now)


# --- lists --------------------------------------------------------------------------------------


def _criteria(query: dict[str, str]) -> dict[str, list[str]]:
    """criteria=a,b & cond=eq,in & value=x,y (eq only, or 'in' with values split on '|'), plus plain filters."""
    wanted: dict[str, list[str]] = {}
    names = [n for n in query.get("criteria", "").split(",") if n]
    conds = query.get("cond", "").split(",")
    values = query.get("value", "").split(",")
    if names and (len(conds) != len(names) or len(values) != len(names)):
        raise ApiError(codes.VALIDATION, "criteria, cond and value need the same number of comma-separated items")
    for name, cond, value in zip(names, conds, values, strict=False):
        if cond not in ("eq", "in"):
            raise ApiError(codes.VALIDATION, f"cond {cond!r}: the sandbox supports eq and in")
        wanted[name] = value.split("|") if cond == "in" else [value]
    return wanted


def _page(items: list[tuple[str, Any]], query: dict[str, str]) -> tuple[list[tuple[str, Any]], str | None, int]:
    """Newest first; startKey is the id the page starts at, nextKey the id of the next page's first item."""
    raw_limit = query.get("limit") or "20"
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise ApiError(codes.VALIDATION, f"limit must be 1 to {MAX_LIMIT}")
    limit = int(raw_limit)
    start = query.get("startKey")
    ids = [key for key, _ in items]
    if start:
        if start not in ids:
            raise ApiError(codes.VALIDATION, f"startKey {start} is not in this list")
        items = items[ids.index(start) :]
    page = items[:limit]
    return page, (items[limit][0] if len(items) > limit else None), limit


def _dates(query: dict[str, str]) -> tuple[float | None, float | None]:
    out: list[float | None] = []
    for name in ("startDate", "endDate"):
        text = query.get(name)
        if not text:
            out.append(None)
            continue
        moment = parse_date(text) or parse_date(text + "T00:00:00Z" if len(text) == 10 else text)
        if moment is None:
            raise ApiError(codes.VALIDATION, f"{name} must be ISO 8601")
        out.append(moment)
    return out[0], out[1]


MESSAGE_FILTERS = ("messageId", "groupId", "to", "from", "type", "statusCode")


def list_messages(sol: SolapiState, req: Request, group: Group | None = None) -> dict[str, Any]:
    query = req["query"]
    now = sol.state.clock()
    wanted = _criteria(query)
    for name in MESSAGE_FILTERS:
        if query.get(name):
            wanted[name] = [query[name]]
    if query.get("messageIds"):
        wanted["messageId"] = query["messageIds"].split(",")
    start, end = _dates(query)
    updated = query.get("dateType", "CREATED").upper() == "UPDATED"
    chosen = []
    pool = [sol.messages[i] for i in group.message_ids] if group else list(sol.messages.values())
    for message in sorted(pool, key=lambda m: (m.accepted_at, m.message_id), reverse=True):
        view = message.to_json(sol.account_id, now)
        if any(str(view.get(name)) not in values for name, values in wanted.items()):
            continue
        moment = message.ready_at if updated and message.final(now) else message.accepted_at
        if (start is not None and moment < start) or (end is not None and moment > end):
            continue
        chosen.append((message.message_id, view))
    page, next_key, limit = _page(chosen, query)
    return {"startKey": query.get("startKey"), "limit": limit, "nextKey": next_key, "messageList": dict(page)}


def group_messages(sol: SolapiState, req: Request) -> dict[str, Any]:
    return list_messages(sol, req, _group(sol, req))


def list_groups(sol: SolapiState, req: Request) -> dict[str, Any]:
    query = req["query"]
    now = sol.state.clock()
    wanted = _criteria(query)
    start, end = _dates(query)
    chosen = []
    for group in sorted(sol.groups.values(), key=lambda g: (g.created_at, g.group_id), reverse=True):
        view = group_json(sol, group, now)
        if any(str(view.get(name)) not in values for name, values in wanted.items()):
            continue
        if (start is not None and group.created_at < start) or (end is not None and group.created_at > end):
            continue
        chosen.append((group.group_id, view))
    page, next_key, limit = _page(chosen, query)
    return {"startKey": query.get("startKey"), "limit": limit, "nextKey": next_key, "groupList": dict(page)}


# --- account ------------------------------------------------------------------------------------


def balance(sol: SolapiState, req: Request) -> dict[str, Any]:
    return {
        "accountId": sol.account_id,
        "balance": sol.balance,
        "point": 0,
        "minimumCash": 0,
        "rechargeTo": 0,
        "rechargeTryCount": 0,
        "autoRecharge": 0,
        "lowBalanceAlert": {
            "notificationBalance": "0",
            "currentBalance": f"{sol.balance:g}",
            "balances": [],
            "channels": [],
            "enabled": False,
        },
    }


def upload(sol: SolapiState, req: Request) -> dict[str, Any]:
    body = req["body"]
    if not isinstance(body, dict) or not isinstance(body.get("file"), str) or not body["file"]:
        raise ApiError(codes.VALIDATION, "file (base64) is required")
    kind = str(body.get("type") or "").upper()
    if kind not in FILE_LIMITS:
        raise ApiError(codes.VALIDATION, f"type must be one of {', '.join(FILE_LIMITS)}")
    try:
        data = base64.b64decode(body["file"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(codes.VALIDATION, "file is not valid base64") from exc
    if len(data) > FILE_LIMITS[kind]:
        raise ApiError(codes.VALIDATION, f"file is {len(data)} bytes; {kind} allows {FILE_LIMITS[kind]}")
    if kind == "MMS" and not data.startswith(JPEG):
        raise ApiError(codes.VALIDATION, "an MMS image must be a JPEG")
    if kind == "KAKAO" and not (data.startswith(JPEG) or data.startswith(PNG)):
        raise ApiError(codes.VALIDATION, "a KAKAO image must be a JPEG or PNG")
    now = sol.state.clock()
    file_id = "ST01FZ" + sol.new_id("")[2:]
    name = str(body.get("name") or f"{file_id}.{'png' if data.startswith(PNG) else 'jpg'}")
    stored = StoredFile(file_id, kind, name, name, len(data), body.get("link"), now, data)
    sol.files[file_id] = stored
    return stored.to_json(sol.account_id, req["base_url"])


def _template_json(template: dict[str, Any]) -> dict[str, Any]:
    # messageType ... accountId: fields the Node SDK 6.x requires in a template.
    return {
        "isHidden": False,
        "channelId": template["pfId"],
        "messageType": "BA",
        "emphasizeType": "NONE",
        "securityFlag": False,
        "assignType": "CHANNEL",
        "commentable": False,
        "variables": [{"name": v[2:-1]} for v in dict.fromkeys(re.findall(r"#\{[^}]*\}", template["content"]))],
        **template,
        "codes": [{"status": template["status"], "code": template["templateId"], "service": "biz", "comments": []}],
        "dateUpdated": template["dateCreated"],
    }


def list_templates(sol: SolapiState, req: Request) -> dict[str, Any]:
    query = req["query"]
    chosen = [
        (t["templateId"], _template_json(t))
        for t in sol.templates.values()
        if all(not query.get(k) or str(t.get(k)) == query[k] for k in ("pfId", "templateId", "status", "name"))
    ]
    page, next_key, limit = _page(chosen, query)
    return {
        "limit": limit,
        "startKey": query.get("startKey"),
        "nextKey": next_key,
        "templateList": [t for _, t in page],
    }


def get_template(sol: SolapiState, req: Request) -> dict[str, Any]:
    template = sol.templates.get(req["match"].group(2))
    if template is None:
        raise ApiError(codes.NOT_FOUND, f"template {req['match'].group(2)} does not exist")
    return _template_json(template)


# (path, methods, request kind for counters and faults, handler)
ROUTES: list[tuple[re.Pattern[str], tuple[str, ...], str, Handler]] = [
    (re.compile(r"/messages/v4/send-many/detail"), ("POST",), "solapi_send", send_many_detail),
    (re.compile(r"/messages/v4/send-many"), ("POST",), "solapi_send", send_many),
    (re.compile(r"/messages/v4/send"), ("POST",), "solapi_send", send_one),
    (re.compile(r"/messages/v4/list(?:-old)?"), ("GET",), "solapi_list", list_messages),
    (re.compile(r"/messages/v4/groups"), ("GET",), "solapi_groups", list_groups),
    (re.compile(r"/messages/v4/groups/([^/]+)"), ("GET",), "solapi_groups", get_group),
    (re.compile(r"/messages/v4/groups/([^/]+)/messages"), ("GET",), "solapi_list", group_messages),
    (re.compile(r"/messages/v4/groups/([^/]+)/schedule"), ("DELETE",), "solapi_cancel", cancel_schedule),
    (re.compile(r"/cash/v1/balance"), ("GET",), "solapi_balance", balance),
    (re.compile(r"/storage/v1/files"), ("POST",), "solapi_upload", upload),
    (re.compile(r"/kakao/(v1|v2)/templates"), ("GET",), "solapi_templates", list_templates),
    (re.compile(r"/kakao/(v1|v2)/templates/([^/]+)"), ("GET",), "solapi_templates", get_template),
]

SEND_KINDS = ("solapi_send",)


def route(path: str) -> tuple[tuple[re.Pattern[str], tuple[str, ...], str, Handler], re.Match[str]] | None:
    return next(((r, m) for r in ROUTES if (m := r[0].fullmatch(path))), None)


# The first path segments SOLAPI's API lives under: an unknown path there is SOLAPI's, answered in its
# JSON error shape, not by API Store's Tomcat page (the two services share this one sandbox server).
PREFIXES = frozenset(r[0].pattern.split("/")[1] for r in ROUTES)


def owns(path: str) -> bool:
    return path.split("/")[1] in PREFIXES if path.startswith("/") else False


def fault_reply(code: str) -> ApiError | str:
    """A forced result code on a SOLAPI send: a 4-digit statusCode refuses every message with it;
    anything else is a request-level errorCode (HTTP 400)."""
    if code in codes.STATUS_CODES:
        return code
    return ApiError((400, code), "sandbox result-code fault")


__all__ = ["ROUTES", "ApiError", "owns", "route"]
