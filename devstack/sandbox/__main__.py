"""`python -m devstack.sandbox`: run the provider sandbox in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .config import (
    DEFAULT_API_KEY,
    DEFAULT_CLIENT_ID,
    DEFAULT_SOLAPI_API_KEY,
    DEFAULT_SOLAPI_API_SECRET,
    SandboxConfig,
)
from .server import Sandbox


def load_seed(path: Path) -> dict[str, Any]:
    """A seed file is a list of templates, or {"templates": [...], "senders": [...], "profiles": [...],
    "balance": n}."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        return {"templates": data}
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected a JSON list of templates or an object")
    unknown = set(data) - {"templates", "senders", "profiles", "balance"}
    if unknown:
        raise SystemExit(f"{path}: unknown keys {sorted(unknown)}")
    return data


def build_config(argv: list[str] | None = None) -> SandboxConfig:
    parser = argparse.ArgumentParser(prog="python -m devstack.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8099")))
    parser.add_argument("--api-key", default=os.environ.get("SANDBOX_API_KEY", DEFAULT_API_KEY))
    parser.add_argument("--client-id", default=os.environ.get("SANDBOX_CLIENT_ID", DEFAULT_CLIENT_ID))
    parser.add_argument("--solapi-api-key", default=os.environ.get("SANDBOX_SOLAPI_API_KEY", DEFAULT_SOLAPI_API_KEY))
    parser.add_argument(
        "--solapi-api-secret", default=os.environ.get("SANDBOX_SOLAPI_API_SECRET", DEFAULT_SOLAPI_API_SECRET)
    )
    parser.add_argument("--report-delay", type=float, default=5.0, help="seconds until a report is ready")
    parser.add_argument("--seed-file", type=Path, help="JSON: templates list, or {templates, senders, ...}")
    parser.add_argument("--seed", type=int, help="makes report outcomes and PINs reproducible")
    parser.add_argument("--balance", type=int, default=1_000_000)
    parser.add_argument("--verbose", action="store_true", help="log request lines (never headers)")
    args = parser.parse_args(argv)
    config = SandboxConfig(
        api_key=args.api_key,
        client_id=args.client_id,
        host=args.host,
        port=args.port,
        report_delay_s=args.report_delay,
        seed=args.seed,
        balance=args.balance,
        verbose=args.verbose,
        solapi_api_key=args.solapi_api_key,
        solapi_api_secret=args.solapi_api_secret,
    )
    if args.seed_file:
        seed = load_seed(args.seed_file)
        if "templates" in seed:
            config.templates = seed["templates"]
        if "senders" in seed:
            config.registered_senders = tuple(str(n) for n in seed["senders"])
        if "profiles" in seed:
            config.profiles = tuple(str(p) for p in seed["profiles"])
        if "balance" in seed:
            config.balance = int(seed["balance"])
    return config


def main(argv: list[str] | None = None) -> int:
    done = threading.Event()
    # Installed before the URL is printed: whoever reads the URL may terminate us at once.
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    sandbox = Sandbox(build_config(argv)).start()
    print(sandbox.url, flush=True)
    print(
        f"client_id={sandbox.config.client_id} senders={','.join(sandbox.config.registered_senders)} "
        f"solapi_pf_id={sandbox.config.solapi_pf_id}\n"
        f"inbox page: {sandbox.url}/_sandbox/inbox   inspect: {sandbox.url}/_sandbox/messages",
        file=sys.stderr,
        flush=True,
    )
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
