"""`yzw load`: the province's load gate (PERF-01) and nothing lost or doubled (PERF-02), with locust."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from yzw.cli.output import new_table, out
from yzw.errors import YzwError
from yzw.load import ledger
from yzw.load.gate import judge, read_figures
from yzw.load.plan import slo_rules
from yzw.load.run import LoadRequest, exchange_problems, load_item, run_locust, shape
from yzw.run.target import Target, connect
from yzw.sut import load_registration

SUMMARY = "load-summary.json"
MIN_STEADY_SECONDS = 5


def seconds_of(text: str) -> int:
    """`60`, `60s`, `2m` or `1h` as whole seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", text)
    if not match or int(match.group(1)) == 0:
        raise typer.BadParameter("give a positive duration such as 20s, 60s or 2m", param_hint="--duration")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def load(
    sut: Annotated[Path, typer.Option(help="The system's registration record (sut.yaml).")],
    tier: Annotated[str, typer.Option(help="county, city or province: the SLO of specs/rules/slo.yaml.")] = "county",
    duration: Annotated[
        str, typer.Option(help="Run time, e.g. 20s, 60s (the norm's), 2m; the run stops itself.")
    ] = "60s",
    users: Annotated[int | None, typer.Option(min=1, help="Users (default: enough for the tier's rate).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Locust worker processes on this machine.")] = 1,
    web: Annotated[bool, typer.Option(help="Show locust's web UI on 127.0.0.1 while it runs.")] = False,
    with_checks: Annotated[
        bool, typer.Option(help="Also accept applications through the driver and judge the events.")
    ] = False,
    platform: Annotated[str, typer.Option(help="The mock platform's province URL.")] = "http://127.0.0.1:8700",
    report_dir: Annotated[Path, typer.Option(help="Where locust's HTML and CSV and the summary go.")] = Path(
        "yzw-report"
    ),
    catalog: Annotated[
        Path | None,
        typer.Option(help="The department's own catalogue items (JSON or YAML); overrides the record's catalog:."),
    ] = None,
) -> None:
    """Load the system at its tier's SLO, gate on it, then check that nothing was lost or doubled.

    Example: yzw load --sut mocks/reference-sut.yaml --tier county --duration 20s
    """
    rules = slo_rules()
    if tier not in rules["tiers"]:
        raise typer.BadParameter(f"choose one of {', '.join(rules['tiers'])}", param_hint="--tier")
    request = LoadRequest(tier, seconds_of(duration), users, workers, web, with_checks)
    shortest = int(rules["load"]["ramp_seconds"]) + MIN_STEADY_SECONDS
    if request.seconds < shortest:
        raise typer.BadParameter(
            f"at least {shortest}s: the ramp, then {MIN_STEADY_SECONDS} s to measure", param_hint="--duration"
        )
    target = connect(load_registration(sut, catalog), platform)
    item = load_item(target)
    folder = report_dir / "load"
    folder.mkdir(parents=True, exist_ok=True)
    classes, count, _ = shape(request)
    out.print(f"Loading {target.base_url} at the {tier} SLO for {request.seconds} s: {count} users")
    out.print(f"  scenarios {', '.join(classes)}; {workers} locust process(es)")
    code = _with_progress(target, item, request, folder)
    summary = _summary(target, request, folder, code)
    (folder / SUMMARY).write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    _show(summary, folder)
    raise typer.Exit(0 if summary["passed"] else 1)


def _with_progress(target: Target, item: dict[str, Any], request: LoadRequest, folder: Path) -> int:
    with Progress(TextColumn("[bold]locust[/]"), BarColumn(), TimeElapsedColumn(), console=out) as progress:
        task = progress.add_task("load", total=request.seconds)
        return run_locust(
            target, item, request, folder, lambda elapsed: progress.update(task, completed=elapsed), out.print
        )


def _summary(target: Target, request: LoadRequest, folder: Path, locust_code: int) -> dict[str, Any]:
    rules = slo_rules()
    slo = rules["tiers"][request.tier]
    figures = read_figures(folder / "locust", float(rules["load"]["ramp_seconds"]))
    if figures.requests == 0:
        raise YzwError(f"locust sent no application (exit {locust_code}); see {folder / 'locust.log'}")
    perf01 = judge(figures, slo, float(rules["load"]["sustained_share"]))
    checked, perf02 = ledger.check(target, folder / "ledger")
    verdicts = {"PERF-01": perf01, "PERF-02": perf02}
    if request.with_checks:
        verdicts["EVT-03/EVT-04/EVT-06"] = exchange_problems(target)
    return {
        "tier": request.tier,
        "seconds": request.seconds,
        "slo": slo,
        "figures": {
            "requests": figures.requests,
            "failures": figures.failures,
            "p95_ms": figures.p95_ms,
            "sustained_rate": round(figures.sustained_rate, 1),
        },
        "checked_applications": checked,
        "verdicts": {
            name: {"passed": not problems, "problems": problems[:20], "count": len(problems)}
            for name, problems in verdicts.items()
        },
        "passed": not any(verdicts.values()),
        "locust_html": str(folder / "locust.html"),
        "generator": _generator(target.base_url),
    }


def _generator(base_url: str) -> str:
    """Where the load came from (norm §12: a figure measured on the system's own host must say so)."""
    host = urlsplit(base_url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1") or host == socket.gethostname():
        return "the load generator ran on the system's own host"
    return f"the load generator ran on {socket.gethostname()}, the system on {host}"


def _show(summary: dict[str, Any], folder: Path) -> None:
    figures, slo = summary["figures"], summary["slo"]
    table = new_table("measure", "measured", f"{summary['tier']} target", title="Intake under load (PERF-01)")
    table.add_row("sustained applications/s", f"{figures['sustained_rate']:.1f}", f"≥ {slo['rate']}")
    table.add_row("p95", f"{figures['p95_ms']:.0f} ms", f"≤ {slo['p95_ms']} ms")
    share = figures["failures"] / figures["requests"] if figures["requests"] else 0
    table.add_row(
        "errors", f"{share:.2%} ({figures['failures']} of {figures['requests']})", f"≤ {slo['error_share']:.1%}"
    )
    out.print(table)
    for name, verdict in summary["verdicts"].items():
        mark = "[green]✓ pass[/]" if verdict["passed"] else "[red]✗ fail[/]"
        more = verdict["count"] - 3
        shown = "; ".join(verdict["problems"][:3]) + (f"; and {more} more" if more > 0 else "")
        out.print(f"{mark} {name}" + ("" if verdict["passed"] else ": " + shown))
    out.print(f"checked {summary['checked_applications']} applications by the status query (PERF-02)")
    out.print(summary["generator"])
    out.print(
        f"{'[green]PASSED[/]' if summary['passed'] else '[red]NOT PASSED[/]'}; locust report: {folder / 'locust.html'}"
    )
