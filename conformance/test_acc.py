"""Chapter 7: acceptance — one first decision, the case_no, the SL payload and due time, BZ, refusal (ACC-01…06)."""

from __future__ import annotations

import datetime as dt

import pytest

from yzw.client import SignedClient
from yzw.codes.calendar import promised_due_at
from yzw.conformance.checks.answers import answered, equal
from yzw.conformance.checks.events import attributed_to, field_equal
from yzw.conformance.driver import Driver, seen
from yzw.conformance.nodes import Nodes, distinct
from yzw.conformance.scenario import APPLICATIONS, Scenario
from yzw.conformance.violations import Violation
from yzw.run.target import Target

HOLIDAY_EVE = dt.date(2026, 9, 29)  # day 0 two days before the National Day holiday (CODE-08 calendar)
REASON = "申请事项不属于本机关职权范围"


@pytest.mark.requirement("ACC-01")
def test_a_refusal_needs_a_reason_and_is_pushed_as_bysl(scenario: Scenario, driver: Driver) -> None:
    application = scenario.submitted()
    number = application["application_no"]
    bare = driver.act("refuse", number)
    answered(seen(bare, "refused without a reason"), 422, fix="refuse only with a reason (BYSL needs one)")
    driver.act("refuse", number, reason=REASON)
    bysl = scenario.pushed(number, "BYSL")
    if not str((bysl.event.get("payload") or {}).get("reason", "")).strip():
        raise Violation(
            "BYSL carries no reason",
            "payload.reason: the clerk's reason",
            bysl.event.get("payload"),
            "send the refusal's reason",
            f"BYSL of {number}",
        )


@pytest.mark.requirement("ACC-02")
def test_acceptance_assigns_a_case_no(scenario: Scenario, driver: Driver) -> None:
    application = scenario.submitted()
    answer = driver.act("accept", application["application_no"])
    sl = scenario.pushed(application["application_no"], "SL")
    if not sl.event.get("case_no"):
        raise Violation(
            "SL carries no case_no",
            "the case_no assigned at acceptance (CODE-06)",
            sl.event,
            "assign the case_no when accepting and send it with SL",
            f"SL of {application['application_no']}",
        )
    if answer is not None and answer.status_code == 200 and answer.json().get("case_no") != sl.event["case_no"]:
        raise Violation(
            "the driver and SL name different case numbers",
            sl.event["case_no"],
            answer.json().get("case_no"),
            "assign one case_no per case",
            "driver answer vs SL event",
        )


@pytest.mark.requirement("ACC-03")
def test_the_sl_payload_carries_the_catalogues_days(scenario: Scenario) -> None:
    application, sl = scenario.accepted()
    fix = "copy legal_days and promised_days from the catalogue's current version of the item"
    field_equal(sl, "payload.legal_days", scenario.item["legal_days"], fix=fix)
    field_equal(sl, "payload.promised_days", scenario.item["promised_days"], fix=fix)
    field_equal(
        sl, "payload.application_no", application["application_no"], fix="name the application in the SL payload"
    )
    field_equal(sl, "payload.case_no", sl.event.get("case_no"), fix="repeat the case_no in the SL payload")


@pytest.mark.requirement("ACC-04")
def test_the_promised_due_time_counts_working_days(scenario: Scenario, driver: Driver) -> None:
    application = scenario.submitted()
    driver.act("accept", application["application_no"], calendar_date=HOLIDAY_EVE.isoformat())
    sl = scenario.pushed(application["application_no"], "SL")
    due = promised_due_at(HOLIDAY_EVE, int(scenario.item["promised_days"]))
    field_equal(
        sl,
        "payload.promised_due_at",
        due.isoformat(),
        fix="count working days on the State Council calendar (holidays and adjusted days), day 0 = the acceptance day",
    )


@pytest.mark.requirement("ACC-05")
def test_one_notice_lists_every_missing_material_then_supplements_are_decided(
    scenario: Scenario, driver: Driver, sut: SignedClient, target: Target
) -> None:
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    if len(files) < 2:
        pytest.skip("not-applicable: the item has fewer than two required file materials")
    application = scenario.submitted(omit=tuple(files[:2]))
    number = application["application_no"]
    driver.act("accept", number)
    bz = scenario.pushed(number, "BZ")
    listed = sorted(m.get("material_code") for m in (bz.event.get("payload") or {}).get("missing", []))
    equal(
        "the materials the BZ notice lists",
        listed,
        sorted(files[:2]),
        fix="list every missing or invalid material in one BZ",
        where=f"BZ of {number}",
    )
    more = {"materials": [m for m in scenario.application()["materials"] if m["material_code"] in files[:2]]}
    answered(
        sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json=more),
        200,
        fix="take supplements with 200",
    )
    scenario.pushed(number, "BZJ")
    driver.act("accept", number)
    scenario.pushed(number, "SL")


@pytest.mark.requirement("ACC-06")
def test_a_refused_application_ends_without_a_case_no(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    application = scenario.submitted()
    number = application["application_no"]
    driver.act("refuse", number, reason=REASON)
    attributed_to([scenario.pushed(number, "BYSL")], "ACC-06")  # a case_no on BYSL is ACC-06's (norm, key words)
    later = driver.act("accept", number)
    if later is not None:
        answered(later, 409, "STATE_INVALID", fix="allow no further step after BYSL")
    pushes = platform.wait_for(lambda: platform.pushes(number), lambda found: len(found) > 1, 1.0)
    attributed_to(distinct(pushes), "ACC-06")
    steps = [p.event.get("step") for p in distinct(pushes)]
    equal(
        "the events of a refused application",
        steps,
        ["BYSL"],
        fix="push nothing after BYSL",
        where=f"application {number}",
    )
