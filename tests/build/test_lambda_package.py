"""The output of `make build`, imported the way Lambda imports it: by a python3.13 that holds nothing
but boto3 and the function's package (devstack.lambda_runtime), with the template's Tracing on and off.

The build runs first when its output is missing or older than what it is made of (~10-40 s).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devstack import lambda_runtime
from devstack.prune_package import RUNTIME_PROVIDED

pytestmark = pytest.mark.build

FUNCTIONS = lambda_runtime.functions()
ROOT = lambda_runtime.ROOT


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    lambda_runtime.ensure_build()


def inside(path: Path | str | None, *trees: Path | str) -> bool:
    return path is not None and any(Path(path).resolve().is_relative_to(Path(t).resolve()) for t in trees)


def code_sources(verbose_trace: str) -> list[str]:
    """The file each module's code object came from, as `python -v` reports it ('.pyc' when bytecode)."""
    return re.findall(r"^# code object from '?(.+?)'?$", verbose_trace, re.MULTILINE)


def test_every_function_is_built():
    assert {f.logical_id: f.handler for f in FUNCTIONS} == {
        "DispatcherFunction": "notifier.handlers.dispatcher.handler",
        "PollerFunction": "notifier.handlers.poller.handler",
        "OutboxFunction": "notifier.handlers.outbox.handler",
    }
    for fn in FUNCTIONS:
        assert (fn.package / "notifier" / "handlers" / "__init__.py").is_file()


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.logical_id)
def test_the_package_carries_the_xray_sdk_and_nothing_the_runtime_provides(fn):
    dists = {
        p.name.removesuffix(".dist-info").rsplit("-", 1)[0].replace("_", "-") for p in fn.package.glob("*.dist-info")
    }
    assert "aws-xray-sdk" in dists and (fn.package / "aws_xray_sdk" / "__init__.py").is_file()
    assert dists & RUNTIME_PROVIDED == set()
    assert not (fn.package / "botocore").exists() and not (fn.package / "boto3").exists()


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.logical_id)
def test_compiled_distributions_are_built_for_the_templates_arm64(fn):
    # Given the template's Architectures: [arm64], every compiled wheel in the package is for aarch64
    compiled = {}
    for info in fn.package.glob("*.dist-info"):
        wheel = (info / "WHEEL").read_text()
        if "Root-Is-Purelib: false" in wheel:
            compiled[info.name] = re.findall(r"^Tag: (\S+)", wheel, re.MULTILINE)
    assert compiled, "pydantic-core at least is compiled"
    assert {name: [t for t in tags if not t.endswith("aarch64")] for name, tags in compiled.items()} == {
        name: [] for name in compiled
    }


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.logical_id)
def test_every_module_ships_as_unchecked_hash_bytecode(fn):
    # Given the package (Lambda cannot write .pyc, and the deployment zip rounds file times)
    missing, checked = [], []
    for source in fn.package.rglob("*.py"):
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not pyc.is_file():
            missing.append(str(source.relative_to(fn.package)))
            continue
        # PEP 552 header: magic, then flags; 0b01 = hash-based and the source never checked
        if int.from_bytes(pyc.read_bytes()[4:8], "little") != 0b01:
            checked.append(str(pyc.relative_to(fn.package)))
    # Then every module has its .pyc, and no .pyc asks to be checked against its source's time
    assert missing == [] and checked == []


@pytest.mark.parametrize("tracing", [False, True], ids=["tracing-off", "tracing-active"])
@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.logical_id)
def test_the_handler_imports_from_the_package_alone(fn, tracing):
    # Given the function's build output and a runtime holding only boto3
    runtime = lambda_runtime.runtime_venv()
    # When a fresh isolated interpreter imports the handler, with the template's environment
    report = lambda_runtime.import_handler(fn, tracing=tracing, verbose=True)
    # Then the handler exists
    assert report.handler_callable
    # and our code and its dependencies came from the package, boto3 and botocore from the runtime
    assert inside(report.file_of("notifier"), fn.package)
    assert inside(report.file_of("aws_lambda_powertools"), fn.package)
    assert inside(report.file_of("pydantic"), fn.package)
    assert inside(report.file_of("urllib3"), fn.package)
    assert inside(report.file_of("boto3"), runtime) and inside(report.file_of("botocore"), runtime)
    # and nothing of the repository's src/ or dev .venv was reachable
    trees = [*report.paths, runtime, report.base_prefix]  # base_prefix: the interpreter's own stdlib
    strays = {n: f for n, f in report.modules.items() if f and not inside(f, *trees)}
    assert strays == {}
    assert [p for p in report.sys_path if inside(p, ROOT / "src", ROOT / ".venv")] == []
    # and every module of the package ran from its shipped bytecode, none compiled from source
    from_package = [s for s in code_sources(report.stderr) if inside(s, fn.package)]
    assert any(s.endswith("handlers/__pycache__/__init__.cpython-313.pyc") for s in from_package)
    assert [s for s in from_package if not s.endswith(".pyc")] == []
    if tracing:
        # Then the Powertools Tracer wrapped the handler and X-Ray instruments boto3's calls
        assert report.handler_code is not None and report.handler_code.endswith(
            "aws_lambda_powertools/tracing/tracer.py"
        )
        assert inside(report.file_of("aws_xray_sdk"), fn.package)
        assert "botocore" in report.xray_patched
    else:
        # Then the handler is not traced and the X-Ray SDK was never loaded (cold start)
        assert report.handler_code is not None and not report.handler_code.endswith("tracing/tracer.py")
        assert [n for n in report.modules if n.split(".")[0] in ("aws_xray_sdk", "wrapt")] == []
