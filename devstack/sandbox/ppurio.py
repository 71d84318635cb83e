"""ppurio SMS API v2.3: /ppurio/1/message/{sms,lms,mms,report}, their test mode /ppurio_test/1/message_test/...,
and the sender numbers: /ppurio/1/sendnumber/{save,list}, /ppurio/2/sendnumber/save (with a PIN)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import pins, rules
from .store import PENDING, Message, Pending, State, Upload, kst_stamp, pick

JPEG_MAGIC = b"\xff\xd8\xff"
FILE_LIMIT = 20 * 1024
FILES_TOTAL_LIMIT = 40 * 1024
MAX_FILES = 3
MAX_RECIPIENTS = 1000


def _check_files(files: list[Upload]) -> list[dict[str, Any]]:
    if len(files) > MAX_FILES:
        raise rules.param_error(f"file: at most {MAX_FILES} JPG files (got {len(files)})")
    total = 0
    for upload in files:
        if not upload.data.startswith(JPEG_MAGIC):
            raise rules.param_error(f"file {upload.filename!r} is not a JPG image (only JPG is accepted)")
        if len(upload.data) > FILE_LIMIT:
            raise rules.param_error(
                f"file {upload.filename!r} must be at most {FILE_LIMIT} bytes (20KB), got {len(upload.data)}"
            )
        total += len(upload.data)
    if total > FILES_TOTAL_LIMIT:
        raise rules.param_error(f"file: JPG files must total at most {FILES_TOTAL_LIMIT} bytes (40KB), got {total}")
    return [{"name": u.filename, "size": len(u.data)} for u in files]


def send(
    state: State, requested_kind: str, params: Mapping[str, str], files: list[Upload], test: bool = False
) -> dict[str, Any]:
    """One send request. test=True is /ppurio_test/1/message_test/: the same validation and result codes,
    nothing delivered or charged, kept apart (state.test_messages) with a report of its own."""
    send_phone = rules.digits("send_phone", rules.required(params, "send_phone"))
    dest_raw = rules.required(params, "dest_phone")
    body = rules.required(params, "msg_body")
    # 동보 발송: one request, several comma-separated recipients, one cmid
    dests = [d.strip() for d in dest_raw.split(",")]
    if len(dests) > MAX_RECIPIENTS:
        raise rules.param_error(f"dest_phone: at most {MAX_RECIPIENTS} recipients")
    for dest in dests:
        if not dest:
            raise rules.param_error("dest_phone has an empty entry in its comma-separated list")
        rules.digits("dest_phone", dest)
    scheduled = rules.send_time("send_time", params.get("send_time"))
    send_name = params.get("send_name") or None
    dest_name = params.get("dest_name") or None
    rules.under("send_name", send_name, rules.NAME_LIMIT)
    rules.under("dest_name", dest_name, rules.NAME_LIMIT)
    subject = params.get("subject") or None
    rules.under("subject", subject, rules.SUBJECT_LIMIT)
    if params.get("smsexcel") or any(u.field == "smsexcel" for u in files):
        raise rules.param_error("smsExcel bulk sending is not supported by the sandbox")

    size = rules.byte_len("msg_body", body)
    kind = requested_kind
    if kind == "sms" and size >= rules.SMS_BODY_LIMIT:
        kind = "lms"  # spec: "90byte가 넘을 경우 LMS로 자동 변환 발송"
    if kind != "sms" and size >= rules.LONG_BODY_LIMIT:
        raise rules.param_error(f"msg_body must be under {rules.LONG_BODY_LIMIT} bytes in EUC-KR (got {size} bytes)")
    if files and requested_kind != "mms":
        raise rules.param_error("file is only accepted on /mms")
    file_info = _check_files(files) if requested_kind == "mms" else []

    with state.lock:
        sender = state.ppurio_senders.get(send_phone)
        if sender is None or sender.get("USE_YN") != "Y":
            raise rules.fail("ppurio", "500", f"send_phone {send_phone} is not a registered sender number")
        cost = state.prices.get(kind, 1) * len(dests)
        if state.balance < cost:
            raise rules.fail("ppurio", "600", f"잔금 부족[미발송 목록] {','.join(dests)}")
        if not test:
            state.balance -= cost
        cmid = state.next_cmid()
        now, send_at, ready_at = state.timing(scheduled)
        messages = []
        for index, dest in enumerate(dests):
            rng = state.outcome_rng(cmid, dest)
            forced = state.forced.get(dest, {})
            outcome: dict[str, Any] = {"call_status": forced.get("call_status") or pick(rng, state.mix[kind])}
            if forced.get("pending"):
                outcome["pending"] = True
            messages.append(
                Message(
                    cmid=cmid,
                    kind=kind,
                    requested_kind=requested_kind,
                    client_id=state.client_id,
                    dest_phone=dest,
                    send_phone=send_phone,
                    msg_body=body,
                    subject=subject if kind != "sms" else None,
                    dest_name=dest_name,
                    send_name=send_name,
                    send_time=params.get("send_time") or None,
                    files=file_info,
                    accepted_at=now,
                    send_at=send_at,
                    ready_at=ready_at,
                    outcome=outcome,
                    umid=f"apisto_A{cmid[-12:]}{index:02d}{rng.randrange(10**6):06d}",
                    test=test,
                )
            )
        state.record(messages, test=test)
        if files:
            state.images[cmid] = [u.data for u in files]
    return {"result_code": "200", "result_message": "OK", "cmid": cmid}


def report(state: State, params: Mapping[str, str], test: bool = False) -> dict[str, Any] | Pending:
    """The report of a cmid; test=True answers for cmids of the test endpoints only (and the real report
    never for theirs), in the same shape and on the same timing, so a client's report handling can be tried."""
    cmid = rules.required(params, "cmid")
    messages = [m for m in state.find(cmid, test=test) if m.kind in ("sms", "lms", "mms")]
    wanted = params.get("dest_phone")
    if wanted:
        messages = [m for m in messages if m.dest_phone == wanted]
    if not messages:
        return PENDING
    message = messages[0]
    if message.outcome.get("pending") or state.clock() < message.ready_at:
        return PENDING
    return {
        "dest_phone": message.dest_phone,
        "report_time": kst_stamp(message.ready_at),
        "call_status": message.outcome["call_status"],
        "umid": message.umid,
    }


def sendnumber_save(state: State, params: Mapping[str, str]) -> dict[str, Any]:
    """Version 1: registered at once, no PIN (a number waiting for its version 2 PIN is registered too)."""
    number, comment = rules.sendnumber(params)
    with state.lock:
        entry = state.ppurio_senders.get(number)
        if entry is not None and entry["USE_YN"] == "Y":
            raise rules.fail("ppurio_sendnumber", "500", f"sendnumber {number} is already registered")
        if state.pins.get(number, {}).get("api") == "ppurio":
            del state.pins[number]
        state.ppurio_senders[number] = {"comment": comment, "USE_YN": "Y"}
    return {"result_code": "200", "result_message": "OK", "sendnumber": number}


def sendnumber_save_with_pin(state: State, params: Mapping[str, str]) -> dict[str, Any]:
    """Version 2: the AlimTalk API's two-call PIN flow, on the SMS API's own registry."""
    return pins.save(state, "ppurio", state.ppurio_senders, params)


def sendnumber_list(state: State, params: Mapping[str, str]) -> dict[str, Any]:
    # Version 1's list has no USE_YN: it shows the numbers a send may use, not those waiting for a PIN.
    wanted = params.get("sendnumber")
    with state.lock:
        numbers = [
            {"client_id": state.client_id, "comment": entry["comment"], "sendnumber": number}
            for number, entry in state.ppurio_senders.items()
            if entry["USE_YN"] == "Y" and (not wanted or number == wanted)
        ]
    return {"result_code": "200", "result_message": "OK", "numberList": numbers}
