"""The `yzw` command: exit codes, output, and one clear line (never a traceback) for bad input."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from tests.conftest import REPO
from tests.mock_helpers import free_port_base, wait_until
from tests.processes import run_yzw
from typer.testing import CliRunner

from yzw.cli import app
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.mock.topology import load_topology
from yzw.register import load_register
from yzw.spec.coverage import clause_coverage
from yzw.spec.xml import to_xml

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
    assert "SIG-02.1 " in output  # its clauses, each with the norm's words
    assert "SIGNATURE_MISSING" in output


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


def _write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def test_spec_validate_exit_codes(tmp_path: Path) -> None:
    factory = MessageFactory(make_faker(8))
    good = factory.application()
    bad = {**good, "division_code": "110101"}
    assert run("spec", "validate", _write(tmp_path, "good.json", json.dumps(good)))[0] == 0
    code, output = run("spec", "validate", _write(tmp_path, "bad.json", json.dumps(bad)))
    assert code == 1
    assert "/division_code  division_code:" in output
    assert "[CODE-03]" in output
    code, output = run(
        "spec",
        "validate",
        "--kind",
        "event",
        _write(tmp_path, "e.xml", to_xml("event", factory.case_history(("SL",))[1][0])),
    )
    assert (code, output.strip().endswith("valid")) == (0, True)


def test_spec_validate_reads_a_registration_record_in_yaml(tmp_path: Path) -> None:
    record = MessageFactory(make_faker(8)).sut()
    record["app_secret"] = "short"
    code, output = run("spec", "validate", _write(tmp_path, "sut.yaml", yaml.safe_dump(record)))
    assert code == 1
    assert "/app_secret" in output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"application_no": ', "malformed JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"x": 1}', "name its kind"),
        (b"<application", "malformed XML"),
    ],
)
def test_spec_validate_unreadable_input_exits_2(tmp_path: Path, content: bytes, message: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from yzw.cli import main; main()",
            "spec",
            "validate",
            _write(tmp_path, "in.txt", content),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_spec_coverage_finds_a_conformance_check_for_every_system_requirement() -> None:
    code, output = run("spec", "coverage")
    assert code == 0
    assert "63 requirements" in output
    assert "59 of 59 system requirements with a conformance check;" in output
    assert run("spec", "coverage", "--strict")[0] == 0


def test_spec_coverage_by_clause_counts_checks_and_faults_per_chapter() -> None:
    code, output = run("spec", "coverage", "--clauses")
    assert code == 0
    assert re.search(r"CODE: \d+ clauses, \d+ with a check, \d+ with a fault, \d+ manual", output)
    total = sum(len(r.clauses) for r in load_register().values() if r.applies_to == "system")
    assert f"{total} clauses of 59 system requirements" in output
    open_count = int(re.search(r"; (\d+) without", output).group(1))  # type: ignore[union-attr]
    assert run("spec", "coverage", "--clauses", "--strict")[0] == (1 if open_count else 0)


def test_clauses_only_a_full_load_observes_show_the_load_judgement() -> None:
    rows = {row.clause.id: row for row in clause_coverage({})}
    assert rows["PERF-01.3"].checks == ("gate.py::judge",)  # the province rate: `yzw load --tier province`
    assert rows["PERF-02.5"].checks == ("ledger.py::check",)


def test_mock_up_runs_for_a_bounded_time_and_prints_its_nodes(tmp_path: Path) -> None:
    record = MessageFactory(make_faker(8)).sut()
    result = run_yzw(
        "mock",
        "up",
        "--port-base",
        "0",
        "--duration",
        "0.5",
        "--sut",
        _write(tmp_path, "sut.yaml", yaml.safe_dump(record)),
    )
    assert result.returncode == 0, result.stderr
    assert "province" in result.stdout
    assert "http://127.0.0.1:" in result.stdout
    assert f"{record['app_id']}: platform_app_id=yzw-platform" in result.stdout
    assert "the mock platform stopped" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nodes: [1]\n", "needs name, tier and division_code"),
        ("nodes:\n  - {name: p, tier: province, division_code: '110000'}\n", "not a Zhejiang division"),
        ("nodes:\n  - {name: c, tier: city, division_code: '330100'}\n", "exactly one node must have tier province"),
        ("nodes:\n  - {name: p, tier: province, division_code: '330000', prefix: gw/}\n", "prefix must be a path"),
    ],
)
def test_mock_up_refuses_a_bad_topology(tmp_path: Path, content: str, message: str) -> None:
    result = run_yzw("mock", "up", "--topology", _write(tmp_path, "topology.yaml", content), "--duration", "0")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_mock_up_names_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_yzw("mock", "up", "--port-base", str(port), "--duration", "0")
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is busy" in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_reference_up_registers_at_a_running_platform(tmp_path: Path) -> None:
    base = free_port_base()  # the province, city and county nodes take base … base + 2
    platform = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from yzw.cli import main; main()",
            "mock",
            "up",
            "--port-base",
            str(base),
            "--duration",
            "60",  # stopped when the test ends; long enough on a loaded machine
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        keys = f"http://127.0.0.1:{base}{load_topology().province.prefix}/idp/v1/keys"  # behind its gateway prefix
        assert wait_until(lambda: _answers(keys), timeout=15)
        record = yaml.safe_load((REPO / "mocks" / "reference-sut.yaml").read_text(encoding="utf-8"))
        port = _free_port()
        record |= {"base_url": f"http://127.0.0.1:{port}", "sso_url": f"http://127.0.0.1:{port}/yzw/v1/sso"}
        result = run_yzw(
            "reference",
            "up",
            "--sut",
            _write(tmp_path, "sut.yaml", yaml.safe_dump(record, allow_unicode=True)),
            "--platform",
            f"http://127.0.0.1:{base}",
            "--duration",
            "0.5",
        )
        assert result.returncode == 0, result.stderr
        assert f"registered at http://127.0.0.1:{base}" in result.stdout
    finally:
        platform.terminate()
        platform.wait(timeout=10)


def test_reference_up_without_a_platform_is_one_clear_error() -> None:
    result = run_yzw(
        "reference",
        "up",
        "--sut",
        str(REPO / "mocks" / "reference-sut.yaml"),
        "--platform",
        f"http://127.0.0.1:{_free_port()}",
        "--duration",
        "0",
    )
    assert result.returncode == 2
    assert "no mock platform answers" in result.stderr
    assert "Traceback" not in result.stderr


def test_reference_up_on_a_busy_port_says_to_change_the_base_url(tmp_path: Path) -> None:
    record = yaml.safe_load((REPO / "mocks" / "reference-sut.yaml").read_text(encoding="utf-8"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        record["base_url"] = f"http://127.0.0.1:{port}"
        sut = _write(tmp_path, "sut.yaml", yaml.safe_dump(record, allow_unicode=True))
        result = run_yzw("reference", "up", "--sut", sut, "--duration", "0")
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is busy; stop what uses it or give the record another base_url port" in (
        result.stderr
    )


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
