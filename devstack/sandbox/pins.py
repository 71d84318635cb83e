"""Sender-number registration with a PIN, version 2 of both API Store APIs: /kko/2/sendnumber/save and
/ppurio/2/sendnumber/save. Two calls to the same URL: with pintype (SMS or VMS) and no pincode the phone
gets a PIN; with pintype and pincode the number is confirmed (USE_YN Y) if the PIN matches within 3 minutes.
Codes and texts are the AlimTalk spec's section 3.4 (the SMS spec has no version 2 text), table "sendnumber_pin".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import rules
from .store import PIN_TTL_S, State

TABLE = "sendnumber_pin"


def save(state: State, api: str, registry: dict[str, dict[str, Any]], params: Mapping[str, str]) -> dict[str, Any]:
    """One call of the PIN flow on `api` ("ppurio" or "kko"), whose sender numbers are `registry`.

    One PIN is pending per number: a new request (on either API) replaces the one before, as the phone
    only holds the latest; a PIN confirms the number only on the API that issued it.
    """
    number, comment = rules.sendnumber(params)
    pintype = params.get("pintype", "").strip().upper()
    if pintype not in ("SMS", "VMS"):
        raise rules.param_error("pintype must be SMS or VMS")
    pincode = params.get("pincode", "").strip()
    with state.lock:
        entry = registry.get(number)
        if entry is not None and entry["USE_YN"] == "Y":
            raise rules.fail(TABLE, "500", f"sendnumber {number} is already registered")
        now = state.clock()
        if not pincode:
            state.pins[number] = {"pincode": state.new_pin(pintype), "pintype": pintype, "issued_at": now, "api": api}
            registry[number] = {"comment": comment, "USE_YN": "N"}
            return {"result_code": "200", "result_message": "OK", "sendnumber": number}
        pending = state.pins.get(number)
        if pending is None or pending["api"] != api:
            raise rules.param_error(f"no PIN was requested for {number} on this API: call first without pincode")
        if not re.fullmatch(r"\d+", pincode):
            raise rules.param_error("pincode must be digits (SMS 6, VMS 2)")
        if now - pending["issued_at"] > PIN_TTL_S:
            raise rules.fail(TABLE, "700", f"the PIN for {number} expired; request a new one")
        if pincode != pending["pincode"]:
            raise rules.fail(TABLE, "600", f"wrong pincode for {number}")
        del state.pins[number]
        registry[number] = {"comment": entry["comment"] if entry else comment, "USE_YN": "Y"}
    return {"result_code": "200", "result_message": "OK", "sendnumber": number}
