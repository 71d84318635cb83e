"""A dispatcher process that dies at a named step: `python -m tests.integration.crash_dispatcher POINT`
reads a Lambda SQS event (JSON) on stdin and runs the real handler on it, in the environment the test
gives (moto server, the sandbox), with its record store and provider wrapped so the process ends with
os._exit(DIED) at POINT, the way a SIGKILL or a Lambda time-out ends it: no finally, no handler.

The product is not changed for this: the wrappers go in through the dispatcher's public parts, as the
benchmark swaps its store. Exit code DIED means it died at POINT; NEVER_REACHED means POINT never came.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from devstack.esm import LambdaContext
from notifier.domain.record import DISPATCH_MARK, SMS_FALLBACK_PHASE, Change

DIED = 86
NEVER_REACHED = 3
INVOCATION_S = 12.0  # the lease: short, so the test waits little for it to be over
READ_TIMEOUT_S = 4.0  # with a 1 s connect time-out, the handler claims only with 7 s left: 5 s for its cold start

POINTS = {
    "after-first-claim": "a claim is written; the batch's other claims may not be",
    "before-mark": "every claim is written, no dispatch mark yet",
    "before-mark-on-last-delivery": "the same, on the message's last delivery: no redelivery will come",
    "after-app-fallback-write": "the AlimTalk route chose the app's SMS (phase written), its send not marked yet",
    "after-provider-reply": "the provider accepted the texts; nothing settled (the request did leave)",
}


def die() -> None:
    sys.stdout.flush()
    os._exit(DIED)


class DyingRecords:
    def __init__(self, inner: Any, point: str) -> None:
        self.inner = inner
        self.point = point

    def create(self, item: dict[str, Any]) -> dict[str, Any] | None:
        existing = self.inner.create(item)
        if self.point == "after-first-claim" and existing is None and item.get("status") == "sending":
            die()
        return existing  # type: ignore[no-any-return]

    def get(self, record_id: str) -> dict[str, Any] | None:
        return self.inner.get(record_id)  # type: ignore[no-any-return]

    def apply(self, record_id: str, change: Change) -> bool:
        if self.point.startswith("before-mark") and change.set.get(DISPATCH_MARK):
            die()
        applied = self.inner.apply(record_id, change)
        if self.point == "after-app-fallback-write" and change.set.get("phase") == SMS_FALLBACK_PHASE:
            die()
        return applied  # type: ignore[no-any-return]


class DyingProvider:
    def __init__(self, inner: Any, point: str) -> None:
        self.inner = inner
        self.point = point

    def send_texts(self, msgs: Sequence[Any]) -> Any:
        results = self.inner.send_texts(msgs)
        if self.point == "after-provider-reply":
            die()
        return results


def main(point: str) -> int:
    from notifier.handlers import dispatcher

    event = json.loads(sys.stdin.read())
    a = dispatcher.app()
    a.dispatcher.records = DyingRecords(a.dispatcher.records, point)  # type: ignore[assignment]
    a.dispatcher.provider = DyingProvider(a.dispatcher.provider, point)  # type: ignore[assignment]
    context = LambdaContext(
        function_name="DispatcherFunction",
        region=os.environ.get("AWS_DEFAULT_REGION", "ap-northeast-2"),
        account_id="123456789012",
        memory_limit_in_mb=512,
        timeout_s=INVOCATION_S,
        log_group_name="/aws/lambda/DispatcherFunction",
    )
    dispatcher.handler(event, context)
    return NEVER_REACHED


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
