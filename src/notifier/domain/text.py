"""EUC-KR (KS X 1001) byte rules: what the provider can carry and how long it is.

Python's ``euc-kr`` codec does not fail on the 8,822 modern Hangul syllables outside KS X 1001
(똠, 햏, 뷁 ...): it writes an 8-byte jamo sequence that starts with the Hangul filler A4 D4.
The provider cannot send those, so a character counts as sendable only if it encodes to at
most two bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

SMS_MAX_BYTES = 90  # SMS body must be under this ("90byte 미만"); above it the spec converts to LMS
LONG_MAX_BYTES = 2000  # LMS/MMS body
SUBJECT_MAX_BYTES = 60
NAME_MAX_BYTES = 32
REPLACEMENT = "?"

_FILLER = b"\xa4\xd4"


@dataclass(frozen=True)
class Unsendable:
    position: int  # 1-based, as a person counts characters
    char: str

    def describe(self) -> str:
        return f"character {self.char!r} (U+{ord(self.char):04X}) at position {self.position}"


def _char_ok(ch: str) -> bool:
    try:
        return len(ch.encode("euc-kr")) <= 2
    except UnicodeEncodeError:
        return False


def first_unsendable(text: str) -> Unsendable | None:
    """The first character the provider cannot carry, or None."""
    try:
        encoded = text.encode("euc-kr")
    except UnicodeEncodeError as exc:
        # The codec's error position is exact for characters it refuses; an earlier
        # 8-byte jamo sequence may still precede it, so only the prefix needs scanning.
        return _scan(text[: exc.start]) or Unsendable(exc.start + 1, text[exc.start])
    if _FILLER not in encoded:
        return None  # fast path: no jamo sequences, every character took at most 2 bytes
    return _scan(text)


def _scan(text: str) -> Unsendable | None:
    for i, ch in enumerate(text):
        if not _char_ok(ch):
            return Unsendable(i + 1, ch)
    return None


def replace_unsendable(text: str) -> str:
    if first_unsendable(text) is None:
        return text
    return "".join(ch if _char_ok(ch) else REPLACEMENT for ch in text)


def euckr_len(text: str) -> int:
    """Length in EUC-KR bytes of a text that is known to be sendable."""
    return len(text.encode("euc-kr"))
