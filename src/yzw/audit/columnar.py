"""`yzw audit` on both cores: records spread over buckets by application, each bucket screened in columns.

Pass 1 reads the sources (a JSON Lines file in two byte ranges, one per core) and writes each readable
record to the bucket of its application (a hash of application_no) on disk; unreadable lines become bad
records at once. Pass 2 takes one bucket at a time on each core, so memory stays flat whatever the input:
it judges every record's shape with the compiled validator and screens the rest as Polars expressions over
the bucket — the members the order judge and the KPIs read, EVT-03 order (per application in arrival order,
against the transition table of specs/rules/events.yaml), EVT-04 times and EVT-06 delays. An application
any of whose records the screen does not pass is judged again record by record (`Audit.feed`, the row
audit), so each bad record gets the exact reason, member and requirement it always had; the records of
the other applications go straight into the KPI monitor. The screen may flag a clean application (it then
costs the row audit's time), never pass a bad one.
"""

from __future__ import annotations

import marshal
import math
import multiprocessing
import re
import tempfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import jsonschema_rs
import polars as pl

from yzw.audit.judge import APPLICATION_NO_LENGTH, EVENT_MEMBERS, Audit, BadRecord, _time
from yzw.audit.reader import MAX_LINE, Line, parse_line
from yzw.audit.sources import DATABASES, read_database, read_xml
from yzw.codes.lists import code_list
from yzw.codes.times import today_cn
from yzw.errors import YzwError
from yzw.spec.events import order_rules
from yzw.spec.limits import limits
from yzw.spec.monitoring import Monitor
from yzw.spec.rules import cross_field_findings
from yzw.spec.schemas import FORMATS, compiled, format_problem, schema_documents

BUCKET_BYTES = 6 << 20  # input bytes per bucket: the records of one bucket are in memory at once
WORKERS = 2
SCAN = 1 << 20
# The times the screen reads itself; any other spelling goes to the row audit (which parses with fromisoformat).
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d[+-](?:[01]\d|2[0-3]):[0-5]\d")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"
KPI_MEMBERS = ("promised_days", "legal_days")

# source index, arrival ordinal within the source, line number, the raw line (JSON Lines) or the record
Entry = tuple[int, int, int, bytes | dict[str, Any]]
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
    """The bucket files one reader writes (length-prefixed marshal entries), opened as records come."""

    def __init__(self, folder: str, count: int, name: str) -> None:
        self.folder, self.count, self.name = Path(folder), count, name
        self.handles: dict[int, BinaryIO] = {}

    def put(self, record: dict[str, Any], entry: Entry) -> None:
        bucket = zlib.crc32(str(record.get("application_no", "")).encode("utf-8", "surrogatepass")) % self.count
        handle = self.handles.get(bucket)
        if handle is None:
            handle = self.handles[bucket] = (self.folder / f"b{bucket:05d}-{self.name}.bin").open("wb")
        data = marshal.dumps(entry)
        handle.write(len(data).to_bytes(4, "little") + data)

    def close(self) -> None:
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
                line = parse_line(source, number, raw)
                if line.record is None:
                    bad.append(_unreadable(line))
                    count += 1
                else:
                    out.put(line.record, (index, number, number, raw))
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
                out.put(line.record, (index, ordinal, line.number, line.record))
    finally:
        out.close()
    return bad, count


# Pass 2: one bucket judged


def _entries(folder: str, bucket: int) -> Iterator[Entry]:
    for path in sorted(Path(folder).glob(f"b{bucket:05d}-*.bin")):
        with path.open("rb") as handle:
            while size := handle.read(4):
                yield marshal.loads(handle.read(int.from_bytes(size, "little")))
        path.unlink()


def judge_bucket(
    folder: str, bucket: int, sources: list[str], items: dict[str, Any], period: Any
) -> tuple[list[BadRecord], int, dict[str, dict[str, list[int]]], dict[str, int]]:
    """The bad records, record count and KPI counts of the applications of one bucket."""
    rows: list[tuple[str, int, int, int, dict[str, Any]]] = []
    for index, ordinal, number, data in _entries(folder, bucket):
        record = parse_line(sources[index], number, data).record if isinstance(data, bytes) else data
        assert record is not None  # pass 1 wrote records only
        rows.append((str(record.get("application_no", "")), index, ordinal, number, record))
    rows.sort(key=lambda row: row[:3])
    audit = Audit(Monitor(items, period))
    flagged, delays = _screen([row[0] for row in rows], [row[4] for row in rows])
    start = 0
    while start < len(rows):
        key, end = rows[start][0], start + 1
        while end < len(rows) and rows[end][0] == key:
            end += 1
        if flagged[start]:  # the row audit judges the whole application
            for _, index, _, number, record in rows[start:end]:
                audit.feed(Line(sources[index], number, record))
            audit.finish_application()
        else:  # every event clean and accepted: what the row audit would give the monitor
            for position in range(start, end):
                event, delay = rows[position][4], delays[position]
                audit.monitor.add(
                    event if delay is None or "delay_seconds" in event else {**event, "delay_seconds": delay}
                )
            audit.monitor.fold(key)
            audit.records += end - start
        start = end
    counts = {
        dept: {name: list(total) for name, total in named.items()} for dept, named in audit.monitor.counts.items()
    }
    return audit.bad, audit.records, counts, dict(audit.monitor.sizes)


def _screen(keys: list[str], events: list[dict[str, Any]]) -> tuple[list[bool], list[float | None]]:
    """Per record: is its application flagged for the row audit; the delay the monitor is given."""
    validator, steps, recorded = _shape_validator(), frozenset(code_list("steps")), _RECORDED
    recorded.clear()
    seq, step, occurred, received, delays, flag, spans = [], [], [], [], [], [], []
    for event in events:
        start = len(recorded)
        usable = _surely_usable(event, steps) and validator.is_valid(event) and not cross_field_findings("event", event)
        spans.append((start, len(recorded)))
        arrival, delay = event.get("received_at"), event.get("delay_seconds")
        given: float | None = None
        if isinstance(arrival, str) and not TIME.fullmatch(arrival):
            usable = False  # a time the screen does not read itself
        if isinstance(delay, int | float):  # as `_delay` reads it (a bool too)
            given = float(delay)
            usable = usable and math.isfinite(given)
        elif delay is not None:
            usable = False
        flag.append(not usable)
        seq.append(event.get("seq") if usable else None)
        step.append(event.get("step") if usable else None)
        occurred.append(event.get("occurred_at") if usable else None)
        received.append(arrival if usable and isinstance(arrival, str) else None)
        delays.append(given if usable else None)
    failing = _failing_codes(recorded)
    if failing:  # a record with a coded value its code rule refuses: the row audit says which and why
        flag = [bad or any(pair in failing for pair in recorded[a:b]) for bad, (a, b) in zip(flag, spans, strict=True)]
    recorded.clear()
    frame = pl.DataFrame(
        {"key": keys, "seq": seq, "step": step, "occ": occurred, "rec": received, "given": delays, "flag": flag},
        schema={
            "key": pl.String,
            "seq": pl.Int64,
            "step": pl.String,
            "occ": pl.String,
            "rec": pl.String,
            "given": pl.Float64,
            "flag": pl.Boolean,
        },
    )
    judged = frame.with_columns(_rules_broken().alias("broken"), _delay().alias("delay")).select(
        pl.col("broken").any().over("key").alias("flagged"), "delay"
    )
    return judged["flagged"].to_list(), judged["delay"].to_list()


def _surely_usable(event: dict[str, Any], steps: frozenset[str]) -> bool:
    """True only when `unusable_member` finds nothing and the times are spelt as the screen reads them."""
    if not event.keys() >= EVENT_MEMBERS:
        return False
    for member in ("application_no", "dept_uscc", "division_code", "item_code"):
        value = event.get(member)
        if type(value) is not str or not value:
            return False
    payload, occurred, step = event.get("payload"), event["occurred_at"], event["step"]
    if len(event["application_no"]) != APPLICATION_NO_LENGTH or type(step) is not str or step not in steps:
        return False
    if type(event["seq"]) is not int or type(payload) is not dict or type(occurred) is not str:
        return False
    if event.get("case_no") is not None and type(event["case_no"]) is not str:
        return False
    if not TIME.fullmatch(occurred) or not _time(occurred):
        return False
    due = payload.get("promised_due_at", "")
    if due != "" and not _time(due):
        return False
    if any(member in payload and type(payload[member]) is not int for member in KPI_MEMBERS):
        return False
    return "licenses" not in payload or type(payload["licenses"]) is list


def _times() -> tuple[pl.Expr, pl.Expr]:
    return (
        pl.col("occ").str.to_datetime(TIME_FORMAT, time_zone="UTC", strict=False),
        pl.col("rec").str.to_datetime(TIME_FORMAT, time_zone="UTC", strict=False),
    )


def _delay() -> pl.Expr:
    """EVT-06's delay: delay_seconds where given, else received_at − occurred_at (None when unknown)."""
    occurred, received = _times()
    return pl.coalesce(pl.col("given"), (received - occurred).dt.total_seconds(fractional=True))


def _rules_broken() -> pl.Expr:
    """True for a record the row audit must judge: flagged already, or EVT-03/04/06 may refuse it."""
    rules = order_rules()
    pairs = [f">{step}" for step in rules.first] + [
        f"{before}>{step}" for before, after in rules.after.items() if after is not None for step in after
    ]
    anywhere = sorted(rules.anywhere_after_acceptance)
    step, occurred, received = pl.col("step"), *_times()
    main = ~step.is_in(anywhere)
    before = pl.when(main).then(step).forward_fill().shift(1).over("key")
    order = (
        pl.when(main)
        .then(pl.concat_str([before.fill_null(""), step], separator=">").is_in(pairs))
        .otherwise((step == rules.acceptance).cast(pl.Int32).cum_sum().shift(1).over("key").fill_null(0) > 0)
    )
    seq_follows = pl.col("seq") == pl.int_range(1, pl.len() + 1).over("key")
    in_time = (occurred >= occurred.shift(1).over("key")).fill_null(True) & (
        received.is_null() | (occurred <= received + pl.duration(seconds=rules.skew.total_seconds()))
    )
    late = (_delay() > limits().event_deadline_seconds).fill_null(False)
    return pl.col("flag") | ~seq_follows.fill_null(False) | ~order.fill_null(False) | ~in_time.fill_null(False) | late


# The code rules (the schemas' named formats), judged once per distinct value of a bucket

_RECORDED: list[tuple[str, str]] = []  # (format, value) of every coded value the shape validator met


def _recorder(name: str) -> Callable[[str], bool]:
    def record(value: str) -> bool:
        _RECORDED.append((name, value))
        return True

    return record


@cache
def _shape_validator() -> Any:
    """The event schema, its named formats recorded rather than checked (the code rules come after, per value).

    Exact only while no format decides a branch (`if`, `anyOf`, `oneOf`, `not`); otherwise the full validator.
    """
    documents = schema_documents()
    if any(_format_in_branch(document) for document in documents.values()):
        return compiled("event")
    registry = jsonschema_rs.Registry([(doc["$id"], doc) for doc in documents.values()])
    formats = {name: _recorder(name) for name in FORMATS}
    return jsonschema_rs.validator_for(documents["event"], registry=registry, formats=formats, validate_formats=True)


def _format_in_branch(node: Any, branch: bool = False) -> bool:
    if isinstance(node, list):
        return any(_format_in_branch(item, branch) for item in node)
    if not isinstance(node, dict):
        return False
    if branch and "format" in node:
        return True
    return any(
        _format_in_branch(value, branch or key in ("if", "anyOf", "oneOf", "not", "contains"))
        for key, value in node.items()
    )


def _failing_codes(recorded: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The distinct (format, value) pairs their code rule refuses: times in one Polars expression, the rest
    through the codes package's checkers (remembered across buckets)."""
    distinct = set(recorded)
    times = [value for name, value in distinct if name == "yzw-datetime"]
    sure = set(_surely_times(times)) if times else set()
    today = today_cn()
    return {
        (name, value)
        for name, value in distinct
        if not (name == "yzw-datetime" and value in sure) and not _passes(name, value, today)
    }


def _surely_times(values: list[str]) -> list[str]:
    """The values that are CODE-08 times for sure: spelt +08:00 with whole seconds, and a real instant."""
    frame = pl.DataFrame({"value": values}, schema={"value": pl.String})
    parsed = pl.col("value").str.to_datetime(TIME_FORMAT, time_zone="UTC", strict=False)
    shaped = pl.col("value").str.contains(f"^{TIME.pattern}$") & pl.col("value").str.ends_with("+08:00")
    return frame.filter(shaped & parsed.is_not_null())["value"].to_list()


@lru_cache(maxsize=1 << 16)
def _passes(name: str, value: str, today: Any) -> bool:
    return format_problem(name, value, today) is None
