"""The SOLAPI wire: signed JSON over urllib3, one pooled client per container.

- `send_many`: several claimed messages in one `POST /messages/v4/send-many/detail`, each settled
  from its own entry of the reply (`messageList` for registered ones, `failedMessageList` for
  refused ones), matched by the `customFields` reference the request gave it.
- MMS images are uploaded first (`POST /storage/v1/files`, type MMS) and their file id cached per
  SHA-256 of the content.
- `message`: one message read back from `GET /messages/v4/list` (the poller's report), with the
  replacement SMS/LMS of a failed AlimTalk when SOLAPI sent one.
- `templates`: the kakao template list (`GET /kakao/v2/templates`, paged) in the domain's shape.
- `balance`: `GET /cash/v1/balance`.

Safe to retry only where SOLAPI surely did not take the request: a connection that never opened,
a refusal before processing (codes.request_error). A read time-out, a broken connection or an
undocumented reply after the request went out leaves every message in it `unknown`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlencode

import urllib3

from ...domain.alimtalk import Template, TemplateButton
from ...domain.phone import mask_in_text
from ...domain.verdict import ReportOutcome, Verdict
from ..transport import TransportError, new_pool, request
from . import codes
from .auth import Signer

MessageType = Literal["SMS", "LMS", "MMS", "ATA"]
REF_FIELD = "notifierRef"  # the customFields key that carries our correlation (SOLAPI: name <= 30 chars)
MAX_REF = 100  # SOLAPI: a custom field value <= 100 chars
IMAGE_CACHE = 256

# SOLAPI's template status words mapped to the Korean ones domain/alimtalk checks against (승인 = approved).
TEMPLATE_STATUS = {
    "PENDING": "등록",
    "INSPECTING": "검수요청",
    "APPROVED": "승인",
    "REJECTED": "반려",
    "DORMANT": "승인중단",
}
BUTTON_TYPES = {"WL": "웹링크", "AL": "앱링크", "BK": "봇키워드", "MD": "메시지전달", "DS": "배송조회"}
BUTTON_CODES = {word: code for code, word in BUTTON_TYPES.items()}


class SolapiError(Exception):
    """A request answered with an error (HTTP 4xx/5xx, or a reply that is not what the API documents)."""

    def __init__(self, error: codes.RequestError) -> None:
        super().__init__(error.reason)
        self.error = error


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # decoded JSON, or None
    raw: bytes


class SolapiHttp:
    """Signs each request afresh (auth.Signer), sends JSON, decodes JSON, classifies transport failures."""

    def __init__(
        self,
        base_url: str,
        signer: Signer,
        *,
        pool: urllib3.PoolManager | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._signer = signer
        self._pool = pool or new_pool()
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)

    def call(self, method: str, path: str, *, body: Any = None, query: Mapping[str, str] | None = None) -> Reply:
        url = self.base_url + path + ("?" + urlencode(query) if query else "")
        headers = {"Authorization": self._signer(), "Accept": "application/json"}
        data: bytes | None = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        resp = request(self._pool, method, url, body=data, headers=headers, timeout=self._timeout)
        try:
            parsed = json.loads(resp.data.decode("utf-8")) if resp.data.strip() else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            parsed = None
        return Reply(resp.status, parsed, resp.data)

    def json_ok(self, method: str, path: str, **kw: Any) -> Any:
        """The decoded body of a 200, or SolapiError naming SOLAPI's errorCode (TransportError passes)."""
        reply = self.call(method, path, **kw)
        if reply.status == 200 and reply.body is not None:
            return reply.body
        raise SolapiError(error_of(reply))


def error_of(reply: Reply) -> codes.RequestError:
    body = reply.body if isinstance(reply.body, dict) else {}
    if reply.status == 200:
        return codes.RequestError(
            "bad-reply", Verdict.UNKNOWN, f"unexpected SOLAPI reply (HTTP 200, {len(reply.raw)} bytes)"
        )
    message = body.get("errorMessage")
    return codes.request_error(reply.status, body.get("errorCode"), mask_in_text(str(message)) if message else None)


# --------------------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KakaoButton:
    type: str  # the Korean word of the event (웹링크 ...) or SOLAPI's code (WL ...)
    name: str
    url: str | None = None  # linkMo
    url2: str | None = None  # linkPc


@dataclass(frozen=True)
class Kakao:
    pf_id: str
    template_id: str
    variables: Mapping[str, str] = field(default_factory=dict)
    buttons: tuple[KakaoButton, ...] = ()
    disable_sms: bool = True
    """SOLAPI's own SMS fallback off (the event's fallback "none", or the app doing the fallback)."""


@dataclass(frozen=True)
class OutMessage:
    ref: str
    """The caller's correlation for this message, unique within one send_many call (<= 100 chars)."""
    type: MessageType
    to: str
    text: str
    from_: str | None = None
    subject: str | None = None
    image: bytes | None = None
    """MMS: the JPEG itself; uploaded first, its file id cached by content."""
    kakao: Kakao | None = None


@dataclass(frozen=True)
class MessageResult:
    ref: str
    verdict: Verdict
    code: str  # statusCode, errorCode, or a transport marker: connect, timeout, connection-lost, bad-reply
    reason: str
    message_id: str | None = None
    group_id: str | None = None


def kakao_json(k: Kakao) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pfId": k.pf_id,
        "templateId": k.template_id,
        # SOLAPI's variables are keyed by the placeholder as written in the template: #{name}.
        "variables": {(n if n.startswith("#{") else f"#{{{n}}}"): str(v) for n, v in k.variables.items()},
        "disableSms": k.disable_sms,
    }
    if k.buttons:
        out["buttons"] = [
            {
                "buttonType": BUTTON_CODES.get(b.type, b.type),
                "buttonName": b.name,
                **({"linkMo": b.url} if b.url else {}),
                **({"linkPc": b.url2} if b.url2 else {}),
            }
            for b in k.buttons
        ]
    return out


def message_json(m: OutMessage, image_id: str | None) -> dict[str, Any]:
    # The type is given, not auto-detected: the dispatcher already chose the channel (and its price).
    out: dict[str, Any] = {"to": m.to, "text": m.text, "type": m.type, "customFields": {REF_FIELD: m.ref}}
    if m.from_:
        out["from"] = m.from_
    if m.subject and m.type != "SMS":
        out["subject"] = m.subject
    if image_id:
        out["imageId"] = image_id
    if m.kakao is not None:
        out["kakaoOptions"] = kakao_json(m.kakao)
    return out


class ImageCache:
    """SOLAPI file ids by SHA-256 of the content, least recently used dropped first."""

    def __init__(self, size: int = IMAGE_CACHE) -> None:
        self.size = size
        self._ids: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> str | None:
        with self._lock:
            found = self._ids.get(digest)
            if found is not None:
                self._ids.move_to_end(digest)
            return found

    def put(self, digest: str, file_id: str) -> None:
        with self._lock:
            self._ids[digest] = file_id
            self._ids.move_to_end(digest)
            while len(self._ids) > self.size:
                self._ids.popitem(last=False)

    def forget(self, file_id: str) -> None:
        with self._lock:
            for digest in [d for d, f in self._ids.items() if f == file_id]:
                del self._ids[digest]


def criteria(limit: int = 20, **equal: str) -> dict[str, str]:
    """A list query in the documented form (criteria=a,b & cond=eq,eq & value=x,y): the spec's own
    samples use it, and field names travel as values, whatever a server does with the case of keys."""
    return {
        "criteria": ",".join(equal),
        "cond": ",".join("eq" for _ in equal),
        "value": ",".join(equal.values()),
        "limit": str(limit),
    }


def _entries(value: Any) -> list[dict[str, Any]]:
    # messageList is a list in send-many/detail and an object keyed by messageId in the list APIs.
    if isinstance(value, dict):
        value = list(value.values())
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _ref_of(entry: Mapping[str, Any]) -> str | None:
    custom = entry.get("customFields")
    ref = custom.get(REF_FIELD) if isinstance(custom, dict) else None
    return str(ref) if ref is not None else None


class SolapiClient:
    def __init__(
        self, http: SolapiHttp, *, images: ImageCache | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.http = http
        self.images = images or ImageCache()
        self.clock = clock
        self.uploads = 0

    # -- images ----------------------------------------------------------------------------------

    def upload_image(self, content: bytes, name: str | None = None) -> str:
        """The SOLAPI file id of an MMS image, uploaded once per content. Raises TransportError/SolapiError."""
        digest = hashlib.sha256(content).hexdigest()
        cached = self.images.get(digest)
        if cached is not None:
            return cached
        body: dict[str, Any] = {"file": base64.b64encode(content).decode("ascii"), "type": "MMS"}
        if name:
            body["name"] = name
        self.uploads += 1
        reply = self.http.json_ok("POST", "/storage/v1/files", body=body)
        file_id = reply.get("fileId") if isinstance(reply, dict) else None
        if not file_id:
            raise SolapiError(codes.RequestError("bad-reply", Verdict.RETRY, "SOLAPI's upload reply had no fileId"))
        self.images.put(digest, str(file_id))
        return str(file_id)

    # -- sending ---------------------------------------------------------------------------------

    def send_many(self, messages: Sequence[OutMessage], *, scheduled_date: str | None = None) -> list[MessageResult]:
        """One result per message, in the order given. Never raises for a SOLAPI or transport failure."""
        refs = [m.ref for m in messages]
        bad = [r for r in refs if not r or len(r) > MAX_REF]
        if bad or len(set(refs)) != len(refs):
            raise ValueError(f"each message needs a unique ref of 1 to {MAX_REF} characters")
        results: dict[str, MessageResult] = {}
        image_ids: dict[str, str] = {}
        for m in messages:
            if m.image is None:
                continue
            try:
                image_ids[m.ref] = self.upload_image(m.image)
            except TransportError as exc:
                # Nothing was sent: the message waits for the image, whatever became of the upload.
                results[m.ref] = MessageResult(m.ref, Verdict.RETRY, exc.code, f"image upload failed: {exc.reason}")
            except SolapiError as exc:
                verdict = Verdict.REJECTED if exc.error.verdict == Verdict.REJECTED else Verdict.RETRY
                results[m.ref] = MessageResult(m.ref, verdict, exc.error.code, f"image upload: {exc.error.reason}")
        ready = [m for m in messages if m.ref not in results]
        if ready:
            for r in self._send(ready, image_ids, scheduled_date):
                results[r.ref] = r
        return [results[m.ref] for m in messages]

    def _send(
        self, messages: Sequence[OutMessage], image_ids: Mapping[str, str], scheduled_date: str | None
    ) -> list[MessageResult]:
        # allowDuplicates: two events to one phone in a batch are two notifications, and the at-most-once
        # guarantee is the record's claim per event id, not SOLAPI's duplicate check.
        body: dict[str, Any] = {
            "messages": [message_json(m, image_ids.get(m.ref)) for m in messages],
            "allowDuplicates": True,
            "showMessageList": True,
        }
        if scheduled_date:
            body["scheduledDate"] = scheduled_date
        try:
            reply = self.http.call("POST", "/messages/v4/send-many/detail", body=body)
        except TransportError as exc:
            verdict = Verdict.RETRY if exc.surely_not_sent else Verdict.UNKNOWN
            return [MessageResult(m.ref, verdict, exc.code, exc.reason) for m in messages]
        if reply.status != 200 or not isinstance(reply.body, dict):
            error = error_of(reply)
            if error.verdict in (Verdict.REJECTED, Verdict.FALLBACK) and len(messages) > 1:
                # Refused as a whole before anything was registered, for a reason that may be one message's:
                # that one must not reject the others (nor send SMS into AlimTalk's fallback), so each goes
                # again alone and gets its own verdict.
                return [r for m in messages for r in self._send([m], image_ids, scheduled_date)]
            return [MessageResult(m.ref, error.verdict, error.code, error.reason) for m in messages]
        return self._settle(messages, reply.body, image_ids)

    def _settle(
        self, messages: Sequence[OutMessage], body: dict[str, Any], image_ids: Mapping[str, str]
    ) -> list[MessageResult]:
        group = body.get("groupInfo")
        group_id = str(group.get("groupId")) if isinstance(group, dict) and group.get("groupId") else None
        by_ref = {m.ref: m for m in messages}
        unmatched_to: dict[str, list[str]] = {}
        for m in messages:
            unmatched_to.setdefault(m.to, []).append(m.ref)
        settled: dict[str, MessageResult] = {}

        def match(entry: dict[str, Any]) -> str | None:
            ref = _ref_of(entry)
            if ref in by_ref and ref not in settled:
                return ref
            # No reference echoed back: by recipient, only when that recipient is unambiguous.
            candidates = [r for r in unmatched_to.get(str(entry.get("to") or ""), []) if r not in settled]
            return candidates[0] if len(candidates) == 1 else None

        for entry in _entries(body.get("failedMessageList")):
            ref = match(entry)
            if ref is None:
                continue
            row = codes.status(entry.get("statusCode"))
            verdict = row.send if row.send != Verdict.ACCEPTED else Verdict.UNKNOWN
            said = entry.get("statusMessage")
            reason = row.reason + (
                f" (SOLAPI said: {mask_in_text(str(said))})" if said and str(said) != row.text else ""
            )
            if row.code in codes.STALE_IMAGE and ref in image_ids:
                self.images.forget(image_ids[ref])
            settled[ref] = MessageResult(ref, verdict, row.code, reason, None, group_id)
        for entry in _entries(body.get("messageList")):
            ref = match(entry)
            message_id = entry.get("messageId")
            if ref is None:
                continue
            if not message_id:
                settled[ref] = MessageResult(
                    ref, Verdict.UNKNOWN, "bad-reply", "registered without a messageId", None, group_id
                )
                continue
            row = codes.status(entry.get("statusCode") or codes.REGISTERED)
            settled[ref] = MessageResult(ref, Verdict.ACCEPTED, row.code, row.reason, str(message_id), group_id)
        return [
            settled.get(m.ref)
            or MessageResult(
                m.ref,
                Verdict.UNKNOWN,
                "bad-reply",
                "SOLAPI's reply has no entry for this message: whether it was registered is unknown",
                None,
                group_id,
            )
            for m in messages
        ]

    # -- reports ---------------------------------------------------------------------------------

    def message(self, message_id: str) -> dict[str, Any] | None:
        """The message as the list API shows it, or None when SOLAPI does not list it (yet)."""
        reply = self.http.json_ok("GET", "/messages/v4/list", query=criteria(messageId=message_id))
        for entry in _entries(reply.get("messageList") if isinstance(reply, dict) else None):
            if str(entry.get("messageId")) == message_id:
                return entry
        return None

    def report(self, message_id: str) -> SolapiReport:
        entry = self.message(message_id)
        if entry is None:
            return SolapiReport(message_id, ReportOutcome.PENDING, "", "not listed yet")
        code = str(entry.get("statusCode") or "").strip()
        row = codes.status(code)
        outcome = row.report
        kind = str(entry.get("type") or "").upper()
        if outcome != ReportOutcome.FAILED or kind != "ATA":
            via = (kind.lower() if kind != "ATA" else "alimtalk") if outcome == ReportOutcome.DELIVERED else None
            return SolapiReport(message_id, outcome, code, row.reason, via, kind=kind)
        kakao = entry.get("kakaoOptions")
        sms_off = bool(kakao.get("disableSms")) if isinstance(kakao, dict) else True
        # SOLAPI's fallback needs a sender number: an AlimTalk sent without one has none to wait for.
        if sms_off or code not in codes.KAKAO_FAILURES or not entry.get("from"):
            return SolapiReport(
                message_id, ReportOutcome.FAILED, code, row.reason, None, fallback_used=False, kind=kind
            )
        return self._fallback_report(entry, code, row)

    def _fallback_report(self, ata: Mapping[str, Any], code: str, row: codes.StatusCode) -> SolapiReport:
        """The AlimTalk failed on Kakao's side and SOLAPI's SMS fallback was on: its replacement message
        (same group, same recipient, replacement true) carries the final word."""
        message_id = str(ata.get("messageId"))
        query = criteria(groupId=str(ata.get("groupId") or ""), to=str(ata.get("to") or ""))
        reply = self.http.json_ok("GET", "/messages/v4/list", query=query)
        entries = _entries(reply.get("messageList") if isinstance(reply, dict) else None)
        fallback = next((e for e in entries if e.get("replacement") is True and e.get("messageId") != message_id), None)
        if fallback is None:
            return SolapiReport(
                message_id, ReportOutcome.PENDING, code, f"{row.reason}; waiting for SOLAPI's fallback SMS", kind="ATA"
            )
        fb_code = str(fallback.get("statusCode") or "").strip()
        fb = codes.status(fb_code)
        combined = f"{code}/{fb_code}"
        reason = f"AlimTalk {row.reason}; fallback {fb.reason}"
        if fb.report == ReportOutcome.PENDING:
            return SolapiReport(message_id, ReportOutcome.PENDING, combined, reason, kind="ATA")
        via = str(fallback.get("type") or "sms").lower() if fb.report == ReportOutcome.DELIVERED else None
        return SolapiReport(message_id, fb.report, combined, reason, via, fallback_used=True, kind="ATA")

    # -- templates and account -------------------------------------------------------------------

    def templates(self, pf_id: str | None = None, page: int = 100) -> dict[str, Template]:
        """Every kakao template (all pages), keyed by templateId, in the domain's shape."""
        out: dict[str, Template] = {}
        start: str | None = None
        seen: set[str] = set()
        for _ in range(1000):  # a bound, with the check below, in case a server keeps answering one nextKey
            query = {"limit": str(page)}
            if pf_id:
                query["pfId"] = pf_id
            if start:
                query["startKey"] = start
            reply = self.http.json_ok("GET", "/kakao/v2/templates", query=query)
            for t in reply.get("templateList") or [] if isinstance(reply, dict) else []:
                parsed = parse_template(t)
                if parsed is not None:
                    out[parsed.code] = parsed
            start = reply.get("nextKey") if isinstance(reply, dict) else None
            if not start or start in seen:
                break
            seen.add(start)
        return out

    def template(self, template_id: str) -> Template | None:
        try:
            reply = self.http.json_ok("GET", f"/kakao/v2/templates/{quote(template_id, safe='')}")
        except SolapiError as exc:
            if exc.error.code == "NotFound" or exc.error.code == "http-404":
                return None
            raise
        return parse_template(reply)

    def balance(self) -> float:
        reply = self.http.json_ok("GET", "/cash/v1/balance")
        value = reply.get("balance") if isinstance(reply, dict) else None
        if not isinstance(value, int | float):
            raise SolapiError(codes.RequestError("bad-reply", Verdict.UNKNOWN, "SOLAPI's balance reply had no balance"))
        return float(value)


@dataclass(frozen=True)
class SolapiReport:
    message_id: str
    outcome: ReportOutcome
    code: str  # statusCode, or "ATA/fallback" statusCodes when SOLAPI's fallback SMS decided it
    reason: str
    delivered_via: str | None = None  # "alimtalk", or the sms/lms/mms kind that reached the phone
    fallback_used: bool | None = None
    kind: str = ""


def parse_template(t: Any) -> Template | None:
    if not isinstance(t, dict) or not t.get("templateId"):
        return None
    status = str(t.get("status") or "")
    if not status:
        inspected = t.get("codes")
        first = inspected[0] if isinstance(inspected, list) and inspected and isinstance(inspected[0], dict) else {}
        status = str(first.get("status") or "")
    buttons = tuple(
        TemplateButton(
            type=BUTTON_TYPES.get(str(b.get("buttonType")), str(b.get("buttonType"))),
            name=str(b.get("buttonName") or ""),
            url=b.get("linkMo") or None,
            url2=b.get("linkPc") or None,
        )
        for b in t.get("buttons") or []
        if isinstance(b, dict) and b.get("buttonType")
    )
    return Template(
        code=str(t["templateId"]),
        name=str(t.get("name") or ""),
        text=str(t.get("content") or ""),
        status=TEMPLATE_STATUS.get(status, status),
        buttons=buttons,
    )
