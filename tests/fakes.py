"""In-memory stand-ins for the ports, with the same conditional semantics as the real adapters.

The integration tests run the real DynamoDB adapter against moto; these keep the unit tests pure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from devstack.memstore import InMemoryRecords
from notifier.ports import AlimTalkMessage, SendResult, TextMessage

__all__ = ["Clock", "InMemoryRecords", "ScriptedAlimTalk", "ScriptedProvider", "accepted"]


class Scripted[M]:
    """Answers with the scripted results in order (the last one repeats), keeps every message it was
    given and every batch, as the dispatcher handed it over."""

    def __init__(self, *results: SendResult, on_send: Callable[[M], None] | None = None) -> None:
        self.results = list(results) or [SendResult("accepted", "200", "OK", message_id="2026112218000000001")]
        self.sent: list[M] = []
        self.batches: list[list[M]] = []
        self.on_send = on_send
        self.lock = threading.Lock()

    def send_batch(self, msgs: Sequence[M]) -> list[SendResult]:
        with self.lock:
            self.batches.append(list(msgs))
        return [self.send_one(msg) for msg in msgs]

    def send_one(self, msg: M) -> SendResult:
        if self.on_send:
            self.on_send(msg)
        with self.lock:
            self.sent.append(msg)
            return self.results.pop(0) if len(self.results) > 1 else self.results[0]


class ScriptedProvider(Scripted[TextMessage]):
    def send_texts(self, msgs: Sequence[TextMessage]) -> list[SendResult]:
        return self.send_batch(msgs)


class ScriptedAlimTalk(Scripted[AlimTalkMessage]):
    def send_alimtalks(self, msgs: Sequence[AlimTalkMessage]) -> list[SendResult]:
        return self.send_batch(msgs)


def accepted(cmid: str = "2026112218000000001") -> SendResult:
    return SendResult("accepted", "200", "OK", message_id=cmid, latency_ms=5.0)


class Clock:
    def __init__(self, now: float = 1_795_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordedEvents:
    def __init__(self) -> None:
        self.published: list[dict] = []
        self.lock = threading.Lock()

    def publish(self, record: dict) -> None:
        with self.lock:
            self.published.append(dict(record))
