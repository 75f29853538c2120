"""Chapter 8: process data and exchange — every step pushed, shaped, ordered, timed, delivered (EVT-01…08)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from yzw.client import SignedClient
from yzw.codes.times import CN_TZ
from yzw.conformance.checks.answers import answered, equal
from yzw.conformance.checks.events import in_order, schema_valid, within_deadline
from yzw.conformance.driver import seen
from yzw.conformance.nodes import Nodes, Push, distinct
from yzw.conformance.scenario import FULL_CASE, Scenario
from yzw.conformance.violations import Violation
from yzw.run.target import Target
from yzw.spec.limits import limits

CLOCK_READING = 0.05  # EVT-07's first retry is judged less the two nodes' clock reading
WATCH_SECONDS = 2.5  # how long after a push the kit watches for it to come again: the first retry comes ≥ 1 s
EXCHANGE = "/exchange/v1/events"
EVALUATIONS = "/exchange/v1/evaluations"
NOTICES = "/yzw/v1/supervision/notices"


@pytest.mark.requirement("EVT-01")
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
    steps = [p.event.get("step") for p in distinct(pushes) if p.accepted]
    equal(
        "the steps the exchange took",
        steps,
        list(FULL_CASE),
        fix="push every step, signed with an exchange:write token, to the exchange of the own tier",
        where=f"application {number} at {target.exchange_url}",
    )


@pytest.mark.requirement("EVT-02")
def test_events_carry_every_member_and_the_steps_payload(scenario: Scenario) -> None:
    _, pushes = scenario.completed()
    schema_valid(distinct(pushes), "EVT-02")


@pytest.mark.requirement("EVT-02")
def test_events_the_system_makes_itself_name_the_system(scenario: Scenario, sut: SignedClient, target: Target) -> None:
    """2026.2: an FK (the answer to a card notice) is the system's own event: its handler is the system's app_id."""
    application, _, case_no = scenario.case()
    answered(
        sut.request("POST", target.base_url + NOTICES, json=scenario.factory.notice(case_no)),
        200,
        fix="answer a signed card notice 200 (SUP-02)",
    )
    pushes = distinct(scenario.steps(application["application_no"], "FK"))
    fk = next((p for p in pushes if p.event.get("step") == "FK"), None)
    if fk is None:
        pytest.skip("not-applicable: no FK came to judge (SUP-02 judges the answer to a notice, EVT-01 held steps)")
    handler = fk.event.get("handler") if isinstance(fk.event.get("handler"), dict) else {}
    if handler.get("id") != target.app_id or not str(handler.get("name") or "").strip():
        raise Violation(
            "an event the system made by itself does not name the system as its handler",
            f'handler {{"id": "{target.app_id}", "name": <non-empty>}} (the registered app_id)',
            handler,
            "give events no clerk made (BZJ, FK) the handler {id: the system's app_id, name: the system's name}",
            f"FK of {application['application_no']}",
        )


@pytest.mark.requirement("EVT-03")
def test_events_follow_the_norms_order(scenario: Scenario) -> None:
    _, pushes = scenario.completed()
    in_order(distinct(pushes), "EVT-03")


@pytest.mark.requirement("EVT-04")
def test_event_times_are_ordered_and_plausible(scenario: Scenario) -> None:
    application, pushes = scenario.completed()
    in_order(distinct(pushes), "EVT-04", application["submitted_at"])


@pytest.mark.requirement("EVT-04")
def test_events_never_precede_the_platforms_submitted_at(scenario: Scenario) -> None:
    """2026.2: with the platform's clock ahead of the system's, the system takes submitted_at as the earliest
    occurred_at, and the times stay non-decreasing after it."""
    now = dt.datetime.now(CN_TZ).replace(microsecond=0)
    end_of_day = now.replace(hour=23, minute=59, second=59)  # the number's date is the submission's (CODE-05)
    ahead = min(now + dt.timedelta(seconds=limits().clock_skew_seconds / 2), end_of_day)
    application = scenario.submitted(submitted=ahead)
    number = application["application_no"]
    scenario.driver.act("accept", number)
    scenario.pushed(number, "SL")
    scenario.driver.act("advance", number)
    in_order(distinct(scenario.steps(number, "SL", "CB")), "EVT-04", application["submitted_at"])


@pytest.mark.requirement("EVT-05")
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


@pytest.mark.requirement("EVT-06")
def test_events_reach_the_exchange_within_12_hours(scenario: Scenario, platform: Nodes) -> None:
    application, _ = scenario.completed()
    events = platform.events(application["application_no"])
    platform.evidence.delays.extend(
        {"application_no": e["application_no"], "step": e["step"], "delay_seconds": float(e.get("delay_seconds") or 0)}
        for e in events
    )
    real_time, deadline = limits().real_time_seconds, limits().event_deadline_seconds
    slow = [e for e in events if real_time < float(e.get("delay_seconds") or 0) <= deadline]
    if slow:
        platform.evidence.note(f"SHOULD: {len(slow)} event(s) took longer than the real-time aim of {real_time:g} s")
    within_deadline(events)


@pytest.mark.requirement("EVT-07")
def test_a_5xx_is_retried_with_backoff_and_a_refused_body_is_not_resent(scenario: Scenario, platform: Nodes) -> None:
    """Two applications side by side, so that the two waits overlap: the SL of the first is refused (422) and
    must not come again unchanged; the SL of the second is answered 503 and must come again, after ≥ 1 s, once."""
    first, second = scenario.submitted()["application_no"], scenario.submitted()["application_no"]
    platform.fail_next(EXCHANGE, 422)
    scenario.driver.act("accept", first)
    refused = next((p for p in platform.wait_for(lambda: platform.pushes(first), _refused) if p.status == 422), None)
    platform.fail_next(EXCHANGE, 503)
    scenario.driver.act("accept", second)
    _retried_with_backoff(platform, second)
    if refused is None:
        pytest.skip("not-applicable: the system pushed nothing for the exchange to refuse (EVT-01 judges that)")
    _not_resent(platform, first, refused)


def _retried_with_backoff(platform: Nodes, number: str) -> None:
    budget = max(platform.wait_seconds, 8.0)  # back-off starts at ≥ 1 s and grows
    pushes = platform.wait_for(
        lambda: platform.pushes(number), lambda found: any(p.status < 500 for p in found), budget
    )
    platform.observe(pushes)
    failed = [p for p in pushes if p.status >= 500]
    retried = [p for p in pushes if p.status < 500]
    if not retried:
        raise Violation(
            "an event answered 503 was not pushed again",
            f"a retry with back-off from ≥ {limits().first_retry_seconds:g} s until the exchange answers it",
            f"{len(pushes)} attempt(s) after the 503 within {budget:g} s",
            "retry 5xx, time-outs and connection failures with growing back-off; keep the event",
            f"SL of {number}",
        )
    if failed:  # the traffic log has the arrival times
        gap = float(retried[0].entry.get("t", 0)) - float(failed[0].entry.get("t", 0))
        first_retry = limits().first_retry_seconds - CLOCK_READING
        if gap < first_retry:
            raise Violation(
                "an event answered 503 was sent again too soon",
                f"the first retry no sooner than {first_retry:g} s, the later ones further apart",
                f"{gap:.2f} s after the 503",
                "back off before retrying: 1 s, 2 s, 4 s … (EVT-07)",
                f"SL of {number}",
            )
    taken = {p.event.get("event_id") for p in pushes if p.accepted}
    equal(
        "events the exchange took for one SL",
        len(taken),
        min(len(taken), 1),
        fix="retry the same event (same event_id), never a copy",
        where=f"SL of {number}",
    )


def _not_resent(platform: Nodes, number: str, refused: Push) -> None:
    later = platform.wait_for(
        lambda: platform.pushes(number), lambda found: bool(_resent(found, refused)), _left(refused, WATCH_SECONDS)
    )
    again = _resent(later, refused)
    if again:
        platform.observe([refused, *again])
        gap = float(again[0].entry.get("t", 0)) - float(refused.entry.get("t", 0))
        how = "unchanged" if again[0].event == refused.event else f"as event {again[0].event.get('event_id')}"
        raise Violation(
            "an event the exchange refused with 422 was sent again without an operator's repair",
            "no resend of a refused body (400, 409, 413, 415, 422): an operator is alerted, corrects it and sends "
            "it under a new event_id (2026.2: corrections only after repair, never automatically)",
            f"{len(again)} resend(s) of seq {refused.event.get('seq')} ({how}), the first {gap:.1f} s after the 422",
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
    return [
        p
        for p in pushes
        if float(p.entry.get("t", 0)) > after and (p.event == refused.event or p.event.get("seq") == seq)
    ]


@pytest.mark.requirement("EVT-08")
def test_any_2xx_counts_as_delivered(scenario: Scenario, platform: Nodes) -> None:
    application, sl = scenario.accepted()
    number = application["application_no"]
    later = platform.wait_for(
        lambda: platform.pushes(number), lambda found: len(found) > 1 + _token_retries(found), _left(sl, WATCH_SECONDS)
    )
    resent = [p for p in later if p.event.get("event_id") == sl.event.get("event_id") and p.accepted]
    if len(resent) > 1:
        platform.observe(later)
        raise Violation(
            "a delivered event was sent again",
            "one push per event once the exchange answered 2xx",
            f"{len(resent)} accepted pushes of one event_id ({[p.status for p in resent]})",
            "treat every 2xx from the exchange as delivered",
            f"SL of {number}",
        )


@pytest.mark.requirement("EVT-07")
def test_evaluations_are_delivered_like_events(scenario: Scenario, platform: Nodes) -> None:
    """2026.2: an evaluation taken right after accept waits for the SL (here answered 503 once), and its own
    503 is retried with back-off; the driver answers 200 because delivery is asynchronous (norm §11)."""
    number = scenario.submitted()["application_no"]
    platform.fail_next(EXCHANGE, 503)
    accepted = scenario.driver.act("accept", number)
    case_no = accepted.json().get("case_no") if accepted is not None and accepted.status_code == 200 else None
    if not case_no:
        pytest.skip("not-applicable: the accept named no case_no to evaluate (ACC-02 judges that)")
    platform.fail_next(EVALUATIONS, 503)
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
        raise Violation("an evaluation answered 503 was sent again too soon", "≥ 1 s", f"{gaps[0]:.2f} s", fix, case_no)


def _token_retries(pushes: list[Push]) -> int:
    return sum(1 for p in pushes if p.status == 401)
