"""Chapter 6: unified application intake — taking, refusing, idempotency, licenses, window, status (APP-01…07)."""

from __future__ import annotations

import time

import pytest

from yzw.client import SignedClient
from yzw.conformance.checks.answers import answered, equal, json_answer
from yzw.conformance.checks.events import first_step
from yzw.conformance.driver import seen
from yzw.conformance.nodes import Nodes
from yzw.conformance.scenario import APPLICATIONS, TAKEN, Scenario
from yzw.conformance.violations import Violation
from yzw.fixtures.defects import invalid_value
from yzw.run.target import Target
from yzw.spec.limits import limits

EXCHANGE = "/exchange/v1/events"


def _status(sut: SignedClient, target: Target, number: str) -> tuple[int, dict[str, object]]:
    answer = sut.request("GET", f"{target.base_url}{APPLICATIONS}/{number}")
    return answer.status_code, (answer.json() if answer.status_code == 200 else {})


@pytest.mark.requirement("APP-01")
def test_a_valid_application_is_taken_with_202_within_2_s(scenario: Scenario) -> None:
    application = scenario.application()
    started = time.monotonic()
    answer = scenario.submit(application)
    seconds = time.monotonic() - started
    answered(answer, 202, fix="answer a valid application 202 {application_no, received_at, status}")
    body = json_answer(answer, "application-answer", fix="answer {application_no, received_at, status: received}")
    equal(
        "application_no in the answer",
        body["application_no"],
        application["application_no"],
        fix="echo the application_no",
        where="the 202 answer",
    )
    if seconds > limits().intake_answer_seconds:
        raise Violation(
            "intake took too long",
            f"≤ {limits().intake_answer_seconds:g} s",
            f"{seconds:.2f} s",
            "answer 202 first, work afterwards",
            "POST /yzw/v1/applications",
        )


@pytest.mark.requirement("APP-02")
def test_an_application_breaking_the_schema_is_refused_and_not_kept(
    scenario: Scenario, sut: SignedClient, target: Target
) -> None:
    application = scenario.application()
    del application["delivery"]
    answered(
        scenario.submit(application), 400, "SCHEMA_INVALID", fix="validate the application against its schema first"
    )
    status, _ = _status(sut, target, application["application_no"])
    equal(
        "the status of a refused application",
        status,
        404,
        fix="keep nothing from a refused application",
        where="GET /yzw/v1/applications/{no}",
    )


@pytest.mark.requirement("APP-03")
def test_an_applicant_with_a_bad_id_number_is_refused(scenario: Scenario) -> None:
    application = scenario.application()
    application["applicant"]["id_number"] = invalid_value(scenario.factory.fake, "id_number", "check").value
    answered(
        scenario.submit(application), 422, "APPLICANT_INVALID", fix="check the applicant's codes (CODE-01) on intake"
    )


@pytest.mark.requirement("APP-03")
def test_an_item_of_another_department_is_refused(scenario: Scenario, platform: Nodes, target: Target) -> None:
    other = next(
        (
            i
            for i in platform.catalogue()
            if i["dept"]["uscc"] != target.registration.dept_uscc and i["status"] == "active"
        ),
        None,
    )
    if other is None:
        pytest.skip("not-applicable: the catalogue holds no item of another department")
    application = {**scenario.application(), "item_code": other["item_code"], "item_version": other["version"]}
    answered(
        scenario.submit(application), 422, "ITEM_UNKNOWN", fix="take only active catalogue items of the own department"
    )


@pytest.mark.requirement("APP-04")
def test_the_same_application_again_gets_the_same_answer(scenario: Scenario) -> None:
    application = scenario.application()
    first = scenario.submit(application)
    answered(first, TAKEN, fix="take a valid application")
    time.sleep(1.1)  # a second later: a second intake would show a new received_at
    again = scenario.submit(application)
    answered(again, TAKEN, fix="answer a repeated identical application with the first answer")
    equal(
        "the repeated answer",
        again.json(),
        first.json(),
        fix="store once and answer repeats with the first answer",
        where="the second 202",
    )
    changed = {**application, "form": {"changed": "另一份表单"}}
    answered(
        scenario.submit(changed),
        409,
        "APPLICATION_CONFLICT",
        fix="refuse a different body under a known number with 409",
    )


@pytest.mark.requirement("APP-05")
def test_a_revoked_license_material_is_verified_and_not_accepted(scenario: Scenario) -> None:
    application, _, answer = scenario.accepted_with_revoked_license()
    answered(answer, TAKEN, fix="take the application; verify licenses before deciding")
    decided = first_step(scenario.steps(application["application_no"], "BZ"), ("SL", "BZ", "BYSL"))
    equal(
        "the first decision on an application with a revoked license",
        decided,
        "BZ",
        fix="verify license materials with the library and treat non-valid ones as missing",
        where=f"application {application['application_no']}",
    )


@pytest.mark.requirement("APP-06")
def test_a_window_application_is_announced_with_sb(scenario: Scenario) -> None:
    answer, number = scenario.window_apply(scenario.window_params())
    answered(
        seen(answer, "took the window application"), 200, fix="take a valid window application and answer its number"
    )
    sb = scenario.pushed(str(number), "SB")
    equal(
        "the first event of a window application",
        sb.event.get("seq"),
        1,
        fix="push SB as the first event of a window application",
        where=f"application {number}",
    )


@pytest.mark.requirement("APP-07")
def test_the_status_query_follows_the_last_event(scenario: Scenario, sut: SignedClient, target: Target) -> None:
    application, sl = scenario.accepted()
    number = application["application_no"]
    status, body = _status(sut, target, number)
    equal(
        "the status query after SL",
        (status, body.get("status"), body.get("case_no")),
        (200, "accepted", sl.event.get("case_no")),
        fix="answer the status that follows the last event, with the case_no after SL",
        where=f"GET {APPLICATIONS}/{number}",
    )
    unknown = sut.request("GET", f"{target.base_url}{APPLICATIONS}/{scenario.application()['application_no']}")
    answered(unknown, 404, "APPLICATION_UNKNOWN", fix="answer 404 APPLICATION_UNKNOWN for numbers never received")


@pytest.mark.requirement("APP-07")
def test_the_status_query_follows_a_refused_event_too(
    scenario: Scenario, sut: SignedClient, target: Target, platform: Nodes
) -> None:
    """2026.2: the status follows the last event the system produced, also one the exchange refused for good."""
    number = scenario.submitted()["application_no"]
    platform.fail_next(EXCHANGE, 422)
    scenario.driver.act("accept", number)
    pushes = platform.wait_for(lambda: platform.pushes(number), lambda found: any(p.status == 422 for p in found))
    platform.observe(pushes)
    if not any(p.status == 422 and p.event.get("step") == "SL" for p in pushes):
        pytest.skip("not-applicable: no SL was pushed for the exchange to refuse (EVT-01 judges that)")
    status, body = _status(sut, target, number)
    equal(
        "the status query after an SL the exchange refused (422)",
        (status, body.get("status")),
        (200, "accepted"),
        fix="answer the status of the last event produced, whether the exchange took it or refused it (APP-07)",
        where=f"GET {APPLICATIONS}/{number}",
    )
