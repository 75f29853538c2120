"""Benchmark: `yzw audit` over a generated dump of --events events (default 1,000,000) on one core.

Prints records per second (aim ≥ 100,000/s) and the audit process's peak memory (aim < 300 MB whatever
the size). The dump is generated first (not timed) with 5 % defective applications. Run: make bench-audit
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AUDIT = """
import resource, sys, time
from yzw.audit.judge import Audit
from yzw.audit.sources import lines
from pathlib import Path
state, started = Audit(), time.perf_counter()
for line in lines([Path(sys.argv[1])]):
    state.feed(line)
seconds = time.perf_counter() - started
state.monitor.report({}, "county")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
rate = state.records / seconds
print(f"{state.records:,} records in {seconds:.1f} s = {rate:,.0f} records/s; {len(state.bad):,} bad")
print(f"peak memory of the audit process: {peak:,.0f} MB")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    wanted = parser.parse_args().events
    folder = Path(tempfile.mkdtemp(prefix="yzw-bench-audit-"))
    dump = folder / "events.jsonl"
    started = time.perf_counter()
    applications = max(1, wanted // 5)  # case histories average about five events
    options = ["--departments", "20", "--applications", str(applications), "--defect-rate", "0.05", "--out", str(dump)]
    subprocess.run(
        [sys.executable, "-c", "from yzw.cli import main; main()", "fixtures", "events", *options],
        check=True,
        capture_output=True,
    )
    print(f"generated {dump} ({dump.stat().st_size / 2**20:,.0f} MiB) in {time.perf_counter() - started:.0f} s")
    subprocess.run([sys.executable, "-c", AUDIT, str(dump)], check=True)


if __name__ == "__main__":
    main()
