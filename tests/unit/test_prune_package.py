"""make build's pruning: the package keeps what src/requirements.txt needs, short of what the runtime provides."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.prune_package import needed, prune


def install(package: Path, name: str, version: str, modules: list[str], requires: tuple[str, ...] = ()) -> None:
    """A distribution as sam build lays it out: its files, and a dist-info whose RECORD lists them."""
    info = package / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    meta = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(meta) + "\n\n")
    files = []
    for module in modules:
        path = package / module
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")
        files.append(module)
    files += [f"{info.name}/METADATA", f"{info.name}/RECORD", f"../../bin/{name}-script"]
    (info / "RECORD").write_text("".join(f"{f},sha256=abc,6\n" for f in files))


def package_like_sam_builds_it(tmp_path: Path) -> Path:
    package = tmp_path / "build" / "DispatcherFunction"
    install(package, "aws-xray-sdk", "2.15.0", ["aws_xray_sdk/__init__.py"], ("wrapt", "botocore >=1.11.3"))
    install(package, "wrapt", "2.5.2", ["wrapt/__init__.py"])
    install(
        package,
        "botocore",
        "1.44.8",
        ["botocore/__init__.py", "botocore/data/s3/service.json"],
        [
            "python-dateutil<3,>=2.1",
            "urllib3!=2.2.0,<3,>=1.25.4; python_version >= '3.10'",
            "awscrt==0.29; extra == 'crt'",
        ],
    )
    install(package, "python-dateutil", "2.9.0.post0", ["dateutil/__init__.py"], ("six>=1.5",))
    install(package, "six", "1.17.0", ["six.py"])
    install(package, "urllib3", "2.8.0", ["urllib3/__init__.py"])
    install(package, "pydantic", "2.13.5", ["pydantic/__init__.py"], ("email-validator>=2; extra == 'email'",))
    (package / "notifier").mkdir()
    (package / "notifier" / "__init__.py").write_text("")
    (package / "requirements.txt").write_text("# comment\npydantic==2.13.5\nurllib3==2.8.0\naws-xray-sdk==2.15.0\n")
    return package


def test_what_only_botocore_needs_is_not_needed(tmp_path):
    # Given a package with aws-xray-sdk, which requires botocore (which requires dateutil, six, urllib3)
    package = package_like_sam_builds_it(tmp_path)
    # When its needs are followed from requirements.txt
    keep = needed(package)
    # Then urllib3 stays (we require it ourselves), botocore's own needs and extras do not
    assert keep == {"pydantic", "urllib3", "aws-xray-sdk", "wrapt"}


def test_pruning_removes_the_runtimes_distributions_file_by_file_and_keeps_the_rest(tmp_path):
    # Given the package, with bytecode an earlier build compiled beside botocore, and a file where
    # botocore's RECORD says its script went (outside the package: never installed into it)
    package = package_like_sam_builds_it(tmp_path)
    (package / "botocore" / "__pycache__").mkdir()
    (package / "botocore" / "__pycache__" / "__init__.cpython-313.pyc").write_bytes(b"")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "botocore-script").write_text("not the package's")
    # When it is pruned
    removed = prune(package)
    # Then botocore, dateutil and six are gone, directories and dist-info included
    assert removed == ["botocore", "python-dateutil", "six"]
    left = sorted(p.name for p in package.iterdir())
    assert left == [
        "aws_xray_sdk",
        "aws_xray_sdk-2.15.0.dist-info",
        "notifier",
        "pydantic",
        "pydantic-2.13.5.dist-info",
        "requirements.txt",
        "urllib3",
        "urllib3-2.8.0.dist-info",
        "wrapt",
        "wrapt-2.5.2.dist-info",
    ]
    # and nothing recorded outside the package was touched
    assert (tmp_path / "bin" / "botocore-script").read_text() == "not the package's"


def test_a_requirement_sam_build_did_not_install_stops_the_build(tmp_path):
    # Given requirements.txt names a distribution the package lacks
    package = package_like_sam_builds_it(tmp_path)
    (package / "requirements.txt").write_text("pydantic==2.13.5\naws-lambda-powertools==3.37.0\n")
    # Then following the requirements stops, naming it
    with pytest.raises(
        SystemExit, match=r"aws-lambda-powertools==3\.37\.0 is required but sam build did not install it"
    ):
        needed(package)
