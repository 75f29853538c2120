"""The `yzw` command: exit codes, output, and one clear line (never a traceback) for bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from yzw.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_check_reports_valid_and_invalid_values_with_exit_code() -> None:
    code, output = run("codes", "check", "11010519491231002X", "91350100M000100Y44")
    assert code == 1
    assert "✓ 11010519491231002X  id_number [CODE-01]" in output
    assert "expected '3', got '4'" in output
    assert "1 valid, 1 invalid" in output


def test_check_all_valid_exits_zero() -> None:
    assert run("codes", "check", "--kind", "division", "330106", "330113")[0] == 0


def test_gen_is_repeatable_and_valid() -> None:
    first = run("codes", "gen", "case_no", "-n", "5", "--seed", "3")
    second = run("codes", "gen", "case_no", "-n", "5", "--seed", "3")
    assert first == second
    values = first[1].split()
    assert len(values) == 5
    assert run("codes", "check", "--kind", "case_no", *values)[0] == 0


def test_gen_invalid_variant_is_rejected_for_its_defect() -> None:
    code, output = run("codes", "gen", "id_number", "--invalid", "division", "--seed", "5")
    assert code == 0
    checked = run("codes", "check", "--kind", "id_number", output.strip())
    assert checked[0] == 1
    assert "no GB/T 2260 division code" in checked[1]


def test_due_prints_the_promised_due_time() -> None:
    assert run("codes", "due", "2025-09-26", "5") == (0, "2025-10-10T23:59:59+08:00\n")


def test_spec_list_filters_by_chapter() -> None:
    code, output = run("spec", "list", "--chapter", "ACC")
    assert code == 0
    assert "ACC-04" in output
    assert "APP-01" not in output


def test_spec_show_prints_one_requirement() -> None:
    code, output = run("spec", "show", "sig-02")
    assert code == 0
    assert "SIG-02 MUST  §4" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["codes", "check", "--kind", "nope", "1"], "unknown kind 'nope'"),
        (["codes", "gen", "id_number", "--invalid", "bogus"], "unknown defect 'bogus'"),
        (["codes", "due", "2026-12-30", "3"], "no data for 2027"),
        (["codes", "due", "30/12/2026", "3"], "YYYY-MM-DD"),
        (["spec", "show", "XYZ-01"], "unknown requirement ID"),
        (["spec", "list", "--applies-to", "vendor"], "system, platform or kit"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from yzw.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_demo_runs_and_says_what_it_checked() -> None:
    code, output = run("demo")
    assert code == 0
    assert "63 requirements" in output
    assert "All published vectors hold" in output
