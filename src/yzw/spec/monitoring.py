"""SUP-03 data monitoring: a department's KPIs over a period, against the provincial targets.

Built from the events an exchange holds (with `delay_seconds` where it recorded them), the catalogue items
(for visits, online depth, license types) and, where the platform has them, the supervision cards. The
same function serves the mock platform's report and `yzw audit`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from yzw.codes.lists import channel_digits
from yzw.content import content_path
from yzw.errors import CalendarYearMissing
from yzw.spec.cases import apply, day_of, due_day, new_case
from yzw.spec.limits import limits


@dataclass(frozen=True)
class Kpi:
    """One indicator: numerator / denominator, its target for the tier, and whether it is met."""

    name: str
    title_zh: str
    numerator: int
    denominator: int
    target: float | None

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def met(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title_zh": self.title_zh,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": self.value,
            "target": self.target,
            "met": self.met,
        }


@cache
def _rules() -> dict[str, Any]:
    return dict(yaml.safe_load(content_path("specs", "rules", "monitoring.yaml").read_text(encoding="utf-8")))


def _online_digits() -> frozenset[str]:
    return frozenset(channel_digits()[name] for name in _rules()["online_channels"])


@dataclass(slots=True)
class _Application:
    number: str
    dept: str
    first_at: str
    case: dict[str, Any]
    delivered: str | None = None  # SD method
    licenses: int = 0
    within_12h: int = 0  # events that arrived within 12 hours, of `timed` that carry a delay
    timed: int = 0


class Monitor:
    """SUP-03 over a stream of events, each application's events in seq order.

    `fold(application_no)` turns a finished application into its department's counts and forgets it, so a
    stream grouped by application (`yzw audit`) holds one application at a time.
    """

    def __init__(self, items: Mapping[str, Mapping[str, Any]], period: tuple[dt.date, dt.date] | None = None) -> None:
        self.items, self.period = items, period
        self.applications: dict[str, _Application] = {}
        self.counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        self.sizes: dict[str, int] = defaultdict(int)

    def add(self, event: Mapping[str, Any]) -> None:
        app = self.applications.get(event["application_no"])
        if app is None:
            case = new_case(dict(event))
            app = self.applications[event["application_no"]] = _Application(
                event["application_no"], case["dept_uscc"], event["occurred_at"], case
            )
        apply(app.case, dict(event))
        payload = event.get("payload") or {}
        if event["step"] == "SD":
            app.delivered = str(payload.get("method", ""))
        if event["step"] == "BJ":
            app.licenses = len(payload.get("licenses") or [])
        if event.get("delay_seconds") is not None:
            app.timed += 1
            app.within_12h += float(event["delay_seconds"]) <= limits().event_deadline_seconds

    def fold(self, application_no: str) -> None:
        """Count a finished application into its department (when its first event is in the period)."""
        app = self.applications.pop(application_no, None)
        if app is None or (self.period and not self.period[0] <= day_of(app.first_at) <= self.period[1]):
            return
        counts = _counts([app], self.items)
        counts["delivered_within_12h_share"] = (app.within_12h, app.timed)
        self.sizes[app.dept] += 1
        for name, (numerator, denominator) in counts.items():
            total = self.counts[app.dept][name]
            total[0] += numerator
            total[1] += denominator

    def report(self, tier: str, cards: Iterable[Mapping[str, Any]] = ()) -> dict[str, dict[str, Any]]:
        """KPIs per department (dept_uscc) against the tier's targets, every application folded in."""
        for number in list(self.applications):
            self.fold(number)
        rules, report, cards = _rules(), {}, list(cards)
        for dept in sorted(self.counts):
            counts = self.counts[dept]
            kpis = [
                Kpi(name, spec["title_zh"], counts[name][0], counts[name][1], (spec.get("targets") or {}).get(tier))
                for name, spec in rules["kpis"].items()
            ]
            dept_cards = [c for c in cards if c.get("dept_uscc") == dept and not c.get("revoked")]
            report[dept] = {
                "applications": self.sizes[dept],
                "kpis": [k.as_dict() for k in kpis],
                "cards": {
                    level: sum(1 for c in dept_cards if c["level"] == level) for level in ("warning", "yellow", "red")
                },
            }
        return report


def _on_time(case: dict[str, Any]) -> bool:
    try:
        due = due_day(case)
    except CalendarYearMissing:
        return False
    return due is not None and day_of(case["closed_at"]) <= due


def _counts(apps: list[_Application], items: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """numerator, denominator of every application-based KPI."""
    online = [a for a in apps if a.number[6] in _online_digits()]
    item = {a.number: items.get(a.case["item_code"]) for a in apps}
    done = [a for a in apps if a.case.get("result")]
    licensable = [a for a in done if a.case.get("result") == "approved" and (item[a.number] or {}).get("license_type")]
    timed = [a for a in done if a.case.get("promised_due_at")]
    full = [
        a for a in online if (item[a.number] or {}).get("online_depth") == 4 and a.delivered in (None, "electronic")
    ]
    visits = {a.number: int(found["max_visits"]) for a in online if (found := item[a.number]) is not None}
    return {
        "online_full_process_rate": (len(full), len(apps)),
        "online_application_rate": (len(online), len(apps)),
        "online_completion_rate": (sum(1 for a in online if a.case.get("result")), len(apps)),
        "at_most_one_visit_share": (sum(1 for v in visits.values() if v <= 1), len(visits)),
        "zero_visit_share": (sum(1 for v in visits.values() if v == 0), len(visits)),
        "e_license_rate": (sum(1 for a in licensable if a.licenses), len(licensable)),
        "on_time_rate": (sum(1 for a in timed if _on_time(a.case)), len(timed)),
    }


def department_report(
    events: Iterable[Mapping[str, Any]],
    items: Mapping[str, Mapping[str, Any]],
    tier: str,
    period: tuple[dt.date, dt.date] | None = None,
    cards: Iterable[Mapping[str, Any]] = (),
) -> dict[str, dict[str, Any]]:
    """KPIs per department (dept_uscc) for applications whose first event falls in `period` (inclusive)."""
    monitor = Monitor(items, period)
    for event in sorted(events, key=lambda e: (e["application_no"], e["seq"])):
        monitor.add(event)
    return monitor.report(tier, cards)
