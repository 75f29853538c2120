"""The system's events (EVT-02): made in order per application, kept in an outbox, pushed with retries (EVT-07).

Each event is written to the outbox in the same transaction that moves the application on, so nothing is
lost; the pusher sends an application's events one after the other, never a later one before an earlier
one was taken, backs off on 5xx, time-outs and connection failures, and stops (alerting) on a refusal.
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

from yzw.reference.system import ReferenceSystem, now_text
from yzw.spec.limits import limits

log = logging.getLogger("yzw.reference")
REFUSALS = (400, 409, 413, 415, 422)  # EVT-07: never resend the same body unchanged
SYSTEM_HANDLER = {"id": "system", "name": "参考部门自建系统"}


def record_event(
    system: ReferenceSystem,
    number: str,
    step: str,
    payload: dict[str, Any],
    case_no: str | None = None,
    handler: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Make the application's next event, move the application on, and queue the event, atomically."""
    with system.store.transaction() as db:
        row = db.execute(
            "SELECT body, last_seq, case_no, last_step, suspended_at FROM applications WHERE application_no = ?",
            (number,),
        ).fetchone()
        application, case_no = json.loads(row[0]), case_no or row[2]
        event = {
            "event_id": str(uuid.uuid4()),
            "application_no": number,
            "case_no": case_no,
            "seq": row[1] + 1,
            "step": step,
            "occurred_at": _occurred(system),
            "division_code": application["division_code"],
            "dept_uscc": system.record["dept_uscc"],
            "item_code": application["item_code"][19:]
            if "old-item-code" in system.faults
            else application["item_code"],
            "handler": {**(handler or SYSTEM_HANDLER), "name": ""}
            if "handler-missing-name" in system.faults
            else handler or SYSTEM_HANDLER,
            "payload": payload,
        }
        last_step = row[3] if step == "FK" else step  # APP-07: the status follows the last event but FK
        phase = row[4] if row[3] == "HF" else row[3]  # after a resume the case is still in the phase of before
        suspended_at = phase if step == "GQ" else row[4]
        db.execute(
            "UPDATE applications SET last_seq = ?, last_step = ?, case_no = ?, updated_at = ?, suspended_at = ? "
            "WHERE application_no = ?",
            (event["seq"], last_step, case_no, event["occurred_at"], suspended_at, number),
        )
        db.execute(
            "INSERT INTO outbox (application_no, body) VALUES (?, ?)", (number, json.dumps(event, ensure_ascii=False))
        )
    return event


def _occurred(system: ReferenceSystem) -> str:
    """Now, as the event's occurred_at (the fault utc-timestamps writes UTC with Z)."""
    if "utc-timestamps" in system.faults:
        return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    shift = {"future-timestamps": 3600, "nightly-batch-push": -13 * 3600}  # clock ahead; pushed 13 h after the step
    seconds = next((value for name, value in shift.items() if name in system.faults), 0)
    moment = dt.datetime.fromisoformat(now_text()) + dt.timedelta(seconds=seconds)
    return moment.isoformat()


def _exchange(system: ReferenceSystem) -> str:
    """The exchange of the system's own tier (the fault pushes-to-province goes straight to the province)."""
    return system.province_url if "pushes-to-province" in system.faults else system.exchange_url


def _ready(system: ReferenceSystem) -> list[Any]:
    """The first pending event of each application not blocked by a refused one, due for a try now."""
    return system.store.rows(
        "SELECT o.id, o.body, o.attempts FROM outbox o WHERE o.state = 'pending' AND o.next_try <= ? AND o.id = "
        "(SELECT MIN(id) FROM outbox p WHERE p.application_no = o.application_no AND p.state != 'delivered') "
        "ORDER BY o.id LIMIT 200",
        time.time(),
    )


def _backoff(attempts: int) -> float:
    """1 s, 2 s, 4 s … at most 60 s (EVT-07: the first retry no sooner than 1 s, growing)."""
    return float(min(60, limits().first_retry_seconds * 2**attempts))


async def push_once(system: ReferenceSystem) -> int:
    """Try every ready event once; the number delivered."""
    delivered = 0
    for row in _ready(system):
        try:
            answer = await system.client.request(
                "POST",
                _exchange(system) + "/exchange/v1/events",
                content=row["body"].encode(),
                headers={"Content-Type": "application/json"},
            )
            status, error = answer.status_code, answer.text[:300]
        except (httpx.HTTPError, OSError) as exc:
            status, error = 0, f"{type(exc).__name__}: {exc}"
        if 200 <= status < 300 and not (status != 201 and "only-201-delivered" in system.faults):
            system.store.execute(
                "UPDATE outbox SET state = 'delivered', attempts = attempts + 1 WHERE id = ?", row["id"]
            )
            delivered += 1
        elif (status in REFUSALS and "resends-refused" not in system.faults) or "no-retry-on-5xx" in system.faults:
            log.error("the exchange refused event %s (%s): an operator must correct it", row["id"], error)
            system.store.execute(
                "UPDATE outbox SET state = 'refused', attempts = attempts + 1, last_error = ? WHERE id = ?",
                error,
                row["id"],
            )
        else:
            system.store.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_try = ?, last_error = ? WHERE id = ?",
                time.time() + (0 if "retry-without-backoff" in system.faults else _backoff(row["attempts"])),
                error,
                row["id"],
            )
    return delivered


async def pusher(system: ReferenceSystem, stop: asyncio.Event) -> None:
    """Push until stopped (the app's lifespan runs it)."""
    while not stop.is_set():
        moved = await push_once(system)
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.02 if moved else 0.2)
        except TimeoutError:
            continue
