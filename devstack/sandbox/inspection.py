"""The /_sandbox/ API: look inside the provider and steer it. JSON in and out; never faulted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import inbox
from .config import ERROR_PAGE_STYLES, REPORT_PENDING_STYLES

if TYPE_CHECKING:
    from .server import Sandbox


class BadRequest(ValueError):
    pass


# status_code is SOLAPI's statusCode; the others are API Store's report fields.
FORCED_KEYS = ("call_status", "rslt", "msg_rslt", "status", "status_code", "pending")


def _obj(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    return body


def handle(sandbox: Sandbox, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
    """(HTTP status, JSON payload) for one inspection request."""
    name = path.removeprefix("/_sandbox").strip("/")
    routes = {
        "": (_index, None),
        "messages": (lambda sb, q: _filter(sb.messages(), q), None),
        "test_messages": (lambda sb, q: _filter(sb.test_messages(), q), None),
        "requests": (lambda sb, q: sb.requests_count(), None),
        "reset": (None, lambda sb, b: (sb.reset(), {"ok": True})[1]),
        "clear": (None, lambda sb, b: (sb.clear_inbox(), {"ok": True})[1]),
        "inbox/state": (lambda sb, q: inbox.snapshot(sb), None),
        "inbox/codes": (lambda sb, q: inbox.code_tables(), None),
        "balance": (
            lambda sb, q: {"balance": sb.solapi_balance if q.get("provider") == "solapi" else sb.balance},
            _post_balance,
        ),
        "senders": (lambda sb, q: sb.senders(), _post_senders),
        "templates": (lambda sb, q: sb.templates(), _post_templates),
        "profiles": (lambda sb, q: {"profiles": sb.profiles()}, _post_profiles),
        "pins": (lambda sb, q: sb.pins(), None),
        "outcomes": (lambda sb, q: sb.outcomes(), _post_outcomes),
        "faults": (lambda sb, q: sb.faults(), _post_faults),
        "config": (lambda sb, q: sb.settings(), _post_config),
    }
    if name not in routes:
        return 404, {"error": f"no such inspection endpoint: {path}"}
    getter, poster = routes[name]
    handler = getter if method == "GET" else poster if method == "POST" else None
    if handler is None:
        return 405, {"error": f"{method} is not allowed on {path}"}
    try:
        return 200, handler(sandbox, query if method == "GET" else body)
    except (BadRequest, ValueError, TypeError) as exc:
        return 400, {"error": str(exc)}


def _index(sandbox: Sandbox, query: dict[str, str]) -> dict[str, Any]:
    return {"ok": True, "url": sandbox.url, "client_id": sandbox.config.client_id}


def _filter(messages: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    for key in (
        "provider",
        "cmid",
        "kind",
        "dest_phone",
        "requested_kind",
        "template_code",
        "message_id",
        "group_id",
        "to",
    ):
        if key in query:
            messages = [m for m in messages if m.get(key) == query[key]]
    return messages


def _post_balance(sandbox: Sandbox, body: Any) -> dict[str, Any]:
    body = _obj(body)
    balance = body.get("balance")
    if body.get("provider") == "solapi":
        if not isinstance(balance, (int, float)) or balance < 0:
            raise BadRequest("balance must be a non-negative number")
        sandbox.set_solapi_balance(balance)
        return {"balance": sandbox.solapi_balance}
    if not isinstance(balance, int) or balance < 0:
        raise BadRequest("balance must be a non-negative integer")
    sandbox.set_balance(balance)
    return {"balance": sandbox.balance}


def _post_senders(sandbox: Sandbox, body: Any) -> dict[str, Any]:
    body = _obj(body)
    api = body.get("api", "both")
    if "add" in body:
        sandbox.register_sender(
            str(body["add"]), api=api, comment=body.get("comment"), confirmed=body.get("confirmed", True)
        )
    if "remove" in body:
        sandbox.unregister_sender(str(body["remove"]), api=api)
    for which in ("ppurio", "kko", "solapi"):
        if which in body:
            sandbox.replace_senders(which, [str(n) for n in body[which]])
    return sandbox.senders()


def _post_templates(sandbox: Sandbox, body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        sandbox.set_templates(body)
    elif isinstance(body, dict) and "templates" in body:
        sandbox.set_templates(body["templates"])
    else:
        sandbox.add_template(_obj(body))
    return sandbox.templates()


def _post_profiles(sandbox: Sandbox, body: Any) -> dict[str, Any]:
    profiles = _obj(body).get("profiles")
    if not isinstance(profiles, list):
        raise BadRequest('expected {"profiles": [client_id, ...]}')
    sandbox.set_profiles([str(p) for p in profiles])
    return {"profiles": sandbox.profiles()}


def _post_outcomes(sandbox: Sandbox, body: Any) -> dict[str, Any]:
    body = _obj(body)
    for kind, mix in (body.get("mix") or {}).items():
        sandbox.set_outcome_mix(kind, mix)
    if body.get("clear") and "phone" not in body:
        sandbox.clear_outcomes()
    elif "phone" in body:
        phone = str(body["phone"])
        if body.get("clear"):
            sandbox.clear_outcomes(phone)
        else:
            unknown = set(body) - {"phone", "mix", "clear", *FORCED_KEYS}
            if unknown:
                raise BadRequest(f"unknown outcome fields {sorted(unknown)}; use {FORCED_KEYS}")
            sandbox.force_outcome(phone, **{k: body[k] for k in FORCED_KEYS if k in body})
    return sandbox.outcomes()


def _post_faults(sandbox: Sandbox, body: Any) -> dict[str, Any]:
    sandbox.set_faults(**_obj(body))
    return sandbox.faults()


def _post_config(sandbox: Sandbox, body: Any) -> dict[str, Any]:
    body = _obj(body)
    unknown = set(body) - {"report_delay_s", "report_pending", "prices", "error_pages"}
    if unknown:
        raise BadRequest(f"unknown settings {sorted(unknown)}")
    if "report_pending" in body and body["report_pending"] not in REPORT_PENDING_STYLES:
        raise BadRequest(f"report_pending must be one of {REPORT_PENDING_STYLES}")
    if "error_pages" in body and body["error_pages"] not in ERROR_PAGE_STYLES:
        raise BadRequest(f"error_pages must be one of {ERROR_PAGE_STYLES}")
    sandbox.configure(**body)
    return sandbox.settings()
