"""The sandbox's inbox page in a real browser: headless Chromium (Debian's `chromium`, driven by Playwright)
on the page the sandbox serves, while the local stack sends the sample events through the real handlers.

`make test` installs Chromium when it is missing; under CI a missing browser fails these tests.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.inbox_demo import CHROMIUM, chromium_page, send_samples, settle
from devstack.run import FastForward
from devstack.stack import LocalStack
from notifier.domain.record import message_id_of

pytestmark = pytest.mark.e2e

# A SOLAPI status code / API Store result code the sandbox refuses a send with, when forced as a fault.
REFUSAL = {"solapi": "1062", "apistore": "300"}
WAIT_MS = 60_000  # generous: a noisy 2-core machine


@pytest.fixture(scope="module")
def browser_ready() -> None:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: `make test` installs Debian's chromium (make browser)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module", params=["solapi", "apistore"])
def inbox(request: pytest.FixtureRequest, browser_ready: None) -> Iterator[tuple[LocalStack, Any, list[str]]]:
    """The local stack with the samples sent and their reports read, and the inbox page open on it.
    The list collects the page's console errors and uncaught exceptions."""
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    clock = FastForward()
    with LocalStack.start(
        sandbox_config={"report_delay_s": 5}, parameters={"Provider": request.param}, log_stream=io.StringIO()
    ) as stack:
        stack.sandbox.clock = clock
        send_samples(stack, clock)
        with chromium_page() as page:
            errors: list[str] = []
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{stack.sandbox.url}/")  # redirects to /_sandbox/inbox
            page.locator("#live.on").wait_for(timeout=WAIT_MS)
            yield stack, page, errors
            stack.sandbox.set_faults()


def entry_id(stack: LocalStack, record: dict[str, Any]) -> str:
    """The page's id of the message a record's provider message id stands for."""
    if stack.provider == "solapi":
        return f"solapi:{message_id_of(record)}"
    return f"apistore:{message_id_of(record)}:{record['recipient']}"


def open_thread(page: Any, phone: str) -> None:
    page.fill("#filters [name=recipient]", phone)
    page.locator(f'#recipients li[data-phone="{phone}"]').click()


def test_the_page_is_served_by_the_sandbox_with_its_own_files_only(inbox):
    stack, page, errors = inbox
    # Given the page loaded from the sandbox
    # Then it is the inbox, and every file it loaded came from the sandbox itself (nothing from the internet)
    assert page.url.endswith("/_sandbox/inbox")
    urls = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert urls, "the page loaded no files"
    assert all(u.startswith(stack.sandbox.url) for u in urls), urls
    assert errors == []


def test_each_sent_message_appears_with_its_report(inbox):
    from playwright.sync_api import expect

    stack, page, errors = inbox
    # Given the sample events, sent and their reports read by the real poller
    sent = [r for r in stack.records() if message_id_of(r)]
    assert len(sent) >= 6, [r["id"] for r in stack.records()]
    for record in sent:
        # When the recipient's thread is opened
        open_thread(page, record["recipient"])
        card = page.locator(f'article[data-id="{entry_id(stack, record)}"]')

        # Then the message is there, with the report the product read
        if record.get("test"):  # the provider's test mode: validated, never delivered
            expect(card).to_have_attribute("data-state", "test")
            continue
        if record["status"] == "sent":  # the scheduled sample: its send time is years ahead
            expect(card).to_have_attribute("data-state", "pending")
            expect(card).to_contain_text("scheduled for")
        elif record.get("fallback_used"):
            # an AlimTalk Kakao could not deliver, and the provider's SMS that reached the phone instead
            expect(card).to_have_attribute("data-state", "failed")
            expect(card).to_contain_text("replaced by a text message")
            replacement = page.locator(f'article[data-fallback-of="{entry_id(stack, record)}"]')
            expect(replacement).to_have_attribute("data-state", record["status"])
            expect(replacement).to_contain_text("the provider's fallback for the AlimTalk above")
        else:
            expect(card).to_have_attribute("data-state", record["status"])
        expect(card.locator(".pill")).to_contain_text(str(record.get("report_code") or "").split("/")[0])
    assert errors == []


def test_an_alimtalk_shows_as_a_kakao_card_and_an_mms_with_its_image(inbox):
    from playwright.sync_api import expect

    stack, page, errors = inbox
    # When the thread of the delivered AlimTalk sample is opened
    open_thread(page, "01055550010")
    # Then it is a Kakao card with its template code and its button
    card = page.locator("article[data-channel=alimtalk] .kakao")
    expect(card).to_contain_text("홍길동님, 주문하신 상품이 발송되었습니다.")
    expect(card.locator(".tpl")).to_have_text("template A1111")
    expect(card.locator(".btns")).to_contain_text("배송조회")

    # When the MMS sample's thread is opened, its JPG is shown, as the sandbox stored it
    open_thread(page, "01055550001")
    image = page.locator("article[data-channel=mms] img")
    expect(image).to_have_count(1)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    expect(page.locator("article[data-channel=mms] .meta")).to_contain_text("bytes EUC-KR")
    assert errors == []


def test_filters_narrow_the_recipient_list(inbox):
    from playwright.sync_api import expect

    stack, page, errors = inbox
    page.fill("#filters [name=recipient]", "")
    everyone = page.locator("#recipients li")
    expect(everyone.first).to_be_visible()
    total = everyone.count()

    # When only AlimTalk is asked for
    page.select_option("#filters [name=channel]", "alimtalk")
    # Then fewer recipients are listed, each with an AlimTalk
    expect(everyone).not_to_have_count(total)
    assert everyone.count() >= 1
    for text in everyone.locator(".preview").all_inner_texts():
        assert text.startswith("알림톡"), text

    # When a text search is added that only one message matches
    page.fill("#filters [name=q]", "결제 영수증")
    page.select_option("#filters [name=channel]", "")
    # Then one recipient is left: the LMS receipt's
    expect(everyone).to_have_count(1)
    expect(everyone.first).to_have_attribute("data-phone", "01098765432")
    page.fill("#filters [name=q]", "")
    assert errors == []


def test_a_fault_set_in_the_panel_refuses_the_next_send_and_the_page_shows_it_live(inbox):
    from playwright.sync_api import expect

    stack, page, errors = inbox
    page.evaluate("window.notReloaded = true")
    code = REFUSAL[stack.provider]
    # Given a share that is not one, the panel says what is wrong and changes nothing
    page.fill("#faults [name=result_codes]", f"{code}=2")
    page.click("#faults button[type=submit]")
    expect(page.locator("#faults [data-error]")).to_have_text("fault rates must be between 0 and 1")
    assert stack.sandbox.faults()["result_codes"] == {}
    # (Chromium logs the sandbox's HTTP 400 answer itself as a console error: the only one allowed)
    assert [e for e in errors if "status of 400" not in e] == []
    errors.clear()

    # Given a forced result code set in the faults panel
    page.fill("#faults [name=result_codes]", f"{code}=1")
    page.click("#faults button[type=submit]")
    expect(page.locator("#faults [data-error]")).to_be_empty()
    assert stack.sandbox.faults()["result_codes"] == {code: 1.0}

    # When the product sends the next event
    stack.publish(
        [json.dumps({"id": "inbox-fault-1", "to": "010-7777-0001", "text": "장애 시험 문자"}, ensure_ascii=False)]
    )
    stack.drain(timeout_s=120)

    # Then it is refused, and the open page shows it without a reload, with the code
    record = stack.record("inbox-fault-1")
    assert record is not None and record["status"] == "rejected", record
    open_thread(page, "01077770001")
    card = page.locator("#thread article").first
    expect(card).to_have_attribute("data-state", "refused")
    expect(card.locator(".pill")).to_contain_text(f"refused {code}")
    assert page.evaluate("window.notReloaded") is True

    # When the faults are switched off from the panel, the next send goes through again
    page.click("#faults-off")
    page.wait_for_function("() => !document.querySelector('#faults [name=result_codes]').value")
    assert stack.sandbox.faults()["result_codes"] == {}
    stack.publish([json.dumps({"id": "inbox-fault-2", "to": "010-7777-0001", "text": "정상 문자"}, ensure_ascii=False)])
    stack.drain(timeout_s=120)
    expect(page.locator("#thread article")).to_have_count(2)
    assert errors == []


def test_a_report_outcome_forced_in_the_panel_is_what_the_next_message_ends_with(inbox):
    from playwright.sync_api import expect

    stack, page, errors = inbox
    field, code = ("status_code", "3032") if stack.provider == "solapi" else ("call_status", "4410")
    # Given a wrong-number outcome forced for one phone in the outcomes panel
    page.fill("#forced [name=phone]", "010-7777-0002")
    page.select_option("#forced [name=field]", field)
    page.fill("#forced [name=code]", code)
    page.click("#forced button[type=submit]")
    expect(page.locator("#forced-list")).to_contain_text("01077770002")

    # When the product sends to it and reads the report
    stack.publish(
        [json.dumps({"id": "inbox-outcome-1", "to": "010-7777-0002", "text": "번호 확인"}, ensure_ascii=False)]
    )
    stack.drain(timeout_s=120)
    clock = stack.sandbox.clock
    assert isinstance(clock, FastForward)
    settle(stack, clock)

    # Then the record and the page both say it failed, with the code and its meaning
    record = stack.record("inbox-outcome-1")
    assert record is not None and record["status"] == "failed", record
    open_thread(page, "01077770002")
    card = page.locator("#thread article").first
    expect(card).to_have_attribute("data-state", "failed")
    expect(card.locator(".pill")).to_contain_text(re.compile(rf"failed {code} · \S"))
    assert errors == []


def test_the_clear_button_empties_the_inbox_and_reports_still_answer(inbox):
    from playwright.sync_api import expect

    stack, page, errors = inbox
    page.fill("#filters [name=recipient]", "")
    expect(page.locator("#recipients li").first).to_be_visible()
    # When the inbox is cleared
    page.click("#clear")
    # Then the page is empty, but the sandbox still has the messages the product may ask reports for
    expect(page.locator("#recipients li")).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()
    assert stack.sandbox.messages()
    assert errors == []
