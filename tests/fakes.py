"""In-memory stand-ins for the ports, with the same conditional semantics as the real adapters.

The integration tests run the real DynamoDB adapter against moto; these keep the unit tests pure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from devstack import memstore
from notifier.ports import AlimTalkMessage, SendResult, TextMessage
from notifier.usecases.outbox import Outbox, Write

__all__ = ["Clock", "InMemoryRecords", "ScriptedAlimTalk", "ScriptedProvider", "accepted", "published"]


class InMemoryRecords(memstore.InMemoryRecords):
    """The in-memory store, keeping its stream of writes (old and new images) for the outbox."""

    def __init__(self) -> None:
        super().__init__(stream=True)


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
    """The TerminalEvents port in memory: keeps what it took; `refuse` names record ids it refuses
    (each refusal used up once), as EventBridge answers a failed entry."""

    def __init__(self, refuse: Sequence[str] = ()) -> None:
        self.published: list[dict[str, Any]] = []
        self.calls: list[int] = []
        self.refuse = list(refuse)
        self.lock = threading.Lock()

    def publish_all(self, records: Sequence[dict[str, Any]]) -> list[str | None]:
        answers: list[str | None] = []
        with self.lock:
            self.calls.append(len(records))
            for record in records:
                if record.get("id") in self.refuse:
                    self.refuse.remove(record["id"])
                    answers.append("InternalFailure: try again")
                else:
                    self.published.append(dict(record))
                    answers.append(None)
        return answers


def published(records: InMemoryRecords) -> list[dict[str, Any]]:
    """What the outbox publishes from every write the store has seen so far: the events the
    application receives (the real Outbox use case over the store's stream)."""
    assert records.stream is not None
    events = RecordedEvents()
    writes = [Write(str(i), old, new) for i, (old, new) in enumerate(records.stream)]
    Outbox(events).publish(writes)
    return events.published
