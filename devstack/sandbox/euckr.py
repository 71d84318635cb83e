"""Byte counting the way the provider counted: EUC-KR (KS X 1001), two bytes per Hangul syllable.

Python's ``euc-kr`` codec does not fail on the 8,822 modern syllables outside KS X 1001 (똠, 햏, 뷁):
it writes an 8-byte jamo sequence instead. The provider could not send those, so a character is
only sendable when it encodes to at most two bytes.
"""

from __future__ import annotations

from functools import lru_cache


class NotSendable(ValueError):
    def __init__(self, char: str, index: int) -> None:
        super().__init__(f"character {char!r} (U+{ord(char):04X}) at index {index} is not in EUC-KR (KS X 1001)")
        self.char = char
        self.index = index


@lru_cache(maxsize=8192)
def _char_len(ch: str) -> int | None:
    try:
        encoded = ch.encode("euc-kr")
    except UnicodeEncodeError:
        return None
    return len(encoded) if len(encoded) <= 2 else None


def euckr_len(text: str) -> int:
    """Bytes the provider counts for ``text``; raises NotSendable on the first unsendable character."""
    total = 0
    for index, ch in enumerate(text):
        size = _char_len(ch)
        if size is None:
            raise NotSendable(ch, index)
        total += size
    return total
