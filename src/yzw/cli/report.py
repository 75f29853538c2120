"""`yzw report`: check an archived certification report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from yzw.cli.output import command_group, out
from yzw.report.document import verify as verify_report

app = command_group("Certification reports: check that an archived report is unchanged.")


@app.command("verify")
def verify(path: Annotated[Path, typer.Argument(help="A report.json written by `yzw run` or `yzw demo`.")]) -> None:
    """Recompute the report's SM3 digest; exit 0 when it matches, 2 (with the reason) when not.

    Example: yzw report verify yzw-report/report.json
    """
    document = verify_report(path)
    summary = document["summary"]
    verdict = "PASSED" if summary["passed"] else "NOT PASSED"
    out.print(f"{path}: unchanged (SM3 {document['digest']['value'][:16]}…); {document['system']['app_id']} {verdict}")
