"""The buckets of the columnar audit on disk: the screened rows of each bucket of applications, appended by
every reader as length-prefixed Arrow IPC streams (one file per bucket and reader), read back one bucket at a
time.

A reader holds its batches' rows (Polars frames: measured, they keep only their own rows' buffers, not their
batch's lines) until `HELD_BYTES` are held, then splits them all by bucket at once: each flush writes one
stream per bucket. Writing each small batch straight to every bucket made streams of a few rows each, so a bucket's
streams, their headers on disk and the frames read back all grew with the input (1,250 streams per bucket at
5,000,000 events); now they grow with input / HELD_BYTES, and each bucket file is opened only to append.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

HELD_BYTES = 2 << 20  # bytes of screened rows a reader holds before they go to the buckets
GATHER = 64  # streams read back before they are joined into one frame
SEED = 7  # of the hash that puts an application in its bucket


class Writer:
    """The bucket files one reader (`name`) appends to."""

    def __init__(self, folder: str, count: int, name: str, held_bytes: int = HELD_BYTES) -> None:
        self.folder, self.count, self.name, self.held_bytes = Path(folder), count, name, held_bytes
        self.held: list[pl.DataFrame] = []
        self.size = 0

    def add(self, frame: pl.DataFrame) -> None:
        """A batch of rows (rows.SCHEMA); written with the others once enough are held."""
        if not len(frame):
            return
        self.held.append(frame)
        self.size += int(frame.estimated_size())
        if self.size >= self.held_bytes:
            self.flush()

    def flush(self) -> None:
        """Every held row to the bucket of its application: one stream per bucket."""
        if not self.held:
            return
        batch = pl.concat(self.held, how="vertical").with_columns(bucket_of(pl.col("key"), self.count).alias("bucket"))
        self.held, self.size = [], 0
        for (bucket,), part in batch.partition_by("bucket", as_dict=True, include_key=False).items():
            stream = io.BytesIO()
            part.write_ipc_stream(stream)
            with (self.folder / f"b{bucket:05d}-{self.name}.arrows").open("ab") as handle:
                handle.write(len(stream.getbuffer()).to_bytes(8, "little") + stream.getbuffer())


def bucket_of(key: pl.Expr, count: int) -> pl.Expr:
    """The bucket of an application: every record of it, from any reader, lands in the same one."""
    return key.hash(seed=SEED) % count


def read(folder: str, bucket: int) -> pl.DataFrame | None:
    """Every row written to a bucket (its files then removed), or None."""
    parts: list[pl.DataFrame] = []
    for path in sorted(Path(folder).glob(f"b{bucket:05d}-*.arrows")):
        with path.open("rb") as handle:
            while size := handle.read(8):
                parts.append(pl.read_ipc_stream(io.BytesIO(handle.read(int.from_bytes(size, "little")))))
                if len(parts) >= GATHER:  # a bucket's streams grow in number with the input: joined as they come
                    parts = [pl.concat(parts, how="vertical", rechunk=True)]
        path.unlink()
    return pl.concat(parts, how="vertical", rechunk=True) if parts else None
