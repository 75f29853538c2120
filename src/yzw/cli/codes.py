"""`yzw codes`: check values against the code rules of norm §2, generate valid and invalid ones."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer

from yzw.cli.output import command_group, out, print_problem
from yzw.codes import KINDS, check, detect_kinds
from yzw.codes.calendar import promised_due_at
from yzw.errors import YzwError
from yzw.fixtures import DEFECTS, invalid_value, make_faker

app = command_group("Check and generate the norm's codes (CODE-01 … CODE-09).")

RECORD_KINDS = ("person", "legal_person", "department")


def _parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise YzwError(f"{option} takes a date as YYYY-MM-DD, got {text!r}") from None


def _known_kind(kind: str | None, allowed: tuple[str, ...] = ()) -> None:
    if kind is not None and kind not in KINDS and kind not in allowed:
        raise YzwError(f"unknown kind {kind!r}; choose one of: {', '.join([*KINDS, *allowed])}")


@app.command("check")
def check_values(
    values: Annotated[list[str], typer.Argument(help="Values to check; the kind is detected unless --kind.")],
    kind: Annotated[str | None, typer.Option("--kind", "-k", help=f"One of: {', '.join(KINDS)}.")] = None,
    channel: Annotated[str | None, typer.Option(help="application_no: the application's channel.")] = None,
    dept_seq: Annotated[str | None, typer.Option(help="application_no/case_no: the issuer's dept_seq.")] = None,
    division_code: Annotated[str | None, typer.Option(help="case_no: the registered division_code.")] = None,
    today: Annotated[str | None, typer.Option(help="Judge dates against this day (YYYY-MM-DD).")] = None,
) -> None:
    """Check each value; exit 0 when all are valid, 1 when any is not.

    Example: yzw codes check 11010519491231002X 91350100M000100Y43
    """
    _known_kind(kind)
    context: dict[str, Any] = {
        "today": _parse_date(today, "--today") if today else None,
        "channel": channel,
        "dept_seq": dept_seq,
        "division_code": division_code,
    }
    failures = sum(not _check_one(value.strip(), kind, context) for value in values)
    if len(values) > 1:
        out.print(f"{len(values) - failures} valid, {failures} invalid")
    raise typer.Exit(1 if failures else 0)


def _context_for(kind: str, context: dict[str, Any]) -> dict[str, Any]:
    accepted = {
        "id_number": {"today"},
        "application_no": {"today", "channel", "dept_seq"},
        "case_no": {"today", "dept_seq", "division_code"},
    }.get(kind, set())
    return {key: value for key, value in context.items() if key in accepted and value is not None}


def _check_one(value: str, kind: str | None, context: dict[str, Any]) -> bool:
    kinds = [kind] if kind else detect_kinds(value)
    if not kinds:
        out.print(f"[red]?[/] {value}  fits the shape of no code of the norm; name one with --kind")
        return False
    chosen = kinds[0]
    problem = check(chosen, value, **_context_for(chosen, context))
    if problem is None:
        entry = KINDS[chosen]
        out.print(f"[green]✓[/] {value}  [bold]{chosen}[/] [{entry.requirement}] {entry.title}")
        return True
    print_problem(value, chosen, problem)
    return False


@app.command("gen")
def generate(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join([*KINDS, *RECORD_KINDS])}.")],
    count: Annotated[int, typer.Option("-n", "--count", min=1, max=1_000_000, help="How many values.")] = 1,
    invalid: Annotated[str | None, typer.Option(help="Make invalid values with this defect.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for repeatable output.")] = None,
    list_defects: Annotated[bool, typer.Option(help="List the defects of KIND and exit.")] = False,
) -> None:
    """Generate valid values (or invalid ones with a named defect), one per line.

    Example: yzw codes gen application_no -n 3 --seed 7; yzw codes gen id_number --invalid check
    """
    _known_kind(kind, RECORD_KINDS)
    if list_defects:
        out.print("\n".join(DEFECTS.get(kind, {})) or f"{kind} has no invalid variants")
        return
    fake = make_faker(seed)
    for _ in range(count):
        out.print(_generate_one(fake, kind, invalid), markup=False)


def _generate_one(fake: Any, kind: str, invalid: str | None) -> str:
    if invalid is not None:
        variant = invalid_value(fake, kind, invalid)
        extra = "".join(f"\t{key}={value}" for key, value in variant.context.items())
        return variant.value + extra
    if kind in RECORD_KINDS:
        maker = {
            "person": fake.person,
            "legal_person": fake.legal_person,
            "department": fake.government_department,
        }[kind]
        return json.dumps(maker(), ensure_ascii=False)
    makers = {
        "id_number": fake.id_number,
        "uscc": fake.uscc,
        "division": fake.division_code,
        "base_code": fake.base_code,
        "item_type": lambda: fake.base_code()[:2],
        "license_type": lambda: fake.license_id()[15:36],
        "item_code": fake.item_code,
        "application_no": fake.application_no,
        "case_no": fake.case_no,
        "license_id": fake.license_id,
        "datetime": fake.timestamp,
        "date": lambda: fake.recent_date().isoformat(),
        "certificate_type": lambda: fake.random_element(["111", "113", "414", "513"]),
        "applicant_kind": lambda: fake.random_element(["2", "3", "4", "5", "6", "9"]),
        "case_kind": lambda: fake.random_element(["1", "2"]),
    }
    return str(makers[kind]())


@app.command("due")
def due(
    accepted_on: Annotated[str, typer.Argument(help="Acceptance day, YYYY-MM-DD (day 0).")],
    promised_days: Annotated[int, typer.Argument(min=0, help="Promised working days (0 for a 即办件).")],
) -> None:
    """Print ACC-04's promised_due_at on the working-day calendar.

    Example: yzw codes due 2025-09-26 5   →   2025-10-10T23:59:59+08:00
    """
    out.print(promised_due_at(_parse_date(accepted_on, "ACCEPTED_ON"), promised_days).isoformat())
