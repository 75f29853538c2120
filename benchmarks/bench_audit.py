"""Benchmark: `yzw audit` over a generated dump of --events events (default 1,000,000) on both cores.

Prints records per second (aim ≥ 100,000/s) and the peak memory of the audit process and of its largest
worker (aim < 300 MB whatever the size). The dump is generated first (not timed): a base of 20,000
applications (5 % defective), written again with fresh application numbers until it holds the wanted number
of events. Run: make bench-audit
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from yzw.codes import compose
from yzw.fixtures.dumps import generate

BASE_APPLICATIONS = 20_000

AUDIT = """
import resource, sys, time
from pathlib import Path
from yzw.audit.columnar import audit_sources
started = time.perf_counter()
outcome = audit_sources([Path(sys.argv[1])], {})
outcome.monitor.report("county")
seconds = time.perf_counter() - started
main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
rate = outcome.records / seconds
print(f"{outcome.records:,} records in {seconds:.1f} s = {rate:,.0f} records/s; {len(outcome.bad):,} bad")
print(f"peak memory: {main:,.0f} MB the audit process, {worker:,.0f} MB its largest worker")
"""


def _write_dump(path: Path, wanted: int) -> int:
    """About `wanted` events: one generated base (5 % defective applications) written again with fresh numbers."""
    stream, _ = generate(departments=20, applications=BASE_APPLICATIONS, defect_rate=0.05, seed=1)
    base = list(stream)
    copies, written = max(1, round(wanted / len(base))), 0
    with path.open("w", encoding="utf-8") as handle:
        for copy in range(copies):
            numbers: dict[str, str] = {}
            for event in base:
                old = event["application_no"]
                if old not in numbers:
                    serial = (int(old[15:22]) + copy * 7919) % 10_000_000
                    numbers[old] = compose.application_no(
                        old[:6], old[6], dt.date.fromisoformat(f"{old[7:11]}-{old[11:13]}-{old[13:15]}"), serial
                    )
                text = json.dumps(event, ensure_ascii=False)  # the number stands in the payload too
                handle.write(text.replace(old, numbers[old]) + "\n")
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    wanted = parser.parse_args().events
    dump = Path(tempfile.mkdtemp(prefix="yzw-bench-audit-")) / "events.jsonl"
    started = time.perf_counter()
    written = _write_dump(dump, wanted)
    size = dump.stat().st_size / 2**20
    print(f"generated {written:,} events ({size:,.0f} MiB) in {time.perf_counter() - started:.0f} s (not timed below)")
    subprocess.run([sys.executable, "-c", AUDIT, str(dump)], check=True)
    dump.unlink()


if __name__ == "__main__":
    main()
