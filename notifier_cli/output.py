"""Terminal output: aligned columns (Hangul is two cells wide), a progress bar, masking."""

from __future__ import annotations

import re
import sys
import time
import unicodedata
from collections.abc import Sequence
from typing import TextIO

from notifier.domain.phone import mask as mask_digits


def width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in s)


def pad(s: str, cells: int) -> str:
    return s + " " * max(0, cells - width(s))


def table(rows: Sequence[Sequence[str]], indent: str = "  ") -> str:
    if not rows:
        return ""
    widths = [max(width(r[i]) for r in rows if i < len(r)) for i in range(max(len(r) for r in rows))]
    lines = []
    for r in rows:
        cells = [pad(c, widths[i]) if i < len(r) - 1 else c for i, c in enumerate(r)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return "\n".join(lines)


def mask_phone(raw: object) -> str:
    digits = "".join(c for c in str(raw or "") if c.isdigit())
    return mask_digits(digits) if digits else ""


_PHONE_IN_TEXT = re.compile(r"(?<!\d)0\d{7,10}(?!\d)")


def mask_numbers(text: str) -> str:
    """Phone numbers inside free text (a provider's message names the numbers it did not send)."""
    return _PHONE_IN_TEXT.sub(lambda m: mask_digits(m[0]), text)


def one_line(s: object, limit: int = 160) -> str:
    text = " ".join(str(s).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Progress:
    """A single redrawn line on stderr; silent when stderr is not a terminal or with --quiet,
    so logs and pipes get only the summary."""

    def __init__(self, label: str, total: int | None, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.label = label
        self.total = total
        self.done = 0
        self._started = time.monotonic()
        self._drawn = 0.0

    @staticmethod
    def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
        s = stream or sys.stderr
        return not quiet and hasattr(s, "isatty") and s.isatty()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self._drawn >= 0.1:
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self._started, 1e-9)
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 30)
            line = f"{self.label} [{bar:<30}] {frac:4.0%} {self.done:,}/{self.total:,}  {rate:,.0f}/s"
        else:
            line = f"{self.label} {self.done:,}  {rate:,.0f}/s"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
