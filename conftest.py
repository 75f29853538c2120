"""Repo-local pytest settings only, for runs from a checkout's top (`pytest`: the kit's own tests). An installed
kit needs none of it: its plugin is the `pytest11` entry point `yzw`. The conformance suites run with their
own settings (conformance/pytest.ini, which `yzw run` passes), so pytest does not read this file for them.

- The checkout's root is importable, so tests share their helpers as `tests.…` whatever the import mode.
- The checkout's own `src/` is used when the kit is not installed (a bare clone: `pytest` finds `yzw`), and
  the plugin is then loaded from it, so the `requirement` marker and the suites' fixtures exist.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path

REPO = Path(__file__).resolve().parent

for folder in (REPO, REPO / "src"):
    if str(folder) not in sys.path and (folder != REPO / "src" or importlib.util.find_spec("yzw") is None):
        sys.path.insert(0, str(folder))

_installed = any(ep.name == "yzw" for ep in entry_points(group="pytest11"))
pytest_plugins = ["pytester"] + ([] if _installed else ["yzw.conformance.plugin"])  # pytester: tests/test_beside.py
