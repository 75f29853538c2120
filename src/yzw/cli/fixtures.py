"""`yzw fixtures`: generated data sets for the kit's users (an event dump with known defects for `yzw audit`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from yzw.cli.output import command_group, out
from yzw.errors import YzwError
from yzw.fixtures.dumps import DEFECTS, generate

app = command_group("Generated data: event dumps with known defects.")


@app.command("events")
def events(
    departments: Annotated[int, typer.Option(min=1, max=999, help="Departments (each its own USCC and dept_seq).")] = 3,
    applications: Annotated[int, typer.Option(min=1, help="Applications in all (each 2–8 events).")] = 1000,
    defect_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of applications with one defect.")] = 0.05,
    seed: Annotated[int, typer.Option(help="The same seed gives the same dump.")] = 1,
    out_file: Annotated[Path, typer.Option("--out", help="The JSON Lines dump to write.")] = Path("events.jsonl"),
) -> None:
    """Write a realistic dump (events in arrival order) and, beside it, the list of its defects.

    Example: yzw fixtures events --departments 3 --applications 1000 --defect-rate 0.05 --out events.jsonl
    """
    stream, defects = generate(departments, applications, defect_rate, seed)
    answer = out_file.with_suffix(".defects.json")
    try:
        with out_file.open("w", encoding="utf-8") as handle:
            count = sum(handle.write(json.dumps(event, ensure_ascii=False) + "\n") > 0 for event in stream)
        answer.write_text(json.dumps([asdict(d) for d in defects], ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError as exc:
        raise YzwError(f"cannot write {out_file}: {exc}") from None
    kinds = ", ".join(f"{name} ({req})" for name, req in DEFECTS.items())
    out.print(f"{out_file}: {count} events of {applications} applications; {len(defects)} defects in {answer}")
    out.print(f"defect kinds: {kinds}")
