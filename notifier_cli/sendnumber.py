"""Sender numbers: the SMS route (/ppurio/1/sendnumber) registers at once; the AlimTalk route
(/kko/2/sendnumber/save) takes two calls, a PIN request and its confirmation within 3 minutes.

Spec section 5 is checked here, before any call, with the same rule the event model applies to
`from`, so a number the dispatcher would refuse is never registered.
"""

from __future__ import annotations

import json
from typing import Any

from notifier.domain import phone
from notifier.providers.apistore.codes import KKO_SENDNUMBER_CODES, PPURIO_SENDNUMBER_CODES

from . import provider
from .aws import Aws
from .errors import CliError, UsageError
from .output import table

COMMENT_MAX = 200  # characters (spec 3.5: 코멘트(200자))
PIN_DIGITS = {"sms": 6, "vms": 2}

_CHECK_CREDENTIALS = "check the API key and client id in SSM (the stack's Provider*ParameterName parameters)"
# The kko list call has no table of its own in the spec; these are the codes it lists.
_KKO_LIST_CODES = {"100": "User Error", "200": "OK", "300": "Parameter Error", "400": "Etc Error"}

PPURIO_HINTS = {
    "100": _CHECK_CREDENTIALS,
    "300": "the provider refused the number or the comment (spec section 5: 8-11 digits, area code on landlines, "
    "15xx/16xx/18xx without one; comment up to 200 characters)",
    "400": "an error on the provider's side; try again later",
    "500": "duplicate registration: the number is already registered for SMS/LMS/MMS, nothing to do "
    "(`notifier sendnumber list NUMBER` shows it)",
}
KKO_HINTS = {
    "100": _CHECK_CREDENTIALS,
    "300": "the provider refused the parameters (number, comment, PIN type or PIN format)",
    "400": "the provider failed while updating the verification; try again",
    "500": "already registered for AlimTalk: nothing to do (`notifier sendnumber list --kakao` shows it)",
    "600": "wrong PIN: check the code the phone received (SMS 6 digits, VMS 2) and confirm again; "
    "a lost PIN needs a new request-pin",
    "700": "the PIN expired (3 minutes after it was requested): run `notifier sendnumber request-pin` again "
    "and confirm the new PIN within 3 minutes",
}


def sender_number(raw: str) -> str:
    try:
        return phone.sender(raw)
    except phone.PhoneError as exc:
        raise UsageError(f"{raw!r} cannot be a sender number: {exc} (spec section 5)") from None


def _comment(text: str | None) -> str:
    if text is None or not text.strip():
        raise UsageError("--comment is required (the provider keeps it with the number)")
    if len(text) > COMMENT_MAX:
        raise UsageError(f"--comment has {len(text)} characters; the provider takes at most {COMMENT_MAX}")
    return text


def save(aws: Aws, number: str, comment: str | None) -> int:
    digits, note = sender_number(number), _comment(comment)
    body = provider.call(
        aws.provider(),
        "POST",
        "/ppurio/1/sendnumber/save/{client_id}",
        what=f"registering {digits} for SMS/LMS/MMS",
        table=PPURIO_SENDNUMBER_CODES,
        hints=PPURIO_HINTS,
        fields={"sendnumber": digits, "comment": note},
    )
    print(f"registered {body.get('sendnumber') or digits} as an SMS/LMS/MMS sender number")
    return 0


def _list(aws: Aws, kakao: bool, digits: str | None) -> list[dict[str, Any]]:
    path = "/kko/1/sendnumber/list/{client_id}" if kakao else "/ppurio/1/sendnumber/list/{client_id}"
    body = provider.call(
        aws.provider(),
        "GET",
        path,
        what="listing AlimTalk sender numbers" if kakao else "listing SMS sender numbers",
        table=_KKO_LIST_CODES if kakao else PPURIO_SENDNUMBER_CODES,
        hints={"100": _CHECK_CREDENTIALS},
        query={"sendnumber": digits} if digits else None,
    )
    items = body.get("numberlist") or []
    numbers = [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    # The filter is the provider's; applied again in case a server ignores it.
    return [n for n in numbers if not digits or str(n.get("sendnumber")) == digits]


def use_state(entry: dict[str, Any]) -> str:
    flag = str(entry.get("use_yn") or "").upper()
    return {"Y": "registered", "N": "awaiting PIN"}.get(flag, f"USE_YN {flag or '?'}")


def list_(aws: Aws, number: str | None, kakao: bool, as_json: bool) -> int:
    digits = None
    if number:
        try:
            digits = phone.normalize(number)
        except phone.PhoneError as exc:
            raise UsageError(f"{number!r}: {exc}") from None
    numbers = _list(aws, kakao, digits)
    if as_json:
        print(json.dumps(numbers, ensure_ascii=False, indent=2))
    else:
        route = "AlimTalk (kko)" if kakao else "SMS/LMS/MMS (ppurio)"
        print(f"{route} sender numbers: {len(numbers)}")
        rows = [
            [str(n.get("sendnumber", "")), *([use_state(n)] if kakao else []), str(n.get("comment") or "")]
            for n in numbers
        ]
        if rows:
            print(table(rows))
    if digits and not numbers:
        raise CliError(f"{digits} is not on the {'AlimTalk' if kakao else 'SMS'} sender list")
    return 0


def request_pin(aws: Aws, number: str, comment: str | None, pin_by: str) -> int:
    digits, note = sender_number(number), _comment(comment)
    provider.call(
        aws.provider(),
        "POST",
        "/kko/2/sendnumber/save/{client_id}",
        what=f"requesting a PIN for {digits}",
        table=KKO_SENDNUMBER_CODES,
        hints=KKO_HINTS,
        fields={"sendnumber": digits, "comment": note, "pintype": pin_by.upper()},
    )
    how = "a text message (SMS, 6 digits)" if pin_by == "sms" else "a voice call (VMS, 2 digits)"
    print(
        f"PIN requested: {digits} receives it by {how}.\n"
        f"It expires in 3 minutes. Confirm with:\n"
        f"  notifier sendnumber confirm {digits} --pin CODE"
    )
    return 0


def _pin_type(pin: str, pin_by: str | None) -> str:
    if not pin.isascii() or not pin.isdigit():
        raise UsageError("--pin must be digits (SMS PINs have 6, VMS PINs 2)")
    if pin_by is None:
        by_length = {n: kind for kind, n in PIN_DIGITS.items()}
        if len(pin) not in by_length:
            raise UsageError(f"--pin has {len(pin)} digits; an SMS PIN has 6 and a VMS PIN 2")
        return by_length[len(pin)]
    if len(pin) != PIN_DIGITS[pin_by]:
        raise UsageError(f"a {pin_by.upper()} PIN has {PIN_DIGITS[pin_by]} digits, --pin has {len(pin)}")
    return pin_by


def confirm(aws: Aws, number: str, pin: str, pin_by: str | None, comment: str | None) -> int:
    digits = sender_number(number)
    kind = _pin_type(pin, pin_by)
    if comment is None:
        # The confirmation repeats the request's parameters; the comment given then is on the list.
        pending = next(iter(_list(aws, True, digits)), {})
        comment = str(pending.get("comment") or digits)
    provider.call(
        aws.provider(),
        "POST",
        "/kko/2/sendnumber/save/{client_id}",
        what=f"confirming the PIN for {digits}",
        table=KKO_SENDNUMBER_CODES,
        hints=KKO_HINTS,
        fields={"sendnumber": digits, "comment": _comment(comment), "pintype": kind.upper(), "pincode": pin},
    )
    print(f"confirmed: {digits} is registered as an AlimTalk sender number")
    return 0
