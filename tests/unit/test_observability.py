"""The log safety net: secrets and whole phone numbers never leave a log line."""

from __future__ import annotations

import io
import json
import logging

from notifier.observability import ScrubbingFormatter, register_secret, scrub


def json_logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    """A logger writing Powertools JSON lines through the ScrubbingFormatter, as the handlers do."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ScrubbingFormatter())
    log = logging.getLogger(name)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log, stream


def test_a_registered_secret_is_replaced_in_every_line():
    # Given a secret that was registered when credentials were loaded
    register_secret("k3y-Sup3r-S3cret-value")
    # When a line carries it anywhere
    line = scrub('{"error":"auth failed for k3y-Sup3r-S3cret-value at /x"}')
    # Then only *** remains
    assert line == '{"error":"auth failed for *** at /x"}'


def test_phone_numbers_are_masked_but_cmids_and_timestamps_are_not():
    line = scrub("to 01012345678 and 0212345678, cmid 20261123034659000001, at 20261201090000, epoch 1795000000")
    # Seoul's area code is 02: the number shows 02 and its last four digits, as phone.mask writes it
    assert line == "to 010****5678 and 02****5678, cmid 20261123034659000001, at 20261201090000, epoch 1795000000"


def test_the_powertools_formatter_scrubs_extras_and_exception_texts():
    # Given a Powertools-formatted logger
    register_secret("an0ther-secret-key")
    log, stream = json_logger("test.scrub")
    # When a careless caller logs the key and a number in extras and in an exception
    try:
        raise ValueError("bad key an0ther-secret-key for 010-9999-8888")
    except ValueError:
        log.exception("failed", extra={"to": "01099998888", "key": "an0ther-secret-key"})
    # Then the JSON line holds neither
    out = stream.getvalue()
    record = json.loads(out)
    assert record["to"] == "010****8888" and record["key"] == "***"
    assert "an0ther-secret-key" not in out and "01099998888" not in out
    assert "010-****-8888" in record["exception"] and "9999" not in record["exception"]


def test_a_rejected_to_in_any_written_form_is_masked_in_the_json_line_and_a_lone_surrogate_escaped():
    # Given a Powertools-formatted logger, as the dispatcher's
    log, stream = json_logger("test.scrub.forms")
    # When a rejection is logged whose id, reason and extras hold numbers in their +82 and dotted forms,
    # and a lone surrogate that UTF-8 cannot encode
    log.warning(
        "rejected",
        extra={
            "record_id": "+821054002442",
            "reason": "metadata: value of '+82 10 5400 2442' must be flat; key '\\x0001054002442'",
            "to": "010.5400.2442",
            "ctl": "\x0001054002442",  # a control character: \u0000 in the JSON line
            "note": "\ud800",
        },
    )
    # Then the line is valid UTF-8 JSON, with every number masked and the surrogate escaped
    out = stream.getvalue()
    out.encode("utf-8")
    record = json.loads(out)
    assert record["record_id"] == "+8210****2442" and record["to"] == "010.****.2442"
    assert record["reason"] == "metadata: value of '+82 10 **** 2442' must be flat; key '\\x00010****2442'"
    assert record["ctl"] == "\x00010****2442"
    assert "\\ud800" in out and record["note"] == "\ud800"  # written as the JSON escape, read back as it was
    assert "5400" not in out


def test_no_tracer_is_created_unless_tracing_is_active(monkeypatch):
    from notifier.observability import traced

    def handler(event, context):
        return "ok"

    # Given tracing is not switched on, the handler is returned as it is (no X-Ray SDK loaded)
    monkeypatch.setenv("TRACING", "PassThrough")
    assert traced(handler) is handler
    # Given it is Active, the handler is wrapped by a Powertools Tracer
    monkeypatch.setenv("TRACING", "Active")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon here
    wrapped = traced(handler)
    assert wrapped is not handler and wrapped({}, None) == "ok"
