"""A record already holds this id: a plain duplicate (acknowledged, nothing sent), or a conflict
(the same id with other content: a producer bug, counted and alarmed; the first event wins)."""

from __future__ import annotations

import logging
from typing import Any

from .dispatching import Inbound, Outcome

log = logging.getLogger("notifier.dispatch")


def conflict(record_id: str, existing: dict[str, Any], fp: str, m: Inbound) -> Outcome | None:
    """A second event with the id of the first and other content: a producer bug. The first event
    wins, as for any duplicate, but this one is counted (ConflictingDuplicate, alarmed) and logged."""
    first = existing.get("fingerprint")
    if not first or first == fp:  # records written before fingerprints cannot tell: a plain duplicate
        return None
    status = str(existing.get("status", ""))
    log.warning(
        "duplicate id with different content: the first event wins, this one is not sent",
        extra={
            "record_id": record_id,
            "status": status,
            "first_fingerprint": first,
            "this_fingerprint": fp,
            "sqs_message_id": m.message_id,
        },
    )
    reason = f"duplicate id with different content ({fp}, first {first}); not sent: the first event wins"
    return Outcome("ack", "conflict", record_id, status, reason)


def duplicate(record_id: str, existing: dict[str, Any]) -> Outcome:
    status = str(existing.get("status", ""))
    log.info("duplicate", extra={"record_id": record_id, "status": status})
    return Outcome("ack", "duplicate", record_id, status, f"duplicate of a record already {status}")
