"""`make build`, after `sam build`: take out of each function's package what the Lambda runtime provides.

`sam build` installs src/requirements.txt with every transitive dependency. aws-xray-sdk (for
Tracing=Active) requires botocore, so the package would carry a second, unpinned botocore (32 MB)
that shadows the runtime's own and no longer matches the runtime's boto3. The package keeps what
src/requirements.txt needs, following dependencies but never into boto3, botocore or s3transfer,
which the python3.13 runtime provides as one consistent set; the rest is removed file by file
from each distribution's RECORD.

Runs on .venv-tools' Python (it needs `packaging`, pinned in requirements-tools.txt) as a script:
    python devstack/prune_package.py .aws-sam/build/*/
"""

from __future__ import annotations

import shutil
import sys
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# What the Lambda Python runtime ships (and the build test's stand-in runtime holds).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})


def _distributions(package: Path) -> dict[str, Path]:
    dists: dict[str, Path] = {}
    for info in package.glob("*.dist-info"):
        meta = Parser().parsestr((info / "METADATA").read_text(encoding="utf-8"), headersonly=True)
        dists[canonicalize_name(meta["Name"])] = info
    return dists


def _requires(info: Path, extras: set[str]) -> list[Requirement]:
    meta = Parser().parsestr((info / "METADATA").read_text(encoding="utf-8"), headersonly=True)
    out = []
    for line in meta.get_all("Requires-Dist") or []:
        req = Requirement(line)
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras or {""}):
            out.append(req)
    return out


def needed(package: Path) -> set[str]:
    """The distributions src/requirements.txt (copied into the package by sam build) needs, closed
    over their dependencies, short of what the runtime provides."""
    dists = _distributions(package)
    todo = [
        Requirement(line)
        for line in (package / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "-"))
    ]
    keep: set[str] = set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in RUNTIME_PROVIDED or name in keep:
            continue
        if name not in dists:
            raise SystemExit(f"{package}: {req} is required but sam build did not install it")
        keep.add(name)
        todo.extend(_requires(dists[name], set(req.extras)))
    return keep


def prune(package: Path) -> list[str]:
    """Removes every distribution that is not needed; returns their names."""
    keep = needed(package)
    removed = []
    root = package.resolve()
    for name, info in sorted(_distributions(package).items()):
        if name in keep:
            continue
        dirs: set[Path] = set()
        for row in filter(None, (info / "RECORD").read_text(encoding="utf-8").splitlines()):
            path = (package / row.rsplit(",", 2)[0]).resolve()
            if not path.is_relative_to(root):
                continue  # scripts recorded outside the package were never installed into it
            path.unlink(missing_ok=True)
            dirs.update(p for p in path.parents if p != root and p.is_relative_to(root))
        for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
            if d.is_dir() and {p.name for p in d.iterdir()} <= {"__pycache__"}:
                shutil.rmtree(d)  # bytecode an earlier build compiled is all that is left
        removed.append(name)
    return removed


def main(argv: list[str]) -> int:
    for arg in argv:
        removed = prune(Path(arg))
        print(f"{arg}: removed {', '.join(removed) or 'nothing'} (provided by the Lambda runtime or only needed by it)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
