"""Judge a stream of pushed events record by record: schema and codes, order, times, delay (EVT-02…06, CODE-xx)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from yzw.audit.reader import Line
from yzw.codes.lists import code_list
from yzw.spec import validate
from yzw.spec.events import History, judge
from yzw.spec.limits import hours, limits
from yzw.spec.monitoring import Monitor
from yzw.spec.validate import detect_kind

EVENT_MEMBERS = frozenset({"event_id", "application_no", "seq", "step", "occurred_at"})
APPLICATION_NO_LENGTH = 23  # CODE-05


@dataclass(frozen=True, slots=True)
class BadRecord:
    """One record the audit refuses: where it is, which requirement it breaks, the member and the reason.
    (Slots: an audit holds every one of them, ≈ 1 % of a dump's records.)"""

    source: str
    line: int
    requirement: str
    member: str
    reason: str
    event_id: str = ""
    application_no: str = ""


@dataclass
class Audit:
    """The state of an audit: the histories of the applications in hand, the KPI monitor, the bad records.

    Fed records grouped by application (`grouping.by_application`), it holds one application at a time.
    """

    monitor: Monitor
    histories: dict[str, History] = field(default_factory=dict)
    bad: list[BadRecord] = field(default_factory=list)
    records: int = 0
    current: str | None = None

    def feed(self, line: Line) -> BadRecord | None:
        """Judge one line; the first thing wrong with it, if anything, is kept and returned."""
        self.records += 1
        number = str((line.record or {}).get("application_no", "")) if line.record is not None else None
        if number is not None and number != self.current:
            self.finish_application()
            self.current = number
        found = self._judged(line)
        if found is not None:
            self.bad.append(found)
        return found

    def finish_application(self) -> None:
        """The application in hand is complete: count it into its department and forget it."""
        if self.current is not None:
            self.histories.pop(self.current, None)
            self.monitor.fold(self.current)
            self.current = None

    def sorted_bad(self) -> list[BadRecord]:
        return sorted(self.bad, key=lambda bad: (bad.source, bad.line))

    def _judged(self, line: Line) -> BadRecord | None:
        if line.record is None:
            return BadRecord(line.source, line.number, "MSG-01", "", str(line.problem))
        event = line.record
        number = str(event.get("application_no", ""))

        def bad(requirement: str, member: str, reason: str) -> BadRecord:
            return BadRecord(
                line.source, line.number, requirement, member, reason, str(event.get("event_id", "")), number
            )

        if not event.keys() >= EVENT_MEMBERS:
            kind = detect_kind(event)
            missing = ", ".join(sorted(EVENT_MEMBERS - event.keys()))
            return bad("EVT-02", "", f"a {kind} record, not an event" if kind else f"not an event: no {missing}")
        shape = validate("event", event)
        unusable = unusable_member(event)
        if unusable is not None:  # neither its order nor the KPIs can be judged on it: its shape is all we say
            first = shape[0] if shape else None
            return bad(first.requirement, first.path, first.reason) if first else bad("EVT-02", *unusable)
        history = self.histories.get(number, History())
        verdict = judge(history, event, _arrival(event))
        delay = _delay(event)
        if verdict.reason is None:
            self.histories[number] = verdict.history  # the event happened, even when malformed
            known = delay is None or "delay_seconds" in event
            self.monitor.add(event if known else {**event, "delay_seconds": delay})
        if shape:
            first = shape[0]
            return bad(first.requirement, first.path, first.reason)
        if verdict.reason is not None:
            return bad(str(verdict.requirement), f"/{verdict.member}", verdict.reason)
        deadline = limits().event_deadline_seconds
        if delay is not None and delay > deadline:
            reason = f"arrived {delay / 3600:.1f} h after occurred_at (the limit is {hours(deadline)})"
            return bad("EVT-06", "/received_at", reason)
        return None


def unusable_member(event: dict[str, Any]) -> tuple[str, str] | None:
    """The first member the order judge and the KPIs read that this event gives in a form they cannot read
    (member, reason), or None. Such an event is a bad record for its shape alone: what happened cannot be told,
    so it neither moves its application's history nor counts in the KPIs."""
    for member in ("application_no", "dept_uscc", "division_code", "item_code"):
        if not isinstance(event.get(member), str) or not event[member]:
            return f"/{member}", "a non-empty string is needed"
    if len(event["application_no"]) != APPLICATION_NO_LENGTH:
        return "/application_no", f"{APPLICATION_NO_LENGTH} characters are needed (CODE-05)"
    if not isinstance(event.get("step"), str) or event["step"] not in code_list("steps"):
        return "/step", "one of the norm's steps is needed (EVT-02)"
    if not isinstance(event.get("seq"), int) or isinstance(event["seq"], bool):
        return "/seq", "an integer is needed"
    if event.get("case_no") is not None and not isinstance(event["case_no"], str):
        return "/case_no", "a string or null is needed"
    payload = event.get("payload", {})
    if not isinstance(payload, dict):
        return "/payload", "an object is needed"
    times = {"/occurred_at": event.get("occurred_at"), "/payload/promised_due_at": payload.get("promised_due_at", "")}
    for member, value in times.items():
        if value != "" and not _time(value):
            return member, "an RFC 3339 time is needed"
    for member in ("promised_days", "legal_days"):
        if member in payload and (not isinstance(payload[member], int) or isinstance(payload[member], bool)):
            return f"/payload/{member}", "an integer is needed"
    if "licenses" in payload and not isinstance(payload["licenses"], list):
        return "/payload/licenses", "a list is needed"
    return None


def _time(value: Any) -> bool:
    try:
        return isinstance(value, str) and dt.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _arrival(event: dict[str, Any]) -> str | None:
    value = event.get("received_at")
    return str(value) if isinstance(value, str) else None


def _delay(event: dict[str, Any]) -> float | None:
    if isinstance(event.get("delay_seconds"), int | float):
        return float(event["delay_seconds"])
    arrival = _arrival(event)
    try:
        return (
            (dt.datetime.fromisoformat(arrival) - dt.datetime.fromisoformat(str(event["occurred_at"]))).total_seconds()
            if arrival
            else None
        )
    except ValueError:
        return None
