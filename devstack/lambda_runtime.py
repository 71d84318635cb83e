"""A stand-in for the python3.13 Lambda runtime on this machine, running the output of `make build`.

The real runtime gives a function its package (/var/task, first on sys.path), the runtime's own
boto3 and botocore, the template's environment and a read-only file system. The stand-in: a fresh
venv holding only boto3 (the dev pin from requirements-dev.txt), cached under .venv-build-test/;
an isolated interpreter (`python -I -B`: no PYTHON* variables, no user site, no current directory,
no bytecode written) whose sys.path starts with the function's build directory; the template's
environment. Nothing of the dev .venv or of src/ is reachable from it.

One difference cannot be helped: the functions are built for arm64 and this machine may be
x86_64. A compiled distribution of the package (pydantic-core, wrapt) is then shadowed by the same
version built for this machine, installed alone into an overlay ahead of the build directory;
every pure-Python module still comes from the build.

Used by tests/build (does the package import, with tracing on and off?) and `make bench` (how long
does it take, against `import boto3`?).
"""

from __future__ import annotations

import atexit
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"
BUILT = BUILD / ".made-by-make-build"  # the Makefile's $(BUILT)
CACHE = ROOT / ".venv-build-test"
# What the package is made of: newer than BUILT means the build output is out of date.
BUILD_INPUTS = ("src", "template.yaml", "Makefile", "requirements-tools.txt", "devstack/prune_package.py")
REPORT_MARK = "LAMBDA-IMPORT-REPORT "


@dataclass(frozen=True)
class Function:
    logical_id: str
    handler: str  # module.attribute, as the template's Handler says

    @property
    def module(self) -> str:
        return self.handler.rpartition(".")[0]

    @property
    def attribute(self) -> str:
        return self.handler.rpartition(".")[2]

    @property
    def package(self) -> Path:
        return BUILD / self.logical_id


def _template() -> dict[str, Any]:
    from .localaws import load_template

    return load_template(ROOT / "template.yaml")


def functions() -> list[Function]:
    resources = _template()["Resources"]
    return [
        Function(name, r["Properties"]["Handler"])
        for name, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    ]


def stale_because() -> str | None:
    """Why the build output cannot be used as it is, or None when it is up to date."""
    if not BUILT.exists():
        return "no complete `make build` output"
    built = BUILT.stat().st_mtime
    for name in BUILD_INPUTS:
        top = ROOT / name
        for path in [top, *top.rglob("*")] if top.is_dir() else [top]:
            if path.is_file() and "__pycache__" not in path.parts and path.stat().st_mtime > built:
                return f"{path.relative_to(ROOT)} is newer than the build"
    return None


def ensure_build() -> None:
    """Runs `make build` when its output is missing or out of date (it takes ~10-40 s)."""
    if stale_because() is None:
        return
    proc = subprocess.run(["make", "build"], cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or stale_because() is not None:
        tail = (proc.stdout + proc.stderr)[-4000:]
        raise RuntimeError(f"`make build` failed (exit {proc.returncode}):\n{tail}")


def dev_pin(name: str) -> str:
    """The version requirements-dev.txt pins `name` to (boto3: the runtime stand-in's)."""
    text = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(name)}==(\S+)", text, re.MULTILINE | re.IGNORECASE)
    if not match:
        raise LookupError(f"requirements-dev.txt pins no {name}")
    return match.group(1)


def _run_checked(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-4000:]}")


def _cached_dir(key: str, make: Callable[[Path], None]) -> Path:
    """CACHE/key, made once by make(tmp_dir) and renamed into place whole (safe for parallel callers)."""
    final = CACHE / key
    if final.is_dir():
        return final
    CACHE.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=CACHE))
    try:
        make(tmp)
        os.replace(tmp, final)
    except OSError:
        if not final.is_dir():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


@cache
def runtime_venv() -> Path:
    """A venv with nothing but boto3 (and what boto3 requires), as the Lambda runtime provides it."""
    pin = dev_pin("boto3")
    key = f"runtime-py{sys.version_info.major}{sys.version_info.minor}-boto3-{pin}"

    def make(tmp: Path) -> None:
        # A venv made from a venv's interpreter is based on the base interpreter, not on the venv.
        _run_checked([sys.executable, "-m", "venv", str(tmp)])
        _run_checked(
            [str(_venv_python(tmp)), "-m", "pip", "install", "-q", "--disable-pip-version-check", f"boto3=={pin}"]
        )

    # Made at a temporary path and renamed: its scripts' #! lines are stale, so it is run as `python -m`.
    return _cached_dir(key, make)


def _foreign_native(package: Path) -> list[str]:
    """name==version of each compiled distribution in the package not built for this machine."""
    machine = platform.machine()
    found = []
    for info in sorted(package.glob("*.dist-info")):
        wheel = (info / "WHEEL").read_text(encoding="utf-8")
        tags = re.findall(r"^Tag: (\S+)", wheel, re.MULTILINE)
        if "Root-Is-Purelib: false" in wheel and not any(t.endswith(machine) for t in tags):
            name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
            found.append(f"{name}=={version}")
    return found


def native_overlay(package: Path) -> Path | None:
    """This machine's build of the package's foreign compiled distributions, or None if there are none."""
    wanted = _foreign_native(package)
    if not wanted:
        return None
    key = f"native-{platform.machine()}-py{sys.version_info.major}{sys.version_info.minor}-" + "-".join(
        w.replace("==", "-") for w in wanted
    )

    def make(tmp: Path) -> None:
        cmd = [str(_venv_python(runtime_venv())), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        cmd += ["--no-deps", "--only-binary=:all:", "--target", str(tmp), *wanted]
        _run_checked(cmd)

    return _cached_dir(key, make)


def _without_bytecode(tree: Path) -> Path:
    """A copy of tree with no __pycache__: what a plain `sam build` ships."""
    copy = Path(tempfile.mkdtemp(prefix="nopyc-"))
    atexit.register(shutil.rmtree, copy, True)
    shutil.copytree(tree, copy / tree.name, ignore=shutil.ignore_patterns("__pycache__"))
    return copy / tree.name


@cache
def _paths(fn: Function, bytecode: bool) -> tuple[str, ...]:
    overlay = native_overlay(fn.package)
    trees = [p for p in (overlay, fn.package) if p is not None]
    if not bytecode:
        trees = [_without_bytecode(t) for t in trees]
    return tuple(str(t) for t in trees)


def lambda_environment(fn: Function, *, tracing: bool) -> dict[str, str]:
    """The template's literal Globals variables, TRACING, and what Lambda itself sets."""
    variables = _template()["Globals"]["Function"]["Environment"]["Variables"]
    env = {k: v for k, v in variables.items() if isinstance(v, str)}
    env.update(
        PATH=os.environ.get("PATH", "/usr/bin:/bin"),
        LANG="en_US.UTF-8",
        TZ=":UTC",
        AWS_REGION="ap-northeast-2",
        AWS_DEFAULT_REGION="ap-northeast-2",
        AWS_EXECUTION_ENV="AWS_Lambda_python3.13",
        AWS_LAMBDA_FUNCTION_NAME=f"kr-notifier-{fn.logical_id}",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512",
        LAMBDA_TASK_ROOT=str(fn.package),  # Powertools' Tracer traces only inside Lambda, known by this
        _HANDLER=fn.handler,
    )
    if tracing:
        env.update(
            TRACING="Active", AWS_XRAY_DAEMON_ADDRESS="169.254.79.129:2000", AWS_XRAY_CONTEXT_MISSING="LOG_ERROR"
        )
    else:
        env.pop("TRACING", None)
    return env


# Runs inside the stand-in: the path set-up Lambda's bootstrap does, the import timed, then a report.
_CHILD = """
import importlib, json, sys, time
sys.path[:0] = {paths!r}
t = time.perf_counter()
module = importlib.import_module({module!r})
ms = (time.perf_counter() - t) * 1000
handler = getattr(module, {attribute!r}, None)
xray = sys.modules.get("aws_xray_sdk.core.patcher")
report = {{
    "import_ms": ms,
    "handler_callable": callable(handler),
    "handler_code": getattr(getattr(handler, "__code__", None), "co_filename", None),
    "modules": {{n: getattr(m, "__file__", None) for n, m in list(sys.modules.items())}},
    "sys_path": sys.path,
    "base_prefix": sys.base_prefix,
    "xray_patched": sorted(getattr(xray, "_PATCHED_MODULES", ())),
}}
print()
print({mark!r} + json.dumps(report))
"""


@dataclass
class ImportReport:
    import_ms: float
    handler_callable: bool
    handler_code: str | None
    modules: dict[str, str | None]
    sys_path: list[str]
    base_prefix: str
    xray_patched: list[str]
    paths: tuple[str, ...] = ()
    stderr: str = field(default="", repr=False)

    def file_of(self, module: str) -> Path | None:
        f = self.modules.get(module)
        return Path(f) if f else None


def _run(code: str, env: dict[str, str], *, verbose: bool = False) -> subprocess.CompletedProcess[str]:
    flags = ["-I", "-B", *(["-v"] if verbose else [])]
    cmd = [str(_venv_python(runtime_venv())), *flags, "-c", code]
    with tempfile.TemporaryDirectory(prefix="lambda-cwd-") as cwd:
        return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def import_handler(fn: Function, *, tracing: bool, bytecode: bool = True, verbose: bool = False) -> ImportReport:
    """Imports fn's handler module in a fresh stand-in interpreter; raises with its stderr if that fails.
    verbose: the interpreter's -v trace (which file each module's code came from) is kept in .stderr."""
    paths = _paths(fn, bytecode)
    code = _CHILD.format(paths=list(paths), module=fn.module, attribute=fn.attribute, mark=REPORT_MARK)
    proc = _run(code, lambda_environment(fn, tracing=tracing), verbose=verbose)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(REPORT_MARK)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"importing {fn.handler} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return ImportReport(**json.loads(line.removeprefix(REPORT_MARK)), paths=paths, stderr=proc.stderr)


def import_boto3_ms() -> float:
    """`import boto3` alone, in a fresh stand-in interpreter: the floor every handler pays."""
    code = "import time; t = time.perf_counter(); import boto3; print((time.perf_counter() - t) * 1000)"
    proc = _run(code, {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8"})
    if proc.returncode != 0:
        raise RuntimeError(f"import boto3 failed:\n{proc.stderr[-2000:]}")
    return float(proc.stdout.strip().splitlines()[-1])
