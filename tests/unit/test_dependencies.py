"""One source for the Lambda's dependency versions: src/requirements.txt pins them, requirements-dev.txt
includes that file, and pyproject.toml's ranges admit every pin (boto3: the dev pin, since the Lambda
runtime provides it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devstack.prune_package import RUNTIME_PROVIDED

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "src" / "requirements.txt"
DEV = ROOT / "requirements-dev.txt"


def read_requirements(path: Path) -> tuple[list[Requirement], list[str]]:
    """The requirements a pip requirements file names itself, and the files it includes with -r."""
    reqs, includes = [], []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            includes.append(line.removeprefix("-r ").strip())
        else:
            reqs.append(Requirement(line))
    return reqs, includes


def pins(reqs: list[Requirement]) -> dict[str, str]:
    """name -> version of every exact (==) pin."""
    out: dict[str, str] = {}
    for req in reqs:
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator == "==":
            out[canonicalize_name(req.name)] = specs[0].version
    return out


def disagreements(declared: list[str], runtime_pins: dict[str, str], dev_pins: dict[str, str]) -> list[str]:
    """What is wrong between pyproject.toml's dependencies and the pins, one readable line each."""
    problems = []
    ranges = {canonicalize_name(Requirement(d).name): Requirement(d) for d in declared}
    for name, req in ranges.items():
        pin = runtime_pins.get(name) or (dev_pins.get(name) if name in RUNTIME_PROVIDED else None)
        where = "src/requirements.txt" if name in runtime_pins else "requirements-dev.txt"
        if pin is None:
            problems.append(f"{name}: in pyproject.toml ({req.specifier}) but pinned nowhere")
        elif not req.specifier.contains(pin, prereleases=True):
            problems.append(f"{name}: {where} pins {pin}, outside pyproject.toml's {req.specifier}")
    problems += [
        f"{name}: pinned in src/requirements.txt ({pin}) but not a dependency in pyproject.toml"
        for name, pin in runtime_pins.items()
        if name not in ranges
    ]
    return problems


def test_pyproject_ranges_admit_every_pin_and_nothing_is_undeclared():
    # Given the three files as they are
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    runtime, _ = read_requirements(RUNTIME)
    dev, _ = read_requirements(DEV)
    # When each declared range is checked against its pin, and each runtime pin against the ranges
    problems = disagreements(declared, pins(runtime), pins(dev))
    # Then they agree
    assert problems == []


def test_a_pin_outside_its_range_or_undeclared_is_named():
    # Given pyproject.toml drifted from the pins three ways
    declared = ["pydantic>=2.14,<3", "urllib3>=2.2,<3", "boto3>=1.40"]
    runtime_pins = {"pydantic": "2.13.5", "aws-xray-sdk": "2.15.0"}
    # When they are compared
    problems = disagreements(declared, runtime_pins, dev_pins={})
    # Then each drift is reported with the package and both sides
    assert problems == [
        "pydantic: src/requirements.txt pins 2.13.5, outside pyproject.toml's <3,>=2.14",
        "urllib3: in pyproject.toml (<3,>=2.2) but pinned nowhere",
        "boto3: in pyproject.toml (>=1.40) but pinned nowhere",
        "aws-xray-sdk: pinned in src/requirements.txt (2.15.0) but not a dependency in pyproject.toml",
    ]


def test_the_lambda_package_pins_every_dependency_exactly_and_leaves_out_what_the_runtime_provides():
    runtime, includes = read_requirements(RUNTIME)
    assert includes == []
    assert [str(r) for r in runtime if canonicalize_name(r.name) not in pins(runtime)] == []
    assert {canonicalize_name(r.name) for r in runtime} & RUNTIME_PROVIDED == set()
    # Tracing=Active makes both handlers create a Powertools Tracer, which imports the X-Ray SDK
    assert "aws-xray-sdk" in pins(runtime)


def test_dev_includes_the_runtime_pins_instead_of_repeating_them():
    # Given the dev requirements
    dev, includes = read_requirements(DEV)
    runtime, _ = read_requirements(RUNTIME)
    # Then they take the runtime pins from src/requirements.txt, and pin none of those packages again
    assert [(DEV.parent / i).resolve() for i in includes] == [RUNTIME.resolve()]
    assert {canonicalize_name(r.name) for r in dev} & {canonicalize_name(r.name) for r in runtime} == set()
    # and boto3, left out of the package, is pinned for dev here (the build test's runtime uses this pin)
    assert "boto3" in pins(dev)
