"""The report poller use case with in-memory fakes: what a tick reads, writes and publishes.

Records are created in the shape the dispatcher leaves them in `sent` (cmid, channel_used,
poll_shard, next_poll_at, sent_at); one test sends through the real Dispatcher to pin that contract.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from notifier.domain.record import Change
from notifier.domain.reports import Final, NoReport, Pending, Report, poll_shard
from notifier.ports import DuePage, Fetched
from notifier.usecases.dispatch import Dispatcher, Inbound, Settings
from notifier.usecases.poll import Poller, PollSettings
from tests.fakes import Clock, InMemoryRecords, ScriptedProvider, accepted, published

DELIVERED = Final("delivered", "4100", "전달", "sms", report_time="20261122180501", codes={"call_status": "4100"})
WRONG_NUMBER = Final("failed", "4410", "잘못된번호", codes={"call_status": "4410"})
NOT_READY = Pending("not ready (result is null)")
MINUTE = 60


class Reports:
    """The report API: a scripted answer per cmid (the last one repeats), every call kept."""

    def __init__(self, default: Report = NOT_READY, on_fetch: Callable[[dict[str, Any]], None] | None = None):
        self.script: dict[str, list[Report]] = {}
        self.default = default
        self.on_fetch = on_fetch
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def answer(self, cmid: str, *answers: Report) -> None:
        self.script[cmid] = list(answers)

    def fetch(self, record: dict[str, Any]) -> Fetched:
        if self.on_fetch:
            self.on_fetch(record)
        with self.lock:
            self.calls.append(str(record["cmid"]))
            answers = self.script.get(str(record["cmid"]))
            if not answers:
                return Fetched(self.default, 5.0)
            return Fetched(answers.pop(0) if len(answers) > 1 else answers[0], 5.0)


class CountingRecords(InMemoryRecords):
    """Counts every item a tick reads from the store: what DynamoDB would bill."""

    def __init__(self) -> None:
        super().__init__()
        self.items_read = 0

    def due(self, shard: str, now: int, limit: int, cursor: Any = None) -> DuePage:
        page = super().due(shard, now, limit, cursor)
        self.items_read += page.scanned
        return page

    def get(self, record_id: str) -> dict[str, Any] | None:
        self.items_read += 1
        return super().get(record_id)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sent(store: InMemoryRecords, rid: str, clock: Clock, *, cmid: str | None = None, **over: Any) -> dict[str, Any]:
    """A record as the dispatcher leaves it after the provider accepted it."""
    item = {
        "id": rid,
        "status": "sent",
        "channel_requested": "auto",
        "channel_used": "sms",
        "recipient": "010-1234-5678",
        "cmid": cmid or f"20261122{zlib.crc32(rid.encode()):012d}",
        "attempts": 1,
        "accepted_at": iso(clock.now),
        "sent_at": iso(clock.now),
        "metadata": {"tenant": "shop"},
        "poll_shard": poll_shard(rid, 4),
        "next_poll_at": int(clock.now) + MINUTE,
        **over,
    }
    store.create(item)
    return item


def remaining(seconds: float = 60.0) -> Callable[[], float]:
    return lambda: seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> CountingRecords:
    return CountingRecords()


class StreamEvents:
    """The events the application receives: what the outbox publishes from the store's stream."""

    def __init__(self, store: InMemoryRecords) -> None:
        self.store = store

    @property
    def published(self) -> list[dict[str, Any]]:
        return published(self.store)


@pytest.fixture
def events(store) -> StreamEvents:
    return StreamEvents(store)


def poller(store, reports, events, clock, **settings: Any) -> Poller:
    return Poller(records=store, reports=reports, settings=PollSettings(**settings), clock=clock)


# -- outcomes ------------------------------------------------------------------------------------


def test_a_delivered_report_settles_the_record_leaves_the_index_and_tells_the_application(store, events, clock):
    # Given a sent record whose report says delivered
    item = sent(store, "order-1", clock)
    reports = Reports()
    reports.answer(item["cmid"], DELIVERED)
    clock.advance(MINUTE)

    # When a tick runs
    result = poller(store, reports, events, clock).tick(remaining())

    # Then the record is delivered with the report's code and reason, and no longer in the index
    record = store.get("order-1")
    assert (record["status"], record["report_code"], record["report_reason"]) == ("delivered", "4100", "전달")
    assert (record["delivered_via"], record["report_call_status"], record["polls"]) == ("sms", "4100", 1)
    assert record["reason"] == "delivered by SMS (report 4100)"
    assert record["reported_at"] == iso(clock.now)
    assert "poll_shard" not in record and "next_poll_at" not in record
    # And one event carries the id, status, channel, reason and the producer's metadata
    (event,) = events.published
    assert (event["id"], event["status"], event["channel_used"]) == ("order-1", "delivered", "sms")
    assert event["metadata"] == {"tenant": "shop"} and event["report_code"] == "4100"
    assert (result.delivered, result.polled, result.read) == (1, 1, 1)


def test_a_failed_report_keeps_the_code_and_the_korean_reason(store, events, clock):
    item = sent(store, "order-2", clock)
    reports = Reports()
    reports.answer(item["cmid"], WRONG_NUMBER)
    clock.advance(MINUTE)

    result = poller(store, reports, events, clock).tick(remaining())

    record = store.get("order-2")
    assert (record["status"], record["report_code"], record["reason"]) == ("failed", "4410", "report 4410: 잘못된번호")
    assert [e["status"] for e in events.published] == ["failed"]
    assert result.failed == 1


def test_a_report_not_ready_reschedules_the_record_with_back_off_and_publishes_nothing(store, events, clock):
    sent(store, "order-3", clock)
    clock.advance(MINUTE)

    result = poller(store, Reports(), events, clock).tick(remaining())

    record = store.get("order-3")
    assert record["status"] == "sent"
    assert (record["next_poll_at"], record["polls"]) == (int(clock.now) + 2 * MINUTE, 1)
    assert record["poll_note"] == "not ready (result is null)"
    assert record["poll_shard"] in {"0", "1", "2", "3"}
    assert events.published == []
    assert (result.pending, result.delivered) == (1, 0)


def test_a_provider_error_is_retried_later_like_a_pending_report(store, events, clock):
    sent(store, "order-4", clock)
    clock.advance(MINUTE)

    result = poller(store, Reports(NoReport("http-503", "provider HTTP 503")), events, clock).tick(remaining())

    record = store.get("order-4")
    assert (record["status"], record["poll_note"]) == ("sent", "error http-503: provider HTTP 503")
    assert (result.errors, result.pending, events.published) == (1, 0, [])


def test_polls_follow_the_back_off_until_the_report_comes(store, events, clock):
    # Given a record whose report is ready only 20 minutes after the send
    start = clock.now
    item = sent(store, "slow", clock)
    polled_at: list[int] = []
    reports = Reports(on_fetch=lambda r: polled_at.append(int((clock.now - start) // MINUTE)))
    reports.answer(item["cmid"], NOT_READY, NOT_READY, NOT_READY, NOT_READY, DELIVERED)
    p = poller(store, reports, events, clock)

    # When the poller ticks every minute for an hour
    for _ in range(60):
        clock.advance(MINUTE)
        p.tick(remaining())

    # Then it asked at 1, 3, 8, 18 minutes (not ready) and at 48 (delivered), and never again
    assert polled_at == [1, 3, 8, 18, 48]
    assert store.get("slow")["status"] == "delivered"
    assert len(events.published) == 1


def test_a_record_without_a_final_report_after_72_hours_becomes_unknown(store, events, clock):
    # Given a record whose report never comes
    start = clock.now
    sent(store, "lost", clock)
    p = poller(store, Reports(), events, clock)

    # When the poller ticks every minute for 73 hours
    for _ in range(73 * 60):
        clock.advance(MINUTE)
        p.tick(remaining())

    # Then it is unknown, out of the index, with the 72-hour reason, and was published once
    record = store.get("lost")
    assert record["status"] == "unknown"
    assert record["reason"] == (
        "no final delivery report within 72 hours of sending (last answer: not ready (result is null))"
    )
    assert "next_poll_at" not in record and "poll_shard" not in record
    assert [(e["id"], e["status"]) for e in events.published] == [("lost", "unknown")]
    # And at the 72nd hour exactly, not at the next 30-minute back-off step after it
    assert record["reported_at"] == iso(start + 72 * 3600)


def test_a_final_report_at_the_last_poll_still_wins_over_the_expiry(store, events, clock):
    item = sent(store, "late", clock)
    reports = Reports()
    reports.answer(item["cmid"], DELIVERED)
    store.apply("late", Change(set={"next_poll_at": int(clock.now) + 73 * 3600}))
    clock.advance(73 * 3600)

    poller(store, reports, events, clock).tick(remaining())

    assert store.get("late")["status"] == "delivered"


def test_a_sent_record_without_cmid_is_settled_unknown_without_a_provider_call(store, events, clock):
    store.create({"id": "no-cmid", "status": "sent", "poll_shard": "1", "next_poll_at": int(clock.now)})
    reports = Reports()

    poller(store, reports, events, clock).tick(remaining())

    assert store.get("no-cmid")["status"] == "unknown"
    assert reports.calls == []


def test_one_record_that_breaks_does_not_end_the_tick_for_the_others(store, events, clock):
    for i in range(5):
        sent(store, f"r{i}", clock)
    broken = store.get("r2")["cmid"]

    def explode(record: dict[str, Any]) -> None:
        if record["cmid"] == broken:
            raise RuntimeError("bug")

    clock.advance(MINUTE)
    result = poller(store, Reports(DELIVERED, on_fetch=explode), events, clock).tick(remaining())

    assert (result.delivered, result.errors) == (4, 1)
    assert store.get("r2")["status"] == "sent"


# -- scheduled messages --------------------------------------------------------------------------


def test_a_scheduled_message_is_not_polled_before_its_send_time(store, events, clock):
    # Given a message sent through the real dispatcher, to be delivered tomorrow at 09:00 KST
    send_at = datetime.fromtimestamp(clock.now + 86400, UTC).replace(minute=0, second=0, microsecond=0)
    body = {"id": "tomorrow", "to": "010-1234-5678", "text": "내일 방문 예정입니다", "send_at": send_at.isoformat()}
    dispatcher = Dispatcher(records=store, provider=ScriptedProvider(accepted()), settings=Settings("0212345678", "apistore"),
                            clock=clock)  # fmt: skip
    dispatcher.handle(Inbound("m-1", json.dumps(body, ensure_ascii=False), 1, clock.now + 30))
    assert store.get("tomorrow")["status"] == "sent"
    reports = Reports(DELIVERED)
    p = poller(store, reports, events, clock)

    # When the poller ticks every minute until just before the send time
    while clock.now < send_at.timestamp():
        clock.advance(MINUTE)
        p.tick(remaining())
    # Then it never asked for the report
    assert reports.calls == []

    # And a minute after the send time it does, and the record settles
    clock.advance(MINUTE)
    p.tick(remaining())
    assert len(reports.calls) == 1
    assert store.get("tomorrow")["status"] == "delivered"


# -- the sparse index ----------------------------------------------------------------------------


def test_a_tick_reads_the_pending_records_not_the_table(store, events, clock):
    # Given 10 000 records that went through the poller to a terminal status
    for i in range(10_000):
        sent(store, f"done-{i}", clock)
    clock.advance(MINUTE)
    first = poller(store, Reports(DELIVERED), events, clock, concurrency=8).tick(remaining())
    assert first.delivered == 10_000
    # And 5 records waiting for their report
    for i in range(5):
        sent(store, f"pending-{i}", clock, next_poll_at=int(clock.now))
    store.items_read = 0

    # When a tick runs
    result = poller(store, Reports(), events, clock).tick(remaining())

    # Then it read the 5 pending records and nothing else
    assert (result.read, store.items_read, result.polled) == (5, 5, 5)
    assert len(store.items) == 10_005


# -- overlapping ticks ---------------------------------------------------------------------------


def test_overlapping_ticks_settle_each_record_once_and_publish_one_event_each(store, events, clock):
    # Given 20 records with final reports, and two ticks that read them all before either writes
    for i in range(20):
        sent(store, f"o{i}", clock)
    clock.advance(MINUTE)
    both_read = threading.Barrier(2)
    first_fetch: set[int] = set()

    def hold(record: dict[str, Any]) -> None:
        tid = threading.get_ident()
        if tid not in first_fetch:
            first_fetch.add(tid)
            both_read.wait(timeout=10)

    reports = Reports(DELIVERED, on_fetch=hold)
    results = []

    def tick() -> None:
        results.append(poller(store, reports, events, clock, concurrency=1).tick(remaining()))

    # When both run at once
    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then every record was settled once: one event per record, the other tick's writes lost the race
    assert sorted(e["id"] for e in events.published) == sorted(f"o{i}" for i in range(20))
    assert sum(r.delivered for r in results) == 20
    assert sum(r.raced for r in results) == sum(r.polled for r in results) - 20
    assert all(store.get(f"o{i}")["polls"] == 1 for i in range(20))


def test_overlapping_ticks_back_a_pending_record_off_once(store, events, clock):
    sent(store, "p", clock)
    clock.advance(MINUTE)
    both_fetched = threading.Barrier(2)
    reports = Reports(NOT_READY, on_fetch=lambda r: both_fetched.wait(timeout=10))
    results = []

    def tick() -> None:
        results.append(poller(store, reports, events, clock, concurrency=1).tick(remaining()))

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    record = store.get("p")
    assert (record["polls"], record["next_poll_at"]) == (1, int(clock.now) + 2 * MINUTE)
    assert sorted((r.pending, r.raced) for r in results) == [(0, 1), (1, 0)]


def test_a_record_settled_by_someone_else_after_it_was_read_is_left_alone(store, events, clock):
    item = sent(store, "gone", clock)
    clock.advance(MINUTE)

    def settle_first(record: dict[str, Any]) -> None:
        store.apply("gone", Change(set={"status": "delivered"}, remove=("poll_shard", "next_poll_at")))

    reports = Reports(WRONG_NUMBER, on_fetch=settle_first)
    result = poller(store, reports, events, clock).tick(remaining())

    # Then the tick wrote nothing: the one event is the other writer's transition
    assert store.get("gone")["status"] == "delivered"
    assert (result.raced, [e["status"] for e in events.published]) == (1, ["delivered"])
    assert item["cmid"] in reports.calls


# -- time ----------------------------------------------------------------------------------------


def test_the_tick_stops_taking_work_before_its_time_out_and_the_next_tick_takes_the_rest(store, events, clock):
    # Given 100 due records, a 60 s invocation, and report calls that each use 1 s of it
    for i in range(100):
        sent(store, f"t{i:03d}", clock)
    clock.advance(MINUTE)
    left = {"s": 60.0}

    def one_second(record: dict[str, Any]) -> None:
        left["s"] -= 1.0

    p = poller(store, Reports(DELIVERED, on_fetch=one_second), events, clock, concurrency=1, call_budget_s=15)

    # When a tick runs
    result = p.tick(lambda: left["s"])

    # Then it took work only while at least max(10 s, 20%, the call budget) = 15 s was left
    assert (result.delivered, result.stopped_early) == (46, True)
    assert left["s"] == 14.0
    # And the other 54 are untouched, still due, and the next tick takes them
    untouched = [r for r in store.items.values() if r["status"] == "sent"]
    assert len(untouched) == 54 and all(r["next_poll_at"] == int(clock.now) - 0 for r in untouched)
    left["s"] = 60.0
    assert p.tick(lambda: left["s"]).delivered == 46


@pytest.mark.parametrize(
    ("budget", "margin"),
    [(60, 15.0), (300, 60.0), (20, 15.0)],
)
def test_the_margin_is_the_largest_of_10_s_a_fifth_and_the_call_budget(budget: float, margin: float) -> None:
    assert PollSettings(call_budget_s=15).margin_s(budget) == margin
    assert PollSettings(call_budget_s=0).margin_s(30) == 10.0


def test_report_calls_run_concurrently_up_to_the_bound(store, events, clock):
    # Given 40 due records and a report API that records how many calls are in flight at once
    for i in range(40):
        sent(store, f"c{i}", clock)
    clock.advance(MINUTE)
    in_flight, peak, lock = [0], [0], threading.Lock()
    gate = threading.Barrier(8)

    def track(record: dict[str, Any]) -> None:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        gate.wait(timeout=30)  # released only when 8 calls are in flight together
        with lock:
            in_flight[0] -= 1

    # When a tick runs with a bound of 8
    result = poller(store, Reports(DELIVERED, on_fetch=track), events, clock, concurrency=8).tick(remaining())

    # Then 8 calls were in flight together, never more
    assert peak[0] == 8
    assert result.delivered == 40


def test_shards_are_taken_in_turn_so_none_waits_behind_a_big_one(store, events, clock):
    # Given shard "0" with 30 due records and shard "3" with 1, and time for only 10 calls
    for i in range(30):
        sent(store, f"big-{i}", clock, poll_shard="0")
    sent(store, "small", clock, poll_shard="3")
    clock.advance(MINUTE)
    left = {"s": 25.0}
    p = poller(store, Reports(DELIVERED, on_fetch=lambda r: left.update(s=left["s"] - 1)), events, clock,
               concurrency=1, page_size=5, call_budget_s=15)  # fmt: skip

    p.tick(lambda: left["s"])

    # Then the small shard's record was polled in the first round, not after the big shard's backlog
    assert store.get("small")["status"] == "delivered"
