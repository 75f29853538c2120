"""`yzw audit` on both cores: records screened as they are read, spread over buckets by application, each
bucket judged in columns. This process is one of the workers; one more is spawned per other core.

Pass 1 reads the sources (a JSON Lines file in byte ranges, one per worker, each read in blocks of a few MiB
split into lines by Polars: `blocks`) and parses each line once: a line in the common layout takes the fast
lane (`fastlane`: read by one regular expression in Polars, its shape judged per distinct masked record), any
other the slow lane (parsed in Python, `screen.Screen.judge`); coded values are judged once per distinct value
in batches (`codes`). It writes to the bucket of each record's application (a hash of application_no) the few
members the rules and the KPIs read, and where its line starts in the file (`rows`; a few MiB of rows at a
time, one stream per bucket: `buckets`). Unreadable lines become bad records at once. Pass 2 takes one bucket
at a time per worker, so memory stays flat whatever the input: EVT-03 order, EVT-04 times and EVT-06 delays as
Polars expressions (`order`). An application any of whose records the screen or those rules do not pass is
judged again record by record from its lines, read again (`Audit.feed`, the row audit), so each bad record
gets the exact reason, member and requirement it always had; the KPIs of the others are group-bys (`kpis`).
The screen may flag a clean application (it then costs the row audit's time), never pass a bad one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import marshal
import math
import multiprocessing
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import polars as pl

from yzw.audit import blocks, buckets, codes, fastlane, kpis, order, rows
from yzw.audit.badstore import BadStore, Found
from yzw.audit.judge import Audit, BadRecord
from yzw.audit.reader import MAX_LINE, Line, parse_line
from yzw.audit.screen import Screen
from yzw.audit.sources import DATABASES, read_database, read_xml
from yzw.errors import YzwError
from yzw.spec import schemas
from yzw.spec.monitoring import Monitor

BUCKET_BYTES = 16 << 20  # input bytes per bucket, whose rows are in memory at once (a bucket costs ≈ 1 MB a MiB)
WORKERS = 2
SCAN = 1 << 20
FORMATS_KEPT = 1 << 14  # the schema validator's remembered format answers, at most, in a worker
BATCH = 6000  # records of XML and databases screened together (their coded values judged at once)
TRIM_EVERY = 4  # batches of JSON Lines between two returns of the freed heap (each one faulted it in again)
Tick = Callable[[str, int], None]
Call = tuple[Callable[..., Any], tuple[Any, ...]]


@dataclass
class Outcome:
    """What an audit found: the bad records (iterated in source and line order; spilled to disk past a few
    thousand, so memory stays flat), how many records, the KPI monitor."""

    monitor: Monitor
    bad: BadStore = field(default_factory=BadStore)
    records: int = 0


def audit_sources(
    paths: list[Path],
    items: dict[str, Any],
    period: Any = None,
    tick: Tick | None = None,
    workers: int = WORKERS,
    bucket_bytes: int = BUCKET_BYTES,
) -> Outcome:
    """Audit every record of `paths` (JSON Lines, XML, mock platform databases); a missing one is an error first."""
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise YzwError(f"no such file: {', '.join(missing)} (give JSON Lines or XML dumps of events)")
    buckets = max(1, math.ceil(sum(p.stat().st_size for p in paths) / bucket_bytes))
    outcome, sources = Outcome(Monitor(items, period)), [str(p) for p in paths]
    with tempfile.TemporaryDirectory(prefix="yzw-audit-") as folder, ExitStack() as stack:
        pool = None
        if workers > 1:  # this process is one of the workers: workers − 1 more (spawned: Polars does not fork)
            pool = stack.enter_context(ProcessPoolExecutor(workers - 1, multiprocessing.get_context("spawn")))
        splits: list[Call] = []
        for index, path in enumerate(paths):
            if _is_jsonl(path):
                splits += [(split_jsonl, (path, index, part, workers, folder, buckets)) for part in range(workers)]
            else:  # XML and databases are read here first, while the pool splits the JSON Lines files
                splits.insert(0, (_split_records, (path, index, folder, buckets)))
        for found, count in _spread(pool, splits, workers):
            outcome.bad.take(found)
            outcome.records += count
        if tick:
            tick("read", outcome.records)
        judging: list[Call] = [(judge_bucket, (folder, bucket, sources, items, period)) for bucket in range(buckets)]
        for found, number, counts, sizes in _spread(pool, judging, workers):
            outcome.bad.extend(found)
            outcome.records += number
            _merge(outcome.monitor, counts, sizes)
            if tick:
                tick("judged", outcome.records)
    return outcome


@cache
def _libc() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def _give_back() -> None:
    """Return the freed heap of a batch or a bucket to the system (glibc keeps it otherwise): memory stays
    flat over all the processes, not only in what Python counts."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def _spread(pool: ProcessPoolExecutor | None, calls: list[Call], share: int) -> Iterator[Any]:
    """The results of the calls, in order: every `share`-th made here, the others by the pool meanwhile.
    A result is let go once yielded (its future dropped): the pool's bad records are not all held to the end."""
    futures: dict[int, Future[Any]] = {}
    if pool is not None:
        futures = {i: pool.submit(call, *args) for i, (call, args) in enumerate(calls) if i % share}
    for i, (call, args) in enumerate(calls):
        yield futures.pop(i).result() if i in futures else call(*args)


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() != ".xml" and path.suffix.lower() not in DATABASES


def _merge(monitor: Monitor, counts: dict[str, dict[str, list[int]]], sizes: dict[str, int]) -> None:
    for dept, named in counts.items():
        for name, (numerator, denominator) in named.items():
            total = monitor.counts[dept][name]
            total[0] += numerator
            total[1] += denominator
    for dept, size in sizes.items():
        monitor.sizes[dept] += size


# Pass 1: records screened, to the buckets of their applications


class _Buckets:
    """What one reader sends to the buckets: batches of fast-lane rows, and slow-lane rows screened here."""

    def __init__(self, folder: str, count: int, name: str) -> None:
        self.screen = Screen()
        self.slow: list[dict[str, Any]] = []
        self.writer = buckets.Writer(folder, count, name)
        self.batches = 0

    def slow_row(self, record: dict[str, Any], head: tuple[int, int, int], where: int | bytes, exact: bool) -> None:
        """A record of the slow lane (parsed in Python), screened; written with the next batch."""
        self.slow.append(rows.slow_row(self.screen, record, head, where, exact))

    def write(self, frame: pl.DataFrame | None = None) -> None:
        """A batch of fast-lane rows, and the slow rows so far (their coded values judged together)."""
        if frame is not None:
            self.writer.add(frame)
        if self.slow:
            refused = codes.failing({pair for row in self.slow for pair in row["coded"]})
            self.writer.add(rows.frame_of(self.slow, refused))
            self.slow = []
        _forget_formats()

    def close(self) -> None:
        self.write()
        self.writer.flush()


def _forget_formats() -> None:
    """The validator's remembered format answers dropped once many: nearly every value is met once."""
    if schemas._passes_on.cache_info().currsize > FORMATS_KEPT:
        schemas._passes_on.cache_clear()


def _unreadable(line: Line) -> BadRecord:
    return BadRecord(line.source, line.number, "MSG-01", "", str(line.problem))


def split_jsonl(
    path: Path, index: int, part: int, parts: int, folder: str, buckets: int, max_line: int = MAX_LINE
) -> tuple[Found, int]:
    """Part `part` of `parts` of a JSON Lines file (whole lines) into the buckets, as `read_jsonl` reads it.

    The unreadable lines come back as bad records (in files past a few thousand), with their count; the records
    are counted when judged."""
    size = path.stat().st_size
    start, end = _boundary(path, size * part // parts), _boundary(path, size * (part + 1) // parts)
    name = f"s{index:04d}-p{part:03d}"
    out, bad, count, source = _Buckets(folder, buckets, name), Found(folder, name), 0, str(path)
    with path.open("rb") as handle:
        first = _lines_before(handle, start) + 1
        for block in blocks.blocks(handle, start, end, first, max_line):
            if isinstance(block, blocks.Long):
                problem = f"line longer than {max_line} bytes ({block.size} bytes): skipped"
                bad.append(_unreadable(Line(source, block.number, None, problem)))
                count += 1
            else:
                count += _batch(out, (index, source), block, max_line, bad)
    out.close()
    return bad, count


def _batch(out: _Buckets, origin: tuple[int, str], block: blocks.Block, max_line: int, bad: Found) -> int:
    """Screen a block of lines: the fast lane in Polars, the rest parsed here. The count of unreadable lines."""
    index, source, before = *origin, bad.count
    lines = blocks.lines(block)
    long = lines.filter(pl.col("size") > max_line).select("number", "offset", "size")
    for number, offset, size in long.iter_rows():
        ended = offset - block.offset + size < len(block.data)  # its newline counts too, if it has one
        problem = f"line longer than {max_line} bytes ({size + ended} bytes): skipped"
        bad.append(_unreadable(Line(source, number, None, problem)))
    lines = lines.filter((pl.col("size") <= max_line) & ~pl.col("blank"))
    if not len(lines):
        return bad.count - before
    frame = fastlane.screened(lines["line"], out.screen).with_columns(
        lines["offset"], pl.lit(index, pl.Int32).alias("src"), lines["number"]
    )
    fast = frame.filter("fast")
    slow = frame.filter(~pl.col("fast")).select("number", "offset")
    for number, offset in slow.iter_rows():
        at = offset - block.offset
        text = block.data[at : block.data.find(b"\n", at) + 1 or len(block.data)]  # its newline too, if any
        try:  # the slow lane: parsed once, here
            record = orjson.loads(text)
        except orjson.JSONDecodeError:
            record = None
        if isinstance(record, dict):
            out.slow_row(record, (index, number, number), offset, True)
            continue
        line = parse_line(source, number, text)
        if line.record is None:
            bad.append(_unreadable(line))
        else:
            out.slow_row(line.record, (index, number, number), offset, False)
    out.write(rows.fast_rows(fast))
    del frame, fast, lines
    out.batches += 1
    if out.batches % TRIM_EVERY == 0:
        _give_back()
    return bad.count - before


def _boundary(path: Path, offset: int) -> int:
    """The start of the first line at or after `offset`."""
    if offset == 0:
        return 0
    with path.open("rb") as handle:
        handle.seek(offset - 1)
        position = offset - 1
        while chunk := handle.read(SCAN):
            found = chunk.find(b"\n")
            if found >= 0:
                return position + found + 1
            position += len(chunk)
        return position


def _lines_before(handle: BinaryIO, start: int) -> int:
    count, read = 0, 0
    while read < start and (chunk := handle.read(min(SCAN, start - read))):
        count += chunk.count(b"\n")
        read += len(chunk)
    return count


def _split_records(path: Path, index: int, folder: str, buckets: int) -> tuple[Found, int]:
    """An XML dump or a database into the buckets (the slow lane), in the order its reader gives."""
    name = f"s{index:04d}-p000"
    out, bad, count = _Buckets(folder, buckets, name), Found(folder, name), 0
    reader: Iterator[Line] = read_xml(path) if path.suffix.lower() == ".xml" else read_database(path)
    for ordinal, line in enumerate(reader):
        if line.record is None:
            bad.append(_unreadable(line))
            count += 1
        else:
            out.slow_row(line.record, (index, ordinal, line.number), marshal.dumps(line.record), False)
            if len(out.slow) >= BATCH:
                out.write()  # records (not offsets) are held: screened and serialised often
    out.close()
    return bad, count


# Pass 2: one bucket judged


def judge_bucket(
    folder: str, bucket: int, sources: list[str], items: dict[str, Any], period: Any
) -> tuple[list[BadRecord], int, dict[str, dict[str, list[int]]], dict[str, int]]:
    """The bad records, record count and KPI counts of the applications of one bucket."""
    frame = buckets.read(folder, bucket)
    if frame is None:
        return [], 0, {}, {}
    frame = order.judged(frame.sort("key", "src", "ordinal", maintain_order=True))
    audit = Audit(Monitor(items, period))
    flagged = frame.filter("flagged").select("src", "number", "offset", "raw", "packed")
    with ExitStack() as stack:
        handles: dict[int, BinaryIO] = {}
        for index, number, offset, packed_record, packed in flagged.iter_rows():  # by application, in order
            if not packed:
                if index not in handles:
                    handles[index] = stack.enter_context(Path(sources[index]).open("rb"))
                handles[index].seek(offset)
                raw = handles[index].readline(MAX_LINE + 1)
                # a fast-lane line the screen refused may not even be JSON: parse_line says why, as before
                audit.feed(parse_line(sources[index], number, raw))
            else:
                audit.feed(Line(sources[index], number, marshal.loads(packed_record)))
    audit.finish_application()
    clean = frame.filter(~pl.col("flagged"))
    audit.records += len(clean)
    suspended = clean.filter(pl.col("step").is_in(kpis.SUSPENSION).any().over("key"))
    for event in kpis.monitor_events(suspended):
        audit.monitor.add(event)
    for key in suspended["key"].unique(maintain_order=True).to_list():
        audit.monitor.fold(key)
    grouped, sizes = kpis.counts(clean.filter(~pl.col("key").is_in(suspended["key"].unique())), items, period)
    for dept, named in audit.monitor.counts.items():
        for name, (numerator, denominator) in named.items():
            total = grouped.setdefault(dept, {}).setdefault(name, [0, 0])
            total[0] += numerator
            total[1] += denominator
    for dept, size in audit.monitor.sizes.items():
        sizes[dept] = sizes.get(dept, 0) + size
    del frame, flagged, clean, suspended
    _forget_formats()
    _give_back()
    return audit.bad, audit.records, grouped, sizes
