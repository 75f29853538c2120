"""`yzw spec`: the requirement register — list it, show one requirement."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from yzw.cli.output import out
from yzw.errors import YzwError
from yzw.register import Requirement, load_register, requirement

app = typer.Typer(help="The norm's requirements as data (specs/requirements.yaml).", no_args_is_help=True)


def _matches(req: Requirement, chapter: str | None, applies_to: str | None, level: str | None) -> bool:
    if chapter and chapter.upper() not in (str(req.chapter), req.area):
        return False
    if applies_to and req.applies_to != applies_to:
        return False
    return not (level and req.level != level.upper())


@app.command("list")
def list_requirements(
    chapter: Annotated[
        str | None, typer.Option("--chapter", "-c", help="A chapter (7) or area (ACC).")
    ] = None,
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
    table = Table("ID", "level", "§", "title", "applies to", "verified by", title=f"{len(rows)} requirements")
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
        f"Applies to: {req.applies_to}; verified: {req.verification}"
        + (f" ({req.reason})" if req.reason else "")
    )
