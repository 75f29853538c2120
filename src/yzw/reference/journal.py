"""The system's events (EVT-02): made in order per application, kept in an outbox, pushed with retries (EVT-07).

Each event is written to the outbox in the same transaction that moves the application on, so nothing is
lost; the pusher sends an application's events one after the other, never a later one before an earlier
one was taken, backs off on 5xx, time-outs and connection failures, and stops (alerting) on a refusal.
Evaluations and rectifications (EVAL-01/02) queue behind the case's events the same way (EVT-07, 2026.2).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from typing import Any

import httpx

from yzw.client import AsyncSignedClient
from yzw.reference.system import ReferenceSystem, now_text
from yzw.serving.store import Db
from yzw.spec.limits import limits

log = logging.getLogger("yzw.reference")
REFUSALS = (400, 409, 413, 415, 422)  # EVT-07: never resend the same body unchanged
EVENTS = "/exchange/v1/events"
SYSTEM_NAME = "参考部门自建系统"


def own_handler(system: ReferenceSystem) -> dict[str, str]:
    """EVT-02: events the system makes by itself (BZJ, FK) name the system: its app_id and a name."""
    return {"id": system.registration.app_id, "name": SYSTEM_NAME}


def record_event(
    system: ReferenceSystem,
    number: str,
    step: str,
    payload: dict[str, Any],
    case_no: str | None = None,
    handler: dict[str, str] | None = None,
    occurred_at: str | None = None,
) -> dict[str, Any]:
    """Make the application's next event, move the application on, and queue the event, atomically
    (`occurred_at` given only by a part that dates the step otherwise: now is the clean time)."""
    with system.store.transaction() as db:
        row = db.execute(
            "SELECT body, last_seq, case_no, last_step, suspended_at, updated_at FROM applications "
            "WHERE application_no = ?",
            (number,),
        ).fetchone()
        seq = system.parts.event_seq(db, row)
        named = system.parts.step_handler(step, handler or system.parts.own_handler(system))
        event = _event(system, number, step, row, seq, payload, case_no or row[2], named)
        if occurred_at is not None:
            event["occurred_at"] = occurred_at
        reported = system.parts.step_reported(step, row[3])
        if step in system.parts.unreported_steps or not reported:  # moved on without an event: nothing queued
            _move_on(db, step, row, {**event, "seq": row[1]})
            return event
        _move_on(db, step, row, event)
        db.execute(
            "INSERT INTO outbox (application_no, body) VALUES (?, ?)", (number, json.dumps(event, ensure_ascii=False))
        )
    system.ring_outbox()
    return event


def as_handed(step: str, handler: dict[str, str]) -> dict[str, str]:
    """EVT-02, MSG-03: every step names the handler who made it (a clerk, or the system), with a non-empty name."""
    return handler


def every_step_reported(step: str, last_step: str | None) -> bool:
    """EVT-01: every step is pushed, whatever came before it (an SL after SB or BZJ as after nothing)."""
    return True


def next_in_application(db: Db, row: Any) -> int:
    """EVT-03: seq counts the application's own events, 1, 2, … without gaps (`row`: the application as it
    stands, its last seq second)."""
    return int(row[1]) + 1


def written_at_once(step: str) -> dt.timedelta:
    """EVT-06: every step (SB, BZ, BYSL, GQ, CH, FK … alike) is written and queued when it happens."""
    return dt.timedelta(0)


def application_division(system: ReferenceSystem, application: dict[str, Any]) -> str:
    """EVT-02: an event carries the division the application was filed in, not the system's own."""
    return str(application["division_code"])


def _event(
    system: ReferenceSystem,
    number: str,
    step: str,
    row: Any,
    seq: int,
    payload: dict[str, Any],
    case_no: str | None,
    handler: dict[str, str],
) -> dict[str, Any]:
    """The event of EVT-02 around the step's payload; `row` is the application as it stands."""
    application = json.loads(row[0])
    return {
        "event_id": str(uuid.uuid4()),
        "application_no": number,
        "case_no": case_no,
        "seq": seq,
        "step": step,
        "occurred_at": _occurred(
            system,
            system.parts.earliest_time(application, row[5] if row[1] else None, step),
            system.parts.step_lag(step),
        ),
        "division_code": system.parts.event_division(system, application),
        "dept_uscc": system.registration.dept_uscc,
        "item_code": system.parts.event_item_code(application["item_code"]),
        "handler": system.parts.event_handler(handler),
        "payload": payload,
    }


def _move_on(db: Db, step: str, row: Any, event: dict[str, Any]) -> None:
    """The application after its event: its last step, seq, case_no and the phase a suspension returns to."""
    last_step = row[3] if step == "FK" else step  # APP-07: the status follows the last event but FK
    updated_at = row[5] if step == "FK" else event["occurred_at"]  # APP-07: and so does updated_at
    phase = row[4] if row[3] == "HF" else row[3]  # after a resume the case is still in the phase of before
    suspended_at = phase if step == "GQ" else row[4]
    db.execute(
        "UPDATE applications SET last_seq = ?, last_step = ?, case_no = ?, updated_at = ?, suspended_at = ? "
        "WHERE application_no = ?",
        (event["seq"], last_step, event["case_no"], updated_at, suspended_at, event["application_no"]),
    )


def _occurred(system: ReferenceSystem, earliest: str | None, lag: dt.timedelta) -> str:
    """Now, as the event's occurred_at (CODE-08), but never before `earliest` (EVT-04); `lag`: how long ago
    the step happened when it is written."""
    moment = dt.datetime.fromisoformat(now_text()) + system.parts.event_clock_shift - lag
    if earliest is not None:
        moment = max(moment, dt.datetime.fromisoformat(earliest))
    return system.parts.event_time(moment)


def not_before_submission(application: dict[str, Any], last_time: str | None, step: str) -> str:
    """EVT-04: a system whose clock is behind the platform's takes `submitted_at` as the earliest occurred_at,
    and an event never precedes the application's previous event (`last_time`, None before the first), whatever
    the step."""
    times = [application["submitted_at"]] + ([last_time] if last_time else [])
    return str(max(times, key=dt.datetime.fromisoformat))


def queue(system: ReferenceSystem, case_no: str, path: str, body: dict[str, Any]) -> None:
    """EVT-07: an evaluation or rectification waits in the outbox behind the case's events (sent after its SL)."""
    with system.store.transaction() as db:
        number = db.execute("SELECT application_no FROM applications WHERE case_no = ?", (case_no,)).fetchone()[0]
        db.execute(
            "INSERT INTO outbox (application_no, body, path) VALUES (?, ?, ?)",
            (number, json.dumps(body, ensure_ascii=False), path),
        )
    system.ring_outbox()


def own_exchange(system: ReferenceSystem) -> str:
    """The exchange of the system's own tier (EVT-01): where its events go."""
    return system.exchange_url


def ready_in_order(system: ReferenceSystem) -> list[Any]:
    """The first pending event of each application not blocked by a refused one, due for a try now."""
    return system.store.rows(
        "SELECT o.id, o.body, o.attempts, o.path, o.application_no FROM outbox o "
        "WHERE o.state = 'pending' AND o.next_try <= ? AND o.id = "
        "(SELECT MIN(id) FROM outbox p WHERE p.application_no = o.application_no AND p.state != 'delivered') "
        "ORDER BY o.id LIMIT 200",
        time.time(),
    )


def delivered(status: int) -> bool:
    """EVT-08: any 2xx means the exchange took the event."""
    return 200 <= status < 300


def any_receipt(answer: str) -> bool:
    """EVT-08: a 2xx is delivered whatever its body says, `200 {"duplicate": true}` (a re-send) included."""
    return True


def is_refusal(status: int) -> bool:
    """EVT-07: a refusal is final, never resent unchanged; anything else not delivered is tried again."""
    return status in REFUSALS


def backoff(attempts: int) -> float:
    """1 s, 2 s, 4 s … at most 60 s (EVT-07: the first retry no sooner than 1 s, growing)."""
    return float(min(60, limits().first_retry_seconds * 2**attempts))


PUSH_LANES = 16  # applications pushing at once: an exchange that holds one push holds no other application's
LANE_WAIT = 0.05  # how long a round waits for a lane to finish before the pusher looks at the outbox again


async def push_once(system: ReferenceSystem) -> int:
    """Start a lane for each application with a ready event and no push under way: its events go one after
    another, in order (EVT-07), while applications go side by side, so that a push the exchange holds until it
    times out delays only its own application. The number delivered by the lanes that finished meanwhile."""
    lanes = system.push_lanes
    for number, rows in _by_application(system.parts.ready(system)).items():
        if number not in lanes and len(lanes) < PUSH_LANES:
            lanes[number] = asyncio.create_task(_lane(system, rows))
    if not lanes:
        return 0
    done, _ = await asyncio.wait(lanes.values(), timeout=LANE_WAIT, return_when=asyncio.FIRST_COMPLETED)
    finished = [number for number, task in lanes.items() if task in done]
    return sum(lanes.pop(number).result() for number in finished)


async def push_one_at_a_time(system: ReferenceSystem) -> int:
    """Try every ready event once, one push after another (another allowed outbox: a push the exchange holds
    holds every application's events behind it); the number delivered."""
    return await _lane(system, system.parts.ready(system))


async def _lane(system: ReferenceSystem, rows: list[Any]) -> int:
    delivered_now = 0
    for row in rows:
        status, error = await send(system, row["path"], row["body"])
        delivered_now += settle(system, row, status, error)
    system.ring_outbox()  # the application's next event may be ready now
    return delivered_now


def _by_application(rows: list[Any]) -> dict[str, list[Any]]:
    lanes: dict[str, list[Any]] = {}
    for row in rows:
        lanes.setdefault(_application_of(row), []).append(row)
    return lanes


def _application_of(row: Any) -> str:
    """The application an outbox entry belongs to (its lane); an entry that names none has a lane of its own."""
    try:
        if row["application_no"]:
            return str(row["application_no"])
    except (IndexError, KeyError):  # a part's own selection without the column: the body names it
        pass
    try:
        body = json.loads(row["body"])
    except (TypeError, ValueError):
        body = None
    number = body.get("application_no") if isinstance(body, dict) else None
    return str(number) if number else f"entry {row['id']}"


def as_json(path: str, body: str) -> tuple[bytes, str]:
    """MSG-01: a pushed body is the stored JSON text, UTF-8, labelled application/json."""
    return body.encode(), "application/json"


async def send(
    system: ReferenceSystem, path: str, body: str, client: AsyncSignedClient | None = None
) -> tuple[int, str]:
    """POST one event (or evaluation, rectification) to the exchange: the status and the answer's text (status 0
    when none came). The system's one client unless another is given (a faulty part's)."""
    content, media = system.parts.push_form(path, body)
    try:
        answer = await (client or system.client).request(
            "POST",
            system.parts.event_exchange(system) + path,
            content=content,
            headers={"Content-Type": media},
        )
    except (httpx.HTTPError, OSError) as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    return answer.status_code, answer.text[:300]


def settle(system: ReferenceSystem, row: Any, status: int, error: str) -> int:
    """Mark the event delivered (1), refused (an operator must act), or due again after a back-off (0)."""
    if system.parts.delivered(status) and system.parts.receipt_taken(error):
        system.store.execute("UPDATE outbox SET state = 'delivered', attempts = attempts + 1 WHERE id = ?", row["id"])
        return 1
    if system.parts.gives_up(status) or row["attempts"] + 1 >= system.parts.attempts_limit:
        system.parts.on_refusal(system, row, error)
    else:
        system.store.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_try = ?, last_error = ?, body = ? WHERE id = ?",
            time.time() + system.parts.backoff(row["attempts"]),
            error,
            system.parts.retry_body(row["body"]),
            row["id"],
        )
    return 0


def alert_operator(system: ReferenceSystem, row: Any, error: str) -> None:
    """EVT-07: a refused body is never sent again, corrected or not, until an operator repairs it."""
    log.error("the exchange refused outbox entry %s (%s): an operator must correct it", row["id"], error)
    system.store.execute(
        "UPDATE outbox SET state = 'refused', attempts = attempts + 1, last_error = ? WHERE id = ?", error, row["id"]
    )


async def pusher(system: ReferenceSystem, stop: asyncio.Event) -> None:
    """Push until stopped (the app's lifespan runs it): a round whenever an event is queued, and after an idle
    time anyway (retries come due by the clock)."""
    bell = system.outbox_bell()
    try:
        while not stop.is_set():
            bell.clear()  # an event queued during the round rings again: nothing waits out the idle time
            moved = await system.parts.push_round(system)
            if stop.is_set():
                return
            if moved:
                await asyncio.sleep(0.02)
                continue
            try:
                await asyncio.wait_for(bell.wait(), timeout=system.parts.outbox_idle_seconds)
            except TimeoutError:
                continue
    finally:
        for lane in system.push_lanes.values():
            lane.cancel()
        system.push_lanes.clear()
