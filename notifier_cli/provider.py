"""One provider call, its reply checked: a result_code other than 200 becomes a ProviderRefusal that
names the code, the spec's meaning and what the operator can do about it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notifier.providers.apistore.client import ApiStoreHttp, TransportError

from .errors import CliError, ProviderRefusal


def call(
    http: ApiStoreHttp,
    method: str,
    path: str,
    *,
    what: str,
    table: Mapping[str, str],
    hints: Mapping[str, str] | None = None,
    fields: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    try:
        reply = http.call(method, path, fields=fields, query=query)
    except TransportError as exc:
        raise CliError(f"{what}: {exc.reason} ({http.base_url})") from None
    if reply.status != 200:
        raise CliError(f"{what}: the provider answered HTTP {reply.status} ({http.base_url})")
    if reply.body is None:
        raise CliError(f"{what}: the provider's reply is not a JSON object ({len(reply.raw)} bytes)")
    code = str(reply.body.get("result_code", "")).strip()
    if code != "200":
        said = str(reply.body.get("result_message") or reply.body.get("result_msg") or "")
        meaning = table.get(code, f"not in the spec's table for this call (kept verbatim: {code!r})")
        raise ProviderRefusal(what, code or "(none)", meaning, (hints or {}).get(code, ""), said)
    return reply.body
