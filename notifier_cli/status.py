"""Records: one by id (a consistent GetItem), or counts per status since a moment (a Scan).

The table has no index on accepted_at, deliberately: the dispatcher and the poller never need one,
and an index costs on every write. An operator's count scans the whole table instead.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from notifier.aws.dynamo import deserialize
from notifier.domain.status import Status
from notifier.domain.timefmt import iso_utc
from notifier.providers.apistore.codes import kko_rslt, ppurio_report

from .aws import Aws
from .errors import CliError, UsageError
from .output import one_line

MEANING = {
    "sending": "claimed by a dispatcher; the provider call is in flight (or will be retried)",
    "sent": "the provider accepted it (has a cmid); waiting for the report",
    "delivered": "the report says delivered",
    "failed": "cannot be delivered",
    "rejected": "invalid event, or the provider refused its parameters; never retried",
    "unknown": "the outcome cannot be known; not sent again",
}
LABEL_WIDTH = 16
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def since(value: str, now: datetime | None = None) -> datetime:
    """'90m', '1h', '2d', or an ISO time (UTC when it has no offset)."""
    now = now or datetime.now(UTC)
    m = _DURATION.match(value)
    if m:
        return now - timedelta(seconds=float(m[1]) * _UNITS[m[2]])
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--since takes a duration like 30m, 1h, 2d or an ISO time, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    # In the records' own format (fixed width), so the strings compare as the moments do.
    return iso_utc(moment.timestamp())


def get(aws: Aws, record_id: str) -> dict[str, Any] | None:
    resp = aws.client("dynamodb").get_item(TableName=aws.table, Key={"id": {"S": record_id}}, ConsistentRead=True)
    return deserialize(resp["Item"]) if "Item" in resp else None


def _kst(stamp: str) -> str:
    if len(stamp) == 14 and stamp.isdigit():
        return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[8:10]}:{stamp[10:12]}:{stamp[12:]} KST"
    return stamp


def _report_meaning(rec: dict[str, Any]) -> str:
    code = str(rec.get("report_code") or "")
    if rec.get("report_reason"):
        return str(rec["report_reason"])
    if rec.get("channel_used") == "alimtalk":
        return kko_rslt(code).reason
    return ppurio_report(code).reason if code else ""


def render(rec: dict[str, Any]) -> str:
    shown: set[str] = {"id"}
    lines: list[tuple[str, str]] = [("id", str(rec["id"]))]

    def add(label: str, value: Any, *keys: str) -> None:
        shown.update(keys)
        if value not in (None, "", [], {}):
            lines.append((label, str(value)))

    status = str(rec.get("status", ""))
    add("status", f"{status}: {MEANING.get(status, 'not a status of this system')}", "status")
    asked, used = rec.get("channel_requested"), rec.get("channel_used")
    conversion = f" ({rec['conversion']})" if rec.get("conversion") else ""
    add(
        "channel",
        f"asked {asked or '-'}, used {used or '-'}{conversion}",
        "channel_requested",
        "channel_used",
        "conversion",
    )
    route = []
    fallback = rec.get("fallback")
    if fallback == "provider":
        kind = rec.get("fallback_type") or "SMS/LMS"
        route.append(f"AlimTalk; if Kakao cannot deliver, the provider sends it as {kind} (provider-side fallback)")
    elif fallback == "app":
        route.append("AlimTalk not sent; the dispatcher sent the fallback SMS/LMS itself (app-side fallback)")
    elif fallback == "none" or rec.get("fallback_type") == "N":
        route.append("AlimTalk, no fallback")
    elif fallback:
        route.append(f"fallback {fallback}")
    if rec.get("alimtalk_code") or rec.get("alimtalk_reason"):
        route.append(f"AlimTalk refused: {rec.get('alimtalk_code', '')} {rec.get('alimtalk_reason', '')}".strip())
    if rec.get("phase"):
        route.append(f"phase {rec['phase']}")
    add("route", "; ".join(route), "fallback", "fallback_type", "alimtalk_code", "alimtalk_reason", "phase")
    add("test mode", "yes (msg_test: validated, never delivered)" if rec.get("test") else None, "test")
    add("cmid", rec.get("cmid"), "cmid")
    add("provider code", rec.get("provider_code"), "provider_code")
    add("reason", rec.get("reason"), "reason")
    if rec.get("last_error") != rec.get("reason"):
        add("last error", rec.get("last_error"), "last_error")
    shown.add("last_error")
    if rec.get("report_code") is not None:
        via = f", delivered via {rec['delivered_via']}" if rec.get("delivered_via") else ""
        fb = ", after the provider's fallback SMS/LMS was sent" if rec.get("fallback_used") else ""
        add("report", f"{rec['report_code']}: {_report_meaning(rec)}{via}{fb}", "report_code", "report_reason")
    shown.update(("delivered_via", "fallback_used"))
    add("report time", _kst(str(rec["report_time"])) if rec.get("report_time") else None, "report_time")
    add("scheduled for", _kst(str(rec["scheduled_for"])) if rec.get("scheduled_for") else None, "scheduled_for")
    for key in ("accepted_at", "sent_at", "reported_at", "updated_at", "last_polled_at"):
        add(key.replace("_", " "), rec.get(key), key)
    attempts = f"{rec.get('attempts', 0)}"
    if rec.get("receive_count") is not None:
        attempts += f" (SQS receive count {rec['receive_count']})"
    add("attempts", attempts, "attempts", "receive_count")
    add("report polls", rec.get("polls"), "polls")
    add("poll note", rec.get("poll_note"), "poll_note")
    if rec.get("next_poll_at"):
        add("next poll", datetime.fromtimestamp(int(rec["next_poll_at"]), UTC).isoformat(), "next_poll_at")
    add(
        "dead-lettered",
        "yes: in the DLQ; `notifier dlq redrive --id` sends it again" if rec.get("dead_lettered") else None,
        "dead_lettered",
    )
    add("recipient", rec.get("recipient"), "recipient")
    add("sender", rec.get("sender"), "sender")
    meta = rec.get("metadata") or {}
    add("metadata", json.dumps(meta, ensure_ascii=False) if meta else None, "metadata")
    if rec.get("expires_at"):
        add("expires", datetime.fromtimestamp(int(rec["expires_at"]), UTC).date().isoformat() + " (TTL)", "expires_at")
    if rec.get("raw_body"):
        add("raw body", one_line(rec["raw_body"], 300), "raw_body")
    for key in sorted(set(rec) - shown):
        lines.append((key[: LABEL_WIDTH - 2], one_line(rec[key], 300)))
    return "\n".join(f"{label:<{LABEL_WIDTH}}{value}" for label, value in lines)


def show(aws: Aws, record_id: str, as_json: bool) -> int:
    rec = get(aws, record_id)
    if rec is None:
        raise CliError(f"no record with id {record_id!r} in table {aws.table}")
    print(json.dumps(rec, ensure_ascii=False, indent=2, sort_keys=True) if as_json else render(rec))
    return 0


def counts(aws: Aws, since_value: str, as_json: bool) -> int:
    try:
        start = since(since_value)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    per_status: Counter[str] = Counter()
    scanned = 0
    capacity = 0.0
    paginator = aws.client("dynamodb").get_paginator("scan")
    pages = paginator.paginate(
        TableName=aws.table,
        FilterExpression="accepted_at >= :since",
        ProjectionExpression="#s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":since": {"S": _iso(start)}},
        ReturnConsumedCapacity="TOTAL",
    )
    for page in pages:
        scanned += int(page.get("ScannedCount", 0))
        capacity += float((page.get("ConsumedCapacity") or {}).get("CapacityUnits", 0) or 0)
        for item in page.get("Items", []):
            per_status[item.get("status", {}).get("S", "(none)")] += 1
    total = sum(per_status.values())
    if as_json:
        print(json.dumps({"since": _iso(start), "total": total, "by_status": dict(per_status), "scanned": scanned}))
        return 0
    print(f"records accepted since {_iso(start)}: {total}")
    order = [s.value for s in Status] + sorted(set(per_status) - {s.value for s in Status})
    for name in order:
        print(f"  {name:<10} {per_status.get(name, 0):>8,}")
    cost = f", {capacity:g} read capacity units" if capacity else ""
    print(f"(a scan of the whole table: {scanned:,} items read{cost})")
    return 0
