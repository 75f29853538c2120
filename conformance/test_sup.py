"""Chapter 10 (supervision, evaluation): card notices answered with one FK; evaluations and rectifications pushed."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from yzw.client import SignedClient
from yzw.conformance.checks.answers import answered, body_of, equal
from yzw.conformance.checks.events import CONTENT_REFUSALS
from yzw.conformance.driver import Driver, seen
from yzw.conformance.nodes import Nodes, distinct
from yzw.conformance.scenario import Scenario
from yzw.conformance.violations import Violation
from yzw.run.target import Target
from yzw.spec.limits import hours, limits

NOTICES = "/yzw/v1/supervision/notices"
LEVELS = (5, 4, 3, 2, 1)  # 非常满意 … 非常不满意
EMPTY_COMMENT_LEVEL = 3


@pytest.mark.requirement(
    "SUP-02",
    clauses=[
        "EVT-02.26",
        "SUP-02.1",
        "SUP-02.2",
        "SUP-02.3",
        "SUP-02.4",
        "SUP-02.5",
        "SUP-02.6",
        "SUP-02.7",
        "SUP-02.8",
        "SUP-02.9",
    ],
)
def test_a_card_notice_gets_one_fk_even_when_repeated(
    scenario: Scenario, sut: SignedClient, target: Target, platform: Nodes
) -> None:
    """A yellow card sent twice, a red card and a second yellow card (a new notice_id) on one case: each answered
    200, one FK per notice_id (not per card), each FK naming its notice and explaining."""
    application, _, case_no = scenario.case()
    yellow = scenario.factory.notice(case_no)
    red = {**scenario.factory.notice(case_no), "card": "red"}
    yellow_again = scenario.factory.notice(case_no)  # a yellow card raised again: a notice of its own
    for notice in (yellow, yellow, red, yellow_again):
        answered(
            sut.request("POST", target.base_url + NOTICES, json=notice),
            200,
            fix=f"answer a signed {notice['card']}-card notice 200, a repeated one too",
        )
    number = application["application_no"]
    pushes = platform.wait_for(
        lambda: distinct(platform.pushes(number)),
        lambda found: sum(p.event.get("step") == "FK" for p in found) >= 4,  # a repeat's FK is waited for
        2.0,
    )
    platform.observe(pushes)
    fks = [p.event.get("payload") for p in pushes if p.event.get("step") == "FK"]
    fks = [payload for payload in fks if isinstance(payload, dict)]  # no payload object: EVT-02's
    unexplained = [payload for payload in fks if not isinstance(payload.get("explanation"), str)]
    if unexplained:
        raise Violation(
            "an FK carries no explanation",
            'payload {"notice_id", "explanation"} (EVT-02, SUP-02)',
            unexplained[0],
            "explain in payload.explanation what is done about the card",
            f"FK of application {number}",
        )
    held = next((p for p in pushes if not p.accepted and p.status in CONTENT_REFUSALS), None)
    if held is not None:  # an FK without a payload object, or another member wrong, is EVT-02's (its schema)
        pytest.skip(
            f"not-applicable: the exchange refused the {held.event.get('step')} for its content ({held.status}), so "
            "the FKs after it rightly wait (EVT-07); EVT-02 judges the event"
        )
    equal(
        "the notice_id of each FK (a yellow card sent twice, a red card, a second yellow card)",
        sorted(str(payload.get("notice_id")) for payload in fks),
        sorted([yellow["notice_id"], red["notice_id"], yellow_again["notice_id"]]),
        fix="push one FK per notice_id, yellow or red, with payload.notice_id the notice's; ignore repeats",
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


def _evaluated(
    scenario: Scenario, driver: Driver, level: int, judged: bool = True, **channel: str
) -> tuple[str, dict[str, object]]:
    _, _, case_no = scenario.case()
    return case_no, _evaluation(driver, case_no, level, judged, **channel)


def _evaluation(driver: Driver, case_no: str, level: int, judged: bool = True, **channel: str) -> dict[str, object]:
    """An evaluation taken through the driver; when only a rectification is `judged` (EVAL-02), one not taken
    leaves nothing to judge (EVAL-01 judges the evaluate answer)."""
    answer = seen(
        driver.act("evaluate", case_no=case_no, level=level, comment="窗口服务评价", **channel), "took the evaluation"
    )
    if not judged and answer.status_code != 200:
        pytest.skip(f"not-applicable: the system took no level {level} evaluation to rectify (see EVAL-01)")
    answered(answer, 200, fix="take a window evaluation (norm §11 evaluate)")
    body = body_of(answer)
    return body if isinstance(body, dict) else {}


def _state_before_params(driver: Driver, case_no: str, evaluation: dict[str, object], what: str) -> None:
    """§11: the state is judged before the params, so an empty action changes nothing to the 409."""
    answered(
        _rectify(driver, case_no, evaluation, action=""),
        409,
        "STATE_INVALID",
        fix=f"judge the review's state before the params: {what} is 409 STATE_INVALID, its action empty or not "
        "(norm §11)",
    )


def _rectify(
    driver: Driver, case_no: str, evaluation: dict[str, object], action: str = "已回访并整改"
) -> httpx.Response:
    return seen(
        driver.act("rectify", case_no=case_no, evaluation_id=evaluation.get("evaluation_id"), action=action),
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


@pytest.mark.requirement(
    "EVAL-01",
    clauses=[
        "EVAL-01.1",
        "EVAL-01.2",
        "EVAL-01.3",
        "EVAL-01.4",
        "EVAL-01.5",
        "EVAL-01.6",
        "EVAL-01.7",
        "EVAL-01.8",
        "EVAL-01.9",
        "EVAL-01.10",
        "EVAL-01.12",
        "EVAL-01.13",
        "EVAL-01.14",
        "EVAL-01.16",
        "EVAL-01.17",
        "EVAL-01.18",
    ],
)
def test_a_window_evaluation_is_pushed(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    """One case evaluated at every level 5 … 1, without a channel (window by default), one with an empty
    comment: each answered {ok, case_no, evaluation_id} with a fresh UUID, each pushed as taken."""
    _, _, case_no = scenario.case()
    taken: dict[str, tuple[int, str]] = {}
    for level in LEVELS:
        comment = "" if level == EMPTY_COMMENT_LEVEL else "窗口服务评价"
        answer = seen(driver.act("evaluate", case_no=case_no, level=level, comment=comment), "took the evaluation")
        answered(answer, 200, fix=f"take a window evaluation of level {level} (norm §11 evaluate)")
        body = body_of(answer)
        evaluation_id = str(body.get("evaluation_id")) if isinstance(body, dict) else ""
        if not isinstance(body, dict) or body.get("ok") is not True or body.get("case_no") != case_no:
            raise Violation(
                "the evaluate answer is not the norm's",
                f'{{"ok": true, "case_no": "{case_no}", "evaluation_id": <UUID>}} (norm §11 evaluate)',
                answer.text[:200],
                "answer evaluate with ok true, the case_no evaluated and the evaluation_id pushed",
                f"evaluate level {level} of case {case_no}",
            )
        if not _is_uuid(evaluation_id) or evaluation_id in taken:
            raise Violation(
                "an evaluation did not get an evaluation_id of its own",
                "a fresh UUID per evaluation (EVAL-01), never one reused for another evaluation",
                f"{evaluation_id!r} after {sorted(taken)}",
                "issue a new UUID for every evaluation taken",
                f"evaluate level {level} of case {case_no}",
            )
        taken[evaluation_id] = (level, comment)
    entries = platform.wait_for(  # found by evaluation_id: what each names (its case_no too) is judged below
        lambda: [(e, b) for e, b in _evaluations_of(platform, None) if str(b.get("evaluation_id")) in taken],
        lambda found: set(taken) <= {str(b.get("evaluation_id")) for e, b in found if _took(e)},
    )
    for entry, _ in entries:
        platform.evidence.observed(entry, platform.target.exchange_url)
    pushed = {str(b.get("evaluation_id")): (b, e) for e, b in entries}  # the last attempt of each
    for evaluation_id, (level, comment) in taken.items():
        if evaluation_id not in pushed:
            raise Violation(
                "the window evaluation was not pushed",
                f"POST /exchange/v1/evaluations with evaluation_id {evaluation_id}",
                f"nothing within {platform.wait_seconds:g} s",
                f"push every window evaluation to the exchange within {hours(limits().evaluation_deadline_seconds)}",
                f"level {level} of case {case_no}",
            )
        body, entry = pushed[evaluation_id]
        equal(
            "the pushed evaluation (case_no, level, comment, channel)",
            (body.get("case_no"), body.get("level"), body.get("comment"), body.get("channel")),
            (case_no, level, comment, "window"),
            fix="push the case_no evaluated, the level and comment as taken (5 非常满意 … 1 非常不满意, an empty "
            "comment as ''), and "
            "channel window when the evaluate params name none",
            where=f"POST /exchange/v1/evaluations {evaluation_id}",
        )
        if not _took(entry):
            raise Violation(
                "the exchange refused a window evaluation",
                "2xx from the exchange",
                f"{entry.get('status')} {str(entry.get('response'))[:200]}",
                "push evaluations as EVAL-01 defines them; the exchange's answer names the rule broken",
                f"POST /exchange/v1/evaluations {evaluation_id}",
            )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _took(entry: dict[str, object]) -> bool:
    return 200 <= int(str(entry.get("status") or 0)) < 300


def _evaluations_of(platform: Nodes, case_no: str | None) -> list[tuple[dict[str, object], dict[str, object]]]:
    """The evaluations pushed for a case (None: for any case), each with its parsed body."""
    found = []
    for entry in platform.traffic("exchange", "/exchange/v1/evaluations", "POST"):
        try:
            body = json.loads(str(entry.get("request")))
        except ValueError:
            continue
        if isinstance(body, dict) and case_no in (None, body.get("case_no")):
            found.append((entry, body))
    return found


@pytest.mark.requirement("EVAL-01", clauses=["EVAL-01.2", "EVAL-01.11", "EVAL-01.16", "EVAL-01.19"])
def test_an_evaluation_carries_the_channel_it_was_taken_on(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    """Level 4 on the terminal, pushed with that channel; a level 6, 0 or -1 and a channel fax are bad params
    (422)."""
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
    levels = [(f"level {level}", {"level": level}) for level in (6, 0, -1)]  # 5 非常满意 … 1 非常不满意, no other
    for bad, params in (*levels, ("channel fax", {"level": 4, "channel": "fax"})):
        answer = seen(driver.act("evaluate", case_no=case_no, comment="窗口服务评价", **params), "took it")
        answered(answer, 422, fix=f"refuse evaluate with {bad}: 422 (levels 1–5, channels as in APP-01; norm §11)")


@pytest.mark.requirement(
    "EVAL-02",
    clauses=[
        "CODE-08.5",
        "EVAL-01.5",
        "EVAL-02.1",
        "EVAL-02.2",
        "EVAL-02.3",
        "EVAL-02.4",
        "EVAL-02.5",
        "EVAL-02.6",
        "EVAL-02.7",
        "EVAL-02.8",
        "EVAL-02.12",
        "EVAL-02.13",
        "EVAL-02.14",
        "EVAL-02.15",
        "EVAL-02.17",
    ],
)
def test_a_rectification_of_a_bad_review_is_pushed(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    """Bad reviews of level 1 and 2 on one case: rectify with an empty action (422 PARAMS_INVALID) and under
    another case (422 EVALUATION_UNKNOWN) is refused; then each gets one rectification, answered {ok, case_no,
    evaluation_id}; a second one is 409 STATE_INVALID."""
    case_no, worst = _evaluated(scenario, driver, 1, judged=False)
    bad = _evaluation(driver, case_no, 2, judged=False)
    _, _, other_case = scenario.case()
    answered(
        _rectify(driver, case_no, worst, action=""),
        422,
        "PARAMS_INVALID",
        fix="refuse rectify with an empty params.action: 422 PARAMS_INVALID, nothing pushed (norm §11)",
    )
    answered(
        _rectify(driver, other_case, worst),
        422,
        "EVALUATION_UNKNOWN",
        fix="refuse rectify for an evaluation not of the case named: 422 EVALUATION_UNKNOWN (norm §11)",
    )
    for evaluation in (worst, bad):
        answer = _rectify(driver, case_no, evaluation)
        answered(answer, 200, fix="take the clerk's rectification record of a level 1 or 2 review (norm §11 rectify)")
        equal(
            "the rectify answer (ok, case_no, evaluation_id)",
            _members(answer, "ok", "case_no", "evaluation_id"),
            (True, case_no, evaluation.get("evaluation_id")),
            fix="answer rectify with ok true, the case_no and the evaluation_id rectified (norm §11)",
            where=f"rectify of case {case_no}",
        )
    if not _pushed_to(platform, "/exchange/v1/rectifications", case_no):
        raise Violation(
            "the rectification was not pushed",
            "POST /exchange/v1/rectifications with the case_no",
            "nothing",
            "push the rectification record when the clerk records it",
            f"case {case_no}",
        )
    again = _rectify(driver, case_no, worst)
    answered(again, 409, "STATE_INVALID", fix="take one rectification per bad review; refuse a second (norm §11)")
    _state_before_params(driver, case_no, worst, "a second rectify")
    counts = platform.wait_for(
        lambda: [len(_rectifications_of(platform, e)) for e in (worst, bad)], lambda found: found == [1, 1]
    )
    equal(
        "rectifications the exchange took for a level 1 and a level 2 review",
        counts,
        [1, 1],
        fix="push one rectification per bad review (level 1 or 2), none for a refused rectify",
        where=f"POST /exchange/v1/rectifications for case {case_no}",
    )


@pytest.mark.requirement("EVAL-02", clauses=["EVAL-02.9", "EVAL-02.10", "EVAL-02.11", "EVAL-02.14", "EVAL-02.16"])
def test_a_good_review_gets_no_rectification(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    """Levels 5, 4 and 3 get no rectification (409 STATE_INVALID), also with an empty action (the state before
    the params); a level 5 review named under another case is refused as either (422 EVALUATION_UNKNOWN or 409
    STATE_INVALID: the norm orders neither first)."""
    case_no, best = _evaluated(scenario, driver, 5, judged=False)
    _, _, other_case = scenario.case()
    _state_before_params(driver, case_no, best, "rectify of a level 5 review")
    crossed = _rectify(driver, other_case, best)
    body = body_of(crossed)
    as_state = (crossed.status_code, body.get("code") if isinstance(body, dict) else None) == (409, "STATE_INVALID")
    expected = (409, "STATE_INVALID") if as_state else (422, "EVALUATION_UNKNOWN")
    answered(  # both errors apply and the norm orders neither first: either is the norm's
        crossed,
        *expected,
        fix="refuse rectify of a level 5 review named under another case: 422 EVALUATION_UNKNOWN (not of this case) "
        "or 409 STATE_INVALID (a level 3–5 review) (norm §11)",
    )
    reviews = ((5, best), *((level, _evaluation(driver, case_no, level, judged=False)) for level in (4, 3)))
    for level, evaluation in reviews:
        answered(
            _rectify(driver, case_no, evaluation),
            409,
            "STATE_INVALID",
            fix=f"refuse rectify for a level {level} review (norm §11); only levels 1 and 2 get a rectification",
        )
        equal(
            f"rectifications the exchange took for a level {level} review",
            len(_rectifications_of(platform, evaluation)),
            0,
            fix="push rectifications for bad reviews (level 1 or 2) only",
            where=f"POST /exchange/v1/rectifications for case {case_no}",
        )


def _members(answer: httpx.Response, *names: str) -> tuple[object, ...]:
    body = body_of(answer)
    return tuple(body.get(name) for name in names) if isinstance(body, dict) else (None,) * len(names)
