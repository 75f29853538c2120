"""Rules on the events a system pushed (norm §8), judged on what the exchange received."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from yzw.conformance.nodes import Push, body_form
from yzw.conformance.violations import Violation
from yzw.spec import validate
from yzw.spec.events import first_violation
from yzw.spec.findings import ATTRIBUTED, Finding
from yzw.spec.limits import hours, limits

TIME_FIELDS = re.compile(r"(_at|_time)$")


def _where(push: Push) -> str:
    event = push.event
    return f"event {event.get('step')} (seq {event.get('seq')}) of application {event.get('application_no')}"


def accepted(pushes: Iterable[Push]) -> None:
    """EVT-01/EVT-08: the exchange took every push; a refusal shows the exchange's reason."""
    for push in pushes:
        if not push.accepted:
            raise Violation(
                "the exchange refused a pushed event",
                "2xx from the exchange for every event",
                f"{push.status} {push.answer[:300]}",
                "push events that follow the norm; the exchange's answer names the rule broken",
                _where(push),
            )


PAYLOAD_RULES = frozenset({"ACC-01", "ACC-03", "ACC-05", "EVT-05"})  # EVT-02 names their payloads by them
ORDER_RULES = frozenset({"EVT-03", "EVT-04"})  # a seq below 1 is EVT-03's (seq starts at 1), not the shape's


def _owned_by(finding: Finding, step: object, rule: str) -> bool:
    """Which event rule a schema finding belongs to: the BYSL, SL, BZ/BZJ and BJ payloads are those of the rules
    EVT-02 names for them (ACC-01, ACC-03, ACC-05, EVT-05: the schema's x-requirement); code rules and the findings
    the norm's attribution rule gives another chapter (ACC-06, MSG-03: yzw.spec.findings) their own."""
    if finding.requirement.startswith("CODE-") or finding.requirement in ATTRIBUTED | ORDER_RULES:
        return finding.requirement == rule
    if finding.path.startswith("/payload") and finding.requirement in PAYLOAD_RULES:
        return finding.requirement == rule
    return rule == "EVT-02"


def pushed_in_form(pushes: Iterable[Push]) -> None:
    """EVT-01: one event goes alone, as the event object, to /exchange/v1/events; a batch goes wrapped as
    {"events": [...]} to /exchange/v1/events:batch."""
    for push in pushes:
        path = str(push.entry.get("path", ""))
        wanted = "batch" if path.endswith(":batch") else "event"
        form = body_form(push.entry)
        if form != wanted:
            raise Violation(
                f"a push to {path} holds {FORMS[form]}, not {FORMS[wanted]}",
                'one event object to POST /exchange/v1/events; {"events": [...]} to POST /exchange/v1/events:batch',
                f"{FORMS[form]} at POST {path}, answered {push.status} {push.answer[:200]}",
                'push a single event as the event object to /exchange/v1/events and a batch wrapped as {"events": '
                "[...]} (at most 500) to /exchange/v1/events:batch",
                _where(push),
            )


FORMS = {
    "event": "one event object",
    "batch": 'a batch {"events": [...]}',
    "array": "a bare JSON array of events",
    "other": "no event",
}


def schema_valid(pushes: Iterable[Push], rule: str) -> None:
    """EVT-02 (shape) or EVT-05 (BJ payload): each event validates; only the findings `rule` owns count."""
    for push in pushes:
        findings = [f for f in validate("event", push.event) if _owned_by(f, push.event.get("step"), rule)]
        if findings:
            first = findings[0]
            raise Violation(
                f"the event does not follow the schema at {first.path or '/'}",
                "an event valid against specs/schemas/event.schema.json",
                f"{first.path}: {first.reason}",
                f"send {first.field or 'the member'} as the schema defines it",
                _where(push),
            )


def consistent(pushes: Sequence[Push], application: dict[str, Any], dept_uscc: str) -> None:
    """EVT-02 beyond the schema: every event names the application, its division and item, the system's
    department, no case_no before SL and the SL's after it, and an event_id of its own."""
    case_no: Any = None
    seen_ids: dict[Any, Any] = {}
    for push in pushes:
        event = push.event
        case_no = event.get("case_no") if event.get("step") == "SL" else case_no
        expected = {
            "application_no": application["application_no"],
            "division_code": application["division_code"],
            "item_code": application["item_code"],
            "dept_uscc": dept_uscc,
            "case_no": case_no,
        }
        for member, value in expected.items():
            if event.get(member) != value and not (member == "case_no" and event.get("step") == "BYSL"):
                raise Violation(
                    f"the event's {member} is not the one the norm names",
                    f"{member} {value!r} ({_MEANING[member]})",
                    event.get(member),
                    f"send {member} as EVT-02 defines it",
                    _where(push),
                )
        earlier = seen_ids.setdefault(event.get("event_id"), event.get("seq"))
        if earlier != event.get("seq"):
            raise Violation(
                "two events share one event_id",
                "a new UUID per event",
                f"event_id {event.get('event_id')} on seq {earlier} and seq {event.get('seq')}",
                "give every event its own event_id (a re-send keeps it)",
                _where(push),
            )


_MEANING = {
    "application_no": "the application's",
    "division_code": "the application's division, not the system's",
    "item_code": "the application's item",
    "dept_uscc": "the system's registered department",
    "case_no": "null before SL, then the case_no SL assigned",
}


def attributed_to(pushes: Sequence[Push], rule: str) -> None:
    """The findings the norm's attribution rule gives `rule` (ACC-06, MSG-03), in shape or order, of any push."""
    events = [p.event for p in pushes]
    found = [(i, f) for i, e in enumerate(events) for f in validate("event", e) if f.requirement == rule]
    order = first_violation(events)
    if order is not None and order.requirement == rule:
        found.append((int(order.path.split("/")[1]), order))
    if found:
        index, finding = min(found, key=lambda pair: pair[0])
        raise Violation(
            f"{finding.field or 'the event'} breaks {rule}: {finding.reason}",
            "no case_no and no event after BYSL (ACC-06); a non-empty name wherever a name is sent (MSG-03)",
            f"{finding.path}: {finding.reason}",
            f"send {finding.field or 'the event'} as {rule} says",
            _where(pushes[index]),
        )


def in_order(pushes: Sequence[Push], rule: str, submitted_at: str | None = None) -> None:
    """EVT-03 (order) or EVT-04 (times, arrival included): the first violation of `rule` in the pushed events;
    an event without a seq, step or occurred_at of EVT-02's shape is EVT-02's, and left out of the order."""
    pushes = [p for p in pushes if not any(_misshapen(f) for f in validate("event", p.event))]
    events = [{**p.event, "received_at": p.entry.get("at")} for p in pushes]
    numbers = {str(e.get("application_no")) for e in events}
    finding = first_violation(events, dict.fromkeys(numbers, submitted_at) if submitted_at else None)
    if finding is not None and finding.requirement == rule:
        index = int(finding.path.split("/")[1])
        raise Violation(
            f"events break the norm's order: {finding.reason}",
            "seq from 1 without gaps, steps in the norm's pattern, times non-decreasing and not in the future",
            [f"{e.get('seq')}:{e.get('step')}@{e.get('occurred_at')}" for e in events],
            "push steps in the order they happen, each once, with the time it happened",
            _where(pushes[index]),
        )


def field_equal(push: Push, path: str, expected: Any, *, fix: str) -> None:
    """One member of the event (dotted path) has the value the norm fixes."""
    value: Any = push.event
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value != expected:
        raise Violation(f"{path} is not as the norm fixes it", repr(expected), value, fix, _where(push))


def times_in_zone(pushes: Iterable[Push]) -> list[tuple[str, str, Push]]:
    """Every time member of every event, with its path, for CODE-08."""
    found = []
    for push in pushes:
        for path, value in _leaves(push.event, ""):
            if TIME_FIELDS.search(path) and isinstance(value, str):
                found.append((path, value, push))
    return found


def _leaves(value: Any, path: str) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def within_deadline(events: Iterable[dict[str, Any]]) -> None:
    """EVT-06: each event reached the own tier's exchange within 12 hours of occurred_at."""
    deadline, real_time = limits().event_deadline_seconds, limits().real_time_seconds
    for event in events:
        delay = float(event.get("delay_seconds") or 0)
        if delay > deadline:
            raise Violation(
                f"an event reached the exchange more than {hours(deadline)} after it happened",
                f"delay ≤ {deadline} s ({hours(deadline)}); real time ≤ {real_time:g} s is the norm's aim",
                f"{delay:.0f} s ({delay / 3600:.1f} h) for occurred_at {event.get('occurred_at')}",
                "push each step when it happens, not in a nightly batch",
                f"event {event.get('step')} of application {event.get('application_no')}",
            )


SYSTEM_CHANNELS = "35"  # CODE-05: window and agent-point numbers, the applications a system announces with SB


def case_steps(pushes: Iterable[Push]) -> list[Any]:
    """The steps of the pushes, in order, an SB of an online application left out: EVT-02 judges that finding (SB
    is for the window and agent-point applications only), not the checks that compare an application's steps."""
    return [
        p.event.get("step")
        for p in pushes
        if not (p.event.get("step") == "SB" and str(p.event.get("application_no") or "")[6:7] not in SYSTEM_CHANNELS)
    ]


ORDER_MEMBERS = ("/application_no", "/seq", "/step", "/occurred_at")  # what EVT-03 and EVT-04 read of each event


def _misshapen(finding: Finding) -> bool:
    """A member the order reads is missing or no step code: EVT-02's finding (a time's format is CODE-08's and
    stays in the order)."""
    return finding.path in ORDER_MEMBERS and finding.requirement == "EVT-02"


CONTENT_REFUSALS = (400, 422)  # EVT-08: schema, code, order or time; judged by the rule of that content


def judged_prefix(
    pushes: Iterable[Push], wanted: Sequence[str], aside: frozenset[str] = frozenset()
) -> tuple[list[Any], list[str]]:
    """The steps pushed and the steps wanted, up to the first push the exchange refused for its content (400,
    422): that refusal is judged by the rule of its content (EVT-02 … EVT-05, CODE), and the steps after it
    rightly wait behind it (EVT-07), so a check of which steps were pushed compares no further. Steps `aside`
    (FK) and events with no step code or seq (EVT-02's) are not compared, but a refusal of one ends the
    comparison too."""
    kept = [p for p in pushes if (p.accepted or p.status in CONTENT_REFUSALS) and case_steps([p])]
    refused = next((i for i, p in enumerate(kept) if not p.accepted), None)
    compared = [p for p in (kept if refused is None else kept[: refused + 1]) if p.event.get("step") not in aside]
    steps = case_steps(p for p in compared if not any(_misshapen(f) for f in validate("event", p.event)))
    return steps, list(wanted) if refused is None else list(wanted)[: len(steps)]


def first_step(pushes: Iterable[Push], steps: Sequence[str]) -> str | None:
    """The first of `steps` the system pushed (e.g. its first decision), or None."""
    return next((str(p.event.get("step")) for p in pushes if p.event.get("step") in steps), None)


def with_step(step: str) -> Callable[[Sequence[Push]], bool]:
    """A `Nodes.wait_for` condition: a push of `step` is among the pushes (delivered or not)."""
    return lambda pushes: any(p.event.get("step") == step for p in pushes)
