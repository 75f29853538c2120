"""Acceptances driven near the end of the last year the kit's calendar holds (CODE-08, §11 `calendar_date`).

Before the State Council's notice for the next year is added to specs/rules/calendar.yaml, a correct system
refuses today's acceptance of an item whose due time counts into that year (`422 CALENDAR_YEAR_MISSING`), and
every check that needs an accepted case would end there. §11 gives the driver `params.calendar_date` "so that
holiday rules can be checked on any day": such a refused acceptance is asked again with the latest day 0 whose
count stays in the years the kit holds (it moves only `promised_due_at`, never earlier than needed, so the case
is not overdue). Nothing changes while the calendar holds the years a count reaches, nor for a system that
holds the next year itself (it accepts the first time); the refused attempt stays in the evidence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import httpx

from yzw.codes.calendar import default_calendar, unheld_year
from yzw.codes.times import today_cn

SEARCH_DAYS = 400  # a day 0 further back than this is no help: the count would need the year before


def refused_for_unheld_year(answer: httpx.Response | None) -> bool:
    """The system refused an acceptance for a year the kit's calendar lacks as well (the refusal is right)."""
    if answer is None or answer.status_code != 422 or "CALENDAR_YEAR_MISSING" not in answer.text:
        return False
    held = default_calendar().years
    return str(held[-1] + 1) in answer.text


def latest_day0s(today: dt.date, promised_days: Iterable[int]) -> list[dt.date]:
    """For each count (shortest first), the latest day 0 no later than today whose count the calendar holds:
    the first such day a system accepts is the latest that serves the item. Empty when today serves them all."""
    found: list[dt.date] = []
    for days in sorted({int(n) for n in promised_days if int(n) > 0}):
        back = next((b for b in range(SEARCH_DAYS) if unheld_year(today - dt.timedelta(days=b), days) is None), 0)
        day0 = today - dt.timedelta(days=back)
        if back and day0 not in found:
            found.append(day0)
    return found


def asked_again(
    answer: httpx.Response, send: Callable[[str], httpx.Response], promised_days: Callable[[], Iterable[int]]
) -> httpx.Response:
    """The answer to an acceptance; when it was refused for the year after the kit's calendar, the first answer
    to it asked again with a held day 0 (`send(calendar_date)`), or the refusal if none is taken. The counts
    (`promised_days()`, a catalogue read) are asked for only then."""
    if not refused_for_unheld_year(answer):
        return answer
    for day0 in latest_day0s(today_cn(), promised_days()):
        again = send(day0.isoformat())
        if not refused_for_unheld_year(again):
            return again
    return answer
