"""SOLAPI's HMAC Authorization header, checked against a signature computed here with hmac alone."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from notifier.providers.solapi.auth import Credentials, Signer, fresh_salt, header, iso_date

CREDS = Credentials("NCSAYU7YDBXYORXC", "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3t00")
# SOLAPI's own sample date and salt (authentication-api-key.md); the secret is ours.
DATE, SALT = "2019-07-01T00:41:48Z", "jqsba2jxjnrjor"
HEADER = re.compile(r"HMAC-SHA256 apiKey=(\S+), date=(\S+), salt=(\S+), signature=([0-9a-f]{64})")


def test_the_signature_is_hmac_sha256_of_date_then_salt_keyed_by_the_secret() -> None:
    # Given SOLAPI's sample date and salt
    expected = hmac.new(CREDS.api_secret.encode(), (DATE + SALT).encode(), hashlib.sha256).hexdigest()
    # When the header is built
    built = header(CREDS, DATE, SALT)
    # Then it is SOLAPI's documented syntax, and the signature matches the independent computation
    assert built == f"HMAC-SHA256 apiKey={CREDS.api_key}, date={DATE}, salt={SALT}, signature={expected}"


def test_every_request_gets_a_fresh_salt_so_no_signature_repeats_within_the_same_second() -> None:
    # Given a signer whose clock stands still (SOLAPI refuses a signature seen within 15 minutes)
    signer = Signer(lambda: CREDS, clock=lambda: 1_795_402_800.0)
    # When it signs a hundred requests
    headers = [signer() for _ in range(100)]
    # Then every salt and every signature differs, while the date is the same
    parsed = [HEADER.fullmatch(h) for h in headers]
    assert all(parsed)
    assert len({p[3] for p in parsed if p}) == 100
    assert len({p[4] for p in parsed if p}) == 100
    assert {p[2] for p in parsed if p} == {"2026-11-23T03:00:00.000Z"}


def test_the_date_is_iso_8601_utc_from_the_clock_and_the_signature_verifies_with_it() -> None:
    # Given a clock at 2026-11-23 12:00:00.250 KST
    signer = Signer(lambda: CREDS, clock=lambda: 1_795_402_800.25, salt=lambda: "0123456789abcdef")
    # When a header is signed
    m = HEADER.fullmatch(signer())
    # Then the date is UTC with a Z, parses as that moment, and the signature is over date + salt
    assert m is not None
    assert m[2] == "2026-11-23T03:00:00.250Z"
    assert datetime.fromisoformat(m[2]).timestamp() == 1_795_402_800.25
    assert m[4] == hmac.new(CREDS.api_secret.encode(), (m[2] + m[3]).encode(), hashlib.sha256).hexdigest()


def test_a_salt_is_within_solapis_12_to_64_bytes() -> None:
    assert all(12 <= len(fresh_salt().encode()) <= 64 for _ in range(50))


def test_the_credentials_are_read_for_every_request_so_a_rotated_key_is_used_at_once() -> None:
    # Given credentials that change between two requests (a rotation in SSM)
    current = [CREDS]
    signer = Signer(lambda: current[0], clock=lambda: 0.0)
    first = signer()
    current[0] = Credentials("NEWKEY0000000000", "another-secret-another-secret-00")
    # When the next request is signed, Then it carries the new key
    assert "apiKey=NCSAYU7YDBXYORXC" in first
    assert "apiKey=NEWKEY0000000000" in signer()


def test_neither_the_key_nor_the_secret_shows_in_a_repr() -> None:
    shown = repr(CREDS) + str(CREDS) + repr(Signer(lambda: CREDS)) + f"{CREDS}"
    assert CREDS.api_secret not in shown and CREDS.api_key not in shown


def test_iso_date_keeps_milliseconds_like_the_node_sdk() -> None:
    assert iso_date(0.5) == "1970-01-01T00:00:00.500Z"
