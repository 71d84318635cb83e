"""The inbox page in a real browser: `python -m devstack.inbox_demo [--out docs/inbox.png]` (`make inbox-png`).

Starts the local stack, sends the sample events in events/ through the real handlers, polls their reports,
opens the sandbox's inbox page in headless Chromium (Debian's `chromium`, driven by Playwright) and saves a
screenshot. The browser test (tests/e2e/test_inbox_page.py) uses the same pieces.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .run import DELIVERED_MIX, RUN_OUTCOMES, FastForward
from .stack import ROOT, LocalStack, provider_from_env, sample_bodies

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Playwright's own browser download is not reachable: it drives the system's Chromium, kept off the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The samples that reach a phone (the invalid and duplicate ones never do).
SAMPLES = ("sqs-sms.json", "sqs-lms-auto.json", "sqs-mms.json", "sqs-alimtalk.json", "sqs-scheduled.json")


@contextlib.contextmanager
def chromium_page(width: int = 1440, height: int = 1000) -> Iterator[Any]:
    """A page in headless Chromium, in Korea's time zone and locale."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="ko-KR", timezone_id="Asia/Seoul"
            )
            yield context.new_page()
        finally:
            browser.close()


def send_samples(stack: LocalStack, clock: FastForward, names: tuple[str, ...] = SAMPLES) -> None:
    """The sample events through the real dispatcher, then report polls until nothing is due."""
    for kind, mix in DELIVERED_MIX.items():
        stack.sandbox.set_outcome_mix(kind, mix)
    for number, outcome in RUN_OUTCOMES.items():
        stack.sandbox.force_outcome(number, **outcome)
    stack.publish(sample_bodies(names))
    stack.drain(timeout_s=120)
    settle(stack, clock)


def settle(stack: LocalStack, clock: FastForward, ticks: int = 10) -> None:
    for _ in range(ticks):
        if not any(r["status"] == "sent" and not r.get("scheduled_for") for r in stack.records()):
            return
        clock.advance(stack.poll_interval_s())
        stack.poll(clock=clock)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m devstack.inbox_demo", description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "inbox.png")
    ap.add_argument("--phone", default="01055550011", help="the thread to open (default: the AlimTalk fallback pair)")
    args = ap.parse_args(argv)
    clock = FastForward()
    log = io.StringIO()  # the handlers' JSON logs: not what this command is for
    with LocalStack.start(
        sandbox_config={"report_delay_s": 5}, parameters=provider_from_env(), log_stream=log
    ) as stack:
        stack.sandbox.clock = clock
        send_samples(stack, clock)
        with chromium_page() as page:
            page.goto(f"{stack.sandbox.url}/_sandbox/inbox")
            page.locator(f'#recipients li[data-phone="{args.phone}"]').click()
            page.locator("#live.on").wait_for()
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
