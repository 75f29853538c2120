"""Chapter 12 (robustness): no 5xx or hang for any request, text kept verbatim (ROB-01, ROB-02)."""

from __future__ import annotations

import httpx
import pytest

from yzw.client import Credentials, SignedClient
from yzw.conformance.checks.answers import answered, body_of, equal
from yzw.conformance.driver import Driver, seen
from yzw.conformance.fuzz import probe
from yzw.conformance.nodes import Nodes
from yzw.conformance.scenario import Scenario
from yzw.conformance.violations import Violation
from yzw.run.target import Target
from yzw.spec.limits import limits

EXAMPLES_PER_OPERATION = 8
LIBRARY_DOWN_CALLS = 50  # the library stays down for the whole action, retries included
SLOW_CALLS = 5  # the catalogue stays slow for a retry or two as well
SLOW_BEYOND_SECONDS = 1.5  # how much later than the per-call budget the slow catalogue answers
VERBATIM = ' 张 三 "O\'Brien" 😀 <script>1</script>; DROP TABLE x;-- '


@pytest.mark.requirement("ROB-01")
@pytest.mark.parametrize(
    "change",
    [{"materials": []}, {"form": {"备注": "\u0000\u001f" * 50}}, {"applicant": {"name": "名" * 5000}}],
    ids=["no-materials", "control-characters", "very-long-name"],
)
def test_edge_cases_never_give_5xx(scenario: Scenario, change: dict[str, object]) -> None:
    application = scenario.application()
    for key, value in change.items():
        current = application.get(key)
        application[key] = {**current, **value} if isinstance(current, dict) and isinstance(value, dict) else value
    answer = scenario.submit(application)
    if answer.status_code >= 500:
        answered(answer, (202, 400, 422), fix="answer every request 2xx or 4xx; never fail with 5xx")


@pytest.mark.requirement("ROB-01")
def test_generated_requests_never_give_5xx_or_answers_outside_their_schemas(target: Target, sut: SignedClient) -> None:
    signer = Credentials(target.app_id, target.registration.app_secret)
    desk = SignedClient(signer, timeout=limits().answer_seconds) if target.driver_url else None
    try:
        problems = probe(target.base_url, target.driver_url, sut, desk, EXAMPLES_PER_OPERATION)
    finally:
        if desk is not None:
            desk.close()
    if problems:
        raise Violation(
            f"{len(problems)} generated request(s) broke the system",
            f"2xx/4xx answers within department.yaml's schemas, none slower than {limits().answer_seconds:g} s",
            "; ".join(problems[:5]),
            "handle every input the OpenAPI allows or refuses with a 4xx error body",
            "schemathesis over specs/openapi/department.yaml",
        )


@pytest.mark.requirement("ROB-02")
def test_text_is_kept_verbatim(scenario: Scenario) -> None:
    params = scenario.window_params()
    params["applicant"]["name"] = VERBATIM
    answer, number = scenario.window_apply(params)
    if answer is not None:
        answered(answer, 200, fix="take a window application whatever its text")
    sb = scenario.pushed(str(number), "SB")
    equal(
        "the applicant's name as pushed",
        (sb.event.get("payload") or {}).get("applicant", {}).get("name"),
        VERBATIM,
        fix="store and send text unchanged: no trimming, escaping or re-encoding",
        where=f"SB of {number}",
    )


@pytest.mark.requirement("ROB-01")
def test_complete_without_the_license_library_answers_503_and_records_nothing(
    scenario: Scenario, platform: Nodes, driver: Driver
) -> None:
    if "license_type" not in scenario.item:
        pytest.skip(f"not-applicable: item {scenario.item['item_code']} issues no e-license")
    application, _, _ = scenario.case()
    number = application["application_no"]
    platform.fail_next("/license/v1/licenses", 503, LIBRARY_DOWN_CALLS, node="province")
    fix = "obtain the e-license before recording any step; when the library cannot answer, answer 503, record nothing"
    answer = seen(driver.act("complete", number, result="approved"), "answered complete")
    answered(answer, 503, "DEPENDENCY_UNAVAILABLE", fix=fix)
    after = seen(driver.act("advance", number), "advanced the case")
    step = (body_of(after) or {}).get("step")
    if after.status_code != 200 or step != "CB":
        raise Violation(
            "complete recorded steps although the license library could not be reached",
            "nothing recorded: the next advance takes CB",
            f"advance answered {after.status_code} {after.text[:200]}",
            fix,
            f"the driver's complete, then advance, on {number}",
        )


@pytest.mark.requirement("ROB-01")
def test_a_platform_call_unanswered_within_its_budget_gives_503(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    budget = limits().platform_call_seconds
    platform.slow_next("/catalog/v1/items", budget + SLOW_BEYOND_SECONDS, SLOW_CALLS)
    item = platform.create_item(scenario.new_item())  # after the slowdown: no system has it cached
    answer = raw.get(f"{target.base_url}/yzw/v1/items/{item['item_code']}")
    answered(
        answer,
        503,
        "DEPENDENCY_UNAVAILABLE",
        fix=f"give each call to the platform {budget:g} s; with no answer by then, answer 503 DEPENDENCY_UNAVAILABLE",
    )
