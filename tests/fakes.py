"""In-memory stand-ins for the ports, with the same conditional semantics as the real adapters.

The integration tests run the real DynamoDB adapter against moto; these keep the unit tests pure.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from notifier.ports import SendResult, TextMessage


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

    def update(self, record_id, *, set_, remove=(), add=None, expect=None, expect_absent=()) -> bool:
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


class ScriptedProvider:
    """Answers with the scripted results in order (the last one repeats) and keeps every request."""

    def __init__(self, *results: SendResult, on_send: Callable[[TextMessage], None] | None = None) -> None:
        self.results = list(results) or [SendResult("accepted", "200", "OK", cmid="2026112218000000001")]
        self.sent: list[TextMessage] = []
        self.on_send = on_send
        self.lock = threading.Lock()

    def send_text(self, msg: TextMessage) -> SendResult:
        if self.on_send:
            self.on_send(msg)
        with self.lock:
            self.sent.append(msg)
            return self.results.pop(0) if len(self.results) > 1 else self.results[0]


def accepted(cmid: str = "2026112218000000001") -> SendResult:
    return SendResult("accepted", "200", "OK", cmid=cmid, latency_ms=5.0)


class Clock:
    def __init__(self, now: float = 1_795_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
