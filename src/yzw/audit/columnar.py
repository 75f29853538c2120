"""`yzw audit` on both cores: records screened as they are read, spread over buckets by application, each
bucket judged in columns.

Pass 1 reads the sources (a JSON Lines file in two byte ranges, one per core), parses each line once and
screens its shape (`screen.Screen`: one schema validation per distinct masked record, the code rules once
per distinct value in batches); it writes to the bucket of its application (a hash of application_no) on
disk the few members the order judge and the KPIs read, and the raw line. Unreadable lines become bad
records at once. Pass 2 takes one bucket at a time on each core, so memory stays flat whatever the input,
and judges EVT-03 order, EVT-04 times and EVT-06 delays as Polars expressions (`order`). An application any
of whose records the screen or those rules do not pass is judged again record by record from its raw lines
(`Audit.feed`, the row audit), so each bad record gets the exact reason, member and requirement it always
had; the other applications go straight into the KPI monitor. The screen may flag a clean application (it
then costs the row audit's time), never pass a bad one.
"""

from __future__ import annotations

import marshal
import math
import multiprocessing
import tempfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from yzw.audit import codes, order
from yzw.audit.judge import Audit, BadRecord
from yzw.audit.reader import MAX_LINE, Line, parse_line
from yzw.audit.screen import Screen, given_delay, kpi_payload
from yzw.audit.sources import DATABASES, read_database, read_xml
from yzw.errors import YzwError
from yzw.spec.monitoring import Monitor

BUCKET_BYTES = 6 << 20  # input bytes per bucket: the screened rows of one bucket are in memory at once
WORKERS = 2
SCAN = 1 << 20
BATCH = 8192  # records whose coded values are judged together

# source index, arrival ordinal within the source, line number, the raw line (JSON Lines) or the record
Entry = tuple[int, int, int, bytes | dict[str, Any]]
# application_no, source index, ordinal, line number, screened, seq, step, occurred_at, received_at,
# given delay, delay_seconds present, KPI members (dept, division, item, case_no, payload), raw line or record
Row = tuple[str, int, int, int, bool, Any, Any, Any, Any, Any, bool, Any, bytes | dict[str, Any]]
Tick = Callable[[str, int], None]


@dataclass
class Outcome:
    """What an audit found: the bad records (in source and line order), how many records, the KPI monitor."""

    monitor: Monitor
    bad: list[BadRecord] = field(default_factory=list)
    records: int = 0

    def as_audit(self) -> Audit:
        return Audit(self.monitor, bad=self.bad, records=self.records)


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
    context = multiprocessing.get_context("spawn")  # Polars and threads do not survive a fork
    with tempfile.TemporaryDirectory(prefix="yzw-audit-") as folder, ProcessPoolExecutor(workers, context) as pool:
        splits: list[Future[tuple[list[BadRecord], int]]] = []
        for index, path in enumerate(paths):
            if _is_jsonl(path):
                splits += [
                    pool.submit(split_jsonl, path, index, part, workers, folder, buckets) for part in range(workers)
                ]
            else:  # XML and databases are read here, while the pool splits the JSON Lines files
                bad, count = _split_records(path, index, folder, buckets)
                outcome.bad += bad
                outcome.records += count
        for future in splits:
            bad, count = future.result()
            outcome.bad += bad
            outcome.records += count
        if tick:
            tick("read", outcome.records)
        judged = [pool.submit(judge_bucket, folder, bucket, sources, items, period) for bucket in range(buckets)]
        for done in judged:
            found, number, counts, sizes = done.result()
            outcome.bad += found
            outcome.records += number
            _merge(outcome.monitor, counts, sizes)
            if tick:
                tick("judged", outcome.records)
    outcome.bad.sort(key=lambda bad: (bad.source, bad.line))
    return outcome


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


# Pass 1: records to the buckets of their applications


class _Buckets:
    """The bucket files one reader writes: each record screened (its coded values judged by batch), then its
    row written (length-prefixed marshal) to the bucket of its application."""

    def __init__(self, folder: str, count: int, name: str) -> None:
        self.folder, self.count, self.name = Path(folder), count, name
        self.handles: dict[int, BinaryIO] = {}
        self.screen = Screen()
        self.pending: list[tuple[list[Any], list[tuple[str, str]]]] = []

    def put(self, record: dict[str, Any], head: tuple[int, int, int], raw: bytes | dict[str, Any], exact: bool) -> None:
        """Screen a record (`exact`: parsed by orjson) and queue its row."""
        ok, coded = self.screen.judge(record, exact)
        usable, given = given_delay(record)
        ok = ok and usable
        arrival = record.get("received_at")
        row: list[Any] = [str(record.get("application_no", "")), *head, ok, None, None, None, None, None, False, None]
        if ok:
            row[5:12] = (
                record["seq"],
                record["step"],
                record["occurred_at"],
                arrival if isinstance(arrival, str) else None,
                given,
                "delay_seconds" in record,
                (
                    record["dept_uscc"],
                    record["division_code"],
                    record["item_code"],
                    record.get("case_no"),
                    kpi_payload(record["payload"]),
                ),
            )
        row.append(raw)
        self.pending.append((row, coded))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """The queued rows to their buckets, a row whose coded value its code rule refuses marked unscreened."""
        refused = codes.failing({pair for _, coded in self.pending for pair in coded})
        for row, coded in self.pending:
            if refused and row[4] and any(pair in refused for pair in coded):
                row[4] = False
            bucket = zlib.crc32(row[0].encode("utf-8", "surrogatepass")) % self.count
            handle = self.handles.get(bucket)
            if handle is None:
                handle = self.handles[bucket] = (self.folder / f"b{bucket:05d}-{self.name}.bin").open("wb")
            data = marshal.dumps(tuple(row))
            handle.write(len(data).to_bytes(4, "little") + data)
        self.pending = []

    def close(self) -> None:
        self.flush()
        for handle in self.handles.values():
            handle.close()


def _unreadable(line: Line) -> BadRecord:
    return BadRecord(line.source, line.number, "MSG-01", "", str(line.problem))


def split_jsonl(
    path: Path, index: int, part: int, parts: int, folder: str, buckets: int, max_line: int = MAX_LINE
) -> tuple[list[BadRecord], int]:
    """Part `part` of `parts` of a JSON Lines file (whole lines) into the buckets, as `read_jsonl` reads it.

    The unreadable lines come back as bad records, with their count; the records are counted when judged."""
    size = path.stat().st_size
    start, end = _boundary(path, size * part // parts), _boundary(path, size * (part + 1) // parts)
    out, bad, count, source = _Buckets(folder, buckets, f"s{index:04d}-p{part:03d}"), [], 0, str(path)
    try:
        with path.open("rb") as handle:
            number, position = _lines_before(handle, start), start
            handle.seek(start)
            while position < end:
                raw = handle.readline(max_line + 1)
                if not raw:
                    break
                number, position = number + 1, position + len(raw)
                if len(raw) > max_line and not raw.endswith(b"\n"):
                    rest = _skip_rest(handle)
                    position += rest
                    problem = f"line longer than {max_line} bytes ({len(raw) + rest} bytes): skipped"
                    bad.append(_unreadable(Line(source, number, None, problem)))
                    count += 1
                    continue
                if not raw.strip():
                    continue
                try:  # parsed once, here; the row audit parses again only the lines of flagged applications
                    record = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    record = None
                if isinstance(record, dict):
                    out.put(record, (index, number, number), raw, True)
                    continue
                line = parse_line(source, number, raw)
                if line.record is None:
                    bad.append(_unreadable(line))
                    count += 1
                else:
                    out.put(line.record, (index, number, number), raw, False)
    finally:
        out.close()
    return bad, count


def _skip_rest(handle: BinaryIO) -> int:
    skipped = 0
    while chunk := handle.readline(SCAN):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


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


def _split_records(path: Path, index: int, folder: str, buckets: int) -> tuple[list[BadRecord], int]:
    """An XML dump or a database into the buckets, in the order its reader gives."""
    out, bad, count = _Buckets(folder, buckets, f"s{index:04d}-p000"), [], 0
    reader: Iterator[Line] = read_xml(path) if path.suffix.lower() == ".xml" else read_database(path)
    try:
        for ordinal, line in enumerate(reader):
            if line.record is None:
                bad.append(_unreadable(line))
                count += 1
            else:
                out.put(line.record, (index, ordinal, line.number), line.record, False)
    finally:
        out.close()
    return bad, count


# Pass 2: one bucket judged


def _rows(folder: str, bucket: int) -> Iterator[Row]:
    for path in sorted(Path(folder).glob(f"b{bucket:05d}-*.bin")):
        with path.open("rb") as handle:
            while size := handle.read(4):
                yield marshal.loads(handle.read(int.from_bytes(size, "little")))
        path.unlink()


def judge_bucket(
    folder: str, bucket: int, sources: list[str], items: dict[str, Any], period: Any
) -> tuple[list[BadRecord], int, dict[str, dict[str, list[int]]], dict[str, int]]:
    """The bad records, record count and KPI counts of the applications of one bucket."""
    rows = sorted(_rows(folder, bucket), key=lambda row: row[:3])
    columns: dict[str, list[Any]] = {"key": [], "seq": [], "step": [], "occ": [], "rec": [], "given": [], "flag": []}
    for row in rows:
        ok = row[4]
        columns["key"].append(row[0])
        columns["seq"].append(row[5] if ok else None)
        columns["step"].append(row[6] if ok else None)
        columns["occ"].append(row[7] if ok else None)
        columns["rec"].append(row[8] if ok else None)
        columns["given"].append(row[9] if ok else None)
        columns["flag"].append(not ok)
    flagged, delays = order.judged(columns)
    del columns
    audit = Audit(Monitor(items, period))
    start = 0
    while start < len(rows):
        key, end = rows[start][0], start + 1
        while end < len(rows) and rows[end][0] == key:
            end += 1
        if flagged[start]:  # the row audit judges the whole application
            for _, index, _, number, *_, raw in rows[start:end]:
                record = parse_line(sources[index], number, raw).record if isinstance(raw, bytes) else raw
                audit.feed(Line(sources[index], number, record))
            audit.finish_application()
        else:  # every event clean and accepted: what the row audit would give the monitor
            for position in range(start, end):
                audit.monitor.add(_kpi_event(rows[position], delays[position]))
            audit.monitor.fold(key)
            audit.records += end - start
        start = end
    counts = {
        dept: {name: list(total) for name, total in named.items()} for dept, named in audit.monitor.counts.items()
    }
    return audit.bad, audit.records, counts, dict(audit.monitor.sizes)


def _kpi_event(row: Row, delay: float | None) -> dict[str, Any]:
    """The members of a clean event the monitor reads; its delay as the row audit gives it."""
    dept, division, item, case_no, payload = row[11]
    event = {
        "application_no": row[0],
        "dept_uscc": dept,
        "division_code": division,
        "item_code": item,
        "case_no": case_no,
        "step": row[6],
        "occurred_at": row[7],
        "payload": payload,
    }
    if row[10]:  # delay_seconds given (perhaps null): the monitor reads it as given
        event["delay_seconds"] = row[9]
    elif delay is not None:
        event["delay_seconds"] = delay
    return event
