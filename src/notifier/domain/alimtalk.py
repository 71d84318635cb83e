"""AlimTalk rules checked before sending: the template exists and is approved, its #{placeholders}
are filled, the text is exactly the filled template, the buttons are the template's. The provider
accepts a mismatching message and fails it only in the report (RSLT U/V), so the check is here.

Also the wire form of buttons and the choice of the provider-side fallback (FAILED_TYPE).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from . import text as euckr
from .event import AlimTalk, Button, Event
from .limits import shown

APPROVED = "승인"
MAX_MSG_CHARS = 1000
_PLACEHOLDER = re.compile(r"#\{([^{}]+)\}")


@dataclass(frozen=True)
class TemplateButton:
    type: str
    name: str
    url: str | None = None
    url2: str | None = None


@dataclass(frozen=True)
class Template:
    code: str
    name: str
    text: str
    status: str  # the Korean word the provider returns: 등록, 검수요청, 승인, 반려, 승인중단
    buttons: tuple[TemplateButton, ...] = ()

    @property
    def placeholders(self) -> list[str]:
        names = _PLACEHOLDER.findall(self.text)
        for b in self.buttons:
            names += _PLACEHOLDER.findall(b.url or "") + _PLACEHOLDER.findall(b.url2 or "")
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class WireButton:
    type: str
    name: str
    url: str | None
    url2: str | None


@dataclass(frozen=True)
class CheckFailure:
    kind: Literal["unknown_template", "not_approved", "missing_variable", "unknown_variable",
                  "text_mismatch", "button_mismatch", "too_long"]  # fmt: skip
    reason: str

    @property
    def producer_error(self) -> bool:
        """A mistake in the event's data: a fallback SMS would carry a broken text, so reject instead."""
        return self.kind in ("missing_variable", "unknown_variable")


@dataclass(frozen=True)
class Checked:
    text: str  # what goes in MSG
    buttons: tuple[WireButton, ...] = field(default_factory=tuple)


def fill(pattern: str, variables: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: variables.get(m[1], m[0]), pattern)


def _normal(s: str) -> str:
    # Line endings differ between the producer's platform and the template console; nothing else may.
    return s.replace("\r\n", "\n").replace("\r", "\n")


def url_matches(template_url: str, url: str) -> bool:
    """Whether `url` is the template's URL with each #{placeholder} filled by some non-empty text on
    one line. Not a regex of ".+" per placeholder: with three of them, backtracking over a long URL
    that does not match takes cubic time (a 60 KB URL, hours), and the dispatcher would time out."""
    literals = _PLACEHOLDER.split(template_url)[::2]  # split() alternates literal text and placeholder names
    if len(literals) == 1:
        return url == template_url
    if "\n" in url:
        return False
    first, *middle, last = literals
    if not (url.startswith(first) and url.endswith(last)) or len(url) < len(first) + len(last):
        return False
    inner = url[len(first) : len(url) - len(last)]
    # Each literal at its leftmost place after at least one character of the placeholder before it:
    # if any placement matches, this one does, and it costs one pass.
    at = 0
    for literal in middle:
        found = inner.find(literal, at + 1)
        if found < 0:
            return False
        at = found + len(literal)
    return len(inner) > at


def check(a: AlimTalk, text: str, template: Template | None) -> Checked | CheckFailure:
    code = a.template_code
    if template is None:
        return CheckFailure("unknown_template", f"alimtalk.template_code: template {code!r} is not registered")
    if template.status != APPROVED:
        return CheckFailure(
            "not_approved",
            f"alimtalk.template_code: template {code!r} is {template.status}, not {APPROVED} (approved)",
        )
    wanted = template.placeholders
    missing = [n for n in wanted if n not in a.variables]
    if missing:
        return CheckFailure(
            "missing_variable",
            f"alimtalk.variables: missing {', '.join(repr(n) for n in missing)} "
            f"(template {code!r} has #{{{'}, #{'.join(wanted)}}})",
        )
    unknown = [n for n in a.variables if n not in wanted]
    if unknown:
        return CheckFailure(
            "unknown_variable",
            f"alimtalk.variables: {_names(unknown)} not in template {code!r}"
            + (f" (it has #{{{'}, #{'.join(wanted)}}})" if wanted else " (it has no placeholders)"),
        )
    rendered = fill(template.text, a.variables)
    if _normal(rendered) != _normal(text):
        return CheckFailure(
            "text_mismatch",
            f"text: differs from template {code!r} filled with the variables "
            f"(first difference at character {_first_difference(_normal(rendered), _normal(text))}); "
            "Kakao would refuse it in the report (RSLT U)",
        )
    if len(rendered) > MAX_MSG_CHARS:
        return CheckFailure("too_long", f"text: {len(rendered)} characters; AlimTalk takes at most {MAX_MSG_CHARS}")
    buttons = _buttons(a.buttons, template, a.variables)
    if isinstance(buttons, CheckFailure):
        return buttons
    return Checked(text=rendered, buttons=buttons)


def _names(names: list[str], most: int = 10) -> str:
    """The producer's names, each shortened, the first `most` of them: the rule after them must show."""
    listed = ", ".join(shown(n, quote=True) for n in names[:most])
    return listed + (f" and {len(names) - most} more" if len(names) > most else "")


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i + 1
    return min(len(a), len(b)) + 1


def _buttons(
    given: list[Button], template: Template, variables: dict[str, str]
) -> tuple[WireButton, ...] | CheckFailure:
    code = template.code
    if not given:
        # The event may leave the buttons to the template: they are the template's, filled in.
        return tuple(
            WireButton(
                b.type,
                b.name,
                fill(b.url, variables) if b.url else None,
                fill(b.url2, variables) if b.url2 else None,
            )
            for b in template.buttons
        )
    if len(given) != len(template.buttons):
        return CheckFailure(
            "button_mismatch",
            f"alimtalk.buttons: {len(given)} given, template {code!r} has {len(template.buttons)}",
        )
    out = []
    for i, (g, t) in enumerate(zip(given, template.buttons, strict=True)):
        where = f"alimtalk.buttons[{i}]"
        if (g.type, g.name) != (t.type, t.name):
            return CheckFailure(
                "button_mismatch", f"{where}: {g.type}/{g.name} given, template {code!r} has {t.type}/{t.name}"
            )
        for got, pattern, label in ((g.url, t.url, "url"), (g.url2, t.url2, "url2")):
            if pattern and not (got and url_matches(pattern, got)):
                return CheckFailure(
                    "button_mismatch",
                    f"{where}.{label}: {shown(got, quote=True) if got is not None else None} does not match the template's {pattern!r}",
                )
        out.append(WireButton(g.type, g.name, g.url, g.url2))
    return tuple(out)


# ---------------------------------------------------------------- fallback


@dataclass(frozen=True)
class Fallback:
    failed_type: Literal["SMS", "LMS", "N"]
    subject: str | None
    text: str | None


def fallback_text(event: Event) -> str:
    a = event.alimtalk
    return a.fallback_text if a and a.fallback_text else event.text


def provider_fallback(event: Event, template_name: str | None) -> Fallback:
    """FAILED_TYPE/FAILED_SUBJECT/FAILED_MSG: what the provider sends when Kakao cannot deliver."""
    a = event.alimtalk
    assert a is not None
    if a.fallback == "none":
        return Fallback("N", None, None)
    body = fallback_text(event)
    if a.fallback == "sms":
        kind: Literal["SMS", "LMS"] = "SMS"
    elif a.fallback == "lms":
        kind = "LMS"
    else:
        kind = "SMS" if euckr.euckr_len(body) < euckr.SMS_MAX_BYTES else "LMS"
    # The spec answers 301 when FAILED_TYPE is not N and subject and content are missing: always send both.
    subject = a.fallback_subject or event.subject or (template_name or "알림")[:20]
    return Fallback(kind, subject, body)
