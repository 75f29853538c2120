"""The audit's buckets on disk: every row written comes back in its bucket, in the order written, however many
streams a bucket holds (they are joined as they are read, so their number does not grow the memory)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from yzw.audit import buckets


@pytest.mark.parametrize("gather", [2, 3, 1000])
def test_a_bucket_of_many_streams_reads_back_whole_and_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gather: int
) -> None:
    monkeypatch.setattr(buckets, "GATHER", gather)
    frames = [
        pl.DataFrame(
            {"key": [f"A{(batch * 7 + row) % 11}" for row in range(9)], "ordinal": range(batch * 9, batch * 9 + 9)}
        )
        for batch in range(40)
    ]
    for reader in ("r0", "r1"):
        writer = buckets.Writer(str(tmp_path), 3, reader, held_bytes=1)  # a stream per bucket and batch
        for frame in frames:
            writer.add(frame.with_columns(pl.lit(reader).alias("reader")))
        writer.flush()
    everything = pl.concat([f.with_columns(pl.lit(r).alias("reader")) for r in ("r0", "r1") for f in frames])
    everything = everything.with_columns(buckets.bucket_of(pl.col("key"), 3).alias("bucket"))
    for bucket in range(3):
        read = buckets.read(str(tmp_path), bucket)
        assert read is not None
        wanted = everything.filter(pl.col("bucket") == bucket).drop("bucket")
        assert_frame_equal(read, wanted)
    assert not list(tmp_path.iterdir())  # each bucket's files removed once read
    assert buckets.read(str(tmp_path), 0) is None
