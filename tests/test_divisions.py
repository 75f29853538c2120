"""CODE-03 data: the current Zhejiang list and the national list with historical codes."""

from __future__ import annotations

from collections import Counter

from yzw.codes.lists import national_divisions, zhejiang_divisions


def test_zhejiang_has_its_province_eleven_cities_and_ninety_counties() -> None:
    levels = Counter(
        "province" if c.endswith("0000") else "city" if c.endswith("00") else "county" for c in zhejiang_divisions()
    )
    assert levels == {"province": 1, "city": 11, "county": 90}


def test_every_current_zhejiang_code_is_in_the_national_list() -> None:
    national = national_divisions()
    assert not [code for code in zhejiang_divisions() if code not in national]


def test_no_current_zhejiang_code_is_marked_abolished() -> None:
    national = national_divisions()
    assert not [code for code in zhejiang_divisions() if national[code].last_year is not None]


def test_national_list_keeps_historical_codes() -> None:
    national = national_divisions()
    assert national["330103"].name == "下城区"
    assert national["330103"].last_year == 2021
    assert national["110103"].last_year == 2010  # 崇文区
    assert len(national) > 6000


def test_hangzhou_districts_of_2021_are_present() -> None:
    assert {"330113", "330114"} <= set(zhejiang_divisions())
    assert national_divisions()["330114"].name == "钱塘区"
