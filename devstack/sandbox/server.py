"""The HTTP server: routing, request parsing, faults, and the Sandbox object that owns it all."""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import html
import json
import re
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import inbox, inspection, kko, ppurio, rules
from .config import ERROR_PAGE_STYLES, SandboxConfig
from .solapi import api as solapi_api
from .solapi import codes as solapi_codes
from .solapi.auth import AuthError
from .solapi.store import SolapiState
from .store import PIN_TTL_S, Faults, Pending, ProviderError, State, Upload

MAX_BODY = 10 * 1024 * 1024
SEND_KINDS = ("sms", "lms", "mms", "sms_test", "lms_test", "mms_test", "kko_msg", "kko_test")

Handler = Callable[[State, dict[str, str], list[Upload], str, str], Any]

# API Store's routes: (path pattern, request kind, methods, result-code table, handler).
# SOLAPI's JSON API has its own table in solapi/api.py; the paths do not overlap.
ROUTES: list[tuple[re.Pattern[str], str, tuple[str, ...], str, Handler]] = [
    (
        re.compile(r"/ppurio/1/message/(sms|lms|mms)/([^/]+)"),
        "{0}",
        ("POST",),
        "ppurio",
        lambda st, p, f, kind, client: ppurio.send(st, kind, p, f),
    ),
    (
        re.compile(r"/ppurio/1/message/(report)/([^/]+)"),
        "report",
        ("GET", "POST"),
        "ppurio",
        lambda st, p, f, kind, client: ppurio.report(st, p),
    ),
    (
        re.compile(r"/ppurio_test/1/message_test/(sms|lms|mms)/([^/]+)"),
        "{0}_test",
        ("POST",),
        "ppurio",
        lambda st, p, f, kind, client: ppurio.send(st, kind.removesuffix("_test"), p, f, test=True),
    ),
    (
        re.compile(r"/ppurio_test/1/message_test/(report)/([^/]+)"),
        "report_test",
        ("GET", "POST"),
        "ppurio",
        lambda st, p, f, kind, client: ppurio.report(st, p, test=True),
    ),
    (
        re.compile(r"/ppurio/1/sendnumber/(save)/([^/]+)"),
        "sendnumber_save",
        ("POST",),
        "ppurio_sendnumber",
        lambda st, p, f, kind, client: ppurio.sendnumber_save(st, p),
    ),
    (
        re.compile(r"/ppurio/2/sendnumber/(save)/([^/]+)"),
        "sendnumber_save_v2",
        ("POST",),
        "sendnumber_pin",
        lambda st, p, f, kind, client: ppurio.sendnumber_save_with_pin(st, p),
    ),
    (
        re.compile(r"/ppurio/1/sendnumber/(list)/([^/]+)"),
        "sendnumber_list",
        ("GET", "POST"),
        "ppurio_sendnumber",
        lambda st, p, f, kind, client: ppurio.sendnumber_list(st, p),
    ),
    (
        re.compile(r"/kko/1/(msg)/([^/]+)"),
        "kko_msg",
        ("POST",),
        "kko",
        lambda st, p, f, kind, client: kko.send(st, p, client, test=False),
    ),
    (
        re.compile(r"/kko/1/(msg_test)/([^/]+)"),
        "kko_test",
        ("POST",),
        "kko",
        lambda st, p, f, kind, client: kko.send(st, p, client, test=True),
    ),
    (
        re.compile(r"/kko/1/(report)/([^/]+)"),
        "kko_report",
        ("GET", "POST"),
        "kko",
        lambda st, p, f, kind, client: kko.report(st, p),
    ),
    (
        re.compile(r"/kko/1/template/(list)/([^/]+)"),
        "template_list",
        ("GET", "POST"),
        "kko",
        lambda st, p, f, kind, client: kko.template_list(st, p),
    ),
    (
        re.compile(r"/kko/2/sendnumber/(save)/([^/]+)"),
        "kko_sendnumber_save",
        ("POST",),
        "sendnumber_pin",
        lambda st, p, f, kind, client: kko.sendnumber_save(st, p),
    ),
    (
        # Version 2 of the list (a public client calls it) answers as version 1 does.
        re.compile(r"/kko/[12]/sendnumber/(list)/([^/]+)"),
        "kko_sendnumber_list",
        ("GET", "POST"),
        "sendnumber_pin",
        lambda st, p, f, kind, client: kko.sendnumber_list(st, p),
    ),
]


class BodyError(ValueError):
    pass


# The live service answered from Tomcat (server header Apache-Coyote/1.1): a path no servlet took, or a
# method the servlet does not implement, got the container's own HTML error report, not JSON.
TOMCAT = "Apache Tomcat/7.0.47"
_TOMCAT_STYLE = (
    "H1 {font-family:Tahoma,Arial,sans-serif;color:white;background-color:#525D76;font-size:22px;} "
    "H3 {font-family:Tahoma,Arial,sans-serif;color:white;background-color:#525D76;font-size:14px;} "
    "BODY {font-family:Tahoma,Arial,sans-serif;color:black;background-color:white;} "
    "B {font-family:Tahoma,Arial,sans-serif;color:white;background-color:#525D76;} "
    "P {font-family:Tahoma,Arial,sans-serif;background:white;color:black;font-size:12px;} "
    "HR {color : #525D76;}"
)
NOT_FOUND = "The requested resource is not available."
NOT_ALLOWED = "The specified HTTP method is not allowed for the requested resource."


def tomcat_error_page(status: int, message: str, description: str) -> bytes:
    """Tomcat 7's error report page (ErrorReportValve), the message HTML-escaped as Tomcat does."""
    text = html.escape(message)
    rule = '<HR size="1" noshade="noshade">'
    return (
        f"<html><head><title>{TOMCAT} - Error report</title><style><!--{_TOMCAT_STYLE}--></style> </head>"
        f"<body><h1>HTTP Status {status} - {text}</h1>{rule}<p><b>type</b> Status report</p>"
        f"<p><b>message</b> <u>{text}</u></p><p><b>description</b> <u>{description}</u></p>"
        f"{rule}<h3>{TOMCAT}</h3></body></html>"
    ).encode()


def _merge(target: dict[str, str], pairs: list[tuple[str, str]]) -> None:
    # Field names are case-insensitive on the live server; the first non-empty value wins.
    for key, value in pairs:
        key = key.lower()
        if not target.get(key):
            target[key] = value


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], list[Upload]]:
    fields: dict[str, str] = {}
    files: list[Upload] = []
    if not body:
        return fields, files
    if content_type.lower().startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        if not message.is_multipart():
            raise BodyError("multipart body without parts (boundary missing?)")
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None or name.lower() in ("file", "smsexcel"):
                files.append(Upload(name.lower(), filename or "", part.get_content_type(), data))
                continue
            try:
                _merge(fields, [(name, data.decode(part.get_content_charset() or "utf-8"))])
            except (UnicodeDecodeError, LookupError) as exc:
                raise BodyError(f"field {name} is not UTF-8") from exc
        return fields, files
    try:
        text = body.decode("utf-8")
        _merge(fields, parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"))
    except UnicodeDecodeError as exc:
        raise BodyError("the form body is not UTF-8 (send application/x-www-form-urlencoded; charset=UTF-8)") from exc
    return fields, files


_SLASH_RUNS = re.compile(r"/{2,}")


def request_target(target: str) -> tuple[str, dict[str, str]]:
    """The routing path and the query of a request line's target.

    The live service ran on Tomcat, which merges runs of '/' before routing, so a client whose base URL
    ends in '/' (or whose path has an inner '//') reached the endpoint; the query string is untouched.
    Split by hand: urlsplit reads a target starting with '//' as a host name.
    """
    raw_path, _, raw_query = target.partition("#")[0].partition("?")
    path = _SLASH_RUNS.sub("/", unquote(raw_path)).rstrip("/") or "/"
    query: dict[str, str] = {}
    _merge(query, parse_qsl(raw_query, keep_blank_values=True))
    return path, query


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: Sandbox


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache-Coyote/1.1"
    sys_version = ""
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits ~40 ms per reply.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines only (no headers), so the API key never reaches a log.
        if self.server.sandbox.config.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise BodyError("request body too large")
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json;charset=UTF-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    def _send_error_page(self, status: int, message: str, description: str, said: str, headers: dict[str, str]) -> None:
        """A provider path's 404 / 405 in the configured style: Tomcat's HTML page (message, description) or
        the earlier sandbox's JSON {"error": said}."""
        if self.server.sandbox.state.error_pages == "json":
            self._send(status, json.dumps({"error": said}).encode("utf-8"), headers=headers)
            return
        page = tomcat_error_page(status, message, description)
        self._send(status, page, "text/html;charset=utf-8", {"Content-Language": "en", **headers})

    def _handle(self) -> None:
        path, query = request_target(self.path)
        try:
            body = self._read_body()
        except (BodyError, ValueError):
            self.close_connection = True
            self._send_json(400, {"error": "unreadable request body"})
            return
        if self.command == "GET" and self._web(path):
            return
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            self._inspect(path, query, body)
        else:
            self._provider(path, query, body)

    # --- the inbox page (GET only, under /_sandbox/ but for the redirect from /) ---------------------

    def _web(self, path: str) -> bool:
        """Serve the inbox page, its files, MMS images and its live-update stream; False for other paths."""
        if path == "/":
            self.send_response(302)
            self.send_header("Location", "/_sandbox/inbox")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        if path == "/_sandbox/inbox/stream":
            self._stream()
            return True
        found = None
        if path == "/_sandbox/inbox":
            found = inbox.asset("inbox.html")
        elif path.startswith("/_sandbox/web/"):
            found = inbox.asset(path.removeprefix("/_sandbox/web/"))
        elif match := re.fullmatch(r"/_sandbox/images/(apistore|solapi)/([^/]+)/(\d+)", path):
            data = inbox.image(self.server.sandbox, match.group(1), match.group(2), int(match.group(3)))
            found = None if data is None else (data, "image/jpeg" if data[:3] == b"\xff\xd8\xff" else "image/png")
        elif not path.startswith("/_sandbox/web"):
            return False
        if found is None:
            self._send_json(404, {"error": f"no such file: {path}"})
        else:
            self._send(200, *found)
        return True

    def _stream(self) -> None:
        """Server-sent events: a `change` event whenever what the page shows changes (checked twice a
        second, reports settling with the clock included). Each stream holds its own thread; it ends
        when the client goes or the sandbox stops."""
        sandbox = self.server.sandbox
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        last, idle = "", 0
        try:
            while not sandbox.stopping:
                mark = inbox.fingerprint(inbox.snapshot(sandbox))
                if mark != last:
                    self.wfile.write(f"event: change\ndata: {mark}\n\n".encode())
                    last, idle = mark, 0
                elif (idle := idle + 1) >= 30:
                    self.wfile.write(b": keep-alive\n\n")  # finds a closed tab within 15 s
                    idle = 0
                self.wfile.flush()
                sandbox.sleep(0.5)
        except OSError:
            pass  # the page went away

    def _inspect(self, path: str, query: dict[str, str], body: bytes) -> None:
        try:
            payload = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._send_json(400, {"error": "the body must be JSON (UTF-8)"})
            return
        status, reply = inspection.handle(self.server.sandbox, self.command, path, query, payload)
        self._send_json(status, reply)

    def _provider(self, path: str, query: dict[str, str], body: bytes) -> None:
        sandbox = self.server.sandbox
        state = sandbox.state
        solapi_route = solapi_api.route(path)
        if solapi_route is not None:
            self._solapi(solapi_route, body)
            return
        route = next(((r, m) for r in ROUTES if (m := r[0].fullmatch(path))), None)
        if route is None and solapi_api.owns(path):
            state.count_request("unknown")
            self._send_json(404, {"errorCode": "NotFound", "errorMessage": f"no such endpoint: {path}"})
            return
        if route is None:
            state.count_request("unknown")
            # Tomcat's message is the request URI as sent (runs of '/' and all), without the query string.
            self._send_error_page(404, self.path.partition("?")[0], NOT_FOUND, f"no such endpoint: {path}", {})
            return
        (_, kind_template, methods, table, handler), match = route
        kind = kind_template.format(match.group(1))
        client_id = match.group(2)
        state.count_request(kind)

        fault, faults = state.draw_fault()
        if faults.latency_ms:
            sandbox.sleep(faults.latency_ms / 1000)
        if fault == "5xx":
            self._send(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html")
            return
        if self.command not in methods:
            message = f"HTTP method {self.command} is not supported by this URL"
            said = f"{self.command} is not allowed on {path}"
            self._send_error_page(405, message, NOT_ALLOWED, said, {"Allow": ", ".join(methods)})
            return

        result: Any
        if self.headers.get("x-waple-authorization") != sandbox.config.api_key:
            result = rules.fail(table, "100", "x-waple-authorization is missing or wrong")
        elif client_id != sandbox.config.client_id:
            result = rules.fail(table, "100", f"client_id {client_id} does not match the key")
        elif fault is not None and fault != "timeout" and kind in SEND_KINDS:
            result = ProviderError(fault, rules.MESSAGES[table].get(fault, "sandbox result-code fault"))
        else:
            try:
                params, files = parse_form(self.headers.get("Content-Type", ""), body)
                _merge(params, list(query.items()))
                result = handler(state, params, files, kind, client_id)
            except BodyError as exc:
                result = rules.param_error(str(exc))
            except ProviderError as exc:
                result = exc

        if isinstance(result, ProviderError) and kind in SEND_KINDS:
            self._note_refusal(kind, query, body, result)
        if fault == "timeout":
            # Accepted and recorded, but the reply is lost: the client can only time out.
            sandbox.sleep(faults.timeout_s)
            self.close_connection = True
            return
        if isinstance(result, ProviderError):
            self._send_json(200, {"result_code": result.code, "result_message": result.message})
        elif isinstance(result, Pending):
            self._send_pending()
        else:
            self._send_json(200, result)

    def _note_refusal(self, kind: str, query: dict[str, str], body: bytes, error: ProviderError) -> None:
        # Parsed again: a fault refuses before the handler reads the form.
        with contextlib.suppress(BodyError, ValueError):
            params, _ = parse_form(self.headers.get("Content-Type", ""), body)
            _merge(params, list(query.items()))
            self.server.sandbox.state.note_refusal(inbox.apistore_refusal(kind, params, error.code, error.message))

    def _solapi(self, found: tuple[Any, re.Match[str]], body: bytes) -> None:
        """SOLAPI: JSON in and out, HMAC auth, errors as HTTP 4xx {"errorCode", "errorMessage"}."""
        (_, methods, kind, handler), match = found
        sandbox = self.server.sandbox
        state, sol = sandbox.state, sandbox.solapi
        state.count_request(kind)
        fault, faults = state.draw_fault()
        if faults.latency_ms:
            sandbox.sleep(faults.latency_ms / 1000)
        if fault == "5xx":
            self._send_json(503, {"errorCode": "ServiceUnavailable", "errorMessage": "sandbox 5xx fault"})
            return
        status, result = 200, None
        try:
            if self.command not in methods:
                raise solapi_api.ApiError(
                    (405, "MethodNotAllowed"), f"{self.command} is not allowed on {match.group(0)}"
                )
            with sol.lock:
                sol.verifier.verify(self.headers.get("Authorization"), state.clock())
            try:
                payload = json.loads(body.decode("utf-8")) if body.strip() else {}
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise solapi_api.ApiError((400, "ValidationError"), "the body must be JSON (UTF-8)") from exc
            # SOLAPI's query names are camelCase (startKey, groupId): kept as sent, not lower-cased.
            exact = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            request = {"match": match, "query": exact, "body": payload, "base_url": sandbox.url}
            if fault is not None and fault != "timeout" and kind in solapi_api.SEND_KINDS:
                forced = solapi_api.fault_reply(fault)
                if isinstance(forced, solapi_api.ApiError):
                    raise forced
                request["fault_code"] = forced
            with sol.lock:
                sol.settle()
                result = handler(sol, request)
        except (AuthError, solapi_api.ApiError) as exc:
            status, result = exc.status, {"errorCode": exc.code, "errorMessage": exc.message}
        if fault == "timeout":
            sandbox.sleep(faults.timeout_s)
            self.close_connection = True
            return
        self._send_json(status, result)

    def _send_pending(self) -> None:
        style = self.server.sandbox.state.report_pending
        if style == "null":
            self._send(200, b"null")
        elif style == "empty":
            self._send(200, b"")
        else:
            self._send_json(200, {"result_code": "200", "result_message": "result is null"})


class Sandbox:
    """The API Store provider on loopback. start() returns self; url is set once started."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.state = State(self.config)
        self.solapi = SolapiState(self.state)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._address = ("", 0)
        self.url = ""

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.config.host, self.config.port), _RequestHandler)
        server.sandbox = self
        self._address = (str(server.server_address[0]), int(server.server_address[1]))
        self.url = f"http://{self._address[0]}:{self._address[1]}"
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="provider-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        # Wakes requests sleeping in a latency or timeout fault, so stop() never waits for them.
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            stopper = threading.Thread(target=server.shutdown, daemon=True)
            stopper.start()
            # serve_forever only sees the shutdown flag at its next poll (0.5 s); a connection wakes it now,
            # which matters when every test starts and stops its own sandbox.
            while stopper.is_alive():
                with contextlib.suppress(OSError):
                    socket.create_connection(self._address, timeout=0.1).close()
                stopper.join(0.01)
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def clock(self) -> Callable[[], float]:
        return self.state.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.state.clock = clock

    # --- inspection ----------------------------------------------------------------------------

    def messages(self) -> list[dict[str, Any]]:
        """Every accepted message: what would reach a phone (one entry per recipient), API Store's first,
        then SOLAPI's (its AlimTalk fallback SMS included); each says its provider."""
        with self.state.lock:
            self.solapi.settle()
            now = self.state.clock()
            return [m.public() for m in self.state.messages] + [
                m.public(now) for m in sorted(self.solapi.messages.values(), key=lambda m: m.accepted_at)
            ]

    def test_messages(self) -> list[dict[str, Any]]:
        """Messages that passed msg_test: validated, never delivered."""
        with self.state.lock:
            return [m.public() for m in self.state.test_messages]

    def requests_count(self) -> dict[str, int]:
        with self.state.lock:
            return dict(self.state.requests)

    def reset(self) -> None:
        self.state.reset()
        self.solapi.reset()

    def clear_inbox(self) -> None:
        """What the page's clear button does: hide every message there is now (and forget refused
        sends). The messages themselves stay, so the product's report queries still get answers."""
        self.state.hide_from_inbox({entry["id"] for entry in inbox.view(self)})

    @property
    def balance(self) -> int:
        with self.state.lock:
            return self.state.balance

    def set_balance(self, balance: int) -> None:
        with self.state.lock:
            self.state.balance = int(balance)

    @property
    def solapi_balance(self) -> float:
        with self.state.lock:
            self.solapi.settle()
            return self.solapi.balance

    def set_solapi_balance(self, balance: float) -> None:
        with self.state.lock:
            self.solapi.balance = float(balance)

    def senders(self) -> dict[str, list[dict[str, Any]]]:
        with self.state.lock:
            return {
                api: [{"sendnumber": n, **entry} for n, entry in registry.items()]
                for api, registry in (
                    ("ppurio", self.state.ppurio_senders),
                    ("kko", self.state.kko_senders),
                    ("solapi", self.solapi.senders),
                )
            }

    def _registries(self, api: str) -> list[dict[str, dict[str, Any]]]:
        registries = {
            "ppurio": [self.state.ppurio_senders],
            "kko": [self.state.kko_senders],
            "solapi": [self.solapi.senders],
        }
        # "both" predates SOLAPI and stays API Store's pair; "all" adds SOLAPI's registry.
        registries["both"] = registries["ppurio"] + registries["kko"]
        registries["all"] = registries["both"] + registries["solapi"]
        if api not in registries:
            raise ValueError("api must be ppurio, kko, both, solapi or all")
        return registries[api]

    def register_sender(
        self, number: str, api: str = "both", comment: str | None = None, confirmed: bool = True
    ) -> None:
        with self.state.lock:
            for registry in self._registries(api):
                registry[number] = {"comment": comment, "USE_YN": "Y" if confirmed else "N"}

    def unregister_sender(self, number: str, api: str = "both") -> None:
        with self.state.lock:
            for registry in self._registries(api):
                registry.pop(number, None)

    def replace_senders(self, api: str, numbers: list[str]) -> None:
        with self.state.lock:
            for registry in self._registries(api):
                registry.clear()
                registry.update({n: {"comment": None, "USE_YN": "Y"} for n in numbers})

    def templates(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return copy.deepcopy(list(self.state.templates.values()))

    def set_templates(self, templates: list[dict[str, Any]]) -> None:
        """One template set for both providers: SOLAPI sees each in its own shape (solapi_templates())."""
        self.state.set_templates(templates)
        self.solapi.seed_templates(self.templates())

    def add_template(self, template: dict[str, Any]) -> dict[str, Any]:
        added = self.state.upsert_template(template)
        self.solapi.seed_templates(self.templates())
        return added

    def solapi_templates(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return copy.deepcopy(list(self.solapi.templates.values()))

    def profiles(self) -> list[str]:
        with self.state.lock:
            return list(self.state.profiles)

    def set_profiles(self, profiles: list[str]) -> None:
        with self.state.lock:
            self.state.profiles = list(profiles)

    def pins(self) -> dict[str, dict[str, Any]]:
        """Issued, unconfirmed PINs by sender number, as the phone would have received them; one per number,
        with the API that issued it (`api`: ppurio or kko), the only one where it confirms the number."""
        with self.state.lock:
            now = self.state.clock()
            return {
                number: {
                    **pin,
                    "expires_at": pin["issued_at"] + PIN_TTL_S,
                    "expired": now - pin["issued_at"] > PIN_TTL_S,
                }
                for number, pin in self.state.pins.items()
            }

    def force_outcome(self, phone: str, **outcome: Any) -> None:
        """Pin the report of messages sent to phone from now on: call_status=, rslt=, msg_rslt=, status=
        (API Store), status_code= (SOLAPI), pending=True (the report never becomes ready)."""
        unknown = set(outcome) - set(inspection.FORCED_KEYS)
        if unknown:
            raise ValueError(f"unknown outcome fields {sorted(unknown)}")
        if "status_code" in outcome and str(outcome["status_code"]) not in solapi_codes.STATUS_CODES:
            raise ValueError(f"status_code {outcome['status_code']} is not in SOLAPI's status code table")
        with self.state.lock:
            self.state.forced[phone] = {k: (v if k == "pending" else str(v)) for k, v in outcome.items()}

    def clear_outcomes(self, phone: str | None = None) -> None:
        with self.state.lock:
            if phone is None:
                self.state.forced.clear()
            else:
                self.state.forced.pop(phone, None)

    def set_outcome_mix(self, kind: str, mix: dict[str, float]) -> None:
        self.state.set_mix(kind, mix)

    def outcomes(self) -> dict[str, Any]:
        with self.state.lock:
            return {"forced": copy.deepcopy(self.state.forced), "mix": copy.deepcopy(self.state.mix)}

    def set_faults(
        self,
        latency_ms: float = 0,
        error_5xx_rate: float = 0.0,
        timeout_rate: float = 0.0,
        result_codes: dict[str, float] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        """Replace all fault settings at once; what is not given goes back to no fault."""
        self.state.set_faults(Faults(latency_ms, error_5xx_rate, timeout_rate, result_codes or {}, timeout_s))

    def faults(self) -> dict[str, Any]:
        with self.state.lock:
            return self.state.faults.to_json()

    def settings(self) -> dict[str, Any]:
        with self.state.lock:
            return {
                "report_delay_s": self.state.report_delay_s,
                "report_pending": self.state.report_pending,
                "prices": dict(self.state.prices),
                "error_pages": self.state.error_pages,
            }

    def configure(
        self,
        report_delay_s: float | None = None,
        report_pending: str | None = None,
        prices: dict[str, int] | None = None,
        error_pages: str | None = None,
    ) -> None:
        if error_pages is not None and error_pages not in ERROR_PAGE_STYLES:
            raise ValueError(f"error_pages must be one of {ERROR_PAGE_STYLES}")
        with self.state.lock:
            if report_delay_s is not None:
                self.state.report_delay_s = float(report_delay_s)
            if report_pending is not None:
                self.state.report_pending = report_pending
            if prices is not None:
                self.state.prices.update({k: int(v) for k, v in prices.items()})
            if error_pages is not None:
                self.state.error_pages = error_pages


__all__ = ["Sandbox", "SandboxConfig"]
