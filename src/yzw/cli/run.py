"""`yzw run`: certify a departmental system against the mock platform, one verdict per requirement ID."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from yzw.cli.attach import platform_for
from yzw.cli.output import new_table, out
from yzw.codes.times import today_cn
from yzw.conformance.run import run_suites
from yzw.conformance.session import Conformance
from yzw.register import load_register
from yzw.run.options import RunOptions, split_ids
from yzw.run.verdicts import TestResult, by_requirement, counts, passed
from yzw.run.waivers import load_waivers
from yzw.sut import Registration, load_registration

MARKS = {
    "pass": "[green]✓ pass  [/]",
    "fail": "[red]✗ fail  [/]",
    "error": "[yellow]! error [/]",
    "manual": "[magenta]? manual[/]",
    "not-applicable": "[dim]- n/a   [/]",
    "waived": "[yellow]~ waived[/]",
}
DEFAULT_REPORTS = Path("yzw-report")


def run(
    sut: Annotated[Path, typer.Option(help="The system's registration record (see README, sut.yaml).")],
    platform: Annotated[
        str,
        typer.Option(
            help="The mock platform's province URL (`yzw mock up`). When nothing listens there and the record "
            "carries platform_secret, the run starts the platform there itself."
        ),
    ] = "http://127.0.0.1:8700",
    profile: Annotated[
        str, typer.Option(help="acceptance (may prompt an operator) or ci (never prompts).")
    ] = "acceptance",
    only: Annotated[str, typer.Option(help="Comma-separated requirement IDs, e.g. APP-01,SIG-02.")] = "",
    chapter: Annotated[str, typer.Option(help="Comma-separated chapters: areas (APP, EVT …) or numbers.")] = "",
    wait: Annotated[float, typer.Option(help="Seconds to wait for each push the system owes the exchange.")] = 10.0,
    operator_wait: Annotated[
        float,
        typer.Option(
            help="Without a driver (acceptance profile): seconds to wait for the events after each instruction to "
            "the operator, who may end the wait sooner (d done, s skip, g give up)."
        ),
    ] = 600.0,
    report_dir: Annotated[
        Path, typer.Option(help="Where report.html, report.json, junit.xml and allure-results go.")
    ] = DEFAULT_REPORTS,
    allow_manual: Annotated[
        bool, typer.Option(help="Manual verdicts (ci without a driver) do not fail the run.")
    ] = False,
    catalog: Annotated[
        Path | None,
        typer.Option(help="The department's own catalogue items (JSON or YAML); overrides the record's catalog:."),
    ] = None,
    waivers: Annotated[
        Path | None,
        typer.Option(
            help="The office's waivers file (YAML or JSON, see README): a requirement of this system that did not "
            "pass and has a waiver in force is `waived`."
        ),
    ] = None,
) -> None:
    """Run the conformance suites against a registered system; exit 0 only when every MUST passes.

    Example: yzw run --sut mocks/reference-sut.yaml --platform http://127.0.0.1:8700 --profile ci
    """
    if profile not in ("ci", "acceptance"):
        raise typer.BadParameter("choose ci or acceptance", param_hint="--profile")
    registration = load_registration(sut, catalog)
    options = RunOptions.checked(
        sut=sut,
        platform=platform,
        profile=profile,
        only=split_ids(only),
        chapters=split_ids(chapter),
        wait=wait,
        operator_wait=operator_wait,
        allow_manual=allow_manual,
        report_dir=report_dir,
        waivers=load_waivers(waivers, registration.app_id) if waivers else (),
    )
    raise typer.Exit(certify(options, registration))


def certify(options: RunOptions, registration: Registration | None = None) -> int:
    """Connect, run with a line per test, print the summary and the report paths; the exit code."""
    started = time.monotonic()
    registration = registration or load_registration(options.sut)
    running = platform_for(options.platform, registration)
    try:
        if running is not None:
            nodes = ", ".join(f"{name} {url}" for name, url in running.urls.items())
            out.print(f"No mock platform at {options.platform}: started one there for this run ({nodes})")
        conformance = Conformance.start(options, registration)
        conformance.progress = _progress(conformance, started)
        conformance.say = lambda text: out.print(f"[bold magenta]operator:[/] {escape(text)}", soft_wrap=True)
        out.print(
            f"Certifying [bold]{conformance.target.app_id}[/] at {conformance.target.base_url} against YZW-NORM-2026 …"
        )
        warning = conformance.calendar_warning()
        if warning:
            out.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
        for waiver in options.waivers:
            why = waiver.not_in_force(today_cn())
            out.print(
                f"waiver {waiver.requirement}: " + (f"not in force ({why})" if why else waiver.text), markup=False
            )
        run_suites(conformance)
        return summary(conformance, time.monotonic() - started)
    finally:
        if running is not None:
            running.stop()


def _progress(conformance: Conformance, started: float) -> Callable[[TestResult], None]:
    def show(test: TestResult) -> None:
        done = len(conformance.results)
        ids = ",".join(test.requirements)
        elapsed = time.monotonic() - started
        line = f"[{done:>3}/{conformance.total}] {MARKS[test.verdict]} {ids:<8} {test.name}"
        out.print(f"{line} [dim]{test.seconds:.2f} s · {elapsed:.0f} s[/]")

    return show


def summary(conformance: Conformance, seconds: float) -> int:
    """The table per requirement, each failure in full, the report paths; 0 when every MUST passed."""
    results = by_requirement(conformance.results, load_register(), conformance.options.waived(today_cn()))
    table = new_table("ID", "level", "requirement", "verdict", "s", title="Verdicts per requirement")
    for result in results:
        req = result.requirement
        table.add_row(
            req.id, req.level, f"{req.title_zh} · {req.title_en}", MARKS[result.verdict], f"{result.seconds:.1f}"
        )
    out.print(table)
    for test in conformance.results:
        if test.verdict in ("fail", "error"):
            out.print(f"\n{test.name} ({test.verdict})\n{test.message}", markup=False)
    for result in results:
        if result.waiver is not None:
            out.print(f"\n{result.requirement.id} waived: {result.waiver.text}", markup=False)
    ok = passed(results, conformance.options.allow_manual)
    tally = ", ".join(f"{n} {verdict}" for verdict, n in counts(results).items() if n)
    verdict = "[green]PASSED[/]" if ok else "[red]NOT PASSED[/]"
    out.print(f"\n{verdict}: {len(results)} requirements ({tally}) in {seconds:.0f} s")
    folder = conformance.options.report_dir
    if folder is not None:
        out.print(f"JUnit XML: {folder / 'junit.xml'}\nAllure results: {folder / 'allure-results'}")
        for path in conformance.reports:
            out.print(f"{path.suffix[1:].upper()} report: {path}")
    return 0 if ok else 1
