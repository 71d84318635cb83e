"""The README's examples are facts: every JSON event in it goes through the local stack (the real
dispatcher and poller handlers, moto, the sandbox) and ends the way the line under it says."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from devstack.localaws import load_template
from devstack.run import DELIVERED_MIX, FastForward
from devstack.stack import ROOT, LocalStack

pytestmark = pytest.mark.e2e

README = (ROOT / "README.md").read_text(encoding="utf-8")
# The line right under an example event, e.g. "→ ends `delivered`, by AlimTalk."
CLAIM = re.compile(r"→ ends `(?P<status>[a-z]+)`(?:, by (?P<via>SMS|LMS|MMS|AlimTalk))?")
TERMINAL = {"delivered", "failed", "rejected", "unknown"}


def examples(readme: str) -> list[tuple[dict[str, Any], str]]:
    """Every ```json block that is an event (it has an "id"), with the first line after the block."""
    found = []
    for block, after in re.findall(r"```json\n(.*?)```\n+([^\n]*)", readme, re.S):
        value = json.loads(block)  # any JSON block that does not parse is a broken example too
        if isinstance(value, dict) and "id" in value:
            found.append((value, after))
    return found


def claimed(after: str) -> tuple[str, str | None]:
    m = CLAIM.match(after)
    assert m, f"an example event must be followed by its outcome ('→ ends `status`, by SMS'), found: {after!r}"
    return m["status"], m["via"].lower() if m["via"] else None


def test_the_readme_has_example_events_each_with_a_claimed_outcome():
    found = examples(README)
    # Given the README's examples: the main event and the AlimTalk one at least
    assert {e["channel"] for e, _ in found} >= {"auto", "alimtalk"}
    # Then each says how it ends, and no two share an id (the second would be dropped as a duplicate)
    for _, after in found:
        claimed(after)
    ids = [e["id"] for e, _ in found]
    assert len(ids) == len(set(ids)), ids


def test_a_missing_claim_or_a_broken_example_is_caught():
    # Given README texts with an example that claims nothing, and one that is not JSON
    unclaimed = '```json\n{"id": "x", "to": "010-1234-5678", "text": "hi"}\n```\n\nSome prose.\n'
    broken = '```json\n{"id": "x", "to": \n```\n→ ends `delivered`, by SMS.\n'

    # Then both are refused
    with pytest.raises(AssertionError, match="must be followed by its outcome"):
        claimed(examples(unclaimed)[0][1])
    with pytest.raises(json.JSONDecodeError):
        examples(broken)


@pytest.fixture(scope="module", params=["apistore", "solapi"])
def outcomes(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """Every README example event sent as its producer would, dispatched, then polled to its end,
    through each provider (the template's Provider parameter)."""
    clock = FastForward()
    with LocalStack.start(sandbox_config={"report_delay_s": 5}, parameters={"Provider": request.param}) as stack:
        stack.sandbox.clock = clock
        # Every report says delivered unless the message itself cannot be: what a README promises.
        for kind, mix in DELIVERED_MIX.items():
            stack.sandbox.set_outcome_mix(kind, mix)
        stack.publish(json.dumps(event, ensure_ascii=False) for event, _ in examples(README))
        stack.drain(timeout_s=120)
        for _ in range(10):
            if not any(r["status"] == "sent" for r in stack.records()):
                break
            clock.advance(stack.poll_interval_s())
            stack.poll(clock=clock)
        records = stack.records()
        # every example that was sent went through the provider asked for
        assert {r["provider"] for r in records if r.get("provider")} == {request.param}
        return {r["id"]: r for r in records}


@pytest.mark.parametrize("index", range(len(examples(README))))
def test_each_readme_example_ends_as_the_readme_says(outcomes, index):
    # Given an example event from the README and the outcome written under it
    event, after = examples(README)[index]
    status, via = claimed(after)

    # When it has gone through the local stack (the module fixture sent them all)
    record = outcomes.get(event["id"])

    # Then its record ends with that status, by that channel
    assert record is not None, f"{event['id']}: no record"
    assert status in TERMINAL, f"{event['id']}: claims `{status}`, which is not a final status"
    assert record["status"] == status, (event["id"], record.get("status"), record.get("reason"))
    if via is not None:
        assert record.get("delivered_via") == via, (event["id"], record.get("delivered_via"), record.get("reason"))


def test_the_readme_parameter_table_lists_every_template_parameter_with_its_default():
    # Given the template's parameters and the README's configuration table
    parameters = load_template(ROOT / "template.yaml")["Parameters"]
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]*) \|", section, re.M))

    # Then every parameter has a row, and the row's default is the template's
    missing = [name for name in parameters if name not in rows]
    assert not missing, f"template parameters missing from the README's table: {missing}"
    for name, spec in parameters.items():
        default = str(spec.get("Default", ""))
        assert rows[name].strip() == (f"`{default}`" if default else "(none)"), (name, rows[name], default)
