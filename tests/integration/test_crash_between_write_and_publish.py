"""Crashes between a terminal write and its event (issue 11, "Done means"), in separate processes.

Each crashing invocation is the real handler in a child process (tests/integration/crash_child.py) that
dies with os._exit right at the crash point: (a) a dispatcher right after its terminal write, (b) a poller
right after its terminal write, (c) the outbox right after PutEvents, before it returns. The emulated event
sources see the invocation fail, as Lambda would, and carry on with the real in-process handlers.
Afterwards every terminal record has its event, and every copy of an event has the same event_id: after
deduplication by event_id, each record has exactly the events of its transitions, none missing.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import LocalStack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = "홍길동님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."  # template A1111
OUTCOMES = ("delivered", "failed", "rejected", "unknown")


class Died(RuntimeError):
    """The invocation's process ended without answering: Lambda reports a function error."""


def in_child(role: str, crash_at: str, **env: str) -> Callable[[dict[str, Any], Any], Any]:
    """A handler that runs one invocation of the real `role` handler in a new process crashing at `crash_at`."""

    def invoke(event: dict[str, Any], context: Any) -> Any:
        with tempfile.TemporaryDirectory() as tmp:
            paths = [Path(tmp, n) for n in ("event.json", "context.json", "response.json")]
            paths[0].write_text(json.dumps(event), encoding="utf-8")
            paths[1].write_text(json.dumps({
                "function_name": context.function_name, "memory_limit_in_mb": context.memory_limit_in_mb,
                "invoked_function_arn": context.invoked_function_arn, "aws_request_id": context.aws_request_id,
                "remaining_ms": context.get_remaining_time_in_millis(),
            }), encoding="utf-8")  # fmt: skip
            done = subprocess.run(
                [sys.executable, "-m", "tests.integration.crash_child", role, *map(str, paths)],
                cwd=ROOT,
                env={**os.environ, "NOTIFIER_CRASH_AT": crash_at, **env},
                capture_output=True,
                timeout=120,
            )
            if done.returncode != 0:
                raise Died(f"{role} invocation died (exit {done.returncode})")
            return json.loads(paths[2].read_text(encoding="utf-8"))

    return invoke


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    s = LocalStack.start(log_stream=io.StringIO(), sandbox_config={"report_delay_s": 30})
    s.sandbox.set_outcome_mix("sms", {"4100": 1})
    yield s
    s.stop()


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def expected_event_ids(stack: LocalStack, ids: list[str]) -> set[str]:
    """What each record's transitions must have produced: its outcome (every record here made one)."""
    found = set()
    for rid in ids:
        record = stack.record(rid)
        assert record is not None, rid
        status = record["status"]
        assert status in OUTCOMES or (status == "sent" and record.get("test")), (rid, status)
        found.add(f"{rid}:{'tested' if status == 'sent' else status}")
    return found


def finished(stack: LocalStack, rid: str) -> bool:
    record = stack.record(rid) or {}
    return record.get("status") in OUTCOMES or (record.get("status") == "sent" and bool(record.get("test")))


def events_of(stack: LocalStack, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    copies: dict[str, list[dict[str, Any]]] = {}
    for e in stack.events_published():
        if e["detail"]["id"] in ids:
            copies.setdefault(e["detail"]["event_id"], []).append(e)
    return copies


def test_a_dispatcher_killed_right_after_its_terminal_write_loses_no_event(stack):
    # Given a rejected event and an AlimTalk test send (an outcome written by create, one by update)
    rejected, tested = uid("crash-bad"), uid("crash-test")
    stack.publish([
        json.dumps({"id": rejected, "to": "1", "text": "x"}),
        json.dumps({"id": tested, "channel": "alimtalk", "to": "010-5555-0003", "text": SHIPPED, "test": True,
                    "alimtalk": {"template_code": "A1111", "variables": {"name": "홍길동", "order": "1234"}}},
                   ensure_ascii=False),
    ])  # fmt: skip
    # When each is taken by dispatchers that die right after writing an outcome, until both are written
    crashing = stack.event_source(handler=in_child("dispatcher", "after-terminal-write"), batch_size=1)
    deaths = 0
    for _ in range(10):
        if all(finished(stack, rid) for rid in (rejected, tested)):
            break
        outcome = crashing.poll_once()
        deaths += bool(outcome.handler_error and "died" in outcome.handler_error)
    # And SQS redelivers them to a healthy dispatcher, which finds finished records
    stack.drain()

    # Then each outcome was written by a dispatcher that died at once, and each record has its event
    assert deaths == 2
    ids = [rejected, tested]
    copies = events_of(stack, ids)
    assert set(copies) == expected_event_ids(stack, ids) == {f"{rejected}:rejected", f"{tested}:tested"}


def test_a_poller_killed_right_after_each_terminal_write_loses_no_event(stack):
    # Given three sent SMS whose reports are ready: two delivered, one to a wrong number
    stack.sandbox.force_outcome("01055559001", call_status="4410")
    ids = [uid("crash-poll") for _ in range(3)]
    stack.publish(
        json.dumps({"id": rid, "to": f"010-5555-900{i}", "text": "안녕하세요"}, ensure_ascii=False)
        for i, rid in enumerate(ids)
    )
    stack.drain()
    now = time.time() + 90
    stack.sandbox.clock = lambda: now

    # When pollers tick, each dying right after its first terminal write, until none is left to settle
    deaths = 0
    while any(stack.record(rid)["status"] == "sent" for rid in ids):
        with pytest.raises(Died):
            # One report call at a time, so each death follows exactly one terminal write
            one_at_a_time = in_child("poller", "after-terminal-write", NOTIFIER_CLOCK=str(now), POLL_CONCURRENCY="1")
            stack.poll(clock=lambda: now, handler=one_at_a_time)
        deaths += 1
        assert deaths <= len(ids), "a poller died without settling a record"

    # Then every record was settled by a poller that died at once, and each still has its event
    assert deaths == len(ids)
    copies = events_of(stack, ids)
    assert set(copies) == expected_event_ids(stack, ids)
    assert sorted(k.rsplit(":", 1)[1] for k in copies) == ["delivered", "delivered", "failed"]


def test_an_outbox_killed_after_put_events_is_retried_and_every_copy_has_the_same_id(stack):
    # Given an outbox that has caught up, then three rejected records
    stack.run_outbox()
    ids = [uid("crash-outbox") for _ in range(3)]
    stack.publish(json.dumps({"id": rid, "to": "1", "text": "x"}) for rid in ids)
    stack.drain()
    # When its next invocation dies right after PutEvents went through, and later ones are healthy
    assert stack.outbox is not None
    healthy = stack.outbox.handler
    crashing = in_child("outbox", "after-put-events")
    calls: list[int] = []

    def first_dies(event: dict[str, Any], context: Any) -> Any:
        calls.append(len(event["Records"]))
        return (crashing if len(calls) == 1 else healthy)(event, context)

    stack.outbox.handler = first_dies
    try:
        outcomes = stack.run_outbox()
    finally:
        stack.outbox.handler = healthy

    # Then the stream delivered the writes again after the death, and nothing went to the outbox DLQ
    assert outcomes[0].handler_error and "died" in outcomes[0].handler_error and len(calls) >= 2
    assert not any(o.dead_lettered for o in outcomes)
    # And each event arrived at least twice (the dead invocation's PutEvents went through), every copy
    # with the same event_id and the same detail, so deduplication by event_id leaves exactly one each
    copies = events_of(stack, ids)
    assert set(copies) == expected_event_ids(stack, ids)
    for event_id, same in copies.items():
        assert len(same) >= 2, event_id
        assert len({json.dumps(e["detail"], sort_keys=True) for e in same}) == 1, event_id
