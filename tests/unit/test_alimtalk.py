"""AlimTalk rules before sending: template checks, buttons on the wire, the provider-side fallback."""

from __future__ import annotations

from typing import Any

import pytest

from notifier.domain.alimtalk import (
    Checked,
    CheckFailure,
    Template,
    TemplateButton,
    WireButton,
    check,
    provider_fallback,
    url_matches,
)
from notifier.domain.event import Event
from notifier.providers.apistore.alimtalk import wire_buttons

SHIPPED = Template(
    code="A1111",
    name="배송 안내",
    text="#{name}님, 주문하신 상품이 발송되었습니다.",
    status="승인",
    buttons=(TemplateButton("웹링크", "배송조회", "https://shop.example/o/#{order}"),),
)


def event(text: str = "홍길동님, 주문하신 상품이 발송되었습니다.", **alimtalk: Any) -> Event:
    a = {"template_code": "A1111", "variables": {"name": "홍길동", "order": "1234"}, **alimtalk}
    return Event.model_validate({"id": "e", "channel": "alimtalk", "to": "01012345678", "text": text, "alimtalk": a})


def run(e: Event, template: Template | None = SHIPPED) -> Checked | CheckFailure:
    assert e.alimtalk is not None
    return check(e.alimtalk, e.text, template)


# ------------------------------------------------------------------ the template check


def test_approved_template_with_its_variables_passes_and_fills_the_template_buttons():
    # Given an event naming an approved template and giving every variable, and no buttons of its own
    result = run(event())
    # Then it passes, and the template's button is sent with its URL filled in
    assert result == Checked(
        text="홍길동님, 주문하신 상품이 발송되었습니다.",
        buttons=(WireButton("웹링크", "배송조회", "https://shop.example/o/1234", None),),
    )


@pytest.mark.parametrize(
    ("status", "word"), [("등록", "등록"), ("검수요청", "검수요청"), ("반려", "반려"), ("승인중단", "승인중단")]
)
def test_a_template_that_is_not_approved_fails_the_check_naming_its_status(status, word):
    result = run(event(), Template("A1111", "n", SHIPPED.text, status, SHIPPED.buttons))
    reason = f"alimtalk.template_code: template 'A1111' is {word}, not 승인 (approved)"
    assert result == CheckFailure("not_approved", reason)


def test_an_unknown_template_code_fails_the_check():
    assert run(event(), None) == CheckFailure(
        "unknown_template", "alimtalk.template_code: template 'A1111' is not registered"
    )


def test_a_missing_variable_is_a_producer_error_naming_it():
    result = run(event(variables={"name": "홍길동"}))
    assert result == CheckFailure(
        "missing_variable", "alimtalk.variables: missing 'order' (template 'A1111' has #{name}, #{order})"
    )
    assert result.producer_error


def test_a_variable_the_template_does_not_have_is_a_producer_error():
    result = run(event(variables={"name": "홍길동", "order": "1", "nmae": "x"}))
    assert isinstance(result, CheckFailure) and result.kind == "unknown_variable" and result.producer_error
    assert result.reason == "alimtalk.variables: 'nmae' not in template 'A1111' (it has #{name}, #{order})"


def test_a_text_that_is_not_the_filled_template_fails_naming_the_first_difference():
    result = run(event(text="홍길동님, 주문하신 상품이 출고되었습니다."))
    assert result == CheckFailure(
        "text_mismatch",
        "text: differs from template 'A1111' filled with the variables (first difference at character 16); "
        "Kakao would refuse it in the report (RSLT U)",
    )
    assert not result.producer_error  # a mismatch follows the fallback policy


def test_windows_line_endings_are_not_a_mismatch():
    t = Template("A2", "n", "첫 줄\n둘째 줄", "승인")
    e = Event.model_validate(
        {"id": "e", "channel": "alimtalk", "to": "01012345678", "text": "첫 줄\r\n둘째 줄",
         "alimtalk": {"template_code": "A2"}}
    )  # fmt: skip
    assert isinstance(check(e.alimtalk, e.text, t), Checked)


def test_buttons_given_by_the_event_must_match_the_templates():
    # Given buttons that differ from the template in name, in count, and in URL
    wrong_name = run(event(buttons=[{"type": "웹링크", "name": "주문조회", "url": "https://shop.example/o/1"}]))
    wrong_count = run(event(buttons=[
        {"type": "웹링크", "name": "배송조회", "url": "https://shop.example/o/1"},
        {"type": "배송조회", "name": "택배"},
    ]))  # fmt: skip
    wrong_url = run(event(buttons=[{"type": "웹링크", "name": "배송조회", "url": "https://evil.example/o/1"}]))
    right = run(event(buttons=[{"type": "웹링크", "name": "배송조회", "url": "https://shop.example/o/777"}]))
    # Then each mismatch is named, and a URL matching the template's pattern passes
    assert wrong_name == CheckFailure(
        "button_mismatch", "alimtalk.buttons[0]: 웹링크/주문조회 given, template 'A1111' has 웹링크/배송조회"
    )
    assert wrong_count == CheckFailure("button_mismatch", "alimtalk.buttons: 2 given, template 'A1111' has 1")
    assert wrong_url == CheckFailure(
        "button_mismatch",
        "alimtalk.buttons[0].url: 'https://evil.example/o/1' does not match the template's "
        "'https://shop.example/o/#{order}'",
    )
    assert isinstance(right, Checked) and right.buttons[0].url == "https://shop.example/o/777"


# ------------------------------------------------------------------ buttons on the wire


def b(t: str, name: str, url: str | None = None, url2: str | None = None) -> WireButton:
    return WireButton(t, name, url, url2)


def test_no_buttons_send_no_button_fields():
    assert wire_buttons(()) == {}


def test_one_link_button():
    assert wire_buttons((b("웹링크", "홈", "https://a.example"),)) == {
        "btn_types": "웹링크",
        "btn_txts": "홈",
        "btn_urls1": "https://a.example",
    }


def test_non_link_buttons_between_link_buttons_keep_their_empty_url_positions():
    # The spec's own example: 웹링크,배송조회,웹링크 with BTN_URLS1 "url, ,url" (empty in the middle)
    fields = wire_buttons((b("웹링크", "홈페이지", "https://a.example"), b("배송조회", "배송조회"),
                           b("웹링크", "홈페이지", "https://b.example")))  # fmt: skip
    assert fields == {
        "btn_types": "웹링크,배송조회,웹링크",
        "btn_txts": "홈페이지,배송조회,홈페이지",
        "btn_urls1": "https://a.example,,https://b.example",
    }


def test_only_non_link_buttons_send_no_url_fields():
    fields = wire_buttons((b("봇키워드", "상담"), b("메시지전달", "전달")))
    assert fields == {"btn_types": "봇키워드,메시지전달", "btn_txts": "상담,전달"}


def test_five_buttons_with_second_links_fill_btn_urls2_by_position():
    buttons = (
        b("웹링크", "웹", "https://m.example", "https://pc.example"),
        b("앱링크", "앱", "app://open", "ios://open"),
        b("봇키워드", "봇"),
        b("메시지전달", "전달"),
        b("웹링크", "웹2", "https://m2.example"),
    )
    assert wire_buttons(buttons) == {
        "btn_types": "웹링크,앱링크,봇키워드,메시지전달,웹링크",
        "btn_txts": "웹,앱,봇,전달,웹2",
        "btn_urls1": "https://m.example,app://open,,,https://m2.example",
        "btn_urls2": "https://pc.example,ios://open,,,",
    }


# ------------------------------------------------------------------ provider-side fallback


def test_auto_fallback_is_sms_under_90_bytes_and_lms_from_90():
    short = provider_fallback(event(fallback_text="가" * 44 + "a"), "배송 안내")  # 89 bytes
    long = provider_fallback(event(fallback_text="가" * 45), "배송 안내")  # 90 bytes
    assert (short.failed_type, long.failed_type) == ("SMS", "LMS")


def test_fallback_defaults_to_the_alimtalk_text_and_always_carries_a_subject():
    fb = provider_fallback(event(), "배송 안내")
    assert fb.failed_type == "SMS" and fb.text == "홍길동님, 주문하신 상품이 발송되었습니다."
    assert fb.subject == "배송 안내"  # the spec answers 301 when subject and content are both missing


def test_explicit_fallback_types_and_none():
    assert provider_fallback(event(fallback="lms", fallback_subject="안내"), "x").failed_type == "LMS"
    assert provider_fallback(event(fallback="sms"), "x").failed_type == "SMS"
    none = provider_fallback(event(fallback="none"), "x")
    assert (none.failed_type, none.subject, none.text) == ("N", None, None)


@pytest.mark.parametrize(
    ("template_url", "url", "matches"),
    [
        ("https://shop.example/o/#{order}", "https://shop.example/o/1234", True),
        ("https://shop.example/o/#{order}", "https://shop.example/o/", False),  # a placeholder is never empty
        ("https://shop.example/o/#{order}", "https://evil.example/o/1", False),
        ("https://x/#{a}/#{b}?c=#{c}", "https://x/1/2/3?c=4", True),  # a value may hold the separator
        ("https://x/#{a}/#{b}?c=#{c}", "https://x/1?c=4", False),
        ("https://x/#{a}#{b}", "https://x/ab", True),
        ("https://x/#{a}#{b}", "https://x/a", False),
        ("https://x/#{a}/end", "https://x/1\n2/end", False),  # one line, as a regex's . would say
        ("https://x/fixed", "https://x/fixed", True),
        ("https://x/fixed", "https://x/fixed2", False),
        ("#{a}ab#{b}", "xabbab", True),
        ("ab#{a}bc", "abc", False),
    ],
)
def test_a_button_url_matches_its_template_with_each_placeholder_filled(template_url, url, matches):
    assert url_matches(template_url, url) is matches


def test_a_long_button_url_is_judged_in_one_pass_whatever_the_template():
    # Given a template URL with three placeholders and a 60 000-character URL that almost matches (a
    # regex of .+ per placeholder would backtrack for hours over it)
    url = "https://x/" + "/" * 60_000 + "\n"
    # When it is checked, Then the answer is no, at once
    assert url_matches("https://x/#{a}/#{b}/#{c}", url) is False
    assert url_matches("https://x/#{a}/#{b}/#{c}", url[:-1]) is True
