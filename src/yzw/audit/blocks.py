"""A byte range of a JSON Lines file read in large blocks of whole lines, handed to Polars as lines at once.

Reading line by line cost the columnar audit a Python readline, a decode and list appends per line; here a
block of a few MiB is read at once, split by bytes.split, checked as UTF-8 by Polars in one cast (a block with
a line that is not UTF-8 is decoded line by line, those lines null), and each line's number and byte offset
follow from the lines' lengths. A line longer than `max_line` is reported with its size, as
`reader.read_jsonl` does, and never held whole: memory stays flat whatever the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from io import BufferedReader
from typing import BinaryIO

import polars as pl

BLOCK = 2 << 20  # bytes read at once: about 4,000 common events, screened together (3 MiB: +10 MB a worker)
BLANK = r"^[ \t\n\r\x0b\x0c]*$"  # what bytes.strip() takes away: a line of only these is blank


@dataclass(frozen=True)
class Block:
    """Whole lines starting at byte `offset`, the first of them line `first` (1-based) of the file."""

    offset: int
    first: int
    data: bytes


@dataclass(frozen=True)
class Long:
    """A line longer than the limit, skipped: its number and size in bytes (its newline included)."""

    number: int
    size: int


def blocks(
    handle: BufferedReader, start: int, end: int, first: int, max_line: int, size: int = BLOCK
) -> Iterator[Block | Long]:
    """The lines from `start` (the start of line `first`) to `end` (a line's start, or the end of the file)
    in file order, as blocks of whole lines and overlong lines.

    One buffer is read into again and again (a fresh one per block cost page faults once memory is given
    back after each batch); a block ends at its last newline, and the next is read from there."""
    buffer = bytearray(max(size, max_line + 2))  # a line that is not overlong always fits, with its newline
    view, position, number = memoryview(buffer), start, first
    handle.seek(start)
    while position < end:
        read = handle.readinto(view[: min(len(buffer), end - position)])
        if not read:
            break  # the file is shorter than it was
        cut = read if position + read >= end else buffer.rfind(b"\n", 0, read) + 1
        if cut:
            data = bytes(view[:cut])
            yield Block(position, number, data)
            number += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            del data
        else:  # no newline in a whole buffer: a line longer than the limit, skipped to its newline
            more, rest = _skip(handle, end - position - read)
            cut = read + more - len(rest)
            yield Long(number, cut)
            number += 1
        position += cut
        handle.seek(position)


def _skip(handle: BinaryIO, left: int) -> tuple[int, bytes]:
    """Read past the rest of an overlong line (of at most `left` bytes more): the bytes read, and those of
    them after its newline."""
    read = 0
    while read < left and (chunk := handle.read(min(BLOCK, left - read))):
        read += len(chunk)
        found = chunk.find(b"\n")
        if found >= 0:
            return read, chunk[found + 1 :]
    return read, b""


def lines(block: Block) -> pl.DataFrame:
    """The block's lines: line (text, null when not UTF-8), number, offset, size (bytes, without newline),
    blank; a trailing newline makes no line."""
    data = block.data[:-1] if block.data.endswith(b"\n") else block.data
    raw = pl.Series("line", data.split(b"\n"), dtype=pl.Binary)  # Polars' str.split held ≈ 10x the block
    try:
        texts = raw.cast(pl.String)
    except pl.exceptions.ComputeError:  # some line is not UTF-8: each decoded alone, those null
        texts = pl.Series("line", [_text(line) for line in data.split(b"\n")], dtype=pl.String)
    frame = pl.DataFrame({"line": texts, "size": raw.bin.size().cast(pl.Int64)})
    return frame.with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) + block.first).alias("number"),
        ((pl.col("size") + 1).cum_sum() - pl.col("size") - 1 + block.offset).alias("offset"),
        pl.col("line").str.contains(BLANK).fill_null(False).alias("blank"),
    )


def _text(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
