"""CODE-08: RFC 3339 times with +08:00 and whole seconds, ISO dates, and "today" in China time."""

from __future__ import annotations

import datetime as dt
import re
import time

from yzw.codes.problem import CodeProblem

CN_TZ = dt.timezone(dt.timedelta(hours=8), "+08:00")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00", re.ASCII)
_LOOSE = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
DATETIME_FORMAT = "YYYY-MM-DDThh:mm:ss+08:00, e.g. 2026-11-28T09:30:00+08:00"


_today_cache: tuple[float, float, dt.date] = (0.0, 0.0, dt.date.min)


def today_cn() -> dt.date:
    """Today's date at +08:00: the day that numbers and birth dates are judged against.

    Cached for the day +08:00 it is, since validators ask for it on every value (a clock set back, as a test's
    time travel or a stepped clock does, leaves that day too).
    """
    global _today_cache  # noqa: PLW0603 - a one-value cache keyed by the clock
    now = time.time()
    if not _today_cache[0] <= now < _today_cache[1]:
        today = dt.datetime.fromtimestamp(now, CN_TZ).date()
        start = dt.datetime.combine(today, dt.time(), CN_TZ).timestamp()
        _today_cache = (start, start + 86400, today)  # +08:00 keeps no daylight saving: a day is 86,400 s
    return _today_cache[2]


def yyyymmdd(text: str) -> dt.date | None:
    """The date of an 8-digit YYYYMMDD field, or None when no such calendar day exists."""
    try:
        return dt.date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def check_datetime(value: str) -> CodeProblem | None:
    """CODE-08: RFC 3339, offset +08:00, second precision, a real instant."""
    if _DATETIME.fullmatch(value):
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            return CodeProblem(
                "CODE-08",
                "date",
                "time names a day or hour that does not exist",
                value,
                expected=DATETIME_FORMAT,
            )
        return None
    loose = _LOOSE.fullmatch(value)
    if loose and loose.group(3):
        return CodeProblem(
            "CODE-08",
            "fraction",
            "time must have whole seconds, no fraction",
            value,
            expected=DATETIME_FORMAT,
            fix="drop the fractional seconds",
        )
    if loose and loose.group(4) != "+08:00":
        return CodeProblem(
            "CODE-08",
            "offset",
            f"time must carry the +08:00 offset, got {loose.group(4)!r}",
            value,
            expected=DATETIME_FORMAT,
            fix="convert to China time and write +08:00",
        )
    return CodeProblem("CODE-08", "format", "time is not RFC 3339 with +08:00", value, expected=DATETIME_FORMAT)


def check_date(value: str) -> CodeProblem | None:
    """CODE-08: a date is YYYY-MM-DD and names a real calendar day."""
    if not _DATE.fullmatch(value):
        return CodeProblem("CODE-08", "format", "date is not YYYY-MM-DD", value, expected="YYYY-MM-DD")
    if yyyymmdd(value.replace("-", "")) is None:
        return CodeProblem(
            "CODE-08", "date", "date names a day that does not exist", value, expected="a real calendar day"
        )
    return None
