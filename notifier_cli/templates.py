"""AlimTalk templates: the provider's list, and the dispatcher's own pre-send check run by hand.

The check is notifier.domain.alimtalk.check on the list as notifier.providers.apistore.alimtalk.parse_templates
reads it, so "passes here" means exactly "the dispatcher would send it".
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from pydantic import ValidationError

from notifier.domain.alimtalk import APPROVED, Checked, CheckFailure, Template, check, fill
from notifier.domain.event import AlimTalk, Event, format_errors
from notifier.providers.apistore.alimtalk import parse_templates
from notifier.providers.apistore.codes import TEMPLATE_STATUS_BY_CODE, TEMPLATE_STATUS_CODE_BY_NAME
from notifier.providers.solapi.client import SolapiError
from notifier.providers.transport import TransportError

from . import provider
from .aws import Aws
from .errors import CliError, UsageError

STATUS_ENGLISH = {"1": "registered", "2": "under review", "3": "approved", "4": "rejected", "5": "suspended"}
_ENGLISH_CODES = {
    "registered": "1",
    "requested": "2",
    "review": "2",
    "approved": "3",
    "rejected": "4",
    "suspended": "5",
}
_LIST_CODES = {"100": "User Error", "200": "OK", "300": "Parameter Error", "400": "Etc Error"}
# A recipient the event model accepts; the pre-send check never looks at it.
_ANY_RECIPIENT = "01000000000"


def status_code(value: str) -> str:
    """argparse type: 승인 / 3 / approved -> "3"."""
    v = value.strip()
    code = v if v in TEMPLATE_STATUS_BY_CODE else TEMPLATE_STATUS_CODE_BY_NAME.get(v) or _ENGLISH_CODES.get(v.lower())
    if code is None:
        names = ", ".join(f"{n} ({c})" for c, n in TEMPLATE_STATUS_BY_CODE.items())
        raise argparse.ArgumentTypeError(f"unknown status {value!r}: use a name or code, {names}")
    return code


def variables(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--vars takes name=value pairs, got {pair!r}")
        out[name.strip()] = value
    return out


def fetch(aws: Aws, code: str | None = None, status: str | None = None) -> dict[str, Template]:
    if aws.provider_name() == "solapi":
        return _solapi(aws, code, status)
    query = {k: v for k, v in (("template_code", code), ("status", status)) if v}
    body = provider.call(
        aws.provider(),
        "GET",
        "/kko/1/template/list/{client_id}",
        what="listing AlimTalk templates",
        table=_LIST_CODES,
        hints={"100": "check the API key and client id in SSM"},
        query=query or None,
    )
    templates = parse_templates(body)
    # The filters are the provider's; applied again in case a server ignores them.
    wanted = TEMPLATE_STATUS_BY_CODE.get(status or "")
    return {
        c: t for c, t in templates.items() if (code is None or c == code) and (wanted is None or t.status == wanted)
    }


def describe_status(word: str) -> str:
    code = TEMPLATE_STATUS_CODE_BY_NAME.get(word)
    return f"{word} ({code}, {STATUS_ENGLISH[code]})" if code else word or "(no status)"


def _quoted(text: str) -> str:
    return "\n".join(f"    | {line}" for line in text.split("\n"))


def _button_lines(buttons: Any) -> list[str]:
    lines = []
    for i, b in enumerate(buttons, 1):
        links = "  ".join(u for u in (b.url, b.url2) if u)
        lines.append(f"    {i}. {b.type} {b.name!r}" + (f"  {links}" if links else ""))
    return lines


def show(t: Template) -> str:
    lines = [f"{t.code}  {describe_status(t.status)}  {t.name}", _quoted(t.text)]
    if t.placeholders:
        lines.append("  variables: " + ", ".join(f"#{{{n}}}" for n in t.placeholders))
    if t.buttons:
        lines.append("  buttons:")
        lines += _button_lines(t.buttons)
    return "\n".join(lines)


def list_(aws: Aws, code: str | None, status: str | None, as_json: bool) -> int:
    templates = fetch(aws, code, status)
    if as_json:
        print(json.dumps([asdict(t) for t in templates.values()], ensure_ascii=False, indent=2))
        return 0
    filters = []
    if code:
        filters.append(f"code {code}")
    if status:
        filters.append(f"status {describe_status(TEMPLATE_STATUS_BY_CODE[status])}")
    print(f"{len(templates)} template(s)" + (f" with {' and '.join(filters)}" if filters else ""))
    for t in templates.values():
        print()
        print(show(t))
    return 0


def check_(aws: Aws, code: str, pairs: list[str] | None, text: str | None, fallback: str) -> int:
    given = variables(pairs)
    template = fetch(aws, code).get(code)
    rendered = text if text is not None else fill(template.text, given) if template else ""
    if template is not None:
        print(f"template {code}  {describe_status(template.status)}  {template.name}")
    print("message:")
    print(_quoted(rendered) if rendered else "    (empty)")
    try:
        event = Event.model_validate(
            {
                "id": "templates-check",
                "channel": "alimtalk",
                "to": _ANY_RECIPIENT,
                "text": rendered or " ",
                "alimtalk": {"template_code": code, "variables": given, "fallback": fallback},
            }
        )
    except ValidationError as exc:
        # Checked first by the dispatcher too: e.g. a text its fallback SMS could not carry.
        raise CliError(f"would NOT pass: the event itself is invalid: {format_errors(exc)}") from None
    alimtalk = event.alimtalk
    assert isinstance(alimtalk, AlimTalk)
    result = check(alimtalk, event.text, template)
    if isinstance(result, Checked):
        if result.buttons:
            print("buttons:")
            print("\n".join(_button_lines(result.buttons)))
        print("passes the dispatcher's pre-send check: it would be sent as this AlimTalk")
        return 0
    raise CliError(
        f"would NOT pass the dispatcher's pre-send check: {result.reason}\n  {_consequence(result, fallback)}"
    )


def _consequence(failure: CheckFailure, fallback: str) -> str:
    if failure.producer_error:
        return "the dispatcher would record the event rejected (a producer's mistake is never sent as SMS)"
    if fallback == "none":
        return 'the dispatcher would record the event rejected (fallback "none")'
    if failure.kind == "not_approved":
        return f"only {APPROVED} (approved) templates are sent; the dispatcher would send the fallback SMS/LMS instead"
    return "the dispatcher would send the fallback SMS/LMS instead (app-side fallback)"


def _solapi(aws: Aws, code: str | None, status: str | None) -> dict[str, Template]:
    """SOLAPI's kakao templates of the deployment's channel, in the same shape and filtered the same way."""
    try:
        found = aws.solapi().templates(aws.solapi_pf_id())
    except TransportError as exc:
        raise CliError(f"listing AlimTalk templates: {exc.reason}") from None
    except SolapiError as exc:
        raise CliError(f"listing AlimTalk templates: {exc.error.reason}") from None
    wanted = TEMPLATE_STATUS_BY_CODE.get(status or "")
    return {c: t for c, t in found.items() if (code is None or c == code) and (wanted is None or t.status == wanted)}
