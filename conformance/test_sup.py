"""Chapter 10 (supervision, evaluation): card notices answered with one FK; evaluations and rectifications pushed."""

from __future__ import annotations

import json

import httpx
import pytest

from yzw.client import SignedClient
from yzw.conformance.checks.answers import answered, equal
from yzw.conformance.driver import Driver, seen
from yzw.conformance.nodes import Nodes, distinct
from yzw.conformance.scenario import Scenario
from yzw.conformance.violations import Violation
from yzw.run.target import Target
from yzw.spec.limits import hours, limits

NOTICES = "/yzw/v1/supervision/notices"


@pytest.mark.requirement("SUP-02")
def test_a_card_notice_gets_one_fk_even_when_repeated(
    scenario: Scenario, sut: SignedClient, target: Target, platform: Nodes
) -> None:
    application, _, case_no = scenario.case()
    notice = scenario.factory.notice(case_no)
    for _ in range(2):
        answered(
            sut.request("POST", target.base_url + NOTICES, json=notice), 200, fix="answer a signed card notice 200"
        )
    number = application["application_no"]
    pushes = platform.wait_for(
        lambda: distinct(platform.pushes(number)),
        lambda found: sum(p.event.get("step") == "FK" for p in found) >= 2,
        2.0,
    )
    platform.observe(pushes)
    equal(
        "FK events for one notice sent twice",
        sum(p.event.get("step") == "FK" for p in pushes),
        1,
        fix="push one FK per notice_id; ignore repeats",
        where=f"application {number}",
    )
    unknown = scenario.factory.notice(
        scenario.factory.fake.case_no(target.registration.division_code, target.registration.dept_seq)
    )
    answered(
        sut.request("POST", target.base_url + NOTICES, json=unknown),
        404,
        "CASE_UNKNOWN",
        fix="answer 404 CASE_UNKNOWN for a case the system does not hold",
    )


def _pushed_to(platform: Nodes, path: str, case_no: str) -> list[dict[str, object]]:
    entries = platform.wait_for(
        lambda: [e for e in platform.traffic("exchange", path, "POST") if case_no in str(e.get("request"))], bool
    )
    for entry in entries:
        platform.evidence.observed(entry, platform.target.exchange_url)
    return entries


def _evaluated(scenario: Scenario, driver: Driver, level: int, **channel: str) -> tuple[str, dict[str, object]]:
    _, _, case_no = scenario.case()
    answer = seen(
        driver.act("evaluate", case_no=case_no, level=level, comment="窗口服务评价", **channel), "took the evaluation"
    )
    answered(answer, 200, fix="take a window evaluation (norm §11 evaluate)")
    return case_no, answer.json()


def _rectify(driver: Driver, case_no: str, evaluation: dict[str, object]) -> httpx.Response:
    return seen(
        driver.act("rectify", case_no=case_no, evaluation_id=evaluation.get("evaluation_id"), action="已回访并整改"),
        "recorded the rectification",
    )


def _rectifications_of(platform: Nodes, evaluation: dict[str, object]) -> list[dict[str, object]]:
    """The rectifications the exchange took for one evaluation (duplicates of one record left out)."""
    path, wanted = "/exchange/v1/rectifications", str(evaluation.get("evaluation_id"))
    entries = [
        e
        for e in platform.traffic("exchange", path, "POST")
        if wanted in str(e.get("request")) and e.get("status") == 200 and '"duplicate":true' not in str(e["response"])
    ]
    for entry in entries:
        platform.evidence.observed(entry, platform.target.exchange_url)
    return entries


@pytest.mark.requirement("EVAL-01")
def test_a_window_evaluation_is_pushed(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    case_no, _ = _evaluated(scenario, driver, 5)
    if not _pushed_to(platform, "/exchange/v1/evaluations", case_no):
        raise Violation(
            "the window evaluation was not pushed",
            "POST /exchange/v1/evaluations with the case_no",
            "nothing",
            f"push every window evaluation to the exchange within {hours(limits().evaluation_deadline_seconds)}",
            f"case {case_no}",
        )


@pytest.mark.requirement("EVAL-01")
def test_an_evaluation_carries_the_channel_it_was_taken_on(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    case_no, evaluation = _evaluated(scenario, driver, 4, channel="terminal")
    wanted = str(evaluation.get("evaluation_id"))
    pushed = [json.loads(str(e["request"])) for e in _pushed_to(platform, "/exchange/v1/evaluations", wanted)]
    equal(
        "the pushed evaluation's channel",
        pushed[0].get("channel") if pushed else None,
        "terminal",
        fix="push the channel the evaluation was taken on (the evaluate action's params.channel; window by default)",
        where=f"POST /exchange/v1/evaluations for case {case_no}",
    )


@pytest.mark.requirement("EVAL-02")
def test_a_rectification_of_a_bad_review_is_pushed(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    case_no, evaluation = _evaluated(scenario, driver, 1)
    answer = _rectify(driver, case_no, evaluation)
    answered(answer, 200, fix="take the clerk's rectification record (norm §11 rectify)")
    if not _pushed_to(platform, "/exchange/v1/rectifications", case_no):
        raise Violation(
            "the rectification was not pushed",
            "POST /exchange/v1/rectifications with the case_no",
            "nothing",
            "push the rectification record when the clerk records it",
            f"case {case_no}",
        )
    again = _rectify(driver, case_no, evaluation)
    answered(again, 409, "STATE_INVALID", fix="take one rectification per bad review; refuse a second (norm §11)")
    equal(
        "rectifications the exchange took for one bad review",
        len(_rectifications_of(platform, evaluation)),
        1,
        fix="push one rectification per bad review",
        where=f"POST /exchange/v1/rectifications for case {case_no}",
    )


@pytest.mark.requirement("EVAL-02")
def test_a_good_review_gets_no_rectification(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    case_no, evaluation = _evaluated(scenario, driver, 5)
    answered(
        _rectify(driver, case_no, evaluation),
        409,
        "STATE_INVALID",
        fix="refuse rectify for a level 3–5 review (norm §11); only levels 1 and 2 get a rectification",
    )
    equal(
        "rectifications the exchange took for a level 5 review",
        len(_rectifications_of(platform, evaluation)),
        0,
        fix="push rectifications for bad reviews (level 1 or 2) only",
        where=f"POST /exchange/v1/rectifications for case {case_no}",
    )
