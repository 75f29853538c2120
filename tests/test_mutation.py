"""`make mutation` in small: cosmic-ray mutates one small module, the conformance run judges each mutant."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

MODULE = REPO / "src" / "yzw" / "codes" / "compose.py"


def test_a_sampled_mutation_run_judges_every_mutant_and_restores_the_module() -> None:
    before = MODULE.read_bytes()
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "mutation.py"), "--modules", "numbering", "--sample", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("numbering"))
    mutants, killed, survived, timed_out, equivalent = map(int, row.split()[1:6])
    assert mutants == 2, row
    assert killed + survived + timed_out + equivalent == 2, row
    assert MODULE.read_bytes() == before  # the mutant never outlives the run
