"""`yzw run`: bad input of every kind gives one clear line and exit 2, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from tests.certify import pointed_record, write_record
from tests.conftest import RECORD, REGISTRATION
from tests.mock_helpers import free_port_base
from tests.processes import run_yzw
from typer.testing import CliRunner

from yzw.cli import app
from yzw.cli.attach import listening
from yzw.errors import YzwError
from yzw.mock.runner import RunningPlatform, start_platform
from yzw.reference.faults import chosen
from yzw.reference.runner import start_reference


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_fails_with(args: list[str], message: str) -> None:
    result = run_yzw("run", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_no_platform_at_the_url(tmp_path: Path) -> None:
    sut = write_record(tmp_path, RECORD)
    _run_fails_with(
        ["--sut", str(sut), "--platform", f"http://127.0.0.1:{_free_port()}"], "no mock platform answers at"
    )


def test_a_record_missing_a_field(tmp_path: Path) -> None:
    sut = write_record(tmp_path, {k: v for k, v in RECORD.items() if k != "base_url"})
    _run_fails_with(["--sut", str(sut)], "base_url")


def test_a_record_that_is_no_yaml(tmp_path: Path) -> None:
    sut = tmp_path / "sut.yaml"
    sut.write_bytes(b"\xff\xfe: [")
    _run_fails_with(["--sut", str(sut)], "cannot read")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--only", "APP-99", "APP-99"),
        ("--chapter", "XYZ", "XYZ"),
        ("--profile", "nightly", "ci or acceptance"),
        ("--platform", "http://127.0.0.1:99999", "is no URL (Port out of range"),
    ],
)
def test_bad_options_are_named(tmp_path: Path, option: str, value: str, message: str) -> None:
    _run_fails_with(["--sut", str(write_record(tmp_path, RECORD)), option, value], message)


def _in_process(*args: str) -> BaseException | None:
    return CliRunner().invoke(app, ["run", *args]).exception


def test_nothing_listening_at_base_url(running_platform: RunningPlatform, tmp_path: Path) -> None:
    record = {**RECORD, "base_url": f"http://127.0.0.1:{_free_port()}"}
    error = _in_process("--sut", str(write_record(tmp_path, record)), "--platform", running_platform.urls["province"])
    assert isinstance(error, YzwError)
    assert "[REG-01] nothing answers at base_url" in str(error)


def test_a_wrong_app_secret(running_platform: RunningPlatform, tmp_path: Path) -> None:
    reference = start_reference(running_platform, REGISTRATION)
    try:
        record = {**pointed_record(reference), "app_secret": "not-the-secret-the-system-uses-0123456789"}
        error = _in_process(
            "--sut", str(write_record(tmp_path, record)), "--platform", running_platform.urls["province"]
        )
    finally:
        reference.stop()
        running_platform.register(REGISTRATION)
    assert isinstance(error, YzwError)
    assert "app_secret in the registration record is not the secret the system uses" in str(error)


def test_a_ci_run_writes_junit_and_exits_1_when_a_must_fails(running_platform: RunningPlatform, tmp_path: Path) -> None:
    reference = start_reference(running_platform, REGISTRATION, faults=chosen(["health-wrong-norm"]))
    try:
        sut = write_record(tmp_path, pointed_record(reference))
        result = CliRunner().invoke(
            app,
            [
                "run",
                "--sut",
                str(sut),
                "--platform",
                running_platform.urls["province"],
                "--profile",
                "ci",
                "--only",
                "REG-01,APP-01",
                "--report-dir",
                str(tmp_path / "out"),
            ],
        )
    finally:
        reference.stop()
    assert result.exit_code == 1, result.output
    assert "[REG-01] the health answer is not what the norm asks" in result.output
    assert "NOT PASSED: 2 requirements (1 pass, 1 fail)" in result.output
    junit = (tmp_path / "out" / "junit.xml").read_text(encoding="utf-8")
    assert 'name="requirement" value="REG-01"' in junit
    assert yaml.safe_load((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["summary"][
        "must_not_passed"
    ] == ["REG-01"]


def test_without_a_driver_ci_checks_that_need_a_person_are_manual(
    running_platform: RunningPlatform, tmp_path: Path
) -> None:
    reference = start_reference(running_platform, REGISTRATION)
    try:
        record = {k: v for k, v in pointed_record(reference).items() if k != "driver"}
        args = ["run", "--sut", str(write_record(tmp_path, record)), "--platform", running_platform.urls["province"]]
        args += ["--profile", "ci", "--chapter", "ACC", "--report-dir", str(tmp_path / "out")]
        strict = CliRunner().invoke(app, args)
        lenient = CliRunner().invoke(app, [*args, "--allow-manual"])
    finally:
        reference.stop()
    assert strict.exit_code == 1, strict.output
    assert "? manual" in strict.output
    assert "needs a person to `accept` in the system" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert lenient.exit_code == 0, lenient.output


def test_a_driver_url_where_nothing_listens(running_platform: RunningPlatform, tmp_path: Path) -> None:
    reference = start_reference(running_platform, REGISTRATION)
    try:
        record = {**pointed_record(reference), "driver": {"url": f"http://127.0.0.1:{_free_port()}/_driver"}}
        error = _in_process(
            "--sut", str(write_record(tmp_path, record)), "--platform", running_platform.urls["province"]
        )
    finally:
        reference.stop()
    assert isinstance(error, YzwError)
    assert "check base_url and driver.url" in str(error)


def test_a_run_starts_the_platform_when_none_listens_and_the_record_has_its_secret(tmp_path: Path) -> None:
    """The system was set up against a platform on these ports; that platform is gone; `yzw run` starts it again."""
    base = free_port_base()
    before = start_platform(port_base=base)
    reference = start_reference(before, REGISTRATION)
    record = {**pointed_record(reference), "platform_secret": before.platform.platform_secret}
    before.stop()
    try:
        args = ["run", "--sut", str(write_record(tmp_path, record)), "--platform", f"http://127.0.0.1:{base}"]
        result = CliRunner().invoke(app, [*args, "--only", "REG-01,APP-01", "--report-dir", str(tmp_path / "r")])
        assert result.exit_code == 0, result.output
        assert f"No mock platform at http://127.0.0.1:{base}: started one there" in result.output
        assert not listening(f"http://127.0.0.1:{base}")  # stopped with the run
    finally:
        reference.stop()


def test_no_platform_and_no_secret_in_the_record_says_both_ways_out(tmp_path: Path) -> None:
    error = _in_process("--sut", str(write_record(tmp_path, RECORD)), "--platform", f"http://127.0.0.1:{_free_port()}")
    assert isinstance(error, YzwError)
    assert "yzw mock up --sut FILE" in str(error)
    assert "platform_secret" in str(error)
