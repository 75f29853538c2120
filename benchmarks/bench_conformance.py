"""Benchmark: how long a conformance run against the reference system takes (full run, and each chapter).

Aims on a 2-core machine: a full run ≤ 30 s, one chapter ≤ 10 s. The mock platform and the reference system
run in this process, as `yzw demo` runs them. Figures only; nothing passes or fails. Run: make bench-conformance
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from yzw.conformance.run import run_suites
from yzw.conformance.session import Conformance
from yzw.content import content_path
from yzw.mock.runner import start_platform
from yzw.reference.runner import start_reference
from yzw.register import load_register
from yzw.run.options import RunOptions
from yzw.sut import load_registration

WAIT = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2, help="full runs to time (the best and the worst are shown)")
    rounds = parser.parse_args().rounds
    platform = start_platform()
    reference = start_reference(platform, load_registration(content_path("mocks", "reference-sut.yaml")))
    pointed = reference.registration.as_record()
    with tempfile.TemporaryDirectory() as folder:
        sut = Path(folder) / "sut.yaml"
        sut.write_text(yaml.safe_dump(pointed, allow_unicode=True), encoding="utf-8")
        try:
            full = [_timed(sut, platform.urls["province"], frozenset()) for _ in range(rounds)]
            print(f"full run: {min(full):.1f}–{max(full):.1f} s over {rounds} runs (aim ≤ 30 s)")
            areas = list(dict.fromkeys(r.area for r in load_register().values() if r.applies_to == "system"))
            for area in areas:
                seconds = _timed(sut, platform.urls["province"], frozenset({area}))
                print(f"  chapter {area:<5} {seconds:5.1f} s (aim ≤ 10 s)")
        finally:
            reference.stop()
            platform.stop()


def _timed(sut: Path, platform: str, chapters: frozenset[str]) -> float:
    started = time.perf_counter()
    conformance = run_suites(
        Conformance.start(RunOptions.checked(sut=sut, platform=platform, chapters=chapters, wait=WAIT))
    )
    seconds = time.perf_counter() - started
    failed = [t.name for t in conformance.results if t.verdict != "pass"]
    if failed:
        print(f"  (not all passed: {failed})")
    return seconds


if __name__ == "__main__":
    main()
