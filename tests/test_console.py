"""The console without a browser: its database migrations (SQLite and PostgreSQL), accounts, and the
`yzw console serve` / `yzw console user add` commands' answers to bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.mock_helpers import free_port_base
from tests.processes import run_yzw

from yzw.console.auth import Sessions, add_account, check_password
from yzw.console.db import MIGRATIONS, ConsoleDb
from yzw.errors import YzwError

PASSWORD = "correct horse battery"
PG = os.environ.get("YZW_TEST_PG")


def add_user(db: Path, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from yzw.cli import main; main()", "console", "user", "add", *args]
    command += ["--db", str(db), "--password-stdin"]
    return subprocess.run(command, input=password + "\n", capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    "url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG, reason="YZW_TEST_PG unset"))]
)
def test_migrations_apply_once_and_accounts_check_their_passwords(tmp_path: Path, url: str) -> None:
    location = PG if url == "postgresql" else str(tmp_path / "console.db")
    assert location is not None
    first = ConsoleDb(location)
    if url == "postgresql":  # a shared test database: start from no console accounts
        first.store.execute("DELETE FROM console_accounts")
    add_account(first, "wang", PASSWORD, "reviewer")
    again = ConsoleDb(location)  # a second start: nothing applied twice, nothing lost
    versions = again.rows("SELECT version FROM console_schema_migrations ORDER BY version")
    assert [row["version"] for row in versions] == list(range(1, len(MIGRATIONS) + 1))
    account = check_password(again, "wang", PASSWORD)
    assert account is not None
    assert account.staff
    assert check_password(again, "wang", "wrong password") is None
    assert check_password(again, "nobody", PASSWORD) is None
    stored = again.one("SELECT password_hash FROM console_accounts WHERE name = 'wang'")
    assert stored is not None
    assert stored["password_hash"].startswith("$argon2")
    assert again.secret("session-key") == first.secret("session-key")


def test_a_session_cookie_cannot_be_forged(tmp_path: Path) -> None:
    db = ConsoleDb(str(tmp_path / "console.db"))
    account = add_account(db, "li", PASSWORD, "vendor", vendor="西湖科技")
    sessions = Sessions(db)
    cookie = sessions.cookie_for(account)
    session = sessions.session_of(cookie)
    assert session is not None
    assert session.account == account
    assert not session.account.sees("别家公司")
    assert session.account.sees("西湖科技")
    assert sessions.session_of(cookie[:-2] + "xx") is None
    assert sessions.session_of(None) is None


@pytest.mark.parametrize(
    ("args", "password", "says"),
    [
        (("wang", "--role", "chief"), PASSWORD, "choose one of admin, reviewer, vendor"),
        (("wang", "--role", "vendor"), PASSWORD, "needs --vendor"),
        (("wang", "--role", "reviewer"), "short", "too short"),
    ],
)
def test_bad_accounts_are_refused_in_one_line(tmp_path: Path, args: tuple[str, ...], password: str, says: str) -> None:
    done = add_user(tmp_path / "console.db", *args, password=password)
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_needs_an_account_then_serves(tmp_path: Path) -> None:
    db = tmp_path / "data" / "console.db"
    empty = run_yzw("console", "serve", "--db", str(db), "--data", str(tmp_path / "data"), "--port", "0")
    assert empty.returncode == 2
    assert "yzw console user add" in empty.stderr
    added = add_user(db, "admin", "--role", "admin")
    assert added.returncode == 0, added.stderr
    assert add_user(db, "admin", "--role", "admin").returncode == 2  # taken
    platform = f"http://127.0.0.1:{free_port_base()}"  # province, city and county on this port and the next two
    args = ("--db", str(db), "--data", str(tmp_path / "data"), "--port", "0", "--duration", "1")
    served = run_yzw("console", "serve", *args, "--platform", platform)
    assert served.returncode == 0, served.stderr
    assert "console at http://127.0.0.1:" in served.stdout
    assert f"no mock platform at {platform}: started one" in served.stdout
    assert (tmp_path / "data" / "office-keys" / "office-public.json").is_file()
    with pytest.raises(YzwError, match="taken"):
        add_account(ConsoleDb(str(db)), "admin", PASSWORD, "admin")
