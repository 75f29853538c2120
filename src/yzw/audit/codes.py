"""The code rules (the schemas' named formats) over a batch of records: each distinct value judged once.

Times, the most numerous, are read in one Polars expression (a spelling the screen knows and a real instant
is a good CODE-08 time); every other value goes through the codes package's own checker, remembered.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import polars as pl

from yzw.codes.times import today_cn
from yzw.spec.schemas import format_problem

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"
# [0-9], not \d: Polars' regex reads \d as any Unicode digit; stricter than the checker is safe
SURE_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\+08:00$"


def failing(codes: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (format, value) pairs their code rule refuses."""
    times = [value for name, value in codes if name == "yzw-datetime"]
    sure = set(surely_times(times)) if times else set()
    today = today_cn()
    return {
        (name, value)
        for name, value in codes
        if not (name == "yzw-datetime" and value in sure) and not passes(name, value, today)
    }


def surely_times(values: list[str]) -> list[str]:
    """The values that are CODE-08 times for sure: spelt +08:00 with whole seconds, and a real instant."""
    frame = pl.DataFrame({"value": values}, schema={"value": pl.String})
    parsed = pl.col("value").str.to_datetime(TIME_FORMAT, time_zone="UTC", strict=False)
    year_one = pl.col("value").str.slice(0, 4) != "0000"  # Python's datetime starts at year 1, Polars' does not
    shaped = pl.col("value").str.contains(SURE_TIME) & year_one
    return frame.filter(shaped & parsed.is_not_null())["value"].to_list()


@lru_cache(maxsize=1 << 14)
def passes(name: str, value: str, today: dt.date) -> bool:
    return format_problem(name, value, today) is None
