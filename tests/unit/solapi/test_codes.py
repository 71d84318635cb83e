"""SOLAPI's code tables: complete against the spec, and the verdicts that decide whether a retry can
send twice. The expected verdicts are written here from the brief's safety analysis, not copied."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.providers.solapi.codes import (
    ERROR_CODES,
    KAKAO_FAILURES,
    STATUS_CODES,
    request_error,
    status,
)

SPEC = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "solapi" / "message-status-codes.md"


def spec_rows() -> dict[str, str]:
    if not SPEC.exists():
        pytest.skip(f"the spec is not beside the checkout ({SPEC})")
    rows = {}
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\|\s*(\d{4})\s*\|\s*(.*?)\s*\|", line)
        if m:
            rows[m[1]] = m[2].replace("\\[", "[").replace("\\]", "]").replace("\\~", "~")
    return rows


def test_every_status_code_of_the_spec_is_in_the_table_with_its_korean_text_verbatim() -> None:
    rows = spec_rows()
    assert len(rows) == 85
    assert {c: r.text for c, r in STATUS_CODES.items()} == rows


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        ("1010", "rejected"),  # a required field missing: the same request fails again
        ("1029", "rejected"),  # outside EUC-KR
        ("1062", "rejected"),  # sender number not registered, as API Store's 500
        ("1061", "rejected"),  # the recipient opted out
        ("1020", "retry"),  # account refused: not this message's fault
        ("1024", "retry"),  # server error at registration: not registered, so not sent
        ("1030", "retry"),  # balance, as API Store's 600
        ("2230", "retry"),
        ("1026", "retry"),  # duplicate recipient in one request: a batching artefact
        ("1023", "retry"),  # our cached image id went stale
        ("1034", "retry"),
        ("1042", "fallback"),  # the AlimTalk route refused: the app may send SMS
        ("1043", "fallback"),
        ("3104", "fallback"),
        ("2000", "accepted"),
        ("3000", "accepted"),
        ("4000", "accepted"),
    ],
)
def test_a_refused_message_is_retried_only_where_it_was_surely_not_sent_and_the_cause_can_pass(
    code: str, verdict: str
) -> None:
    assert status(code).send == verdict


@pytest.mark.parametrize(("code", "outcome"), [("2000", "pending"), ("3000", "pending"), ("4000", "delivered")])
def test_2000_and_3000_wait_for_the_carrier_and_4000_is_delivered(code: str, outcome: str) -> None:
    assert status(code).report == outcome


def test_every_other_code_is_a_failed_report() -> None:
    others = [c for c in STATUS_CODES if c not in ("2000", "3000", "4000")]
    assert others and all(status(c).report == "failed" for c in others)


def test_no_code_in_the_table_says_unknown_for_a_message_refused_at_registration() -> None:
    # A failedMessageList entry was never registered: it is rejected, retried or sent by fallback.
    assert {r.send for r in STATUS_CODES.values()} == {"accepted", "rejected", "retry", "fallback"}


def test_the_kakao_failures_are_the_31xx_codes_that_trigger_solapis_sms_fallback() -> None:
    assert sorted(KAKAO_FAILURES) == [f"31{n:02d}" for n in range(1, 9)]


def test_a_reason_carries_the_code_the_korean_text_and_the_why() -> None:
    reason = status("1030").reason
    assert reason.startswith("1030 잔액 부족 (") and "balance" in reason


@given(st.one_of(st.none(), st.integers(), st.text(max_size=8)))
def test_an_unknown_code_is_kept_verbatim_and_never_raises(code: object) -> None:
    row = status(code)
    text = "" if code is None else str(code).strip()
    assert row.code == text
    if text not in STATUS_CODES:
        assert row.send == "unknown" and row.report == "failed"


@pytest.mark.parametrize(
    ("http", "error_code", "verdict"),
    [
        (403, "InvalidAPIKey", "retry"),  # a rotated key must not reject every message forever
        (403, "SignatureDoesNotMatch", "retry"),
        (403, "RequestTimeTooSkewed", "retry"),  # clock skew: refused before any send
        (403, "DuplicatedSignature", "retry"),
        (400, "ValidationError", "rejected"),
        (400, "1030", "retry"),  # a status code as errorCode: balance
        (400, "1062", "rejected"),
        (400, "2000", "unknown"),  # "registered" as an error makes no sense: unknown
        (401, "SomethingNew", "retry"),  # any auth refusal is before processing
        (429, None, "retry"),
        (503, "ServiceUnavailable", "retry"),  # SOLAPI's SDKs resend on 503
        (500, "InternalError", "unknown"),  # maybe registered: never a second SMS
        (502, None, "unknown"),
        (400, "NeverDocumented", "unknown"),
    ],
)
def test_a_whole_request_error_is_retried_only_when_refused_before_processing(
    http: int, error_code: str | None, verdict: str
) -> None:
    error = request_error(http, error_code, "message")
    assert error.verdict == verdict
    assert error.code == (error_code or f"http-{http}")


def test_the_documented_auth_errors_are_all_in_the_error_table() -> None:
    assert {"InvalidAPIKey", "SignatureDoesNotMatch", "RequestTimeTooSkewed", "DuplicatedSignature"} <= set(ERROR_CODES)


def test_solapis_error_message_is_kept_in_the_reason() -> None:
    assert "SOLAPI said: 유효한 API Key가 아님" in request_error(403, "InvalidAPIKey", "유효한 API Key가 아님").reason
