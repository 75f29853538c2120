"""The rows pass 1 writes and pass 2 reads: per record, where it is, whether the screen passed it, the
members the order rules and the KPIs read, and where the row audit finds it again: the line's byte offset in
its JSON Lines source (read again only for a flagged application), or the marshalled record (XML, databases)."""

from __future__ import annotations

from typing import Any

import polars as pl

from yzw.audit.screen import Screen, given_delay

SCHEMA = {
    "key": pl.String,  # application_no as the row audit groups by it
    "src": pl.Int32,  # the source's index
    "ordinal": pl.Int64,  # arrival order within the source
    "number": pl.Int64,  # line number (or position) for the bad record
    "ok": pl.Boolean,  # the screen passed it
    "seq": pl.Int64,
    "step": pl.String,
    "occ": pl.String,
    "rec": pl.String,
    "given": pl.Float64,  # delay_seconds as `_delay` reads it
    "has_given": pl.Boolean,  # the record has a delay_seconds member (perhaps null)
    "dept": pl.String,
    "item": pl.String,
    "due": pl.String,  # SL: promised_due_at
    "result": pl.String,  # BJ: result
    "method": pl.String,  # SD: method
    "licenses": pl.Int64,  # BJ: how many licenses
    "offset": pl.Int64,  # where the line starts in its JSON Lines source
    "raw": pl.Binary,  # the marshalled record of an XML or database source
    "packed": pl.Boolean,  # raw holds the record (XML, databases), not offset
}


def slow_row(
    screen: Screen, record: dict[str, Any], head: tuple[int, int, int], where: int | bytes, exact: bool
) -> dict[str, Any]:
    """The row of a record parsed in Python (`exact`: by orjson), screened by `Screen.judge`; `where`: its
    line's offset in a JSON Lines source, or the marshalled record."""
    ok, coded = screen.judge(record, exact)
    usable, given = given_delay(record)
    row: dict[str, Any] = {
        "key": str(record.get("application_no", "")),
        "src": head[0],
        "ordinal": head[1],
        "number": head[2],
        "ok": ok and usable,
        "offset": where if isinstance(where, int) else None,
        "raw": where if isinstance(where, bytes) else None,
        "packed": isinstance(where, bytes),
        "coded": coded,
    }
    if row["ok"]:
        payload, step, arrival = record["payload"], record["step"], record.get("received_at")
        row.update(
            seq=record["seq"],
            step=step,
            occ=record["occurred_at"],
            rec=arrival if isinstance(arrival, str) else None,
            given=given,
            has_given="delay_seconds" in record,
            dept=record["dept_uscc"],
            item=record["item_code"],
            due=payload.get("promised_due_at") if step == "SL" else None,
            result=payload.get("result") if step == "BJ" else None,
            method=str(payload.get("method", "")) if step == "SD" else None,
            licenses=len(payload.get("licenses") or []) if step == "BJ" else None,
        )
    return row


def frame_of(slow: list[dict[str, Any]], refused: set[tuple[str, str]]) -> pl.DataFrame:
    """The slow rows as a frame; a row with a coded value its code rule refuses is not passed."""
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA}
    for row in slow:
        if row["ok"] and refused and any(pair in refused for pair in row["coded"]):
            row["ok"] = False
        for name in SCHEMA:
            columns[name].append(row.get(name))
    return pl.DataFrame(columns, schema=SCHEMA)


def fast_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The fast lane's rows in SCHEMA's order and types (an SL whose due time it did not read: not passed)."""
    return frame.with_columns(
        (pl.col("ok") & ((pl.col("step") != "SL") | pl.col("due").is_not_null())).alias("ok"),
        pl.col("number").alias("ordinal"),
        pl.lit(None, pl.Float64).alias("given"),
        pl.lit(False).alias("has_given"),
        pl.lit(None, pl.Binary).alias("raw"),
        pl.lit(False).alias("packed"),
    ).select([pl.col(name).cast(dtype) for name, dtype in SCHEMA.items()])
