"""Reading an SQS message body: bounded, unambiguous JSON before the event model sees it.

Whatever the body, `read` returns either the JSON object or a `BodyProblem` whose reason names the
rule it broke; it never raises. Size and nesting are checked before parsing: `json.loads` and the
model both recurse, so a body a few thousand levels deep would otherwise raise RecursionError
(not a ValueError), and the message would be retried into the DLQ instead of rejected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from .limits import MAX_BODY_BYTES, MAX_DEPTH, MAX_KEYS, shown

# A JSON string, escapes included; an unterminated one runs to the end of the text. Every match
# attempt then succeeds without backtracking: one that could fail would be retried from each later
# quote, and a body of escaped quotes (\"\"\"...) would cost quadratic time (16 KB: 0.8 s).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class BodyProblem:
    reason: str
    # The body as read when it is a JSON object whose `id` is not itself in doubt, so the rejection
    # can be recorded under the producer's id; None when only the SQS message id can key it.
    parsed: dict[str, Any] | None = None


class _TooManyKeys(Exception):
    pass


class _Duplicates(dict[str, Any]):
    """An object that repeated a key: which value wins depends on the parser, so it has no meaning."""

    def __init__(self, pairs: list[tuple[str, Any]], repeated: dict[str, int]) -> None:
        super().__init__(pairs)
        self.repeated = repeated


def read(text: str) -> dict[str, Any] | BodyProblem:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        return BodyProblem(f"body: {size} bytes of UTF-8; an event must be at most {MAX_BODY_BYTES} bytes")
    depth = nesting(text)
    if depth > MAX_DEPTH:
        return BodyProblem(_too_deep(depth))
    keys = 0

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal keys
        keys += len(pairs)
        if keys > MAX_KEYS:
            raise _TooManyKeys
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        counts: dict[str, int] = {}
        for k, _ in pairs:
            counts[k] = counts.get(k, 0) + 1
        return _Duplicates(pairs, {k: n for k, n in counts.items() if n > 1})

    try:
        value = json.loads(text, object_pairs_hook=pairs_hook)
    except _TooManyKeys:
        return BodyProblem(f"body: more than {MAX_KEYS} keys; an event has at most {MAX_KEYS} keys in all")
    except RecursionError:  # the nesting scan above should make this unreachable; never a crash
        return BodyProblem(_too_deep(depth))
    except ValueError as exc:  # the message names a position, never the input
        return BodyProblem(f"body: not valid JSON ({exc})")
    if not isinstance(value, dict):
        return BodyProblem(f"body: must be a JSON object, got {type(value).__name__}")
    problems = list(_problems(value, ""))
    if problems:
        top = value.repeated if isinstance(value, _Duplicates) else {}
        return BodyProblem("; ".join(problems), None if "id" in top else dict(value))
    return value


def nesting(text: str) -> int:
    """How deep objects and arrays nest in `text`, brackets inside strings ignored. Cheap and flat
    (no recursion), and defined for any text: for invalid JSON it is only an estimate."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(1 if c in "[{" else -1 for c in brackets), default=0)


def _too_deep(depth: int) -> str:
    return f"body: objects and arrays nested {depth} levels deep; an event nests at most {MAX_DEPTH}"


def _problems(value: Any, path: str) -> Iterator[str]:
    """Repeated keys and lone surrogates, each named with its path (depth is bounded by now)."""
    if isinstance(value, dict):
        if isinstance(value, _Duplicates):
            for k, n in value.repeated.items():
                yield (
                    f"{_join(path, k)}: duplicate key, given {n} times (JSON parsers disagree on which "
                    "value counts, so the event is ambiguous)"
                )
        for k, v in value.items():
            if (bad := _SURROGATE.search(k)) is not None:
                yield f"{path or 'body'}: key {shown(k, quote=True)} {_surrogate(k, bad)}"
            yield from _problems(v, _join(path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _problems(v, f"{path}[{i}]")
    elif isinstance(value, str) and (bad := _SURROGATE.search(value)) is not None:
        yield f"{path or 'body'}: {_surrogate(value, bad)}"


def _surrogate(s: str, bad: re.Match[str]) -> str:
    return (
        f"has a lone surrogate (U+{ord(bad[0]):04X}) at position {bad.start() + 1}: not Unicode text, "
        "it can be neither stored nor sent"
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{shown(key)}" if path else shown(key)
