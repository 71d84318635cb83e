"""What the guarantee tests need to know about each provider, so the same test runs against both.

The tests state a guarantee once (one send, `unknown`, retried into the DLQ ...); each provider here
says how its sandbox shows what it accepted, how many send requests it took, and which of its codes
mean "parameters refused", "balance empty", "sender not registered" and "AlimTalk template refused".
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devstack.sandbox import Sandbox


@dataclass(frozen=True)
class Refusal:
    """A provider code, and a piece of the reason the record must carry for it."""

    code: str
    reason: str


@dataclass(frozen=True)
class Accepted:
    """A message the sandbox accepted (what a phone would get), in words both providers share."""

    kind: str  # sms, lms, mms, alimtalk
    to: str
    text: str
    subject: str | None
    images: int


# eq=False: hashed by identity, so pytest groups the tests of a module-scoped stack by provider (an
# unhashable parameter would be grouped by its index in each parametrize call instead).
@dataclass(frozen=True, eq=False)
class Provider:
    name: str
    parameters: dict[str, str]
    send_kinds: tuple[str, ...]
    """The sandbox's request counters of every send endpoint (one request may carry several messages)."""
    requests_per_batch: Callable[[int], int]
    """How many send requests a batch of n claimed SMS takes: one each (API Store) or one for all (send-many)."""
    parameter_fault: str
    """The sandbox fault (result_codes) that makes the provider refuse a send's parameters."""
    parameter_error: Refusal
    balance: Refusal
    unregistered_sender: Refusal
    alimtalk_refused: Refusal
    """The synchronous refusal of an AlimTalk whose template the provider no longer approves."""
    _accepted: Callable[[dict[str, Any]], Accepted] = field(repr=False)
    _empty_balance: Callable[[Sandbox], None] = field(repr=False)

    def __str__(self) -> str:
        return self.name

    def accepted(self, sandbox: Sandbox) -> list[Accepted]:
        """What the sandbox accepted from this provider's API, read through the inspection API's filter."""
        with urllib.request.urlopen(f"{sandbox.url}/_sandbox/messages?provider={self.name}", timeout=10) as resp:
            return [self._accepted(m) for m in json.loads(resp.read())]

    def send_requests(self, sandbox: Sandbox) -> int:
        counts = sandbox.requests_count()
        return sum(counts.get(k, 0) for k in self.send_kinds)

    def empty_balance(self, sandbox: Sandbox) -> None:
        self._empty_balance(sandbox)


def _apistore(m: dict[str, Any]) -> Accepted:
    kind = "alimtalk" if m["kind"] == "kko" else m["kind"]
    return Accepted(kind, m["dest_phone"], m.get("msg_body") or m.get("msg") or "", m.get("subject"),
                    len(m.get("files") or []))  # fmt: skip


def _solapi(m: dict[str, Any]) -> Accepted:
    kind = "alimtalk" if m["kind"] == "ata" else m["kind"]
    return Accepted(kind, m["to"], m["text"], m.get("subject"), 1 if m.get("image_id") else 0)


APISTORE = Provider(
    name="apistore",
    parameters={},
    send_kinds=("sms", "lms", "mms", "kko_msg"),
    requests_per_batch=lambda n: n,
    parameter_fault="300",
    parameter_error=Refusal("300", "Parameter Error: the request parameters were refused"),
    balance=Refusal("600", "선불제 충전요금 부족"),
    unregistered_sender=Refusal("500", "발신번호 사전 등록제에 의한 미등록 차단"),
    alimtalk_refused=Refusal("700", "템플릿코드 사전 승인제에 의한 미승인 차단"),
    _accepted=_apistore,
    _empty_balance=lambda sb: sb.set_balance(0),
)

SOLAPI = Provider(
    name="solapi",
    parameters={"Provider": "solapi"},
    send_kinds=("solapi_send",),
    requests_per_batch=lambda n: 1,
    # SOLAPI refuses a request's parameters as a whole with HTTP 400 ValidationError.
    parameter_fault="ValidationError",
    parameter_error=Refusal("ValidationError", "ValidationError: the request's parameters were refused"),
    balance=Refusal("1030", "1030 잔액 부족"),
    unregistered_sender=Refusal("1062", "1062 발신번호 미등록"),
    alimtalk_refused=Refusal("1042", "유효한 템플릿 아이디가 아닙니다"),
    _accepted=_solapi,
    _empty_balance=lambda sb: sb.set_solapi_balance(0),
)

PROVIDERS = (APISTORE, SOLAPI)
