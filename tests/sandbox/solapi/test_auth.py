"""HMAC-SHA256 API-key auth as SOLAPI documents it: key, signature, ±15 minutes, no signature twice."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

import pytest

from .conftest import API_SECRET, Solapi, authorization, iso_date


def balance_with(solapi: Solapi, auth: str) -> tuple[int, dict[str, str]]:
    response = solapi.raw("GET", "/cash/v1/balance", auth=auth)
    return response.status, json.loads(response.data)


@pytest.mark.parametrize("upper", [False, True], ids=["apiKey-date", "ApiKey-Date"])
def test_a_correctly_signed_request_is_served_with_either_parameter_case(solapi: Solapi, upper: bool) -> None:
    # Given a header signed with the account's secret, parameter names in either case
    auth = authorization(iso_date(solapi.clock()), upper=upper)
    # When the balance is asked for
    status, reply = balance_with(solapi, auth)
    # Then it is served
    assert status == 200
    assert reply["balance"] == 100_000


@pytest.mark.parametrize(
    "date",
    [
        "2026-11-23T03:00:00Z",
        "2026-11-23T03:00:00.123Z",
        "2026-11-23T12:00:00.123456+09:00",
        "2026-11-23T12:00:00.123456789+09:00",
        "2026-11-22T22:00:00-05:00",
    ],
)
def test_dates_with_or_without_fractions_and_with_any_offset_are_accepted(solapi: Solapi, date: str) -> None:
    # Given the sandbox clock at 2026-11-23 03:00 UTC and the same instant written five ways
    status, _ = balance_with(solapi, authorization(date))
    assert status == 200


def test_an_unknown_api_key_is_refused_with_InvalidAPIKey(solapi: Solapi) -> None:
    status, reply = balance_with(solapi, authorization(iso_date(solapi.clock()), key="NCSWRONGKEY00000"))
    assert (status, reply["errorCode"]) == (403, "InvalidAPIKey")


def test_a_signature_made_with_another_secret_is_refused_with_SignatureDoesNotMatch(solapi: Solapi) -> None:
    status, reply = balance_with(solapi, authorization(iso_date(solapi.clock()), secret="not-the-secret"))
    assert (status, reply["errorCode"]) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("minutes", [-16, 16])
def test_a_date_more_than_15_minutes_off_is_refused_with_RequestTimeTooSkewed(solapi: Solapi, minutes: int) -> None:
    status, reply = balance_with(solapi, authorization(iso_date(solapi.clock() + minutes * 60)))
    assert (status, reply["errorCode"]) == (403, "RequestTimeTooSkewed")


def test_a_date_14_minutes_off_is_still_accepted(solapi: Solapi) -> None:
    status, _ = balance_with(solapi, authorization(iso_date(solapi.clock() - 14 * 60)))
    assert status == 200


def test_a_signature_used_twice_within_15_minutes_is_refused_with_DuplicatedSignature(solapi: Solapi) -> None:
    # Given one signed header, used once
    auth = authorization(iso_date(solapi.clock()), salt="fixed-salt-0001")
    assert balance_with(solapi, auth)[0] == 200
    # When it is sent again ten minutes later
    solapi.clock.advance(600)
    status, reply = balance_with(solapi, auth)
    # Then it is refused as a replay
    assert (status, reply["errorCode"]) == (403, "DuplicatedSignature")


def test_a_new_salt_makes_a_new_signature_for_the_same_date(solapi: Solapi) -> None:
    date = iso_date(solapi.clock())
    assert balance_with(solapi, authorization(date, salt="first-salt-0001"))[0] == 200
    assert balance_with(solapi, authorization(date, salt="second-salt-002"))[0] == 200


def test_the_signature_is_the_hex_hmac_sha256_of_date_plus_salt_keyed_by_the_secret(solapi: Solapi) -> None:
    # Given a header built by hand from the documented recipe, not by the helper
    date = datetime(2026, 11, 23, 12, 0, tzinfo=timezone(timedelta(hours=9))).isoformat()
    salt = "jqsba2jxjnrjor"
    signature = hmac.new(API_SECRET.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()
    header = f"HMAC-SHA256 apiKey=NCSSANDBOXKEY000, date={date}, salt={salt}, signature={signature}"
    assert balance_with(solapi, header)[0] == 200


@pytest.mark.parametrize(
    "header",
    ["", "Bearer abc", "HMAC-SHA256 apiKey=NCSSANDBOXKEY000, salt=abcdefghijkl, signature=00"],
    ids=["missing", "other-scheme", "no-date"],
)
def test_a_header_that_is_not_solapis_scheme_is_refused_naming_what_is_wrong(solapi: Solapi, header: str) -> None:
    status, reply = balance_with(solapi, header)
    assert status == 401
    assert reply["errorCode"] == "InvalidAuthorizationHeader"
    assert reply["errorMessage"]


def test_a_salt_shorter_than_12_bytes_is_refused(solapi: Solapi) -> None:
    status, reply = balance_with(solapi, authorization(iso_date(solapi.clock()), salt="short"))
    assert status == 401
    assert "salt" in reply["errorMessage"]
