"""The loop test: the conformance suites against the reference system, clean and with every seeded fault.

Clean, every requirement passes (through `yzw demo`, which also writes the reports). With a fault, the
checks of the fault's requirement fail it (`make loop`: the run over its whole chapter fails that requirement
and nothing but its declared collaterals; tests/fault_loop.py, run in the shards tests/test_loop_shard_*.py
so that both workers share the faults); a sample of faults also gets a full run. This proves the checks are
real.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.certify import judge_fault
from tests.fault_loop import FAULTS, SHARDS, shard_of
from typer.testing import CliRunner

from yzw.cli import app
from yzw.errors import YzwError
from yzw.mock.runner import RunningPlatform
from yzw.register import load_register
from yzw.report.document import verify

FULL_RUN_SAMPLE = ("no-idempotency", "case-no-after-acceptance")  # one plain, one with collaterals in 3 chapters
SYSTEM_IDS = {r.id for r in load_register().values() if r.applies_to == "system"}


@pytest.mark.xdist_group("demo")
def test_the_demo_certifies_the_clean_reference_system_on_every_requirement(
    demo_reports: tuple[int, str, Path],
) -> None:
    code, output, folder = demo_reports
    assert code == 0, output
    assert f"PASSED: {len(SYSTEM_IDS)} requirements ({len(SYSTEM_IDS)} pass)" in output
    assert output.strip().splitlines()[-2:] == [
        f"JSON report: {folder / 'report.json'}",
        f"HTML report: {folder / 'report.html'}",
    ]
    document = verify(folder / "report.json")
    assert {r["id"] for r in document["requirements"] if r["verdict"] == "pass"} == SYSTEM_IDS
    depth = {r["id"]: r["depth"] for r in document["requirements"]}  # clauses checked / clauses in the norm
    assert all(0 < d["checked"] <= d["clauses"] for rid, d in depth.items() if rid in SYSTEM_IDS), depth
    assert "条款 · Clauses" in (folder / "report.html").read_text(encoding="utf-8")
    assert "<testsuite" in (folder / "junit.xml").read_text(encoding="utf-8")
    assert list((folder / "allure-results").glob("*-result.json"))


@pytest.mark.xdist_group("demo")
def test_the_json_report_shows_tampering(demo_reports: tuple[int, str, Path], tmp_path: Path) -> None:
    _, _, folder = demo_reports
    document = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    document["requirements"][0]["verdict"] = "fail"
    changed = tmp_path / "report.json"
    changed.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["report", "verify", str(changed)])
    assert isinstance(result.exception, YzwError)  # `yzw` prints it as one line and exits 2
    assert "was changed after it was written" in str(result.exception)


@pytest.mark.xdist_group("demo")
def test_the_report_masks_people_and_hides_secrets(demo_reports: tuple[int, str, Path]) -> None:
    _, _, folder = demo_reports
    text = (folder / "report.json").read_text(encoding="utf-8") + (folder / "report.html").read_text(encoding="utf-8")
    assert "ref-xihu-samr-secret" not in text
    assert "**********" in text  # ID numbers masked: 3301**********002X


def test_every_system_requirement_has_a_fault_a_sequential_run_can_see() -> None:
    """The self-test rule: a check no seeded fault fails is not shown to be real."""
    assert SYSTEM_IDS - {fault.requirement for fault in FAULTS if not fault.under_load} == set()


def test_the_fault_shards_hold_every_fault_once() -> None:
    assert sorted(name for shard in range(SHARDS) for name in shard_of(shard)) == sorted(f.name for f in FAULTS)


@pytest.mark.parametrize("name", FULL_RUN_SAMPLE)
def test_a_full_run_with_a_fault_fails_only_that_faults_requirements(
    running_platform: RunningPlatform, tmp_path: Path, name: str
) -> None:
    judge_fault(running_platform, tmp_path, name)
