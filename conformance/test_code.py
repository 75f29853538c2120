"""Chapter 2: codes — the numbers a system issues and the codes it takes at its own window (CODE-01…09)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from yzw.conformance.checks.answers import answered
from yzw.conformance.checks.codes import code
from yzw.conformance.checks.events import times_in_zone
from yzw.conformance.driver import Driver, seen
from yzw.conformance.nodes import Nodes
from yzw.conformance.scenario import Scenario
from yzw.fixtures.defects import invalid_value
from yzw.run.target import Target

REFUSE_AT_WINDOW = "check the code when the clerk types it and refuse the application with 422 naming the field"


def _refused_at_window(scenario: Scenario, where: str, value: str, applicant: str = "person") -> None:
    params = scenario.window_params(applicant)
    params["applicant"][where] = value
    answer, _ = scenario.window_apply(params)
    answered(seen(answer, "refused the window application"), (400, 422), fix=REFUSE_AT_WINDOW)


@pytest.mark.requirement("CODE-01")
def test_window_application_with_a_bad_id_number_is_refused(scenario: Scenario) -> None:
    bad = invalid_value(scenario.factory.fake, "id_number", "check").value
    _refused_at_window(scenario, "id_number", bad)


@pytest.mark.requirement("CODE-02")
def test_window_application_with_a_bad_credit_code_is_refused(scenario: Scenario) -> None:
    bad = invalid_value(scenario.factory.fake, "uscc", "check").value
    _refused_at_window(scenario, "uscc", bad, applicant="legal")


@pytest.mark.requirement("CODE-09")
def test_window_application_with_an_unknown_certificate_type_is_refused(scenario: Scenario) -> None:
    _refused_at_window(scenario, "id_type", "112")


@pytest.mark.requirement("CODE-04")
def test_events_carry_the_items_implementation_code(scenario: Scenario) -> None:
    _, sl = scenario.accepted()
    code("item_code", sl.event.get("item_code"), "the item_code of the SL event")


@pytest.mark.requirement("CODE-05")
def test_window_application_numbers_carry_channel_and_dept_seq(scenario: Scenario, target: Target) -> None:
    answer, number = scenario.window_apply(scenario.window_params())
    answered(seen(answer, "issued an application_no"), 200, fix="take a valid window application (APP-06)")
    code(
        "application_no",
        number,
        "the application_no the system issued",
        channel="window",
        dept_seq=target.registration.dept_seq,
    )


@pytest.mark.requirement("CODE-06")
def test_case_numbers_follow_the_acceptance_number_rule(scenario: Scenario, target: Target) -> None:
    _, _, case_no = scenario.case()
    registration = target.registration
    code(
        "case_no",
        case_no,
        "the case_no of the SL event",
        division_code=registration.division_code,
        dept_seq=registration.dept_seq,
    )


@pytest.mark.requirement("CODE-07")
def test_e_license_identifiers_follow_gb_t_36904(scenario: Scenario, platform: Nodes, driver: Driver) -> None:
    if "license_type" not in scenario.item:
        pytest.skip(f"not-applicable: item {scenario.item['item_code']} issues no e-license")
    application, _, _ = scenario.case()
    driver.act("complete", application["application_no"], result="approved")
    entries = platform.wait_for(platform.issued_licenses, bool)
    if not entries:
        scenario.pushed(application["application_no"], "BJ")  # nothing issued: say what did not happen
    for entry in entries:
        platform.evidence.observed(entry, platform.target.province_url)
        code("license_id", _body(entry).get("license_id"), "the license the system issued to the library")


def _body(entry: dict[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(entry.get("request") or "{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@pytest.mark.requirement("CODE-08")
def test_event_times_are_rfc3339_in_beijing_time(scenario: Scenario) -> None:
    application, _ = scenario.accepted()
    for path, value, push in times_in_zone(scenario.steps(application["application_no"], "SL")):
        code("datetime", value, f"{path} of event {push.event.get('step')}")
