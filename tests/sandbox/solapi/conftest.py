"""A SOLAPI client written from SOLAPI's documentation (not from the sandbox): HMAC-signed JSON over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
import urllib3

from devstack.sandbox import Sandbox

# The parent conftest's sandbox uses the default SOLAPI key and secret.
from devstack.sandbox.config import DEFAULT_SOLAPI_API_KEY as API_KEY
from devstack.sandbox.config import DEFAULT_SOLAPI_API_SECRET as API_SECRET
from devstack.sandbox.config import DEFAULT_SOLAPI_PF_ID as PF_ID

from ..conftest import PHONE, SENDER, FakeClock

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 1000


def iso_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def authorization(
    date: str, salt: str | None = None, key: str = API_KEY, secret: str = API_SECRET, upper: bool = False
) -> str:
    salt = salt or uuid.uuid4().hex
    signature = hmac.new(secret.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()
    api_key, date_name = ("ApiKey", "Date") if upper else ("apiKey", "date")
    return f"HMAC-SHA256 {api_key}={key}, {date_name}={date}, salt={salt}, signature={signature}"


class Solapi:
    def __init__(self, sandbox: Sandbox, clock: FakeClock) -> None:
        self.sandbox = sandbox
        self.clock = clock
        self.http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=5))

    def raw(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        auth: str | None = None,
        timeout: float | None = None,
    ) -> urllib3.BaseHTTPResponse:
        headers = {"Authorization": auth if auth is not None else authorization(iso_date(self.clock()))}
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["body"] = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if timeout is not None:
            kwargs["timeout"] = urllib3.Timeout(connect=2, read=timeout)
        url = self.sandbox.url + path
        if query:
            url += "?" + urlencode(query)
        return self.http.request(method, url, headers=headers, **kwargs)

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        response = self.raw(method, path, body, **kw)
        return response.status, json.loads(response.data)

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        status, reply = self.call(method, path, body, **kw)
        assert status == 200, reply
        return reply

    def send(self, *messages: dict[str, Any], **options: Any) -> dict[str, Any]:
        filled = [{"to": PHONE, "from": SENDER, **m} for m in messages]
        return self.ok("POST", "/messages/v4/send-many/detail", {"messages": filled, **options})

    def upload(self, data: bytes = JPEG, kind: str = "MMS") -> tuple[int, Any]:
        return self.call("POST", "/storage/v1/files", {"file": base64.b64encode(data).decode(), "type": kind})

    def messages(self, **query: Any) -> dict[str, Any]:
        return self.ok("GET", "/messages/v4/list", query=query or None)


@pytest.fixture
def solapi(sandbox: Sandbox, clock: FakeClock) -> Solapi:
    return Solapi(sandbox, clock)


__all__ = ["API_KEY", "API_SECRET", "JPEG", "PF_ID", "PHONE", "SENDER", "Solapi", "authorization", "iso_date"]
