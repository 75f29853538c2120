"""A warning before a run whose acceptances would count into a year the kit's calendar does not hold.

CODE-08 makes a system refuse an acceptance whose due time reaches a year its calendar lacks (ACC-04: `422
CALENDAR_YEAR_MISSING`). Late in a year, before the State Council's notice for the next one is added to
specs/rules/calendar.yaml, a correct system refuses today's acceptances of its longer items, and every check
that accepts one fails for a reason that is the calendar's, not the system's: the operator is told first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from yzw.codes.calendar import default_calendar, unheld_year


def calendar_warning(items: list[dict[str, Any]], dept_uscc: str, today: dt.date) -> str | None:
    """One line naming the year and the items whose acceptance today would count into it; None when the
    calendar holds every year today's acceptances reach."""
    calendar = default_calendar()
    reaching: dict[int, list[tuple[int, str]]] = {}
    for item in items:
        days = item.get("promised_days")
        if item.get("dept", {}).get("uscc") != dept_uscc or item.get("status") != "active" or not days:
            continue
        year = unheld_year(today, int(days), calendar)
        if year is not None:
            reaching.setdefault(year, []).append((int(days), str(item.get("item_code"))))
    if not reaching:
        return None
    year = min(reaching)
    longest = max(reaching[year])
    return (
        f"[CODE-08] the kit's working-day calendar ({calendar.source}) holds no {year}: today's acceptance of "
        f"{len(reaching[year])} of the department's items would count into it (up to {longest[0]} working days, "
        f"item {longest[1]}). A system that holds no {year} either must refuse it (422 CALENDAR_YEAR_MISSING): "
        "the kit asks its driver again with a day 0 the calendar holds (calendar_date), but a person at the "
        "window cannot be given one, and those checks fail; add the State Council's "
        f"{year} holiday schedule to the calendar (README, 'Adding a calendar year')"
    )
