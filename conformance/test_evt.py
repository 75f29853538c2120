"""Chapter 8: process data and exchange — every step pushed, shaped, ordered, timed, delivered (EVT-01…08)."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from yzw.client import SignedClient
from yzw.codes.times import CN_TZ
from yzw.conformance.checks.answers import answered, body_of, equal
from yzw.conformance.checks.events import (
    CONTENT_REFUSALS,
    case_steps,
    consistent,
    in_order,
    judged_prefix,
    pushed_in_form,
    schema_valid,
    within_deadline,
)
from yzw.conformance.driver import HttpDriver, seen
from yzw.conformance.nodes import Nodes, Push, distinct, request_body
from yzw.conformance.scenario import APPLICATIONS, FULL_CASE, TAKEN, Scenario, neighbour
from yzw.conformance.violations import Violation
from yzw.run.items import FILE_MATERIAL
from yzw.run.target import Target
from yzw.spec.limits import limits

CLOCK_READING = 0.05  # EVT-07's first retry is judged less the two nodes' clock reading
WATCH_SECONDS = 2.5  # how long after a push the kit watches for it to come again: the first retry comes ≥ 1 s
ELSEWHERE_DAY = dt.date(2025, 9, 26)  # a driver's calendar_date far from today (CODE-08's first vector)
EXCHANGE = "/exchange/v1/events"
ACCEPTED_STATUS = 202  # EVT-08: another 2xx than the exchange's 200, yet delivered
DENIAL = "申请材料与实际情况不符，依法不予许可"
WINDING = (
    ("accept", {}),
    ("advance", {}),
    ("suspend", {"reason": "需现场核查", "kind": "现场核查", "expected_days": 3}),
    ("resume", {}),
    ("withdraw", {"reason": "申请人撤回"}),
)
STEP_OF = {"accept": "SL", "advance": "CB", "suspend": "GQ", "resume": "HF", "withdraw": "CH"}
EVALUATIONS = "/exchange/v1/evaluations"
RECTIFICATIONS = "/exchange/v1/rectifications"
NOTICES = "/yzw/v1/supervision/notices"
REFUSALS = (400, 409, 413, 415)  # EVT-07: with 422, the refusals whose body is never resent unchanged
UNPUSHED_WATCH = ("GQ", "HF", "CH")  # steps only suspend, resume and withdraw make (EVT-01 judges them unpushed)
BACKLOG = 501  # EVT-01: one more event than a batch may hold (one SB per window application)
BACKLOG_POLL = 0.5
CATALOG_ITEMS = "/catalog/v1/items"
RACE_SLOWNESS = 1.0  # s the catalogue takes to answer while two accepts race (well within ROB-01's 3 s)


@pytest.mark.requirement(
    "EVT-01",
    clauses=[
        "ACC-03.6",
        "APP-06.8",
        "CODE-04.1",
        "CODE-04.2",
        "CODE-04.4",
        "CODE-04.5",
        "CODE-04.6",
        "CODE-05.16",
        "CODE-06.1",
        "CODE-06.3",
        "CODE-06.5",
        "CODE-08.1",
        "CODE-08.2",
        "CODE-08.3",
        "EVT-01.5",
        "EVT-01.6",
        "EVT-01.7",
        "EVT-01.8",
        "EVT-01.12",
        "EVT-01.13",
        "EVT-01.14",
        "EVT-01.16",
        "EVT-01.17",
        "EVT-01.18",
        "EVT-02.1",
        "EVT-02.2",
        "EVT-02.4",
        "EVT-02.5",
        "EVT-02.6",
        "EVT-02.7",
        "EVT-02.8",
        "EVT-02.9",
        "EVT-02.10",
        "EVT-02.11",
        "EVT-02.12",
        "EVT-02.13",
        "EVT-02.21",
        "EVT-02.22",
        "EVT-02.24",
        "EVT-03.1",
        "EVT-03.2",
        "EVT-03.3",
        "EVT-03.13",
        "EVT-03.16",
        "EVT-03.17",
        "EVT-03.19",
        "EVT-04.1",
        "EVT-04.2",
        "EVT-05.1",
        "EVT-05.2",
        "EVT-05.3",
        "EVT-05.4",
        "EVT-06.2",
        "MSG-01.3",
        "MSG-03.21",
        "SIG-01.1",
        "SIG-01.4",
        "SIG-01.7",
        "SIG-03.1",
        "SIG-03.6",
        "SIG-05.3",
    ],
)
def test_every_step_is_pushed_to_the_own_tiers_exchange(scenario: Scenario, target: Target) -> None:
    application, pushes = scenario.completed()
    number = application["application_no"]
    elsewhere = [p for p in pushes if p.node_url != target.exchange_url]
    if elsewhere:
        raise Violation(
            "events went to the province instead of the exchange of the system's own tier",
            f"pushes to {target.exchange_url} (the exchange the registration answered)",
            f"{len(elsewhere)} push(es) to {elsewhere[0].node_url}",
            "push to the exchange URL the platform gave at registration",
            f"application {number}",
        )
    pushed_in_form(pushes)
    steps, wanted = judged_prefix(distinct(pushes), FULL_CASE)
    equal(
        "the steps the exchange took or refused for their content",
        steps,
        wanted,
        fix="push every step, signed with an exchange:write token, to the exchange of the own tier",
        where=f"application {number} at {target.exchange_url}",
    )


@pytest.mark.requirement("EVT-01", clauses=["EVT-01.12"])
def test_every_kind_of_step_goes_to_the_own_tiers_exchange(
    scenario: Scenario, sut: SignedClient, target: Target
) -> None:
    """EVT-01.12 for the steps a completed case does not make: a window application (SB) lacking a file (BZ),
    supplemented (BZJ), accepted (SL), answered on a card notice (FK), suspended (GQ), resumed (HF) and
    withdrawn (CH); another refused (BYSL). Each push is judged where it went as soon as it came (the kit reads
    the own exchange and the province's together, so where a push went is judged here): one sent elsewhere
    leaves a seq gap at the own exchange, which refuses the application's later events."""
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    params = scenario.window_params()
    params["materials"] = [m for m in params["materials"] if m["material_code"] not in files[:1]]
    _, window = scenario.window_apply(params)
    number = window
    if number is None:  # no window desk: an online application instead (APP-06 judges window_apply)
        online = scenario.application(omit=tuple(files[:1]))
        answered(scenario.submit(online), TAKEN, fix="take a valid application (APP-01)")
        number = str(online["application_no"])
    refused = scenario.submitted()["application_no"]
    scenario.driver.act("refuse", refused, reason="申请事项不属于本机关职权范围")
    _pushed_here(scenario, target, refused, "BYSL")
    if window is not None:
        _pushed_here(scenario, target, number, "SB")
    scenario.driver.act("accept", number)
    if files:
        _pushed_here(scenario, target, number, "BZ")
        more = {"materials": [m for m in scenario.application()["materials"] if m["material_code"] == files[0]]}
        sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json=more)
        _pushed_here(scenario, target, number, "BZJ")
        scenario.driver.act("accept", number)
    case_no = _pushed_here(scenario, target, number, "SL").event.get("case_no")
    if case_no:
        _noticed(scenario, sut, target, str(case_no))
        _pushed_here(scenario, target, number, "FK")
    for action, step, params_ in (
        ("suspend", "GQ", dict(WINDING)["suspend"]),
        ("resume", "HF", {}),
        ("withdraw", "CH", {"reason": "申请人撤回"}),
    ):
        scenario.driver.act(action, number, **params_)
        _pushed_here(scenario, target, number, step)


def _pushed_here(scenario: Scenario, target: Target, number: str, step: str) -> Push:
    """The push of `step` once it came, every push of the application so far judged where it went (EVT-01.12);
    `not-applicable` when the step never came (the checks of each step judge that)."""
    pushes = scenario.steps(number, step)
    elsewhere = [p for p in pushes if p.node_url != target.exchange_url]
    if elsewhere:
        raise Violation(
            "an event went to another exchange than the one of the system's own tier",
            f"every event pushed to {target.exchange_url} (the exchange the registration answered)",
            [f"{p.event.get('seq')}:{p.event.get('step')} to {p.node_url}" for p in elsewhere],
            "push every step (SB, BZ, BZJ, BYSL, GQ, HF, CH, FK included) to the exchange of the own tier",
            f"application {number}",
        )
    found = [p for p in distinct(pushes) if p.event.get("step") == step]
    if not found:
        pytest.skip(f"not-applicable: the system pushed no {step} of {number} to judge (see EVT-01)")
    return found[0]


@pytest.mark.requirement("EVT-01", clauses=["ACC-01.1", "EVT-01.5"])
def test_an_application_taken_at_the_window_is_accepted_with_sl(scenario: Scenario) -> None:
    """The acceptance of an application the system took itself (window, agent point) is pushed as SL like an
    online one's: the SB announced the application, not the decision on it."""
    for channel in ("window", "agent"):
        _, number = scenario.window_apply(scenario.window_params(channel=channel))
        if number is None:
            pytest.skip(f"not-applicable: no {channel} application was taken (APP-06 judges window_apply)")
        scenario.came(str(number), "SB")  # an SB not pushed is EVT-01's own check of window applications
        accepted = scenario.driver.act("accept", str(number))
        if accepted is not None:
            answered(accepted, 200, fix=f"accept a {channel} application the system took and announced with SB")
        pushes = scenario.steps(str(number), "SL")
        if all(p.event.get("step") != "SL" for p in pushes) and any(p.status in CONTENT_REFUSALS for p in pushes):
            pytest.skip(  # the SL rightly waits behind an event the exchange refused (EVT-07)
                "not-applicable: the exchange refused an earlier event of the application for its content; "
                "its rule judges it (EVT-02 … EVT-05)"
            )
        scenario.pushed(str(number), "SL")


WALK = (  # the case actions whose answer names the event queued (§11), each with its step
    ("advance", "CB", {}),
    ("suspend", "GQ", dict(WINDING)["suspend"]),
    ("resume", "HF", {}),
    ("withdraw", "CH", {"reason": "申请人撤回"}),
)


@pytest.mark.requirement("EVT-01", clauses=["EVT-01.6", "EVT-01.9", "EVT-01.10", "EVT-01.11", "EVT-01.19"])
def test_suspension_resumption_and_withdrawal_are_pushed_as_the_driver_says(scenario: Scenario, target: Target) -> None:
    """A case advanced, suspended, resumed and withdrawn: GQ, HF and CH each reach the exchange, and each driver
    answer names the step, seq and event_id of the event it queued (§11)."""
    application, _ = scenario.accepted()
    number = application["application_no"]
    answers = [(step, scenario.driver.act(action, number, **params)) for action, step, params in WALK]
    pushes = distinct(scenario.steps(number, *(step for _, step, _ in WALK)))
    pushed = {str(p.event.get("step")): p for p in pushes}
    steps, wanted = judged_prefix(pushes, ["SL", *(step for _, step, _ in WALK)])  # none behind a content refusal
    missing = [step for step in wanted if step not in steps]
    if missing:
        raise Violation(
            f"{', '.join(missing)} of a suspended, resumed and withdrawn case never reached the exchange",
            "CB, GQ, HF and CH pushed as each happens",
            [p.event.get("step") for p in pushes],
            "push a suspension (GQ), a resumption (HF) and a withdrawal (CH) like every other step",
            f"application {number} at {target.exchange_url}",
        )
    for step, answer in answers:
        if answer is None or step not in wanted:
            continue  # a person acted (the events are judged, there is no answer), or the step waits behind a refusal
        said = body_of(answer) if answer.status_code == 200 else None
        said = said if isinstance(said, dict) else {}
        event = pushed[step].event
        equal(
            f"the driver's answer to the action that pushed {step}",
            {k: said.get(k) for k in ("ok", "step", "seq", "event_id")},
            {"ok": True, "step": step, "seq": event.get("seq"), "event_id": event.get("event_id")},
            fix="answer every action 200 {ok: true, application_no, step, seq, event_id} naming the event it "
            "queued (§11)",
            where=f"the driver's answer vs the {step} pushed for {number}",
        )


@pytest.mark.requirement("EVT-01", clauses=["APP-06.1", "EVT-01.1", "EVT-01.14", "EVT-01.15", "EVT-07.1", "EVT-07.7"])
def test_a_backlog_goes_up_in_batches_of_at_most_500(scenario: Scenario, platform: Nodes) -> None:
    """The exchange is down while 501 window applications are taken (an SB each); once it is back, the backlog
    reaches it, in single pushes or in batches, none holding more than 500 events."""
    if not isinstance(scenario.driver, HttpDriver):
        pytest.skip("manual: 501 window applications need the system's driver; a person cannot queue them")
    params = scenario.window_params()
    platform.fail_next(EXCHANGE, 503, count=10**6)
    numbers = []
    try:
        for _ in range(BACKLOG):
            try:
                answer, number = scenario.window_apply(params)
            except httpx.TimeoutException:
                pytest.skip("not-applicable: the driver does not answer while the exchange is down (see EVT-07)")
            if number is None:
                pytest.skip(f"not-applicable: window_apply did not take the application (see APP-06): {answer}")
            numbers.append(number)
    finally:
        platform.clear_faults("exchange")
    deadline = time.monotonic() + max(platform.wait_seconds, 75.0)  # a back-off may have grown to 60 s (EVT-07)
    while time.monotonic() < deadline and not _batches(platform) and _undelivered(platform, numbers):
        time.sleep(BACKLOG_POLL)  # the traffic of 500 events is large: read it twice a second
    large = _batches(platform)
    if large:
        platform.evidence.observed(large[0], platform.target.exchange_url)
        raise Violation(
            "a batch push held more than 500 events",
            "POST /exchange/v1/events:batch with at most 500 events",
            f"a batch of {len(_events_in_entry(large[0])) or 'more than 500'} events, answered "
            f"{large[0].get('status')} {str(large[0].get('response'))[:200]}",
            "split a backlog into batches of at most 500 events (or push them one by one), in order",
            "the exchange's traffic after an outage",
        )


def _undelivered(platform: Nodes, numbers: list[str]) -> bool:
    """Whether an SB of these applications has not reached the exchange yet."""
    taken = {
        event.get("application_no")
        for entry in platform.traffic("exchange", EXCHANGE, "POST")
        if 200 <= int(entry.get("status") or 0) < 300
        for event in ([request_body(entry)] if "events" not in request_body(entry) else _events_in_entry(entry))
    }
    return not set(numbers) <= taken


def _batches(platform: Nodes) -> list[dict[str, Any]]:
    """The batch pushes of the system holding more than 500 events: counted where the logged body is whole, else
    the exchange's refusal of the batch's size (400 at /events) tells (the log keeps the first 4 KiB of a body)."""
    return [e for e in platform.traffic("exchange", EXCHANGE + ":batch", "POST") if _oversized(e)]


def _oversized(entry: dict[str, Any]) -> bool:
    events = _events_in_entry(entry)
    if events:
        return len(events) > limits().batch_max_events
    return int(entry.get("status") or 0) == HTTPStatus.BAD_REQUEST and '"/events"' in str(entry.get("response"))


def _events_in_entry(entry: dict[str, Any]) -> list[Any]:
    events = request_body(entry).get("events")
    return events if isinstance(events, list) else []


@pytest.mark.requirement(
    "EVT-02",
    clauses=[
        "ACC-03.1",
        "ACC-03.6",
        "EVT-02.1",
        "EVT-02.2",
        "EVT-02.4",
        "EVT-02.5",
        "EVT-02.6",
        "EVT-02.7",
        "EVT-02.8",
        "EVT-02.9",
        "EVT-02.10",
        "EVT-02.11",
        "EVT-02.12",
        "EVT-02.13",
        "EVT-02.21",
        "EVT-02.22",
        "EVT-02.24",
        "MSG-03.1",
        "MSG-03.21",
    ],
)
def test_events_carry_every_member_and_the_steps_payload(scenario: Scenario, target: Target) -> None:
    application, pushes = scenario.completed()
    schema_valid(distinct(pushes), "EVT-02")
    consistent(distinct(pushes), application, target.registration.dept_uscc)


@pytest.mark.requirement(
    "EVT-02",
    clauses=[
        "EVT-02.3",
        "EVT-02.15",
        "EVT-02.16",
        "EVT-02.18",
        "EVT-02.19",
        "EVT-02.22",
        "EVT-02.23",
        "EVT-02.25",
        "EVT-02.27",
        "EVT-02.28",
    ],
)
def test_every_step_of_a_winding_case_carries_its_members_and_payload(
    scenario: Scenario, target: Target, sut: SignedClient
) -> None:
    """An application filed in another division of the province: BZ, BZJ, SL, CB (advanced to, not filled in by
    complete), GQ, HF and CH, each with the application's division_code and its own payload; a push the exchange
    refused is judged like the others."""
    scenario.prefer(FILE_MATERIAL)
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    application = scenario.application(omit=tuple(files[:1]))
    application["division_code"] = neighbour(target.registration.division_code)
    answered(scenario.submit(application), TAKEN, fix="take a valid application filed in any division of the province")
    number = application["application_no"]
    wanted = ["SL", "CB", "GQ", "HF", "CH"]
    if files:
        scenario.driver.act("accept", number)
        schema_valid([scenario.came(number, "BZ")], "EVT-02")
        more = {"materials": [m for m in scenario.application()["materials"] if m["material_code"] == files[0]]}
        sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json=more)
        schema_valid([scenario.came(number, "BZJ")], "EVT-02")
        wanted = ["BZ", "BZJ", *wanted]
    for action, params in WINDING:
        answer = scenario.driver.act(action, number, **params)
        if action == "advance" and answer is not None and answer.status_code != HTTPStatus.OK:
            wanted.remove("CB")  # the driver judges its own answers (§11); the suspension goes on from SL
            continue
        schema_valid([scenario.came(number, STEP_OF[action], answer)], "EVT-02")  # before a refusal holds the rest
    pushes = distinct(scenario.steps(number, *wanted))
    schema_valid(pushes, "EVT-02")
    consistent(pushes, application, target.registration.dept_uscc)
    _names_the_system([p for p in pushes if p.event.get("step") == "BZJ"], target)  # the platform brought them


@pytest.mark.requirement("EVT-02", clauses=["EVT-02.14"])
def test_an_online_application_is_not_announced_with_sb(scenario: Scenario) -> None:
    """SB is for the applications a system takes itself (window, agent point): one the unified application system
    forwarded (channel web) begins with the clerk's decision."""
    application, _ = scenario.accepted()
    number = application["application_no"]
    sb = [p for p in distinct(scenario.steps(number, "SL")) if p.event.get("step") == "SB"]
    if sb:
        raise Violation(
            "an online application was announced with SB",
            f"no SB for channel {application['channel']}: its first event is the decision (SL, BZ or BYSL)",
            f"SB seq {sb[0].event.get('seq')}",
            "push SB only for window and agent-point applications the system takes itself; the unified "
            "application system announced the online ones",
            f"SB of {number}",
        )


@pytest.mark.requirement(
    "EVT-02",
    clauses=[
        "EVT-02.1",
        "EVT-02.5",
        "EVT-02.6",
        "EVT-02.7",
        "EVT-02.8",
        "EVT-02.9",
        "EVT-02.10",
        "EVT-02.12",
        "EVT-02.13",
        "EVT-02.16",
        "EVT-02.27",
        "EVT-02.28",
    ],
)
def test_events_the_system_makes_itself_name_the_system(scenario: Scenario, sut: SignedClient, target: Target) -> None:
    """2026.2: an FK (the answer to a card notice) is the system's own event: its handler is the system's app_id;
    like every event it names the application's division (one filed in another division of the province), item
    and case."""
    application = scenario.application()
    application["division_code"] = neighbour(target.registration.division_code)
    answered(scenario.submit(application), TAKEN, fix="take a valid application filed in any division of the province")
    scenario.driver.act("accept", application["application_no"])
    case_no = scenario.pushed(application["application_no"], "SL").event.get("case_no")
    if not case_no:
        pytest.skip("not-applicable: the SL event carried no case_no to go on with (see ACC-02)")
    answered(
        sut.request("POST", target.base_url + NOTICES, json=scenario.factory.notice(case_no)),
        200,
        fix="answer a signed card notice 200 (SUP-02)",
    )
    pushes = distinct(scenario.steps(application["application_no"], "FK"))
    schema_valid(pushes, "EVT-02")  # the system's own event has every member of EVT-02, as the clerk's do
    fk = [p for p in pushes if p.event.get("step") == "FK"]
    if not fk:
        pytest.skip("not-applicable: no FK came to judge (SUP-02 judges the answer to a notice, EVT-01 held steps)")
    _names_the_system(fk, target)
    consistent(pushes, application, target.registration.dept_uscc)


def _names_the_system(pushes: list[Push], target: Target) -> None:
    """EVT-02: events the system makes by itself (BZJ, FK) carry the handler {id: its app_id, name: non-empty}."""
    for push in pushes:
        handler = push.event.get("handler") if isinstance(push.event.get("handler"), dict) else {}
        if handler.get("id") != target.app_id or not str(handler.get("name") or "").strip():
            raise Violation(
                "an event the system made by itself does not name the system as its handler",
                f'handler {{"id": "{target.app_id}", "name": <non-empty>}} (the registered app_id)',
                handler,
                "give events no clerk made (BZJ, FK) the handler {id: the system's app_id, name: the system's name}",
                f"{push.event.get('step')} of {push.event.get('application_no')}",
            )


@pytest.mark.requirement(
    "EVT-03",
    clauses=["EVT-01.6", "EVT-03.1", "EVT-03.2", "EVT-03.3", "EVT-03.13", "EVT-03.16", "EVT-03.17", "EVT-03.19"],
)
def test_events_follow_the_norms_order(scenario: Scenario) -> None:
    _, pushes = scenario.completed()
    in_order(distinct(pushes), "EVT-03")


@pytest.mark.requirement("EVT-03", clauses=["EVT-03.6"])
def test_a_window_application_supplemented_keeps_its_sb_first(
    scenario: Scenario, sut: SignedClient, target: Target
) -> None:
    """SB, when present, is the application's first event and only there: a window application missing a file is
    accepted (BZ), supplemented (BZJ) and accepted (SL), and its events stand in the norm's order, every push
    judged (one the exchange refused as out of order included)."""
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    if not files:
        pytest.skip("not-applicable: the item asks for no file a window application could lack")
    params = scenario.window_params()
    params["materials"] = [m for m in params["materials"] if m["material_code"] != files[0]]
    _, number = scenario.window_apply(params)
    if number is None:
        pytest.skip("not-applicable: the system took no window application to go on from (APP-06 judges that)")
    scenario.driver.act("accept", number)
    for step, then in (("BZ", "supplements"), ("BZJ", "accept"), ("SL", "")):
        pushes = scenario.steps(number, step)
        in_order(distinct(pushes), "EVT-03")  # every push so far, one the exchange refused as out of order included
        if not any(p.event.get("step") == step and p.accepted for p in pushes):
            pytest.skip(f"not-applicable: the exchange took no {step} of {number} to go on from (see EVT-01)")
        if then == "supplements":
            more = {"materials": [m for m in scenario.application()["materials"] if m["material_code"] == files[0]]}
            sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json=more)
        elif then == "accept":
            scenario.driver.act("accept", number)


@pytest.mark.requirement(
    "EVT-03",
    clauses=[
        "EVT-03.4",
        "EVT-03.5",
        "EVT-03.7",
        "EVT-03.9",
        "EVT-03.11",
        "EVT-03.12",
        "EVT-03.14",
        "EVT-03.15",
        "EVT-03.16",
        "EVT-03.18",
        "EVT-03.20",
    ],
)
def test_the_driver_allows_what_the_order_allows_and_refuses_the_rest(
    scenario: Scenario, sut: SignedClient, target: Target
) -> None:
    """One walk through the transitions a system could get wrong (§11: `409 STATE_INVALID` for an action the
    state does not allow, nothing pushed). A: no suspension before SL; while it waits for supplements no
    accept and no second BZ (BZJ first); a card notice's FK takes the application's next seq; no resume
    without a suspension; while suspended no second suspension, no advance and no complete, yet a card
    notice gets its FK; a second suspension right after a resume; a resume (also the second) goes on from
    the suspended phase; withdraw on a suspended case; nothing after CH.
    B: withdrawn before acceptance. C: completed and delivered: no suspension, no withdrawal, yet a notice
    gets its FK; no second delivery."""
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    first = scenario.application(omit=tuple(files[:1]))
    answered(scenario.submit(first), TAKEN, fix="take a valid application (APP-01)")
    a = first["application_no"]
    _not_allowed(scenario, "suspend", a, "GQ before SL", dict(WINDING)["suspend"])
    wanted_a: list[str] = []
    if files:
        scenario.driver.act("accept", a)
        _came(scenario, a, "BZ")
        _not_allowed(scenario, "accept", a, "SL right after BZ (supplements not received: BZJ first)")
        _not_allowed(scenario, "request_supplement", a, "a second BZ while supplements are awaited (BZJ first)")
        more = {"materials": [m for m in scenario.application()["materials"] if m["material_code"] == files[0]]}
        sut.request("POST", f"{target.base_url}{APPLICATIONS}/{a}/supplements", json=more)
        _came(scenario, a, "BZJ")
        wanted_a = ["BZ", "BZJ"]
    scenario.driver.act("accept", a)
    case_a = _came(scenario, a, "SL").event.get("case_no")
    if case_a:
        _noticed(scenario, sut, target, str(case_a))
    scenario.driver.act("advance", a)
    _not_allowed(scenario, "resume", a, "HF on a case that is not suspended (HF only follows a GQ)")
    driven = [scenario.driver.act("suspend", a, **dict(WINDING)["suspend"])]
    _not_allowed(scenario, "suspend", a, "a second GQ on a suspended case (HF or CH first)", dict(WINDING)["suspend"])
    if case_a:
        _noticed(scenario, sut, target, str(case_a))  # a card notice while suspended: 200 and its FK (EVT-03.5)
    _not_allowed(scenario, "advance", a, "a review step right after GQ (resume first)")
    _not_allowed(scenario, "complete", a, "BJ on a suspended case (resume first)", {"result": "approved"})
    driven.append(scenario.driver.act("resume", a))
    driven += [  # GQ HF may repeat in a phase
        _allowed(scenario, "suspend", a, "a second GQ right after HF", dict(WINDING)["suspend"]),
        _allowed(scenario, "resume", a, "HF after the second GQ", {}),
    ]
    _allowed(scenario, "advance", a, "the review goes on after two suspensions of its CB phase", {})
    driven.append(scenario.driver.act("suspend", a, **dict(WINDING)["suspend"]))
    withdrawn = {"reason": "申请人撤回"}
    driven.append(_allowed(scenario, "withdraw", a, "CH on a suspended case (after an unresumed GQ)", withdrawn))
    _not_allowed(scenario, "advance", a, "a step after CH")
    b = scenario.submitted()["application_no"]
    driven_b = [_allowed(scenario, "withdraw", b, "CH before acceptance", withdrawn)]
    c, _ = scenario.completed()
    _not_allowed(scenario, "suspend", c["application_no"], "GQ after BJ", dict(WINDING)["suspend"])
    _not_allowed(scenario, "withdraw", c["application_no"], "CH after BJ", {"reason": "申请人撤回"})
    _not_allowed(scenario, "deliver", c["application_no"], "a second SD (SD at most once)", {"method": "pickup"})
    sd = _came(scenario, c["application_no"], "SD")
    _noticed(scenario, sut, target, str(sd.event.get("case_no")))
    walks = {
        a: [*wanted_a, "SL", "CB", "GQ", "HF", "GQ", "HF", "SH", "GQ", "CH"],
        b: ["CH"],
        c["application_no"]: list(FULL_CASE),
    }
    for number, wanted in walks.items():
        pushes = distinct(scenario.steps(number, *wanted, *(["FK"] if number != b and case_a else [])))
        _elsewhere_aside(pushes, target, number)
        _unpushed_aside(pushes, {a: driven, b: driven_b}.get(number, []), number)
        in_order(pushes, "EVT-03")
        taken, expected = judged_prefix(pushes, wanted, aside=frozenset({"FK"}))
        equal(
            "the steps the exchange took or refused for their content (FK left out)",
            taken,
            expected,
            fix="suspend (GQ), resume (HF) and withdraw (CH) when the state allows it, each pushed as it "
            "happens; after a resume go on from the step the case was suspended at",
            where=f"application {number}",
        )


@pytest.mark.requirement("EVT-03", clauses=["ACC-01.6", "EVT-03.10"])
def test_two_accepts_at_once_give_one_sl(scenario: Scenario, platform: Nodes) -> None:
    """Two clerks accept one application at the same moment (a double click) while the catalogue answers slowly:
    one accept is taken, the other is 409 STATE_INVALID, and the application gets one SL."""
    if not isinstance(scenario.driver, HttpDriver):
        pytest.skip("manual: two accepts at the same moment need the system's driver; ask a person to try it")
    number = scenario.submitted()["application_no"]
    platform.slow_next(CATALOG_ITEMS, RACE_SLOWNESS, 2)
    try:
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: scenario.driver.act("accept", number), range(2)))
    finally:
        platform.clear_faults("province")
    pushes = distinct(platform.wait_for(lambda: platform.pushes(number), lambda found: len(distinct(found)) > 1, 1.0))
    sls = [p for p in pushes if p.event.get("step") == "SL"]
    statuses = sorted(a.status_code for a in answers if a is not None)
    if len(sls) > 1 or statuses != [200, 409]:
        platform.observe(pushes)
        raise Violation(
            "two accepts of one application at the same moment were both taken",
            "one SL; one accept answered 200, the other 409 STATE_INVALID",
            f"{len(sls)} SL event(s) ({[p.event.get('case_no') for p in sls]}); answers {statuses}",
            "serialize the actions on one application (a lock or a conditional update of its state): check the "
            "state and write the step in one transaction",
            f"application {number}",
        )


def _unpushed_aside(pushes: list[Push], driven: list[Any], number: str) -> None:
    """`not-applicable` when a GQ, HF or CH the driver said it queued (200) never reached the exchange and the
    exchange refused nothing of the walk: a step not pushed is EVT-01's finding, not one of order. A push the
    exchange refused (a step out of order, holding the later ones back) is judged here."""
    said = {str((body_of(a) or {}).get("step")) for a in driven if a is not None and a.status_code == 200}
    lost = sorted((said & set(UNPUSHED_WATCH)) - {str(p.event.get("step")) for p in pushes})
    if lost and all(p.accepted for p in pushes):
        pytest.skip(f"not-applicable: the driver queued {lost} of {number} but never pushed them (see EVT-01)")


def _elsewhere_aside(pushes: list[Push], target: Target, number: str) -> None:
    """`not-applicable` when an event of the walk went to another exchange than the own tier's: the own exchange
    then sees a seq gap (and refuses what follows it); where a push goes is EVT-01's finding, not one of order."""
    elsewhere = sorted({str(p.event.get("step")) for p in pushes if p.node_url != target.exchange_url})
    if elsewhere:
        pytest.skip(f"not-applicable: {elsewhere} of {number} went to another exchange than the own tier's (EVT-01)")


def _came(scenario: Scenario, number: str, step: str) -> Push:
    """The push of a step the walk goes on from; `not-applicable` when it never came (EVT-01 judges that)."""
    found = [p for p in distinct(scenario.steps(number, step)) if p.event.get("step") == step and p.accepted]
    if not found:
        pytest.skip(f"not-applicable: the exchange took no {step} of {number} to go on from (see EVT-01, EVT-08)")
    return found[0]


def _not_allowed(
    scenario: Scenario, action: str, number: str, forbidden: str, params: dict[str, Any] | None = None
) -> None:
    """§11: an action the state does not allow is `409 STATE_INVALID`, and nothing is pushed (with a person
    acting instead of a driver, only the events are judged)."""
    answer = scenario.driver.act(action, number, **(params or {}))
    if answer is not None:
        answered(
            answer,
            409,
            "STATE_INVALID",
            fix=f"refuse `{action}` where EVT-03 allows no {forbidden}: 409 STATE_INVALID, nothing pushed",
        )


def _allowed(
    scenario: Scenario, action: str, number: str, allowed: str, params: dict[str, Any]
) -> httpx.Response | None:
    """§11: an action the state allows is done: `200` and its event queued."""
    answer = scenario.driver.act(action, number, **params)
    if answer is not None:
        answered(answer, 200, fix=f"allow `{action}` where EVT-03 allows it ({allowed}) and push its step")
    return answer


def _noticed(scenario: Scenario, sut: SignedClient, target: Target, case_no: str) -> None:
    """A card notice on the case: answered 200 at any stage after SL, also after BJ and SD (its FK follows)."""
    answered(
        sut.request("POST", target.base_url + NOTICES, json=scenario.factory.notice(case_no)),
        200,
        fix="answer a card notice on any case the system holds 200 and push its FK, also after BJ and SD",
    )


@pytest.mark.requirement("EVT-04", clauses=["EVT-04.1", "EVT-04.2", "EVT-04.3"])
def test_event_times_are_ordered_and_plausible(scenario: Scenario) -> None:
    application, pushes = scenario.completed()
    in_order(distinct(pushes), "EVT-04", application["submitted_at"])


@pytest.mark.requirement("EVT-04", clauses=["ACC-04.14", "EVT-04.1", "EVT-04.3", "EVT-04.4", "EVT-04.5"])
def test_events_never_precede_the_platforms_submitted_at(scenario: Scenario) -> None:
    """2026.2: with the platform's clock ahead of the system's, the system takes submitted_at as the earliest
    occurred_at, and the times stay non-decreasing after it; a driver's calendar_date (§11) moves only the due
    time, never the SL's occurred_at. So for every first decision, not the acceptance only: a BZ (accept on an
    application lacking a required material), a BYSL and a CH."""
    now = dt.datetime.now(CN_TZ).replace(microsecond=0)
    end_of_day = now.replace(hour=23, minute=59, second=59)  # the number's date is the submission's (CODE-05)
    ahead = min(now + dt.timedelta(seconds=limits().clock_skew_seconds / 2), end_of_day)
    application = scenario.submitted(submitted=ahead)
    number = application["application_no"]
    scenario.driver.act("accept", number, calendar_date=ELSEWHERE_DAY.isoformat())
    required = [m["material_code"] for m in scenario.item.get("materials", []) if m.get("required")]
    others = {
        step: scenario.submitted(submitted=ahead, omit=tuple(required[:1]) if step == "BZ" else ())
        for step in ("BZ", "BYSL", "CH")
        if step != "BZ" or required
    }
    decisions = {
        "BZ": ("accept", {}),
        "BYSL": ("refuse", {"reason": DENIAL}),
        "CH": ("withdraw", {"reason": "申请人撤回"}),
    }
    for step, other in others.items():
        act, params = decisions[step]
        scenario.driver.act(act, other["application_no"], **params)
    scenario.pushed(number, "SL")
    scenario.driver.act("advance", number)
    in_order(distinct(scenario.steps(number, "SL", "CB")), "EVT-04", application["submitted_at"])
    for step, other in others.items():
        in_order(distinct(scenario.steps(other["application_no"], step)), "EVT-04", other["submitted_at"])


@pytest.mark.requirement("EVT-05", clauses=["EVT-01.7", "EVT-05.1", "EVT-05.2", "EVT-05.3", "EVT-05.4"])
def test_the_bj_payload_has_result_documents_and_licenses(scenario: Scenario) -> None:
    application, pushes = scenario.completed()
    bj = scenario.judged_step(pushes, "BJ")
    schema_valid([bj], "EVT-05")
    payload = bj.event.get("payload") or {}
    missing = [m for m in ("result", "documents", "licenses") if m not in payload]
    if missing:
        raise Violation(
            "the BJ payload lacks members",
            "result, documents and licenses",
            sorted(payload),
            f"send {', '.join(missing)} in BJ",
            f"BJ of {application['application_no']}",
        )


@pytest.mark.requirement("EVT-05", clauses=["EVT-05.5", "EVT-05.6"])
def test_a_denial_is_completed_as_denied_with_its_reason(scenario: Scenario) -> None:
    """`complete` with result denied: BJ says denied, gives the reason, and lists no e-license. A denial without a
    reason, or with a blank one, is refused (422) or still goes up with a reason the system gives: never without."""
    application, _ = scenario.accepted()
    number = application["application_no"]
    asked = "with the clerk's reason"
    probes = (({}, "without a reason"), ({"reason": "  "}, 'with reason "  "')) if scenario.target.driver_url else ()
    for bare, told in probes:  # an operator is never asked to leave the reason out
        answer = scenario.driver.act("complete", number, result="denied", **bare)
        if answer is not None and answer.is_success:
            asked = told  # the system took the denial: its BJ must name a reason all the same
            break
    else:
        scenario.driver.act("complete", number, result="denied", reason=DENIAL)
    bj = scenario.came(number, "BJ")  # a BJ not pushed is EVT-01's
    schema_valid([bj], "EVT-05")
    payload = bj.event.get("payload") or {}
    equal(
        "the BJ payload of a denial (result, reason given, licenses)",
        (payload.get("result"), bool(str(payload.get("reason") or "").strip()), payload.get("licenses")),
        ("denied", True, []),
        fix="send result denied with the clerk's reason, and no e-license, when the application is denied; refuse "
        "complete with result denied and no reason or a blank one (422 PARAMS_INVALID)",
        where=f"BJ of {number} (complete denied {asked})",
    )


@pytest.mark.requirement("EVT-06", clauses=["EVT-06.1", "EVT-06.3", "EVT-06.4"])
def test_events_reach_the_exchange_within_12_hours(scenario: Scenario, platform: Nodes) -> None:
    """A completed case, a refused application and one withdrawn before acceptance: every step in time."""
    application, _ = scenario.completed()
    refused, withdrawn = scenario.submitted()["application_no"], scenario.submitted()["application_no"]
    scenario.driver.act("refuse", refused, reason=DENIAL)
    scenario.driver.act("withdraw", withdrawn, reason="申请人撤回")
    scenario.steps(refused, "BYSL")
    scenario.steps(withdrawn, "CH")
    events = [e for number in (application["application_no"], refused, withdrawn) for e in platform.events(number)]
    platform.evidence.delays.extend(
        {"application_no": e["application_no"], "step": e["step"], "delay_seconds": float(e.get("delay_seconds") or 0)}
        for e in events
    )
    real_time, deadline = limits().real_time_seconds, limits().event_deadline_seconds
    slow = [e for e in events if real_time < float(e.get("delay_seconds") or 0) <= deadline]
    if slow:
        platform.evidence.note(f"SHOULD: {len(slow)} event(s) took longer than the real-time aim of {real_time:g} s")
    within_deadline(events)


@pytest.mark.requirement(
    "EVT-07",
    clauses=[
        "EVT-07.1",
        "EVT-07.2",
        "EVT-07.4",
        "EVT-07.5",
        "EVT-07.6",
        "EVT-07.7",
        "EVT-07.9",
        "EVT-07.10",
        "EVT-07.11",
        "EVT-07.12",
        "EVT-07.13",
        "EVT-07.14",
        "EVT-07.16",
        "EVT-07.17",
        "EVT-07.18",
    ],
)
@pytest.mark.side_by_side
def test_a_5xx_is_retried_with_backoff_and_a_refused_body_is_not_resent(scenario: Scenario, platform: Nodes) -> None:
    """Applications side by side, so that the waits overlap. The SL of the first is refused (422): it must not come
    again, and the first's later steps wait behind it; the SLs of four more are refused with 400, 409, 413 and 415: none
    may come again. The SL of the second meets a 500 (any 5xx is retried, not 503 alone: the evaluation and
    rectification checks meet 502 and 504) and then a dropped connection: it must come again each time, after ≥ 1 s and
    then longer, the same event each time, until delivered, while the second's CB waits for it and is delivered after
    it."""
    first, second = scenario.submitted()["application_no"], scenario.submitted()["application_no"]
    platform.fail_next(EXCHANGE, 422, match=platform.scoped(first))
    scenario.driver.act("accept", first)
    refused = next((p for p in platform.wait_for(lambda: platform.pushes(first), _refused) if p.status == 422), None)
    scenario.driver.act("advance", first)  # its CB must wait behind the refused SL
    others = {status: _refused_with(scenario, platform, status) for status in REFUSALS}
    platform.fail_next(EXCHANGE, RETRIED_STATUS, match=platform.scoped(second))
    platform.drop_next(EXCHANGE, match=platform.scoped(second))
    scenario.driver.act("accept", second)
    scenario.driver.act("advance", second)
    _retried_with_backoff(platform, second)
    if refused is None:
        pytest.skip("not-applicable: the system pushed nothing for the exchange to refuse (EVT-01 judges that)")
    _not_resent(platform, first, refused)
    for number, push in others.values():
        if push is not None:
            _not_resent(platform, number, push)


def _refused_with(scenario: Scenario, platform: Nodes, status: int) -> tuple[str, Push | None]:
    """An application whose SL the exchange refuses with `status`: its number and the refused push."""
    number = scenario.submitted()["application_no"]
    platform.fail_next(EXCHANGE, status, match=platform.scoped(number))
    scenario.driver.act("accept", number)
    found = platform.wait_for(lambda: platform.pushes(number), lambda pushes: any(p.status == status for p in pushes))
    return number, next((p for p in found if p.status == status), None)


RETRIED_STATUS = 500  # EVT-07: any 5xx is retried; the SL meets the server's own error, not a gateway's 503


def _retried_with_backoff(platform: Nodes, number: str) -> None:
    budget = max(platform.wait_seconds, 10.0)  # back-off starts at ≥ 1 s and grows: 1 s + 2 s at least
    pushes = platform.wait_for(
        lambda: platform.pushes(number),
        lambda found: any(p.event.get("step") == "CB" and _answered(p) for p in found),
        budget,
    )
    platform.observe(pushes)
    sl = [p for p in pushes if p.event.get("step") == "SL"]
    # a 401 answered and sent again at once is the token refreshed once (SIG-04, after a reset), not a retry
    failed = [p for p in sl if not p.accepted and p.status != HTTPStatus.UNAUTHORIZED]
    delivered = next((p for p in sl if p.accepted), None)
    if delivered is None and any(p.status in CONTENT_REFUSALS for p in sl):
        pytest.skip("not-applicable: the exchange refused the SL for its content (its rule judges it: EVT-02, ACC-03)")
    if delivered is None:
        raise Violation(
            f"an event answered {RETRIED_STATUS}, then cut off, was not delivered",
            f"a retry after each failure, with back-off from ≥ {limits().first_retry_seconds:g} s, until delivered",
            f"{len(sl)} attempt(s) within {budget:g} s: {[p.status or 'connection dropped' for p in sl]}",
            "retry 5xx, time-outs and connection failures with growing back-off, without a limit; keep the event",
            f"SL of {number}",
        )
    changed = [p for p in [*failed, delivered] if p.event != sl[0].event]
    if changed:
        platform.observe(sl)
        raise Violation(
            "a retry did not re-send the same event",
            f"every attempt the same event: event_id {sl[0].event.get('event_id')}, identical content",
            f"an attempt with event_id {changed[0].event.get('event_id')}"
            + ("" if changed[0].event.get("event_id") != sl[0].event.get("event_id") else ", other content"),
            "keep the event as it was first written and send exactly that body again on every retry",
            f"SL of {number}",
        )
    times = [float(p.entry.get("t", 0)) for p in [*failed, delivered]]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    first_retry = limits().first_retry_seconds - CLOCK_READING
    if gaps and (gaps[0] < first_retry or any(b <= a + CLOCK_READING for a, b in itertools.pairwise(gaps))):
        raise Violation(
            "an event that failed was sent again too soon",
            f"the first retry no sooner than {first_retry:g} s, each later one further apart",
            f"retries {', '.join(f'{g:.2f} s' for g in gaps)} apart",
            "back off before retrying: 1 s, 2 s, 4 s … (EVT-07)",
            f"SL of {number}",
        )
    taken = {p.event.get("event_id") for p in sl if p.accepted}
    equal(
        "events the exchange took for one SL",
        len(taken),
        1,
        fix="retry the same event (same event_id), never a copy",
        where=f"SL of {number}",
    )
    early = [p for p in pushes if p.event.get("step") == "CB" and float(p.entry.get("t", 0)) < times[-1]]
    cb = [p for p in pushes if p.event.get("step") == "CB" and _answered(p)]
    if early or not cb:
        raise Violation(
            "a later event did not wait for the earlier one to be delivered" if early else "the CB behind it was lost",
            "CB pushed after its SL was delivered, and delivered",
            f"CB pushed {times[-1] - float(early[0].entry.get('t', 0)):.2f} s before its SL was delivered"
            if early
            else "no CB delivered",
            "keep one ordered outbox per application: later events wait until the earlier ones are delivered",
            f"application {number}",
        )


def _answered(push: Push) -> bool:
    """The exchange took the event, or refused it for its content (400, 422): delivered as far as EVT-07 goes, the
    content is judged by its own rule (EVT-02 … EVT-05, CODE)."""
    return push.accepted or push.status in CONTENT_REFUSALS


def _not_resent(platform: Nodes, number: str, refused: Push) -> None:
    later = platform.wait_for(
        lambda: platform.pushes(number), lambda found: bool(_resent(found, refused)), _left(refused, WATCH_SECONDS)
    )
    again = _resent(later, refused)
    if again:
        platform.observe([refused, *again])
        gap = float(again[0].entry.get("t", 0)) - float(refused.entry.get("t", 0))
        how = (
            "unchanged"
            if again[0].event == refused.event
            else f"as {again[0].event.get('step')} seq {again[0].event.get('seq')} ({again[0].event.get('event_id')})"
        )
        raise Violation(
            f"an event the exchange refused with {refused.status} was sent again, or passed, without an operator's "
            "repair",
            "no resend of a refused body (400, 409, 413, 415, 422): an operator is alerted, corrects it and sends "
            "it under a new event_id (2026.2: corrections only after repair, never automatically)",
            f"{len(again)} resend(s) of seq {refused.event.get('seq')} ({how}), the first {gap:.1f} s after the "
            f"{refused.status}",
            "treat 400, 409, 413, 415 and 422 as final for that body; retry only 5xx, time-outs and lost connections",
            f"SL of {number}",
        )


def _left(push: Push, seconds: float) -> float:
    """What is left of a watch of `seconds` from the push's arrival (at least a last look)."""
    return max(0.2, float(push.entry.get("t") or time.time()) + seconds - time.time())


def _refused(pushes: list[Push]) -> bool:
    return any(p.status == 422 for p in pushes)


def _resent(pushes: list[Push], refused: Push) -> list[Push]:
    """Pushes after the refused one that carry the same event, or its seq again: the kit repairs nothing, so
    a push of that seq is a resend or an automatic "correction" (EVT-07)."""
    after = float(refused.entry.get("t", 0))
    seq = refused.event.get("seq")
    return [  # a later seq pushed after the refusal did not wait behind it (EVT-07)
        p
        for p in pushes
        if float(p.entry.get("t", 0)) > after
        and (p.event == refused.event or int(p.event.get("seq") or 0) >= int(seq or 0))
    ]


@pytest.mark.requirement("EVT-08", clauses=["EVT-08.1", "EVT-08.2", "EVT-08.3"])
@pytest.mark.side_by_side
def test_any_2xx_counts_as_delivered(scenario: Scenario, platform: Nodes) -> None:
    """The SL is recorded but its answer is cut off: the retry is answered `200 {"duplicate": true}`; the CB
    is answered 202. Each counts as delivered: neither event comes again."""
    number = scenario.submitted()["application_no"]
    platform.drop_after_next(EXCHANGE, match=platform.scoped(number))
    scenario.driver.act("accept", number)
    sl = platform.wait_for(
        lambda: [p for p in platform.pushes(number) if p.event.get("step") == "SL" and p.accepted],
        bool,
        max(platform.wait_seconds, 4.0),  # the retry comes after ≥ 1 s (EVT-07)
    )
    if not sl:
        pytest.skip("not-applicable: the SL was not delivered after a lost answer (EVT-07 judges the retry)")
    platform.answer_next(EXCHANGE, ACCEPTED_STATUS, match=platform.scoped(number))
    scenario.driver.act("advance", number)
    cb = next((p for p in scenario.steps(number, "CB") if p.event.get("step") == "CB"), None)
    later = platform.wait_for(
        lambda: platform.pushes(number),
        lambda found: len(_resent_after_delivery(found)) > 0,
        _left(cb or sl[0], WATCH_SECONDS),
    )
    resent = _resent_after_delivery(later)
    if resent:
        platform.observe(later)
        step, statuses = resent[0]
        raise Violation(
            "a delivered event was sent again",
            f"one delivered push per event: 200 with duplicate true and {ACCEPTED_STATUS} count as delivered",
            f"{step} taken {len(statuses)} times ({statuses})",
            "treat every 2xx from the exchange as delivered, whatever its receipt says (a duplicate too)",
            f"{step} of {number}",
        )


def _resent_after_delivery(pushes: list[Push]) -> list[tuple[str, list[int]]]:
    """Events the exchange took more than once (2xx), each with the statuses of those takes."""
    taken: dict[object, list[Push]] = {}
    for push in pushes:
        if push.accepted:
            taken.setdefault(push.event.get("event_id"), []).append(push)
    return [(str(p[0].event.get("step")), [x.status for x in p]) for p in taken.values() if len(p) > 1]


@pytest.mark.requirement(
    "EVT-07",
    clauses=[
        "CODE-08.5",
        "EVAL-01.5",
        "EVAL-01.7",
        "EVAL-01.10",
        "EVAL-01.15",
        "EVT-07.21",
        "EVT-07.22",
        "EVT-07.24",
        "EVT-07.26",
    ],
)
@pytest.mark.side_by_side
def test_evaluations_are_delivered_like_events(scenario: Scenario, platform: Nodes) -> None:
    """2026.2: an evaluation taken right after accept waits for the SL (here answered 503 once), and its own 502 (a
    gateway's: any 5xx) is retried with back-off; the driver answers 200 because delivery is asynchronous (norm §11)."""
    number = scenario.submitted()["application_no"]
    platform.fail_next(EXCHANGE, 503, match=platform.scoped(number))
    scenario.driver.act("accept", number)
    sls = platform.wait_for(
        lambda: [p for p in platform.pushes(number) if p.event.get("step") == "SL"], bool, platform.wait_seconds
    )
    case_no = sls[0].event.get("case_no") if sls else None  # the SL's, refused 503 or not (the answer is ACC-02's)
    if not case_no:
        pytest.skip("not-applicable: no SL named a case_no to evaluate (ACC-01, ACC-02 judge that)")
    platform.fail_next(EVALUATIONS, EVALUATION_FAILURE, match=platform.scoped(case_no))
    answer = seen(scenario.driver.act("evaluate", case_no=case_no, level=1, comment="窗口服务评价"), "took it")
    answered(answer, 200, fix="queue the evaluation like an event and answer 200 (norm §11): never push it at once")
    budget = max(platform.wait_seconds, 8.0)  # two back-offs of ≥ 1 s
    sl_at = platform.wait_for(lambda: _sl_taken_at(platform, number), lambda found: found is not None, budget)
    if sl_at is None:
        pytest.skip("not-applicable: the exchange never took the SL the evaluation waits for (see EVT-01)")
    tries = platform.wait_for(
        lambda: [e for e in platform.traffic("exchange", EVALUATIONS, "POST") if case_no in str(e.get("request"))],
        lambda found: any(200 <= int(e.get("status") or 0) < 300 for e in found),
        budget,
    )
    for entry in tries:
        platform.evidence.observed(entry, platform.target.exchange_url)
    delivered = any(200 <= int(e.get("status") or 0) < 300 for e in tries)
    if not delivered and sum(p.accepted and p.event.get("step") == "SL" for p in platform.pushes(number)) > 1:
        pytest.skip("not-applicable: the system kept sending the SL the exchange took, see EVT-08")
    _evaluation_delivered(tries, sl_at, case_no)


EVALUATION_FAILURE = 502  # EVT-07: any 5xx is retried (the SL's 503, the event's 500, the rectification's 504)


def _sl_taken_at(platform: Nodes, number: str) -> float | None:
    """When the exchange took the application's SL (None: not yet, or never)."""
    taken = [
        p
        for p in platform.pushes(number)
        if p.accepted and p.event.get("step") == "SL" and p.node_url == platform.target.exchange_url
    ]
    return float(taken[0].entry.get("t", 0)) if taken else None


def _evaluation_delivered(tries: list[dict[str, object]], sl_at: float, case_no: str) -> None:
    statuses = [int(str(e.get("status") or 0)) for e in tries]
    times = [float(str(e.get("t") or 0)) for e in tries]
    fix = "keep evaluations in the ordered outbox: after the case's SL, retried with back-off from 1 s (EVT-07)"
    if not any(200 <= s < 300 for s in statuses):
        raise Violation("the evaluation never reached the exchange", "a 2xx after retries", statuses, fix, case_no)
    if times[0] < sl_at:
        raise Violation(
            "the evaluation was sent before the case's SL was delivered", "SL first", statuses, fix, case_no
        )
    gaps = [later - earlier for earlier, later, s in zip(times, times[1:], statuses, strict=False) if s >= 500]
    if gaps and gaps[0] < limits().first_retry_seconds - CLOCK_READING:
        title = f"an evaluation answered {EVALUATION_FAILURE} was sent again too soon"
        raise Violation(title, "≥ 1 s", f"{gaps[0]:.2f} s", fix, case_no)


def _token_retries(pushes: list[Push]) -> int:
    return sum(1 for p in pushes if p.status == 401)


@pytest.mark.requirement("EVT-07", clauses=["EVT-07.3", "EVT-07.16"])
@pytest.mark.side_by_side
def test_a_push_that_times_out_is_retried(scenario: Scenario, platform: Nodes) -> None:
    """The exchange holds its answer to the SL for twice ROB-01's budget of one platform call: a system that timed
    out sends the SL again until delivered, and its CB after it; nothing is lost."""
    number = scenario.submitted()["application_no"]
    hold = 2 * limits().platform_call_seconds
    platform.slow_next(EXCHANGE, hold, 1, node="exchange", match=platform.scoped(number))
    scenario.driver.act("accept", number)
    scenario.driver.act("advance", number)
    budget = max(platform.wait_seconds, hold + 10.0)  # the hold, then back-offs of ≥ 1 s
    pushes = platform.wait_for(
        lambda: platform.pushes(number),
        lambda found: any(p.event.get("step") == "CB" and _answered(p) for p in found),
        budget,
    )
    platform.observe(pushes)
    steps = [(p.event.get("step"), p.status or "no answer") for p in pushes]
    if not any(p.event.get("step") == "SL" for p in pushes):
        pytest.skip("not-applicable: the system pushed no SL to time out (see EVT-01)")
    if not any(p.event.get("step") == "SL" and p.accepted for p in pushes) and any(
        p.event.get("step") == "SL" and p.status in CONTENT_REFUSALS for p in pushes
    ):
        pytest.skip("not-applicable: the exchange refused the SL for its content (its rule judges it: EVT-02, ACC-03)")
    taken = [p for p in pushes if _answered(p)]  # a CB refused for its content is EVT-02's
    if case_steps(taken)[:2] != ["SL", "CB"]:
        raise Violation(
            "an event whose push timed out was not delivered, or the one behind it was lost",
            f"the SL sent again after a time-out (the exchange held its answer {hold:g} s) until delivered, then CB",
            f"{len(pushes)} push(es) within {budget:g} s: {steps}",
            "time out a push that gets no answer and retry it with back-off like a 5xx, keeping the later "
            "events of the application waiting behind it",
            f"application {number}",
        )


RECTIFICATION_FAILURE = 504  # EVT-07: any 5xx is retried


@pytest.mark.requirement("EVT-07", clauses=["EVT-07.23"])
@pytest.mark.side_by_side
def test_a_rectification_is_retried_with_backoff(scenario: Scenario, platform: Nodes) -> None:
    """A bad review rectified while the exchange answers 504 (a gateway's time-out: any 5xx) to the rectification: the
    driver answers 200 (queued), and the rectification is sent again after ≥ 1 s until delivered."""
    _, sl, case_no = scenario.case()
    if sl.status in CONTENT_REFUSALS:
        pytest.skip("not-applicable: the exchange refused the case's SL for its content; what follows waits behind it")
    evaluation = seen(scenario.driver.act("evaluate", case_no=case_no, level=1, comment="等待时间过长"), "took it")
    evaluation_id = (body_of(evaluation) or {}).get("evaluation_id") if evaluation.status_code == 200 else None
    if not evaluation_id:
        pytest.skip("not-applicable: the system took no bad review to rectify (see EVAL-01)")
    platform.fail_next(RECTIFICATIONS, RECTIFICATION_FAILURE, match=platform.scoped(evaluation_id))
    answer = seen(
        scenario.driver.act("rectify", case_no=case_no, evaluation_id=evaluation_id, action="已约谈窗口人员并整改"),
        "recorded the rectification",
    )
    answered(answer, 200, fix="queue the rectification like an event and answer 200 (norm §11): never push it at once")
    tries = platform.wait_for(
        lambda: [
            e for e in platform.traffic("exchange", RECTIFICATIONS, "POST") if evaluation_id in str(e.get("request"))
        ],
        lambda found: any(200 <= int(e.get("status") or 0) < 300 for e in found),
        max(platform.wait_seconds, 8.0),
    )
    for entry in tries:
        platform.evidence.observed(entry, platform.target.exchange_url)
    statuses = [int(str(e.get("status") or 0)) for e in tries]
    times = [float(str(e.get("t") or 0)) for e in tries]
    fix = "keep rectifications in the ordered outbox, retried with back-off from 1 s until delivered (EVT-07)"
    where = f"rectification of {evaluation_id}"
    if not any(200 <= s < 300 for s in statuses):
        title = f"a rectification answered {RECTIFICATION_FAILURE} was never delivered"
        raise Violation(title, "a 2xx after retries", statuses, fix, where)
    if len(times) > 1 and times[1] - times[0] < limits().first_retry_seconds - CLOCK_READING:
        gap = f"{times[1] - times[0]:.2f} s"
        title = f"a rectification answered {RECTIFICATION_FAILURE} was sent again too soon"
        raise Violation(title, "≥ 1 s", gap, fix, where)


@pytest.mark.requirement("EVT-07", clauses=["EVT-07.25"])
def test_a_driver_action_answers_before_the_exchange_takes_its_event(scenario: Scenario, platform: Nodes) -> None:
    """The exchange answers 503 to the next two pushes, so the SL is delivered ≥ 3 s after accept: the driver
    answers 200 at once (the event is queued, delivery is asynchronous), before the exchange took the SL."""
    number = scenario.submitted()["application_no"]
    platform.fail_next(EXCHANGE, 503, count=2)
    answer = seen(scenario.driver.act("accept", number), "answered accept")
    taken = [p for p in platform.pushes(number) if p.accepted and p.event.get("step") == "SL"]
    answered(answer, 200, fix="queue the SL and answer 200 while the exchange fails (§11: delivery is asynchronous)")
    if taken:
        platform.observe(taken)
        raise Violation(
            "the driver answered only once the exchange had taken the event",
            "200 as soon as the event is queued, before delivery (the exchange answered 503 twice: ≥ 3 s of back-off)",
            f"the SL taken at {taken[0].entry.get('at')}, before the driver's answer",
            "answer the clerk's action when its event is queued; deliver from the outbox asynchronously",
            f"the driver's accept of {number}",
        )
