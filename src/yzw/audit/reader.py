"""Records of a JSON Lines dump, one at a time, with a reason for every line that is not a readable record.

Memory stays flat whatever the file: a line is read up to MAX_LINE bytes; a longer one is skipped to its
end in chunks and reported, and the lines after it are still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

MAX_LINE = 1 << 20  # 1 MiB: an event is a few KiB
CHUNK = 1 << 20


@dataclass(frozen=True)
class Line:
    """One line of a source: its number, and the record it holds or why it holds none."""

    source: str
    number: int
    record: dict[str, Any] | None
    problem: str | None = None


def read_jsonl(path: Path, max_line: int = MAX_LINE) -> Iterator[Line]:
    """Every line of a JSON Lines file as a record or a problem (blank lines are skipped)."""
    with path.open("rb") as handle:
        number = 0
        while True:
            raw = handle.readline(max_line + 1)
            if not raw:
                return
            number += 1
            if len(raw) > max_line and not raw.endswith(b"\n"):
                skipped = len(raw) + skip_rest(handle)
                yield Line(str(path), number, None, f"line longer than {max_line} bytes ({skipped} bytes): skipped")
                continue
            if raw.strip():
                yield parse_line(str(path), number, raw)


def skip_rest(handle: BinaryIO) -> int:
    """Read past the rest of an overlong line (its newline included): the bytes skipped."""
    skipped = 0
    while chunk := handle.readline(CHUNK):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def parse_line(source: str, number: int, raw: bytes) -> Line:
    """One non-blank line of a JSON Lines file as a record, or why it holds none."""
    try:
        record = orjson.loads(raw)  # the fast path; a line it refuses is read again below to say why
    except orjson.JSONDecodeError:
        pass
    else:
        if isinstance(record, dict):
            return Line(source, number, record)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Line(
            source,
            number,
            None,
            f"not UTF-8 (byte {exc.start}: {raw[exc.start : exc.start + 4]!r}); save the dump as UTF-8",
        )
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        ending = "" if raw.endswith(b"\n") else " (the file ends inside this record: truncated)"
        return Line(source, number, None, f"not JSON: {exc.msg} at column {exc.colno}{ending}")
    if not isinstance(record, dict):
        return Line(source, number, None, f"a JSON {type(record).__name__}, not an event object")
    return Line(source, number, record)
