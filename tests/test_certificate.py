"""Certificates: issued for a passing run, signed with the office's SM2 key, checked offline by
`yzw report verify` as valid, expired, revoked or invalid; the CLI's exit codes and one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import RECORD
from tests.processes import run_yzw

from yzw.errors import YzwError
from yzw.register import load_register
from yzw.report.certificate import (
    EXPIRED,
    INVALID,
    REVOKED,
    VALID,
    issue,
    read_revocations,
    revoke,
    scope_text,
    status,
)
from yzw.report.document import HIDDEN_FIELDS, seal
from yzw.report.office_key import generate_keys, load_public_key, load_signing_key
from yzw.report.rendering import certificate_html, chromium

ISSUED = dt.date(2026, 12, 1)


def a_report(passed: bool = True) -> dict[str, Any]:
    """A sealed report of the reference system's registration: every requirement passed (or REG-01 failed)."""
    requirements = [
        {"id": r.id, "level": r.level, "verdict": "pass" if passed or r.id != "REG-01" else "fail"}
        for r in load_register().values()
        if r.applies_to == "system"
    ]
    return seal(
        {
            "report": "yzw-conform certification report",
            "kit": {"name": "yzw-conform", "version": "test"},
            "norm": "YZW-NORM-2026",
            "run": {
                "started_at": "2026-12-01T09:00:00",
                "finished_at": "2026-12-01T09:02:00",
                "profile": "ci",
                "chapters": [],
                "only": [],
            },
            "system": {k: v for k, v in RECORD.items() if k not in HIDDEN_FIELDS},
            "summary": {"passed": passed, "must_not_passed": [] if passed else ["REG-01"]},
            "requirements": requirements,
        }
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_keys(tmp_path_factory.mktemp("office"), "office-test")


def test_a_certificate_is_valid_until_it_expires(keys: tuple[Path, Path]) -> None:
    private, public = keys
    certificate = issue(a_report(), load_signing_key(private), ISSUED, valid_days=30)
    key = load_public_key(public)
    assert status(certificate, key, None, ISSUED).state == VALID
    assert status(certificate, key, None, ISSUED + dt.timedelta(days=29)).state == VALID
    assert status(certificate, key, None, ISSUED + dt.timedelta(days=30)) == status(
        certificate, key, None, ISSUED + dt.timedelta(days=400)
    )
    assert status(certificate, key, None, ISSUED + dt.timedelta(days=30)).state == EXPIRED
    assert status(certificate, key, None, ISSUED - dt.timedelta(days=1)).state == INVALID
    assert certificate["system"]["app_id"] == RECORD["app_id"]
    assert "app_secret" not in certificate["system"]
    assert {v["verdict"] for v in certificate["verdicts"]} == {"pass"}
    assert certificate["scope"] == {"complete": True, "chapters": [], "only": []}


def test_a_partial_run_gives_a_certificate_that_says_so(keys: tuple[Path, Path]) -> None:
    report = a_report()
    report["run"]["chapters"] = ["REG"]
    certificate = issue(report, load_signing_key(keys[0]), ISSUED, valid_days=30)
    assert scope_text(certificate) == "PARTIAL: only chapters REG"
    assert "部分 · PARTIAL" in certificate_html(certificate)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["verdicts"][0].update(verdict="fail"),
        lambda c: c.update(expires_on="2099-01-01"),
        lambda c: c["system"].update(dept_uscc="113301060025003166"),
        lambda c: c["signature"].update(value="00" * 64),
    ],
    ids=["verdict", "expiry", "department", "signature"],
)
def test_a_changed_certificate_is_invalid(keys: tuple[Path, Path], change: Any) -> None:
    certificate = issue(a_report(), load_signing_key(keys[0]), ISSUED, valid_days=30)
    change(certificate)
    assert status(certificate, load_public_key(keys[1]), None, ISSUED).state == INVALID


def test_another_offices_key_does_not_verify(keys: tuple[Path, Path], tmp_path: Path) -> None:
    _, other_public = generate_keys(tmp_path, "office-other")
    certificate = issue(a_report(), load_signing_key(keys[0]), ISSUED, valid_days=30)
    found = status(certificate, load_public_key(other_public), None, ISSUED)
    assert found.state == INVALID
    assert "office-other" in found.reason


def test_a_revoked_certificate_is_revoked_and_the_list_is_signed(keys: tuple[Path, Path], tmp_path: Path) -> None:
    signing, public = load_signing_key(keys[0]), load_public_key(keys[1])
    first, second = (issue(a_report(), signing, ISSUED, valid_days=30) for _ in range(2))
    listing = revoke(None, first, "the system changed after certification", signing, ISSUED)
    path = tmp_path / "revocations.json"
    path.write_text(json.dumps(listing), encoding="utf-8")
    read = read_revocations(path, public)
    found = status(first, public, read, ISSUED)
    assert found.state == REVOKED
    assert "the system changed" in found.reason
    assert status(second, public, read, ISSUED).state == VALID
    with pytest.raises(YzwError, match="already revoked"):
        revoke(read, first, "again", signing, ISSUED)
    listing["revoked"] = []  # someone clears the list: the signature no longer covers it
    path.write_text(json.dumps(listing), encoding="utf-8")
    with pytest.raises(YzwError, match="signature does not verify"):
        read_revocations(path, public)


def test_a_run_that_did_not_pass_gets_no_certificate(keys: tuple[Path, Path]) -> None:
    with pytest.raises(YzwError, match="REG-01"):
        issue(a_report(passed=False), load_signing_key(keys[0]), ISSUED, valid_days=30)
    stripped = {k: v for k, v in a_report().items() if k != "kit"}  # sealed, yet not a whole report
    with pytest.raises(YzwError, match="lacks kit"):
        issue(stripped, load_signing_key(keys[0]), ISSUED, valid_days=30)


def test_the_cli_issues_verifies_and_revokes(tmp_path: Path) -> None:
    keys = run_yzw("console", "keys", "--out", str(tmp_path / "keys"), "--kid", "office-cli")
    assert keys.returncode == 0, keys.stderr
    private, public = tmp_path / "keys" / "office-key.json", tmp_path / "keys" / "office-public.json"
    assert private.stat().st_mode & 0o077 == 0  # the private key is the office's alone
    again = run_yzw("console", "keys", "--out", str(tmp_path / "keys"))
    assert again.returncode == 2
    assert "--force" in again.stderr
    assert "Traceback" not in again.stderr
    report = tmp_path / "report.json"
    report.write_text(json.dumps(a_report(), ensure_ascii=False), encoding="utf-8")
    certificate = tmp_path / "certificate.json"
    issued = run_yzw("console", "issue", str(report), "--key", str(private), "--out", str(certificate))
    assert issued.returncode == 0, issued.stderr
    assert RECORD["app_id"] in certificate.with_suffix(".html").read_text(encoding="utf-8")

    def verify(*more: str) -> subprocess.CompletedProcess[str]:
        return run_yzw("report", "verify", str(certificate), "--public-key", str(public), *more)

    valid = verify()
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert ": valid" in valid.stdout
    expired = verify("--on", "2099-01-01")
    assert expired.returncode == 1
    assert ": expired" in expired.stdout
    revocations = tmp_path / "revocations.json"
    revoked = run_yzw(
        "console", "revoke", str(certificate), "--key", str(private), "--reason", "changed", "--list", str(revocations)
    )
    assert revoked.returncode == 0, revoked.stderr
    after = verify("--revocations", str(revocations))
    assert after.returncode == 1
    assert ": revoked" in after.stdout
    assert "changed" in after.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("report", "verify", "{cert}"), "--public-key"),
        (("report", "verify", "{cert}", "--public-key", "{cert}"), "not an office key"),
        (("report", "verify", "{cert}", "--public-key", "{public}", "--on", "1.12.2026"), "YYYY-MM-DD"),
        (("report", "verify", "{missing}"), "cannot read"),
        (("console", "issue", "{failed}", "--key", "{private}"), "did not pass"),
        (("console", "issue", "{report}", "--key", "{public}"), "private_key"),
        (("console", "issue", "{report}", "--key", "{private}", "--valid-days", "0"), "at least 1"),
        (("console", "revoke", "{cert}", "--key", "{private}", "--reason", " "), "needs a reason"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(keys: tuple[Path, Path], tmp_path: Path, args: tuple[str, ...], says: str):
    report, failed, cert = tmp_path / "report.json", tmp_path / "failed.json", tmp_path / "certificate.json"
    report.write_text(json.dumps(a_report()), encoding="utf-8")
    failed.write_text(json.dumps(a_report(passed=False)), encoding="utf-8")
    cert.write_text(json.dumps(issue(a_report(), load_signing_key(keys[0]), ISSUED, 30)), encoding="utf-8")
    names = {"report": report, "failed": failed, "cert": cert, "private": keys[0], "public": keys[1]}
    names["missing"] = tmp_path / "nothing.json"
    done = run_yzw(*(a.format(**{k: str(v) for k, v in names.items()}) for a in args))
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.skipif(chromium() is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_the_certificate_prints_to_pdf(keys: tuple[Path, Path], tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(a_report()), encoding="utf-8")
    certificate = tmp_path / "certificate.json"
    done = run_yzw(
        "console", "issue", str(report), "--key", str(keys[0]), "--out", str(certificate), "--pdf", timeout=180
    )
    assert done.returncode == 0, done.stderr
    pdf = certificate.with_suffix(".pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 10_000
