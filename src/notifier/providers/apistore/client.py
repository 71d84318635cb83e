"""KTH API Store client (ppurio SMS/LMS/MMS): the MessagingProvider port over urllib3.

What the live server did, beyond its spec (DESIGN.md): business errors are HTTP 200 with a JSON
body, `result_code` is a string, keys came in either case, cmid is a digit string that must never
become a number. A read time-out after the request went out means the provider may have the
message, so it is reported as unknown, never retried; only a refused or failed connection is
surely "not accepted".
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3

from ...domain.phone import mask_in_text
from ...domain.verdict import Verdict
from ...ports import SendResult, TextMessage
from ..transport import TransportError, new_pool, request
from .codes import ppurio_send_outcome

__all__ = ["ApiStoreHttp", "Credentials", "PpurioProvider", "Reply", "TransportError", "new_pool"]


@dataclass(frozen=True)
class Credentials:
    api_key: str
    client_id: str

    def __repr__(self) -> str:  # the key must never reach a log line, even through a repr
        return f"Credentials(api_key='***', client_id={self.client_id!r})"


def lower_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any] | None  # JSON object with lower-cased keys, or None
    raw: bytes


class ApiStoreHttp:
    """The wire: auth header, form encoding, time-outs, and the classification of transport failures."""

    def __init__(
        self,
        base_url: str,
        credentials: Callable[[], Credentials],
        *,
        pool: urllib3.PoolManager | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._pool = pool or new_pool()
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)

    @property
    def client_id(self) -> str:
        return self._credentials().client_id

    def call(
        self,
        method: str,
        path: str,
        *,
        fields: dict[str, str] | None = None,
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
        query: dict[str, str] | None = None,
    ) -> Reply:
        creds = self._credentials()
        url = f"{self.base_url}{path.format(client_id=creds.client_id)}"
        if query:
            url += "?" + urlencode(query)
        headers = {"x-waple-authorization": creds.api_key, "Accept": "application/json"}
        body: bytes | None = None
        if files:
            multipart: list[tuple[str, Any]] = list((fields or {}).items()) + list(files)
            body, content_type = urllib3.encode_multipart_formdata(multipart)
            headers["Content-Type"] = content_type
        elif fields is not None:
            body = urlencode(fields).encode("utf-8")
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
        resp = request(self._pool, method, url, body=body, headers=headers, timeout=self._timeout)
        parsed: dict[str, Any] | None = None
        try:
            data = json.loads(resp.data.decode("utf-8")) if resp.data.strip() else None
            if isinstance(data, dict):
                parsed = lower_keys(data)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        return Reply(resp.status, parsed, resp.data)


class PerMessageSender:
    """API Store takes one message per request: a batch goes out as concurrent requests (bounded by
    the pool), so it costs about one round trip. Both of its send APIs (ppurio, kko) are one of these."""

    def __init__(
        self, http: ApiStoreHttp, clock: Callable[[], float] = time.monotonic, pool: Executor | None = None
    ) -> None:
        self.http = http
        self.clock = clock
        self.pool = pool

    def each[T](self, send: Callable[[T], SendResult], msgs: Sequence[T]) -> list[SendResult]:
        """One result per message, in the order of the messages."""
        if self.pool is None or len(msgs) <= 1:
            return [send(msg) for msg in msgs]
        return list(self.pool.map(send, msgs))


class PpurioProvider(PerMessageSender):
    """SMS/LMS/MMS through /ppurio/1/message/{kind}/{client_id}."""

    def send_texts(self, msgs: Sequence[TextMessage]) -> list[SendResult]:
        return self.each(self.send_text, msgs)

    def send_text(self, msg: TextMessage) -> SendResult:
        fields = {"dest_phone": msg.dest_phone, "send_phone": msg.send_phone, "msg_body": msg.msg_body}
        optional = {
            "subject": msg.subject,
            "dest_name": msg.dest_name,
            "send_name": msg.send_name,
            "send_time": msg.send_time,
        }
        fields.update({k: v for k, v in optional.items() if v})
        files = [("file", (f.name, f.content, f.content_type)) for f in msg.files]
        return send_and_classify(
            self.http,
            f"/ppurio/1/message/{msg.kind}/{{client_id}}",
            fields,
            files,
            ppurio_send_outcome,
            self.clock,
        )


def body_kind(reply: Reply) -> str:
    """What an error reply carried, in words for a reason (never its text: it may echo the request)."""
    if reply.body is not None:
        return "JSON body"
    if reply.raw.lstrip()[:1] == b"<":
        return "HTML error page"
    return f"{len(reply.raw)}-byte body"


def send_and_classify(
    http: ApiStoreHttp,
    path: str,
    fields: dict[str, str],
    files: list[tuple[str, tuple[str, bytes, str]]] | None,
    table: Callable[[str], Any],
    clock: Callable[[], float],
) -> SendResult:
    """One POST to a send API, turned into a verdict the dispatcher can act on."""
    started = clock()
    try:
        reply = http.call("POST", path, fields=fields, files=files or None)
    except TransportError as exc:
        verdict = Verdict.RETRY if exc.surely_not_sent else Verdict.UNKNOWN
        return SendResult(verdict, exc.code, exc.reason, latency_ms=(clock() - started) * 1000)
    latency = (clock() - started) * 1000
    if reply.status >= 500:
        # The spec's server answered business errors with 200; a 5xx came from the front end before
        # the message was taken.
        return SendResult(Verdict.RETRY, f"http-{reply.status}", f"provider HTTP {reply.status}", latency_ms=latency)
    if 400 <= reply.status < 500:
        # A 4xx came from the servlet container (its HTML error page), or a proxy, before any send API took
        # the message: surely not accepted. 404/405 mean a wrong base URL or path, which the operator fixes;
        # like a wrong key (result_code 100) the message is retried, so it waits in the DLQ for a redrive.
        hint = ": no such endpoint, check the provider base URL" if reply.status in (404, 405) else ""
        reason = f"provider HTTP {reply.status} ({body_kind(reply)}), not accepted{hint}"
        return SendResult(Verdict.RETRY, f"http-{reply.status}", reason, latency_ms=latency)
    if reply.status != 200 or reply.body is None:
        return SendResult(
            Verdict.UNKNOWN,
            f"http-{reply.status}" if reply.status != 200 else "bad-reply",
            f"unexpected provider reply (HTTP {reply.status}, {len(reply.raw)} bytes)",
            latency_ms=latency,
        )
    code = str(reply.body.get("result_code", "")).strip()
    outcome = table(code)
    message = reply.body.get("result_message") or reply.body.get("result_msg")
    # The provider's message can list recipients ("잔금 부족[미발송 목록] 01012345678"); a reason is
    # stored, published to EventBridge and shown by operators' tools, so numbers are masked here.
    said = f" (provider said: {mask_in_text(str(message))})" if message and code != "200" else ""
    reason = outcome.reason + said
    # The spec calls it SERIAL_NUM; the live server said cmid. Either will do.
    cmid = reply.body.get("cmid", reply.body.get("serial_num"))
    if outcome.verdict == Verdict.ACCEPTED:
        if cmid is None or str(cmid).strip() == "":
            return SendResult(Verdict.UNKNOWN, code, "provider said OK but gave no cmid", latency_ms=latency)
        cmid = str(cmid)  # a JSON number here would already have lost digits; keep whatever we got as text
    return SendResult(outcome.verdict, code, reason, cmid if code == "200" else None, latency)
