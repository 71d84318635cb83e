"""Time in the record and on the wire: the record's timestamp format, one definition for every
writer and reader, and Korea time (KST, UTC+9, no daylight saving), in which the providers take
send times.

ISO 8601 in UTC with milliseconds and a Z (2026-12-01T00:00:00.000Z): fixed width, so the strings
sort and compare as the moments do (the operator CLI's `status --since` relies on it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), "KST")


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
