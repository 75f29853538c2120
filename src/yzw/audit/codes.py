"""The code rules (the schemas' named formats) over a batch of records: each distinct value judged once.

Times, the most numerous, are read in one Polars expression (a spelling the screen knows and a real instant
is a good CODE-08 time), and so are license ids (CODE-07: their layout and MOD 37,36 check character in
Polars, their two USCCs by the codes package once per distinct USCC); a value these do not vouch for, and
every other value, goes through the codes package's own checker, remembered.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import polars as pl

from yzw.codes.identity import check_uscc
from yzw.codes.times import today_cn
from yzw.spec.schemas import format_problem

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"
# [0-9], not \d: Polars' regex reads \d as any Unicode digit; stricter than the checker is safe
SURE_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\+08:00$"


def failing(codes: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (format, value) pairs their code rule refuses."""
    times = [value for name, value in codes if name == "yzw-datetime"]
    licenses = [value for name, value in codes if name == "yzw-license-id"]
    sure = {("yzw-datetime", value) for value in surely_times(times)} if times else set()
    sure |= {("yzw-license-id", value) for value in surely_licenses(licenses)} if licenses else set()
    today = today_cn()
    return {pair for pair in codes if pair not in sure and not passes(*pair, today)}


def surely_times(values: list[str]) -> list[str]:
    """The values that are CODE-08 times for sure: spelt +08:00 with whole seconds, and a real instant."""
    frame = pl.DataFrame({"value": values}, schema={"value": pl.String})
    parsed = pl.col("value").str.to_datetime(TIME_FORMAT, time_zone="UTC", strict=False)
    year_one = pl.col("value").str.slice(0, 4) != "0000"  # Python's datetime starts at year 1, Polars' does not
    shaped = pl.col("value").str.contains(SURE_TIME) & year_one
    return frame.filter(shaped & parsed.is_not_null())["value"].to_list()


# CODE-07's layout as `check_license_id` reads it, ASCII digits only (Python's isdigit takes more: stricter)
LICENSE = re.compile(
    r"1\.2\.156\.3005\.2\.([0-9A-Z]{18})[0-9]{3}\.([0-9A-Z]{18})\.([0-9A-Z]{1,32})\."
    r"((?:00[1-9]|0[1-9][0-9]|[1-9][0-9]{2}))\.([0-9A-Z])"
)
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # CODE-07's MOD 37,36 alphabet
INDEX = {char: position for position, char in enumerate(ALPHABET)}


def surely_licenses(values: list[str]) -> list[str]:
    """The values that are CODE-07 license ids for sure: the layout `check_license_id` asks, both USCCs valid
    (judged once per distinct USCC), and the ISO/IEC 7064 MOD 37,36 check character right."""
    sure = []
    for value in values:
        found = LICENSE.fullmatch(value)
        if found is None or not (_uscc_passes(found[1]) and _uscc_passes(found[2])):
            continue
        type_code, issuer, serial, version = value[15:36], found[2], found[3], found[4]
        if _mod_37_36(type_code + issuer + serial + version) == found[5]:
            sure.append(value)
    return sure


def _mod_37_36(text: str) -> str:
    """The check character as stdnum's mod_37_36.calc_check_digit computes it over ALPHABET."""
    modulus, check = len(ALPHABET), len(ALPHABET) // 2
    for char in text:
        check = (((check or modulus) * 2) % (modulus + 1) + INDEX[char]) % modulus
    return ALPHABET[(1 - ((check or modulus) * 2) % (modulus + 1)) % modulus]


@lru_cache(maxsize=1 << 12)
def _uscc_passes(uscc: str) -> bool:
    return check_uscc(uscc, requirement="CODE-07", what="USCC") is None


@lru_cache(maxsize=1 << 14)
def passes(name: str, value: str, today: dt.date) -> bool:
    return format_problem(name, value, today) is None
