"""EventBridge schedule -> report poller Lambda. Thin: build the parts once per container, run one tick.

The tick works until what is due is done or until the time left falls under its margin; what is
left is picked up by the next scheduled tick, so a large backlog drains over several ticks and no
invocation is ever cut off by its time-out in the middle of a write.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from .. import metrics as m
from ..observability import ScrubbingFormatter, traced
from ..usecases.poll import Poller, TickResult
from .poller_wiring import PollerWiring

logger = Logger(logger_formatter=ScrubbingFormatter())
metrics = Metrics()


@dataclass
class App:
    wiring: PollerWiring
    poller: Poller


@cache
def app() -> App:
    wiring = PollerWiring.from_env(os.environ)
    return App(wiring, wiring.poller())


def _count(result: TickResult, summary: dict[str, Any]) -> None:
    for attr, name in m.POLL_TOTALS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=getattr(result, attr))
    if summary["report_latency_ms_median"] is not None:
        metrics.add_metric(
            name=m.REPORT_LATENCY, unit=MetricUnit.Milliseconds, value=summary["report_latency_ms_median"]
        )


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    a = app()
    a.wiring.warm_up()  # one SSM read per tick at most (cached), not one per thread racing for it
    # Its outcomes are counted by the outbox function, from the table's stream.
    result = a.poller.tick(lambda: context.get_remaining_time_in_millis() / 1000)
    summary = result.summary()
    _count(result, summary)
    logger.info("tick", extra=summary)
    return summary


handler = traced(handler)
