"""Issue 11's "Done means", for the dispatcher: a dispatcher process killed at any step between a
claim and its send leaves no `unknown` record whose message never reached the provider; no id is sent
twice; nothing is lost.

Each kill point (tests/integration/crash_dispatcher.py) gets a batch of its own: an SMS, an MMS (an
attachment read), an AlimTalk (a template read) and an AlimTalk whose template is not approved (the
app's fallback SMS). The batch is received from the queue, handed to a dispatcher in a separate
process that dies at the point (os._exit, like SIGKILL: no cleanup), and left in flight. Once the
dead invocations' leases are over, the messages come back (the visibility is cut short, as the local
event source does for failed messages) and the real handler works off the redeliveries; then the
report poller ticks. What the sandbox accepted is what reached the provider.

Runs against both providers, moto server and the sandbox over real HTTP.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from devstack.killprobe import sends_per_id
from devstack.stack import ATTACHMENT_BUCKET, LocalStack
from tests.integration.crash_dispatcher import DIED, POINTS, READ_TIMEOUT_S
from tests.integration.providers import PROVIDERS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = "님, 주문하신 상품이 발송되었습니다.\n배송 현황은 아래 버튼에서 확인하세요."  # template A1111 after #{name}
COUPON = "님께만 드리는 특별 할인 쿠폰!"  # template R3333 (반려: not approved) after #{name}
BEFORE_THE_SEND = ("after-first-claim", "before-mark", "before-mark-on-last-delivery", "after-app-fallback-write")
LAST = "before-mark-on-last-delivery"
CRASH_ID = re.compile(r"cr[0-9a-f]{8}-[a-z-]+-(?:sms|mms|talk|fallback)")


def batch(run: str, point: str) -> list[str]:
    ids = {k: f"cr{run}-{point}-{k}" for k in ("sms", "mms", "talk", "fallback")}
    events: list[dict[str, Any]] = [
        {"id": ids["sms"], "channel": "sms", "to": "010-2000-0001", "text": f"probe {ids['sms']}"},
        {"id": ids["mms"], "channel": "mms", "to": "010-2000-0002", "subject": "probe", "text": f"probe {ids['mms']}",
         "attachments": [{"s3": f"s3://{ATTACHMENT_BUCKET}/samples/coupon.jpg"}]},
        {"id": ids["talk"], "channel": "alimtalk", "to": "010-2000-0003", "text": ids["talk"] + SHIPPED,
         "alimtalk": {"template_code": "A1111", "variables": {"name": ids["talk"], "order": "1"}}},
        {"id": ids["fallback"], "channel": "alimtalk", "to": "010-2000-0004", "text": ids["fallback"] + COUPON,
         "alimtalk": {"template_code": "R3333", "variables": {"name": ids["fallback"]}}},
    ]  # fmt: skip
    return [json.dumps(e, ensure_ascii=False) for e in events]


def receive(stack: LocalStack, n: int) -> list[dict[str, Any]]:
    """The n messages just published, held invisible long enough for every kill point to run."""
    sqs = stack.aws.client("sqs")
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while len(got) < n and time.monotonic() < deadline:
        resp = sqs.receive_message(
            QueueUrl=stack.queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=600,
            MessageSystemAttributeNames=["All"],
        )
        got += resp.get("Messages", [])
    assert len(got) == n, f"received {len(got)} of {n}"
    return got


def accepted_ids(stack: LocalStack, provider: str) -> dict[str, int]:
    """How many messages the sandbox accepted per record id (each text carries its id). SOLAPI's own
    fallback SMS of an AlimTalk is part of that AlimTalk's one send, not a second one."""
    with urllib.request.urlopen(f"{stack.sandbox.url}/_sandbox/messages?provider={provider}", timeout=10) as resp:
        return dict(sends_per_id(json.loads(resp.read()), CRASH_ID))


def wait_for(condition, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module", params=PROVIDERS, ids=str)
def crashed(request) -> dict[str, Any]:
    provider = request.param
    stack = LocalStack.start(parameters=dict(provider.parameters), log_stream=io.StringIO())
    try:
        run = uuid.uuid4().hex[:8]
        env = {
            **os.environ,
            # time_needed_ms (connect + read + 2 s) must fit the short invocation, or nothing is claimed.
            "PROVIDER_CONNECT_TIMEOUT": "1",
            "PROVIDER_READ_TIMEOUT": str(READ_TIMEOUT_S),
        }
        exits: dict[str, tuple[int, str]] = {}
        held: list[dict[str, Any]] = []
        ids: dict[str, list[str]] = {}
        for point in POINTS:
            bodies = batch(run, point)
            ids[point] = [json.loads(b)["id"] for b in bodies]
            stack.publish(bodies)
            messages = receive(stack, len(bodies))
            event = stack.event_source().lambda_event(messages)
            if point == LAST:
                for r in event["Records"]:
                    r["attributes"]["ApproximateReceiveCount"] = stack.env["MAX_RECEIVE_COUNT"]
            else:
                held += messages
            # Given a dispatcher process that dies at this point of the batch
            proc = subprocess.run(
                [sys.executable, "-m", "tests.integration.crash_dispatcher", point],
                input=json.dumps(event),
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
            exits[point] = (proc.returncode, proc.stderr[-2000:])
            if point == LAST:
                # Its next receive would move it to the DLQ: SQS will not deliver it again.
                sqs = stack.aws.client("sqs")
                for m in messages:
                    sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=m["ReceiptHandle"])
        # When the dead invocations' leases are over and SQS gives their messages back
        every = [rid for point_ids in ids.values() for rid in point_ids]

        def leases_over() -> bool:
            now = time.time()
            return all(float((stack.record(rid) or {}).get("lease_until", 0)) < now for rid in every)

        wait_for(leases_over, "the dead dispatchers' leases to end")
        sqs = stack.aws.client("sqs")
        for i in range(0, len(held), 10):
            chunk = held[i : i + 10]
            sqs.change_message_visibility_batch(
                QueueUrl=stack.queue_url,
                Entries=[
                    {"Id": str(j), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for j, m in enumerate(chunk)
                ],
            )
        stack.drain()
        stack.poll()
        # The poller's tick a minute past the leases sweeps the last delivery's claims
        stack.poll(clock=lambda: time.time() + 120)
        swept = {rid: stack.record(rid) for rid in ids[LAST]}
        accepted_when_swept = accepted_ids(stack, provider.name)
        # and an operator redrives the DLQ: the same bodies, new messages
        stack.publish(batch(run, LAST))
        stack.drain()
        records = {rid: stack.record(rid) for rid in every}
        # The outbox over every write so far (the stream keeps them): the events the application got
        events = [e for e in stack.events_published() if e["detail"]["id"] in records]
        return {"exits": exits, "ids": ids, "records": records, "accepted": accepted_ids(stack, provider.name),
                "swept": swept, "accepted_when_swept": accepted_when_swept, "events": events}  # fmt: skip
    finally:
        stack.stop()


@pytest.mark.parametrize("point", list(POINTS))
def test_the_dispatcher_process_died_at_the_named_point(crashed, point):
    # Then the process ended at its kill point, not elsewhere and not by finishing the batch
    code, stderr = crashed["exits"][point]
    assert code == DIED, stderr


@pytest.mark.parametrize("point", list(POINTS))
def test_no_record_ends_unknown_unless_the_provider_got_its_message(crashed, point):
    records, accepted = crashed["records"], crashed["accepted"]
    ids = crashed["ids"][point]
    if point == "after-provider-reply":
        # Its AlimTalk call runs beside the texts' and may be cut after its mark, before its bytes left:
        # that is `unknown` as documented ("the request may have left"), so it is not counted here.
        ids = [rid for rid in ids if not rid.endswith("-talk")]
    for rid in ids:
        # Then every unknown record's message did reach the provider
        if records[rid]["status"] == "unknown":
            assert accepted.get(rid, 0) == 1, (rid, records[rid])


@pytest.mark.parametrize("point", list(POINTS))
def test_no_id_is_sent_twice_and_nothing_is_left_in_flight(crashed, point):
    records, accepted = crashed["records"], crashed["accepted"]
    for rid in crashed["ids"][point]:
        # Then at most one message per id reached the provider, and each record is settled
        assert accepted.get(rid, 0) <= 1, rid
        assert records[rid] is not None and records[rid]["status"] != "sending", (rid, records[rid])


@pytest.mark.parametrize("point", BEFORE_THE_SEND)
def test_a_kill_before_the_send_loses_nothing_the_redelivery_sends_each_once(crashed, point):
    records, accepted = crashed["records"], crashed["accepted"]
    for rid in crashed["ids"][point]:
        # Then every message of the batch reached the provider exactly once, after the redelivery
        assert accepted.get(rid, 0) == 1, (rid, records[rid])
        assert records[rid]["status"] in ("sent", "delivered", "failed"), (rid, records[rid])


def test_a_kill_after_the_provider_replied_is_unknown_and_never_sent_again(crashed):
    records, accepted = crashed["records"], crashed["accepted"]
    sms, mms = crashed["ids"]["after-provider-reply"][:2]
    # Then the texts the provider accepted, whose answer was never recorded, are unknown and sent once
    assert [records[rid]["status"] for rid in (sms, mms)] == ["unknown", "unknown"]
    assert [accepted.get(rid, 0) for rid in (sms, mms)] == [1, 1]


def test_a_kill_before_the_mark_on_the_last_delivery_is_swept_failed_and_dead_lettered_without_a_send(crashed):
    for rid in crashed["ids"][LAST]:
        # Then the poller's sweep made it failed, for a redrive, and nothing had reached the provider
        swept = crashed["swept"][rid]
        assert (swept["status"], swept.get("dead_lettered")) == ("failed", True), swept
        assert "poll_shard" not in swept and crashed["accepted_when_swept"].get(rid, 0) == 0


TERMINAL = ("delivered", "failed", "rejected", "unknown")


def test_every_terminal_record_has_exactly_its_events_deduplicated_by_id(crashed):
    records = crashed["records"]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for e in crashed["events"]:
        by_id.setdefault(e["detail"]["event_id"], []).append(e["detail"])
    swept = {rid for rid in crashed["ids"][LAST]}
    for rid, record in records.items():
        # Then a record that ended terminal has the event of that transition, whichever process wrote it
        reached = {record["status"]} & set(TERMINAL)
        if rid in swept:
            reached.add("failed")  # the sweep's `failed` (dead-lettered), before the redrive sent it
        expected = {f"{rid}:{status}" for status in reached}
        got = {event_id for event_id in by_id if event_id.startswith(f"{rid}:")}
        assert got == expected, (rid, record["status"], sorted(got))
    for event_id, copies in by_id.items():
        # and the copies of one event (the stream may deliver it again) say the same thing
        assert all(c == copies[0] for c in copies), event_id
