"""SUP-03 KPI counts of the clean applications of a bucket as Polars group-bys (what `Monitor.add`/`fold`
count, without a Python call per event).

Exact for applications without a suspension (GQ/HF: their working-day arithmetic stays with the Monitor, fed
the same members by `monitor_events`). Every clean record's times are CODE-08 times (+08:00), so the China
day of a time is its first ten characters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import polars as pl

from yzw.errors import CalendarYearMissing
from yzw.spec.cases import due_day
from yzw.spec.limits import limits
from yzw.spec.monitoring import _online_digits

SUSPENSION = ("GQ", "HF")
CLOSING = ("BJ", "BYSL", "CH")
Counts = dict[str, dict[str, list[int]]]


def kpi_delay() -> pl.Expr:
    """The delay the monitor counts: delay_seconds as given when the record has the member, else EVT-06's."""
    return pl.when("has_given").then(pl.col("given")).otherwise(pl.col("delay"))


def counts(
    clean: pl.DataFrame, items: Mapping[str, Mapping[str, Any]], period: tuple[dt.date, dt.date] | None
) -> tuple[Counts, dict[str, int]]:
    """KPI numerators/denominators and application counts per department of clean applications (no GQ/HF)."""
    step, deadline = pl.col("step"), limits().event_deadline_seconds
    apps = (
        clean.with_columns(kpi_delay().alias("kd"))
        .group_by("key", maintain_order=True)
        .agg(
            pl.col("dept").first(),
            pl.col("occ").first().str.slice(0, 10).alias("first_day"),
            pl.col("item").first(),
            pl.col("result").filter(step == "BJ").last(),
            pl.col("licenses").filter(step == "BJ").last(),
            pl.col("method").filter(step == "SD").last(),
            pl.col("due").filter(step == "SL").last(),
            pl.col("occ").filter(step.is_in(CLOSING)).last().str.slice(0, 10).alias("closed_day"),
            pl.col("kd").is_not_null().sum().alias("timed"),
            (pl.col("kd") <= deadline).fill_null(False).sum().alias("within"),
        )
    )
    if period is not None:
        apps = apps.filter(pl.col("first_day").is_between(pl.lit(period[0].isoformat()), pl.lit(period[1].isoformat())))
    if apps.is_empty():
        return {}, {}
    distinct = apps["item"].unique().to_list()
    found = {code: items.get(code) for code in distinct}
    online = pl.col("key").str.slice(6, 1).is_in(sorted(_online_digits()))
    known = pl.col("item").replace_strict({c: f is not None for c, f in found.items()}, return_dtype=pl.Boolean)
    depth4 = pl.col("item").replace_strict(
        {c: (f or {}).get("online_depth") == 4 for c, f in found.items()}, return_dtype=pl.Boolean
    )
    licensed = pl.col("item").replace_strict(
        {c: bool((f or {}).get("license_type")) for c, f in found.items()}, return_dtype=pl.Boolean
    )
    visits = pl.col("item").replace_strict(
        {c: int(f["max_visits"]) if f is not None else None for c, f in found.items()}, return_dtype=pl.Int64
    )
    dues = {due: _due_day(due) for due in apps["due"].drop_nulls().unique().to_list()}
    due = pl.col("due").replace_strict(dues, default=None, return_dtype=pl.String)
    done = pl.col("result").fill_null("") != ""
    licensable = done & (pl.col("result") == "approved") & licensed
    timed = done & pl.col("due").is_not_null() & (pl.col("due") != "")
    visited = online & known
    every = pl.col("key").is_not_null()
    measures = {
        "online_full_process_rate": (
            online & depth4 & (pl.col("method").is_null() | (pl.col("method") == "electronic")),
            every,
        ),
        "online_application_rate": (online, every),
        "online_completion_rate": (online & done, every),
        "at_most_one_visit_share": (visited & (visits <= 1), visited),
        "zero_visit_share": (visited & (visits == 0), visited),
        "e_license_rate": (licensable & (pl.col("licenses").fill_null(0) > 0), licensable),
        "on_time_rate": (timed & (pl.col("closed_day") <= due).fill_null(False), timed),
    }
    sums = [
        expr.fill_null(False).cast(pl.Int64).sum().alias(f"{name}\x1f{part}")
        for name, pair in measures.items()
        for part, expr in zip(("n", "d"), pair, strict=True)
    ]
    sums += [pl.col("within").sum().alias("delivered_within_12h_share\x1fn")]
    sums += [pl.col("timed").sum().alias("delivered_within_12h_share\x1fd"), pl.len().alias("size")]
    table = apps.group_by("dept").agg(sums)
    result: Counts = {}
    sizes: dict[str, int] = {}
    for row in table.iter_rows(named=True):
        dept = row.pop("dept")
        sizes[dept] = int(row.pop("size"))
        named = result.setdefault(dept, {})
        for column, value in row.items():
            name, part = column.split("\x1f")
            named.setdefault(name, [0, 0])[part == "d"] += int(value)
    return result, sizes


@lru_cache(maxsize=4096)
def _due_day(promised_due_at: str) -> str | None:
    """The promised due day of a case never suspended (`due_day`), as text; None when the calendar lacks it."""
    try:
        day = due_day({"promised_due_at": promised_due_at, "suspended_days": 0})
    except CalendarYearMissing:
        return None
    return day.isoformat() if day is not None else None


def monitor_events(rows: pl.DataFrame) -> Iterator[dict[str, Any]]:
    """The members of clean events the Monitor reads (for applications with a suspension)."""
    for row in rows.with_columns(kpi_delay().alias("kd")).iter_rows(named=True):
        payload: dict[str, Any] = {}
        if row["step"] == "SL":
            payload["promised_due_at"] = row["due"]
        elif row["step"] == "BJ":
            payload.update(result=row["result"], licenses=[None] * int(row["licenses"] or 0))
        elif row["step"] == "SD":
            payload["method"] = row["method"]
        yield {
            "application_no": row["key"],
            "dept_uscc": row["dept"],
            "division_code": "",
            "item_code": row["item"],
            "case_no": None,
            "step": row["step"],
            "occurred_at": row["occ"],
            "payload": payload,
            "delay_seconds": row["kd"],
        }
