"""The loop test's verdict table: every seeded fault run over its requirement's chapter, every verdict kept.

A refactoring of the reference system or the checks must give the same table before and after: run this
on both commits and compare. The loop test itself only asserts what must fail; this keeps every verdict
(pass, fail, not-applicable …), so a changed collateral or a check that stopped applying shows too.

Run: .venv/bin/python scripts/loop_verdicts.py OUT.json [--compare BEFORE.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.certify, from a checkout

from tests.certify import certify

from yzw.mock.runner import start_platform
from yzw.reference.faults import catalogue

Table = dict[str, dict[str, list[str]]]


def verdicts() -> Table:
    """Per fault, per requirement of its chapter: the verdicts of its tests."""
    table: Table = {}
    platform = start_platform()
    try:
        for name, fault in catalogue().items():
            with tempfile.TemporaryDirectory() as folder:
                run = certify(platform, Path(folder), (name,), frozenset({fault.requirement.split("-")[0]}))
            found: dict[str, set[str]] = {}
            for test in run.results:
                for req_id in test.requirements:
                    found.setdefault(req_id, set()).add(test.verdict)
            table[name] = {req_id: sorted(found[req_id]) for req_id in sorted(found)}
            print(name, {r: v for r, v in table[name].items() if v != ["pass"]}, flush=True)
    finally:
        platform.stop()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="where the table goes (JSON)")
    parser.add_argument("--compare", type=Path, help="a table written before: name the faults that differ")
    options = parser.parse_args()
    table = verdicts()
    options.out.write_text(json.dumps(table, indent=1, sort_keys=True), encoding="utf-8")
    if options.compare:
        before: Table = json.loads(options.compare.read_text(encoding="utf-8"))
        changed = sorted(name for name in set(before) | set(table) if before.get(name) != table.get(name))
        for name in changed:
            print(f"changed: {name}\n  before {before.get(name)}\n  after  {table.get(name)}")
        print(f"{len(table) - len(changed)} of {len(table)} faults give the same verdicts")


if __name__ == "__main__":
    main()
