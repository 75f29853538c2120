"""The system's answers to the platform's other calls: item guides (CAT-02), change notices (CAT-03),
supervision notices (SUP-02); and what it pushes besides events: evaluations (EVAL-01/02)."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import suppress
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from yzw.reference import sso
from yzw.reference.catalogue import item
from yzw.reference.journal import queue, record_event
from yzw.reference.system import ReferenceSystem, now_text
from yzw.serving.errors import ApiError

_refetches: set[asyncio.Task[Any]] = set()


async def guide(system: ReferenceSystem, item_code: str) -> Response:
    """GET /yzw/v1/items/{item_code}: the catalogue's current version, never a copy kept apart (CAT-02)."""
    entry = await item(system, item_code)
    if entry is None or not system.parts.guide_shows(system, entry):
        raise ApiError(404, "ITEM_UNKNOWN", f"{item_code} is not an active item of this department (CAT-02)")
    return JSONResponse(system.parts.guide(entry))


async def guide_page(request: Request) -> Response:
    """The public guide, signed or not (CAT-02); a browser-facing endpoint, so its errors follow MSG-02."""
    try:
        return await guide(request.app.state.system, request.path_params["item_code"])
    except ApiError as error:
        return sso.browser_error(request, error.status, error.code, error.message, error.details)


async def change_notice(system: ReferenceSystem, notice: dict[str, Any]) -> Response:
    """POST /yzw/v1/catalog/notifications: 200 at once, the item fetched again in the background (CAT-03)."""
    await system.parts.change_refetch(system, notice)
    answer = {"item_code": notice["item_code"], "version": notice["version"]}
    return JSONResponse(answer, status_code=system.parts.notice_status)


async def refetch(system: ReferenceSystem, notice: dict[str, Any]) -> None:
    """CAT-03: fetch the item again in the background, whatever the change, so the notice is answered at once."""
    task = asyncio.get_running_loop().create_task(_refreshed(system, notice["item_code"]))
    _refetches.add(task)
    task.add_done_callback(_refetches.discard)


async def _refreshed(system: ReferenceSystem, item_code: str) -> None:
    """The item fetched again; a catalogue that cannot answer now leaves the copy held (ROB-01: the next request
    that needs the item asks again)."""
    with suppress(ApiError):
        await item(system, item_code, refresh=True)


def supervision_notice(system: ReferenceSystem, notice: dict[str, Any]) -> Response:
    """POST /yzw/v1/supervision/notices: one FK per notice_id, for a case this system holds (SUP-02)."""
    found = system.parts.notice_case(system, notice["case_no"])
    if found is None:
        raise ApiError(404, "CASE_UNKNOWN", f"no case {notice['case_no']} here (SUP-02)")
    with system.store.transaction() as db:
        fresh = db.execute(
            "INSERT INTO notices (notice_id, case_no, received_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING notice_id",
            (notice["notice_id"], notice["case_no"], now_text()),
        ).fetchone()
    if fresh is not None or system.parts.repeat_fk:
        system.parts.feedback(system, found[0], system.parts.fk_payload(notice))
    return JSONResponse({"notice_id": notice["notice_id"]})


CARD_NAMES = {"yellow": "黄", "red": "红"}


def feedback_payload(notice: dict[str, Any]) -> dict[str, Any]:
    """SUP-02 / EVT-02: the FK payload names the notice and explains, for a yellow card and a red one alike."""
    card = CARD_NAMES.get(str(notice["card"]), str(notice["card"]))
    return {"notice_id": notice["notice_id"], "explanation": f"已收到{card}牌督办,承办人正在加快办理"}


def held_case(system: ReferenceSystem, case_no: str) -> Any:
    """SUP-02 / EVT-03: the application of a case this system holds, at any stage after SL, also completed."""
    return system.store.one("SELECT application_no FROM applications WHERE case_no = ?", case_no)


def push_feedback(system: ReferenceSystem, number: str, payload: dict[str, Any]) -> None:
    """SUP-02: the FK, the application's next event like any other (EVT-03: the next seq of the application)."""
    record_event(system, number, "FK", payload)


def evaluation_record(case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    """EVAL-01: the evaluation as taken: a fresh UUID each time, the level given (5 非常满意 … 1 非常不满意), the
    comment as given (empty allowed), the channel (window by default)."""
    level = params.get("level")
    if level not in (1, 2, 3, 4, 5):
        raise ApiError(422, "PARAMS_INVALID", "params.level is 1 to 5 (EVAL-01)")
    return {
        "evaluation_id": str(uuid.uuid4()),
        "case_no": case_no,
        "level": level,
        "comment": str(params.get("comment", "")),
        "channel": str(params.get("channel", "window")),  # §11: the driver names it (APP-01)
        "evaluated_at": now_text(),
    }


async def push_evaluation(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    """EVAL-01: a window evaluation the system took, kept and queued for its exchange (EVT-07)."""
    evaluation = system.parts.evaluation_of(case_no, params)
    await system.parts.evaluation_push(system, evaluation)
    return {"ok": True, "case_no": case_no, "evaluation_id": evaluation["evaluation_id"]}


async def push_rectification(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    """EVAL-02: the clerk's rectification, queued for the exchange (EVT-07); the driver has checked that it
    is the first of a bad review (`parts.rectifiable`)."""
    record = {
        "case_no": case_no,
        "evaluation_id": params["evaluation_id"],
        "action": system.parts.rectification_action(params),
        "rectified_at": now_text(),
    }
    await system.parts.rectification_push(system, record)
    return {"ok": True, "case_no": case_no, "evaluation_id": params["evaluation_id"]}


def clerks_action(params: dict[str, Any]) -> str:
    """EVAL-02 / §11 rectify: what the clerk did, never empty (422 PARAMS_INVALID)."""
    if not str(params.get("action", "")).strip():
        raise ApiError(422, "PARAMS_INVALID", "rectify needs a non-empty params.action (EVAL-02)")
    return str(params["action"])


async def send_evaluation(system: ReferenceSystem, evaluation: dict[str, Any]) -> None:
    """EVAL-01 / EVT-07: the evaluation waits in the outbox for the case's SL, then goes to the exchange."""
    queue(system, evaluation["case_no"], "/exchange/v1/evaluations", evaluation)


async def send_rectification(system: ReferenceSystem, record: dict[str, Any]) -> None:
    """EVAL-02 / EVT-07: the rectification goes the same way, behind its evaluation."""
    queue(system, record["case_no"], "/exchange/v1/rectifications", record)
