"""Suite-wide guard: no API key in any test's captured output or in any log record, ever.

Every LocalStack makes a fresh random key and registers it in devstack.stack.ISSUED_KEYS. After each
test phase this checks what pytest captured (stdout, stderr, log) and every log record emitted
anywhere in the process, rendered with all its extra fields, before any scrubbing: so it proves
the code never hands the key to a logger, not merely that the scrubber caught it.
"""

from __future__ import annotations

import logging

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from devstack.stack import ISSUED_KEYS


class _RawRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.texts.append(f"{record.getMessage()} {record.__dict__!r}")
        except Exception:  # a broken record must not break the test run
            self.texts.append(repr(record.__dict__))


_raw = _RawRecords()
# A second Powertools Logger of the same service (the poller's beside the dispatcher's, both in one
# process in the local stack) takes the logger's first handler, which is this one, as its own and
# appends its keys to that handler's formatter: it needs one (this handler never uses it).
_raw.setFormatter(LambdaPowertoolsFormatter())


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(_raw)
    logging.getLogger("notifier").addHandler(_raw)  # Powertools' logger does not propagate to root


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    texts = [content for _, content in report.sections] + _raw.texts + [report.longreprtext or ""]
    _raw.texts = []
    leaked = [k for k in tuple(ISSUED_KEYS) if any(k in t for t in texts)]
    if leaked:
        report.outcome = "failed"
        report.longrepr = f"an API key appeared in this test's output or log records ({report.when} phase)"
