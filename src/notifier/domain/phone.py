"""Korean phone numbers: normalisation, recipient rules and the sender rules of spec section 5."""

from __future__ import annotations

import re

MOBILE_PREFIXES = ("010", "011", "016", "017", "018", "019")
# Area codes: Seoul 02, then the 3-digit provincial codes, plus 070 (internet phones, commonly
# registered as senders).
AREA_CODES = (
    "031", "032", "033", "041", "042", "043", "044",
    "051", "052", "053", "054", "055", "061", "062", "063", "064", "070",
)  # fmt: skip
REPRESENTATIVE_PREFIXES = ("15", "16", "18")

_SEPARATORS = re.compile(r"[\s\-.()]")
# A Korean number as people write it in free text: the area or mobile prefix (0 + 2, 31-64, 70, 10,
# 11, 16-19, 502-508), or +82 / 0082 / 82 and the prefix with or without its 0 (or a "(0)"), in
# parentheses or not; then 3-4 digits and 4 digits, separated by nothing, a space, a dash or a dot.
# Never inside a longer digit run (a cmid, a timestamp) nor after a decimal point; a digit that
# ends a \xHH or \uHHHH escape (a key rendered with repr, a control character in a JSON log
# line) is not part of the number.
_SEP = r"[ .\-]?"
_PREFIX = r"(?:1[016-9]|2|[3-6][1-5]|70|50[2-8])"
_IN_TEXT = re.compile(
    r"(?:(?<![0-9])|(?<=\\x[0-9a-fA-F]{2})|(?<=\\u[0-9a-fA-F]{4}))(?<![0-9]\.)"
    rf"((?:(?:\+|00)?82{_SEP}(?:\(0\){_SEP}|0)?\(?|\(?0){_PREFIX}\)?{_SEP})"
    r"([0-9]{3,4})"
    rf"({_SEP}[0-9]{{4}})"
    r"(?![0-9])"
)


class PhoneError(ValueError):
    pass


def normalize(raw: str) -> str:
    """Digits only: separators dropped, +82 turned back into the leading 0."""
    s = _SEPARATORS.sub("", raw)
    if s.startswith("+82"):
        s = "0" + s[3:].lstrip("0")
    elif s.startswith("0082"):
        s = "0" + s[4:].lstrip("0")
    if not s.isdigit() or not s.isascii():
        raise PhoneError("must contain only digits (separators - . ( ) and a +82 prefix are allowed)")
    return s


def kind(digits: str) -> str | None:
    """'mobile', 'landline', 'representative' or None for anything else."""
    n = len(digits)
    if digits.startswith("010"):
        return "mobile" if n == 11 else None
    if digits.startswith(MOBILE_PREFIXES):
        return "mobile" if n in (10, 11) else None
    if digits.startswith("02"):
        return "landline" if n in (9, 10) else None
    if digits.startswith(AREA_CODES):
        return "landline" if n in (10, 11) else None
    if digits.startswith(REPRESENTATIVE_PREFIXES):
        return "representative" if n == 8 else None
    return None


def recipient(raw: str) -> str:
    digits = normalize(raw)
    k = kind(digits)
    if k in ("mobile", "landline"):
        return digits
    if k == "representative":
        raise PhoneError("a representative number (15xx/16xx/18xx) cannot receive messages")
    raise PhoneError(
        f"not a Korean phone number ({len(digits)} digits): expected a mobile number "
        "(010 + 8 digits, or 011/016-019 + 7-8 digits) or a landline with its area code"
    )


def sender(raw: str) -> str:
    """Spec section 5: 8-11 digits; landlines with their area code; mobiles; 15xx/16xx/18xx
    representative numbers of 8 digits with no area code in front."""
    digits = normalize(raw)
    if not 8 <= len(digits) <= 11:
        raise PhoneError(f"a sender number has 8 to 11 digits, got {len(digits)}")
    for area in ("02", *AREA_CODES):
        rest = digits[len(area) :]
        if digits.startswith(area) and rest.startswith(REPRESENTATIVE_PREFIXES) and len(rest) == 8:
            raise PhoneError("a representative number (15xx/16xx/18xx) takes no area code in front")
    if kind(digits) is None:
        raise PhoneError(
            "not a valid sender number: use a landline with its area code, a mobile number, "
            "or a 15xx/16xx/18xx representative number"
        )
    return digits


def mask(digits: str) -> str:
    """010****5678: enough to tell numbers apart in logs, not enough to call anyone.

    At least four digits are always hidden: the head shrinks for shorter numbers (02****5678),
    and a number of fewer than 8 digits is hidden whole.
    """
    if len(digits) < 8:
        return "*" * len(digits)
    head = min(3, len(digits) - 8)
    return digits[:head] + "*" * (len(digits) - head - 4) + digits[-4:]


def mask_in_text(text: str) -> str:
    """Every phone number inside free text masked, in the form it was written: 010****5678,
    010-****-5678, +82 10 **** 5678, (02) ***-4567."""
    return _IN_TEXT.sub(lambda m: m[1] + "*" * len(m[2]) + m[3], text)
