"""The official Python SDK `solapi` 5.0.3, unchanged, against the sandbox (only its base URL pointed here).

The SDK lives in its own venv (.venv-solapi-sdk/<version>, gitignored), built once: the first run pays
for a venv and a pip install from PyPI, later runs reuse it.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.sandbox import Sandbox, SandboxConfig

from .conftest import JPEG, PF_ID, PHONE, SENDER

SDK_VERSION = "5.0.3"
ROOT = Path(__file__).resolve().parents[3]
SDK_VENV = ROOT / ".venv-solapi-sdk" / f"python-{SDK_VERSION}"
SCRIPT = Path(__file__).parent / "sdk" / "python_sdk_script.py"
KEY, SECRET = "NCSPYSDKTESTKEY1", "PYSDKTESTSECRET00000000000000000"


def sdk_python() -> Path:
    """The venv's interpreter, building the venv under a file lock when it is missing (xdist-safe)."""
    python = SDK_VENV / "bin" / "python"
    ready = SDK_VENV / ".ok"
    SDK_VENV.parent.mkdir(exist_ok=True)
    with open(SDK_VENV.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            venv.create(SDK_VENV, with_pip=True, clear=True)
            subprocess.run(
                [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"solapi=={SDK_VERSION}"],
                check=True,
                capture_output=True,
                timeout=600,
            )
            ready.touch()
    return python


@pytest.fixture
def live_sandbox() -> Iterator[Sandbox]:
    # The SDK signs with the machine's real time, so this sandbox keeps the real clock.
    config = SandboxConfig(solapi_api_key=KEY, solapi_api_secret=SECRET, report_delay_s=0, seed=3)
    with Sandbox(config) as sandbox:
        sandbox.set_outcome_mix("solapi", {"4000": 1})
        sandbox.set_outcome_mix("solapi_ata", {"4000": 1})
        yield sandbox


def test_the_official_python_sdk_sends_sms_lms_mms_and_alimtalk_and_reads_them_back(
    live_sandbox: Sandbox, tmp_path: Path
) -> None:
    # Given the SDK's own venv and an image to upload
    python = sdk_python()
    image = tmp_path / "photo.jpg"
    image.write_bytes(JPEG)
    env = {
        **{k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")},
        "NO_PROXY": "127.0.0.1,localhost",
        "SOLAPI_BASE_URL": live_sandbox.url,
        "SOLAPI_API_KEY": KEY,
        "SOLAPI_API_SECRET": SECRET,
        "SOLAPI_PF_ID": PF_ID,
        "SOLAPI_FROM": SENDER,
        "SOLAPI_TO": PHONE,
        "SOLAPI_IMAGE": str(image),
    }
    # When the SDK uploads, sends four messages and reads them back
    run = subprocess.run([python, SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout)

    # Then the sandbox recorded each type as SOLAPI would have detected it
    recorded = [m for m in live_sandbox.messages() if m["provider"] == "solapi"]
    assert [m["kind"] for m in recorded] == ["sms", "lms", "mms", "ata"]
    assert seen["failed"] == [] and seen["registered_success"] == 4
    assert sorted(seen["sent_ids"]) == sorted(m["message_id"] for m in recorded)
    assert recorded[2]["image_id"] == seen["file_id"]
    assert recorded[3]["text"].startswith("홍길동님, 주문하신 상품이 발송되었습니다.")
    assert recorded[3]["buttons"][0]["linkMo"] == "https://shop.example/o/1234"
    # And the SDK read the same messages back, reports settled, through list-old, the group and its messages
    assert {k: v["type"] for k, v in seen["listed"].items()} == {m["message_id"]: m["kind"].upper() for m in recorded}
    assert {v["status_code"] for v in seen["listed"].values()} == {"4000"}
    assert seen["in_group"] == sorted(seen["sent_ids"])
    assert seen["groups"] == [seen["group_id"]] and seen["group_total"] == 4
    assert seen["balance"] == live_sandbox.solapi_balance == 100_000 - (20 + 50 + 200 + 13)
    assert live_sandbox.requests_count()["solapi_send"] == 1
