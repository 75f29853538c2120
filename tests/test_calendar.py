"""CODE-08 working days and ACC-04 due times."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar
import pytest
import time_machine
from tests.certify import pointed_record, write_record
from tests.conftest import REGISTRATION

from yzw.codes.calendar import WorkingCalendar, default_calendar, promised_due_at
from yzw.codes.calendar_reach import calendar_warning
from yzw.conformance.session import Conformance
from yzw.errors import CalendarYearMissing
from yzw.mock.catalog import demo_items
from yzw.mock.runner import RunningPlatform
from yzw.reference.runner import start_reference
from yzw.run.options import RunOptions

CN = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(
    ("accepted", "days", "due"),
    [("2025-09-26", 5, "2025-10-10"), ("2026-02-13", 3, "2026-02-25"), ("2025-12-31", 1, "2026-01-04")],
)
def test_norm_vectors(accepted: str, days: int, due: str) -> None:
    result = promised_due_at(dt.date.fromisoformat(accepted), days)
    assert result == dt.datetime.fromisoformat(f"{due}T23:59:59+08:00")
    assert result.utcoffset() == dt.timedelta(hours=8)


def test_day_zero_is_the_acceptance_day_whatever_kind_of_day() -> None:
    national_day = dt.date(2026, 10, 1)  # a holiday
    assert promised_due_at(national_day, 1).date() == dt.date(2026, 10, 8)


def test_same_day_case_needs_no_calendar() -> None:
    far_future = dt.date(2031, 5, 1)
    assert promised_due_at(far_future, 0) == dt.datetime(2031, 5, 1, 23, 59, 59, tzinfo=CN)


def test_missing_year_fails_naming_the_year_and_the_file() -> None:
    with pytest.raises(CalendarYearMissing, match=r"2027.*calendar\.yaml") as caught:
        promised_due_at(dt.date(2026, 12, 30), 3)
    assert caught.value.year == 2027


def test_a_weekends_only_guess_is_never_made() -> None:
    calendar = WorkingCalendar({}, "nowhere.yaml")
    with pytest.raises(CalendarYearMissing):
        calendar.is_working_day(dt.date(2026, 6, 1))


def test_data_agrees_with_chinese_calendar_for_every_covered_year() -> None:
    calendar = default_calendar()
    day, end = dt.date(calendar.years[0], 1, 1), dt.date(calendar.years[-1], 12, 31)
    wrong = []
    while day <= end:
        if calendar.is_working_day(day) != chinese_calendar.is_workday(day):
            wrong.append(day)
        day += dt.timedelta(days=1)
    assert not wrong


def test_negative_day_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        default_calendar().add_working_days(dt.date(2026, 1, 5), -1)


def test_a_run_is_warned_when_todays_acceptances_count_into_a_year_the_calendar_lacks() -> None:
    """Late in the last year the calendar holds, the items whose due time reaches the next year are named."""
    last = max(default_calendar().years)
    items = demo_items()
    dept = items[0]["dept"]["uscc"]
    warning = calendar_warning(items, dept, dt.date(last, 12, 28))
    assert warning is not None
    assert f"holds no {last + 1}" in warning
    longest = max((i for i in items if i["dept"]["uscc"] == dept), key=lambda item: item["promised_days"])
    assert f"up to {longest['promised_days']} working days, item {longest['item_code']}" in warning
    assert "CALENDAR_YEAR_MISSING" in warning
    assert calendar_warning(items, dept, dt.date(last, 6, 1)) is None
    assert calendar_warning(items, "91330000000000000X", dt.date(last, 12, 28)) is None  # another department's


def test_a_run_against_the_platform_reads_the_departments_items_for_the_warning(
    running_platform: RunningPlatform, tmp_path: Path
) -> None:
    """`yzw run` asks the platform's catalogue for the department's items before it starts (cli/run.py prints it)."""
    last = max(default_calendar().years)
    reference = start_reference(running_platform, REGISTRATION)
    try:
        sut = write_record(tmp_path, pointed_record(reference))
        conformance = Conformance.start(RunOptions.checked(sut=sut, platform=running_platform.urls["province"]))
        with time_machine.travel(dt.datetime(last, 12, 28, 10, tzinfo=CN), tick=True):
            warning = conformance.calendar_warning()
        assert warning is not None
        assert f"holds no {last + 1}" in warning
        with time_machine.travel(dt.datetime(last, 6, 1, 10, tzinfo=CN), tick=True):
            assert conformance.calendar_warning() is None
    finally:
        reference.stop()
