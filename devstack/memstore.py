"""An in-memory RecordStore with the DynamoDB adapter's conditional semantics.

For unit tests, and for the benchmark's run that takes moto's per-call CPU cost out of the figures.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from notifier.domain.record import Change
from notifier.ports import DuePage


class InMemoryRecords:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def create(self, item: dict[str, Any]) -> dict[str, Any] | None:
        with self.lock:
            if item["id"] in self.items:
                return copy.deepcopy(self.items[item["id"]])
            self.items[item["id"]] = {k: v for k, v in copy.deepcopy(item).items() if v is not None}
            return None

    def get(self, record_id: str) -> dict[str, Any] | None:
        with self.lock:
            item = self.items.get(record_id)
            return copy.deepcopy(item) if item else None

    def apply(self, record_id: str, change: Change) -> bool:
        with self.lock:
            item = self.items.get(record_id)
            if item is None:
                return False
            if any(item.get(k) != v for k, v in change.expect.items()):
                return False
            if any(k in item for k in change.expect_absent):
                return False
            for k, v in change.set.items():
                if v is None:
                    item.pop(k, None)
                else:
                    item[k] = copy.deepcopy(v)
            for k in change.remove:
                item.pop(k, None)
            for k, v in change.add.items():
                item[k] = item.get(k, 0) + v
            return True

    def due(self, shard: str, now: int, limit: int, cursor: Any = None) -> DuePage:
        """The DynamoDB adapter's query of the sparse index `pending`: items carrying poll_shard ==
        shard and next_poll_at <= now, by next_poll_at then id, a page at a time. `scanned` counts
        what a real index would read (the matching entries), not this emulation's walk of the dict."""
        with self.lock:
            entries = sorted(
                (item["next_poll_at"], rid)
                for rid, item in self.items.items()
                if item.get("poll_shard") == shard and "next_poll_at" in item and item["next_poll_at"] <= now
            )
            if cursor is not None:
                entries = [e for e in entries if e > cursor]
            page = entries[:limit]
            items = [copy.deepcopy(self.items[rid]) for _, rid in page]
        more = len(entries) > limit
        return DuePage(items, len(items), page[-1] if more else None)
