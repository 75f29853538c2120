"""/exchange on every node (EVT-01 … EVT-09): strict intake, recording with delay, relay, queries."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from starlette.responses import JSONResponse, Response

from yzw.codes.times import CN_TZ
from yzw.mock.intake import Coalescer, canonical, error_body, ingest_many, now_text, receipt_id
from yzw.mock.pipeline import Call, endpoint
from yzw.mock.platform import Platform
from yzw.mock.topology import NodeSpec
from yzw.serving.errors import ApiError, finding_details
from yzw.serving.http import JSON, XML
from yzw.spec import validate_value
from yzw.spec.findings import Finding
from yzw.spec.limits import limits


def origin_of(platform: Platform, node: NodeSpec, app_id: str | None) -> str:
    """`system` for a departmental system, `up` for a child node's relay, `down` for the parent's forwarding."""
    if platform.kind_of(app_id) != "node":
        return "system"
    sender = str(app_id).removeprefix("node-")
    return "down" if sender == node.parent else "up"


@endpoint(scope="exchange:write", kind="event", media=(JSON, XML))
async def push_event(call: Call) -> Response:
    """POST /exchange/v1/events (EVT-01, EVT-08); pushes arriving together are recorded in one transaction."""
    origin = origin_of(call.platform, call.node, call.app_id)
    coalescer: Coalescer = call.request.app.state.intake
    status, body = await coalescer.ingest((call.document, call.code_findings, origin))
    return JSONResponse(body, status_code=status)


@endpoint(scope="exchange:write", parse=True, media=(JSON, XML))
async def push_batch(call: Call) -> Response:
    """POST /exchange/v1/events:batch: one result per event, each judged and recorded on its own."""
    events, most = call.document.get("events") if isinstance(call.document, dict) else None, limits().batch_max_events
    if not isinstance(events, list) or len(events) > most:  # empty is allowed where a list is (MSG-03)
        raise ApiError(
            400,
            "SCHEMA_INVALID",
            f'a batch is {{"events": [...]}} with at most {most} events (EVT-01)',
            [{"path": "/events", "reason": f"an array of at most {most} events"}],
        )
    origin = origin_of(call.platform, call.node, call.app_id)
    results: list[dict[str, Any] | None] = []
    accepted: list[tuple[dict[str, Any], list[Finding]]] = []
    for event in events:
        findings = validate_value("event", event) if isinstance(event, dict) else []
        schema = [f for f in findings if not f.requirement.startswith("CODE-")]
        if not isinstance(event, dict) or schema:
            error = error_body("SCHEMA_INVALID", "the event breaks its schema", finding_details(schema))
            event_id = event.get("event_id", "") if isinstance(event, dict) else ""
            results.append({"event_id": str(event_id), "status": 400, "error": error})
            continue
        results.append(None)
        accepted.append((event, findings))
    judged = iter(zip(accepted, ingest_many(call.platform, call.node, accepted, origin), strict=True))
    return JSONResponse({"results": [result or _result(*next(judged)) for result in results]})


def _result(given: tuple[dict[str, Any], list[Finding]], outcome: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    status, body = outcome
    return {
        "event_id": given[0]["event_id"],
        "status": status,
        **({"receipt": body} if status == 200 else {"error": body}),
    }


def recorded(row: Any) -> dict[str, Any]:
    event = json.loads(row["body"])
    return {
        **event,
        "receipt_id": row["receipt_id"],
        "received_at": row["received_at"],
        "delay_seconds": row["delay_seconds"],
    }


@endpoint(scope="exchange:write")
async def query_events(call: Call) -> Response:
    """GET /exchange/v1/events?application_no=…: the application's events at this node, in seq order."""
    number = call.request.query_params.get("application_no", "")
    rows = call.platform.store.rows(
        "SELECT * FROM events WHERE node = ? AND application_no = ? ORDER BY seq", call.node.name, number
    )
    return JSONResponse({"events": [recorded(row) for row in rows]})


@endpoint(scope="exchange:write")
async def get_case(call: Call) -> Response:
    """GET /exchange/v1/cases/{case_no}: the case's application and all its events at this node."""
    store, case_no = call.platform.store, call.request.path_params["case_no"]
    found = store.one(
        "SELECT application_no, dept_uscc, division_code FROM events WHERE node = ? AND case_no = ? LIMIT 1",
        call.node.name,
        case_no,
    )
    if found is None:
        raise ApiError(404, "CASE_UNKNOWN", f"no case {case_no} at this node (EVT-09)")
    rows = store.rows(
        "SELECT * FROM events WHERE node = ? AND application_no = ? ORDER BY seq",
        call.node.name,
        found["application_no"],
    )
    return JSONResponse(
        {
            "case_no": case_no,
            "application_no": found["application_no"],
            "dept_uscc": found["dept_uscc"],
            "division_code": found["division_code"],
            "events": [recorded(row) for row in rows],
        }
    )


@endpoint(scope="exchange:write", kind="evaluation")
async def push_evaluation(call: Call) -> Response:
    """POST /exchange/v1/evaluations (EVAL-01): 200 receipt (`duplicate` when identical), 409
    EVALUATION_CONFLICT, 422 CASE_UNKNOWN, 422 TIME_INVALID for an evaluated_at after arrival + clock skew."""
    document, node = call.document, call.node.name
    known = _record_of(call, "evaluation", document["evaluation_id"])
    if known is not None:
        if known["document"] != document:
            raise ApiError(409, "EVALUATION_CONFLICT", "this evaluation_id was recorded with other content (EVAL-01)")
        return JSONResponse({**known["receipt"], "duplicate": True})
    call.refuse_codes()
    case = call.platform.store.one("SELECT 1 FROM events WHERE node = ? AND case_no = ?", node, document["case_no"])
    if case is None:
        raise ApiError(422, "CASE_UNKNOWN", f"unknown case_no {document['case_no']!r} at this node (EVAL-01)")
    skew = limits().clock_skew_seconds
    if dt.datetime.fromisoformat(document["evaluated_at"]) > dt.datetime.now(CN_TZ) + dt.timedelta(seconds=skew):
        _time_invalid("/evaluated_at", f"evaluated_at is later than arrival + {skew} s (EVAL-01)")
    return _kept(call, "evaluation", document["evaluation_id"])


@endpoint(scope="exchange:write", kind="rectification")
async def push_rectification(call: Call) -> Response:
    """POST /exchange/v1/rectifications (EVAL-02): 422 EVALUATION_UNKNOWN, 422 TIME_INVALID for a rectified_at
    before the evaluation's evaluated_at. The same record again is a duplicate; the norm gives the exchange no
    refusal for a second, different one, so it is kept (one per bad review is the system's duty; the kit counts)."""
    document = call.document
    key = f"{document['evaluation_id']}/{hashlib.sha256(canonical(document).encode()).hexdigest()[:24]}"
    known = _record_of(call, "rectification", key)
    if known is not None:
        return JSONResponse({**known["receipt"], "duplicate": True})
    call.refuse_codes()
    evaluation = _record_of(call, "evaluation", document["evaluation_id"])
    if evaluation is None:
        raise ApiError(422, "EVALUATION_UNKNOWN", f"unknown evaluation_id {document['evaluation_id']!r} (EVAL-02)")
    evaluated_at = evaluation["document"]["evaluated_at"]
    if dt.datetime.fromisoformat(document["rectified_at"]) < dt.datetime.fromisoformat(evaluated_at):
        _time_invalid("/rectified_at", f"rectified_at is before the evaluation's evaluated_at {evaluated_at} (EVAL-02)")
    return _kept(call, "rectification", key)


def _record_of(call: Call, kind: str, key: str) -> dict[str, Any] | None:
    """A kept evaluation or rectification of this node: {"document", "receipt"}."""
    found = call.platform.store.get_json(
        "SELECT body FROM records WHERE node = ? AND kind = ? AND key = ?", call.node.name, kind, key
    )
    return dict(found) if found is not None else None


def _time_invalid(path: str, reason: str) -> None:
    raise ApiError(422, "TIME_INVALID", reason, [{"path": path, "reason": reason}])


def _kept(call: Call, kind: str, key: str) -> Response:
    receipt = {"receipt_id": receipt_id(call.node.name), "received_at": now_text(), "duplicate": False}
    call.platform.store.execute(
        "INSERT INTO records (node, kind, key, body) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        call.node.name,
        kind,
        key,
        json.dumps({"document": call.document, "receipt": receipt}, ensure_ascii=False),
    )
    return JSONResponse(receipt)
