"""`yzw demo`: the main job with no setup.

Today it shows what the kit already holds — the requirement register, the code rules checked against the
norm's published vectors, generated fixtures, and the working-day calendar. The full certification of
the embedded reference system replaces it when the conformance runner lands (see README).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import httpx
from rich.table import Table

from yzw import NORM
from yzw.cli.output import out
from yzw.client import Credentials, SignedClient
from yzw.codes import KINDS, check
from yzw.codes.calendar import default_calendar, promised_due_at
from yzw.errors import YzwError
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.mock.runner import RunningPlatform, start_platform
from yzw.register import load_register
from yzw.spec import validate
from yzw.spec.events import first_violation
from yzw.spec.xml import to_xml

DEMO_DEPT = "11330106002482061L"  # 杭州市西湖区市场监督管理局 of mocks/catalog.yaml
DEMO_ITEM = "11330106002482061L4010000123000"  # 食品经营许可

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
    failures = _vectors() + _fixtures() + _due_dates() + _messages() + _platform_round_trip()
    out.rule("result")
    if failures:
        raise YzwError(f"{failures} demo check(s) failed; the kit's data or code is damaged (run `make test`)")
    out.print(
        "All published vectors hold and the mock platform took a case end to end. The full certification run "
        "(mock platform + reference system) arrives with `yzw run`; see README."
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


def _platform_round_trip() -> int:
    """Start the mock platform, register a generated system, and take one case through it."""
    running = start_platform(port_base=0)
    factory = MessageFactory(make_faker(seed=2026))
    factory.dept = {**factory.dept, "uscc": DEMO_DEPT, "dept_seq": "021", "division_code": "330106"}
    factory.item_code = DEMO_ITEM
    record = {**factory.sut(), "dept_uscc": DEMO_DEPT, "dept_seq": "021", "items": [DEMO_ITEM]}
    running.platform.register(record)
    client = SignedClient(
        Credentials(
            record["app_id"],
            record["app_secret"],
            scope="exchange:write catalog:read",
            token_url=running.urls["province"] + "/idp/v1/oauth/token",
        )
    )
    rows: list[tuple[str, str, bool]] = []
    try:
        items = client.request("GET", running.urls["province"] + "/catalog/v1/items", params={"dept_uscc": DEMO_DEPT})
        rows.append(
            ("token and catalogue (SIG-03, CAT-01)", f"{len(items.json().get('items', []))} items", items.is_success)
        )
        application, events = factory.case_history(channel="window")
        pushed = [client.request("POST", running.urls["county"] + "/exchange/v1/events", json=e) for e in events]
        rows.append(
            (
                "events pushed to the county exchange (EVT-01)",
                f"{len(events)} events",
                all(p.status_code == 200 for p in pushed),
            )
        )
        again = client.request("POST", running.urls["county"] + "/exchange/v1/events", json=events[0])
        rows.append(("the same event again (EVT-07)", "duplicate acknowledged", again.json().get("duplicate") is True))
        relayed = _wait_for_relay(running, application["application_no"], len(events))
        rows.append(
            ("relayed county → city → province (EVT-09)", f"{relayed} events at the province", relayed == len(events))
        )
    finally:
        client.close()
        running.stop()
    table = Table("step", "result", "verdict", title="The mock platform, one case end to end")
    for step, result, ok in rows:
        table.add_row(step, result, "ok" if ok else "[red]failed[/]")
    out.print(table)
    return sum(not ok for _, _, ok in rows)


def _wait_for_relay(running: RunningPlatform, application_no: str, expected: int) -> int:
    deadline = time.monotonic() + 10
    count = 0
    while time.monotonic() < deadline:
        answer = httpx.get(running.urls["province"] + "/_mock/events", params={"application_no": application_no})
        count = len(answer.json()["events"])
        if count >= expected:
            break
        time.sleep(0.1)
    return count
