"""Channel choice and send time: what the dispatcher asks the provider for.

ppurio spec 3.1: an SMS body is "90byte 미만" (under 90 bytes) and above that the provider turns it
into LMS; DESIGN.md: `auto` is SMS when the text fits, else LMS; send_time is yyyyMMddHHmmss in KST.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.event import Event, parse
from notifier.domain.plan import KST, kst_send_time, plan, sms_or_lms
from notifier.domain.text import euckr_len

DEFAULT_SENDER = "0212345678"
NOW = datetime(2026, 11, 30, 0, 0, 0, tzinfo=UTC)


def event(**fields) -> Event:
    body = {"id": "order-1", "to": "010-1234-5678", "text": "hello", **fields}
    return parse(body)


def plan_of(**fields):
    return plan(event(**fields), default_sender=DEFAULT_SENDER, now=NOW)


@pytest.mark.parametrize(
    ("text", "n"),
    [("a" * 89, 89), ("가" * 44 + "a", 89), ("안녕하세요", 10), ("a", 1)],
)
def test_auto_text_under_90_bytes_goes_as_sms_and_says_its_size(text, n):
    # Given an auto event whose text is under 90 EUC-KR bytes
    # When it is planned
    p = plan_of(channel="auto", text=text)
    # Then it goes as SMS, and the record says why
    assert p.channel_requested == "auto"
    assert p.channel_used == "sms"
    assert p.conversion == f"auto->sms: text is {n} bytes in EUC-KR"


@pytest.mark.parametrize(
    ("text", "n"),
    [("a" * 90, 90), ("가" * 45, 90), ("가" * 44 + "ab", 90), ("a" * 1999, 1999)],
)
def test_auto_text_of_90_bytes_or_more_goes_as_lms_and_says_its_size(text, n):
    # Given an auto event whose text is 90 EUC-KR bytes or more (SMS takes only "90byte 미만")
    # When it is planned
    p = plan_of(channel="auto", text=text)
    # Then it goes as LMS, and the record says why
    assert p.channel_used == "lms"
    assert p.conversion == f"auto->lms: text is {n} bytes in EUC-KR"


def test_auto_is_the_default_channel():
    # Given an event with no channel
    # When it is planned
    p = plan_of(text="짧은 안내")
    # Then it was planned as auto
    assert (p.channel_requested, p.channel_used) == ("auto", "sms")


def test_sms_text_of_89_bytes_stays_sms_without_a_conversion():
    # Given an SMS event of 89 bytes
    # When it is planned
    p = plan_of(channel="sms", text="가" * 44 + "a")
    # Then it is sent as SMS, and nothing was converted
    assert (p.channel_requested, p.channel_used, p.conversion) == ("sms", "sms", None)


@pytest.mark.parametrize(("text", "n"), [("가" * 45, 90), ("a" * 150, 150)])
def test_sms_text_of_90_bytes_or_more_is_sent_as_lms_and_says_why(text, n):
    # Given an SMS event whose text does not fit an SMS
    # When it is planned
    p = plan_of(channel="sms", text=text)
    # Then it goes as LMS (as the provider itself would convert it), with the reason kept
    assert (p.channel_requested, p.channel_used) == ("sms", "lms")
    assert p.conversion == f"sms->lms: text is {n} bytes in EUC-KR, SMS takes under 90"


def test_lms_is_kept_even_for_a_short_text():
    # Given an LMS event with a text that would fit an SMS
    # When it is planned
    p = plan_of(channel="lms", text="hi", subject="안내")
    # Then it stays LMS: the producer asked for it
    assert (p.channel_requested, p.channel_used, p.conversion) == ("lms", "lms", None)


def test_mms_is_kept():
    # Given an MMS event with one JPG
    # When it is planned
    p = plan_of(channel="mms", text="사진", attachments=[{"s3": "s3://media-bucket/a.jpg"}])
    # Then it stays MMS
    assert (p.channel_requested, p.channel_used, p.conversion) == ("mms", "mms", None)


def test_alimtalk_is_kept():
    # Given an AlimTalk event
    # When it is planned
    p = plan_of(channel="alimtalk", text="a" * 200, alimtalk={"template_code": "A1111"})
    # Then it stays AlimTalk whatever the text's size
    assert (p.channel_requested, p.channel_used, p.conversion) == ("alimtalk", "alimtalk", None)


def test_the_configured_default_sender_is_used_when_the_event_has_no_from():
    # Given an event without "from"
    # When it is planned
    p = plan_of()
    # Then the configured sender is used
    assert p.sender == DEFAULT_SENDER


def test_the_events_own_sender_wins_over_the_default_in_its_normalised_form():
    # Given an event with its own "from"
    # When it is planned
    p = plan_of(**{"from": "1588-1234"})
    # Then that number, digits only, is the sender
    assert p.sender == "15881234"


def test_no_send_at_means_send_now():
    # Given an event without send_at
    # When it is planned
    p = plan_of()
    # Then no send time goes to the provider and nothing is scheduled
    assert (p.send_time, p.send_at_epoch) == (None, None)


@pytest.mark.parametrize(
    ("send_at", "kst"),
    [
        ("2026-12-01T00:30:00Z", "20261201093000"),  # UTC + 9 h
        ("2026-12-01T09:00:00+09:00", "20261201090000"),  # already KST
        ("2026-12-01T14:59:59Z", "20261201235959"),  # last second before KST midnight
        ("2026-12-01T15:00:00Z", "20261202000000"),  # KST midnight: the next day
        ("2026-12-31T15:30:00Z", "20270101003000"),  # across midnight, month and year
        ("2026-12-01T10:00:00-05:00", "20261202000000"),  # 15:00 UTC from New York
        ("2026-11-30T00:00:01Z", "20261130090001"),  # one second after now
    ],
)
def test_a_future_send_at_becomes_the_kst_send_time(send_at, kst):
    # Given an event scheduled in the future, in any timezone
    # When it is planned
    p = plan_of(send_at=send_at)
    # Then the provider gets yyyyMMddHHmmss in Korea time, and the epoch of that moment is kept
    assert p.send_time == kst
    expected = datetime.fromisoformat(send_at.replace("Z", "+00:00"))
    assert p.send_at_epoch == int(expected.timestamp())
    assert datetime.strptime(kst, "%Y%m%d%H%M%S").replace(tzinfo=KST) == expected


@pytest.mark.parametrize(
    "send_at",
    ["2026-11-30T00:00:00Z", "2026-11-30T09:00:00+09:00", "2026-11-29T23:59:59Z", "2020-01-01T00:00:00+09:00"],
)
def test_a_send_at_now_or_in_the_past_means_send_now(send_at):
    # Given an event whose send_at is now or already past
    # When it is planned
    p = plan_of(send_at=send_at)
    # Then it is sent at once: no send time, nothing scheduled
    assert (p.send_time, p.send_at_epoch) == (None, None)


def test_kst_is_nine_hours_ahead_of_utc():
    # Given the plan's Korea timezone
    # When its offset is asked
    # Then it is UTC+9 with no daylight saving
    assert KST.utcoffset(None) == timedelta(hours=9)


def test_kst_send_time_compares_moments_not_wall_clocks():
    # Given a send_at at 08:00 in Korea and a "now" of 00:00 UTC (09:00 in Korea) on the same day
    send_at = datetime(2026, 12, 1, 8, 0, tzinfo=timezone(timedelta(hours=9)))
    now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    # When the send time is computed
    # Then it is in the past (an hour ago), so there is none, although 08:00 > 00:00 on the clock
    assert kst_send_time(send_at, now) is None
    assert kst_send_time(send_at, now - timedelta(hours=2)) == "20261201080000"


@given(st.text(alphabet=st.sampled_from("aZ09 .가힣★"), min_size=1, max_size=1100))
def test_auto_is_sms_exactly_when_the_text_is_under_90_bytes(text):
    # Given any sendable text
    # When the channel is chosen
    channel, n = sms_or_lms(text)
    # Then SMS is chosen exactly when the EUC-KR length is under 90, and the length is reported
    assert n == euckr_len(text)
    assert channel == ("sms" if n < 90 else "lms")
