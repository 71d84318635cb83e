"""SOLAPI's API-key authentication: `Authorization: HMAC-SHA256 apiKey=, date=, salt=, signature=`."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime

from . import codes

SKEW_S = 15 * 60
SALT_BYTES = (12, 64)
ALGORITHMS = {"HMAC-SHA256": hashlib.sha256, "HMAC-MD5": hashlib.md5}
_PARAM = re.compile(r"\s*([A-Za-z]+)\s*=\s*([^,]*?)\s*(?:,|$)")


class AuthError(Exception):
    def __init__(self, error: tuple[int, str], message: str) -> None:
        super().__init__(message)
        self.status, self.code = error
        self.message = message


def parse_date(text: str) -> float | None:
    """Epoch seconds of an ISO 8601 date-time with an offset or Z, with or without fractions; else None."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})", text):
        return None
    text = text.replace("Z", "+00:00")
    # fromisoformat takes at most 6 fraction digits; JavaScript sends 3, others may send 9.
    text = re.sub(r"\.(\d{6})\d+", r".\1", text)
    try:
        return datetime.fromisoformat(text).astimezone(UTC).timestamp()
    except ValueError:
        return None


def parse_header(header: str) -> tuple[str, dict[str, str]]:
    method, _, rest = header.strip().partition(" ")
    if method.upper() not in ALGORITHMS:
        raise AuthError(
            codes.BAD_AUTH_HEADER, "Authorization must be 'HMAC-SHA256 apiKey=..., date=..., salt=..., signature=...'"
        )
    params = {m.group(1).lower(): m.group(2) for m in _PARAM.finditer(rest)}
    missing = [name for name in ("apikey", "date", "salt", "signature") if not params.get(name)]
    if missing:
        raise AuthError(codes.BAD_AUTH_HEADER, f"Authorization lacks {', '.join(missing)}")
    return method.upper(), params


class Verifier:
    """Checks one header against the account's key and secret and remembers signatures for 15 minutes."""

    def __init__(self, api_key: str, api_secret: str) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self._seen: dict[str, float] = {}

    def reset(self) -> None:
        self._seen.clear()

    def verify(self, header: str | None, now: float) -> None:
        if not header:
            raise AuthError(codes.BAD_AUTH_HEADER, "the Authorization header is missing")
        method, params = parse_header(header)
        if not hmac.compare_digest(params["apikey"], self.api_key):
            raise AuthError(codes.INVALID_API_KEY, "유효한 API Key가 아닙니다.")
        moment = parse_date(params["date"])
        if moment is None:
            raise AuthError(
                codes.BAD_AUTH_HEADER, "date must be ISO 8601 with an offset, e.g. 2026-12-01T09:00:00+09:00"
            )
        if not SALT_BYTES[0] <= len(params["salt"].encode()) <= SALT_BYTES[1]:
            raise AuthError(codes.BAD_AUTH_HEADER, "salt must be 12 to 64 bytes")
        expected = hmac.new(
            self.api_secret.encode(), (params["date"] + params["salt"]).encode(), ALGORITHMS[method]
        ).hexdigest()
        if not hmac.compare_digest(params["signature"].lower(), expected):
            raise AuthError(codes.SIGNATURE_MISMATCH, "생성한 Signature가 일치하지 않습니다.")
        if abs(now - moment) > SKEW_S:
            raise AuthError(codes.TIME_SKEWED, "시간 값이 서버 시간을 15분 이상 벗어났습니다.")
        self._seen = {sig: until for sig, until in self._seen.items() if until > now}
        if expected in self._seen:
            raise AuthError(codes.DUPLICATED_SIGNATURE, "15분 안에 동일한 signature 값을 사용할 수 없습니다.")
        self._seen[expected] = now + SKEW_S
