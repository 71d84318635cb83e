"""The event contract (DESIGN.md, "The event"): every rule, and the exact reason a producer reads.

Reasons are what `format_errors` makes of the ValidationError: "<field>: <rule>", several joined by "; ".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from notifier.domain.event import Event, format_errors, parse, placeholders
from notifier.domain.plan import plan

UNKNOWN_FIELD = "unknown field (a typo? unknown fields are rejected)"
NEEDS_OFFSET = "needs a timezone offset, e.g. 2026-12-01T09:00:00+09:00"
NOT_ISO = "must be an ISO 8601 date-time string with a timezone offset, e.g. 2026-12-01T09:00:00+09:00"
ID_RULE = "must be printable with no leading or trailing spaces"
NOT_KOREAN_9 = (
    "not a Korean phone number (9 digits): expected a mobile number "
    "(010 + 8 digits, or 011/016-019 + 7-8 digits) or a landline with its area code"
)
ALIMTALK = {"template_code": "A1111"}
JPG = {"s3": "s3://media-bucket/orders/1234.jpg"}


def unsendable(char: str, codepoint: str, position: int) -> str:
    return (
        f"character {char!r} (U+{codepoint}) at position {position} is not in EUC-KR (KS X 1001) and cannot be sent"
        ' (set "on_unsendable": "replace" to send "?" instead)'
    )


def too_long(field: str, n: int, limit: int) -> str:
    return f"{field}: {n} bytes in EUC-KR; {field} must be under {limit} bytes"


def body(**fields: Any) -> dict[str, Any]:
    """A valid minimal event with some fields replaced (None removes a field)."""
    b: dict[str, Any] = {"id": "order-1234-shipped", "to": "010-1234-5678", "text": "[Shop] 발송되었습니다."}
    b.update(fields)
    return {k: v for k, v in b.items() if v is not None}


def alimtalk(**fields: Any) -> dict[str, Any]:
    return body(channel="alimtalk", alimtalk={**ALIMTALK, **fields})


def reasons(b: dict[str, Any]) -> str:
    """The one-line rejection of an invalid event (fails the test if the event is valid)."""
    with pytest.raises(ValidationError) as exc:
        parse(b)
    return format_errors(exc.value)


# ---------------------------------------------------------------- the whole event


def test_the_design_sample_event_is_valid_once_its_channel_matches_its_alimtalk_part():
    # Given DESIGN.md's sample event, as an AlimTalk event (the sample also shows an MMS attachment and
    # channel auto, which belong to other channels)
    sample = {
        "id": "order-1234-shipped",
        "channel": "alimtalk",
        "to": "010-1234-5678",
        "text": "[Shop] 주문하신 상품이 발송되었습니다.",
        "subject": "배송 안내",
        "from": "0212345678",
        "to_name": "홍길동",
        "from_name": "Shop",
        "send_at": "2026-12-01T09:00:00+09:00",
        "alimtalk": {
            "template_code": "A1111",
            "variables": {"name": "홍길동"},
            "buttons": [{"type": "웹링크", "name": "배송조회", "url": "https://shop.example/o/1234"}],
            "fallback": "auto",
            "fallback_text": "...",
            "fallback_subject": "...",
        },
        "test": False,
        "metadata": {"tenant": "shop", "order": "1234"},
    }
    # When it is parsed
    e = parse(sample)
    # Then every field is kept, phone numbers as digits
    assert (e.id, e.channel, e.to, e.sender) == ("order-1234-shipped", "alimtalk", "01012345678", "0212345678")
    assert e.send_at == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert e.alimtalk is not None
    assert e.alimtalk.buttons[0].url == "https://shop.example/o/1234"
    assert e.metadata == {"tenant": "shop", "order": "1234"}


def test_a_minimal_event_gets_the_documented_defaults():
    # Given only the required fields
    # When it is parsed
    e = parse(body())
    # Then channel is auto, from is unset (the configured sender is used), and nothing else is on
    assert e.channel == "auto"
    assert e.sender is None
    assert (e.subject, e.send_at, e.alimtalk, e.attachments, e.test) == (None, None, None, [], False)
    assert (e.on_unsendable, e.metadata) == ("reject", {})


def test_the_required_fields_are_id_to_and_text():
    # Given an empty object
    # When it is parsed
    # Then the three required fields are named together
    assert reasons({}) == "id: required; to: required; text: required"


@pytest.mark.parametrize("field", ["id", "to", "text"])
def test_each_required_field_is_named_when_missing(field):
    # Given a valid event without one required field
    # When it is parsed
    # Then the missing field is named
    assert reasons(body(**{field: None})) == f"{field}: required"


@pytest.mark.parametrize(("key", "value"), [("chanel", "sms"), ("from_", "01012345678"), ("sendAt", "x"), ("To", "x")])
def test_an_unknown_field_is_rejected_by_its_name(key, value):
    # Given an event with a misspelt (or internal) field name
    # When it is parsed
    # Then the unknown field is named, rather than silently ignored
    assert reasons(body(**{key: value})) == f"{key}: {UNKNOWN_FIELD}"


def test_unknown_fields_inside_nested_objects_are_rejected_too():
    # Given unknown fields in the alimtalk part, a button and an attachment
    b = alimtalk(fallbak="sms", buttons=[{"type": "봇키워드", "name": "상담", "link": "x"}])
    m = body(channel="mms", attachments=[{"s3": JPG["s3"], "size": 1}])
    # When they are parsed
    # Then each is named with its path
    assert reasons(b) == f"alimtalk.buttons.0.link: {UNKNOWN_FIELD}; alimtalk.fallbak: {UNKNOWN_FIELD}"
    assert reasons(m) == f"attachments.0.size: {UNKNOWN_FIELD}"


@pytest.mark.parametrize("not_an_object", [[], "event", 1, None])
def test_a_body_that_is_not_an_object_is_rejected(not_an_object):
    # Given a JSON value that is not an object
    # When it is parsed
    # Then the reason says an object was expected
    assert reasons(not_an_object) == "Input should be a valid dictionary or instance of Event"


# ---------------------------------------------------------------- id


@pytest.mark.parametrize("good", ["a", "x" * 128, "order-1234-shipped", "주문:1234/배송", "a b"])
def test_an_id_of_1_to_128_printable_characters_is_accepted(good):
    # Given an id of 1-128 printable characters (inner spaces and Hangul included)
    # When the event is parsed
    # Then the id is kept as given
    assert parse(body(id=good)).id == good


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "id: String should have at least 1 character"),
        ("x" * 129, "id: String should have at most 128 characters"),
        (" order-1", f"id: {ID_RULE}"),
        ("order-1 ", f"id: {ID_RULE}"),
        ("order\n1", f"id: {ID_RULE}"),
        ("order\t1", f"id: {ID_RULE}"),
        ("order\u00a01", f"id: {ID_RULE}"),
        (1234, "id: Input should be a valid string"),
    ],
)
def test_an_id_that_is_empty_too_long_unprintable_or_padded_is_rejected(bad, reason):
    # Given a bad id
    # When the event is parsed
    # Then the id rule it broke is the reason
    assert reasons(body(id=bad)) == reason


# ---------------------------------------------------------------- channel, to, from


@pytest.mark.parametrize("channel", ["sms", "lms", "auto"])
def test_the_text_channels_are_accepted(channel):
    # Given a plain text event on a text channel
    # When it is parsed
    # Then the channel is kept
    assert parse(body(channel=channel)).channel == channel


@pytest.mark.parametrize("bad", ["fax", "SMS", "kakao", "", 1])
def test_any_other_channel_is_rejected_listing_the_valid_ones(bad):
    # Given an unknown channel
    # When the event is parsed
    # Then the reason lists the five channels
    assert reasons(body(channel=bad)) == "channel: Input should be 'sms', 'lms', 'mms', 'alimtalk' or 'auto'"


@pytest.mark.parametrize(
    ("raw", "digits"),
    [("010-1234-5678", "01012345678"), ("+82 10 1234 5678", "01012345678"), ("02-123-4567", "021234567")],
)
def test_to_is_kept_as_digits(raw, digits):
    # Given a recipient written with separators or a country prefix
    # When the event is parsed
    # Then it is kept as the digits the provider wants
    assert parse(body(to=raw)).to == digits


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1588-1234", "to: a representative number (15xx/16xx/18xx) cannot receive messages"),
        ("010-123-456", NOT_KOREAN_9),
        ("010-1234-567O", "to: must contain only digits (separators - . ( ) and a +82 prefix are allowed)"),
        (1012345678, "to: Input should be a valid string"),
        (["01012345678"], "to: Input should be a valid string"),
    ],
)
def test_a_bad_recipient_is_rejected_with_the_phone_rule_it_broke(raw, reason):
    # Given a recipient that is not a Korean mobile or landline number
    # When the event is parsed
    # Then the phone rule is the reason
    if reason == NOT_KOREAN_9:
        reason = f"to: {NOT_KOREAN_9}"
    assert reasons(body(to=raw)) == reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("02-1588-1234", "from: a representative number (15xx/16xx/18xx) takes no area code in front"),
        ("1588-123", "from: a sender number has 8 to 11 digits, got 7"),
        ("12345678", "from: not a valid sender number: use a landline with its area code, a mobile number, or a "
         "15xx/16xx/18xx representative number"),
        (15881234, "from: Input should be a valid string"),
    ],
)  # fmt: skip
def test_a_bad_sender_is_rejected_with_the_section_5_rule_it_broke(raw, reason):
    # Given a sender number that breaks the registration rules of spec section 5
    # When the event is parsed
    # Then that rule is the reason, under the field name "from"
    assert reasons(body(**{"from": raw})) == reason


def test_from_null_means_the_default_sender():
    # Given an explicit null sender
    # When the event is parsed
    # Then there is no sender of its own
    assert parse({**body(), "from": None}).sender is None


# ---------------------------------------------------------------- text rules


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("배송 😀 완료", "text: " + unsendable("😀", "1F600", 4)),
        ("똠방각하", "text: " + unsendable("똠", "B620", 1)),
        ("가격 10,000\u20a9", "text: " + unsendable("\u20a9", "20A9", 10)),
        ("a\u00a0b", "text: " + unsendable("\u00a0", "00A0", 2)),
    ],
)
def test_an_unsendable_character_in_the_text_is_rejected_naming_it_and_its_position(text, reason):
    # Given a text with a character outside KS X 1001 (an emoji, a trap syllable, ₩, NBSP)
    # When the event is parsed
    # Then the reason names the character, its code point and 1-based position, and the way out
    assert reasons(body(text=text)) == reason


def test_an_empty_text_is_rejected():
    # Given an empty text
    # When the event is parsed
    # Then it is rejected
    assert reasons(body(text="")) == "text: String should have at least 1 character"


@pytest.mark.parametrize("channel", ["auto", "sms", "lms"])
def test_a_text_of_1999_bytes_is_accepted_on_text_channels(channel):
    # Given a text one byte under the LMS limit
    # When the event is parsed
    # Then it is accepted (auto and sms will go as LMS)
    assert parse(body(channel=channel, text="가" * 999 + "a")).text.endswith("a")


@pytest.mark.parametrize(
    "extra", [{"channel": "auto"}, {"channel": "sms"}, {"channel": "lms"}, {"channel": "mms", "attachments": [JPG]}]
)
def test_a_text_of_2000_bytes_is_rejected_on_sms_lms_and_mms(extra):
    # Given a text of exactly 2000 EUC-KR bytes (LMS/MMS take "2000byte 미만")
    # When the event is parsed
    # Then the reason gives its size and the limit
    assert reasons(body(text="가" * 1000, **extra)) == too_long("text", 2000, 2000)


def test_a_subject_of_59_bytes_is_accepted_and_60_rejected():
    # Given subjects at and under the 60-byte limit
    ok = parse(body(channel="lms", subject="가" * 29 + "a"))
    # When / Then 59 bytes pass, 60 bytes are rejected with the size and the limit
    assert ok.subject == "가" * 29 + "a"
    assert reasons(body(channel="lms", subject="가" * 30)) == too_long("subject", 60, 60)


@pytest.mark.parametrize("field", ["to_name", "from_name"])
def test_a_name_of_31_bytes_is_accepted_and_32_rejected(field):
    # Given names at and under the 32-byte limit
    ok = parse(body(**{field: "가" * 15 + "a"}))
    # When / Then 31 bytes pass, 32 bytes are rejected with the size and the limit
    assert getattr(ok, field) == "가" * 15 + "a"
    assert reasons(body(**{field: "가" * 16})) == too_long(field, 32, 32)


@pytest.mark.parametrize("field", ["subject", "to_name", "from_name"])
def test_unsendable_characters_in_subject_and_names_are_rejected_too(field):
    # Given a subject or a name with an emoji
    # When the event is parsed
    # Then the field, the character and its position are named
    assert reasons(body(**{field: "홍길동🙂"})) == f"{field}: " + unsendable("🙂", "1F642", 4)


def test_on_unsendable_replace_sends_question_marks_and_the_event_passes():
    # Given unsendable characters in the text, the subject and both names, and on_unsendable=replace
    b = body(
        channel="lms",
        text="배송 😀 완료 똠",
        subject="안내\u00a0🎉",
        to_name="뷁",
        from_name="Shop\u20a9",
        on_unsendable="replace",
    )
    # When the event is parsed
    e = parse(b)
    # Then each unsendable character became "?" and the event is valid
    assert (e.text, e.subject, e.to_name, e.from_name) == ("배송 ? 완료 ?", "안내??", "?", "Shop?")


def test_replacement_happens_before_the_byte_limits_are_judged():
    # Given an SMS-fallback AlimTalk whose text is 89 bytes only once each trap syllable (8 codec bytes) is a "?"
    text = "a" * 85 + "똠햏뷁쀍"
    b = alimtalk(fallback="sms") | {"text": text, "on_unsendable": "replace"}
    # When the event is parsed
    e = parse(b)
    # Then the limits judged what will be sent: 89 bytes
    assert e.text == "a" * 85 + "????"


def test_on_unsendable_replace_also_covers_the_fallback_text_and_subject():
    # Given an AlimTalk whose fallback text and subject have unsendable characters, with replace
    b = alimtalk(fallback_text="배송 시작 🚚", fallback_subject="안내 ✅") | {"on_unsendable": "replace"}
    # When the event is parsed
    e = parse(b)
    # Then the fallback SMS carries "?" in their place
    assert e.alimtalk is not None
    assert (e.alimtalk.fallback_text, e.alimtalk.fallback_subject) == ("배송 시작 ?", "안내 ?")


def test_on_unsendable_takes_only_reject_or_replace():
    # Given another on_unsendable value
    # When the event is parsed
    # Then the two allowed values are listed
    assert reasons(body(on_unsendable="drop")) == "on_unsendable: Input should be 'reject' or 'replace'"


# ---------------------------------------------------------------- send_at


@pytest.mark.parametrize(
    ("send_at", "utc"),
    [
        ("2026-12-01T09:00:00+09:00", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
        ("2026-12-01T00:00:00Z", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
        ("2026-12-01 09:00:00.5+09:00", datetime(2026, 12, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_send_at_with_a_timezone_offset_is_accepted(send_at, utc):
    # Given an ISO 8601 send_at with an offset
    # When the event is parsed
    # Then it is that moment
    assert parse(body(send_at=send_at)).send_at == utc


@pytest.mark.parametrize("naive", ["2026-12-01T09:00:00", "2026-12-01"])
def test_send_at_without_a_timezone_is_rejected(naive):
    # Given a send_at with no offset (Korea time or UTC? nobody can tell)
    # When the event is parsed
    # Then the reason asks for an offset, with an example
    assert reasons(body(send_at=naive)) == f"send_at: {NEEDS_OFFSET}"


@pytest.mark.parametrize("bad", [1764547200, "1764547200", "tomorrow", True, {"at": 1}])
def test_send_at_that_is_not_an_iso_string_is_rejected(bad):
    # Given a Unix time, a word, or another JSON type (the JSON Schema says: date-time string)
    # When the event is parsed
    # Then the reason asks for ISO 8601 with an offset
    assert reasons(body(send_at=bad)) == f"send_at: {NOT_ISO}"


@pytest.mark.parametrize("edge", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00"])
def test_send_at_with_no_korea_time_date_is_rejected_not_crashed_on(edge):
    # Given a moment whose Korea-time date falls outside years 1-9999 (the KST conversion would overflow)
    # When the event is parsed
    # Then it is a clear rejection, not an OverflowError later in planning
    assert reasons(body(send_at=edge)) == "send_at: out of range: in Korea time it must fall within the years 1 to 9999"


# ---------------------------------------------------------------- alimtalk


def test_channel_alimtalk_requires_the_alimtalk_part():
    # Given channel alimtalk without its template
    # When the event is parsed
    # Then the alimtalk part is required
    assert reasons(body(channel="alimtalk")) == "alimtalk: required when channel is alimtalk (template_code at least)"


@pytest.mark.parametrize("channel", ["auto", "sms", "lms"])
def test_the_alimtalk_part_is_forbidden_on_other_channels(channel):
    # Given an alimtalk part on a text channel
    # When the event is parsed
    # Then it is rejected, naming the channel it came with
    assert reasons(body(channel=channel, alimtalk=ALIMTALK)) == (
        f'alimtalk: only allowed with channel "alimtalk", not "{channel}"'
    )


def test_an_alimtalk_event_defaults_to_auto_fallback_and_no_buttons():
    # Given an AlimTalk event with only its template code
    # When it is parsed
    e = parse(alimtalk())
    # Then the fallback is auto and there are no buttons, variables or fallback texts
    assert e.alimtalk is not None
    assert (e.alimtalk.fallback, e.alimtalk.buttons, e.alimtalk.variables) == ("auto", [], {})
    assert (e.alimtalk.fallback_text, e.alimtalk.fallback_subject) == (None, None)


@pytest.mark.parametrize(
    ("template_code", "reason"),
    [
        ("", "alimtalk.template_code: String should have at least 1 character"),
        ("T" * 31, "alimtalk.template_code: String should have at most 30 characters"),
    ],
)
def test_the_template_code_has_1_to_30_characters(template_code, reason):
    # Given an empty or too long template code
    # When the event is parsed
    # Then the length rule is the reason
    assert reasons(alimtalk(template_code=template_code)) == reason


def test_template_variables_are_strings():
    # Given a variable whose value is a number
    # When the event is parsed
    # Then the variable is named
    assert reasons(alimtalk(variables={"name": "홍길동", "count": 3})) == (
        "alimtalk.variables.count: Input should be a valid string"
    )


@pytest.mark.parametrize("fallback", ["auto", "sms", "lms", "none"])
def test_the_fallback_values_are_auto_sms_lms_and_none(fallback):
    # Given each documented fallback
    # When the event is parsed
    # Then it is kept
    e = parse(alimtalk(fallback=fallback))
    assert e.alimtalk is not None
    assert e.alimtalk.fallback == fallback


@pytest.mark.parametrize("bad", ["mms", "alimtalk", "SMS", None])
def test_any_other_fallback_is_rejected_listing_the_valid_ones(bad):
    # Given an undocumented fallback (null is not "none")
    # When the event is parsed
    # Then the reason lists the four values
    b = body(channel="alimtalk", alimtalk={**ALIMTALK, "fallback": bad})
    assert reasons(b) == "alimtalk.fallback: Input should be 'auto', 'sms', 'lms' or 'none'"


def test_an_sms_fallback_text_must_be_under_90_bytes():
    # Given SMS fallback texts of 89 and 90 bytes
    ok = parse(alimtalk(fallback="sms", fallback_text="가" * 44 + "a"))
    # When / Then 89 bytes pass and 90 bytes are rejected with the SMS limit
    assert ok.alimtalk is not None
    assert ok.alimtalk.fallback_text == "가" * 44 + "a"
    assert reasons(alimtalk(fallback="sms", fallback_text="가" * 45)) == too_long("alimtalk.fallback_text", 90, 90)


@pytest.mark.parametrize("fallback", ["auto", "lms", "none"])
def test_other_fallback_texts_must_be_under_2000_bytes(fallback):
    # Given a fallback text of 2000 bytes with a fallback that allows LMS
    # When the event is parsed
    # Then it is rejected with the LMS limit (while 1999 bytes pass)
    assert parse(alimtalk(fallback=fallback, fallback_text="a" * 1999)).alimtalk is not None
    assert reasons(alimtalk(fallback=fallback, fallback_text="a" * 2000)) == too_long(
        "alimtalk.fallback_text", 2000, 2000
    )


def test_without_a_fallback_text_the_alimtalk_text_itself_must_fit_the_sms_fallback():
    # Given an SMS-fallback AlimTalk with no fallback text and a 90-byte text
    # When the event is parsed
    # Then the text is judged by the SMS limit, since the fallback SMS will carry it
    b = alimtalk(fallback="sms") | {"text": "가" * 45}
    assert reasons(b) == too_long("text", 90, 90)


def test_without_a_fallback_text_the_alimtalk_text_itself_must_be_sendable():
    # Given an AlimTalk with an emoji in its text, automatic fallback and no fallback text
    b = alimtalk() | {"text": "주문 완료 🎉"}
    # When the event is parsed
    # Then the emoji is rejected, because the fallback SMS could not carry it
    assert reasons(b) == "text: " + unsendable("🎉", "1F389", 7)


@pytest.mark.parametrize("extra", [{"fallback": "none"}, {"fallback_text": "주문 완료"}])
def test_an_alimtalk_text_with_emoji_passes_when_no_sms_will_carry_it(extra):
    # Given an AlimTalk with an emoji and a long text, either without fallback or with its own fallback text
    b = alimtalk(**extra) | {"text": "주문 완료 🎉 " + "a" * 2500}
    # When the event is parsed
    # Then it is valid: KakaoTalk itself is not bound to EUC-KR
    assert parse(b).text.startswith("주문 완료 🎉")


def test_the_fallback_subject_must_be_under_60_bytes():
    # Given a 60-byte fallback subject
    # When the event is parsed
    # Then it is rejected with the subject limit
    assert reasons(alimtalk(fallback_subject="가" * 30)) == too_long("alimtalk.fallback_subject", 60, 60)


def test_an_unsendable_fallback_text_is_rejected_naming_the_character():
    # Given a fallback text with a trap syllable
    # When the event is parsed
    # Then the fallback text's character and position are named
    assert reasons(alimtalk(fallback_text="햏복한 하루")) == "alimtalk.fallback_text: " + unsendable("햏", "D58F", 1)


# ---------------------------------------------------------------- buttons


def button(type_: str = "웹링크", name: str = "배송조회", **links: str) -> dict[str, str]:
    if type_ in ("웹링크", "앱링크") and not links:
        links = {"url": "https://shop.example/o/1234"}
    return {"type": type_, "name": name, **links}


@pytest.mark.parametrize("type_", ["웹링크", "앱링크", "봇키워드", "메시지전달", "배송조회"])
def test_each_button_type_is_accepted(type_):
    # Given a button of each type the provider knows (links only on link buttons)
    # When the event is parsed
    e = parse(alimtalk(buttons=[button(type_)]))
    # Then the button is kept
    assert e.alimtalk is not None
    assert e.alimtalk.buttons[0].type == type_


def test_five_buttons_are_accepted_and_six_rejected():
    # Given five, then six buttons
    five = [button("봇키워드", f"b{i}") for i in range(5)]
    # When / Then at most five pass
    assert parse(alimtalk(buttons=five)).alimtalk is not None
    assert reasons(alimtalk(buttons=[*five, button("봇키워드", "b5")])) == (
        "alimtalk.buttons: List should have at most 5 items after validation, not 6"
    )


def test_an_unknown_button_type_is_rejected_listing_the_korean_types():
    # Given a button type in English
    # When the event is parsed
    # Then the reason lists the five Korean types
    assert reasons(alimtalk(buttons=[{"type": "WL", "name": "x"}])) == (
        "alimtalk.buttons.0.type: Input should be '웹링크', '앱링크', '봇키워드', '메시지전달' or '배송조회'"
    )


@pytest.mark.parametrize("type_", ["웹링크", "앱링크"])
def test_a_link_button_without_a_url_is_rejected(type_):
    # Given a link button with no url (even with a second url only)
    # When the event is parsed
    # Then the button is named and the url asked for
    assert reasons(alimtalk(buttons=[{"type": type_, "name": "열기"}])) == (
        f"alimtalk.buttons.0: a {type_} button needs a url"
    )
    assert reasons(alimtalk(buttons=[{"type": type_, "name": "열기", "url2": "https://x.example"}])) == (
        f"alimtalk.buttons.0: a {type_} button needs a url"
    )


@pytest.mark.parametrize("type_", ["봇키워드", "메시지전달", "배송조회"])
@pytest.mark.parametrize("link", ["url", "url2"])
def test_a_non_link_button_with_a_url_is_rejected(type_, link):
    # Given a button that is not a link button but has a url
    # When the event is parsed
    # Then the button is named and told it takes none
    b = alimtalk(buttons=[button("웹링크"), {"type": type_, "name": "x", link: "https://x.example"}])
    assert reasons(b) == f"alimtalk.buttons.1: a {type_} button takes no url"


def test_a_comma_in_a_button_name_is_rejected():
    # Given a button name with a comma (names travel comma-separated)
    # When the event is parsed
    # Then the name is the problem
    assert reasons(alimtalk(buttons=[button(name="배송,조회")])) == (
        "alimtalk.buttons.0.name: must not contain a comma (button names travel as a comma list)"
    )


@pytest.mark.parametrize("link", ["url", "url2"])
def test_a_comma_in_a_button_url_is_rejected(link):
    # Given a link button whose url has a comma
    links = {"url": "https://shop.example/o/1"} | {link: "https://shop.example/o?ids=1,2"}
    # When the event is parsed
    # Then the urls are the problem
    assert reasons(alimtalk(buttons=[button("웹링크", **links)])) == (
        "alimtalk.buttons.0: urls must not contain a comma (BTN_URLS is a comma list on the wire)"
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "alimtalk.buttons.0.name: String should have at least 1 character"),
        ("가" * 29, "alimtalk.buttons.0.name: String should have at most 28 characters"),
    ],
)
def test_a_button_name_has_1_to_28_characters(name, reason):
    # Given an empty or too long button name
    # When the event is parsed
    # Then the length rule is the reason
    assert reasons(alimtalk(buttons=[button("봇키워드", name)])) == reason


# ---------------------------------------------------------------- attachments


@pytest.mark.parametrize("count", [1, 2, 3])
def test_mms_takes_1_to_3_jpg_attachments(count):
    # Given an MMS with 1-3 JPG attachments in S3
    atts = [{"s3": f"s3://media-bucket/orders/{i}.jpg"} for i in range(count)]
    # When the event is parsed
    e = parse(body(channel="mms", attachments=atts))
    # Then they are kept, each with its bucket and key
    assert [(a.bucket, a.key) for a in e.attachments] == [("media-bucket", f"orders/{i}.jpg") for i in range(count)]


def test_mms_without_attachments_is_rejected():
    # Given an MMS with no image
    # When the event is parsed
    # Then it asks for 1 to 3 JPGs
    assert reasons(body(channel="mms")) == "attachments: channel mms needs 1 to 3 JPG attachments"
    assert reasons(body(channel="mms", attachments=[])) == "attachments: channel mms needs 1 to 3 JPG attachments"


def test_mms_with_four_attachments_is_rejected():
    # Given four images
    # When the event is parsed
    # Then at most three pass
    assert reasons(body(channel="mms", attachments=[JPG] * 4)) == (
        "attachments: List should have at most 3 items after validation, not 4"
    )


@pytest.mark.parametrize("uri", ["s3://media-bucket/a.jpg", "s3://media-bucket/dir/a.JPEG", "s3://my.bucket-1/x/y.Jpg"])
def test_jpg_and_jpeg_s3_uris_are_accepted_in_any_case(uri):
    # Given an s3 URI of a .jpg or .jpeg key
    # When the event is parsed
    # Then it is kept
    assert parse(body(channel="mms", attachments=[{"s3": uri}])).attachments[0].s3 == uri


@pytest.mark.parametrize(
    ("uri", "rule"),
    [
        ("s3://media-bucket/a.png", "only JPG attachments can be sent (.jpg or .jpeg)"),
        ("s3://media-bucket/a.jpg.gif", "only JPG attachments can be sent (.jpg or .jpeg)"),
        ("https://media-bucket.s3.amazonaws.com/a.jpg", "must look like s3://bucket/key.jpg"),
        ("s3://media-bucket/", "must look like s3://bucket/key.jpg"),
        ("s3://Media_Bucket/a.jpg", "must look like s3://bucket/key.jpg"),
        ("/tmp/a.jpg", "must look like s3://bucket/key.jpg"),
    ],
)
def test_attachments_other_than_jpg_s3_uris_are_rejected(uri, rule):
    # Given an attachment that is not a JPG in S3
    # When the event is parsed
    # Then its URI rule is the reason
    assert reasons(body(channel="mms", attachments=[JPG, {"s3": uri}])) == f"attachments.1.s3: {rule}"


@pytest.mark.parametrize("channel", ["auto", "sms", "lms"])
def test_attachments_are_forbidden_on_other_channels(channel):
    # Given an attachment on a non-MMS channel
    # When the event is parsed
    # Then it is rejected, naming the channel
    assert reasons(body(channel=channel, attachments=[JPG])) == (
        f'attachments: only allowed with channel "mms", not "{channel}"'
    )


# ---------------------------------------------------------------- test, metadata


def test_test_mode_is_accepted_for_alimtalk():
    # Given an AlimTalk event in test mode
    # When it is parsed
    # Then test is on
    assert parse(alimtalk() | {"test": True}).test is True


@pytest.mark.parametrize("extra", [{"channel": "auto"}, {"channel": "lms"}, {"channel": "mms", "attachments": [JPG]}])
def test_test_mode_is_rejected_for_sms_lms_and_mms(extra):
    # Given a text-message event asking for test mode
    # When it is parsed
    # Then it is rejected, since the SMS API has no test mode and it would really be sent
    assert reasons(body(test=True, **extra)) == (
        "test: only AlimTalk has a provider test mode; SMS/LMS/MMS would really be sent"
    )


@pytest.mark.parametrize("not_bool", ["yes", "true", "false", 1, 0])
def test_test_must_be_a_json_boolean(not_bool):
    # Given a string or a number for test (lax coercion would read "false" or 0 as a boolean)
    # When the event is parsed
    # Then it is rejected, as the JSON Schema does
    assert reasons(alimtalk() | {"test": not_bool}) == "test: Input should be a valid boolean"


def test_flat_metadata_of_scalars_is_kept():
    # Given metadata of strings, numbers, booleans and null
    meta = {"tenant": "shop", "order": 1234, "amount": 12.5, "vip": True, "coupon": None}
    # When the event is parsed
    # Then it is kept as given
    assert parse(body(metadata=meta)).metadata == meta


def test_metadata_of_2048_bytes_is_accepted_and_2049_rejected():
    # Given metadata whose JSON is 2048 bytes (9 bytes of {"k": ""} around the value), then 2049
    ok = {"k": "v" * 2039}
    # When / Then the size limit is inclusive at 2048 bytes and the reason gives the size
    assert parse(body(metadata=ok)).metadata == ok
    assert (
        reasons(body(metadata={"k": "v" * 2040})) == "metadata: 2049 bytes as JSON; metadata must be at most 2048 bytes"
    )


def test_metadata_size_is_counted_in_utf8_bytes():
    # Given metadata with Hangul (3 bytes each in UTF-8 JSON)
    # When the event is parsed
    # Then its UTF-8 size is what counts: 9 + 3 * 700 = 2109 bytes
    assert (
        reasons(body(metadata={"k": "가" * 700})) == "metadata: 2109 bytes as JSON; metadata must be at most 2048 bytes"
    )


@pytest.mark.parametrize("nested", [[1, 2], {"a": 1}])
def test_nested_metadata_values_are_rejected_with_one_reason(nested):
    # Given a metadata value that is a list or an object
    # When the event is parsed
    # Then one reason names the key and says metadata is flat
    assert reasons(body(metadata={"ok": 1, "items": nested})) == (
        "metadata: value of 'items' must be a string, number, boolean or null (metadata is flat)"
    )


# ---------------------------------------------------------------- several errors at once


def test_several_field_errors_are_reported_together():
    # Given an event with a bad id, a bad recipient, a bad channel and a typo
    b = {"id": " x", "to": "15881234", "text": "hi", "channel": "fax", "subjet": "s"}
    # When it is parsed
    # Then every problem is reported, in field order, joined by "; "
    assert reasons(b) == (
        f"id: {ID_RULE}; "
        "channel: Input should be 'sms', 'lms', 'mms', 'alimtalk' or 'auto'; "
        "to: a representative number (15xx/16xx/18xx) cannot receive messages; "
        f"subjet: {UNKNOWN_FIELD}"
    )


def test_several_cross_field_rules_are_reported_together():
    # Given an SMS event with an unsendable subject, a long name, an attachment and test mode
    b = body(channel="sms", subject="🙂", to_name="가" * 16, attachments=[JPG], test=True)
    # When it is parsed
    # Then every rule it broke is reported, joined by "; "
    assert reasons(b) == "; ".join(
        [
            "subject: " + unsendable("🙂", "1F642", 1),
            too_long("to_name", 32, 32),
            'attachments: only allowed with channel "mms", not "sms"',
            "test: only AlimTalk has a provider test mode; SMS/LMS/MMS would really be sent",
        ]
    )


def test_a_key_with_a_newline_is_named_on_the_same_line():
    # Given an unknown key holding a newline, and a template variable key holding a tab
    b = alimtalk(variables={"a\tb": 1}) | {"bad\nkey": 1}
    # When the event is parsed
    # Then the keys are quoted so the reason stays one line
    assert reasons(b) == f"alimtalk.variables.'a\\tb': Input should be a valid string; 'bad\\nkey': {UNKNOWN_FIELD}"


# ---------------------------------------------------------------- placeholders


def test_placeholders_lists_the_template_variables_in_order():
    # Given an AlimTalk template text with #{...} placeholders
    # When its placeholders are listed
    # Then each name comes once per occurrence, in order
    assert placeholders("#{name}님, 주문 #{order}이 발송되었습니다. #{name}") == ["name", "order", "name"]
    assert placeholders("no variables {here} #{}") == []


# ---------------------------------------------------------------- fuzzing

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_FIELDS = [
    "id", "channel", "to", "text", "subject", "from", "to_name", "from_name", "send_at",
    "alimtalk", "attachments", "test", "on_unsendable", "metadata",
]  # fmt: skip
_PLAUSIBLE = {
    "id": st.sampled_from(["order-1", "", " x", "x" * 129]) | st.text(max_size=5),
    "channel": st.sampled_from(["sms", "lms", "mms", "alimtalk", "auto", "fax"]),
    "to": st.sampled_from(["010-1234-5678", "02-123-4567", "1588-1234", "+82 10 1234 5678", "abc"]),
    "text": st.text(max_size=120) | st.sampled_from(["가" * 45, "a" * 2000, "똠😀"]),
    "subject": st.text(max_size=40),
    "from": st.sampled_from(["0212345678", "02-1588-1234", "15881234", "1"]),
    "to_name": st.text(max_size=20),
    "from_name": st.text(max_size=20),
    "send_at": st.sampled_from(["2026-12-01T09:00:00+09:00", "2026-12-01T09:00:00", "9999-12-31T23:59:59-12:00"])
    | st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    "alimtalk": st.fixed_dictionaries(
        {"template_code": st.text(max_size=5)},
        optional={
            "fallback": st.sampled_from(["auto", "sms", "lms", "none", "x"]),
            "fallback_text": st.text(max_size=100),
            "fallback_subject": st.text(max_size=40),
            "variables": st.dictionaries(st.text(max_size=5), _SCALARS, max_size=3),
            "buttons": st.lists(
                st.fixed_dictionaries(
                    {"type": st.sampled_from(["웹링크", "앱링크", "봇키워드", "x"]), "name": st.text(max_size=30)},
                    optional={"url": st.text(max_size=20), "url2": st.text(max_size=20)},
                ),
                max_size=6,
            ),
        },
    ),
    "attachments": st.lists(
        st.fixed_dictionaries({"s3": st.sampled_from(["s3://media-bucket/a.jpg", "s3://b/a.png", ""])}), max_size=4
    ),
    "test": st.booleans(),
    "on_unsendable": st.sampled_from(["reject", "replace", "drop"]),
    "metadata": st.dictionaries(st.text(max_size=8), _SCALARS, max_size=4),
}


_BASES = [
    body(),
    body(channel="sms", text="a" * 95, subject="안내", to_name="홍길동", **{"from": "1588-1234"}),
    body(channel="mms", attachments=[JPG], send_at="2026-12-01T09:00:00+09:00", metadata={"k": 1}),
    alimtalk(buttons=[{"type": "웹링크", "name": "열기", "url": "https://x.example"}]) | {"test": True},
]


@st.composite
def json_ish_events(draw: st.DrawFn) -> Any:
    """A valid event with 0-4 mutations: a field dropped, set to a plausible, wrong-typed or random JSON value,
    or a random extra key; now and then any JSON value at all."""
    if draw(st.integers(0, 19)) == 0:
        return draw(_JSON)
    out: dict[str, Any] = dict(draw(st.sampled_from(_BASES)))
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(_FIELDS))
        how = draw(st.sampled_from(["drop", "plausible", "plausible", "json", "extra"]))
        if how == "drop":
            out.pop(name, None)
        elif how == "plausible":
            out[name] = draw(_PLAUSIBLE[name])
        elif how == "json":
            out[name] = draw(_JSON)
        else:
            out[draw(st.text(max_size=8))] = draw(_JSON)
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_ish_events())
def test_any_json_ish_input_either_validates_or_raises_a_validation_error_with_a_reason(data):
    # Given any JSON-ish value, including random extra keys and wrong types
    # When it is parsed as an event
    try:
        e = parse(data)
    except ValidationError as exc:
        # Then a rejection is a ValidationError whose one-line reason is a non-empty string
        reason = format_errors(exc)
        assert isinstance(reason, str)
        assert reason.strip()
        assert "\n" not in reason
    else:
        # Or it is a valid event with a digits-only recipient, which planning never crashes on
        assert isinstance(e, Event)
        assert e.to.isdigit()
        assert e.id == e.id.strip()
        p = plan(e, default_sender="0212345678", now=datetime(2026, 11, 30, tzinfo=UTC))
        assert p.channel_used in ("sms", "lms", "mms", "alimtalk")


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        (
            {"n": 10**40},
            "metadata: value of 'n' is not a storable number (finite, at most 38 significant digits); send it as a string",
        ),
        (
            {"n": float("nan")},
            "metadata: value of 'n' is not a storable number (finite, at most 38 significant digits); send it as a string",
        ),
        (
            {"n": float("inf")},
            "metadata: value of 'n' is not a storable number (finite, at most 38 significant digits); send it as a string",
        ),
        ({"": "x"}, "metadata: keys must not be empty"),
    ],
)
def test_metadata_that_dynamodb_cannot_store_is_rejected_with_its_reason(metadata, reason):
    # Given metadata found by fuzzing the handler: numbers DynamoDB cannot hold, an empty key
    # When the event is validated
    with pytest.raises(ValidationError) as exc:
        Event.model_validate({"id": "e", "to": "01012345678", "text": "x", "metadata": metadata})
    # Then it is rejected (recorded, never retried) instead of failing at the database write
    assert format_errors(exc.value) == reason
