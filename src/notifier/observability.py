"""Logs that never carry a secret or a whole phone number, whatever a caller passes in.

Callers mask numbers themselves (phone.mask); this formatter is the safety net under them: it
rewrites the final JSON line, so an exception text or a stray `extra` cannot leak either.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from .domain.limits import encodable
from .domain.phone import mask_in_text

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Every log line written after this has `value` replaced by ***."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def scrub(line: str) -> str:
    for secret in tuple(_secrets):
        if secret in line:
            line = line.replace(secret, "***")
    # encodable: a line with a lone surrogate would fail to be written at all, and be lost.
    return mask_in_text(encodable(line))


class ScrubbingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        return scrub(super().serialize(log))


def traced(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The handler under an X-Ray Tracer when the template's Tracing is Active, else unchanged:
    creating a Tracer loads the X-Ray SDK (~30-40 ms of cold start on 3.13), so only when asked for."""
    if os.environ.get("TRACING", "").lower() != "active":
        return handler
    from aws_lambda_powertools import Tracer

    return Tracer().capture_lambda_handler(handler)
