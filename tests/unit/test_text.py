"""EUC-KR (KS X 1001) byte rules: what the provider can carry and how many bytes it takes.

DESIGN.md, "The provider": text is counted in EUC-KR bytes, and a character is sendable only if
Python's codec writes it in at most two bytes (the 8-byte jamo sequences are the trap).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.text import (
    LONG_MAX_BYTES,
    NAME_MAX_BYTES,
    REPLACEMENT,
    SMS_MAX_BYTES,
    SUBJECT_MAX_BYTES,
    Unsendable,
    euckr_len,
    first_unsendable,
    replace_unsendable,
)

# Modern Hangul syllables outside KS X 1001: the codec does not refuse them.
TRAP_SYLLABLES = ["똠", "햏", "뷁", "쀍"]
# Characters the codec refuses outright.
REFUSED = {
    "emoji": "😀",
    "won sign U+20A9": "\u20a9",
    "no-break space U+00A0": "\u00a0",
    "Hangul jamo U+1100": "\u1100",
}


def _char_len(ch: str) -> int | None:
    """Bytes one character takes in Python's euc-kr codec, or None if the codec refuses it."""
    try:
        return len(ch.encode("euc-kr"))
    except UnicodeEncodeError:
        return None


def test_the_provider_limits_are_the_spec_byte_counts():
    # Given the spec's limits (ppurio v2.3 section 3: all "미만", i.e. strictly under)
    # When / Then the module carries them as the exclusive upper bounds
    assert (SMS_MAX_BYTES, LONG_MAX_BYTES, SUBJECT_MAX_BYTES, NAME_MAX_BYTES) == (90, 2000, 60, 32)
    assert REPLACEMENT == "?"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 1),
        ("abc 123", 7),
        ("가", 2),
        ("한글", 4),
        ("[Shop] 주문하신 상품이 발송되었습니다.", 7 + 2 * 14 + 2 + 1),
        ("★①￦", 6),  # KS X 1001 symbols, including the full-width won sign, are 2 bytes each
        ("\n\t", 2),
    ],
)
def test_hangul_counts_two_bytes_and_ascii_one(text, expected):
    # Given a sendable text
    # When its EUC-KR length is counted
    n = euckr_len(text)
    # Then each Hangul syllable or KS X 1001 symbol counts 2 bytes and each ASCII character 1
    assert n == expected


@pytest.mark.parametrize("syllable", TRAP_SYLLABLES)
def test_hangul_outside_ks_x_1001_is_unsendable_although_the_codec_encodes_it(syllable):
    # Given a modern Hangul syllable that KS X 1001 lacks
    # When Python's euc-kr codec encodes it
    encoded = syllable.encode("euc-kr")
    # Then the codec does not fail: it writes an 8-byte jamo sequence starting with the filler A4 D4 (the trap)
    assert len(encoded) == 8
    assert encoded.startswith(b"\xa4\xd4")
    # And the domain still calls it unsendable, at position 1
    assert first_unsendable(syllable) == Unsendable(1, syllable)


@pytest.mark.parametrize("char", REFUSED.values(), ids=REFUSED.keys())
def test_emoji_won_sign_and_nbsp_are_unsendable(char):
    # Given a character outside KS X 1001 that the codec refuses
    text = f"결제 {char}"
    # When the text is checked
    bad = first_unsendable(text)
    # Then that character is named, at its 1-based position
    assert bad == Unsendable(4, char)


def test_first_unsendable_gives_the_one_based_position_and_the_character():
    # Given a text whose fourth character is a trap syllable and whose sixth is an emoji
    text = "안녕 똠 😀"
    # When the first unsendable character is looked for
    bad = first_unsendable(text)
    # Then it is the trap syllable, counted from 1 as a person counts
    assert bad is not None
    assert (bad.position, bad.char) == (4, "똠")
    assert bad.describe() == "character '똠' (U+B620) at position 4"


def test_a_trap_syllable_before_a_refused_character_is_reported_first():
    # Given a trap syllable (the codec accepts it) followed by an emoji (the codec refuses it)
    text = "ab뷁c😀"
    # When the first unsendable character is looked for
    bad = first_unsendable(text)
    # Then the earlier trap syllable wins over the position the codec's error points at
    assert bad == Unsendable(3, "뷁")


def test_a_refused_character_after_a_sendable_prefix_is_found_at_its_position():
    # Given a sendable prefix followed by an emoji
    text = "주문 완료 🎉!"
    # When the first unsendable character is looked for
    bad = first_unsendable(text)
    # Then it is the emoji at position 7
    assert bad == Unsendable(7, "🎉")
    assert bad.describe() == "character '🎉' (U+1F389) at position 7"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "[Shop] 주문하신 상품이 발송되었습니다.",
        "★①￦€™·…",
        "\u3164",  # the Hangul filler itself is a KS X 1001 character (A4 D4)
        "갇乭",  # B0 A4 + D4 CC: the bytes A4 D4 straddle two characters, no jamo sequence
    ],
)
def test_ks_x_1001_text_has_no_unsendable_character(text):
    # Given a text made only of KS X 1001 characters (even one whose bytes contain A4 D4)
    # When it is checked
    # Then nothing is unsendable
    assert first_unsendable(text) is None


def test_replace_unsendable_puts_a_question_mark_for_each_unsendable_character():
    # Given a text mixing sendable characters with a trap syllable, an emoji, a won sign and an NBSP
    text = "가😀똠a\u20a9\u00a0끝"
    # When unsendable characters are replaced
    replaced = replace_unsendable(text)
    # Then each one becomes "?" and the rest is kept in place
    assert replaced == "가??a??끝"
    assert first_unsendable(replaced) is None
    assert euckr_len(replaced) == 2 + 1 + 1 + 1 + 1 + 1 + 2


def test_replace_unsendable_leaves_a_sendable_text_unchanged():
    # Given a sendable text
    text = "[Shop] 배송 안내 ★"
    # When unsendable characters are replaced
    # Then the text is unchanged
    assert replace_unsendable(text) == text


@given(st.text())
def test_first_unsendable_is_none_iff_every_character_takes_at_most_two_bytes(text):
    # Given any text
    # When it is checked
    bad = first_unsendable(text)
    # Then it is sendable exactly when every character encodes to 1 or 2 bytes
    lengths = [_char_len(ch) for ch in text]
    all_short = all(n is not None and n <= 2 for n in lengths)
    assert (bad is None) == all_short
    if bad is not None:
        # And the reported character is the first offender, at its 1-based position
        first = next(i for i, n in enumerate(lengths) if n is None or n > 2)
        assert bad == Unsendable(first + 1, text[first])


# (U+3164, the Hangul filler, is excluded only because it does not decode back on its own.)
@given(st.text(alphabet=st.characters(codec="euc-kr", exclude_characters="\u3164")))
def test_euckr_len_of_a_sendable_text_is_the_sum_of_its_characters(text):
    # Given any text of characters the codec accepts (trap syllables included)
    # When only the sendable ones are kept
    sendable = replace_unsendable(text)
    # Then its byte length is the sum of the per-character lengths, each 1 or 2
    per_char = [_char_len(ch) for ch in sendable]
    assert all(n in (1, 2) for n in per_char)
    assert euckr_len(sendable) == sum(per_char)


@given(st.text())
def test_replace_unsendable_always_gives_a_sendable_text_of_the_same_length(text):
    # Given any text
    # When unsendable characters are replaced
    replaced = replace_unsendable(text)
    # Then the result is sendable, as long in characters, and differs only where a "?" was put
    assert first_unsendable(replaced) is None
    assert len(replaced) == len(text)
    assert all(a == b or b == REPLACEMENT for a, b in zip(text, replaced, strict=True))
