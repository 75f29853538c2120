"""The system's answers to the platform's other calls: item guides (CAT-02), change notices (CAT-03),
supervision notices (SUP-02); and what it pushes besides events: evaluations (EVAL-01/02)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from starlette.responses import JSONResponse, Response

from yzw.reference.catalogue import active_for_department, item
from yzw.reference.journal import queue, record_event
from yzw.reference.system import ReferenceSystem, now_text
from yzw.serving.errors import ApiError

_refetches: set[asyncio.Task[Any]] = set()


async def guide(system: ReferenceSystem, item_code: str) -> Response:
    """GET /yzw/v1/items/{item_code}: the catalogue's current version, never a copy kept apart (CAT-02)."""
    entry = await item(system, item_code)
    if entry is None or not active_for_department(system, entry):
        raise ApiError(404, "ITEM_UNKNOWN", f"{item_code} is not an active item of this department (CAT-02)")
    return JSONResponse(system.parts.guide(entry))


def change_notice(system: ReferenceSystem, notice: dict[str, Any]) -> Response:
    """POST /yzw/v1/catalog/notifications: 200 at once, the item fetched again in the background (CAT-03)."""
    system.parts.change_refetch(system, notice["item_code"])
    return JSONResponse({"item_code": notice["item_code"], "version": notice["version"]})


def refetch(system: ReferenceSystem, item_code: str) -> None:
    """CAT-03: fetch the item again in the background, so the notice is answered at once."""
    task = asyncio.get_running_loop().create_task(item(system, item_code, refresh=True))
    _refetches.add(task)
    task.add_done_callback(_refetches.discard)


def supervision_notice(system: ReferenceSystem, notice: dict[str, Any]) -> Response:
    """POST /yzw/v1/supervision/notices: one FK per notice_id, for a case this system holds (SUP-02)."""
    found = system.store.one("SELECT application_no FROM applications WHERE case_no = ?", notice["case_no"])
    if found is None:
        raise ApiError(404, "CASE_UNKNOWN", f"no case {notice['case_no']} here (SUP-02)")
    with system.store.transaction() as db:
        fresh = db.execute(
            "INSERT INTO notices (notice_id, case_no, received_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING notice_id",
            (notice["notice_id"], notice["case_no"], now_text()),
        ).fetchone()
    if fresh is not None or system.parts.repeat_fk:
        explanation = f"已收到{notice['card']}牌督办,承办人正在加快办理"
        record_event(
            system, found["application_no"], "FK", {"notice_id": notice["notice_id"], "explanation": explanation}
        )
    return JSONResponse({"notice_id": notice["notice_id"]})


async def push_evaluation(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    """EVAL-01: a window evaluation the system took, kept and queued for its exchange (EVT-07)."""
    level = params.get("level")
    if level not in (1, 2, 3, 4, 5):
        raise ApiError(422, "PARAMS_INVALID", "params.level is 1 to 5 (EVAL-01)")
    evaluation = {
        "evaluation_id": str(uuid.uuid4()),
        "case_no": case_no,
        "level": level,
        "comment": str(params.get("comment", "")),
        "channel": str(params.get("channel", "window")),  # §11: the driver names it (APP-01)
        "evaluated_at": now_text(),
    }
    await system.parts.evaluation_push(system, evaluation)
    return {"ok": True, "case_no": case_no, "evaluation_id": evaluation["evaluation_id"]}


async def push_rectification(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    """EVAL-02: the clerk's rectification, queued for the exchange (EVT-07); the driver has checked that it
    is the first of a bad review (`parts.rectifiable`)."""
    if not str(params.get("action", "")).strip():
        raise ApiError(422, "PARAMS_INVALID", "rectify needs a non-empty params.action (EVAL-02)")
    record = {
        "case_no": case_no,
        "evaluation_id": params["evaluation_id"],
        "action": str(params["action"]),
        "rectified_at": now_text(),
    }
    await system.parts.rectification_push(system, record)
    return {"ok": True, "case_no": case_no, "evaluation_id": params["evaluation_id"]}


async def send_evaluation(system: ReferenceSystem, evaluation: dict[str, Any]) -> None:
    """EVAL-01 / EVT-07: the evaluation waits in the outbox for the case's SL, then goes to the exchange."""
    queue(system, evaluation["case_no"], "/exchange/v1/evaluations", evaluation)


async def send_rectification(system: ReferenceSystem, record: dict[str, Any]) -> None:
    """EVAL-02 / EVT-07: the rectification goes the same way, behind its evaluation."""
    queue(system, record["case_no"], "/exchange/v1/rectifications", record)
