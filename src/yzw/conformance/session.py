"""One conformance run: the connected system, the verdict of every test as it finishes, and the reports."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from yzw.client import trusted
from yzw.codes.calendar_reach import calendar_warning
from yzw.codes.times import CN_TZ, today_cn
from yzw.conformance.evidence import Evidence
from yzw.report.write import write_reports
from yzw.run.options import RunOptions
from yzw.run.target import Target, connect
from yzw.run.verdicts import ERROR, FAIL, PASS, TestResult, skip_verdict
from yzw.sut import Registration, load_registration

Progress = Callable[[TestResult], None]


def _print(text: str) -> None:
    print(text, flush=True)


@dataclass
class Conformance:
    """The state of a run that the plugin's hooks and fixtures share."""

    options: RunOptions
    target: Target
    results: list[TestResult] = field(default_factory=list)
    progress: Progress | None = None
    say: Callable[[str], None] = _print
    ask: Callable[[str], str] = input
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(CN_TZ))
    reports: tuple[Path, ...] = ()
    total: int = 0
    _open: dict[str, TestResult] = field(default_factory=dict)

    @classmethod
    def start(cls, options: RunOptions, registration: Registration | None = None) -> Conformance:
        """Register the system at the mock platform and make sure it answers (the record is read from
        `options.sut` unless the caller has read it already)."""
        registration = registration or load_registration(options.sut)
        return cls(options, connect(registration, options.platform))

    def seed(self, nodeid: str) -> int:
        """A seed per test and run: a second run against the same system must not resend the first run's
        application numbers (they would be known already, and their cases decided)."""
        return zlib.crc32(f"{nodeid}@{self.started.isoformat()}".encode())

    def calendar_warning(self) -> str | None:
        """CODE-08: today's acceptances of the department's items that would count into a year the kit's
        calendar lacks (a correct system refuses them), to be said before the run; None when there are none."""
        try:
            answer = httpx.get(self.target.province_url + "/_mock/catalog", timeout=10, verify=trusted())
            items = answer.json()["items"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None  # the run itself says what is wrong with the platform
        return calendar_warning(items, self.target.registration.dept_uscc, today_cn())

    def phase(
        self,
        item: pytest.Item,
        report: pytest.TestReport,
        ids: tuple[str, ...],
        evidence: Evidence | None,
        clauses: tuple[str, ...] = (),
    ) -> None:
        """Fold one phase's report (setup, call, teardown) into the test's verdict."""
        result = self._open.setdefault(item.nodeid, TestResult(item.nodeid, item.name, ids, PASS, clauses=clauses))
        result.seconds = round(result.seconds + report.duration, 3)
        if evidence is not None:
            result.evidence, result.notes, result.delays = evidence.as_dicts(), list(evidence.notes), evidence.delays
        if report.skipped and result.verdict == PASS:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            result.verdict, result.message = (
                skip_verdict(reason.removeprefix("Skipped: ")),
                reason.removeprefix("Skipped: "),
            )
        elif report.failed and result.verdict != FAIL:
            violation = report.when == "call" and isinstance(report.longrepr, str)
            result.verdict = FAIL if violation else ERROR
            result.message = str(report.longrepr) if violation else _short(report)
        if report.when == "teardown":
            self.results.append(self._open.pop(item.nodeid))
            if self.progress:
                self.progress(self.results[-1])

    def finish(self) -> None:
        """Write the reports when the run was asked to."""
        if self.options.report_dir is not None:
            self.reports = write_reports(self.results, self.target, self.options, self.started, self.options.report_dir)


def _short(report: pytest.TestReport) -> str:
    """What broke and where, without pytest's whole traceback: the exception and the suite line that met it."""
    crash = getattr(report.longrepr, "reprcrash", None)
    entries = getattr(getattr(report.longrepr, "reprtraceback", None), "reprentries", [])
    suite = [e.reprfileloc for e in entries if getattr(e, "reprfileloc", None) and "conformance" in e.reprfileloc.path]
    where = f" (at {suite[-1].path}:{suite[-1].lineno})" if suite else ""
    if crash is None:
        return report.longreprtext.strip().splitlines()[-1] if report.longreprtext.strip() else "error"
    return f"{crash.message}{where}"
