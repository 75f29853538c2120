"""The HTML certification report in a real headless browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.xdist_group("demo")  # the session's demo report, made once per worker
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_the_html_report_shows_the_summary_table_in_a_browser(
    demo_reports: tuple[int, str, Path], tmp_path: Path
) -> None:
    _, _, folder = demo_reports
    shot = tmp_path / "summary.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto((folder / "report.html").as_uri())
        summary = page.locator("#summary")
        summary.screenshot(path=str(shot))
        rows = summary.locator("tr").count()
        verdict = page.locator("#verdict").inner_text()
        first = summary.locator("tr").nth(1).inner_text()
        browser.close()
    assert shot.stat().st_size > 10_000  # a rendered table, not a blank box
    assert rows == 1 + 59
    assert "PASSED" in verdict
    assert first.startswith("REG-01")
