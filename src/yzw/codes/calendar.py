"""CODE-08 working days on the State Council calendar, and ACC-04's promised due time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import yaml

from yzw.codes.times import CN_TZ
from yzw.content import content_path
from yzw.errors import CalendarYearMissing, SpecError

CALENDAR_FILE = ("specs", "rules", "calendar.yaml")
END_OF_DAY = dt.time(23, 59, 59, tzinfo=CN_TZ)


@dataclass(frozen=True)
class YearRule:
    """One year's exceptions: weekdays off (holidays) and weekend days on (adjusted workdays)."""

    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]


class WorkingCalendar:
    """Working days for the years the data holds; any other year is an error naming it."""

    def __init__(self, years: dict[int, YearRule], source: str) -> None:
        self._years = years
        self.source = source
        self._added: dict[tuple[dt.date, int], dt.date] = {}  # add_working_days' answers (the supervision
        # engine asks the same few hundred questions of every case it watches)

    @property
    def years(self) -> list[int]:
        return sorted(self._years)

    def is_working_day(self, day: dt.date) -> bool:
        rule = self._years.get(day.year)
        if rule is None:
            raise CalendarYearMissing(day.year, self.source)
        if day.weekday() >= 5:
            return day in rule.workdays
        return day not in rule.holidays

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `start` (start itself is day 0, whatever kind of day)."""
        if count < 0:
            raise ValueError(f"working-day count must be 0 or more, got {count}")
        known = self._added.get((start, count))
        if known is not None:
            return known
        day, left = start, count
        while left:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        if len(self._added) > 100_000:
            self._added.clear()
        self._added[(start, count)] = day
        return day


def unheld_year(start: dt.date, count: int, calendar: WorkingCalendar | None = None) -> int | None:
    """The year a count of `count` working days from `start` reaches that the calendar lacks; None when held."""
    try:
        (calendar or default_calendar()).add_working_days(start, count)
    except CalendarYearMissing as missing:
        return missing.year
    return None


def _dates(values: list[str], year: int, key: str) -> frozenset[dt.date]:
    days = frozenset(dt.date.fromisoformat(str(value)) for value in values or [])
    stray = sorted(day for day in days if day.year != year)
    if stray:
        raise SpecError(f"{'/'.join(CALENDAR_FILE)}: year {year} {key} lists {stray[0]} of another year")
    return days


@cache
def default_calendar() -> WorkingCalendar:
    """The calendar of specs/rules/calendar.yaml."""
    path = content_path(*CALENDAR_FILE)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        years = {
            int(year): YearRule(
                _dates(entry.get("holidays"), int(year), "holidays"),
                _dates(entry.get("workdays"), int(year), "workdays"),
            )
            for year, entry in data["years"].items()
        }
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"cannot read the working-day calendar {path}: {exc}") from exc
    return WorkingCalendar(years, str(path))


def promised_due_at(accepted_on: dt.date, promised_days: int, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """ACC-04: 23:59:59+08:00 of the promised_days-th working day after acceptance (day 0).

    A 即办件 (0 days) is due at the end of the acceptance day and needs no calendar.
    """
    if promised_days == 0:
        return dt.datetime.combine(accepted_on, END_OF_DAY)
    due = (calendar or default_calendar()).add_working_days(accepted_on, promised_days)
    return dt.datetime.combine(due, END_OF_DAY)
