"""One Lambda invocation of a real handler in a process of its own, that dies (os._exit, no cleanup, as
SIGKILL or a lost container would) at the crash point NOTIFIER_CRASH_AT names:

- `after-terminal-write`: right after the dispatcher's or the poller's first write that reached an
  outcome (a terminal status, or a test send's `sent`), before anything else happens;
- `after-put-events`: right after the outbox's PutEvents went through, before the handler returns.

    python -m tests.integration.crash_child dispatcher|poller|outbox EVENT.json CONTEXT.json RESPONSE.json

The environment is the function's (the parent's, pointed at its moto server and sandbox). Only this test
helper knows about crash points: it wraps the handler's store or publisher; the product has no test branch.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

CRASHED = 137  # what a SIGKILLed process reports


def _outcome_write(status: Any, test: Any) -> bool:
    return status in ("delivered", "failed", "rejected", "unknown") or (status == "sent" and bool(test))


class CrashAfterTerminalWrite:
    """A record store that dies right after the first write of an outcome succeeded."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def create(self, item: dict[str, Any]) -> Any:
        existing = self._inner.create(item)
        if existing is None and _outcome_write(item.get("status"), item.get("test")):
            os._exit(CRASHED)
        return existing

    def apply(self, record_id: str, change: Any) -> bool:
        won = self._inner.apply(record_id, change)
        if won:
            status = change.set.get("status")
            test = change.set.get("test")
            if test is None and status == "sent":
                current = self._inner.get(record_id) if hasattr(self._inner, "get") else None
                test = (current or {}).get("test")
            if _outcome_write(status, test):
                os._exit(CRASHED)
        return bool(won)


class CrashAfterPutEvents:
    """The outbox's publisher, dying right after PutEvents went through (before the handler returns)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def publish_all(self, records: Any) -> Any:
        self._inner.publish_all(records)
        os._exit(CRASHED)


class Context:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
        self._remaining_ms = int(values.get("remaining_ms", 30_000))

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


def main(role: str, event_path: str, context_path: str, response_path: str) -> None:
    crash_at = os.environ.get("NOTIFIER_CRASH_AT", "")
    with open(event_path, encoding="utf-8") as f:
        event = json.load(f)
    with open(context_path, encoding="utf-8") as f:
        context = Context(json.load(f))
    if role == "dispatcher":
        from notifier.handlers import dispatcher as module

        app = module.app()
        if crash_at == "after-terminal-write":
            app.dispatcher.records = CrashAfterTerminalWrite(app.dispatcher.records)
    elif role == "poller":
        from notifier.handlers import poller as module

        app = module.app()
        clock = os.environ.get("NOTIFIER_CLOCK")
        if clock:
            app.poller.clock = lambda: float(clock)
        if crash_at == "after-terminal-write":
            app.poller.records = CrashAfterTerminalWrite(app.poller.records)
    elif role == "outbox":
        from notifier.handlers import outbox as module

        app = module.app()
        if crash_at == "after-put-events":
            app.outbox.events = CrashAfterPutEvents(app.outbox.events)
    else:
        raise SystemExit(f"role: dispatcher, poller or outbox, not {role!r}")
    response = module.handler(event, context)
    with open(response_path, "w", encoding="utf-8") as f:
        json.dump(response, f)


if __name__ == "__main__":
    main(*sys.argv[1:5])
