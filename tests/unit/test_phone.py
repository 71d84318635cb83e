"""Korean phone numbers: normalisation, recipient rules, and the sender rules of ppurio spec section 5.

Section 5 (발신번호 등록 규칙): 8 to 11 digits; landlines with their area code; mobile numbers;
representative numbers 15xx/16xx/18xx with no area code in front.
"""

from __future__ import annotations

import pytest

from notifier.domain.phone import PhoneError, kind, mask, mask_in_text, normalize, recipient, sender

NOT_DIGITS = "must contain only digits (separators - . ( ) and a +82 prefix are allowed)"
REPRESENTATIVE_CANNOT_RECEIVE = "a representative number (15xx/16xx/18xx) cannot receive messages"
REPRESENTATIVE_WITH_AREA_CODE = "a representative number (15xx/16xx/18xx) takes no area code in front"
NOT_A_SENDER = (
    "not a valid sender number: use a landline with its area code, a mobile number, "
    "or a 15xx/16xx/18xx representative number"
)


def not_korean(n: int) -> str:
    return (
        f"not a Korean phone number ({n} digits): expected a mobile number "
        "(010 + 8 digits, or 011/016-019 + 7-8 digits) or a landline with its area code"
    )


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("01012345678", "01012345678"),
        ("010-1234-5678", "01012345678"),
        ("010 1234 5678", "01012345678"),
        ("010.1234.5678", "01012345678"),
        ("(02) 1234-5678", "0212345678"),
        (" 010-1234-5678\t", "01012345678"),
        ("+82 10-1234-5678", "01012345678"),
        ("+821012345678", "01012345678"),
        ("+82 (0)10-1234-5678", "01012345678"),
        ("+82-2-1234-5678", "0212345678"),
        ("0082-10-1234-5678", "01012345678"),
        ("008210 1234 5678", "01012345678"),
        ("1588-1234", "15881234"),
    ],
)
def test_separators_and_the_country_prefix_normalise_to_digits_with_a_leading_zero(raw, digits):
    # Given a number as a person writes it
    # When it is normalised
    # Then only the digits remain, +82 / 0082 turned back into the leading 0
    assert normalize(raw) == digits


@pytest.mark.parametrize(
    "raw",
    ["", "---", "010-1234-567a", "010_1234_5678", "010/1234/5678", "+1 212 555 0100x", "０１０１２３４５６７８", "٠١٠"],
)
def test_anything_but_ascii_digits_and_separators_is_refused_with_its_reason(raw):
    # Given a number with letters, other punctuation, non-ASCII digits, or nothing at all
    # When it is normalised
    with pytest.raises(PhoneError) as exc:
        normalize(raw)
    # Then it is refused, saying what is allowed
    assert str(exc.value) == NOT_DIGITS


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("01012345678", "mobile"),
        ("0101234567", None),  # 010 numbers always have 11 digits
        ("010123456789", None),
        ("0111234567", "mobile"),
        ("01112345678", "mobile"),
        ("0161234567", "mobile"),
        ("0171234567", "mobile"),
        ("01812345678", "mobile"),
        ("0191234567", "mobile"),
        ("011123456", None),
        ("011123456789", None),
        ("021234567", "landline"),
        ("0212345678", "landline"),
        ("02123456", None),
        ("02123456789", None),
        ("0311234567", "landline"),
        ("03112345678", "landline"),
        ("0641234567", "landline"),
        ("064123456", None),
        ("064123456789", None),
        ("07012345678", "landline"),  # internet phones, area-code shaped
        ("15881234", "representative"),
        ("16001234", "representative"),
        ("18001234", "representative"),
        ("158812345", None),
        ("1588123", None),
        ("12345678", None),
        ("0801234567", None),
        ("0501234567", None),
    ],
)
def test_kind_tells_mobiles_landlines_and_representative_numbers_by_prefix_and_length(digits, expected):
    # Given normalised digits
    # When their kind is asked
    # Then the prefix and the digit count decide it
    assert kind(digits) == expected


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("010-1234-5678", "01012345678"),
        ("011-123-4567", "0111234567"),
        ("019-1234-5678", "01912345678"),
        ("02-123-4567", "021234567"),
        ("02-1234-5678", "0212345678"),
        ("031-123-4567", "0311234567"),
        ("051-1234-5678", "05112345678"),
        ("070-1234-5678", "07012345678"),
        ("+82 10 1234 5678", "01012345678"),
    ],
)
def test_mobiles_and_landlines_are_valid_recipients(raw, digits):
    # Given a mobile or landline number
    # When it is checked as a recipient
    # Then its digits are returned
    assert recipient(raw) == digits


@pytest.mark.parametrize(
    ("raw", "n"),
    [
        ("010-123-4567", 10),  # 010 with 10 digits
        ("011-12-3456", 9),
        ("02-12-3456", 8),
        ("031-12-3456", 9),
        ("1234", 4),
        ("080-123-4567", 10),
        ("1-212-555-0100", 11),
    ],
)
def test_a_number_that_is_not_korean_mobile_or_landline_is_refused_as_recipient_saying_what_is_expected(raw, n):
    # Given a number of the wrong length or prefix
    # When it is checked as a recipient
    with pytest.raises(PhoneError) as exc:
        recipient(raw)
    # Then the reason gives its digit count and what a Korean number looks like
    assert str(exc.value) == not_korean(n)


@pytest.mark.parametrize("raw", ["1588-1234", "1600-1234", "1800-1234"])
def test_a_representative_number_is_refused_as_recipient_with_its_reason(raw):
    # Given a 15xx/16xx/18xx representative number
    # When it is checked as a recipient
    with pytest.raises(PhoneError) as exc:
        recipient(raw)
    # Then it is refused because such numbers cannot receive messages
    assert str(exc.value) == REPRESENTATIVE_CANNOT_RECEIVE


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("1588-1234", "15881234"),  # representative, 8 digits
        ("1644-1234", "16441234"),
        ("1899-1234", "18991234"),
        ("02-123-4567", "021234567"),  # landline with area code, 9 digits
        ("02-1234-5678", "0212345678"),
        ("031-123-4567", "0311234567"),
        ("064-1234-5678", "06412345678"),
        ("070-1234-5678", "07012345678"),
        ("010-1234-5678", "01012345678"),  # mobile, 11 digits
        ("016-123-4567", "0161234567"),
        ("+82 2 1234 5678", "0212345678"),
    ],
)
def test_landlines_mobiles_and_representative_numbers_are_valid_senders(raw, digits):
    # Given a number of one of the kinds section 5 allows
    # When it is checked as a sender
    # Then its digits are returned
    assert sender(raw) == digits


@pytest.mark.parametrize("raw", ["02-1588-1234", "031-1588-1234", "051-1644-1234", "070-1800-1234"])
def test_a_representative_number_with_an_area_code_in_front_is_refused_as_sender(raw):
    # Given a representative number written with an area code in front (section 5 forbids it)
    # When it is checked as a sender
    with pytest.raises(PhoneError) as exc:
        sender(raw)
    # Then the reason says representative numbers take no area code
    assert str(exc.value) == REPRESENTATIVE_WITH_AREA_CODE


@pytest.mark.parametrize(("raw", "n"), [("1588123", 7), ("123", 3), ("010-1234-56789", 12), ("0082-10-1234-56789", 12)])
def test_a_sender_of_fewer_than_8_or_more_than_11_digits_is_refused_with_its_count(raw, n):
    # Given a sender number outside 8-11 digits
    # When it is checked as a sender
    with pytest.raises(PhoneError) as exc:
        sender(raw)
    # Then the reason states the 8-11 rule and the count it got
    assert str(exc.value) == f"a sender number has 8 to 11 digits, got {n}"


@pytest.mark.parametrize("raw", ["12345678", "010-123-4567", "0801234567", "17001234", "158812345"])
def test_a_sender_of_the_right_length_but_no_allowed_kind_is_refused(raw):
    # Given 8-11 digits that are neither a landline, a mobile nor a representative number
    # When it is checked as a sender
    with pytest.raises(PhoneError) as exc:
        sender(raw)
    # Then the reason lists the kinds that are allowed
    assert str(exc.value) == NOT_A_SENDER


def test_a_sender_with_letters_is_refused_before_any_other_rule():
    # Given a sender with a letter in it
    # When it is checked as a sender
    with pytest.raises(PhoneError) as exc:
        sender("1588-12O4")
    # Then the digits-only rule is the reason
    assert str(exc.value) == NOT_DIGITS


@pytest.mark.parametrize(
    ("digits", "masked"),
    [
        ("01012345678", "010****5678"),
        ("0212345678", "02****5678"),
        ("021234567", "0****4567"),
        ("15881234", "****1234"),
        ("1234567", "*******"),
        ("123", "***"),
        ("", ""),
    ],
)
def test_mask_hides_at_least_four_digits_and_keeps_the_last_four(digits, masked):
    # Given normalised digits
    # When they are masked for a log line
    # Then the result is 010****5678 for a mobile, and never shows more than all but four digits
    assert mask(digits) == masked
    assert len(mask(digits)) == len(digits)
    assert mask(digits).count("*") >= min(4, len(digits))


def test_numbers_inside_free_text_are_masked_but_long_digit_runs_are_not():
    # Given a provider message listing unsent numbers, beside a cmid and a timestamp
    said = "잔금 부족[미발송 목록] 01012345678, 010-2222-3333; cmid 20261123034659000001 at 20261201090000"
    # When it is masked
    masked = mask_in_text(said)
    # Then the numbers are masked and the long digit runs are left alone
    assert masked == "잔금 부족[미발송 목록] 010****5678, 010-****-3333; cmid 20261123034659000001 at 20261201090000"


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        # mobiles, every way people write them
        ("01054002442", "010****2442"),
        ("010-5400-2442", "010-****-2442"),
        ("010 5400 2442", "010 **** 2442"),
        ("010.5400.2442", "010.****.2442"),
        ("(010) 5400-2442", "(010) ****-2442"),
        ("(010)5400-2442", "(010)****-2442"),
        ("011-540-2442", "011-***-2442"),
        ("+821054002442", "+8210****2442"),
        ("+82 10 5400 2442", "+82 10 **** 2442"),
        ("+82-10-5400-2442", "+82-10-****-2442"),
        ("+82 010 5400 2442", "+82 010 **** 2442"),
        ("+82 (0)10 5400 2442", "+82 (0)10 **** 2442"),
        ("+82 (10) 5400 2442", "+82 (10) **** 2442"),
        ("82-10-5400-2442", "82-10-****-2442"),
        ("821054002442", "8210****2442"),
        ("0082-10-5400-2442", "0082-10-****-2442"),
        # landlines and internet phones
        ("02-123-4567", "02-***-4567"),
        ("02-1234-5678", "02-****-5678"),
        ("(02) 123-4567", "(02) ***-4567"),
        ("0212345678", "02****5678"),
        ("031-123-4567", "031-***-4567"),
        ("064.1234.5678", "064.****.5678"),
        ("070-1234-5678", "070-****-5678"),
        ("+82 2 123 4567", "+82 2 *** 4567"),
        ("+82-31-123-4567", "+82-31-***-4567"),
        ("0505-123-4567", "0505-***-4567"),
    ],
)
def test_every_written_form_of_a_korean_number_is_masked_in_text(written, masked):
    # Given a number written in one of its forms inside a sentence, a quoted key and a repr'd escape
    for before, after in (("to ", "."), ("'", "'"), ("번호:", "로"), ("id-", "-x"), ("\\x00", "\\n"), ("\\u0000", "")):
        # When the text is masked
        got = mask_in_text(f"{before}{written}{after}")
        # Then the number shows its prefix and last four digits only, in the form it was written
        assert got == f"{before}{masked}{after}"


@pytest.mark.parametrize(
    "not_a_phone",
    [
        "cmid 20261123034659000001",  # 20 digits
        "cmid 0101234567890123",  # 16 digits starting like a mobile
        "at 20261201090000",  # yyyyMMddHHmmss
        "epoch 1795000000",
        "sent_at 2026-12-01T09:00:00+09:00",
        "latency 0.01054002442",  # a decimal fraction
        "order 1234-5678",  # no prefix
        "010****2442",  # masked already
        "+82 10 **** 2442",
    ],
)
def test_things_that_are_not_phone_numbers_are_left_alone(not_a_phone):
    assert mask_in_text(not_a_phone) == not_a_phone


def test_masking_is_idempotent():
    text = "+82 10 5400 2442, 02-123-4567 and 01054002442"
    assert mask_in_text(mask_in_text(text)) == mask_in_text(text)
