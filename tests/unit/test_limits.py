"""Every string the dispatcher stores or publishes is bounded, so the largest record a body can make
fits a DynamoDB item (400 KB) and its event fits EventBridge (256 KB), and both can be encoded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notifier.aws.eventbridge import entry_of
from notifier.domain.limits import (
    DYNAMODB_ITEM_MAX_BYTES,
    EVENTBRIDGE_ENTRY_MAX_BYTES,
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_KEYS,
    METADATA_MAX_BYTES,
    RAW_BODY_MAX_CHARS,
    REASON_MAX_CHARS,
    bounded,
)
from notifier.ports import SendResult
from tests.fakes import ScriptedProvider, published
from tests.sizes import entry_bytes, item_bytes
from tests.unit.test_dispatch import make, msg

WIDE = "😀"  # 4 bytes of UTF-8: the most a character costs DynamoDB and EventBridge


def test_a_short_string_is_kept_as_it_is():
    assert bounded("rejected: to is required", REASON_MAX_CHARS) == "rejected: to is required"


def test_a_long_string_is_cut_to_the_limit_and_says_how_long_it_was():
    # Given a reason of 326 138 characters (the probe's largest)
    reason = "x" * 326_138
    # When it is bounded to 2000 characters
    got = bounded(reason, 2000)
    # Then it is 2000 characters long, and ends saying it was cut and from what
    assert len(got) == 2000
    assert got.endswith(" ... [cut: 326138 characters in all]") and got.startswith("xxxx")


def test_a_lone_surrogate_is_escaped_so_the_string_can_be_encoded():
    got = bounded("note: \ud800 and 😀", 100)
    assert got == "note: \\ud800 and 😀"
    got.encode("utf-8")


def _largest_metadata() -> dict[str, str]:
    """Valid metadata of exactly METADATA_MAX_BYTES as JSON, all in 4-byte characters."""
    meta = {"m": ""}
    room = METADATA_MAX_BYTES - len(json.dumps(meta, ensure_ascii=False).encode())
    meta["m"] = WIDE * (room // 4) + "x" * (room % 4)
    assert len(json.dumps(meta, ensure_ascii=False).encode()) == METADATA_MAX_BYTES
    return meta


def _fill(body: dict, key: str) -> str:
    """`body` with `key` grown in 4-byte characters until the body is just under MAX_BODY_BYTES."""
    base = len(json.dumps({**body, key: ""}, ensure_ascii=False).encode())
    return json.dumps({**body, key: WIDE * ((MAX_BODY_BYTES - base) // 4)}, ensure_ascii=False)


WORST = {
    # a body over the size limit: kept as its first characters
    "oversized": "[" + json.dumps(WIDE * 200_000) + "]",
    # unknown fields named in 4-byte characters: the reason lists every one of them
    "unknown_keys": json.dumps(
        {"id": WIDE * 128, "to": "01012345678", "text": "x", "metadata": _largest_metadata()}
        | {WIDE * 900 + str(i): 1 for i in range(15)},
        ensure_ascii=False,
    ),
    # metadata the model refuses, kept as text
    "bad_metadata": _fill({"id": WIDE * 128, "to": "bad", "text": "x"}, "metadata"),
    # a valid id and metadata with the longest possible invalid text quoted back in part
    "bad_to": _fill({"id": WIDE * 128, "metadata": _largest_metadata(), "text": "x"}, "to"),
    # a repeated key with a usable id: recorded under the id, with the raw body
    "duplicate": '{"id": "' + WIDE * 128 + '", "to": 1, "to": 2, "x": "' + WIDE * 16_000 + '"}',
}


@pytest.mark.parametrize("name", list(WORST))
def test_the_largest_rejection_a_body_can_make_fits_an_item_and_an_event(name):
    # Given the body that makes the largest record of its kind
    d, records, _, clock = make()
    # When it is dispatched
    out = d.handle(msg(WORST[name], clock=clock))
    # Then it is rejected, and the record and its event are within AWS's limits, with room to spare
    assert (out.action, out.kind) == ("ack", "rejected")
    [record] = records.items.values()
    [event] = published(records)
    assert item_bytes(record) < DYNAMODB_ITEM_MAX_BYTES // 10
    assert entry_bytes(entry_of(event, "default")) < EVENTBRIDGE_ENTRY_MAX_BYTES // 10
    assert len(record["reason"]) <= REASON_MAX_CHARS
    assert len(record.get("raw_body", "")) <= RAW_BODY_MAX_CHARS
    json.dumps(record, ensure_ascii=False).encode("utf-8")


def test_a_provider_refusal_quoting_a_huge_text_is_stored_bounded():
    # Given a provider whose refusal message quotes a 300 000-character text back
    refusal = SendResult("rejected", "300", "Parameter Error: " + WIDE * 300_000)
    d, records, _, clock = make(ScriptedProvider(refusal))
    # When a valid event is refused
    d.handle(msg({"id": "big-refusal", "to": "01012345678", "text": "안내"}, clock=clock))
    # Then the record keeps a bounded reason that says it was cut, and fits an item
    record = records.get("big-refusal")
    assert record["status"] == "rejected" and record["reason"].endswith(" ... [cut: 300017 characters in all]")
    assert len(record["reason"]) == len(record["last_error"]) == REASON_MAX_CHARS
    assert item_bytes(record) < DYNAMODB_ITEM_MAX_BYTES // 10


def test_a_long_key_is_quoted_shortened_so_the_rule_after_it_always_shows():
    # Given an event with unknown fields named by 700 soft hyphens each (repr writes each as \xad)
    d, records, _, clock = make()
    body = {"id": "keys-1", "to": "01012345678", "text": "x"} | {"\u00ad" * 700 + str(i): 1 for i in range(30)}
    # When it is rejected
    d.handle(msg(body, clock=clock))
    # Then the reason quotes each key shortened, saying how long it was, and names the rule after it
    reason = records.get("keys-1")["reason"]
    first = reason.split("; ")[0]
    assert first.startswith("'\\xad\\xad") and first.endswith(
        "characters in all]: unknown field (a typo? unknown fields are rejected)"
    )
    assert len(first) < 200 and len(reason) <= REASON_MAX_CHARS


def test_the_readme_states_the_limits_the_code_enforces():
    # Given the README's Limits section
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Limits", 1)[1].split("\n## ", 1)[0]
    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip() for line in section.splitlines() if line.startswith("| ")
    }
    # Then each figure is the constant's
    assert rows["body size"].startswith(f"{MAX_BODY_BYTES // 1024} KiB ({MAX_BODY_BYTES:,} bytes".replace(",", " "))
    assert rows["nesting"].startswith(f"{MAX_DEPTH} levels")
    assert rows["keys"].startswith(f"{MAX_KEYS} in the whole body")
    assert rows["`metadata`"].startswith(f"{METADATA_MAX_BYTES} bytes")
    assert f"a reason (and `last_error`) at most {REASON_MAX_CHARS} characters" in " ".join(section.split())
