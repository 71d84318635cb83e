"""Logs that never carry a secret or a whole phone number, whatever a caller passes in.

Callers mask numbers themselves (phone.mask); this formatter is the safety net under them: it
rewrites the final JSON line, so an exception text or a stray `extra` cannot leak either.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

# A Korean number standing alone (not inside a longer digit run such as a cmid or a timestamp).
_PHONE = re.compile(r"(?<![\d-])(0\d{2}[-. ]?)(\d{2,4})([-. ]?\d{4})(?![\d-])")
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
    return _PHONE.sub(lambda m: m[1] + "*" * len(m[2]) + m[3], line)


class ScrubbingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        return scrub(super().serialize(log))
