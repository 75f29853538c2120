"""The `yzw` command as a user runs it: a separate process, its exit code and both output streams."""

from __future__ import annotations

import subprocess
import sys


def run_yzw(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`yzw ARGS…` through the console script's entry point (errors as one line, exit 2), output captured."""
    return subprocess.run(
        [sys.executable, "-c", "from yzw.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
