"""The code rules (the schemas' named formats) over a batch of records: each distinct value judged once.

Times, the most numerous, are read in one Polars expression (a spelling the screen knows and a real instant
is a good CODE-08 time), and so are license ids (CODE-07: their layout and MOD 37,36 check character in
Polars, their two USCCs by the codes package once per distinct USCC); a value these do not vouch for, and
every other value, goes through the codes package's own checker, remembered.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from yzw.codes.checksums import mod_11_2_check, mod_37_36_check
from yzw.codes.division import check_division
from yzw.codes.identity import check_uscc
from yzw.codes.lists import channel_digits
from yzw.codes.times import today_cn, yyyymmdd
from yzw.spec.schemas import format_problem

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"
# [0-9], not \d: Polars' regex reads \d as any Unicode digit; stricter than the checker is safe
SURE_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\+08:00$"
FEW = 128  # distinct values below which the checker (remembered) beats a bulk query's fixed ≈ 2 ms


def failing(codes: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (format, value) pairs their code rule refuses."""
    today, by_name = today_cn(), defaultdict(list)
    for name, value in codes:
        by_name[name].append(value)
    return {(name, value) for name, values in by_name.items() for value in refused(name, values, today)}


def refused(name: str, values: list[str] | pl.Series, today: dt.date) -> set[str]:
    """The distinct values of a format its code rule refuses: those vouched for in bulk first (in Polars,
    no Python object per value), the codes package's checker (remembered) for the rest."""
    series = pl.Series("value", values, dtype=pl.String).drop_nulls().unique()
    vouch = _BULK.get(name)
    if vouch is not None and len(series) >= FEW:
        series = series.filter(~series.is_in(vouch(series, today)))
    return {value for value in series.to_list() if not passes(name, value, today)}


@dataclass(frozen=True)
class Number:
    """The layout of a CODE-05/06 number as its checker reads it: length, where its date starts, the
    requirement and name its checker gives the division part."""

    length: int
    date_at: int
    requirement: str
    what: str


NUMBERS = {
    "yzw-application-no": Number(23, 7, "CODE-05", "application_no"),
    "yzw-case-no": Number(24, 9, "CODE-06", "case_no"),
}


def surely_numbers(values: list[str] | pl.Series, number: Number, today: dt.date) -> list[str]:
    """The values that are good CODE-05 application numbers (or CODE-06 case numbers) for sure: ASCII digits
    (X last), a valid division (each distinct one judged by the codes package), for an application number a
    channel digit, a real day not after today (each distinct one judged alike), the MOD 11-2 character."""
    frame = pl.DataFrame({"value": values}, schema={"value": pl.String})
    frame = frame.filter(pl.col("value").str.contains(rf"^[0-9]{{{number.length - 1}}}[0-9X]$"))
    if frame.is_empty():
        return []
    division = pl.col("value").str.slice(0, 6)
    day = pl.col("value").str.slice(number.date_at, 8)
    divisions = [d for d in frame.select(division.unique()).to_series().to_list() if _division_passes(d, number)]
    days = [d for d in frame.select(day.unique()).to_series().to_list() if _day_passes(d, today)]
    good = division.is_in(divisions) & day.is_in(days)
    if number.requirement == "CODE-05":
        good = good & pl.col("value").str.slice(6, 1).is_in(sorted(set(channel_digits().values())))
    # the check character in Python, by the codes package: ≈ 1 µs a value, where the expression of a term per
    # digit cost ≈ 0.7 ms a batch to plan, more than the few hundred numbers of a batch it judged
    return [value for value in frame.filter(good)["value"].to_list() if mod_11_2_check(value[:-1]) == value[-1]]


@lru_cache(maxsize=1 << 12)
def _division_passes(division: str, number: Number) -> bool:
    return check_division(division, requirement=number.requirement, what=f"{number.what}'s division part") is None


@lru_cache(maxsize=1 << 12)
def _day_passes(text: str, today: dt.date) -> bool:
    day = yyyymmdd(text)
    return day is not None and day <= today


def surely_times(values: list[str] | pl.Series) -> pl.Series:
    """The values that are CODE-08 times for sure: spelt +08:00 with whole seconds (the spelling bounds the
    time of day), on a real day (each distinct day judged once, not each value parsed)."""
    frame = pl.DataFrame({"value": values}, schema={"value": pl.String})
    shaped = frame.filter(pl.col("value").str.contains(SURE_TIME))
    day = pl.col("value").str.slice(0, 10)
    days = [text for text in shaped.select(day.unique()).to_series().to_list() if _real_day(text)]
    return shaped.filter(day.is_in(days))["value"]


@lru_cache(maxsize=1 << 12)
def _real_day(text: str) -> bool:
    """YYYY-MM-DD of a day Python's datetime has (year 1 on: Polars' year 0 is none)."""
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


# CODE-07's layout as `check_license_id` reads it, ASCII digits only (Python's isdigit takes more: stricter)
LICENSE = re.compile(
    r"1\.2\.156\.3005\.2\.([0-9A-Z]{18})[0-9]{3}\.([0-9A-Z]{18})\.([0-9A-Z]{1,32})\."
    r"((?:00[1-9]|0[1-9][0-9]|[1-9][0-9]{2}))\.([0-9A-Z])"
)


def surely_licenses(values: list[str] | pl.Series) -> list[str]:
    """The values that are CODE-07 license ids for sure: the layout `check_license_id` asks, both USCCs valid
    (judged once per distinct USCC), and the ISO/IEC 7064 MOD 37,36 check character right."""
    sure = []
    for value in values.to_list() if isinstance(values, pl.Series) else values:
        found = LICENSE.fullmatch(value)
        if found is None or not (_uscc_passes(found[1]) and _uscc_passes(found[2])):
            continue
        type_code, issuer, serial, version = value[15:36], found[2], found[3], found[4]
        if mod_37_36_check(type_code + issuer + serial + version) == found[5]:
            sure.append(value)
    return sure


@lru_cache(maxsize=1 << 12)
def _uscc_passes(uscc: str) -> bool:
    return check_uscc(uscc, requirement="CODE-07", what="USCC") is None


_BULK: dict[str, Callable[[pl.Series, dt.date], list[str] | pl.Series]] = {
    "yzw-datetime": lambda values, _: surely_times(values),
    "yzw-license-id": lambda values, _: surely_licenses(values),
    "yzw-application-no": lambda values, day: surely_numbers(values, NUMBERS["yzw-application-no"], day),
    "yzw-case-no": lambda values, day: surely_numbers(values, NUMBERS["yzw-case-no"], day),
}


@lru_cache(maxsize=1 << 14)
def passes(name: str, value: str, today: dt.date) -> bool:
    return format_problem(name, value, today) is None
