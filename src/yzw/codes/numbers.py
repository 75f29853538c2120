"""CODE-05 application numbers (申报编号) and CODE-06 acceptance numbers (受理编号)."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from yzw.codes.checksums import mod_11_2_check
from yzw.codes.division import check_division
from yzw.codes.lists import channel_digits
from yzw.codes.problem import DIGITS, CodeProblem, charset_problem, check_problem, length_problem
from yzw.codes.times import today_cn, yyyymmdd

SYSTEM_CHANNELS = ("window", "agent")  # channels whose numbers the departmental system issues itself


@cache
def _shape_pattern(length: int) -> re.Pattern[str]:
    return re.compile(rf"\d{{{length - 1}}}[\dX]", re.ASCII)


def _shape(requirement: str, value: str, length: int, what: str) -> CodeProblem | None:
    if len(value) == length and _shape_pattern(length).fullmatch(value):
        return None
    return (
        length_problem(requirement, value, length, what)
        or charset_problem(requirement, value, DIGITS, what, stop=length - 1)
        or charset_problem(requirement, value, DIGITS + "X", what, start=length - 1)
    )


def _division_part(requirement: str, value: str, what: str) -> CodeProblem | None:
    inner = check_division(value[:6], requirement=requirement, what=f"{what}'s division part")
    if inner is None:
        return None
    return CodeProblem(requirement, "division", inner.message, value, expected=inner.expected, position=1)


def _date_part(requirement: str, value: str, start: int, what: str, today: dt.date | None) -> CodeProblem | None:
    text = value[start : start + 8]
    day = yyyymmdd(text)
    if day is None:
        return CodeProblem(
            requirement,
            "date",
            f"{what} date part {text} is not a real day",
            value,
            expected=f"YYYYMMDD at positions {start + 1}-{start + 8}",
            position=start + 1,
        )
    if day > (today or today_cn()):
        return CodeProblem(
            requirement,
            "future_date",
            f"{what} date part {day} is later than today (+08:00)",
            value,
            expected="a date not later than today",
            position=start + 1,
        )
    return None


def _mismatch(
    requirement: str, value: str, start: int, wanted: str | None, defect: str, label: str
) -> CodeProblem | None:
    """The part of `value` at `start` (as long as `wanted`) must equal `wanted`, when one is given."""
    if wanted is None:
        return None
    actual = value[start : start + len(wanted)]
    if actual == wanted:
        return None
    return CodeProblem(
        requirement,
        defect,
        f"{label} is {actual!r} but must be {wanted!r}",
        value,
        expected=wanted,
        position=start + 1,
    )


def _channel_part(value: str, channel: str | None, dept_seq: str | None) -> CodeProblem | None:
    digits = channel_digits()
    if value[6] not in digits.values():
        return CodeProblem(
            "CODE-05",
            "channel",
            f"application_no channel digit {value[6]!r} is not 1-5",
            value,
            expected="1 web, 2 app, 3 window, 4 terminal, 5 agent",
            position=7,
        )
    if channel is not None:
        wanted = digits.get(channel, f"the digit of a known channel, not {channel!r}")
        problem = _mismatch(
            "CODE-05",
            value,
            6,
            wanted,
            "channel_mismatch",
            f"application_no channel digit for channel {channel!r}",
        )
        if problem:
            return problem
    if value[6] in {digits[name] for name in SYSTEM_CHANNELS}:
        return _mismatch(
            "CODE-05",
            value,
            15,
            dept_seq,
            "dept_seq",
            "application_no serial prefix (the issuing department's dept_seq)",
        )
    return None


def check_application_no(
    value: str,
    *,
    channel: str | None = None,
    dept_seq: str | None = None,
    division_code: str | None = None,
    today: dt.date | None = None,
) -> CodeProblem | None:
    """CODE-05: division (6) + channel digit (1) + YYYYMMDD (8) + serial (7) + MOD 11-2 (1) = 23.

    `channel` (the application's channel name) must match the digit; `dept_seq` and `division_code`, when
    given for a window or agent-point number, must open the serial and the number (the issuing system's own).
    """
    what = "application_no"
    problem = (
        _shape("CODE-05", value, 23, what)
        or _division_part("CODE-05", value, what)
        or _mismatch(
            "CODE-05",
            value,
            0,
            division_code,
            "division_mismatch",
            "application_no division (the issuing system's registered division_code)",
        )
        or _channel_part(value, channel, dept_seq)
        or _date_part("CODE-05", value, 7, what, today)
    )
    if problem is None and (expected := mod_11_2_check(value[:22])) != value[22]:
        problem = check_problem("CODE-05", value, expected, what, "ISO 7064 MOD 11-2 over 22 digits")
    return problem


def check_case_no(
    value: str, *, division_code: str | None = None, dept_seq: str | None = None, today: dt.date | None = None
) -> CodeProblem | None:
    """CODE-06: division (6) + dept_seq (3) + YYYYMMDD (8) + daily serial (6) + MOD 11-2 (1) = 24.

    `division_code` and `dept_seq`, when given (the system's registration), must match.
    """
    what = "case_no"
    problem = (
        _shape("CODE-06", value, 24, what)
        or _division_part("CODE-06", value, what)
        or _mismatch(
            "CODE-06",
            value,
            0,
            division_code,
            "division_mismatch",
            "case_no division (the system's registered division_code)",
        )
        or _mismatch("CODE-06", value, 6, dept_seq, "dept_seq", "case_no dept_seq (the system's registered dept_seq)")
        or _date_part("CODE-06", value, 9, what, today)
    )
    if problem is None and (expected := mod_11_2_check(value[:23])) != value[23]:
        problem = check_problem("CODE-06", value, expected, what, "ISO 7064 MOD 11-2 over 23 digits")
    return problem
