"""Reading a queue message's body before the event model does: bounded in size, depth and keys,
unambiguous (no repeated key) and Unicode text (no lone surrogate). Whatever the body, `read`
answers with the object or a reason naming the rule; it never raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.body import BodyProblem, nesting, read
from notifier.domain.limits import MAX_BODY_BYTES, MAX_DEPTH, MAX_KEYS


def event(**over) -> dict:
    return {"id": "order-1", "to": "010-1234-5678", "text": "발송되었습니다", **over}


def nested(depth: int, leaf: str = "1") -> str:
    """`depth` levels of alternating arrays and objects around `leaf`."""
    opening = "".join('{"k":' if i % 2 else "[" for i in range(depth))
    closing = "".join("}" if i % 2 else "]" for i in reversed(range(depth)))
    return opening + leaf + closing


def test_a_valid_event_is_read_as_its_object():
    # Given the body of a valid event, When it is read, Then it is the object, unchanged
    assert read(json.dumps(event(), ensure_ascii=False)) == event()


# ------------------------------------------------------------------ size


def test_a_body_of_exactly_the_size_limit_is_read_and_one_byte_more_is_rejected():
    # Given bodies of MAX_BODY_BYTES and MAX_BODY_BYTES + 1 bytes of UTF-8 (a 3-byte Hangul counted as 3)
    base = json.dumps(event(metadata={"pad": ""}), ensure_ascii=False)
    room = MAX_BODY_BYTES - len(base.encode())
    fits = base.replace('"pad": ""', '"pad": "' + "가" * (room // 3) + "x" * (room % 3) + '"')
    over = fits.replace('"pad": "', '"pad": "x')
    assert len(fits.encode()) == MAX_BODY_BYTES
    # When they are read
    # Then the first is an object (the model judges its metadata) and the second is rejected by size
    assert isinstance(read(fits), dict)
    assert read(over) == BodyProblem(
        f"body: {MAX_BODY_BYTES + 1} bytes of UTF-8; an event must be at most {MAX_BODY_BYTES} bytes"
    )


# ------------------------------------------------------------------ depth


@pytest.mark.parametrize(
    "where",
    ["id", "metadata", "alimtalk_variables", "unknown_field", "top_level_array"],
)
def test_a_body_nested_thousands_of_levels_deep_is_rejected_by_depth_not_a_recursion_error(where):
    # Given a body nested 3000 levels deep in each place the probe tried
    deep = nested(3000)
    body = {
        "id": '{"id": ' + deep + ', "to": "01012345678", "text": "x"}',
        "metadata": '{"id": "d-1", "to": "01012345678", "text": "x", "metadata": ' + deep + "}",
        "alimtalk_variables": '{"id": "d-1", "channel": "alimtalk", "to": "01012345678", "text": "x", '
        '"alimtalk": {"template_code": "A1", "variables": ' + deep + "}}",
        "unknown_field": '{"id": "d-1", "to": "01012345678", "text": "x", "nested": ' + deep + "}",
        "top_level_array": deep,
    }[where]
    # When it is read
    got = read(body)
    # Then it is a rejection naming the depth and the limit
    assert isinstance(got, BodyProblem)
    assert f"levels deep; an event nests at most {MAX_DEPTH}" in got.reason
    assert got.reason.startswith("body: objects and arrays nested ")


def test_the_depth_limit_is_inclusive():
    # Given a body exactly MAX_DEPTH levels deep (the body itself is level 1) and one a level deeper
    at_limit = '{"id": "x", "m": ' + nested(MAX_DEPTH - 1) + "}"
    too_deep = '{"id": "x", "m": ' + nested(MAX_DEPTH) + "}"
    # Then the first is read and the second is rejected naming its depth
    assert isinstance(read(at_limit), dict)
    assert read(too_deep) == BodyProblem(
        f"body: objects and arrays nested {MAX_DEPTH + 1} levels deep; an event nests at most {MAX_DEPTH}"
    )


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("{}", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"a": "[[[[[[[[[[[[[[[["}', 1),  # brackets inside strings do not nest
        ('{"a": "\\"[[[[[[[[[[[[[", "b": [[]]}', 3),  # nor after an escaped quote
        ("[[[[", 4),  # invalid JSON still gets an estimate
        ('[[ "abc', 2),  # an unterminated string runs to the end
        ('[[ "abc\\', 2),  # even when the text ends in a backslash
        ('"' + '\\"' * 5000 + "[[", 0),  # escaped quotes only: one string, whatever its length
        ("", 0),
    ],
)
def test_nesting_counts_brackets_outside_strings(text, depth):
    assert nesting(text) == depth


# ------------------------------------------------------------------ keys


def test_a_body_of_more_keys_than_the_limit_is_rejected_naming_the_limit():
    # Given a body of MAX_KEYS keys in all (top level and metadata) and one with a key more
    def body(n_meta: int) -> str:
        return json.dumps(event(metadata={f"k{i}": 1 for i in range(n_meta)}))

    at_limit = body(MAX_KEYS - 4)  # id, to, text, metadata
    # Then the first is read (the model judges the metadata's size) and the second is rejected
    assert isinstance(read(at_limit), dict)
    assert read(body(MAX_KEYS - 3)) == BodyProblem(
        f"body: more than {MAX_KEYS} keys; an event has at most {MAX_KEYS} keys in all"
    )


# ------------------------------------------------------------------ duplicate keys


def test_a_repeated_top_level_key_is_rejected_naming_it_and_the_id_is_kept():
    # Given the probe's body: `to` twice, the second one valid
    got = read('{"id": "dup-1", "to": "bad", "to": "01012345678", "text": "x"}')
    # Then it is rejected naming the key, and the id (not in doubt) is kept to record it under
    assert got == BodyProblem(
        "to: duplicate key, given 2 times (JSON parsers disagree on which value counts, so the event is ambiguous)",
        {"id": "dup-1", "to": "01012345678", "text": "x"},
    )


def test_a_repeated_id_leaves_no_id_to_record_the_rejection_under():
    got = read('{"id": "a", "id": "b", "to": "01012345678", "text": "x"}')
    assert isinstance(got, BodyProblem) and got.parsed is None
    assert got.reason.startswith("id: duplicate key, given 2 times")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"id": "x", "metadata": {"a": 1, "a": 2}}', "metadata.a"),
        ('{"id": "x", "alimtalk": {"variables": {"name": "1", "name": "2"}}}', "alimtalk.variables.name"),
        (
            '{"id": "x", "alimtalk": {"buttons": [{"name": "a"}, {"type": "1", "type": "2"}]}}',
            "alimtalk.buttons[1].type",
        ),
        ('{"id": "x", "m": {"\\n": 1, "\\n": 2}}', "m.'\\n'"),
    ],
)
def test_a_repeated_key_at_any_depth_is_rejected_naming_its_path(body, path):
    got = read(body)
    assert isinstance(got, BodyProblem)
    assert got.reason.startswith(f"{path}: duplicate key, given 2 times")


# ------------------------------------------------------------------ lone surrogates


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            '{"id": "s-1", "metadata": {"note": "ab\\ud800"}}',
            "metadata.note: has a lone surrogate (U+D800) at position 3",
        ),
        ('{"id": "s-1", "text": "\\udfff"}', "text: has a lone surrogate (U+DFFF) at position 1"),
        ('{"id": "s-1", "metadata": {"\\udc00k": 1}}', "metadata: key '\\udc00k' has a lone surrogate (U+DC00)"),
        ('{"id": "s-1", "alimtalk": {"buttons": [{"name": "\\ud83d"}]}}', "alimtalk.buttons[0].name: has a lone"),
    ],
)
def test_a_lone_surrogate_anywhere_is_rejected_naming_its_path(body, reason):
    # Given a body whose JSON escapes decode to a lone surrogate (UTF-8 cannot encode it)
    got = read(body)
    # Then it is rejected naming where, and the reason itself is encodable
    assert isinstance(got, BodyProblem) and got.reason.startswith(reason)
    got.reason.encode("utf-8")


def test_a_surrogate_pair_is_an_ordinary_character():
    # Given an emoji written as its escaped surrogate pair, Then it is one character, not a problem
    assert read('{"id": "s-1", "text": "\\ud83d\\ude00"}') == {"id": "s-1", "text": "😀"}


# ------------------------------------------------------------------ not JSON, not an object


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "body: not valid JSON (Expecting value: line 1 column 1 (char 0))"),
        ("", "body: not valid JSON (Expecting value: line 1 column 1 (char 0))"),
        ("[1, 2]", "body: must be a JSON object, got list"),
        ('"text"', "body: must be a JSON object, got str"),
        ("1" * 5000, "body: not valid JSON (Exceeds the limit (4300 digits) for integer string conversion"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_rejected_saying_so(body, reason):
    got = read(body)
    assert isinstance(got, BodyProblem) and got.reason.startswith(reason) and got.parsed is None


JSON_TEXT = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
    max_leaves=20,
).map(json.dumps)


@given(st.one_of(st.text(), JSON_TEXT, st.builds(lambda t, i: t[:i] + "\ud800" + t[i:], JSON_TEXT, st.integers(0))))
def test_any_text_is_read_as_an_object_or_a_problem_with_a_reason_and_never_raises(text):
    got = read(text)
    assert isinstance(got, dict) or (isinstance(got, BodyProblem) and got.reason.partition(": ")[2])
