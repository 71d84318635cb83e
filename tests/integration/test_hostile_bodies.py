"""Hostile bodies through the queue and the real handler, against moto server and the sandbox (issue 9).

Every body ends as exactly one of: a send, or a recorded rejection whose reason names the rule. None
is retried or dead-lettered because of what it holds; no record is near DynamoDB's 400 KB, no event
near EventBridge's 256 KB; no log line carries a whole phone number.

Each class of the issue has a regression test with the probe's example, pushed through SQS and the
event source mapping; then a hypothesis fuzz per class through the real handler. HOSTILE_EXAMPLES
sets the examples per class (default 25, about half a minute in all on a loaded machine).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from notifier.aws.eventbridge import entry_of
from notifier.domain.limits import (
    DYNAMODB_ITEM_MAX_BYTES,
    EVENTBRIDGE_ENTRY_MAX_BYTES,
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_KEYS,
)
from tests.integration import test_dispatcher_over_http as over_http
from tests.integration.providers import APISTORE
from tests.sizes import entry_bytes, item_bytes

pytestmark = pytest.mark.integration

sqs_event = over_http.sqs_event


@pytest.fixture(scope="module")
def stack():
    # One provider: a hostile body is refused before any provider is called, or sent as a plain
    # message, which the dispatcher tests run against every provider.
    s = over_http.start_stack(APISTORE)
    yield s
    s.stop()


EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "25"))
SQS_MAX_BODY_BYTES = 256 * 1024


def new_id() -> str:
    return f"h-{uuid.uuid4().hex[:12]}"


def valid(**over: Any) -> dict[str, Any]:
    return {"id": new_id(), "to": "010-1234-5678", "text": "[Shop] 발송되었습니다.", **over}


def nested(depth: int, leaf: str = "1") -> str:
    opening = "".join('{"k":' if i % 2 else "[" for i in range(depth))
    closing = "".join("}" if i % 2 else "]" for i in reversed(range(depth)))
    return opening + leaf + closing


# ------------------------------------------------------------------ what every body must end as


def record_of(stack, message_id: str, body: str) -> dict[str, Any]:
    """The record a message ended as: under the body's id, or under the SQS message id when the body
    had no usable one; or, for a duplicate of an id seen before, the earlier message's record."""
    try:
        key = json.loads(body).get("id")
    except (ValueError, AttributeError, RecursionError):
        key = None
    by_id = stack.record(key) if isinstance(key, str) and key else None
    if by_id is not None and by_id.get("sqs_message_id") == message_id:
        return by_id
    record = stack.record(message_id) or by_id
    assert record is not None, f"no record for message {message_id}: {body[:300]!r}"
    return record


def assert_bounded_outcome(stack, record: dict[str, Any], rule: str | None) -> None:
    """A record that is sent, or rejected with a reason naming `rule` (a field, then the rule); it
    fits an item with room to spare, and so does the event it published."""
    assert record["status"] in ("sent", "rejected"), record
    if record["status"] == "rejected":
        field, sep, said = record["reason"].partition(": ")
        assert field and sep and said, record["reason"]
        if rule is not None:
            assert re.search(rule, record["reason"]), record["reason"]
    assert item_bytes(record) < DYNAMODB_ITEM_MAX_BYTES // 10
    assert entry_bytes(entry_of(record, "default")) < EVENTBRIDGE_ENTRY_MAX_BYTES // 10
    json.dumps(record, ensure_ascii=False).encode("utf-8")


def through_the_queue(stack, bodies: list[str]) -> dict[str, dict[str, Any]]:
    """Publish, drain with the event source mapping, and check that nothing was retried or
    dead-lettered; the records, by SQS message id."""
    assert all(len(b.encode("utf-8")) <= SQS_MAX_BODY_BYTES for b in bodies)
    stack.publish(bodies)
    outcomes = stack.drain(timeout_s=60)
    received = {mid for o in outcomes for mid in o.received}
    assert len(received) == len(bodies)
    assert [(o.failed, o.handler_error) for o in outcomes if o.failed or o.handler_error] == []
    assert stack.dlq_bodies() == []
    found = {r["sqs_message_id"]: r for r in stack.records() if r.get("sqs_message_id") in received}
    assert set(found) == received
    return found


# ------------------------------------------------------------------ the probe's examples, one per class


def test_bodies_nested_thousands_of_levels_deep_are_rejected_not_dead_lettered(stack):
    # Given the probe's deep bodies: in the id, metadata, AlimTalk variables, an unknown field, a top-level array
    deep = nested(3000)
    bodies = [
        '{"id": ' + deep + ', "to": "01012345678", "text": "x"}',
        json.dumps(valid())[:-1] + ', "metadata": ' + deep + "}",
        json.dumps(valid(channel="alimtalk"))[:-1]
        + ', "alimtalk": {"template_code": "A1", "variables": '
        + deep
        + "}}",
        json.dumps(valid())[:-1] + ', "nested": ' + deep + "}",
        deep,
    ]
    # When they go through the queue
    found = through_the_queue(stack, bodies)
    # Then each is one rejection naming the depth rule (3000 levels, and the objects around them)
    for record in found.values():
        assert record["status"] == "rejected"
        assert re.fullmatch(
            f"body: objects and arrays nested 300[0-2] levels deep; an event nests at most {MAX_DEPTH}",
            record["reason"],
        )
        assert_bounded_outcome(stack, record, "levels deep")


def test_bodies_deep_enough_to_break_json_loads_are_rejected_under_either_limit(stack):
    # Given top-level arrays deep enough for json.loads itself to raise RecursionError (10 000 levels
    # does here), wherever the handler might parse them: one within the body size limit, one beyond
    # it (120 000 levels, 240 KB: still within SQS's 256 KiB)
    bodies = ["[" * 10_000 + "]" * 10_000, "[" * 120_000 + "]" * 120_000]
    # When they go through the queue
    found = through_the_queue(stack, bodies)
    # Then each is one rejection naming its rule, and nothing was retried
    reasons = sorted(r["reason"] for r in found.values())
    assert [r["status"] for r in found.values()] == ["rejected", "rejected"]
    assert reasons[0] == f"body: 240000 bytes of UTF-8; an event must be at most {MAX_BODY_BYTES} bytes"
    assert reasons[1].startswith("body: objects and arrays nested 10000 levels deep")


def test_bodies_of_twenty_thousand_keys_or_soft_hyphen_keys_are_rejected_with_a_bounded_reason(stack):
    # Given 20 000 unknown keys (within SQS's 256 KiB), and 60 keys of 2000 soft hyphens each
    many = json.dumps(valid() | {f"k{i}": 1 for i in range(20_000)})
    hyphens = json.dumps(valid() | {"\u00ad" * 2000 + str(i): 1 for i in range(60)}, ensure_ascii=False)
    # and, under the body limit, 30 keys of 700 soft hyphens: the reason would quote each of them
    quoted = json.dumps(valid() | {"\u00ad" * 700 + str(i): 1 for i in range(30)}, ensure_ascii=False)
    assert len(quoted.encode()) <= MAX_BODY_BYTES
    # When they go through the queue
    found = through_the_queue(stack, [many, hyphens, quoted])
    # Then each is rejected; the oversized ones by size, the last naming the unknown fields, cut and saying so
    reasons = sorted(r["reason"] for r in found.values())
    assert reasons[0].startswith("'\\xad\\xad") and reasons[0].endswith(" characters in all]")
    assert reasons[1:] == [
        f"body: {n} bytes of UTF-8; an event must be at most {MAX_BODY_BYTES} bytes"
        for n in sorted((len(many.encode()), len(hyphens.encode())))
    ]
    for record in found.values():
        assert_bounded_outcome(stack, record, "bytes of UTF-8|unknown field")


def test_a_lone_surrogate_in_metadata_is_rejected_naming_the_field(stack):
    # Given the probe's body: a lone surrogate in metadata (an escape in the JSON, as SQS carries it)
    e = valid()
    body = json.dumps(e)[:-1] + ', "metadata": {"note": "\\ud800"}}'
    # When it goes through the queue
    [record] = through_the_queue(stack, [body]).values()
    # Then it is rejected under its id, naming the field, with an encodable copy of the body
    assert record["id"] == e["id"] and record["status"] == "rejected"
    assert record["reason"].startswith("metadata.note: has a lone surrogate (U+D800) at position 1")
    assert record["raw_body"] == body
    assert_bounded_outcome(stack, record, "lone surrogate")


def test_a_rejected_to_written_with_plus_82_never_appears_whole_in_the_logs(stack):
    # Given the probe's rejection: `to` written +821054002442 in an event with an unknown field, and the
    # number as an id and as a metadata key too
    start = len(stack.logs.getvalue())
    bodies = [
        json.dumps(valid(to="+821054002442", unknown=1)),
        json.dumps(valid(id="+821054002442", to="+82 10 5400 2442", text="")),
        json.dumps(valid(metadata={"+82-10-5400-2442": [1]})),
    ]
    # When they go through the queue
    found = through_the_queue(stack, bodies)
    # Then they are rejected, and the log lines they wrote show the number masked only
    logs = stack.logs.getvalue()[start:]
    assert logs.count('"message":"rejected"') == 3
    assert "54002442" not in logs and "5400 2442" not in logs and "5400-2442" not in logs
    assert "+8210****2442" in logs
    for record in found.values():
        assert_bounded_outcome(stack, record, None)


def test_a_repeated_to_is_rejected_and_not_sent(stack):
    # Given the probe's body: `to` twice, the last one sendable
    e = valid()
    body = '{"id": "' + e["id"] + '", "to": "bad", "to": "01012345678", "text": "x"}'
    sent_before = len(stack.sandbox.messages())
    # When it goes through the queue
    [record] = through_the_queue(stack, [body]).values()
    # Then it is rejected naming the key, and nothing reached the provider
    assert record["id"] == e["id"] and record["status"] == "rejected"
    assert record["reason"].startswith("to: duplicate key, given 2 times")
    assert len(stack.sandbox.messages()) == sent_before
    assert_bounded_outcome(stack, record, "duplicate key")


# ------------------------------------------------------------------ the fuzz, one strategy per class

PLACES = ("id", "to", "text", "metadata", "metadata_key", "variables", "unknown", "unknown_key")


def _place(value_json: str, where: str) -> str:
    """A body with `value_json` (JSON text) put in one of the places a producer's value can go."""
    e = valid()
    if where == "variables":
        e |= {"channel": "alimtalk", "alimtalk": {"template_code": "A1111", "variables": {"name": "__V__"}}}
    elif where in ("metadata", "metadata_key"):
        e["metadata"] = {"k": "__V__"} if where == "metadata" else {"__K__": 1}
    elif where == "unknown":
        e["unknown"] = "__V__"
    elif where == "unknown_key":
        e["__K__"] = 1
    else:
        e[where] = "__V__"
    text = json.dumps(e, ensure_ascii=False)
    return text.replace('"__V__"', value_json).replace('"__K__"', value_json)


def _keyed(value_json: str) -> str:
    """A value usable as a key: a JSON string (anything else becomes one)."""
    return value_json if value_json.startswith('"') else json.dumps(value_json)


def deep_bodies() -> st.SearchStrategy[str]:
    def build(depth: int, where: str, top: bool) -> str:
        if top:
            return nested(depth)
        return _place(nested(depth) if not where.endswith("_key") else '"k"', where)

    return st.builds(
        build,
        st.integers(MAX_DEPTH + 1, 5000),
        st.sampled_from([p for p in PLACES if not p.endswith("_key")]),
        st.booleans(),
    )


def big_bodies() -> st.SearchStrategy[str]:
    # Many keys, or long keys of characters repr() escapes (the reason quotes them), up to SQS's limit
    many = st.integers(MAX_KEYS - 50, 20_000).map(lambda n: json.dumps(valid() | {f"k{i}": 1 for i in range(n)}))
    long_keys = st.builds(
        lambda ch, length, n: json.dumps(valid() | {ch * length + str(i): 1 for i in range(n)}, ensure_ascii=False),
        st.sampled_from(["\u00ad", "\u200b", "\x01", "😀", "똠", "\u2028"]),
        st.integers(100, 3000),
        st.integers(1, 60),
    )
    return st.one_of(many, long_keys).filter(lambda b: len(b.encode()) <= SQS_MAX_BODY_BYTES)


def surrogate_bodies() -> st.SearchStrategy[str]:
    lone = st.integers(0xD800, 0xDFFF).map(chr)
    value = st.builds(lambda a, s, b: json.dumps(a + s + b), st.text(max_size=5), lone, st.text(max_size=5))
    return st.builds(lambda v, where: _place(_keyed(v), where), value, st.sampled_from(PLACES))


def duplicate_bodies() -> st.SearchStrategy[str]:
    def build(key: str, first: str, second: str, where: str) -> str:
        pair = f"{json.dumps(key)}: {first}, {json.dumps(key)}: {second}"
        body = _place('{"__PAIR__": 0}', where) if where != "top" else json.dumps(valid())[:-1] + ', "__PAIR__": 0}'
        return body.replace('"__PAIR__": 0', pair)

    scalar = st.sampled_from(['"bad"', '"01012345678"', "1", "null", "[]", "{}"])
    return st.builds(
        build,
        st.sampled_from(["to", "id", "text", "name", "k", "channel", "x" * 50]),
        scalar,
        scalar,
        st.sampled_from(["top", "metadata", "unknown", "variables"]),
    )


def _phone_forms(middle: str, last: str) -> list[tuple[str, str]]:
    """Each written form with the middle digits it shows (the 02 landline form takes 3 of them)."""
    forms = [
        f"010{middle}{last}",
        f"010-{middle}-{last}",
        f"010 {middle} {last}",
        f"010.{middle}.{last}",
        f"(010) {middle}-{last}",
        f"+8210{middle}{last}",
        f"+82 10 {middle} {last}",
        f"+82-10-{middle}-{last}",
        f"+82 (0)10 {middle} {last}",
        f"82-10-{middle}-{last}",
        f"02-{middle}-{last}",
        f"031.{middle}.{last}",
    ]
    return [(f, middle) for f in forms] + [(f"(02) {middle[1:]}-{last}", middle[1:])]


@st.composite
def phone_bodies(draw) -> tuple[str, str, str]:
    """A body quoting a number in one written form somewhere a log line may echo it; with the number's
    middle and last digits, to look for in the logs."""
    middle = str(draw(st.integers(1000, 9999)))
    last = str(draw(st.integers(1000, 9999)))
    form, middle = draw(st.sampled_from(_phone_forms(middle, last)))
    around = draw(st.sampled_from([("", ""), ("tel:", ""), ("'", "'"), ("번호 ", "로"), ("\n", "\t"), ("x-", "-y")]))
    written = around[0] + form + around[1]
    where = draw(st.sampled_from(PLACES))
    body = _place(json.dumps(written, ensure_ascii=False), where)
    if draw(st.booleans()):  # also break the event, so it is a rejection whose reason is logged
        body = body[:-1] + ', "oops": 1}'
    return body, middle, last


def _fuzz(stack, bodies: list[str], rule: str | None) -> str:
    """Run `bodies` as one batch through the real handler; check every Done-means figure; the logs."""
    start = len(stack.logs.getvalue())
    batch = sqs_event(stack, *bodies)
    resp = stack.handler(batch, stack.context())
    # Not one message is retried because of its body (the sandbox has no faults)
    assert resp == {"batchItemFailures": []}
    for message, body in zip(batch["Records"], bodies, strict=True):
        record = record_of(stack, message["messageId"], body)
        event(record["status"])  # the mix of outcomes, in --hypothesis-show-statistics
        assert_bounded_outcome(stack, record, rule if record["status"] == "rejected" else None)
    return stack.logs.getvalue()[start:]


FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


HOSTILE = {
    "depth": (deep_bodies(), "levels deep"),
    "size": (big_bodies(), "bytes of UTF-8|keys in all|unknown field"),
    "surrogate": (surrogate_bodies(), "lone surrogate"),
    "duplicate_key": (duplicate_bodies(), "duplicate key"),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
@FUZZ
@given(data=st.data())
def test_fuzz_a_hostile_body_of_each_class_ends_as_one_rejection_naming_its_rule(stack, kind, data):
    # Given a batch of bodies of one class, When the real handler takes it, Then (in _fuzz) none is
    # retried and each is a bounded record, rejected naming the rule; and none reached the provider
    strategy, rule = HOSTILE[kind]
    bodies = data.draw(st.lists(strategy, min_size=1, max_size=3), label="bodies")
    sent_before = len(stack.sandbox.messages())
    _fuzz(stack, bodies, rule)
    assert len(stack.sandbox.messages()) == sent_before


@FUZZ
@given(cases=st.lists(phone_bodies(), min_size=1, max_size=3))
def test_fuzz_a_phone_number_in_any_form_anywhere_is_never_whole_in_the_logs(stack, cases):
    logs = _fuzz(stack, [body for body, _, _ in cases], None)
    for _, middle, last in cases:
        # The middle digits never show next to the last four (a separator or two between them at most)
        assert not re.search(rf"(?<![0-9]){middle}\D{{0,3}}{last}(?![0-9])", logs), (middle, last)
