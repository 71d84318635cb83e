"""The published JSON Schema of the event (schema/event.schema.json) is the model's, and says what the model says.

Producers validate against the file; the dispatcher validates with the model. The file is generated
(`make schema`), so this test fails whenever the model changed and the file was not regenerated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError

from notifier.domain.event import json_schema, parse
from tests.unit.test_event import json_ish_events

jsonschema = pytest.importorskip("jsonschema")

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "event.schema.json"

# DESIGN.md, "The event", verbatim: a shape sample (its channel, alimtalk and attachments belong to
# different channels, which only the model's cross-field rules can tell; the schema checks the shape).
DESIGN_SAMPLE: dict[str, Any] = {
    "id": "order-1234-shipped",
    "channel": "auto",
    "to": "010-1234-5678",
    "text": "[Shop] 주문하신 상품이 발송되었습니다.",
    "subject": "배송 안내",
    "from": "0212345678",
    "to_name": "홍길동",
    "from_name": "Shop",
    "send_at": "2026-12-01T09:00:00+09:00",
    "alimtalk": {
        "template_code": "A1111",
        "variables": {"name": "홍길동"},
        "buttons": [{"type": "웹링크", "name": "배송조회", "url": "https://shop.example/o/1234"}],
        "fallback": "auto",
        "fallback_text": "...",
        "fallback_subject": "...",
    },
    "attachments": [{"s3": "s3://bucket/key.jpg"}],
    "test": False,
    "metadata": {"tenant": "shop", "order": "1234"},
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Any:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_the_schema_file_is_the_generated_schema_of_the_model():
    # Given the committed schema file and the schema the model generates now
    expected = json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
    # When they are compared
    actual = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else "(missing)"
    # Then they are byte for byte the same
    assert actual == expected, f"{SCHEMA_FILE} is out of date with notifier.domain.event: run make schema"


def test_the_schema_is_a_valid_draft_2020_12_schema(schema):
    # Given the schema file
    # When its meta-schema is checked
    jsonschema.Draft202012Validator.check_schema(schema)
    # Then it declares draft 2020-12 and its own id
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/event.schema.json")


def test_the_schema_requires_id_to_and_text_and_forbids_unknown_fields_at_every_level(schema):
    # Given the schema file
    # When its top level and its definitions are read
    # Then id, to and text are required, and no object takes properties it does not name
    assert schema["required"] == ["id", "to", "text"]
    assert schema["additionalProperties"] is False
    assert {name: d["additionalProperties"] for name, d in schema["$defs"].items()} == {
        "AlimTalk": False,
        "Attachment": False,
        "Button": False,
    }
    # And the sender is published under its wire name "from"
    assert "from" in schema["properties"]
    assert "from_" not in schema["properties"]


def test_the_design_sample_event_has_the_shape_the_schema_describes(validator):
    # Given DESIGN.md's sample event
    # When it is validated against the schema
    errors = list(validator.iter_errors(DESIGN_SAMPLE))
    # Then the schema finds nothing wrong with its shape
    assert [e.message for e in errors] == []


@pytest.mark.parametrize("field", ["id", "to", "text"])
def test_the_schema_rejects_an_event_missing_a_required_field(validator, field):
    # Given the sample without one required field
    event = {k: v for k, v in DESIGN_SAMPLE.items() if k != field}
    # When it is validated against the schema
    messages = [e.message for e in validator.iter_errors(event)]
    # Then the missing field is the one error
    assert messages == [f"'{field}' is a required property"]


def test_the_schema_rejects_a_misspelt_field_like_the_model(validator):
    # Given the sample with a typo'd field name
    event = {**DESIGN_SAMPLE, "chanel": "sms"}
    # When it is validated against the schema and parsed by the model
    messages = [e.message for e in validator.iter_errors(event)]
    # Then both reject it
    assert len(messages) == 1
    assert "'chanel' was unexpected" in messages[0]
    with pytest.raises(ValidationError):
        parse(event)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_ish_events())
def test_whatever_the_model_accepts_the_schema_accepts(validator, data):
    # Given any JSON-ish event
    # When both the model and the published schema judge it
    try:
        parse(data)
        model_accepts = True
    except ValidationError:
        model_accepts = False  # the model may be stricter: cross-field and byte rules are not in the schema
    schema_errors = [e.message for e in validator.iter_errors(data)]
    # Then whatever the model accepts the schema accepts too, so a producer validating first is never misled
    assert not model_accepts or schema_errors == []
