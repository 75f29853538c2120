"""Write a run's reports: report.json (sealed) and report.html, next to pytest's JUnit and Allure output."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from yzw.codes.times import CN_TZ
from yzw.errors import YzwError
from yzw.report import document, html
from yzw.run.options import RunOptions
from yzw.run.target import Target
from yzw.run.verdicts import TestResult


def write_reports(
    tests: list[TestResult], target: Target, options: RunOptions, started: dt.datetime, folder: Path
) -> tuple[Path, Path]:
    """The JSON and HTML reports of a run in `folder` (created); their paths."""
    sealed = document.seal(document.build(tests, target, options, started, dt.datetime.now(CN_TZ)))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        json_path, html_path = folder / "report.json", folder / "report.html"
        json_path.write_text(json.dumps(sealed, ensure_ascii=False, indent=1), encoding="utf-8")
        html_path.write_text(html.render(sealed), encoding="utf-8")
    except OSError as exc:
        raise YzwError(f"cannot write the reports to {folder}: {exc}; choose another --report-dir") from None
    return json_path, html_path
