"""send-bulk with 100 000 rows: the workbook is streamed, never held, so memory stays bounded.

The command runs as its own process (as an operator runs it) against moto in this one, so its
memory is its own. Its peak is the kernel's high-water mark of resident memory (VmHWM), sampled
while it runs: monotonic, so the last sample is the peak up to a few milliseconds before exit.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from devstack.stack import ROOT

from .conftest import explicit, start_stack
from .moto_patch import constant_time_send

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROWS = 100_000
# Python, boto3, pydantic and openpyxl alone take about 60 MB; a workbook of this size loaded whole
# by openpyxl would take several hundred more.
PEAK_LIMIT_MB = 150


@pytest.fixture(scope="module")
def stack():
    s = start_stack()
    yield s
    s.stop()


def workbook(path: Path, rows: int) -> Path:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["발송시간", "수신자번호", "수신자이름", "발신자번호", "발신자이름", "제목", "내용"])
    for i in range(rows):
        ws.append(
            [None, f"010{i:08d}", "홍길동", "0212345678", "Shop", None, f"[Shop] 주문 {i}번 상품이 발송되었습니다."]
        )
    wb.save(path)
    return path


def high_water_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # it has just exited
        return None
    return None


def test_a_100_000_row_workbook_is_enqueued_with_bounded_memory(stack, tmp_path, monkeypatch):
    # Given a workbook of 100 000 rows
    f = workbook(tmp_path / "big.xlsx", ROWS)
    # When send-bulk runs as its own process
    with constant_time_send(monkeypatch):
        proc = subprocess.Popen(
            [sys.executable, "-m", "notifier_cli", *explicit(stack), "send-bulk", str(f), "--quiet"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, high_water_mb(proc.pid) or 0.0)
            time.sleep(0.1)
        out, err = proc.communicate()
    # Then every row is in the queue
    assert proc.returncode == 0, out + err
    assert f"enqueued {ROWS:,} of {ROWS:,} valid row(s)" in out
    attrs = stack.aws.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert int(attrs["Attributes"]["ApproximateNumberOfMessages"]) == ROWS
    # And its memory stayed bounded, by our sampling and by its own account
    reported = float(re.search(r"peak memory (\d+) MB", out)[1])  # type: ignore[index]
    assert 0 < peak < PEAK_LIMIT_MB
    assert reported < PEAK_LIMIT_MB
