"""`yzw spec`: the requirement register — list it, show one requirement."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from yzw.cli.output import command_group, new_table, out
from yzw.errors import YzwError
from yzw.reference.faults import catalogue as fault_catalogue
from yzw.register import Requirement, load_register, requirement
from yzw.spec import Finding, detect_kind, message_kinds, validate
from yzw.spec.coverage import ClauseCoverage, clause_coverage, coverage
from yzw.spec.validate import Unreadable, parse_text
from yzw.spec.xml import XmlForbidden, XmlMalformed, xsd_errors

app = command_group("The norm as data: requirements, message validation, coverage.")


def _matches(req: Requirement, chapter: str | None, applies_to: str | None, level: str | None) -> bool:
    if chapter and chapter.upper() not in (str(req.chapter), req.area):
        return False
    if applies_to and req.applies_to != applies_to:
        return False
    return not (level and req.level != level.upper())


@app.command("list")
def list_requirements(
    chapter: Annotated[str | None, typer.Option("--chapter", "-c", help="A chapter (7) or area (ACC).")] = None,
    applies_to: Annotated[str | None, typer.Option(help="system, platform or kit.")] = None,
    level: Annotated[str | None, typer.Option(help="MUST or SHOULD.")] = None,
) -> None:
    """List requirements, optionally one chapter's.

    Example: yzw spec list --chapter 7
    """
    if applies_to and applies_to not in ("system", "platform", "kit"):
        raise YzwError(f"--applies-to takes system, platform or kit, got {applies_to!r}")
    rows = [r for r in load_register().values() if _matches(r, chapter, applies_to, level)]
    if not rows:
        raise YzwError(f"no requirement matches --chapter {chapter!r}; chapters are 1-12 or areas like ACC")
    table = new_table("ID", "level", "§", "title", "applies to", "verified by", title=f"{len(rows)} requirements")
    for req in rows:
        table.add_row(
            req.id,
            req.level,
            str(req.chapter),
            f"{req.title_zh} {req.title_en}",
            req.applies_to,
            req.verification,
        )
    out.print(table)


@app.command("show")
def show(req_id: Annotated[str, typer.Argument(metavar="ID", help="A requirement ID, e.g. ACC-04.")]) -> None:
    """Show one requirement in full.

    Example: yzw spec show ACC-04
    """
    req = requirement(req_id)
    out.print(f"[bold]{req.id}[/] {req.level}  §{req.chapter}  {req.title_zh} — {req.title_en}")
    out.print(req.statement)
    out.print(f"Source: {req.clause}" + (f"; seed: {req.seed}" if req.seed else ""))
    out.print(
        f"Applies to: {req.applies_to}; verified: {req.verification}" + (f" ({req.reason})" if req.reason else "")
    )
    if req.clauses:
        table = new_table("clause", "says", "norm", title=f"{len(req.clauses)} clauses")
        for clause in req.clauses:
            says = clause.says + (f" (manual: {clause.manual})" if clause.manual else "")
            table.add_row(clause.id, says, clause.source)
        out.print(table)


@app.command("validate")
def validate_file(
    file: Annotated[Path, typer.Argument(help="A JSON, YAML (sut.yaml) or XML message; - for standard input.")],
    kind: Annotated[str | None, typer.Option("--kind", "-k", help="The message kind; detected if omitted.")] = None,
    xsd: Annotated[bool, typer.Option(help="Also check XML against the XSD as sent (strict).")] = False,
) -> None:
    """Validate one message; exit 0 valid, 1 invalid, 2 unreadable.

    Example: yzw spec validate application.json; yzw spec validate event.xml --kind event
    """
    if kind is not None and kind not in message_kinds():
        raise YzwError(f"unknown message kind {kind!r}; kinds are: {', '.join(message_kinds())}")
    data = _read_input(file)
    try:
        findings = validate(kind, data)
        strict = xsd_errors(data) if xsd and data.lstrip().startswith(b"<") else []
    except (Unreadable, XmlMalformed) as exc:
        raise YzwError(f"{file}: {exc}") from None
    except XmlForbidden as exc:
        findings, strict = [Finding("/", "", str(exc), "MSG-05")], []
    for finding in findings:
        out.print(f"[red]✗[/] {finding.render()}", markup=True)
    for path, reason in strict:
        out.print(f"[red]✗[/] {path}  XSD: {reason} [MSG-01]")
    problems = len(findings) + len(strict)
    shown = kind or ("XML" if data.lstrip().startswith(b"<") else detect_kind(parse_text(data.decode())))
    out.print(f"{file}: {shown}: " + (f"{problems} problem(s)" if problems else "valid"))
    raise typer.Exit(1 if problems else 0)


def _read_input(file: Path) -> bytes:
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
        data.decode("utf-8")
    except OSError as exc:
        raise YzwError(f"cannot read {file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise YzwError(f"{file} is not UTF-8 (byte {exc.start}): [MSG-01] bodies are UTF-8") from None
    return data


@app.command("coverage")
def show_coverage(
    strict: Annotated[
        bool, typer.Option(help="Exit 1 when a system requirement (with --clauses: a clause) lacks a check or fault.")
    ] = False,
    clauses: Annotated[
        bool, typer.Option("--clauses", help="One row per clause: its checks and the seeded faults that break it.")
    ] = False,
) -> None:
    """Which requirements have a schema, an OpenAPI operation and a conformance check yet.

    Example: yzw spec coverage; yzw spec coverage --clauses --strict
    """
    if clauses:
        _show_clause_coverage(strict)
        return
    rows = coverage()
    table = new_table("ID", "applies to", "schema", "OpenAPI", "check", title="Requirement coverage")
    for row in rows:
        req = requirement(row.requirement)
        checks = _cell(row.checks) if req.applies_to == "system" else "kit self-test"
        table.add_row(row.requirement, req.applies_to, _cell(row.schemas), _cell(row.operations), checks)
    out.print(table)
    counts = {name: sum(bool(getattr(r, name)) for r in rows) for name in ("schemas", "operations")}
    system = [r for r in rows if requirement(r.requirement).applies_to == "system"]
    missing = [r.requirement for r in system if not r.checks]
    out.print(
        f"{len(rows)} requirements: {counts['schemas']} with a schema, {counts['operations']} with an "
        f"OpenAPI operation; {len(system) - len(missing)} of {len(system)} system requirements with a conformance "
        f"check{' (missing: ' + ', '.join(missing) + ')' if missing else ''}; the other {len(rows) - len(system)} "
        "bind the platform or the kit and are checked by the kit's own tests"
    )
    raise typer.Exit(1 if strict and missing else 0)


def _show_clause_coverage(strict: bool) -> None:
    rows = clause_coverage({f.name: f.clauses for f in fault_catalogue().values()})
    table = new_table("clause", "says", "check", "fault", title="Clause coverage (system requirements)")
    for row in rows:
        manual = f"manual: {row.clause.manual}" if row.clause.manual else None
        table.add_row(row.clause.id, row.clause.says, manual or _cell(row.checks), manual or _cell(row.faults))
    out.print(table)
    by_area: dict[str, list[ClauseCoverage]] = {}
    for row in rows:
        by_area.setdefault(row.clause.requirement.split("-")[0], []).append(row)
    for area, group in by_area.items():
        out.print(
            f"{area}: {len(group)} clauses, {sum(bool(r.checks) for r in group)} with a check, "
            f"{sum(bool(r.faults) for r in group)} with a fault, {sum(bool(r.clause.manual) for r in group)} manual"
        )
    system = [r for r in load_register().values() if r.applies_to == "system"]
    unsplit = [r.id for r in system if not r.clauses]
    open_rows = [r.clause.id for r in rows if not r.complete]
    out.print(
        f"{len(rows)} clauses of {len(system) - len(unsplit)} system requirements; {len(rows) - len(open_rows)} "
        f"with a check and a fault or left to a person; {len(open_rows)} without"
        + (f"; not split into clauses yet: {', '.join(unsplit)}" if unsplit else "")
    )
    raise typer.Exit(1 if strict and (open_rows or unsplit) else 0)


def _cell(names: tuple[str, ...]) -> str:
    if not names:
        return "[red]—[/]"
    return ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")
