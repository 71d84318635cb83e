"""`make serve`: an application outside the process sends its own event with any credentials."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import boto3
import pytest

from devstack.stack import ROOT

pytestmark = pytest.mark.e2e


def _read_until(proc: subprocess.Popen[str], pattern: str, limit_s: float) -> tuple[str, re.Match[str] | None]:
    # A bound so a broken server fails the test instead of hanging it; not a speed assertion.
    seen = ""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line and proc.poll() is not None:
            break
        seen += line
        m = re.search(pattern, seen)
        if m:
            return seen, m
    return seen, None


def test_an_event_from_another_process_is_dispatched_and_printed():
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "devstack.serve", "--report-delay", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Given the stack is up and has printed its endpoint and queue URL
        out, m = _read_until(proc, r"embedded AWS\s+(\S+).*\n\s+queue\s+(\S+)", 120)
        assert m, out
        endpoint, queue_url = m[1], m[2]
        # When another process sends an event with arbitrary credentials
        sqs = boto3.client(
            "sqs", endpoint_url=endpoint, region_name="ap-northeast-2",
            aws_access_key_id="any", aws_secret_access_key="any",
        )  # fmt: skip
        event = {"id": "serve-e2e-1", "to": "010-1234-5678", "text": "안녕하세요"}
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event, ensure_ascii=False))
        # Then the server prints it sent, with a cmid
        out, m = _read_until(proc, r"serve-e2e-1\s+sent\s+\[sms\] cmid \d{16,22}", 60)
        assert m, out
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "stopped." in rest
