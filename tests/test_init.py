"""`yzw init` (issue 14): a new vendor's sut.yaml and catalogue, asked for through a real terminal or given as
flags; what it writes loads with the kit's own loader and passes `yzw catalog check`; a bad answer is refused
with its requirement and asked again, a bad flag is one line and exit 2."""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

import pexpect
import pytest
import yaml
from tests.conftest import REPO
from typer.testing import CliRunner

from yzw.cli import app, main
from yzw.sut import load_registration

USCC = "113301060025003166"  # valid (CODE-02); its characters 3-8 are the division 330106
BAD_USCC = USCC[:-1] + "7"
DEPT = "杭州市西湖区文化广电旅游体育局"
ITEM_CODE = f"{USCC}4010000888000"  # county tier → exercise level 4 (CODE-04)
FLAGS = ("--dept-uscc", USCC, "--dept-seq", "012", "--dept-name", DEPT)
ITEM = ("--item-name", "营业性演出许可", "--base-code", "010000888000")
PACE = 0.3  # seconds between answers: a person typing


def init(folder: Path, *flags: str) -> tuple[int, str]:
    """`yzw init --non-interactive` in-process, writing into `folder`."""
    paths = ("--sut", str(folder / "sut.yaml"), "--catalog", str(folder / "items.yaml"))
    result = CliRunner().invoke(app, ["init", "--non-interactive", *paths, *flags])
    return result.exit_code, result.output


def as_a_user_runs_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    """The console script's `main()`: the exit code and what it wrote to stderr."""
    monkeypatch.setattr(sys, "argv", ["yzw", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0), capsys.readouterr().err


def test_flags_write_a_record_the_loader_takes_with_a_catalogue_catalog_check_accepts(tmp_path: Path) -> None:
    code, output = init(tmp_path, *FLAGS, *ITEM, "--formats", "json,xml")
    assert code == 0, output
    registration = load_registration(tmp_path / "sut.yaml")
    assert (registration.dept_uscc, registration.dept_seq, registration.division_code) == (USCC, "012", "330106")
    assert (registration.tier, registration.formats, registration.items) == ("county", ("json", "xml"), (ITEM_CODE,))
    assert registration.driver_url == "http://127.0.0.1:8600/_driver"
    assert [item["item_code"] for item in registration.catalog] == [ITEM_CODE]
    checked = CliRunner().invoke(
        app, ["catalog", "check", str(tmp_path / "items.yaml"), "--sut", str(tmp_path / "sut.yaml")]
    )
    assert checked.exit_code == 0, checked.output
    assert f"1 item(s) of {DEPT} (dept_uscc {USCC}, dept_seq 012)" in checked.output


def test_the_record_says_what_each_member_serves(tmp_path: Path) -> None:
    init(tmp_path, *FLAGS, *ITEM, "--driver-url", "-")
    text = (tmp_path / "sut.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Registration record (接入登记, norm §1)")
    for requirement in ("SIG-01", "CODE-02", "CODE-03", "CODE-06", "REG-01", "SSO-01", "CAT-01", "MSG-01"):
        assert requirement in text
    assert "driver" not in yaml.safe_load(text)
    assert len(yaml.safe_load(text)["app_secret"]) >= 32  # a new random one


def test_the_catalogue_may_live_elsewhere_the_record_names_it_relative_to_itself(tmp_path: Path) -> None:
    sut, items = tmp_path / "conf" / "sut.yaml", tmp_path / "catalogue" / "xihu.yaml"
    result = CliRunner().invoke(
        app, ["init", "--non-interactive", "--sut", str(sut), "--catalog", str(items), *FLAGS, *ITEM]
    )
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(sut.read_text(encoding="utf-8"))["catalog"] == "../catalogue/xihu.yaml"
    assert len(load_registration(sut).catalog) == 1


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (("--dept-uscc", BAD_USCC), "--dept-uscc '113301060025003167': [CODE-02] USCC check character is wrong"),
        (("--dept-seq", "12"), "--dept-seq '12': [REG-01] dept_seq"),
        (("--division-code", "330199"), "--division-code '330199': [CODE-03] division code 330199 is no GB/T 2260"),
        (("--formats", "xml"), "--formats 'xml': [MSG-01] formats: json is missing"),
        (("--app-secret", "s3cr3t-too-few"), "--app-secret: [REG-01] app_secret: the secret is shorter than"),
        (("--base-url", "http://"), "--base-url 'http://': [REG-01] base_url: 'http://' names no host"),
        (("--base-code", "990000888000"), "--base-code '990000888000': [CODE-04] base_code has unknown item type"),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: tuple[str, ...],
    line: str,
) -> None:
    wanted = dict(zip(FLAGS[::2], FLAGS[1::2], strict=True)) | dict(zip(ITEM[::2], ITEM[1::2], strict=True))
    wanted |= dict(zip(flags[::2], flags[1::2], strict=True))
    args = [part for pair in wanted.items() for part in pair]
    monkeypatch.chdir(tmp_path)
    code, stderr = as_a_user_runs_it(monkeypatch, capsys, "init", "--non-interactive", *args)
    assert code == 2
    assert stderr.count("\n") == 1, stderr
    assert line in stderr
    assert "fix:" in stderr
    assert "s3cr3t-too-few" not in stderr  # a secret is never echoed
    assert not (tmp_path / "sut.yaml").exists()


def test_a_missing_flag_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, stderr = as_a_user_runs_it(monkeypatch, capsys, "init", "--non-interactive", *FLAGS)
    assert (code, stderr.count("\n")) == (2, 1)
    assert "--item-name is missing" in stderr
    assert "fix: give --item-name VALUE" in stderr


def test_existing_files_are_not_overwritten_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("sut.yaml").write_text("mine: true\n", encoding="utf-8")
    code, stderr = as_a_user_runs_it(monkeypatch, capsys, "init", "--non-interactive", *FLAGS, *ITEM)
    assert code == 2
    assert "error: sut.yaml exists, not overwritten; fix: give --force" in stderr
    assert Path("sut.yaml").read_text(encoding="utf-8") == "mine: true\n"
    code, _ = as_a_user_runs_it(monkeypatch, capsys, "init", "--non-interactive", "--force", *FLAGS, *ITEM)
    assert code == 0
    assert load_registration(Path("sut.yaml")).dept_uscc == USCC


def test_a_person_at_a_terminal_is_asked_again_after_a_bad_uscc(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}", "LANG": "C.UTF-8", "TERM": "xterm"}
    screen = pexpect.spawn(
        sys.executable,
        ["-c", "from yzw.cli import main; main()", "init"],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        dimensions=(40, 160),
        timeout=20,
    )
    screen.logfile_read = seen = io.StringIO()

    def answer(prompt: str, typed: str) -> None:
        screen.expect_exact(prompt)
        time.sleep(PACE)
        screen.sendline(typed)

    answer("unified social credit code (USCC, CODE-02): ", BAD_USCC)
    screen.expect(r"\[CODE-02\] USCC check character is wrong: expected '6', got '7'; fix: replace the last")
    answer("unified social credit code (USCC, CODE-02): ", USCC)
    answer("(a current Zhejiang code, CODE-03) [330106]: ", "")  # the division the USCC carries
    answer("dept_seq", "012")
    answer("Department name", DEPT)
    answer("[county]: ", "")
    answer("app_id: the system's name at the platform [sys-330106-012]: ", "xihu-wglt")
    answer("[Enter: a new random one, unseen]: ", "")
    answer("base_url: where the platform reaches the system (REG-01) [http://127.0.0.1:8600]: ", "")
    answer("[http://127.0.0.1:8600/yzw/v1/sso]: ", "")
    answer("[http://127.0.0.1:8600/_driver]: ", "")
    answer("MSG-01) [json]: ", "json,xml")
    answer("its name (事项名称): ", "营业性演出许可")
    answer("12 digits, CODE-04): ", "010000888000")
    screen.expect_exact("✓ wrote sut.yaml (app_id xihu-wglt) and items.yaml")
    screen.expect_exact("Next:")
    for command in (
        "yzw catalog check items.yaml --sut sut.yaml",
        "yzw mock up --sut sut.yaml --catalog items.yaml",
        "yzw run --sut sut.yaml",
    ):
        screen.expect_exact(command)
    screen.expect(pexpect.EOF)
    screen.close()
    assert screen.exitstatus == 0
    assert "Traceback" not in seen.getvalue()
    registration = load_registration(tmp_path / "sut.yaml")
    assert (registration.app_id, registration.formats) == ("xihu-wglt", ("json", "xml"))
    assert registration.items == (ITEM_CODE,)
    assert registration.catalog[0]["dept"] == {"name": DEPT, "uscc": USCC, "dept_seq": "012"}
