"""moto's SQS SendMessage costs O(queue depth): for every message it builds the queue's attributes,
which counts every message in the queue (moto 5.2.5, SQSBackend.send_message reads
queue.attributes["ContentBasedDeduplication"]). Filling one queue with 100 000 messages is then
quadratic: hours, not seconds. Real SQS has no such cost, so the 100 000-row test would measure
moto, not the command. In-process only (the moto server of a LocalStack runs in this process).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from moto.sqs.models import Queue, SQSBackend

_sending = threading.local()


@contextmanager
def constant_time_send(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    attributes = Queue.attributes
    send = SQSBackend.send_message

    def quick_attributes(self: Queue) -> dict[str, Any]:
        if getattr(_sending, "active", False) and not self.fifo_queue:
            # A standard queue's attributes have no ContentBasedDeduplication: what send_message looks up.
            return {}
        return attributes.fget(self)  # type: ignore[no-any-return,attr-defined]

    def send_message(self: SQSBackend, *args: Any, **kwargs: Any) -> Any:
        _sending.active = True
        try:
            return send(self, *args, **kwargs)
        finally:
            _sending.active = False

    with monkeypatch.context() as m:
        m.setattr(Queue, "attributes", property(quick_attributes))
        m.setattr(SQSBackend, "send_message", send_message)
        yield
