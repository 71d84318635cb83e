"""Real HTTP against a Sandbox on an ephemeral port, with a clock the test moves by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3

from devstack.sandbox import Sandbox, SandboxConfig

KEY = "test-key"
CLIENT = "shop"
SENDER = "0212345678"
PHONE = "01012345678"
REPORT_DELAY = 5.0
# 2026-11-23 12:00:00 KST
START = 1_795_402_800.0


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """A thin client speaking the provider's wire format: form-urlencoded UTF-8, JSON back."""

    def __init__(self, sandbox: Sandbox, key: str = KEY, client_id: str = CLIENT) -> None:
        self.sandbox = sandbox
        self.key = key
        self.client_id = client_id
        self.http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=5))

    def raw(
        self,
        method: str,
        path: str,
        fields: dict[str, Any] | None = None,
        files: list[tuple[str, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> urllib3.BaseHTTPResponse:
        path = path.replace("{client_id}", self.client_id)
        hdrs = {"x-waple-authorization": self.key} if self.key is not None else {}
        hdrs.update(headers or {})
        kwargs: dict[str, Any] = {}
        if timeout is not None:
            kwargs["timeout"] = urllib3.Timeout(connect=2, read=timeout)
        url = self.sandbox.url + path
        if method == "GET":
            return self.http.request("GET", url, fields=fields, headers=hdrs, **kwargs)
        if files is not None:
            parts: list[tuple[str, Any]] = list((fields or {}).items())
            parts += [("file", (name, data, "image/jpeg")) for name, data in files]
            return self.http.request("POST", url, fields=parts, headers=hdrs, encode_multipart=True, **kwargs)
        return self.http.request("POST", url, fields=fields or {}, headers=hdrs, encode_multipart=False, **kwargs)

    def post(self, path: str, fields: dict[str, Any] | None = None, **kw: Any) -> Any:
        response = self.raw("POST", path, fields, **kw)
        assert response.status == 200, response.data
        return json.loads(response.data)

    def get(self, path: str, fields: dict[str, Any] | None = None, **kw: Any) -> Any:
        response = self.raw("GET", path, fields, **kw)
        assert response.status == 200, response.data
        return json.loads(response.data) if response.data else None

    def sms(self, kind: str = "sms", **fields: Any) -> dict[str, Any]:
        body = {"send_phone": SENDER, "dest_phone": PHONE, "msg_body": "안녕하세요"}
        body.update(fields)
        return self.post(f"/ppurio/1/message/{kind}/{{client_id}}", {k: v for k, v in body.items() if v is not None})

    def kko(self, path: str = "msg", **fields: Any) -> dict[str, Any]:
        body = {
            "PHONE": PHONE,
            "CALLBACK": SENDER,
            "MSG": "[Shop] 인증번호는 123456 입니다.",
            "TEMPLATE_CODE": "A2222",
            "FAILED_TYPE": "N",
        }
        body.update(fields)
        return self.post(f"/kko/1/{path}/{{client_id}}", {k: v for k, v in body.items() if v is not None})

    def inspect(self, name: str, body: Any = None) -> Any:
        url = f"{self.sandbox.url}/_sandbox/{name}"
        if body is None:
            response = self.http.request("GET", url)
        else:
            response = self.http.request(
                "POST", url, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
            )
        return response.status, json.loads(response.data)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[Sandbox]:
    config = SandboxConfig(
        api_key=KEY,
        client_id=CLIENT,
        report_delay_s=REPORT_DELAY,
        seed=7,
        registered_senders=(SENDER,),
        clock=clock,
    )
    with Sandbox(config) as sb:
        yield sb


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)
