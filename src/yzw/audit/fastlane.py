"""The fast lane of the columnar audit: JSON Lines events in the common layout, screened in Polars.

A line whose text is an event laid out as systems write them (top-level members in the order of EVT-02, no
escapes, one flat payload object, then received_at) is read by one regular expression, in Rust, with no
JSON parser: the match itself proves which member each value is, and that each value is the plain string
it reads. Its shape is judged once per distinct *masked* record (`screen.Screen.masked_verdict`): the unique
members (ids, numbers, times, codes, names; BZJ's materials, `MATERIALS`) are replaced by valid placeholders
and their values judged by their code rules once per distinct value (`codes.failing`). Any other line takes
the slow lane (parsed and screened in Python); a line the fast lane cannot vouch for is never passed, only
sent on, and while the masks do not hold (`screen.masks_hold`) every line takes the slow lane.

Measured (one core, a generated dump): the regular expression costs ≈ 2.8 µs a line, of which a match
without captures ≈ 1.6 and any scan of the line ≈ 0.9: reading the members otherwise would save little.
What costs is what is unique per line: an SB's whole application validated, coded values judged.
"""

from __future__ import annotations

import polars as pl

from yzw.audit import codes
from yzw.audit.judge import APPLICATION_NO_LENGTH
from yzw.audit.screen import TOKENS, Screen
from yzw.codes.times import today_cn

S = r'[^"\\\x00-\x1f]'  # a character of a string that needs no escape
HEX = "[0-9a-fA-F]"
FLAT = r"[^{}\\\x00-\x1f]"  # payload text outside nested objects: no escapes, no control characters
PAYLOAD = rf"\{{(?:{FLAT}|\{{(?:{FLAT}|\{{{FLAT}*\}})*\}})*\}}"  # objects nested up to three deep
READ = ("SL", "BJ", "SD")  # the steps whose payload members the fast lane reads: their payload must be flat
TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][+-](?:[01][0-9]|2[0-3]):[0-5][0-9]"
LAYOUT = (
    rf'^\{{"event_id": ?"{HEX}{{8}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{12}}", ?'
    rf'"application_no": ?"(?P<key>{S}+)", ?'
    rf'"case_no": ?(?:null|"(?P<case_no>{S}+)"), ?'
    r'"seq": ?(?P<seq>[1-9][0-9]{0,8}), ?'
    r'"step": ?"(?P<step>[A-Z]{2,4})", ?'
    rf'"occurred_at": ?"(?P<occ>{TIME})", ?'
    rf'"division_code": ?"(?P<division>{S}+)", ?'
    rf'"dept_uscc": ?"(?P<dept>{S}+)", ?'
    rf'"item_code": ?"(?P<item>{S}+)", ?'
    rf'"handler": ?\{{"id": ?"{S}+", ?"name": ?"{S}+"\}}, ?'
    rf'"payload": ?(?P<payload>{PAYLOAD})'
    rf'(?:, ?"received_at": ?"(?P<rec>{S}+)")?\}}$'
)
LICENSE = rf'"(1\.2\.156\.{S}*)"'
# BZJ's materials (screen._ASSUMED: material, file, sm3, name): each value its member's constraint passes swapped
# for one that passes it too, so their masked records repeat. Wherever else in the payload such a member
# stands, nothing constrains it; a license id anywhere is a token, judged by its code rule (as BJ's).
MATERIALS = (
    (r'"sm3": ?"[0-9a-f]{64}"', '"sm3": "' + "0" * 64 + '"'),
    (r'"size": ?(?:0|[1-9][0-9]{0,14})([,}])', '"size": 0${1}'),
    (rf'"url": ?"{S}*"', '"url": "x"'),
    (rf'"name": ?"{S}+"', '"name": "x"'),
    (rf'"material_code": ?"{S}+"', '"material_code": "x"'),
)


def _member(name: str, value: str = rf"{S}*") -> str:
    return rf'"{name}": ?"({value})"'


def screened(lines: pl.Series, screen: Screen) -> pl.DataFrame:
    """The lines' rows (see `rows.SCHEMA` less the placement columns); `fast` false for the slow lane's."""
    frame = pl.DataFrame({"line": lines}).select(pl.col("line").str.extract_groups(LAYOUT).alias("m"))
    flat = ~pl.col("payload").str.slice(1).str.contains("{", literal=True)
    frame = frame.unnest("m").with_columns(  # fast: the layout, and what `surely_usable` asks of the number
        (
            (pl.col("key").str.len_chars() == APPLICATION_NO_LENGTH)
            & (flat | ~pl.col("step").is_in(READ))
            & pl.lit(screen.masking)  # its shapes are masked: while the masks do not hold, the slow lane judges
        )
        .fill_null(False)
        .alias("fast"),
        pl.col("seq").cast(pl.Int64),
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
        (pl.col("step") == "SL").alias("sl"),
        (pl.col("step") == "BJ").alias("bj"),
    )
    frame = frame.join(_by_step(frame), on="row", how="left", maintain_order="left")
    masked = pl.coalesce("masked", "payload")
    frame = frame.with_columns(
        pl.concat_str(
            [
                pl.col("case_no").is_null().cast(pl.String),
                pl.col("seq").cast(pl.String),
                pl.col("step"),
                pl.col("rec").is_null().cast(pl.String),
                masked,
            ],
            separator="\x1f",
        ).alias("shape")
    )
    for column, name in _CODED:
        if name not in screen.placeholders:  # a few queries a batch saved once every format has one
            screen.offer(name, frame[column].drop_nulls().head(64).to_list())
    if "yzw-license-id" not in screen.placeholders:
        screen.offer("yzw-license-id", frame["license_texts"].explode().drop_nulls().head(64).to_list())
    verdicts, waiting = screen.masked_verdicts(frame["shape"].drop_nulls().unique().to_list())
    refused = _refused(frame, [pair for met in waiting.values() for pair in met])
    for shape, met in waiting.items():  # an SB's application: its coded values judged with the batch's
        if any(value in refused.get(name, ()) for name, value in met):
            verdicts[shape] = False
    licenses = pl.col("license_texts").list.eval(pl.element().is_in(list(refused.get("yzw-license-id", ()))))
    sl_agrees = ~pl.col("sl") | (
        (pl.col("p_case").is_null() | (pl.col("p_case") == pl.col("case_no")).fill_null(False))
        & (pl.col("p_number").is_null() | (pl.col("p_number") == pl.col("key")))
    )
    good = (
        pl.col("fast")
        & pl.col("shape").replace_strict(verdicts, default=False, return_dtype=pl.Boolean)
        & sl_agrees
        & ~_any_refused(refused)
        & ~licenses.list.any().fill_null(False)
    )
    return frame.with_columns(good.fill_null(False).alias("ok")).drop(
        "shape", "license_texts", "p_case", "p_number", "masked", "row"
    )


def _by_step(frame: pl.DataFrame) -> pl.DataFrame:
    """The payload members read and the masked payload, per row (`row`) of the steps that have them: each
    step's rows taken apart first, so each string function reads only them (on the whole batch, nulls and
    all, each cost ≈ 0.6 ms a batch)."""
    payload, step = pl.col("payload"), pl.col("step")
    licenses = (
        payload.str.extract_all(LICENSE)
        .list.eval(pl.element().str.slice(1, pl.element().str.len_chars() - 2))
        .alias("license_texts")
    )
    license_tokens = payload.str.replace_all(LICENSE, f'"{TOKENS["yzw-license-id"]}"')
    materials = payload
    for pattern, value in MATERIALS:
        materials = materials.str.replace_all(pattern, value)
    parts = [
        frame.filter(step == "SL").select(
            "row",
            payload.str.extract(_member("case_no"), 1).alias("p_case"),
            payload.str.extract(_member("application_no"), 1).alias("p_number"),
            payload.str.extract(_member("promised_due_at", TIME), 1).alias("due"),
            payload.str.replace_all(_member("case_no"), f'"case_no": "{TOKENS["yzw-case-no"]}"')
            .str.replace_all(_member("application_no"), f'"application_no": "{TOKENS["yzw-application-no"]}"')
            .str.replace_all(_member("promised_due_at", TIME), f'"promised_due_at": "{TOKENS["yzw-datetime"]}"')
            .alias("masked"),
        ),
        frame.filter(step == "BJ").select(
            "row",
            payload.str.extract(_member("result"), 1).alias("result"),
            licenses,
            (payload.str.extract(r'"licenses": ?\[([^\]]*)\]', 1).str.count_matches('"') // 2).alias("licenses"),
            license_tokens.alias("masked"),
        ),
        frame.filter(step == "SD").select("row", payload.str.extract(_member("method"), 1).alias("method")),
        frame.filter(step == "BZJ").select(
            "row", licenses, materials.str.replace_all(LICENSE, f'"{TOKENS["yzw-license-id"]}"').alias("masked")
        ),
    ]
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "row": pl.UInt32,
        "p_case": pl.String,
        "p_number": pl.String,
        "due": pl.String,
        "result": pl.String,
        "method": pl.String,
        "license_texts": pl.List(pl.String),
        "licenses": pl.UInt32,
        "masked": pl.String,
    }
    return pl.concat([pl.DataFrame(schema=schema), *parts], how="diagonal_relaxed")


_CODED = (
    ("key", "yzw-application-no"),
    ("case_no", "yzw-case-no"),
    ("occ", "yzw-datetime"),
    ("due", "yzw-datetime"),
    ("division", "yzw-division"),
    ("dept", "yzw-uscc"),
    ("item", "yzw-item-code"),
)


def _refused(frame: pl.DataFrame, more: list[tuple[str, str]]) -> dict[str, set[str]]:
    """The values of the fast lane's coded members (and `more`: format, value) their code rules refuse, by
    format (each distinct value judged once, as a column: `codes.refused`)."""
    columns: dict[str, list[pl.Series]] = {}
    for column, name in _CODED:
        columns.setdefault(name, []).append(frame[column])
    columns["yzw-license-id"] = [frame["license_texts"].explode()]
    extra: dict[str, list[str]] = {}
    for name, value in more:
        extra.setdefault(name, []).append(value)
    for name, values in extra.items():
        columns.setdefault(name, []).append(pl.Series(name, values, dtype=pl.String))
    today = today_cn()
    return {name: codes.refused(name, pl.concat(parts).alias("value"), today) for name, parts in columns.items()}


def _any_refused(refused: dict[str, set[str]]) -> pl.Expr:
    flags = [
        pl.col(column).is_in(list(values)).fill_null(False) for column, name in _CODED if (values := refused[name])
    ]
    return pl.any_horizontal(flags) if flags else pl.lit(False)
