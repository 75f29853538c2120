"""The test command of a mutation run: certify the (mutated) reference system over some chapters.

Exit 0 when every requirement passes (the mutant survived), 1 when one does not (the checks killed it).
cosmic-ray mutates the module on disk and runs this once per mutant (scripts/mutation.py).

Run: .venv/bin/python scripts/mutation_check.py APP,MSG
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.certify, from a checkout

from tests.certify import certify, not_passed

from yzw.mock.runner import start_platform


def main(chapters: str) -> int:
    logging.disable(logging.CRITICAL)  # a mutant's errors are expected; only the verdict counts
    platform = start_platform()
    try:
        with tempfile.TemporaryDirectory() as folder:
            failed = not_passed(certify(platform, Path(folder), chapters=frozenset(chapters.split(","))))
    finally:
        platform.stop()
    print("killed by " + ", ".join(sorted(failed)) if failed else "survived: every requirement passes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
