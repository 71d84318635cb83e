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
            text = f"{record.getMessage()} {record.__dict__!r}"
        except Exception:  # a broken record must not break the test run
            text = repr(record.__dict__)
        # Where it came from, so a leak report can name the logger and thread that wrote it
        self.texts.append(f"[log record: logger {record.name!r}, thread {record.threadName!r}] {text}")


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
    texts = [f"[{title}] {content}" for title, content in report.sections] + _raw.texts
    texts.append(f"[failure report] {report.longreprtext or ''}")
    _raw.texts = []
    where = [_excerpt(t, k) for k in tuple(ISSUED_KEYS) for t in texts if k in t]
    if where:
        original = report.longreprtext or ""
        for k in tuple(ISSUED_KEYS):
            original = original.replace(k, "<KEY>")
        report.outcome = "failed"
        report.longrepr = (
            f"an API key appeared in this test's output or log records ({report.when} phase):\n"
            + "\n".join(where)
            + (f"\n\nthe test's own report, keys redacted:\n{original}" if original else "")
        )


def _excerpt(text: str, key: str) -> str:
    """The source label and the text around the key, with the key itself replaced."""
    at = text.index(key)
    label = text[: text.index("]") + 1]
    return f"{label} ...{text[max(0, at - 300) : at]}<KEY>{text[at + len(key) : at + len(key) + 100]}..."
