"""`yzw catalog check`: a vendor's own catalogue file, checked before a platform or a run sees it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from yzw.cli.output import command_group, err, out
from yzw.spec.catalogue import read_and_check
from yzw.sut import load_record

app = command_group("A department's own catalogue (CAT-01): the items a vendor's system is configured for.")


@app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="The catalogue file (JSON or YAML, an `items` list).")],
    sut: Annotated[
        Path | None, typer.Option(help="The system's sut.yaml: the items must be of its department and dept_seq.")
    ] = None,
) -> None:
    """Check every item against specs/schemas/item.schema.json and the codes; one line per problem, exit 2.

    Without --sut the file's first item names the department every item must belong to.

    Example: yzw catalog check my-items.yaml --sut my-system.yaml
    """
    department = load_record(sut).department(str(sut)) if sut is not None else None
    items, problems = read_and_check(file, department)
    for problem in problems:
        err.print(f"[bold red]error:[/] {escape(problem.render())}")
    if problems:
        raise typer.Exit(2)
    owner = items[0]["dept"]
    out.print(
        f"✓ {file}: {len(items)} item(s) of {owner['name']} (dept_uscc {owner['uscc']}, dept_seq {owner['dept_seq']})",
        markup=False,
    )
