"""Judge and record pushed events (EVT-01, EVT-03/04, EVT-07/08/09) in one transaction: one read for the whole
batch (known events, histories, submission times, case records), the verdicts in memory in the events' order,
then one multi-row write per table. A single event is a batch of one."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

import orjson

from yzw.codes.times import CN_TZ
from yzw.mock import supervision
from yzw.mock.platform import Platform
from yzw.mock.topology import NodeSpec
from yzw.serving.errors import finding_details
from yzw.serving.store import Db
from yzw.spec.cases import CASE_STEPS, apply, new_case
from yzw.spec.events import History, judge
from yzw.spec.findings import Finding

Given = tuple[dict[str, Any], list[Finding]]  # an event with its code-rule findings (judged after EVT-07)
Pushed = tuple[dict[str, Any], list[Finding], str]  # … and who pushed it: system, up or down (origin_of)
Outcome = tuple[int, dict[str, Any]]  # HTTP status, answer body
CHUNK = 500  # events per read and per multi-row insert (SQLite allows 32,766 parameters)
HISTORY_FIELDS = tuple(f.name for f in fields(History))


def receipt_id(node: str) -> str:
    """A receipt id unique across replica processes and restarts (EVT-08): the node, then 128 random bits
    as 32 hex digits (a UUID's text without the UUID object, which costs more than the rest of the id)."""
    return f"R-{node}-{os.urandom(16).hex()}"


_clock: list[Any] = [0, ""]  # the second last asked for, and its text


def now_text() -> str:
    """Now in China time to the second (the text is made once a second)."""
    second = int(time.time())
    if second != _clock[0]:
        _clock[:] = [second, dt.datetime.fromtimestamp(second, CN_TZ).isoformat()]
    return str(_clock[1])


def canonical(event: dict[str, Any]) -> str:
    """The event as stored and compared (EVT-07): compact JSON, members sorted, UTF-8 as it is.

    orjson writes the text json.dumps writes, except for floats ("1e+16" against "1e16"): an event with a
    float, or one orjson cannot write (an integer over 64 bits), goes through json.dumps.
    """
    if not _has_float(event):
        try:
            return orjson.dumps(event, option=orjson.OPT_SORT_KEYS).decode("utf-8")
        except TypeError:
            pass
    return json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _has_float(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_float(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_float(item) for item in value)
    return isinstance(value, float)


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or []}


@dataclass
class _Batch:
    """What one transaction read, judged and has still to write."""

    node: NodeSpec
    known: dict[str, tuple[str, str, str]]  # event_id → (canonical body, receipt_id, received_at)
    histories: dict[str, History]
    submitted: dict[str, str | None]  # application_no → submitted_at, for applications without a history
    cases: dict[str, dict[str, Any]]
    events: list[tuple[Any, ...]] = field(default_factory=list)
    outbox: list[tuple[str, str, str]] = field(default_factory=list)
    changed_histories: set[str] = field(default_factory=set)
    changed_cases: set[str] = field(default_factory=set)

    def history(self, number: str) -> History:
        found = self.histories.get(number)
        return found if found is not None else History(submitted_at=self.submitted.get(number))


def ingest_many(platform: Platform, node: NodeSpec, events: Sequence[Given], origin: str) -> list[Outcome]:
    """Judge and record events in order, in one transaction; each is judged on its own (a batch, EVT-01)."""
    return ingest_pushed(platform, node, [(event, findings, origin) for event, findings in events])


def ingest_pushed(platform: Platform, node: NodeSpec, pushed: Sequence[Pushed]) -> list[Outcome]:
    """`ingest_many` for events of several pushes (each with its origin), in their order."""
    outcomes: list[Outcome] = []
    with platform.store.transaction() as db:
        for start in range(0, len(pushed), CHUNK):
            outcomes += _ingest_chunk(db, platform, node, pushed[start : start + CHUNK])
    return outcomes


def _ingest_chunk(db: Db, platform: Platform, node: NodeSpec, pushed: Sequence[Pushed]) -> list[Outcome]:
    numbers = sorted({str(event["application_no"]) for event, _, _ in pushed})
    platform.store.lock_all(db, [f"{node.name}:{number}" for number in numbers])  # one application at a time
    batch = _read(db, node, [str(event["event_id"]) for event, _, _ in pushed], numbers)
    outcomes = [_judge_one(db, platform, batch, given) for given in pushed]
    _write(db, batch)
    return outcomes


def _read(db: Db, node: NodeSpec, event_ids: list[str], numbers: list[str]) -> _Batch:
    """Everything the chunk's verdicts need, in one statement."""
    rows = db.execute(
        _read_sql(len(event_ids), len(numbers)),
        (node.name, *event_ids, node.name, *numbers, *numbers, node.name, *numbers),
    ).fetchall()
    batch = _Batch(node, {}, {}, {}, {})
    for kind, key, body, receipt, received_at in rows:
        if kind == "e":
            batch.known[key] = (body, receipt, received_at)
        elif kind == "h":
            batch.histories[key] = History(**json.loads(body))
        elif kind == "s":
            batch.submitted[key] = json.loads(body)
        else:
            batch.cases[key] = json.loads(body)
    return batch


@lru_cache(maxsize=64)
def _read_sql(event_count: int, number_count: int) -> str:
    ids, numbers = _marks(event_count), _marks(number_count)
    return (
        f"SELECT 'e', event_id, body, receipt_id, received_at FROM events WHERE node = ? AND event_id IN ({ids}) "
        f"UNION ALL SELECT 'h', application_no, state, NULL, NULL FROM histories WHERE node = ? "
        f"AND application_no IN ({numbers}) "
        f"UNION ALL SELECT 's', key, body, NULL, NULL FROM records WHERE node = '*' AND kind = 'submitted_at' "
        f"AND key IN ({numbers}) "
        f"UNION ALL SELECT 'c', application_no, body, NULL, NULL FROM cases WHERE node = ? "
        f"AND application_no IN ({numbers})"
    )


def _marks(count: int) -> str:
    return ",".join("?" * count)


def _judge_one(db: Db, platform: Platform, batch: _Batch, given: Pushed) -> Outcome:
    event, findings, origin = given
    text = canonical(event)
    known = batch.known.get(event["event_id"])
    if known is not None:
        if known[0] == text:
            return 200, {"receipt_id": known[1], "received_at": known[2], "duplicate": True}
        return 409, error_body("EVENT_CONFLICT", "this event_id was recorded with other content (EVT-07)")
    if findings:
        return 422, error_body("CODE_INVALID", "a code breaks its rule (norm §2)", finding_details(findings))
    received_at, number = now_text(), str(event["application_no"])
    verdict = judge(batch.history(number), event, received_at if origin == "system" else None)
    if verdict.reason is not None:
        code = "SEQUENCE_INVALID" if verdict.requirement == "EVT-03" else "TIME_INVALID"
        detail = [{"path": f"/{verdict.member}", "reason": verdict.reason, "requirement": verdict.requirement}]
        return 422, error_body(code, verdict.reason, detail)
    receipt_no = receipt_id(batch.node.name)
    receipt = {"receipt_id": receipt_no, "received_at": received_at, "duplicate": False}
    batch.known[event["event_id"]] = (text, receipt_no, received_at)
    batch.histories[number] = verdict.history
    batch.changed_histories.add(number)
    _keep(db, platform, batch, (event, findings, origin), text, receipt)
    return 200, receipt


def _keep(db: Db, platform: Platform, batch: _Batch, given: Pushed, text: str, receipt: dict[str, Any]) -> None:
    """The accepted event's row, relay entries and case record, to be written with the chunk."""
    event, _, origin = given
    node, number = batch.node, str(event["application_no"])
    received = dt.datetime.fromisoformat(receipt["received_at"])
    delay = (received - dt.datetime.fromisoformat(event["occurred_at"])).total_seconds()
    batch.events.append(
        (
            node.name,
            event["event_id"],
            number,
            event.get("case_no"),
            event["seq"],
            event["step"],
            event["dept_uscc"],
            event["division_code"],
            text,
            receipt["receipt_id"],
            receipt["received_at"],
            delay,
            origin,
        )
    )
    batch.outbox += [(node.name, target, text) for target in relay_targets(platform, node, event, origin)]
    if event["step"] in CASE_STEPS:  # SUP-01: the case record the supervision engine watches
        case = batch.cases.get(number) or new_case(event, origin)
        apply(case, event)
        batch.cases[number] = case
        batch.changed_cases.add(number)
        if event["step"] == "BJ":
            supervision.revoke_if_in_time(db, node, case, event)


def relay_targets(platform: Platform, node: NodeSpec, event: dict[str, Any], origin: str) -> list[str]:
    """EVT-09: up to the parent (unless it came down); down to the children of the case's division from the
    province (and onwards down from there)."""
    targets = [node.parent] if node.parent and origin != "down" else []
    if origin == "down" or (origin == "system" and node.tier == "province"):
        targets += [child.name for child in platform.topology.children_covering(node.name, event["division_code"])]
    return [t for t in targets if t]


INSERT_EVENTS = (
    "INSERT INTO events (node, event_id, application_no, case_no, seq, step, dept_uscc, division_code, body, "
    "receipt_id, received_at, delay_seconds, origin) VALUES "
)
UPSERT_HISTORIES = (
    "INSERT INTO histories (node, application_no, state) VALUES {} ON CONFLICT (node, application_no) "
    "DO UPDATE SET state = excluded.state"
)
UPSERT_CASES = (
    "INSERT INTO cases (node, application_no, next_check, body) VALUES {} ON CONFLICT (node, application_no) "
    "DO UPDATE SET body = excluded.body, next_check = excluded.next_check"
)
INSERT_OUTBOX = "INSERT INTO outbox (node, target, body) VALUES "


def _write(db: Db, batch: _Batch) -> None:
    """One multi-row statement per table (the histories and cases as they stand after the chunk)."""
    node = batch.node.name
    histories = [(node, n, _state(batch.histories[n])) for n in sorted(batch.changed_histories)]
    cases = [
        (node, n, supervision.first_check(batch.cases[n]), _json(batch.cases[n])) for n in sorted(batch.changed_cases)
    ]
    for sql, rows in (
        (INSERT_EVENTS + "{}", batch.events),
        (UPSERT_HISTORIES, histories),
        (UPSERT_CASES, cases),
        (INSERT_OUTBOX + "{}", batch.outbox),
    ):
        for part in _parts(rows):
            db.execute(_multi_row(sql, len(part[0]), len(part)), [value for row in part for value in row])


def _parts(rows: list[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


@lru_cache(maxsize=64)
def _multi_row(sql: str, width: int, count: int) -> str:
    """The statement with `count` rows of `width` values (one text per shape: prepared once, then reused)."""
    row = f"({_marks(width)})"
    return sql.format(",".join([row] * count))


def _state(history: History) -> str:
    """A history as the histories table keeps it (the dataclass's fields as a JSON object)."""
    return _json({name: getattr(history, name) for name in HISTORY_FIELDS})


def _json(value: Any) -> str:
    """Compact JSON text of a record only read back as JSON (a history, a case record)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


class Coalescer:
    """Single pushes that arrive together share one transaction (a group commit): each push waits for the
    next turn of the event loop, by when the pushes read in the same turn have joined it; they are then judged
    and recorded in their order of arrival, exactly as one after the other, and each gets its own answer."""

    def __init__(self, platform: Platform, node: NodeSpec) -> None:
        self.platform, self.node = platform, node
        self._waiting: list[tuple[Pushed, asyncio.Future[Outcome]]] = []

    async def ingest(self, pushed: Pushed) -> Outcome:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._waiting.append((pushed, future))
        if len(self._waiting) == 1:
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        try:
            outcomes = ingest_pushed(self.platform, self.node, [pushed for pushed, _ in waiting])
        except Exception as exc:  # the store failed: every push of the group answers 500, none is kept
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), outcome in zip(waiting, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
