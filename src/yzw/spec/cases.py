"""The case model shared by supervision (SUP-01) and monitoring (SUP-03): what a case's events say about it.

A case record is a plain dict built from the events of one application, step by step (`apply`): when it was
accepted, its promised due time (from SL), the working days it was suspended (GQ → HF), how it closed.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from yzw.codes.calendar import default_calendar
from yzw.codes.times import CN_TZ
from yzw.errors import CalendarYearMissing

CASE_STEPS = frozenset({"SL", "GQ", "HF", "BJ", "BYSL", "CH"})  # the steps that change a case record


def new_case(event: dict[str, Any], origin: str = "system") -> dict[str, Any]:
    """An empty case record for the event's application."""
    return {  # codes shared by many cases are interned: an audit holds one case per application
        "application_no": event["application_no"],
        "dept_uscc": sys.intern(str(event["dept_uscc"])),
        "division_code": sys.intern(str(event["division_code"])),
        "item_code": sys.intern(str(event["item_code"])),
        "origin": origin,
        "suspended_days": 0,
        "suspended_since": None,
    }


def day_of(text: str) -> dt.date:
    return dt.datetime.fromisoformat(text).astimezone(CN_TZ).date()


def apply(case: dict[str, Any], event: dict[str, Any]) -> None:
    step, payload, at = event["step"], event.get("payload") or {}, event["occurred_at"]
    if step == "SL":
        case.update(
            case_no=event["case_no"],
            accepted_at=at,
            promised_due_at=payload.get("promised_due_at"),
            legal_days=payload.get("legal_days"),
            promised_days=payload.get("promised_days"),
        )
    elif step == "GQ":
        case["suspended_since"] = at
    elif step == "HF" and case.get("suspended_since"):
        case["suspended_days"] += working_days_between(day_of(case["suspended_since"]), day_of(at))
        case["suspended_since"] = None
    elif step == "BJ":
        case.update(
            closed_at=at,
            result=payload.get("result"),
            no_reason=payload.get("result") == "denied" and not str(payload.get("reason") or "").strip(),
        )
    elif step == "BYSL":
        case.update(closed_at=at, refused=True, no_reason=not str(payload.get("reason") or "").strip())
    elif step == "CH":
        case.update(closed_at=at, withdrawn=True)


def working_days_between(start: dt.date, end: dt.date, stop_after: int | None = None) -> int:
    """Working days in (start, end]: the span a suspension takes off the clock.

    With `stop_after`, counting stops once past it (enough to know "more than N days are left").
    """
    try:
        calendar, count, day = default_calendar(), 0, start
        while day < end and (stop_after is None or count <= stop_after):
            day += dt.timedelta(days=1)
            count += calendar.is_working_day(day)
        return count
    except CalendarYearMissing:
        return (end - start).days


def due_day(case: dict[str, Any]) -> dt.date | None:
    """The promised due day, pushed back by the working days the case was suspended."""
    if not case.get("promised_due_at"):
        return None
    return default_calendar().add_working_days(day_of(case["promised_due_at"]), case.get("suspended_days", 0))


def legal_day(case: dict[str, Any]) -> dt.date | None:
    if not case.get("accepted_at") or case.get("legal_days") is None:
        return None
    days = int(case["legal_days"]) + int(case.get("suspended_days", 0))
    return default_calendar().add_working_days(day_of(case["accepted_at"]), days)
