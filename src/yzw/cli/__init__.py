"""The `yzw` command. Every user error is one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from yzw import NORM, __version__
from yzw.cli import audit, catalog, codes, console, demo, fixtures, init, load, mock, reference, report, run, spec
from yzw.cli.output import command_group, err
from yzw.errors import YzwError

app = command_group(
    f"Conformance kit for departmental systems joining the provincial online service hall ({NORM}).",
    name="yzw",
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(codes.app, name="codes")
app.add_typer(spec.app, name="spec")
app.add_typer(catalog.app, name="catalog")
app.add_typer(mock.app, name="mock")
app.add_typer(reference.app, name="reference")
app.add_typer(report.app, name="report")
app.add_typer(console.app, name="console")
app.add_typer(fixtures.app, name="fixtures")
app.command("init")(init.init)
app.command("audit")(audit.audit)
app.command("demo")(demo.demo)
app.command("run")(run.run)
app.command("load")(load.load)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the kit's version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"yzw-conform {__version__} ({NORM})")
        raise typer.Exit()


def main() -> None:
    """Console-script entry point."""
    try:
        app(standalone_mode=True)
    except YzwError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
