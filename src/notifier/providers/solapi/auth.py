"""SOLAPI's API-key authentication (spec/solapi/authentication-api-key.md).

`Authorization: HMAC-SHA256 apiKey=<key>, date=<ISO 8601>, salt=<salt>, signature=<hex>` where the
signature is HMAC-SHA256(secret, date + salt). SOLAPI refuses a signature it has seen within 15
minutes (DuplicatedSignature) and a date more than 15 minutes off (RequestTimeTooSkewed), so every
request signs with a fresh salt and the current time: a header is never kept or reused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

SCHEME = "HMAC-SHA256"
SALT_BYTES = 16  # 32 hex characters: inside SOLAPI's 12-64 byte range, and 128 random bits


@dataclass(frozen=True)
class Credentials:
    api_key: str
    api_secret: str

    def __repr__(self) -> str:  # neither may reach a log line, even through a repr
        return "Credentials(api_key='***', api_secret='***')"

    __str__ = __repr__


def iso_date(ts: float) -> str:
    """UTC with milliseconds and a Z: what SOLAPI's own Node SDK sends (new Date().toISOString())."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def fresh_salt() -> str:
    return secrets.token_hex(SALT_BYTES)


def signature(secret: str, date: str, salt: str) -> str:
    return hmac.new(secret.encode("utf-8"), (date + salt).encode("utf-8"), hashlib.sha256).hexdigest()


def header(creds: Credentials, date: str, salt: str) -> str:
    sig = signature(creds.api_secret, date, salt)
    return f"{SCHEME} apiKey={creds.api_key}, date={date}, salt={salt}, signature={sig}"


class Signer:
    """The Authorization value for one request: the current time and a salt never used before."""

    def __init__(
        self,
        credentials: Callable[[], Credentials],
        *,
        clock: Callable[[], float] = time.time,
        salt: Callable[[], str] = fresh_salt,
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._salt = salt

    def __call__(self) -> str:
        return header(self._credentials(), iso_date(self._clock()), self._salt())

    def __repr__(self) -> str:
        return "Signer(***)"
