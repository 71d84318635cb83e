"""template.yaml -> plain CloudFormation (JSON), offline, as the Serverless transform would make it.

checkov scans this as well as template.yaml: the roles, event source mappings and permissions that
SAM generates exist only here. The translation is the one the local stack deploys into moto.

    python -m devstack.translate --out .aws-sam/translated.json [--parameter Key=Value ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .localaws import load_template, translate

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.translate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / ".aws-sam" / "translated.json")
    parser.add_argument("--region", default="ap-northeast-2")
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="KEY=VALUE", help="a parameter override (repeatable)"
    )
    args = parser.parse_args(argv)
    parameters = {}
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--parameter {item!r}: expected KEY=VALUE")
        parameters[key] = value
    translated = translate(load_template(args.template), parameters, args.region)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(translated, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{args.template.name} -> {args.out} ({len(translated['Resources'])} resources)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
