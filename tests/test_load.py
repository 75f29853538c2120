"""`yzw load` against the reference system: the gate passes clean, fails a slow intake, and PERF-02 finds losses."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.certify import pointed_record, write_record
from tests.conftest import RECORD, REGISTRATION
from tests.processes import run_yzw
from typer.testing import CliRunner

from yzw.cli import app
from yzw.codes.times import CN_TZ
from yzw.mock.runner import RunningPlatform, start_platform
from yzw.reference.faults import chosen
from yzw.reference.runner import start_reference
from yzw.report.document import build
from yzw.run.options import RunOptions
from yzw.run.target import Target
from yzw.sut import PlatformGrant, Registration

pytestmark = pytest.mark.xdist_group("load")  # locust runs one at a time (make test: --dist loadfile)


@pytest.fixture(scope="module")
def load_platform() -> Iterator[RunningPlatform]:
    running = start_platform()
    yield running
    running.stop()


def _load(platform: RunningPlatform, folder: Path, fault: str | None, *options: str) -> tuple[int, str, Path]:
    reference = start_reference(platform, REGISTRATION, faults=chosen([fault] if fault else []))
    try:
        sut = write_record(folder, pointed_record(reference))
        args = [
            "load",
            "--sut",
            str(sut),
            "--platform",
            platform.urls["province"],
            "--report-dir",
            str(folder),
            *options,
        ]
        result = CliRunner().invoke(app, args)
    finally:
        reference.stop()
    return result.exit_code, result.output, folder / "load"


def test_the_reference_system_holds_the_county_slo(load_platform: RunningPlatform, tmp_path: Path) -> None:
    code, output, folder = _load(
        load_platform, tmp_path, None, "--tier", "county", "--duration", "20s", "--with-checks"
    )
    assert code == 0, output
    assert "✓ pass PERF-01" in output
    assert "✓ pass PERF-02" in output
    assert "✓ pass EVT-03/EVT-04/EVT-06" in output
    assert "the load generator ran on the system's own host" in output
    assert (folder / "locust.html").stat().st_size > 10_000
    stats = (folder / "locust_stats.csv").read_text(encoding="utf-8")
    assert ",driver accept," in stats
    assert ",driver accept (double click)," in stats  # the second click's 409 is the right answer, no failure


def test_accepts_that_race_fail_the_checks_under_load(load_platform: RunningPlatform, tmp_path: Path) -> None:
    """accepts-not-serialized: double clicks under load show it (the EVT-03 check of two accepts at once, too)."""
    code, output, _ = _load(
        load_platform, tmp_path, "accepts-not-serialized", "--tier", "county", "--duration", "10s", "--with-checks"
    )
    assert code == 1, output
    assert "✗ fail EVT-03/EVT-04/EVT-06" in output  # the gate's rate (PERF-01) is not the subject here: on a
    # loaded 2-core machine it may miss 50/s with the clerk's traffic on top, with or without this fault


def test_a_slow_intake_fails_the_gate(load_platform: RunningPlatform, tmp_path: Path) -> None:
    code, output, _ = _load(load_platform, tmp_path, "slow-intake", "--duration", "10s")
    assert code == 1, output
    assert "✗ fail PERF-01" in output


def test_an_intake_serving_one_at_a_time_misses_the_tier_rate(load_platform: RunningPlatform, tmp_path: Path) -> None:
    """intake-one-at-a-time (PERF-01.1): about 33 applications a second against the county's 50."""
    code, output, _ = _load(load_platform, tmp_path, "intake-one-at-a-time", "--tier", "county", "--duration", "15s")
    assert code == 1, output
    assert "✗ fail PERF-01" in output
    assert "sustained" in output  # the rate is what it misses (a p95 miss may come with it)


def test_applications_lost_under_load_fail_perf_02(load_platform: RunningPlatform, tmp_path: Path) -> None:
    code, output, _ = _load(load_platform, tmp_path, "loses-applications", "--duration", "10s")
    assert code == 1, output
    assert "✗ fail PERF-02" in output
    assert "(lost)" in output


def test_applications_shed_after_keeping_fail_perf_02(load_platform: RunningPlatform, tmp_path: Path) -> None:
    """overload-shed-after-keeping (PERF-02.4): answered 503 under load, and kept all the same."""
    code, output, _ = _load(load_platform, tmp_path, "overload-shed-after-keeping", "--duration", "15s")
    assert code == 1, output
    assert "✗ fail PERF-02" in output
    assert "(kept)" in output


def test_repeats_kept_twice_under_load_fail_perf_02(load_platform: RunningPlatform, tmp_path: Path) -> None:
    """resend-kept-twice (PERF-02.2): the load's retries after a time-out, kept again with their own received_at."""
    code, output, _ = _load(load_platform, tmp_path, "resend-kept-twice", "--duration", "15s")
    assert code == 1, output
    assert "✗ fail PERF-02" in output
    assert "kept twice" in output


def test_a_bad_duration_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["load", "--sut", str(write_record(tmp_path, RECORD)), "--duration", "soon"])
    assert result.exit_code == 2
    assert "Invalid value for --duration" in result.output


def test_the_certification_report_includes_the_load_summary(tmp_path: Path) -> None:
    (tmp_path / "load").mkdir()
    summary = {"tier": "county", "seconds": 60, "passed": True, "verdicts": {}}
    (tmp_path / "load" / "load-summary.json").write_text(json.dumps(summary), encoding="utf-8")
    options = RunOptions.checked(sut=tmp_path / "sut.yaml", report_dir=tmp_path)
    grant = PlatformGrant("yzw-platform", "x" * 32, "http://127.0.0.1:9", "http://127.0.0.1:9")
    target = Target(REGISTRATION, grant, "http://127.0.0.1:9")
    document = build([], target, options, dt.datetime.now(CN_TZ), dt.datetime.now(CN_TZ))
    assert document["load"] == summary


def test_a_department_without_an_active_item_gets_one_clear_line_and_exit_2(
    load_platform: RunningPlatform, tmp_path: Path
) -> None:
    """A vendor's own department (西湖区, 113301060025003166) that the catalogue does not hold: no traceback."""
    other = Registration.from_mapping({**RECORD, "dept_uscc": "113301060025003166", "dept_seq": "012"})
    reference = start_reference(load_platform, other)
    try:
        sut = write_record(tmp_path, pointed_record(reference))
        options = ["--platform", load_platform.urls["province"], "--duration", "20s", "--report-dir", str(tmp_path)]
        done = run_yzw("load", "--sut", str(sut), *options)
    finally:
        reference.stop()
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "no active item of the registered department (dept_uscc 113301060025003166)" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
