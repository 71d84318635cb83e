"""The inbox page's side of the sandbox, over real HTTP: the page and its files, the phone-shaped view of
both providers' messages, MMS images, refused sends, the live-update stream, and the clear button."""

from __future__ import annotations

import json
import socket
import threading
import time
import tomllib
from pathlib import Path

from devstack.sandbox import inbox

from .conftest import PHONE, REPORT_DELAY, SENDER, Api, FakeClock
from .test_mms import jpg

ROOT = Path(__file__).resolve().parents[2]
A1111_TEXT = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."


def entries(api: Api) -> list[dict]:
    status, state = api.inspect("inbox/state")
    assert status == 200
    return state["messages"]


def test_the_page_and_its_files_are_served_as_utf8_and_slash_redirects_to_it(api: Api) -> None:
    # When the browser asks for / and then the page's files
    root = api.http.request("GET", api.sandbox.url + "/", redirect=False)
    page = api.http.request("GET", api.sandbox.url + "/_sandbox/inbox")
    script = api.http.request("GET", api.sandbox.url + "/_sandbox/web/inbox.js")
    # Then / points at the page, and each file comes with its type and charset
    assert (root.status, root.headers["Location"]) == (302, "/_sandbox/inbox")
    assert page.status == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in page.data.decode("utf-8")
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"


def test_only_the_pages_own_files_are_served(api: Api) -> None:
    # When a path outside the web folder, or a file that is not there, is asked for
    for path in ("/_sandbox/web/..%2Fserver.py", "/_sandbox/web/nothing.js", "/_sandbox/web/"):
        response = api.http.request("GET", api.sandbox.url + path)
        # Then it is a 404, never a file of the sandbox
        assert response.status == 404, path
        assert b"import" not in response.data


def test_the_web_files_are_package_data() -> None:
    # Given the page's files and the package data pyproject.toml declares
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = declared["devstack.sandbox"]
    files = [p for p in inbox.WEB.iterdir() if p.is_file()]
    # Then every file is covered, so a built package serves the page too
    assert {p.name for p in files} >= {"inbox.html", "inbox.css", "inbox.js"}
    assert all(any(p.match(pattern.split("/", 1)[1]) for pattern in patterns) for p in files)


def test_an_sms_shows_masked_in_the_list_whole_in_the_thread_with_its_bytes_and_report(
    api: Api, clock: FakeClock
) -> None:
    # Given an SMS
    api.sms(msg_body="[Shop] 주문이 접수되었습니다.")
    # Then the inbox has it, pending, with its EUC-KR size and the type it fits
    [entry] = entries(api)
    assert (entry["provider"], entry["channel"], entry["to"], entry["to_masked"]) == (
        "apistore",
        "sms",
        PHONE,
        "010****5678",
    )
    assert (entry["from"], entry["bytes"], entry["fits"]) == (SENDER, 29, "SMS")  # 7 ASCII + 11 Hangul x 2 bytes
    assert entry["report"] == {"state": "pending", "code": None, "meaning": None}
    assert entry["send_at_kst"] == "2026-11-23 12:00:00" and entry["scheduled"] is False

    # When its report is ready (a wrong number forced for it)
    api.sandbox.force_outcome("01099990000", call_status="4410")
    api.sms(dest_phone="01099990000")
    clock.advance(REPORT_DELAY)
    # Then each shows the report code and its meaning from the spec's table
    reports = {e["to"]: e["report"] for e in entries(api)}
    assert reports[PHONE] == {"state": "delivered", "code": "4100", "meaning": "전달"}
    assert reports["01099990000"] == {"state": "failed", "code": "4410", "meaning": "잘못된번호"}


def test_a_scheduled_message_shows_its_send_time_in_kst(api: Api) -> None:
    api.sms(send_time="20261124093000")
    [entry] = entries(api)
    assert entry["scheduled"] is True
    assert entry["send_at_kst"] == "2026-11-24 09:30:00"


def test_an_mms_image_is_served_as_the_sandbox_received_it(api: Api) -> None:
    # Given an MMS with one JPG
    picture = jpg(2048)
    reply = api.raw(
        "POST",
        "/ppurio/1/message/mms/{client_id}",
        {"send_phone": SENDER, "dest_phone": PHONE, "msg_body": "쿠폰", "subject": "할인"},
        files=[("coupon.jpg", picture)],
    )
    assert json.loads(reply.data)["result_code"] == "200"
    # When the page loads the image the entry names
    [entry] = entries(api)
    [url] = entry["images"]
    image = api.http.request("GET", api.sandbox.url + url)
    # Then it is the same bytes, as a JPEG
    assert (image.status, image.headers["Content-Type"], image.data) == (200, "image/jpeg", picture)
    assert api.http.request("GET", api.sandbox.url + url[:-1] + "5").status == 404


def test_an_alimtalk_the_provider_replaced_by_sms_is_linked_to_that_sms(api: Api, clock: FakeClock) -> None:
    # Given an AlimTalk to someone without KakaoTalk, with a provider-side fallback SMS
    api.sandbox.force_outcome(PHONE, rslt="A", msg_rslt="00")
    api.kko(
        MSG=A1111_TEXT.replace("#{name}", "홍길동"),
        TEMPLATE_CODE="A1111",
        FAILED_TYPE="SMS",
        FAILED_MSG="[Shop] 상품이 발송되었습니다.",
        BTN_TYPES="웹링크",
        BTN_TXTS="배송조회",
        BTN_URLS1="https://shop.example/o/1",
    )
    [card] = entries(api)
    assert card["channel"] == "alimtalk" and card["fallback_id"] is None
    assert card["buttons"] == [{"type": "웹링크", "name": "배송조회", "url": "https://shop.example/o/1"}]
    # When the report is in
    clock.advance(REPORT_DELAY)
    card, sms = entries(api)
    # Then the AlimTalk failed with Kakao's reason, and the SMS that reached the phone points back at it
    assert card["report"] == {"state": "failed", "code": "A", "meaning": "카카오톡을 미사용자"}
    assert (card["fallback_id"], sms["fallback_of"], sms["route"]) == (sms["id"], card["id"], "provider")
    assert (sms["channel"], sms["text"], sms["report"]["state"]) == (
        "sms",
        "[Shop] 상품이 발송되었습니다.",
        "delivered",
    )


def test_a_refused_alimtalk_shows_with_its_code_and_the_apps_sms_is_linked_to_it(api: Api) -> None:
    # Given an AlimTalk refused at once (template not approved), then the app's SMS to the same phone
    refused = api.kko(TEMPLATE_CODE="R3333", MSG="홍길동님께만 드리는 특별 할인 쿠폰!")
    assert refused["result_code"] == "700"
    api.sms(msg_body="홍길동님께만 드리는 특별 할인 쿠폰!")
    # Then the page shows the refusal with the provider's reason, and the SMS as the app's fallback for it
    card, sms = entries(api)
    assert card["report"]["state"] == "refused" and card["report"]["code"] == "700"
    assert "미승인" in card["report"]["meaning"]
    assert (card["fallback_id"], sms["fallback_of"], sms["route"]) == (sms["id"], card["id"], "app")


def test_a_send_refused_by_a_fault_shows_as_refused(api: Api) -> None:
    api.sandbox.set_faults(result_codes={"300": 1.0})
    assert api.sms()["result_code"] == "300"
    [entry] = entries(api)
    assert (entry["to"], entry["text"], entry["report"]["state"], entry["report"]["code"]) == (
        PHONE,
        "안녕하세요",
        "refused",
        "300",
    )


def test_clear_empties_the_inbox_but_reports_still_answer(api: Api, clock: FakeClock) -> None:
    # Given a message in the inbox
    cmid = api.sms()["cmid"]
    # When the page's clear button is pressed
    status, _ = api.inspect("clear", {})
    # Then the inbox is empty, the next message shows, and the cleared one's report still answers
    assert status == 200 and entries(api) == []
    api.sms(dest_phone="01022223333")
    assert [e["to"] for e in entries(api)] == ["01022223333"]
    clock.advance(REPORT_DELAY)
    assert api.get("/ppurio/1/message/report/{client_id}", {"cmid": cmid})["call_status"] == "4100"


def open_stream(api: Api) -> socket.socket:
    host, port = api.sandbox.url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(b"GET /_sandbox/inbox/stream HTTP/1.1\r\nHost: sandbox\r\n\r\n")
    return s


def test_the_stream_announces_a_change_when_a_message_arrives(api: Api) -> None:
    # Given the page's event stream, open: it starts with a change event (what there is now)
    stream = open_stream(api)
    reader = stream.makefile("rb")
    head = [reader.readline() for _ in range(4)]
    assert head[0].startswith(b"HTTP/1.1 200")
    assert b"Content-Type: text/event-stream; charset=utf-8\r\n" in head
    while (line := reader.readline()) != b"event: change\n":
        assert line, "the stream ended"
    first = reader.readline()
    # When a message arrives
    api.sms()
    # Then another change event follows, with another mark
    while (line := reader.readline()) != b"event: change\n":
        assert line, "the stream ended"
    assert reader.readline() != first
    stream.close()


def test_stop_does_not_wait_for_open_streams(api: Api) -> None:
    # Given two pages listening
    sockets = [open_stream(api) for _ in range(2)]
    for s in sockets:
        assert s.recv(64).startswith(b"HTTP/1.1 200")
    # When the sandbox stops
    stopper = threading.Thread(target=api.sandbox.stop)
    started = time.monotonic()
    stopper.start()
    stopper.join(30)
    # Then it has stopped, and the streams end
    assert not stopper.is_alive()
    for s in sockets:
        s.settimeout(10)
        while s.recv(4096):
            pass
        s.close()
    print(f"stop with two open streams took {time.monotonic() - started:.3f} s")


def test_a_test_mode_send_shows_as_test_never_as_delivered(api: Api, clock: FakeClock) -> None:
    # Given an SMS sent to the ppurio test mode, and its report time passed
    reply = api.post(
        "/ppurio_test/1/message_test/sms/{client_id}", {"send_phone": SENDER, "dest_phone": PHONE, "msg_body": "시험"}
    )
    assert reply["result_code"] == "200"
    clock.advance(REPORT_DELAY)
    # Then the page shows it as a test: validated, never delivered
    [entry] = entries(api)
    assert (entry["test"], entry["report"]["state"]) == (True, "test")
