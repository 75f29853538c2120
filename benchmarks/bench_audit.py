"""Benchmark: `yzw audit` over a generated dump of --events events (default 1,000,000) on both cores.

Prints records per second (aim ≥ 100,000/s) and the peak memory of the audit summed over all its processes
(the workers included; aim < 300 MB whatever the size), sampled from /proc. With --compare, the row audit
(tests/audit_oracle.py, today's implementation) runs on the same dump in the same run, and the ratio is
printed: on a shared machine absolute rates are noisy, the ratio much less. The dump is generated first
(not timed): a base of 20,000 applications (5 % defective), written again with fresh application numbers
until it holds the wanted number of events; --dump reuses one. Run: make bench-audit
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
ROOT = Path(__file__).resolve().parent.parent

AUDIT = """
import resource, sys, time
from pathlib import Path
if __name__ == "__main__":
    started = time.perf_counter()
    if sys.argv[2] == "row":
        sys.path.insert(0, sys.argv[3])
        from tests.audit_oracle import oracle_audit
        outcome = oracle_audit([Path(sys.argv[1])], {})
    else:
        from yzw.audit.columnar import audit_sources
        outcome = audit_sources([Path(sys.argv[1])], {})
    outcome.monitor.report("county")
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(usage.ru_utime + usage.ru_stime for usage in used)
    print(outcome.records, len(outcome.bad), time.perf_counter() - started, cpu)
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


def _tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def _run(dump: Path, which: str) -> tuple[int, int, float, float, float]:
    """Records, bad records, seconds, CPU seconds (all processes) and peak memory (MB, all processes)."""
    process = subprocess.Popen(
        [sys.executable, "-c", AUDIT, str(dump), which, str(ROOT)], stdout=subprocess.PIPE, text=True
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.2)
    output, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"the {which} audit failed (exit {process.returncode})")
    records, bad, seconds, cpu = output.split()
    return int(records), int(bad), float(seconds), float(cpu), peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dump", type=Path, help="audit this dump instead of generating one")
    parser.add_argument("--compare", action="store_true", help="run the row audit too, on the same dump")
    options = parser.parse_args()
    dump = options.dump or Path(tempfile.mkdtemp(prefix="yzw-bench-audit-")) / "events.jsonl"
    if options.dump is None:
        started = time.perf_counter()
        written = _write_dump(dump, options.events)
        took = time.perf_counter() - started
        print(f"generated {written:,} events ({dump.stat().st_size / 2**20:,.0f} MiB) in {took:.0f} s (not timed)")
    rates, cpus = {}, {}
    for which in ("columnar", "row") if options.compare else ("columnar",):
        records, bad, seconds, cpu, peak = _run(dump, which)
        rates[which], cpus[which] = records / seconds, cpu
        print(f"{which}: {records:,} records in {seconds:.1f} s = {rates[which]:,.0f} records/s; {bad:,} bad")
        print(f"{which}: {cpu:.1f} CPU s over all its processes; peak memory {peak:,.0f} MB over them")
    if options.compare:
        speed, saving = rates["columnar"] / rates["row"], cpus["row"] / cpus["columnar"]
        print(f"columnar / row: {speed:.2f}x records/s, {saving:.2f}x less CPU")
    if options.dump is None:
        dump.unlink()


if __name__ == "__main__":
    main()
