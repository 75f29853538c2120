"""EVT-03 order and EVT-04 times over a list of events, from specs/rules/events.yaml."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from yzw.content import content_path
from yzw.errors import SpecError
from yzw.spec.findings import Finding, attributed
from yzw.spec.limits import limits


@dataclass(frozen=True)
class OrderRules:
    """The transition table of EVT-03 and the clock skew of EVT-04."""

    first: frozenset[str]
    after: Mapping[str, frozenset[str] | None]  # None: "resume", the suspended step's successors
    anywhere_after_acceptance: frozenset[str]
    acceptance: str
    skew: dt.timedelta


@cache
def order_rules() -> OrderRules:
    path = content_path("specs", "rules", "events.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        after = {step: None if nxt == "resume" else frozenset(nxt) for step, nxt in data["after"].items()}
        return OrderRules(
            frozenset(data["first"]),
            after,
            frozenset(data["after_acceptance_anywhere"]),
            data["acceptance"],
            dt.timedelta(seconds=limits().clock_skew_seconds),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise SpecError(f"cannot read the event order rules {path}: {exc}") from exc


@cache
def status_after() -> dict[str | None, str]:
    """APP-07: the status query's answer after each step (None: before any event), from specs/rules."""
    path = content_path("specs", "rules", "events.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))["status"]
        return {None: str(data["none"]), **{str(step): str(status) for step, status in data["after"].items()}}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise SpecError(f"cannot read the status rules {path}: {exc}") from exc


def _time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class History:
    """What EVT-03/04 need to know of one application's accepted events, to judge the next one."""

    seq: int = 0
    step: str | None = None
    suspended_at: str | None = None
    accepted: bool = False
    last_time: str | None = None
    submitted_at: str | None = None

    def allowed(self, rules: OrderRules) -> frozenset[str]:
        if self.step is None:
            return rules.first
        nxt = rules.after.get(self.step, frozenset())
        if nxt is None:  # HF: resume where the case was suspended
            return rules.after.get(self.suspended_at or "", frozenset()) or frozenset()
        return nxt


@dataclass(frozen=True)
class Verdict:
    """The judgement of one event: the history after it, or the finding that refuses it."""

    history: History
    member: str | None = None
    reason: str | None = None
    requirement: str | None = None


def judge(history: History, event: Mapping[str, Any], received_at: str | None = None) -> Verdict:
    """EVT-03 then EVT-04 for the next event of an application; a refused event leaves `history` as it was."""
    rules = order_rules()
    order = _order_problem(history, event, rules)
    if order:
        member = "seq" if order.startswith("seq") else "step"
        return Verdict(history, member, order, attributed("EVT-03", member, after=history.step))
    timing = _timing_problem(history, event, received_at, rules)
    if timing:
        return Verdict(history, "occurred_at", timing, "EVT-04")
    step: str | None = sys.intern(str(event.get("step")))  # one string per step name, however many histories hold
    occurred = str(event["occurred_at"]) if _time(event.get("occurred_at")) else history.last_time
    if step in rules.anywhere_after_acceptance:  # FK: counted and timed, but no step of the case
        step, suspended_at, accepted = history.step, history.suspended_at, history.accepted
    else:
        # A suspension keeps the phase the case is in: after a resume (HF) that is still the phase of before.
        phase = history.suspended_at if history.step == "HF" else history.step
        suspended_at = phase if step == "GQ" else history.suspended_at
        accepted = history.accepted or step == rules.acceptance
    return Verdict(History(history.seq + 1, step, suspended_at, accepted, occurred, history.submitted_at))


def _order_problem(history: History, event: Mapping[str, Any], rules: OrderRules) -> str | None:
    seq, step = event.get("seq"), event.get("step")
    if seq != history.seq + 1:
        return f"seq {seq!r} does not follow {history.seq} (seq starts at 1 and grows by 1 without gaps)"
    if step in rules.anywhere_after_acceptance:
        return None if history.accepted else f"{step} may only follow acceptance ({rules.acceptance})"
    allowed = history.allowed(rules)
    if step not in allowed:
        after = f"after {history.step}" if history.step else "as the first step"
        return f"step {step!r} may not stand {after}; allowed: {', '.join(sorted(allowed)) or 'nothing'}"
    return None


def _timing_problem(
    history: History, event: Mapping[str, Any], received_at: str | None, rules: OrderRules
) -> str | None:
    occurred = _time(event.get("occurred_at"))
    if occurred is None:
        return None  # the schema reports a malformed time
    arrived = _time(received_at or event.get("received_at"))
    submitted, last = _time(history.submitted_at), _time(history.last_time)
    said = f"occurred_at {event['occurred_at']}"
    if submitted and occurred < submitted:
        return f"{said} is earlier than the application's submitted_at {history.submitted_at}"
    if last and occurred < last:
        return f"{said} is earlier than the previous event's {history.last_time}"
    if arrived and occurred > arrived + rules.skew:
        return f"{said} is later than its arrival {received_at or event.get('received_at')} + {rules.skew}"
    return None


def order_findings(events: Iterable[Mapping[str, Any]], submitted_at: Mapping[str, str] | None = None) -> list[Finding]:
    """EVT-03/EVT-04 findings over events in seq order per application; at most one per application.

    `submitted_at` maps application_no → submitted_at where the platform knows it. An event may carry
    `received_at` (its arrival), for the future-time check.
    """
    histories: dict[Any, History] = {}
    judged: set[Any] = set()
    findings = []
    for index, event in enumerate(events):
        number = event.get("application_no")
        if number in judged:
            continue
        history = histories.get(number) or History(submitted_at=(submitted_at or {}).get(str(number)))
        verdict = judge(history, event)
        if verdict.reason is None:
            histories[number] = verdict.history
            continue
        judged.add(number)
        member = str(verdict.member)
        findings.append(Finding(f"/{index}/{member}", member, verdict.reason, str(verdict.requirement)))
    return findings


def first_violation(
    events: Iterable[Mapping[str, Any]], submitted_at: Mapping[str, str] | None = None
) -> Finding | None:
    """The first EVT-03/EVT-04 violation in the list, or None."""
    findings = order_findings(events, submitted_at)
    return min(findings, key=lambda f: int(f.path.split("/")[1])) if findings else None
