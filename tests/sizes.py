"""What AWS counts against its size limits, computed the way the services document it, so a test can
say "fits" with a margin instead of waiting for a write to fail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notifier.aws.dynamo import serialize


def _utf8(s: str) -> int:
    return len(s.encode("utf-8"))


def _value_bytes(v: Mapping[str, Any]) -> int:
    ((kind, x),) = v.items()
    if kind == "S":
        return _utf8(x)
    if kind == "N":
        return len(x.lstrip("-").replace(".", "")) // 2 + 2  # 1 byte per 2 significant digits, + 1 (rounded up)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(1 + _utf8(k) + _value_bytes(e) for k, e in x.items())
    if kind == "L":
        return 3 + sum(1 + _value_bytes(e) for e in x)
    if kind == "SS":
        return sum(_utf8(e) for e in x)
    raise AssertionError(f"unexpected DynamoDB type {kind}")


def item_bytes(item: Mapping[str, Any]) -> int:
    """A record's size as DynamoDB counts it against its 400 KB item limit: the UTF-8 bytes of every
    attribute name and value (maps and lists with their overhead), as the adapter would write it."""
    return sum(_utf8(name) + _value_bytes(value) for name, value in serialize(item).items())


def entry_bytes(entry: Mapping[str, Any]) -> int:
    """A PutEvents entry's size as EventBridge counts it against its 256 KB limit: Source, DetailType,
    Detail and every Resource in UTF-8 (and 14 bytes for a Time, which the publisher never sets)."""
    parts = [entry["Source"], entry["DetailType"], entry["Detail"], *entry.get("Resources", [])]
    return sum(_utf8(p) for p in parts) + (14 if "Time" in entry else 0)
