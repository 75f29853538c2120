"""The console in a real browser (Playwright driving Debian's Chromium, headless), at a person's pace: a
reviewer signs in, registers a system, starts a run and watches it pass, opens the report, issues a
certificate that `yzw report verify` finds valid, then revokes it; records a waiver a second reviewer
approves; runs the acceptance profile without a driver, answering the operator cards by acting in the system's
back office; and a vendor of another company cannot open the run by its URL (403)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, sync_playwright
from tests.back_office import INSTRUCTION, PACE, BackOffice
from tests.certify import pointed_record
from tests.conftest import REGISTRATION
from tests.processes import run_yzw
from tests.test_vendor_catalogue import vendor_record

from yzw.console.app import Console, build_app
from yzw.console.auth import add_account
from yzw.console.db import ConsoleDb
from yzw.mock.runner import RunningPlatform
from yzw.reference.faults import chosen
from yzw.reference.runner import RunningReference, start_reference
from yzw.serving.server import bind, serve
from yzw.sut import load_registration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "correct horse battery"
WINDOW_CARD = re.compile(r"at the window with (\{.*\}), then type the application_no it got")
WHOLE_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
RUN_SECONDS = 240_000  # ms: a run's checks at their own pace

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")


@pytest.fixture(scope="module")
def reference(running_platform: RunningPlatform) -> Iterator[RunningReference]:
    started = start_reference(running_platform, REGISTRATION)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def faulty(running_platform: RunningPlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReference]:
    """Another vendor's system (another department, its own catalogue) whose health names last year's norm."""
    registration = load_registration(vendor_record(tmp_path_factory.mktemp("vendor")))
    started = start_reference(running_platform, registration, faults=chosen(["health-wrong-norm"]))
    yield started
    started.stop()


@pytest.fixture(scope="module")
def console(
    running_platform: RunningPlatform,
    reference: RunningReference,
    faulty: RunningReference,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Console]:
    """A console with two reviewers and a vendor of another company, and the reference system registered to
    its vendor without a driver (a person acts in its back office when the acceptance profile asks)."""
    data = tmp_path_factory.mktemp("console")
    db = ConsoleDb(str(data / "console.db"))
    accounts = (
        ("zhao", "admin", ""),
        ("wang", "reviewer", ""),
        ("li", "reviewer", ""),
        ("other", "vendor", "别家公司"),
    )
    for name, role, vendor in accounts:
        add_account(db, name, PASSWORD, role, vendor)
    for system, vendor in ((reference, "西湖科技"), (faulty, "别家公司")):
        record = {k: v for k, v in pointed_record(system).items() if k != "driver"}
        db.store.execute(
            "INSERT INTO console_systems (app_id, vendor, record, created_at) VALUES (?, ?, ?, ?)",
            record["app_id"],
            vendor,
            json.dumps(record, ensure_ascii=False),
            "2026-12-04T00:00:00+00:00",
        )
    opened = Console.open(db, data, running_platform.urls["province"])
    yield opened
    opened.runs.stop_all()


@pytest.fixture(scope="module")
def console_url(console: Console) -> Iterator[str]:
    sock = bind(0)
    server, thread = serve(build_app(console), sock, "console")
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page.set_default_timeout(30_000)
        yield page
        browser.close()


def sign_in(page: Page, url: str, name: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    time.sleep(PACE / 2)
    page.click("#sign-in")
    page.wait_for_url(re.compile(r".*/systems$"))


def register(page: Page, record: dict[str, object], vendor: str) -> None:
    page.fill("#vendor", vendor)
    page.fill("#record", yaml.safe_dump(record, allow_unicode=True))
    page.click("#register-system")
    page.wait_for_url(re.compile(rf".*/systems/{record['app_id']}$"))


def start_run(page: Page, profile: str, chapters: str = "", only: str = "") -> str:
    page.select_option("#profile", profile)
    page.fill("#chapters", chapters)
    page.fill("#only", only)
    time.sleep(PACE / 2)
    page.click("#start")
    page.wait_for_url(re.compile(r".*/runs/\w+$"))
    return page.url


DOWNLOADS = (
    ("certificate.json", "#download"),
    ("office-public.json", "#public-key"),
    ("revocations.json", "#revocations"),
)


def download(page: Page, link: str, path: Path) -> Path:
    """Click a link the way a person saves a file; the file saved at `path`."""
    with page.expect_download() as saving:
        page.click(link)
    saving.value.save_as(path)
    return path


def verify_offline(files: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    """`yzw report verify` on the downloaded certificate, public key and revocation list."""
    certificate, key, listing = (str(files[name]) for name, _ in DOWNLOADS)
    return run_yzw("report", "verify", certificate, "--public-key", key, "--revocations", listing)


def shot(page: Page, folder: Path, name: str) -> Path:
    """A screenshot of the page; also into $YZW_SCREENSHOTS when set (the README's are made so)."""
    path = folder / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    if os.environ.get("YZW_SCREENSHOTS"):
        shutil.copy(path, Path(os.environ["YZW_SCREENSHOTS"]) / path.name)
    return path


def test_a_reviewer_registers_a_system_and_a_bad_record_is_named(console_url: str, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, console_url, "wang")
    page.fill("#vendor", "东湖软件")
    page.fill("#record", "app_id: broken\ntier: county\n")
    page.click("#register-system")
    assert "dept_uscc" in page.locator("#register-error").inner_text()  # the schema's first missing member
    record = {**REGISTRATION.as_record(), "app_id": "dh-registration-only"}
    register(page, record, "东湖软件")
    assert "app_secret" not in page.locator("#record").inner_text()  # secrets are not shown
    page.goto(f"{console_url}/systems")
    assert "dh-registration-only" in page.locator("#systems").inner_text()


def test_a_reviewer_certifies_a_system_and_the_certificate_verifies(
    console_url: str, browser_page: Page, tmp_path: Path
) -> None:
    page = browser_page
    sign_in(page, console_url, "wang")
    page.goto(f"{console_url}/systems/{REGISTRATION.app_id}")
    shot(page, tmp_path, "system")
    run_url = start_run(page, "ci", chapters="REG")
    page.wait_for_selector("#status[data-status='passed']", timeout=RUN_SECONDS)
    assert page.locator("#checks tr").count() > 1
    shot(page, tmp_path, "run")
    page.click("#report")
    assert "PASSED" in page.locator("#verdict").inner_text()
    page.goto(run_url)
    page.click("#issue")
    page.wait_for_url(re.compile(r".*/certificates/\w+$"))
    shot(page, tmp_path, "certificate")
    assert "PARTIAL" in page.frame_locator("iframe").locator("#scope").inner_text()  # a run of chapter REG only
    files = {name: download(page, link, tmp_path / name) for name, link in DOWNLOADS}
    assert download(page, "#pdf", tmp_path / "certificate.pdf").read_bytes().startswith(b"%PDF")
    verified = verify_offline(files)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert ": valid" in verified.stdout
    assert "scope PARTIAL: only chapters REG" in verified.stdout
    page.fill("#reason", "系统在认证后变更 (changed after certification)")
    time.sleep(PACE / 2)
    page.click("#revoke")
    assert "changed after certification" in page.locator(".error-box").inner_text()
    download(page, "#revocations", files["revocations.json"])
    revoked = verify_offline(files)
    assert revoked.returncode == 1
    assert ": revoked" in revoked.stdout


def test_a_waiver_needs_a_second_reviewer(console_url: str, browser_page: Page, tmp_path: Path) -> None:
    page = browser_page
    sign_in(page, console_url, "wang")
    shot(page, tmp_path, "systems")
    page.goto(f"{console_url}/systems/{REGISTRATION.app_id}")
    page.fill("#requirement", "PERF-01")
    page.fill("#reason", "机房扩容前的临时豁免")
    page.fill("#expires_on", "2099-01-01")
    page.click("#record-waiver-button")
    row = page.locator("#waivers tr", has_text="PERF-01")
    assert "wang" in row.inner_text()
    assert row.locator("button.approve").count() == 0  # the first approver cannot approve twice
    page.goto(f"{console_url}/waivers")
    pending = page.locator("#all-waivers tr", has_text="PERF-01").inner_text()
    assert "needs a second approver" in pending  # PERF-01 is a MUST
    page.click("#logout")
    sign_in(page, console_url, "li")
    page.goto(f"{console_url}/systems/{REGISTRATION.app_id}")
    page.locator("#waivers tr", has_text="PERF-01").locator("button.approve").click()
    assert "wang, li" in page.locator("#waivers tr", has_text="PERF-01").inner_text()
    page.goto(f"{console_url}/waivers")
    assert "生效" in page.locator("#all-waivers tr", has_text="PERF-01").inner_text()
    assert "未生效" not in page.locator("#all-waivers tr", has_text="PERF-01").inner_text()


def test_the_operator_answers_cards_by_acting_in_the_back_office(
    console_url: str, reference: RunningReference, browser_page: Page, tmp_path: Path
) -> None:
    """Acceptance profile, no driver in the record: each instruction appears as a card; the reviewer acts in
    the system's back office and, where the system refuses, says `done`; the run moves on and passes."""
    page = browser_page
    office = BackOffice(pointed_record(reference)["driver"]["url"])
    sign_in(page, console_url, "wang")
    page.goto(f"{console_url}/systems/{REGISTRATION.app_id}")
    start_run(page, "acceptance", only="ACC-06")
    answered = 0
    deadline = time.monotonic() + RUN_SECONDS / 1000
    while page.locator("#status").get_attribute("data-status") == "running" and time.monotonic() < deadline:
        cards = page.locator(".card:has(form)")  # the newest card, while the run waits for its answer
        if cards.count() == 0:
            time.sleep(0.5)
            continue
        card = cards.first
        text = card.inner_text()
        time.sleep(PACE)  # a person reads, then acts in the back office
        if window := WINDOW_CARD.search(text):
            card.locator("input.number").fill(office.window_apply(json.loads(window.group(1))))
            card.locator("button.send").click()
        elif instruction := INSTRUCTION.search(text):
            verb, subject, params = instruction.groups()
            if office.do(verb, subject, json.loads(params or "{}")) == 409:  # refused: nothing will come
                card.locator("button.done").click()
            else:
                time.sleep(PACE)  # the events arrive; the card waits for the page to follow
                continue
        answered += 1
        if answered == 1:
            shot(page, tmp_path, "operator-card")
        page.wait_for_timeout(500)
    office.client.close()
    page.wait_for_selector("#status:not([data-status='running'])", timeout=RUN_SECONDS)
    assert page.locator("#status").get_attribute("data-status") == "passed", page.locator("#live").inner_text()
    assert page.locator(".card").count() >= 1
    page.goto(f"{console_url}/systems/{REGISTRATION.app_id}")
    page.click("#cases")
    timeline = page.locator("table.timeline").first.inner_text()
    assert "SB" in timeline or "SL" in timeline, timeline  # the events of the run's applications, per node
    assert "county" in timeline
    shot(page, tmp_path, "cases")
    page.click("text=接口流量")
    assert page.locator("table.traffic tr").count() > 3
    page.locator("table.traffic details").first.click()
    shot(page, tmp_path, "traffic")
    assert WHOLE_ID_NUMBER.search(page.locator("main").inner_text()) is None  # people masked on the screen
    page.click("#live")  # the page follows the traffic: it reloads itself every few seconds
    assert page.locator("meta[http-equiv='refresh']").count() == 1


def test_a_failing_check_shows_its_evidence_and_a_waiver_applies(
    console_url: str, faulty: RunningReference, browser_page: Page, tmp_path: Path
) -> None:
    """A faulty system fails REG-01: the report shows why, with the exchange; a waiver recorded by one reviewer
    and approved by another makes the next run pass with REG-01 `waived`."""
    page = browser_page
    app_id = faulty.registration.app_id
    sign_in(page, console_url, "wang")
    page.goto(f"{console_url}/systems/{app_id}")
    start_run(page, "ci", chapters="REG")
    page.wait_for_selector("#status:not([data-status='running'])", timeout=RUN_SECONDS)
    assert page.locator("#status").get_attribute("data-status") == "not-passed"
    assert page.locator("#checks td.fail").count() >= 1
    assert page.locator("#issue").count() == 0  # no certificate for a run that did not pass
    page.click("#report")
    failure = page.locator("#REG-01").inner_text()
    assert "[REG-01] the health answer is not what the norm asks" in failure
    assert "/health" in failure  # the exact request and answer, as evidence
    page.locator("#REG-01 details").first.click()  # the evidence: each request and answer of the check
    assert "GET" in page.locator("#REG-01 details").first.inner_text()
    shot(page, tmp_path, "failing-evidence")
    page.goto(f"{console_url}/systems/{app_id}")
    page.fill("#requirement", "REG-01")
    page.fill("#reason", "健康检查的规范版本将于下月升级")
    page.fill("#expires_on", "2099-01-01")
    page.click("#record-waiver-button")
    page.click("#logout")
    sign_in(page, console_url, "li")
    page.goto(f"{console_url}/systems/{app_id}")
    page.locator("#waivers tr", has_text="REG-01").locator("button.approve").click()
    start_run(page, "ci", chapters="REG")
    page.wait_for_selector("#status:not([data-status='running'])", timeout=RUN_SECONDS)
    assert page.locator("#status").get_attribute("data-status") == "passed"
    page.click("#report")
    assert "waived by wang, li" in page.locator("#summary").inner_text()


def test_english_is_one_click_away_and_the_admin_reads_who_did_what(console_url: str, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, console_url, "wang")
    assert "接入系统" in page.locator("header").inner_text()
    assert page.locator("text=操作日志").count() == 0  # the audit log is the admin's
    page.click("text=English")
    page.wait_for_load_state()
    assert "Systems" in page.locator("header").inner_text()
    page.click("text=中文")
    page.click("#logout")
    sign_in(page, console_url, "zhao")
    page.click("text=操作日志")
    log = page.locator("#audit").inner_text()
    assert "wang" in log
    assert "login" in log


def test_a_vendor_sees_only_its_own_systems(console: Console, console_url: str, browser_page: Page) -> None:
    console.db.store.execute(
        "INSERT INTO console_runs (id, app_id, started_by, profile, chapters, only_ids, status, folder, started_at) "
        "VALUES ('f0f0f0f0', ?, 'wang', 'ci', '', '', 'passed', '/nonexistent', '2026-12-04T00:00:00+00:00')",
        REGISTRATION.app_id,
    )
    run_href = "/runs/f0f0f0f0"
    page = browser_page
    sign_in(page, console_url, "other")
    listed = page.locator("#systems").inner_text()
    assert REGISTRATION.app_id not in listed
    assert "别家公司" in listed  # its own system, read-only
    for url in (run_href, f"/systems/{REGISTRATION.app_id}", f"{run_href}/report.json"):
        answer = page.goto(f"{console_url}{url}")
        assert answer is not None
        assert answer.status == 403, url
    page.goto(f"{console_url}/systems")
    assert page.locator("#register").count() == 0  # read-only
    forged = page.request.post(f"{console_url}/systems/{REGISTRATION.app_id}/runs", form={"profile": "ci"})
    assert forged.status == 403  # no CSRF token, and no reviewer role
