"""Unified intake (APP-01 … APP-04), the status query (APP-07) and supplements (ACC-05)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from yzw.reference.catalogue import active_for_department, item
from yzw.reference.journal import record_event
from yzw.reference.system import ReferenceSystem, now_text
from yzw.serving.errors import ApiError, finding_details
from yzw.spec import validate
from yzw.spec.findings import Finding

# APP-03: which code findings answer which 422, in the order the norm gives.
CODE_ANSWERS = (
    ("/application_no", "APPLICATION_NO_INVALID"),
    ("/division_code", "CODE_INVALID"),
    ("/item_code", "ITEM_UNKNOWN"),
    ("/applicant", "APPLICANT_INVALID"),
)
STATUS = {
    None: "received",
    "SB": "received",
    "BZJ": "received",
    "BZ": "supplement_required",
    "SL": "accepted",
    "CB": "in_progress",
    "SH": "in_progress",
    "PZ": "in_progress",
    "HF": "in_progress",
    "GQ": "suspended",
    "BJ": "completed",
    "SD": "completed",
    "BYSL": "refused",
    "CH": "withdrawn",
}


def _split(findings: list[Finding]) -> tuple[list[Finding], dict[str, list[Finding]]]:
    """Schema findings (400), and code findings by the 422 code they answer."""
    schema: list[Finding] = []
    codes: dict[str, list[Finding]] = {}
    for finding in findings:
        answer = next((code for prefix, code in CODE_ANSWERS if finding.path.startswith(prefix)), None)
        if answer is None or not finding.requirement.startswith("CODE-"):
            schema.append(finding)
        else:
            codes.setdefault(answer, []).append(finding)
    return schema, codes


KNOWN_MEMBERS = frozenset(
    {
        "application_no",
        "item_code",
        "item_version",
        "division_code",
        "channel",
        "submitted_at",
        "applicant",
        "agent",
        "form",
        "materials",
        "delivery",
    }
)


def _unknown_members(document: Any) -> list[Finding]:
    """The fault unknown-fields-refused: a strict parser that refuses members it does not know (MSG-03)."""
    extra = sorted(set(document) - KNOWN_MEMBERS) if isinstance(document, dict) else []
    return [Finding(f"/{name}", name, "unknown member", "MSG-03") for name in extra]


async def _item_entry(system: ReferenceSystem, item_code: str) -> dict[str, Any] | None:
    """The item's catalogue entry (the fault items-from-own-list trusts the registration's list instead)."""
    if "items-from-own-list" in system.faults:
        listed = item_code in system.record.get("items", [])
        return {"status": "active", "dept": {"uscc": system.record["dept_uscc"]}} if listed else None
    return await item(system, item_code)


def _judged(system: ReferenceSystem, document: Any) -> tuple[list[Finding], dict[str, list[Finding]]]:
    """The application's schema findings and code findings, as this system (with its faults) sees them."""
    schema, codes = _split(validate("application", document))
    if "applicant-id-unchecked" in system.faults:
        codes.pop("APPLICANT_INVALID", None)
    if "unknown-fields-refused" in system.faults:
        schema += _unknown_members(document)
    if "no-schema-check" in system.faults:
        schema = []
    return schema, codes


async def submit(system: ReferenceSystem, document: Any) -> Response:
    """POST /yzw/v1/applications: 202, or 400, 409, 422 in the norm's order (MSG-04, APP-02 … APP-04)."""
    schema, codes = _judged(system, document)
    if schema:
        raise ApiError(400, "SCHEMA_INVALID", "the application breaks its schema (APP-02)", finding_details(schema))
    known = system.application(document["application_no"])
    if known is not None and "no-idempotency" in system.faults:
        again = {**json.loads(known["answer"]), "received_at": now_text()}
        system.store.execute(
            "UPDATE applications SET answer = ? WHERE application_no = ?", json.dumps(again), document["application_no"]
        )
        return JSONResponse(again, status_code=202)
    earlier = _earlier_answer(known, document)  # APP-04, checked before the 422s
    if earlier is not None:
        return earlier
    if "slow-intake" in system.faults:
        await asyncio.sleep(0.9)  # a synchronous lookup per application
    entry = None if "ITEM_UNKNOWN" in codes else await _item_entry(system, document["item_code"])
    if "item-unchecked" in system.faults:
        codes.pop("ITEM_UNKNOWN", None)
    elif "ITEM_UNKNOWN" not in codes and not active_for_department(system, entry):
        codes["ITEM_UNKNOWN"] = [Finding("/item_code", "item_code", "not an active item of this department", "APP-03")]
    for _, code in CODE_ANSWERS:
        if code in codes:
            raise ApiError(
                422,
                code,
                f"the application fails a code check (APP-03): {codes[code][0].reason}",
                finding_details(codes[code]),
            )
    if "crash-on-empty-materials" in system.faults and not document.get("materials"):
        raise RuntimeError("list index out of range")  # document["materials"][0] in the vendor's code
    received_at = now_text()
    answer = {"application_no": document["application_no"], "received_at": received_at, "status": "received"}
    if "loses-applications" in system.faults and system.next_counter("intake") % 5 == 0:
        return JSONResponse(answer, status_code=202)  # answered, never kept
    earlier = _earlier_answer(system.application(document["application_no"]), document)
    if earlier is not None:  # the same application arrived again while this one awaited the catalogue
        return earlier
    system.store.execute(
        "INSERT INTO applications (application_no, body, received_at, answer, updated_at) VALUES (?, ?, ?, ?, ?)",
        document["application_no"],
        json.dumps(document, ensure_ascii=False),
        received_at,
        json.dumps(answer, ensure_ascii=False),
        received_at,
    )
    return JSONResponse(answer, status_code=200 if "intake-200" in system.faults else 202)


def _earlier_answer(known: dict[str, Any] | None, document: Any) -> Response | None:
    """APP-04: the first answer again for the same body, 409 for another body, None for a new number."""
    if known is None:
        return None
    if known["body"] == document:
        return JSONResponse(json.loads(known["answer"]), status_code=202)
    raise ApiError(409, "APPLICATION_CONFLICT", "this application_no was received with another body (APP-04)")


def status(system: ReferenceSystem, number: str) -> Response:
    """GET /yzw/v1/applications/{application_no} (APP-07)."""
    found = system.application(number)
    if found is None:
        raise ApiError(404, "APPLICATION_UNKNOWN", f"no application {number} was received (APP-07)")
    state = "received" if "status-stuck-received" in system.faults else STATUS[found["last_step"]]
    answer = {"application_no": number, "status": state, "updated_at": found["updated_at"]}
    if found["case_no"]:
        answer["case_no"] = found["case_no"]
    return JSONResponse(answer)


def supplements(system: ReferenceSystem, number: str, document: Any) -> Response:
    """POST …/supplements (ACC-05): taken only while the application waits for them; BZJ follows."""
    found = system.application(number)
    if found is None:
        raise ApiError(404, "APPLICATION_UNKNOWN", f"no application {number} was received")
    if found["last_step"] != "BZ":
        raise ApiError(409, "STATE_INVALID", f"application {number} is not waiting for supplements")
    body = found["body"]
    given = {m["material_code"]: m for m in document["materials"]}
    body["materials"] = [given.pop(m["material_code"], m) for m in body["materials"]] + list(given.values())
    system.store.execute(
        "UPDATE applications SET body = ? WHERE application_no = ?", json.dumps(body, ensure_ascii=False), number
    )
    record_event(system, number, "BZJ", {"materials": document["materials"]})
    return JSONResponse({"application_no": number, "status": "received", "received_at": now_text()})


async def health(request: Request) -> Response:
    """GET /yzw/v1/health (REG-01)."""
    faulty = "health-wrong-norm" in request.app.state.system.faults
    return JSONResponse({"status": "ok", "norm": "YZW-NORM-2025" if faulty else "YZW-NORM-2026"})
