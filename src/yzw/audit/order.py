"""EVT-03 order, EVT-04 times and EVT-06 delays as Polars expressions over a bucket of screened records.

Columns: key (application_no), seq, step, occ and rec (occurred_at, received_at as written), given
(delay_seconds when given), flag (the screen refused the record). Rows sorted by application, then arrival.
An application any of whose rows `broken` marks is judged again by the row audit.
"""

from __future__ import annotations

import polars as pl

from yzw.audit.codes import TIME_FORMAT
from yzw.spec.events import order_rules
from yzw.spec.limits import limits

# A received_at the screen reads itself ([0-9]: Polars reads \d as any Unicode digit); else the row audit.
RECEIVED = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][+-](?:[01][0-9]|2[0-3]):[0-5][0-9]$"


def judged(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows (sorted by application, then arrival) with `flagged` (its application goes to the row audit)
    and `delay` (EVT-06's, for the KPIs). A row the screen did not pass is read as flagged, its members not.

    Windows per application are spelt with the row index and the first row of the application (`start`),
    not `over`: the rows are sorted, so one pass over the columns does."""
    unread = ~pl.col("ok")
    columns = ("seq", "step", "occ", "rec", "given")
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    first = (pl.col("key") != pl.col("key").shift(1)).fill_null(True)
    return (
        frame.with_columns([pl.when(unread).then(None).otherwise(pl.col(name)).alias(name) for name in columns])
        .with_columns(unread.alias("flag"), index.alias("row"), first.alias("first"))
        .with_columns(
            pl.when("first").then(pl.col("row")).forward_fill().alias("start"),
            *(expr.alias(name) for name, expr in zip(("occ_t", "rec_t"), _parsed(), strict=True)),
        )
        .with_columns(broken().alias("broken"), delay().alias("delay"))
        .with_columns(pl.col("broken").any().over("start").alias("flagged"))
        .drop("broken", "flag", "row", "first", "start", "occ_t", "rec_t")
    )


def _times() -> tuple[pl.Expr, pl.Expr]:
    return pl.col("occ_t"), pl.col("rec_t")


def _parsed() -> tuple[pl.Expr, pl.Expr]:
    return (
        pl.col("occ").str.to_datetime(TIME_FORMAT, time_zone="UTC", strict=False),
        pl.col("rec").str.to_datetime(TIME_FORMAT, time_zone="UTC", strict=False),
    )


def delay() -> pl.Expr:
    """EVT-06's delay: delay_seconds where given, else received_at − occurred_at (None when unknown)."""
    occurred, received = _times()
    return pl.coalesce(pl.col("given"), (received - occurred).dt.total_seconds(fractional=True))


def _previous(expr: pl.Expr) -> pl.Expr:
    """The value of the row before, within the application (None on its first row)."""
    return pl.when(pl.col("first")).then(None).otherwise(expr.shift(1))


def broken() -> pl.Expr:
    """True for a record the row audit must judge: flagged already, or EVT-03/04/06 may refuse it."""
    rules = order_rules()
    pairs = [f">{step}" for step in rules.first] + [
        f"{before}>{step}" for before, after in rules.after.items() if after is not None for step in after
    ]
    anywhere = sorted(rules.anywhere_after_acceptance)
    step, occurred, received = pl.col("step"), *_times()
    main = ~step.is_in(anywhere)
    last_main = pl.when(main).then(pl.col("row")).forward_fill().shift(1)  # the row of the step before
    before = pl.when(last_main >= pl.col("start")).then(step.gather(last_main.fill_null(0)))
    order = (
        pl.when(main)
        .then(pl.concat_str([before.fill_null(""), step], separator=">").is_in(pairs))
        .otherwise(_accepted_before(step == rules.acceptance))
    )
    seq_follows = pl.col("seq") == pl.col("row") - pl.col("start") + 1
    in_time = (occurred >= _previous(occurred)).fill_null(True) & (
        received.is_null() | (occurred <= received + pl.duration(seconds=rules.skew.total_seconds()))
    )
    late = (delay() > limits().event_deadline_seconds).fill_null(False)
    unread = occurred.is_null() | (pl.col("rec").is_not_null() & ~pl.col("rec").str.contains(RECEIVED))
    return (
        pl.col("flag")
        | unread
        | ~seq_follows.fill_null(False)
        | ~order.fill_null(False)
        | ~in_time.fill_null(False)
        | late
    )


def _accepted_before(acceptance: pl.Expr) -> pl.Expr:
    """An acceptance among the application's rows before this one."""
    total = acceptance.fill_null(False).cast(pl.Int64).cum_sum()
    return (
        total
        - acceptance.fill_null(False).cast(pl.Int64)
        - total.gather(pl.col("start"))
        + acceptance.fill_null(False).cast(pl.Int64).gather(pl.col("start"))
    ) > 0
