"""The real poller handler, on EventBridge Scheduled Events, against moto server (DynamoDB's sparse
index, EventBridge with a subscriber's rule, SSM over HTTP) and the provider sandbox's report APIs over
HTTP. Notifications are sent by the real dispatcher handler first, so the records are what it leaves.

Time is a controllable clock shared by the poller and the sandbox (the sandbox decides when a report
is ready by it); nothing here waits for wall-clock time.

The tests of the report path every provider has (delivered, failed with its code and Korean reason,
not ready yet, no report in 72 hours) run once per provider (marked @every_provider); API Store's own
shapes (ppurio/kko bodies, mixed-case AlimTalk reports) on API Store only. One module-scoped stack per
provider, and tests grouped by it, so only one runs at a time.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from devstack.stack import LocalStack
from notifier.aws.dynamo import serialize
from notifier.handlers.poller_wiring import PollerWiring
from tests.integration.providers import APISTORE, PROVIDERS, Provider

pytestmark = pytest.mark.integration

FIRST_POLL = 90  # past the dispatcher's first next_poll_at (send + 60 s) and the sandbox's 30 s report delay
SHIPPED = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."  # template A1111


class Clock:
    """Stands still until the test advances it. It starts at the wall clock's now because the dispatcher
    stamps sent_at and the first next_poll_at by the wall clock; a "first poll" step is 90 s, so the
    seconds a test takes to send never matter."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# Delivered unless a test forces another outcome for a number: no random failures from the default mixes.
DELIVERED_MIXES = {
    "apistore": {"sms": {"4100": 1}, "lms": {"6600": 1}, "mms": {"6600": 1}, "kko": {"0": 1}},
    "solapi": {"solapi": {"4000": 1}, "solapi_ata": {"4000": 1}},
}
# A report saying the number is wrong or off: what the sandbox is told, and the code and reason kept.
FAILED_REPORT = {
    "apistore": ({"call_status": "4410"}, "4410", "잘못된번호"),
    "solapi": ({"status_code": "3043"}, "3043", "3043 단말기 Power off"),
}
# Which request counter a report read goes to, and how a not-ready report is noted on the record.
REPORT_KIND = {"apistore": "report", "solapi": "solapi_list"}
# How each provider says "not ready yet": API Store in three reply styles (the sandbox's report_pending),
# SOLAPI with statusCode 2000 (then 3000) on the listed message.
NOT_READY = {"apistore": ("message", "null", "empty"), "solapi": ("statusCode",)}
NOT_READY_NOTE = {"apistore": "not ready", "solapi": "statusCode 2000"}


def every_provider(test: Callable[..., None]) -> Callable[..., None]:
    test.providers = PROVIDERS  # type: ignore[attr-defined]
    return test


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    providers: tuple[Provider, ...] = getattr(metafunc.function, "providers", (APISTORE,))
    # Module scope: pytest groups the tests by provider, so each provider's stack starts once.
    if "style" in metafunc.fixturenames:
        pairs = [(p, style) for p in providers for style in NOT_READY[p.name]]
        ids = [f"{p}-{style}" for p, style in pairs]
        metafunc.parametrize(("stack", "style"), pairs, indirect=["stack"], scope="module", ids=ids)
    else:
        metafunc.parametrize("stack", providers, indirect=True, scope="module", ids=str)


@pytest.fixture(scope="module")
def stack(request):
    provider: Provider = request.param
    s = LocalStack.start(
        parameters=provider.parameters, log_stream=io.StringIO(), sandbox_config={"report_delay_s": 30}
    )
    s.provider = provider  # type: ignore[attr-defined]
    for kind, mix in DELIVERED_MIXES[provider.name].items():
        s.sandbox.set_outcome_mix(kind, mix)
    yield s
    s.stop()


@pytest.fixture
def clock(stack) -> Clock:
    c = Clock()
    stack.sandbox.clock = c
    return c


@pytest.fixture(autouse=True)
def fresh(stack):
    # Every test starts from an empty table and a default sandbox, so counts are the test's own.
    stack.sandbox.reset()
    stack.sandbox.configure(report_delay_s=30, report_pending="message")
    stack.events_published()
    yield
    ddb = stack.aws.client("dynamodb")
    table = stack.env["TABLE_NAME"]
    for page in ddb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="id"):
        for i in range(0, len(page["Items"]), 25):
            chunk = page["Items"][i : i + 25]
            ddb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": k}} for k in chunk]})


def event_of(*bodies: dict[str, Any]) -> dict[str, Any]:
    records = []
    for b in bodies:
        raw = json.dumps(b, ensure_ascii=False)
        mid = str(uuid.uuid4())
        records.append(
            {
                "messageId": mid,
                "receiptHandle": f"rh-{mid}",
                "body": raw,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795000000000"},
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(raw.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "awsRegion": "ap-northeast-2",
            }
        )
    return {"Records": records}


def send(stack, *bodies: dict[str, Any]) -> None:
    """Through the real dispatcher handler, ten to a batch as the queue would give them."""
    for i in range(0, len(bodies), 10):
        resp = stack.handler(event_of(*bodies[i : i + 10]), stack.context())
        assert resp == {"batchItemFailures": []}


def sms(to: str = "010-1234-5678", **over: Any) -> dict[str, Any]:
    return {"id": f"rp-{uuid.uuid4().hex[:10]}", "to": to, "text": "[Shop] 발송되었습니다.", **over}


def alimtalk(to: str, **over: Any) -> dict[str, Any]:
    a = {"template_code": "A1111", "variables": {"name": "홍길동", "order": "1234"}}
    return {"id": f"rp-akt-{uuid.uuid4().hex[:10]}", "channel": "alimtalk", "to": to, "text": SHIPPED, "alimtalk": a,
            "metadata": {"tenant": "shop"}, **over}  # fmt: skip


def events_for(stack, rid: str) -> list[dict[str, Any]]:
    return [e for e in stack.events_published() if e["detail"].get("id") == rid]


# -- SMS/LMS/MMS reports ---------------------------------------------------------------------------


@every_provider
def test_a_wrong_number_report_fails_the_record_and_the_application_hears_of_it(stack, clock):
    # Given an SMS whose report will say it cannot be delivered (API Store 4410 wrong number, SOLAPI 3043 power off)
    forced, code, reason = FAILED_REPORT[stack.provider.name]
    stack.sandbox.force_outcome("01012345678", **forced)
    b = sms(metadata={"tenant": "shop", "order": "77"})
    send(stack, b)

    # When the schedule fires a minute later (the report is ready after 30 s)
    clock.advance(FIRST_POLL)
    summary = stack.poll(clock=clock)

    # Then the record is failed with the code and the Korean reason, out of the pending index
    rec = stack.record(b["id"])
    assert (rec["status"], rec["report_code"], rec["report_reason"]) == ("failed", code, reason)
    assert "poll_shard" not in rec and "next_poll_at" not in rec
    assert (summary["polled"], summary["failed"]) == (1, 1)
    # And one event on the bus, with what the application needs
    (event,) = events_for(stack, b["id"])
    assert (event["source"], event["detail-type"]) == ("kr-notifier", "Notification Failed")
    detail = event["detail"]
    assert (detail["status"], detail["channel_used"], detail["report_code"]) == ("failed", "sms", code)
    assert detail["metadata"] == {"tenant": "shop", "order": "77"}
    assert detail["recipient_masked"] == "010****5678" and "recipient" not in detail


@every_provider
def test_sms_lms_and_mms_are_asked_on_the_report_api_and_delivered(stack, clock):
    texts = {"sms": "짧은 문자", "lms": "긴 문자 " * 30}
    bodies = [sms(text=texts["sms"]), sms(text=texts["lms"]),
              sms(channel="mms", subject="쿠폰", attachments=[{"s3": "s3://kr-notifier-dev-attachments/samples/coupon.jpg"}])]  # fmt: skip
    send(stack, *bodies)
    clock.advance(FIRST_POLL)

    stack.poll(clock=clock)

    assert [(stack.record(b["id"])["status"], stack.record(b["id"])["delivered_via"]) for b in bodies] == [
        ("delivered", "sms"), ("delivered", "lms"), ("delivered", "mms"),
    ]  # fmt: skip
    assert stack.sandbox.requests_count().get(REPORT_KIND[stack.provider.name]) == 3


@every_provider
def test_a_report_not_ready_in_any_style_leaves_the_record_pending_until_it_is(stack, clock, style):
    # Given a sandbox that answers "not ready" in this style (SOLAPI: statusCode 2000 until half the
    # delay, then 3000), and reports ready 5 minutes after sending
    stack.sandbox.configure(report_delay_s=300, **({} if style == "statusCode" else {"report_pending": style}))
    b = sms()
    send(stack, b)

    # When the first poll comes a minute after the send
    clock.advance(FIRST_POLL)
    first = stack.poll(clock=clock)

    # Then the record is still sent, backed off by 2 minutes, and nothing was published
    rec = stack.record(b["id"])
    assert (rec["status"], rec["polls"], first["pending"]) == ("sent", 1, 1)
    assert rec["poll_note"].startswith(NOT_READY_NOTE[stack.provider.name])
    assert rec["next_poll_at"] == int(clock()) + 120
    assert events_for(stack, b["id"]) == []
    # And once the report is ready, the next due poll settles it
    clock.advance(300)
    stack.poll(clock=clock)
    assert stack.record(b["id"])["status"] == "delivered"
    assert [e["detail-type"] for e in events_for(stack, b["id"])] == ["Notification Delivered"]


def test_provider_errors_leave_the_record_pending_and_a_later_tick_settles_it(stack, clock):
    b = sms()
    send(stack, b)
    stack.sandbox.set_faults(error_5xx_rate=1.0)
    clock.advance(FIRST_POLL)

    broken = stack.poll(clock=clock)

    assert (broken["errors"], stack.record(b["id"])["status"]) == (1, "sent")
    assert stack.record(b["id"])["poll_note"] == "error http-503: provider HTTP 503"
    stack.sandbox.set_faults()
    clock.advance(120)
    stack.poll(clock=clock)
    assert stack.record(b["id"])["status"] == "delivered"


@every_provider
def test_a_report_that_never_comes_makes_the_record_unknown_after_72_hours(stack, clock):
    stack.sandbox.force_outcome("01012345678", pending=True)
    b = sms()
    send(stack, b)
    clock.advance(FIRST_POLL)
    stack.poll(clock=clock)
    assert stack.record(b["id"])["status"] == "sent"

    clock.advance(72 * 3600)
    summary = stack.poll(clock=clock)

    rec = stack.record(b["id"])
    assert (rec["status"], summary["unknown"]) == ("unknown", 1)
    assert rec["reason"].startswith("no final delivery report within 72 hours of sending")
    assert [e["detail-type"] for e in events_for(stack, b["id"])] == ["Notification Unknown"]
    # And it counts toward the metric the unknown-outcome alarm watches (namespace Notifier, service notifier)
    emf = [json.loads(line) for line in stack.log_stream.getvalue().splitlines() if line.startswith('{"_aws"')][-1]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Notifier"
    assert (emf["service"], emf["Unknown"]) == ("notifier", [1.0])


def test_a_scheduled_message_is_not_polled_before_its_send_time(stack, clock):
    # Given a message scheduled two hours ahead
    send_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 7200))
    b = sms(send_at=send_at)
    send(stack, b)

    # When the schedule fires every 10 minutes until its send time
    for _ in range(11):
        clock.advance(600)
        stack.poll(clock=clock)
    # Then no report was asked for
    assert stack.sandbox.requests_count().get("report", 0) == 0
    assert stack.record(b["id"])["status"] == "sent"

    # And after the send time (and the first poll's minute) it is
    clock.advance(1200)
    stack.poll(clock=clock)
    assert stack.sandbox.requests_count().get("report") == 1
    assert stack.record(b["id"])["status"] == "delivered"


# -- AlimTalk reports ----------------------------------------------------------------------------


def test_alimtalk_delivered_by_kakao(stack, clock):
    b = alimtalk("010-5555-0100")
    send(stack, b)
    clock.advance(FIRST_POLL)

    stack.poll(clock=clock)

    rec = stack.record(b["id"])
    assert (rec["status"], rec["delivered_via"], rec["fallback_used"], rec["report_code"]) == (
        "delivered", "alimtalk", False, "0",
    )  # fmt: skip
    assert stack.sandbox.requests_count().get("kko_report") == 1
    (event,) = events_for(stack, b["id"])
    assert (event["detail"]["delivered_via"], event["detail"]["fallback"]) == ("alimtalk", "provider")


def test_alimtalk_to_a_non_kakao_user_is_delivered_by_the_providers_fallback_sms(stack, clock):
    # Given a phone without KakaoTalk (RSLT A) whose fallback SMS gets through (MSG_RSLT 00); the
    # sandbox answers in the live server's mixed case: STATUS, RSLT upper, msg_rslt lower
    stack.sandbox.force_outcome("01055550101", rslt="A", msg_rslt="00")
    b = alimtalk("010-5555-0101")
    send(stack, b)
    clock.advance(FIRST_POLL)

    stack.poll(clock=clock)

    # Then the record is delivered, by the fallback SMS, and says so
    rec = stack.record(b["id"])
    assert (rec["status"], rec["delivered_via"], rec["fallback_used"], rec["report_code"]) == (
        "delivered", "sms", True, "A/00",
    )  # fmt: skip
    assert (rec["report_rslt"], rec["report_msg_rslt"], rec["report_status"]) == ("A", "00", "3")
    assert "NO_USER 카카오톡을 미사용자" in rec["report_reason"] and "E_OK 성공" in rec["report_reason"]
    (event,) = events_for(stack, b["id"])
    detail = event["detail"]
    assert (event["detail-type"], detail["fallback"], detail["fallback_used"]) == (
        "Notification Delivered", "provider", True,
    )  # fmt: skip
    assert detail["metadata"] == {"tenant": "shop"}


def test_alimtalk_and_its_fallback_both_failing_keep_both_reasons(stack, clock):
    stack.sandbox.force_outcome("01055550102", rslt="B", msg_rslt="E")
    b = alimtalk("010-5555-0102")
    send(stack, b)
    clock.advance(FIRST_POLL)

    stack.poll(clock=clock)

    # (the sandbox answers STATUS 4 when nothing reached the phone, as the live server did)
    rec = stack.record(b["id"])
    assert (rec["status"], rec["report_code"], rec.get("delivered_via")) == ("failed", "B/E", None)
    assert rec["report_status"] == "4"
    assert rec["report_reason"] == (
        "provider reported an error (STATUS 4); "
        "AlimTalk RSLT B: USER_BLOCKED_DELIVERY 알림톡 차단을 선택한 사용자; fallback SMS MSG_RSLT E: E_POWER_OFF 전원 꺼짐"
    )


def test_an_alimtalk_failing_in_the_report_with_status_4_fails_the_record(stack, clock):
    # Given an AlimTalk the provider accepts and then fails in its report: STATUS 4, RSLT U (the text did not
    # match the template), its fallback SMS failing too (MSG_RSLT F)
    stack.sandbox.force_outcome("01055550104", rslt="U", msg_rslt="F")
    b = alimtalk("010-5555-0104")
    send(stack, b)
    clock.advance(FIRST_POLL)

    stack.poll(clock=clock)

    # Then the record is failed, with both codes and the STATUS kept, and the application hears of it
    rec = stack.record(b["id"])
    assert (rec["status"], rec["report_code"], rec["report_status"]) == ("failed", "U/F", "4")
    assert "NO_MATCHED_TEMPLATE" in rec["report_reason"] and "E_ETC" in rec["report_reason"]
    assert [e["detail-type"] for e in events_for(stack, b["id"])] == ["Notification Failed"]


def test_an_alimtalk_report_not_ready_then_waiting_is_pending_until_it_settles(stack, clock):
    # Given a report delay of 10 minutes: not ready for 2.5, STATUS 1 to 5, STATUS 2 to 10, then the result
    stack.sandbox.configure(report_delay_s=600)
    b = alimtalk("010-5555-0103")
    send(stack, b)
    notes = []
    # When the poller comes at each record's backed-off due time (90 s, then +2, +5 and +10 minutes)
    for step in (FIRST_POLL, 120, 300, 600):
        clock.advance(step)
        stack.poll(clock=clock)
        rec = stack.record(b["id"])
        notes.append((rec["status"], rec.get("poll_note", "")))
    # Then the record stays sent through the not-ready reply and both waiting statuses, and is then delivered
    assert [status for status, _ in notes] == ["sent", "sent", "sent", "delivered"]
    assert notes[0][1].startswith("not ready")
    assert notes[1][1] == "STATUS 1 (waiting to be sent)"
    assert notes[2][1] == "STATUS 2 (sent, waiting for the result)"


# -- the sparse index ----------------------------------------------------------------------------


def _count_query_items(records_client: Any) -> tuple[dict[str, int], Any]:
    """Items and ScannedCount of every Query the poller's own DynamoDB client makes, as moto answered."""
    counts = {"queries": 0, "items": 0, "scanned": 0}

    def after_query(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        counts["queries"] += 1
        counts["items"] += parsed.get("Count", 0)
        counts["scanned"] += parsed.get("ScannedCount", 0)

    records_client.meta.events.register("after-call.dynamodb.Query", after_query)
    return counts, after_query


def test_a_tick_reads_only_the_pending_records_whatever_the_table_holds(stack, clock):
    from notifier.handlers import poller

    # Given 100 notifications the poller itself settled (so the index entries it removes are real)
    done = [sms() for _ in range(100)]
    send(stack, *done)
    clock.advance(FIRST_POLL)
    assert stack.poll(clock=clock)["delivered"] == 100
    # And 2 000 more terminal records, and 5 records waiting for their report
    stack.run_outbox()
    ddb, table = stack.aws.client("dynamodb"), stack.env["TABLE_NAME"]
    for i in range(0, 2000, 25):
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": serialize({"id": f"old-{n}", "status": "delivered", "cmid": str(10**19 + n)})}}
            for n in range(i, i + 25)
        ]})  # fmt: skip
    # (old records, whose events went out long ago: the outbox starts after them, as it would for them)
    assert stack.outbox is not None
    stack.outbox.skip_to_latest()
    stack.sandbox.configure(report_delay_s=3600)
    waiting = [sms() for _ in range(5)]
    send(stack, *waiting)
    client = poller.app().wiring.records._client
    counts, hook = _count_query_items(client)

    # When a tick runs
    clock.advance(FIRST_POLL)
    try:
        summary = stack.poll(clock=clock)
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", hook)

    # Then it read 5 items from moto's DynamoDB (one query per shard), and polled those 5
    assert counts == {"queries": 4, "items": 5, "scanned": 5}
    assert (summary["read"], summary["polled"], summary["pending"]) == (5, 5, 5)


# -- overlapping ticks ---------------------------------------------------------------------------


def test_overlapping_ticks_publish_one_event_per_terminal_transition(stack, clock):
    from notifier.handlers import poller

    # Given 12 delivered reports, and a second poller container besides the handler's
    bodies = [sms(to=f"010-5555-{1000 + i:04d}") for i in range(12)]
    send(stack, *bodies)
    clock.advance(FIRST_POLL)
    first = poller.app().poller
    second = PollerWiring.from_env(dict(os.environ)).poller()
    second.clock = clock
    # And report calls held until both ticks have read their first page, so both poll the same records
    both_in = threading.Event()
    arrived: set[str] = set()
    lock = threading.Lock()

    def held(name, fetch):
        def wrapper(record):
            with lock:
                arrived.add(name)
                if len(arrived) == 2:
                    both_in.set()
            assert both_in.wait(timeout=30)
            return fetch(record)

        return wrapper

    original = first.reports.fetch
    first.reports.fetch = held("handler", original)
    second.reports.fetch = held("second", second.reports.fetch)
    results: list[dict[str, Any]] = []
    try:
        threads = [
            threading.Thread(target=lambda: results.append(stack.poll(clock=clock))),
            threading.Thread(target=lambda: results.append(second.tick(lambda: 60.0).summary())),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        first.reports.fetch = original

    # Then every record was delivered once, and the bus got exactly one event per record
    assert all(stack.record(b["id"])["status"] == "delivered" for b in bodies)
    assert [stack.record(b["id"])["polls"] for b in bodies] == [1] * 12
    ids = {b["id"] for b in bodies}
    published = [e["detail"]["id"] for e in stack.events_published() if e["detail"]["id"] in ids]
    assert sorted(published) == sorted(ids)
    # And the two ticks did overlap: one of them lost the race for some records
    assert sum(r["delivered"] for r in results) == 12
    assert sum(r["raced"] for r in results) >= 1
