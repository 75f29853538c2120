"""Waivers: a requirement that did not pass and has a waiver in force is `waived`; a MUST waiver needs two
approvers; an expired one no longer applies; the report and the certificate carry the waiver's text."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.certify import pointed_record, write_record
from tests.conftest import REGISTRATION
from typer.testing import CliRunner

from yzw.cli import app
from yzw.errors import YzwError
from yzw.mock.runner import RunningPlatform
from yzw.reference.faults import chosen
from yzw.reference.runner import start_reference
from yzw.register import load_register
from yzw.report.certificate import issue
from yzw.report.document import verify
from yzw.run import verdicts
from yzw.run.verdicts import FAIL, PASS, WAIVED, by_requirement, passed
from yzw.run.waivers import in_force, load_waivers
from yzw.sm2 import SigningKey

APP_ID = REGISTRATION.app_id
DAY = dt.date(2026, 12, 4)


def waiver(**changes: Any) -> dict[str, Any]:
    entry = {
        "requirement": "REG-01",
        "app_id": APP_ID,
        "reason": "健康检查的规范版本待升级 (upgrade scheduled)",
        "approvers": ["张审核", "李处长"],
        "expires_on": "2099-01-01",
    }
    return {**entry, **changes}


def write_waivers(folder: Path, *entries: dict[str, Any]) -> Path:
    path = folder / "waivers.yaml"
    path.write_text(yaml.safe_dump({"waivers": list(entries)}, allow_unicode=True), encoding="utf-8")
    return path


def test_a_waiver_is_in_force_with_its_approvers_until_it_expires(tmp_path: Path) -> None:
    should = next(r.id for r in load_register().values() if r.level == "SHOULD" and r.applies_to == "system")
    path = write_waivers(
        tmp_path,
        waiver(),
        waiver(requirement="APP-01", approvers=["张审核"]),
        waiver(requirement="APP-02", approvers=["张审核", "张审核"]),
        waiver(requirement="APP-03", expires_on=DAY.isoformat()),
        waiver(requirement=should, approvers=["张审核"]),
        waiver(requirement="SIG-01", app_id="another-system"),
    )
    waivers = load_waivers(path, APP_ID)
    assert [w.requirement for w in waivers] == ["REG-01", "APP-01", "APP-02", "APP-03", should]
    reasons = {w.requirement: w.not_in_force(DAY) for w in waivers}
    assert reasons == {
        "REG-01": None,
        "APP-01": "a waiver of a MUST requirement needs a second approver",
        "APP-02": "a waiver of a MUST requirement needs a second approver",
        "APP-03": f"expired on {DAY}",
        should: None,
    }
    assert set(in_force(waivers, DAY)) == {"REG-01", should}
    assert in_force(waivers, dt.date(2099, 1, 1)) == {}


def test_a_waiver_covers_a_failure_not_a_pass(tmp_path: Path) -> None:
    register = load_register()
    waived = in_force(load_waivers(write_waivers(tmp_path, waiver(), waiver(requirement="APP-01")), APP_ID), DAY)
    tests = [verdicts.TestResult("a", "a", ("REG-01",), FAIL), verdicts.TestResult("b", "b", ("APP-01",), PASS)]
    results = {r.requirement.id: r for r in by_requirement(tests, register, waived)}
    assert results["REG-01"].verdict == WAIVED
    assert results["REG-01"].waiver is waived["REG-01"]
    assert (results["APP-01"].verdict, results["APP-01"].waiver) == (PASS, None)
    assert passed(results.values())
    assert not passed(by_requirement(tests, register))


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (waiver(requirement="XYZ-01"), "XYZ-01 is no requirement of a system"),
        (waiver(reason=""), "reason missing"),
        (waiver(expires_on="2027-13-01"), "expires_on '2027-13-01' is not a date"),
        (waiver(approvers=[""]), "approvers must be names"),
        ("REG-01", "write it as a mapping"),
    ],
)
def test_a_bad_waiver_is_named_with_its_entry(tmp_path: Path, entry: Any, says: str) -> None:
    with pytest.raises(YzwError, match=says) as caught:
        load_waivers(write_waivers(tmp_path, waiver(requirement="APP-01"), entry), APP_ID)
    assert "waiver 2" in str(caught.value)


def test_a_file_without_a_waivers_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text("- requirement: REG-01\n", encoding="utf-8")
    with pytest.raises(YzwError, match="`waivers` list"):
        load_waivers(path, APP_ID)


def test_a_run_applies_waivers_in_force_and_shows_them(running_platform: RunningPlatform, tmp_path: Path) -> None:
    """A system with a REG-01 fault: waived with two approvers (the run passes, the report and a certificate
    say so); with one approver or expired, REG-01 fails as before."""
    reference = start_reference(running_platform, REGISTRATION, faults=chosen(["health-wrong-norm"]))
    sut = write_record(tmp_path, pointed_record(reference))

    def run(name: str, *entries: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
        folder = tmp_path / name
        folder.mkdir()
        args = ["run", "--sut", str(sut), "--platform", running_platform.urls["province"], "--profile", "ci"]
        waivers = ["--waivers", str(write_waivers(folder, *entries))]
        result = CliRunner().invoke(
            app, [*args, *waivers, "--only", "REG-01,APP-01", "--report-dir", str(folder / "r")]
        )
        return result.exit_code, result.output, verify(folder / "r" / "report.json")

    try:
        waived = run("waived", waiver())
        single = run("single", waiver(approvers=["张审核"]))
        expired = run("expired", waiver(expires_on="2026-01-01"))
    finally:
        reference.stop()
    code, output, report = waived
    assert code == 0, output
    assert "REG-01 waived: waived by 张审核, 李处长 until 2099-01-01" in output
    reg = next(r for r in report["requirements"] if r["id"] == "REG-01")
    assert reg["verdict"] == WAIVED
    assert "upgrade scheduled" in reg["waiver"]
    assert reg["tests"][0]["verdict"] == FAIL  # the evidence of the failure stays in the report
    assert report["waivers"][0]["in_force"] is True
    html = (tmp_path / "waived" / "r" / "report.html").read_text(encoding="utf-8")
    assert "豁免 · Waivers" in html
    certificate = issue(report, SigningKey.generate("office-test"), DAY, 30)
    assert {"id": "REG-01", "level": "MUST", "verdict": WAIVED, "waiver": reg["waiver"]} in certificate["verdicts"]
    for code, output, report in (single, expired):
        assert code == 1, output
        assert "NOT PASSED" in output
        assert report["summary"]["must_not_passed"] == ["REG-01"]
    assert "not in force (a waiver of a MUST requirement needs a second approver)" in single[1]
    assert "not in force (expired on 2026-01-01)" in expired[1]
    assert json.dumps(expired[2]["waivers"][0]["not_in_force"]) == '"expired on 2026-01-01"'
