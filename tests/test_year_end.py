"""Acceptances driven near the end of the last year the kit's calendar holds (conformance/year_end.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import time_machine
from tests.certify import certify, findings, not_passed

from yzw.codes.calendar import default_calendar, unheld_year
from yzw.codes.times import CN_TZ
from yzw.conformance.year_end import latest_day0s, refused_for_unheld_year
from yzw.mock.runner import start_platform
from yzw.run.verdicts import NOT_APPLICABLE

LAST = default_calendar().years[-1]


def _holds(day0: dt.date, days: int) -> bool:
    return unheld_year(day0, days) is None


def test_each_count_gets_the_latest_day0_the_calendar_holds_shortest_first() -> None:
    today = dt.date(LAST, 12, 28)
    counts = [0, 2, 3, 5, 10, 3]
    found = latest_day0s(today, counts)
    assert found == sorted(found, reverse=True)  # shortest count first: the latest day 0 first
    assert len(found) == len({2, 3, 5, 10} - {n for n in (2, 3, 5, 10) if _holds(today, n)})
    for day0 in found:
        served = [n for n in (2, 3, 5, 10) if _holds(day0, n) and not _holds(day0 + dt.timedelta(days=1), n)]
        assert served, f"{day0} is the latest day 0 of no count"
    assert latest_day0s(dt.date(LAST, 6, 1), counts) == []  # today serves every count
    assert latest_day0s(today, [0]) == []  # a 即办件 counts nothing


def test_only_a_refusal_for_the_year_after_the_calendar_is_asked_again() -> None:
    def answer(status: int, message: str) -> httpx.Response:
        return httpx.Response(status, json={"code": "CALENDAR_YEAR_MISSING", "message": message, "details": []})

    assert refused_for_unheld_year(answer(422, f"no working-day calendar for {LAST + 1}"))
    assert not refused_for_unheld_year(answer(422, f"no working-day calendar for {LAST + 5}"))  # the kit's own gap
    assert not refused_for_unheld_year(answer(409, f"no working-day calendar for {LAST + 1}"))
    assert not refused_for_unheld_year(httpx.Response(422, json={"code": "ITEM_UNKNOWN", "message": str(LAST + 1)}))
    assert not refused_for_unheld_year(None)


def test_a_clean_system_is_certified_in_the_last_days_of_the_calendar(tmp_path: Path) -> None:
    """On 28 December of the last year the kit holds, the reference refuses today's acceptances of its 5- and
    10-day items (CODE-08); asked again with a held day 0, every acceptance check judges and passes."""
    with time_machine.travel(dt.datetime(LAST, 12, 28, 10, tzinfo=CN_TZ), tick=True):
        platform = start_platform()
        try:
            run = certify(platform, tmp_path, chapters=frozenset({"ACC"}))
        finally:
            platform.stop()
    failed = not_passed(run)
    assert failed == set(), findings(run, failed)
    assert [test.name for test in run.results if test.verdict == NOT_APPLICABLE] == []
