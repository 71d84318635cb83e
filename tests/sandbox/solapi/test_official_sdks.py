"""The official SDKs, unchanged, against the sandbox (only their base URL pointed here): Python `solapi`
5.0.3 and Node `solapi` 6.0.1.

Each SDK lives in its own directory under .venv-solapi-sdk/ (gitignored), keyed on its version and built once:
the first run pays for a pip or npm install from the registry, later runs reuse it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import venv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.sandbox import Sandbox, SandboxConfig

from .conftest import JPEG, PF_ID, PHONE, SENDER

PYTHON_SDK = "5.0.3"
NODE_SDK = "6.0.1"
CACHE = Path(__file__).resolve().parents[3] / ".venv-solapi-sdk"
SCRIPTS = Path(__file__).parent / "sdk"
KEY, SECRET = "NCSSDKTESTKEY001", "SDKTESTSECRET0000000000000000000"


def built_once(name: str, build: Callable[[Path], None]) -> Path:
    """CACHE/name, built by build(dir) under a file lock when missing (xdist workers may race)."""
    target = CACHE / name
    CACHE.mkdir(exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".ok").exists():
            shutil.rmtree(target, ignore_errors=True)
            build(target)
            (target / ".ok").touch()
    return target


def _python_sdk(target: Path) -> None:
    venv.create(target, with_pip=True)
    pip = [target / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, f"solapi=={PYTHON_SDK}"], check=True, capture_output=True, timeout=600)


def _node_sdk(target: Path) -> None:
    target.mkdir(parents=True)
    npm = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(target), f"solapi@{NODE_SDK}"]
    subprocess.run(npm, check=True, capture_output=True, timeout=600)


def run_sdk(command: list[Any], sandbox: Sandbox, image: Path, **extra: str) -> dict[str, Any]:
    image.write_bytes(JPEG)
    env = {
        **{k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")},
        "NO_PROXY": "127.0.0.1,localhost",
        "SOLAPI_BASE_URL": sandbox.url,
        "SOLAPI_API_KEY": KEY,
        "SOLAPI_API_SECRET": SECRET,
        "SOLAPI_PF_ID": PF_ID,
        "SOLAPI_FROM": SENDER,
        "SOLAPI_TO": PHONE,
        "SOLAPI_IMAGE": str(image),
        **extra,
    }
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    result: dict[str, Any] = json.loads(run.stdout)
    return result


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
    # Given the SDK's own venv
    python = built_once(f"python-{PYTHON_SDK}", _python_sdk) / "bin" / "python"
    # When the SDK uploads an image, sends four messages and reads them back
    seen = run_sdk([python, SCRIPTS / "python_sdk_script.py"], live_sandbox, tmp_path / "photo.jpg")

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


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None, reason="node and npm are needed")
def test_the_official_node_sdk_sends_sms_lms_mms_and_alimtalk_and_reads_them_back(
    live_sandbox: Sandbox, tmp_path: Path
) -> None:
    # Given the Node SDK installed once
    sdk = built_once(f"node-{NODE_SDK}", _node_sdk)
    # When it uploads, sends four messages and reads them back (list, group, group messages, balance, templates)
    seen = run_sdk(
        ["node", SCRIPTS / "node_sdk_script.mjs"], live_sandbox, tmp_path / "photo.jpg", SOLAPI_SDK_DIR=str(sdk)
    )
    # Then the sandbox recorded the four types, and the SDK read back what it recorded
    recorded = [m for m in live_sandbox.messages() if m["provider"] == "solapi"]
    assert [m["kind"] for m in recorded] == ["sms", "lms", "mms", "ata"]
    assert seen["failed"] == []
    assert sorted(seen["sentIds"]) == sorted(m["message_id"] for m in recorded) == seen["inGroup"]
    assert recorded[2]["image_id"] == seen["fileId"]
    assert {k: v["type"] for k, v in seen["listed"].items()} == {m["message_id"]: m["kind"].upper() for m in recorded}
    assert {v["statusCode"] for v in seen["listed"].values()} == {"4000"}
    assert seen["total"] == 4
    assert seen["balance"] == 100_000 - (20 + 50 + 200 + 13)
    assert seen["templateIds"] == ["A1111", "A2222", "R3333", "P4444"]
