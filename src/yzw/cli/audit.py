"""`yzw audit`: judge a department's pushed data record by record, and its SUP-03 KPIs against the targets."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from yzw.audit.columnar import Outcome, audit_sources
from yzw.audit.write import write_audit
from yzw.cli.output import out
from yzw.content import content_path
from yzw.errors import YzwError

TIERS = ("county", "city", "province")


def audit(
    sources: Annotated[list[Path], typer.Argument(help="JSON Lines or XML dumps of events.")],
    tier: Annotated[str, typer.Option(help="The departments' tier, for the KPI targets.")] = "county",
    catalog: Annotated[Path | None, typer.Option(help="Catalogue items (default: mocks/catalog.yaml).")] = None,
    period: Annotated[
        str | None, typer.Option(help="KPIs over applications first seen in FROM:TO (YYYY-MM-DD:YYYY-MM-DD).")
    ] = None,
    report_dir: Annotated[Path, typer.Option(help="Where the bad records, KPIs and HTML go.")] = Path("yzw-audit"),
) -> None:
    """Check every record (schema, codes, order, times, 12 h delay) and compute the monitoring KPIs.

    Exit 0 when no record is bad, 1 otherwise. Example: yzw audit events.jsonl --tier county
    """
    if tier not in TIERS:
        raise typer.BadParameter(f"choose one of {', '.join(TIERS)}", param_hint="--tier")
    items, window = _items(catalog), _period(period)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=out, transient=True) as progress:
        task = progress.add_task("reading", total=None)

        def show(stage: str, count: int) -> None:
            rate = count / max(time.perf_counter() - started, 1e-9)
            progress.update(task, description=f"{stage} {count:,} records ({rate:,.0f}/s)")

        try:
            state = audit_sources(sources, items, window, show)
        except OSError as exc:  # the buckets and the spilled bad records are temporary files
            raise YzwError(
                f"the audit could not use its temporary files in {tempfile.gettempdir()}: {exc}; free space there "
                "or point TMPDIR at a larger disk"
            ) from None
    seconds = time.perf_counter() - started
    summary = {
        "records": state.records,
        "bad": len(state.bad),
        "seconds": round(seconds, 1),
        "per_second": round(state.records / max(seconds, 1e-9)),
        "sources": [str(s) for s in sources],
        "tier": tier,
        "period": period or "all",
    }
    kpis = state.monitor.report(tier)
    try:
        paths = write_audit(state.bad, kpis, report_dir, summary)
        _show(state, kpis, summary, paths)
        failed = bool(state.bad)
    finally:
        state.bad.close()  # its spilled runs
    raise typer.Exit(1 if failed else 0)


def _period(text: str | None) -> tuple[dt.date, dt.date] | None:
    if text is None:
        return None
    try:
        start, end = (dt.date.fromisoformat(part) for part in text.split(":"))
    except ValueError:
        raise typer.BadParameter("give FROM:TO as YYYY-MM-DD:YYYY-MM-DD", param_hint="--period") from None
    if end < start:
        raise typer.BadParameter(f"{end} is before {start}", param_hint="--period")
    return start, end


def _items(catalog: Path | None) -> dict[str, Any]:
    path = catalog or content_path("mocks", "catalog.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return {item["item_code"]: item for item in data["items"]}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise YzwError(f"cannot read the catalogue {path}: {exc} (a YAML file with an `items` list)") from None


def _show(state: Outcome, kpis: dict[str, Any], summary: dict[str, Any], paths: list[Path]) -> None:
    rate = f"{summary['per_second']:,}/s"
    out.print(f"{summary['records']:,} records in {summary['seconds']} s ({rate}); {summary['bad']:,} bad")
    for bad in state.bad.head(10):
        out.print(f"  {bad.source}:{bad.line} [{bad.requirement}] {bad.member} {bad.reason}", markup=False)
    if len(state.bad) > 10:
        out.print(f"  … {len(state.bad) - 10:,} more in {paths[0]}")
    for dept, report in kpis.items():
        missed = [k["name"] for k in report["kpis"] if k["met"] is False]
        out.print(f"{dept}: {report['applications']} applications; KPIs missed: {', '.join(missed) or 'none'}")
    out.print(f"report: {paths[3]}")
