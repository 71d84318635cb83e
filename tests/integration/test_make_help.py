"""`make help` (and plain `make`) lists every target of the Makefile with what it does."""

from __future__ import annotations

import re
import subprocess

from devstack.stack import ROOT


def test_make_help_lists_every_target_with_its_description():
    # Given the Makefile's targets (the rules a person types: lower-case names, not the venv stamps)
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    assert {"help", "run", "serve", "test", "build", "bench"} <= targets

    # When a newcomer types make help, or just make
    shown = [subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
             for args in (["make", "help"], ["make"])]  # fmt: skip

    # Then each target is listed with a description
    assert shown[0] == shown[1]
    listed = dict(re.findall(r"^  make (\S+) +(\S.*)$", shown[0], re.M))
    assert set(listed) >= targets, targets - set(listed)
    assert all(listed[t] for t in targets)
