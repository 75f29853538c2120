"""`yzw demo`: the main job with no setup.

Today it shows what the kit already holds — the requirement register, the code rules checked against the
norm's published vectors, generated fixtures, and the working-day calendar. The full certification of
the embedded reference system replaces it when the conformance runner lands (see README).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from rich.table import Table

from yzw import NORM
from yzw.cli.output import out
from yzw.codes import KINDS, check
from yzw.codes.calendar import default_calendar, promised_due_at
from yzw.errors import YzwError
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.register import load_register
from yzw.spec import validate
from yzw.spec.events import first_violation
from yzw.spec.xml import to_xml

# The norm's published vectors (§2): value, kind.
VECTORS = (
    ("11010519491231002X", "id_number"),
    ("91350100M000100Y43", "uscc"),
    ("1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0", "license_id"),
)
# CODE-08: acceptance day, promised working days, due day.
DUE_VECTORS = (
    ("2025-09-26", 5, "2025-10-10"),
    ("2026-02-13", 3, "2026-02-25"),
    ("2025-12-31", 1, "2026-01-04"),
)


def demo() -> None:
    """Run the main job: register summary, code-rule vectors, fixtures, working-day calendar."""
    register = load_register()
    areas = Counter(req.area for req in register.values())
    out.rule(f"{NORM}: {len(register)} requirements")
    out.print(", ".join(f"{area} {count}" for area, count in areas.items()))
    failures = _vectors() + _fixtures() + _due_dates() + _messages()
    out.rule("result")
    if failures:
        raise YzwError(f"{failures} demo check(s) failed; the kit's data or code is damaged (run `make test`)")
    out.print(
        "All published vectors hold. The full certification run (mock platform + reference system) "
        "arrives with `yzw run`; see README."
    )


def _vectors() -> int:
    table = Table("value", "kind", "rule", "verdict", title="The norm's published vectors")
    failures = 0
    for value, kind in VECTORS:
        problem = check(kind, value)
        failures += problem is not None
        table.add_row(value, kind, KINDS[kind].requirement, "valid" if problem is None else problem.message)
    out.print(table)
    return failures


def _fixtures() -> int:
    fake = make_faker(seed=2026)
    samples = {
        "id_number": fake.id_number(),
        "uscc": fake.uscc(),
        "application_no": fake.application_no(),
        "case_no": fake.case_no(),
        "item_code": fake.item_code(),
        "license_id": fake.license_id(),
    }
    table = Table("kind", "generated (seed 2026)", "verdict", title="Fixtures validate against the rules")
    failures = 0
    for kind, value in samples.items():
        problem = check(kind, value)
        failures += problem is not None
        table.add_row(kind, value, "valid" if problem is None else problem.message)
    out.print(table)
    return failures


def _due_dates() -> int:
    calendar = default_calendar()
    table = Table(
        "accepted",
        "days",
        "promised_due_at",
        "expected",
        title=(f"ACC-04 due dates (calendar {calendar.years[0]}–{calendar.years[-1]})"),
    )
    failures = 0
    for accepted, days, expected in DUE_VECTORS:
        due = promised_due_at(dt.date.fromisoformat(accepted), days)
        failures += due.date().isoformat() != expected
        table.add_row(accepted, str(days), due.isoformat(), expected)
    out.print(table)
    return failures


def _messages() -> int:
    application, events = MessageFactory(make_faker(seed=2026)).case_history()
    table = Table("message", "JSON", "XML", title=f"A generated case {application['application_no']}, judged")
    failures = 0
    for kind, document in [("application", application), *(("event", e) for e in events)]:
        as_json, as_xml = validate(kind, document), validate(kind, to_xml(kind, document))
        failures += bool(as_json) + bool(as_xml)
        label = kind if kind == "application" else f"event {document['seq']} {document['step']}"
        table.add_row(label, "valid" if not as_json else as_json[0].render(), "valid" if not as_xml else "invalid")
    violation = first_violation(events, {application["application_no"]: application["submitted_at"]})
    failures += violation is not None
    table.add_row("order and times (EVT-03/04)", "in order" if violation is None else violation.render(), "")
    out.print(table)
    return failures
