"""An in-memory RecordStore with the DynamoDB adapter's conditional semantics.

For unit tests, and for the benchmark's run that takes moto's per-call CPU cost out of the figures.
"""

from __future__ import annotations

import copy
import threading
from typing import Any


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

    def update(self, record_id, *, set_, remove=(), add=None, expect=None, expect_absent=()) -> bool:  # type: ignore[no-untyped-def]
        with self.lock:
            item = self.items.get(record_id)
            if item is None:
                return False
            if any(item.get(k) != v for k, v in (expect or {}).items()):
                return False
            if any(k in item for k in expect_absent):
                return False
            for k, v in set_.items():
                if v is None:
                    item.pop(k, None)
                else:
                    item[k] = copy.deepcopy(v)
            for k in remove:
                item.pop(k, None)
            for k, v in (add or {}).items():
                item[k] = item.get(k, 0) + v
            return True
