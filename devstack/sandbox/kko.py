"""KakaoTalk AlimTalk API v1.5: /kko/1/{msg,msg_test,report,template/list,sendnumber/list}, /kko/2/sendnumber/{save,list}."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from . import pins, rules
from .store import (
    BUTTON_TYPES,
    LINK_BUTTON_TYPES,
    MAX_BUTTONS,
    PENDING,
    STATUS_WORDS,
    Message,
    Pending,
    State,
    matches_template_text,
    pick,
    placeholder_pattern,
)

FAILED_TYPES = ("SMS", "LMS", "N")
# MSG_RSLT of a fallback SMS/LMS that got through: E_OK, and "00" as the spec's own example sends it.
DELIVERED_MSG_RSLT = ("0", "00")


def _split(value: str | None) -> list[str]:
    if value is None or not value.strip():
        return []
    return [item.strip() for item in value.split(",")]


def parse_buttons(params: Mapping[str, str]) -> list[dict[str, Any]]:
    types = _split(params.get("btn_types"))
    names = _split(params.get("btn_txts"))
    if not types and names:
        raise rules.param_error("BTN_TXTS given without BTN_TYPES")
    if not types:
        legacy_name, legacy_url = params.get("url_button_txt", ""), params.get("url", "")
        if not legacy_name and not legacy_url:
            return []
        if not legacy_name or not legacy_url:
            raise rules.param_error("URL and URL_BUTTON_TXT go together (legacy single 웹링크 button)")
        return [{"type": "웹링크", "name": legacy_name, "url_mobile": legacy_url, "url_pc": None}]
    if len(types) > MAX_BUTTONS:
        raise rules.param_error(f"BTN_TYPES: at most {MAX_BUTTONS} buttons (got {len(types)})")
    if len(names) != len(types):
        raise rules.param_error(f"BTN_TXTS must name each of the {len(types)} BTN_TYPES (got {len(names)})")
    for kind in types:
        if kind not in BUTTON_TYPES:
            raise rules.param_error(f"BTN_TYPES: {kind!r} is not one of {', '.join(BUTTON_TYPES)}")
    if any(not name for name in names):
        raise rules.param_error("BTN_TXTS: a button name is empty")
    columns = []
    for field in ("btn_urls1", "btn_urls2"):
        urls = _split(params.get(field))
        if len(urls) > len(types):
            raise rules.param_error(f"{field.upper()}: {len(urls)} URLs for {len(types)} buttons")
        columns.append(urls + [""] * (len(types) - len(urls)))
    buttons = []
    for index, (kind, name) in enumerate(zip(types, names, strict=True)):
        url1, url2 = columns[0][index], columns[1][index]
        if kind in LINK_BUTTON_TYPES and not url1:
            raise rules.param_error(f"BTN_URLS1: button {index + 1} ({kind}) needs a URL")
        buttons.append({"type": kind, "name": name, "url_mobile": url1 or None, "url_pc": url2 or None})
    return buttons


def template_mismatch(template: dict[str, Any], msg: str, buttons: list[dict[str, Any]]) -> str | None:
    """Why the message does not match its approved template, or None when it does."""
    if not matches_template_text(template["template_msg"], msg):
        return "MSG does not match the template text"
    expected = template["btnList"]
    if len(expected) != len(buttons):
        return f"{len(buttons)} buttons sent, the template has {len(expected)}"
    for index, (want, got) in enumerate(zip(expected, buttons, strict=True), start=1):
        wanted = f"{want['template_btn_type']}/{want['template_btn_name']}"
        if wanted != f"{got['type']}/{got['name']}":
            return f"button {index} is {got['type']}/{got['name']}, the template has {wanted}"
        for template_key, sent_key in (("template_btn_url", "url_mobile"), ("template_btn_url2", "url_pc")):
            pattern = want.get(template_key)
            if pattern and not placeholder_pattern(pattern).fullmatch(got[sent_key] or ""):
                return f"button {index} URL {got[sent_key]!r} does not match the template's {pattern!r}"
    return None


def send(state: State, params: Mapping[str, str], client_id: str, test: bool) -> dict[str, Any]:
    phone = rules.digits("PHONE", rules.required(params, "phone", "PHONE"))
    callback = rules.digits("CALLBACK", rules.required(params, "callback", "CALLBACK"))
    msg = rules.required(params, "msg", "MSG")
    code = rules.required(params, "template_code", "TEMPLATE_CODE")
    if len(msg) > rules.ALIMTALK_MSG_CHARS:
        raise rules.param_error(f"MSG must be at most {rules.ALIMTALK_MSG_CHARS} characters (got {len(msg)})")
    scheduled = rules.send_time("REQDATE", params.get("reqdate"))
    buttons = parse_buttons(params)

    failed_type = params.get("failed_type", "").strip().upper()
    if failed_type and failed_type not in FAILED_TYPES:
        raise rules.param_error(f"FAILED_TYPE must be SMS, LMS or N (got {params.get('failed_type')!r})")
    failed_subject = params.get("failed_subject") or None
    failed_msg = params.get("failed_msg") or None
    rules.under("FAILED_SUBJECT", failed_subject, rules.SUBJECT_LIMIT)
    fallback: str | None = None
    if failed_type != "N":
        # An absent FAILED_TYPE is "not N" too: the spec only spares an explicit N.
        if not failed_msg:
            raise rules.fail("kko", "301", f"FAILED_TYPE is {failed_type or 'absent'} (not N) and FAILED_MSG is empty")
        size = rules.byte_len("FAILED_MSG", failed_msg)
        fallback = failed_type or ("SMS" if size < rules.SMS_BODY_LIMIT else "LMS")
        if fallback == "LMS" and not failed_subject:
            raise rules.fail("kko", "301", "FAILED_TYPE is LMS and FAILED_SUBJECT is empty")
        limit = rules.SMS_BODY_LIMIT if fallback == "SMS" else rules.LONG_BODY_LIMIT
        rules.under(f"FAILED_MSG (FAILED_TYPE {fallback})", failed_msg, limit)
    else:
        rules.under("FAILED_MSG", failed_msg, rules.LONG_BODY_LIMIT)

    with state.lock:
        if client_id not in state.profiles:
            raise rules.fail("kko", "900", f"client {client_id} has no KakaoTalk sender profile")
        template = state.templates.get(code)
        if template is None:
            raise rules.fail("kko", "800", f"TEMPLATE_CODE {code} does not exist")
        if template["status"] != "승인":
            raise rules.fail("kko", "700", f"TEMPLATE_CODE {code} is {template['status']}, not 승인")
        if buttons and not template["btnList"]:
            raise rules.fail("kko", "302", f"buttons sent for template {code}, which has no buttons")
        sender = state.kko_senders.get(callback)
        if sender is None or sender.get("USE_YN") != "Y":
            raise rules.fail("kko", "500", f"CALLBACK {callback} is not a registered sender number")
        price = state.prices.get("kko", 1)
        if state.balance < price:
            raise rules.fail("kko", "600", f"잔금 부족[미발송 목록] {phone}")
        if not test:
            # msg_test "실제로 메시지 전송은 되지 않으며": validated, never charged
            state.balance -= price
        mismatch = template_mismatch(template, msg, buttons)
        cmid = state.next_cmid()
        now, send_at, ready_at = state.timing(scheduled)
        message = Message(
            cmid=cmid,
            kind="kko_test" if test else "kko",
            requested_kind="kko_test" if test else "kko",
            client_id=client_id,
            dest_phone=phone,
            send_phone=callback,
            msg_body=msg,
            send_time=params.get("reqdate") or None,
            template_code=code,
            buttons=buttons,
            failed_type=failed_type or None,
            failed_subject=failed_subject,
            failed_msg=failed_msg,
            template_matched=mismatch is None,
            template_mismatch=mismatch,
            accepted_at=now,
            send_at=send_at,
            ready_at=ready_at,
            outcome=_plan(state, cmid, phone, mismatch is None, fallback),
            test=test,
        )
        state.record([message], test=test)
    return {"result_code": "200", "result_message": "OK", "cmid": cmid}


def _plan(state: State, cmid: str, phone: str, matched: bool, fallback: str | None) -> dict[str, Any]:
    forced = state.forced.get(phone, {})
    rng = state.outcome_rng(cmid, phone)
    if "rslt" in forced:
        rslt = str(forced["rslt"])
    elif not matched:
        rslt = "U"  # NO_MATCHED_TEMPLATE: accepted at send time, failed only in the report
    else:
        rslt = pick(rng, state.mix["kko"])
    if "msg_rslt" in forced:
        msg_rslt = forced["msg_rslt"]
    elif rslt == "0":
        msg_rslt = "00"  # as in the spec's own report example
    elif fallback:
        msg_rslt = pick(rng, state.mix["fallback"])
    else:
        msg_rslt = ""
    # STATUS 4 when nothing reached the phone (neither the AlimTalk nor its fallback SMS); the spec only
    # lists 1-3, public clients saw 4 with RSLT U (template mismatch) and MSG_RSLT F.
    delivered = rslt == "0" or msg_rslt in DELIVERED_MSG_RSLT
    outcome: dict[str, Any] = {
        "status": str(forced.get("status", "3" if delivered else "4")),
        "rslt": rslt,
        "msg_rslt": msg_rslt,
        "fallback": fallback if rslt != "0" else None,
    }
    if forced.get("pending"):
        outcome["pending"] = True
    return outcome


def report(state: State, params: Mapping[str, str]) -> dict[str, Any] | Pending:
    """Over the report delay d after sending: nothing yet (the not-ready reply, as for an unknown cmid) for
    the first d/4 after acceptance, then STATUS 1 (waiting, through any REQDATE wait) until d/2 after the
    send, STATUS 2 (sent) until d, then STATUS 3 with the result, or 4 when nothing reached the phone."""
    cmid = rules.required(params, "cmid", "CMID")
    messages = [m for m in state.find(cmid) if m.kind == "kko"]
    if not messages:
        return PENDING
    message = messages[0]
    now = state.clock()
    delay = message.ready_at - message.send_at
    if now < message.accepted_at + delay / 4:
        return PENDING
    if message.outcome.get("pending") or now < message.ready_at:
        status, rslt, msg_rslt = ("1" if now < message.send_at + delay / 2 else "2"), "", ""
    else:
        status, rslt, msg_rslt = message.outcome["status"], message.outcome["rslt"], message.outcome["msg_rslt"]
    # The live server mixed upper- and lower-case keys in one object.
    return {
        "STATUS": status,
        "CMID": cmid,
        "RSLT": rslt,
        "phone": message.dest_phone,
        "callback": message.send_phone,
        "msg_rslt": msg_rslt,
    }


def template_list(state: State, params: Mapping[str, str]) -> dict[str, Any]:
    code = params.get("template_code") or None
    status_code = params.get("status") or None
    if status_code is not None and status_code not in STATUS_WORDS:
        raise rules.param_error("STATUS must be a code 1-5 (등록1 검수요청2 승인3 반려4 승인중단5)")
    with state.lock:
        templates = [
            copy.deepcopy(t)
            for t in state.templates.values()
            if (code is None or t["template_code"] == code)
            and (status_code is None or t["status"] == STATUS_WORDS[status_code])
        ]
    return {"result_code": "200", "result_message": "OK", "templateList": templates}


def sendnumber_save(state: State, params: Mapping[str, str]) -> dict[str, Any]:
    return pins.save(state, "kko", state.kko_senders, params)


def sendnumber_list(state: State, params: Mapping[str, str]) -> dict[str, Any]:
    wanted = params.get("sendnumber")
    with state.lock:
        numbers = [
            {"client_id": state.client_id, "comment": e["comment"], "sendnumber": n, "USE_YN": e["USE_YN"]}
            for n, e in state.kko_senders.items()
            if not wanted or n == wanted
        ]
    return {"result_code": "200", "result_message": "OK", "numberList": numbers}
