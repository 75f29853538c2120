"""The console without a browser: its database migrations (SQLite and PostgreSQL), accounts, sessions,
redirects, bad input, operator answers, masking, and the `yzw console serve` / `yzw console user add`
commands' answers to bad input."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.conftest import REGISTRATION
from tests.mock_helpers import free_port_base
from tests.processes import run_yzw
from tests.test_certificate import a_report

from yzw.codes.masking import mask
from yzw.console.app import Console, build_app
from yzw.console.auth import SESSION_COOKIE, Sessions, add_account, check_password
from yzw.console.db import MIGRATIONS, ConsoleDb
from yzw.console.platform import PlatformView
from yzw.errors import YzwError
from yzw.report.certificate import issue
from yzw.report.office_key import PRIVATE_FILE, load_signing_key
from yzw.serving.server import bind, serve

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


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[httpx.Client, Console]]:
    """A served console (its platform URL answers nothing) and a browser-like client of it."""
    db = ConsoleDb(str(tmp_path / "console.db"))
    add_account(db, "wang", PASSWORD, "reviewer")
    console = Console.open(db, tmp_path, "http://127.0.0.1:9")
    sock = bind(0)
    server, thread = serve(build_app(console), sock, "console")
    with httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=10) as test_client:
        yield test_client, console
    server.should_exit = True
    thread.join(timeout=5)


def sign_in(client: httpx.Client, next_page: str = "/") -> Any:
    return client.post("/login", data={"name": "wang", "password": PASSWORD, "next": next_page}, follow_redirects=False)


@pytest.mark.parametrize("next_page", ["//evil.example/p", "https://evil.example/", "/\\evil.example", "systems"])
def test_sign_in_never_redirects_off_the_console(client: tuple[httpx.Client, Console], next_page: str) -> None:
    answer = sign_in(client[0], next_page)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    assert sign_in(client[0], "/systems?x=1").headers["location"] == "/systems?x=1"
    back = client[0].get("/lang/en", headers={"referer": "https://evil.example/x"})
    assert back.headers["location"] == "/"


def test_signing_out_ends_every_copy_of_the_session(client: tuple[httpx.Client, Console]) -> None:
    test_client, console = client
    sign_in(test_client)
    cookie = test_client.cookies.get(SESSION_COOKIE)
    assert test_client.get("/systems").status_code == 200
    csrf = console.sessions.session_of(cookie)
    assert csrf is not None
    test_client.post("/logout", data={"csrf": csrf.csrf}, follow_redirects=False)
    test_client.cookies.set(SESSION_COOKIE, str(cookie))  # a copy kept by someone else
    assert test_client.get("/systems", follow_redirects=False).status_code == 303  # to the sign-in page
    assert console.db.one("SELECT account FROM console_audit_log WHERE action = 'logout'") is not None


def test_bad_input_is_answered_not_crashed(client: tuple[httpx.Client, Console]) -> None:
    test_client, console = client
    assert test_client.post("/login", data={"name": "wang\x00", "password": "x"}).status_code == 401
    sign_in(test_client)
    session = console.sessions.session_of(test_client.cookies.get(SESSION_COOKIE))
    assert session is not None
    record = yaml.safe_dump({**REGISTRATION.as_record(), "app_id": "dated", "note": dt.date(2026, 1, 1)})
    made = test_client.post(
        "/systems", data={"csrf": session.csrf, "vendor": "东湖", "record": record}, follow_redirects=True
    )
    assert made.status_code == 200  # the record's page, after the redirect
    assert "dated" in made.text
    forged = test_client.post("/systems", data={"csrf": "wrong", "vendor": "东湖", "record": record})
    assert forged.status_code == 403
    nul = test_client.post("/systems/dated/waivers", data={"csrf": session.csrf, "reason": "a\x00b"})
    assert nul.status_code == 400


def test_an_answer_goes_to_the_newest_card_once(client: tuple[httpx.Client, Console], tmp_path: Path) -> None:
    """What the run reads is exactly one line per answered card: a second click, or an answer to an older card,
    types nothing."""
    _, console = client
    typed = tmp_path / "typed.txt"
    with typed.open("wb") as sink:
        child = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=sink)  # the run, reading its input
    console.runs._children["r1"] = child
    for position in (1, 2):
        console.db.store.execute(
            "INSERT INTO console_cards (run_id, position, text, asks) VALUES ('r1', ?, 'do it', 'command')", position
        )
    assert not console.runs.answer("r1", 1, "done")  # an older card: the run has moved on
    assert console.runs.answer("r1", 2, "skip")
    assert not console.runs.answer("r1", 2, "done")  # a second click
    child.stdin.close()  # type: ignore[union-attr]
    child.wait(timeout=10)
    assert typed.read_text() == "s\n"


def test_secrets_and_tickets_are_masked_in_json_xml_and_forms() -> None:
    shown = mask(
        '{"ticket": "ST-123", "refresh_token": "r"} <app_secret>k</app_secret> app_secret=k&x=1 id 330106199001010018'
    )
    assert "ST-123" not in shown
    assert '"refresh_token": "***"' in shown
    assert "<app_secret>***</app_secret>" in shown
    assert "app_secret=***&x=1" in shown
    assert "3301**********0018" in shown


def test_a_systems_cases_hold_only_the_applications_it_pushed() -> None:
    """Events and cards name a department: when another vendor has a system of the same department, only the
    applications in this system's own pushes are shown; otherwise the department's, a page at a time."""
    numbers = [f"3301061202612040000{n:04d}" for n in range(120)]
    own = numbers[:3]
    pushes = [{"request": f'{{"events": [{{"application_no": "{n}", "seq": 1}}]}}', "status": 200} for n in own]
    refused = {"request": f'{{"application_no": "{own[0]}"}}', "status": 422, "response": '{"code": "X"}'}

    class Canned(PlatformView):
        def _get(self, url: str, **params: str) -> dict[str, Any]:
            path = url.removeprefix("http://n").removeprefix("http://p")
            if path == "/_mock/nodes":
                node = {"name": "county", "tier": "county", "url": "http://n", "division_code": "330106"}
                return {"nodes": [node]}
            if path == "/_mock/events":
                return {"numbers": numbers}
            return {"entries": [refused] if params.get("min_status") else pushes}

        def _get_pairs(self, url: str, params: list[tuple[str, str]]) -> dict[str, Any]:
            chosen = [number for _, number in params]
            if url.endswith("/_mock/cards"):
                late = {"application_no": numbers[-1], "level": "red", "reason": "late"}
                return {"cards": [late] if numbers[-1] in chosen else []}
            return {"events": [{"application_no": n, "seq": 1, "step": "SB"} for n in chosen]}

    view = Canned("http://p")
    system = {"app_id": "sys-a", "tier": "county", "division_code": "330106"}
    mine = view.cases(system, own_only=True)
    assert [case.application_no for case in mine.cases] == own
    assert (mine.total, mine.pages) == (3, 1)
    assert [(r["application_no"], r["code"]) for r in mine.refusals] == [(own[0], "X")]
    last = view.cases(system, own_only=False, page=3)
    assert (last.total, last.page, last.pages) == (120, 3, 3)
    assert [case.application_no for case in last.cases] == numbers[100:]
    assert last.cases[-1].cards[0]["level"] == "red"


ROLES_ROUTES: list[tuple[str, str, dict[str, int]]] = [
    # (method, path, expected status per role: admin, reviewer, vendor of the system, vendor of another)
    ("GET", "/systems", {"admin": 200, "reviewer": 200, "own": 200, "other": 200}),
    ("GET", "/systems/{app_id}", {"admin": 200, "reviewer": 200, "own": 200, "other": 403}),
    ("GET", "/systems/{app_id}/traffic", {"admin": 502, "reviewer": 502, "own": 502, "other": 403}),
    ("GET", "/systems/{app_id}/cases", {"admin": 502, "reviewer": 502, "own": 502, "other": 403}),
    ("GET", "/runs/{run_id}", {"admin": 200, "reviewer": 200, "own": 200, "other": 403}),
    ("GET", "/runs/{run_id}/live", {"admin": 200, "reviewer": 200, "own": 200, "other": 403}),
    ("GET", "/runs/{run_id}/report.json", {"admin": 200, "reviewer": 200, "own": 200, "other": 403}),
    ("GET", "/runs/{run_id}/report.html", {"admin": 200, "reviewer": 200, "own": 200, "other": 403}),
    ("GET", "/certificates", {"admin": 200, "reviewer": 200, "own": 200, "other": 200}),
    ("GET", "/certificates/{serial}", {"admin": 200, "reviewer": 200, "own": 200, "other": 403}),
    ("GET", "/certificates/{serial}.json", {"admin": 200, "reviewer": 200, "own": 200, "other": 403}),
    ("GET", "/waivers", {"admin": 200, "reviewer": 200, "own": 200, "other": 200}),
    ("GET", "/audit", {"admin": 200, "reviewer": 403, "own": 403, "other": 403}),
    ("POST", "/systems", {"admin": 303, "reviewer": 303, "own": 403, "other": 403}),
    ("POST", "/systems/{app_id}/waivers", {"admin": 422, "reviewer": 422, "own": 403, "other": 403}),
    ("POST", "/systems/{app_id}/runs", {"admin": 303, "reviewer": 303, "own": 403, "other": 403}),
    ("POST", "/waivers/{waiver_id}/approve", {"admin": 303, "reviewer": 303, "own": 403, "other": 403}),
    ("POST", "/runs/{run_id}/cards/1", {"admin": 303, "reviewer": 303, "own": 403, "other": 403}),
    ("POST", "/runs/{run_id}/certificate", {"admin": 303, "reviewer": 303, "own": 403, "other": 403}),
    ("POST", "/certificates/{serial}/revoke", {"admin": 409, "reviewer": 409, "own": 403, "other": 403}),
]
ACCOUNTS = {"admin": ("zhao", "admin", ""), "reviewer": ("wang2", "reviewer", ""), "own": ("xh", "vendor", "西湖科技")}
ACCOUNTS["other"] = ("bj", "vendor", "别家公司")


@pytest.fixture
def furnished(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A served console with one system of 西湖科技, a passing run with its report, a certificate and a waiver;
    its URL and the paths' placeholders."""
    db = ConsoleDb(str(tmp_path / "console.db"))
    for name, role, vendor in ACCOUNTS.values():
        add_account(db, name, PASSWORD, role, vendor)
    console = Console.open(db, tmp_path, "http://127.0.0.1:9")
    record = json.dumps(REGISTRATION.as_record())
    db.store.execute("INSERT INTO console_systems VALUES (?, '西湖科技', ?, '2026-12-04')", REGISTRATION.app_id, record)
    report = tmp_path / "run" / "report"
    report.mkdir(parents=True)
    sealed = a_report()
    (report / "report.json").write_text(json.dumps(sealed), encoding="utf-8")
    (report / "report.html").write_text("<p>report</p>", encoding="utf-8")
    db.store.execute(
        "INSERT INTO console_runs (id, app_id, started_by, profile, chapters, only_ids, status, folder, started_at) "
        "VALUES ('r1', ?, 'wang2', 'ci', '', '', 'passed', ?, '2026-12-04')",
        REGISTRATION.app_id,
        str(tmp_path / "run"),
    )
    certificate = {**issue(sealed, load_signing_key(console.keys / PRIVATE_FILE), dt.date(2026, 12, 4), 365)}
    db.store.execute(
        "INSERT INTO console_certificates (serial, app_id, run_id, document, issued_on, expires_on) "
        "VALUES ('c1', ?, 'r1', ?, '2026-12-04', '2027-12-04')",
        REGISTRATION.app_id,
        json.dumps({**certificate, "serial": "c1"}),
    )
    db.store.execute(
        "INSERT INTO console_waivers VALUES ('w1', ?, 'PERF-01', 'why', '[\"somebody\"]', '2099-01-01', '2026-12-04')",
        REGISTRATION.app_id,
    )
    sock = bind(0)
    server, thread = serve(build_app(console), sock, "console")
    names = {"app_id": REGISTRATION.app_id, "run_id": "r1", "serial": "c1", "waiver_id": "w1"}
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", names
    console.runs.stop_all()  # a run a route started (it finds no platform and ends at once)
    server.should_exit = True
    thread.join(timeout=5)


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_every_route_answers_each_role_as_its_rights_say(furnished: tuple[str, dict[str, str]], role: str) -> None:
    """Table-driven over every signed-in route: a vendor never reaches another vendor's system, run, report,
    traffic, cases or certificate, changes nothing, and only the admin reads the audit log. Signed out, every
    route sends to the sign-in page; without the CSRF token, every POST is refused."""
    url, names = furnished
    with httpx.Client(base_url=url, timeout=30) as client:
        for public in ("/office-public.json", "/revocations.json"):  # for whoever verifies, signed in or not
            assert client.get(public).status_code == 200, public
        for method, path, _ in ROLES_ROUTES:
            signed_out = client.request(method, path.format(**names))
            assert signed_out.status_code == 303, path
            assert signed_out.headers["location"].startswith("/login")
        name = ACCOUNTS[role][0]
        client.post("/login", data={"name": name, "password": PASSWORD})
        page = client.get("/systems").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        wrong = []
        for method, path, expected in ROLES_ROUTES:
            target = path.format(**names)
            if method == "POST":
                assert client.post(target, data={"reason": "x"}).status_code == 403, f"{target} without CSRF"
                answer = client.post(target, data={"csrf": csrf, "reason": ""})
            else:
                answer = client.get(target)
            if answer.status_code != expected[role]:
                wrong.append(f"{method} {target}: {answer.status_code}, not {expected[role]}")
        assert wrong == [], wrong


def test_passwords_are_never_stored_or_logged_in_clear(tmp_path: Path) -> None:
    secret = "s3cret-Passw0rd-never-shown"
    added = add_user(tmp_path / "console.db", "wang", "--role", "reviewer", password=secret)
    assert secret not in added.stdout + added.stderr
    db = ConsoleDb(str(tmp_path / "console.db"))
    assert check_password(db, "wang", secret) is not None
    check_password(db, "wang", secret + "x")
    db.audit("wang", "login", "")
    db.store.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("console.db*"))
    assert secret.encode() not in stored
