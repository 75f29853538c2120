"""Unified intake (APP-01 … APP-04), the status query (APP-07) and supplements (ACC-05)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from yzw.reference.catalogue import active_for_department
from yzw.reference.journal import record_event
from yzw.reference.system import ReferenceSystem, now_text
from yzw.serving.errors import ApiError, finding_details
from yzw.spec import validate_value
from yzw.spec.events import status_after
from yzw.spec.findings import Finding

# APP-03: which code findings answer which 422, in the order the norm gives.
CODE_ANSWERS = (
    ("/application_no", "APPLICATION_NO_INVALID"),
    ("/division_code", "CODE_INVALID"),
    ("/item_code", "ITEM_UNKNOWN"),
    ("/applicant", "APPLICANT_INVALID"),
)
CODE_ORDER = tuple(code for _, code in CODE_ANSWERS)
STATUS = status_after()  # APP-07: specs/rules/events.yaml


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


def _judged(system: ReferenceSystem, document: Any) -> tuple[list[Finding], dict[str, list[Finding]]]:
    """The application's schema findings and code findings, as this system sees them."""
    schema, codes = _split(validate_value("application", document))
    return system.parts.schema_check(system, document, schema), system.parts.code_check(document, codes)


def any_item(document: Any, entry: dict[str, Any]) -> bool:
    """CODE-05, APP-01: a valid number of any channel is taken for any item; the catalogue's online_depth
    describes the item to the public and refuses no channel."""
    return True


def codes_as_found(document: Any, codes: dict[str, list[Finding]]) -> dict[str, list[Finding]]:
    """APP-03: the findings of the norm's own code rules and lists (CODE-01 … CODE-09), no narrower and no wider."""
    return codes


def as_found(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """APP-02: the schema's findings refuse the application, no more (MSG-03: unknown members are ignored), and
    before anything else: a known application_no with a broken body is 400, not 409 (MSG-04)."""
    return findings


async def submit(system: ReferenceSystem, document: Any) -> Response:
    """POST /yzw/v1/applications: 202, or 400, 409, 422 in the norm's order (MSG-04, APP-02 … APP-04)."""
    schema, codes = _judged(system, document)
    if schema:
        raise ApiError(400, "SCHEMA_INVALID", "the application breaks its schema (APP-02)", finding_details(schema))
    known = system.application(document["application_no"])
    earlier = system.parts.answer_again(system, known, document)  # APP-04, checked before the 422s
    if earlier is not None:
        return earlier
    await system.parts.intake_pause()
    _refuse_codes(await _item_checked(system, document, codes), system.parts.code_order)
    return _kept(system, document)


async def _item_checked(
    system: ReferenceSystem, document: Any, codes: dict[str, list[Finding]]
) -> dict[str, list[Finding]]:
    """The code findings with ITEM_UNKNOWN for an item not active in this department (APP-03, CAT-01),
    less the codes this system does not check."""
    if "ITEM_UNKNOWN" not in codes:
        entry = await system.parts.intake_item(system, document)
        if not active_for_department(system, entry):
            codes["ITEM_UNKNOWN"] = [
                Finding("/item_code", "item_code", "not an active item of this department", "APP-03")
            ]
        elif entry is not None and not system.parts.number_fits_item(document, entry):
            found = Finding("/application_no", "application_no", "not a channel of this item", "CODE-05")
            codes["APPLICATION_NO_INVALID"] = [*codes.get("APPLICATION_NO_INVALID", []), found]
    checked = {
        code: [f for f in found if not f.path.startswith(system.parts.unchecked_members)]
        for code, found in codes.items()
        if code not in system.parts.unchecked_codes
    }
    return {code: found for code, found in checked.items() if found}


async def current_item(system: ReferenceSystem, document: Any) -> dict[str, Any] | None:
    """CAT-03: a new application is taken on the item's current catalogue entry, whatever item_version it names
    (a retired item is ITEM_UNKNOWN even under a version the system once held)."""
    return await system.parts.item_lookup(system, document["item_code"])


def _refuse_codes(codes: dict[str, list[Finding]], order: tuple[str, ...]) -> None:
    """APP-03: the first failed code check, in the norm's order, answers 422."""
    for code in order:
        if code in codes:
            raise ApiError(
                422,
                code,
                f"the application fails a code check (APP-03): {codes[code][0].reason}",
                finding_details(codes[code]),
            )


def _kept(system: ReferenceSystem, document: Any) -> Response:
    """Keep the application and answer it (APP-01), unless the same one arrived meanwhile (APP-04)."""
    received_at = now_text()
    answer = system.parts.intake_answer(
        {"application_no": document["application_no"], "received_at": received_at, "status": "received"}
    )
    if not system.parts.keeps(system, document):
        return JSONResponse(answer, status_code=202)  # answered, never kept
    earlier = system.parts.store_once(system, document, answer, received_at)
    if earlier is not None:
        return earlier
    system.parts.on_received(system, document)
    return JSONResponse(answer, status_code=system.parts.intake_status)


def store_once(system: ReferenceSystem, document: Any, answer: dict[str, Any], received_at: str) -> Response | None:
    """Store the application with its answer, unless the same one arrived while this one awaited the catalogue:
    the first answer then (APP-04; kept once, PERF-02). Judged again here, not only on arrival."""
    earlier = _earlier_answer(system.application(document["application_no"]), document)
    if earlier is not None:
        return earlier
    insert_application(system, document, answer, received_at)
    return None


def insert_application(
    system: ReferenceSystem, document: Any, answer: dict[str, Any], received_at: str, verb: str = "INSERT"
) -> None:
    """The application's row with its first answer (`verb` INSERT OR REPLACE: a seeded fault's upsert)."""
    system.store.execute(
        f"{verb} INTO applications (application_no, body, received_at, answer, updated_at) VALUES (?, ?, ?, ?, ?)",
        document["application_no"],
        json.dumps(document, ensure_ascii=False),
        received_at,
        json.dumps(answer, ensure_ascii=False),
        received_at,
    )


def announced_by_platform(system: ReferenceSystem, document: Any) -> None:
    """EVT-02 / APP-06: an online application gets no SB: the unified application system announced it (SB is for
    the window and agent-point applications the system takes itself)."""


def keeps(system: ReferenceSystem, document: Any) -> bool:
    """PERF-02: every application answered 202 is kept."""
    return True


def first_answer(system: ReferenceSystem, known: dict[str, Any] | None, document: Any) -> Response | None:
    """APP-04: a number received before gets its first answer again, or 409 for another body."""
    return _earlier_answer(known, document)


def _earlier_answer(known: dict[str, Any] | None, document: Any) -> Response | None:
    """APP-04: the first answer again for the same body, 409 for another body, None for a new number."""
    if known is None:
        return None
    if received_body(known) == document:
        return JSONResponse(json.loads(known["answer"]), status_code=202)
    raise ApiError(409, "APPLICATION_CONFLICT", "this application_no was received with another body (APP-04)")


def received_body(known: dict[str, Any]) -> Any:
    """APP-04: the body as the platform sent it, before any supplements completed the file (kept aside by the
    first supplements): a repeat is compared with it, not with the file as it stands."""
    return json.loads(known["received_body"]) if known.get("received_body") else known["body"]


def status(system: ReferenceSystem, number: str) -> Response:
    """GET /yzw/v1/applications/{application_no} (APP-07)."""
    found = system.application(number)
    if found is None:
        raise ApiError(404, "APPLICATION_UNKNOWN", f"no application {number} was received (APP-07)")
    state = system.parts.status_of(system.parts.status_step(system, found))
    return JSONResponse(system.parts.status_answer(found, state))


def status_answer(found: dict[str, Any], state: str) -> dict[str, Any]:
    """APP-07: updated_at is the last event's occurred_at (received_at before any); case_no only from SL on."""
    answer = {"application_no": found["application_no"], "status": state, "updated_at": found["updated_at"]}
    if found["case_no"]:
        answer["case_no"] = found["case_no"]
    return answer


def last_step(system: ReferenceSystem, found: dict[str, Any]) -> str | None:
    """APP-07: the last step the system produced other than FK, whether the exchange took it or refused it."""
    return str(found["last_step"]) if found["last_step"] else None


def supplements(system: ReferenceSystem, number: str, document: Any) -> Response:
    """POST …/supplements (ACC-05): taken only while the application waits for them; BZJ follows."""
    found = system.parts.supplements_state(system, number)
    body = found["body"]
    given = {m["material_code"]: m for m in document["materials"]}
    body["materials"] = [given.pop(m["material_code"], m) for m in body["materials"]] + list(given.values())
    system.store.execute(
        "UPDATE applications SET received_body = COALESCE(received_body, body), body = ? WHERE application_no = ?",
        json.dumps(body, ensure_ascii=False),
        number,
    )
    handler = system.parts.bzj_handler(system, number)
    record_event(system, number, "BZJ", system.parts.bzj_payload(document, body), handler=handler)
    system.parts.after_supplements(system, number)
    return system.parts.supplements_answer(number)


def clerk_decides(system: ReferenceSystem, number: str) -> None:
    """ACC-05 / ACC-01: after the BZJ the application is decided again, by a clerk: nothing is decided here."""


def system_receives(system: ReferenceSystem, number: str) -> dict[str, str]:
    """EVT-02: the platform forwarded the supplements and the system took them by itself: the BZJ names the system."""
    return system.parts.own_handler(system)


def waiting_for_supplements(system: ReferenceSystem, number: str) -> dict[str, Any]:
    """ACC-05: an unknown application is 404 APPLICATION_UNKNOWN; one not waiting for supplements (no BZ just
    before: received, supplemented, accepted or refused, ACC-06) is 409 STATE_INVALID."""
    found = system.application(number)
    if found is None:
        raise ApiError(404, "APPLICATION_UNKNOWN", f"no application {number} was received")
    if found["last_step"] != "BZ":
        raise ApiError(409, "STATE_INVALID", f"application {number} is not waiting for supplements")
    return found


def supplied(document: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """ACC-05: the BZJ payload lists the materials that came with the supplements, not the whole file."""
    return {"materials": document["materials"]}


def supplements_taken(number: str) -> Response:
    """ACC-05: 200 {application_no, status: received, received_at}."""
    return JSONResponse({"application_no": number, "status": "received", "received_at": now_text()})


async def health(request: Request) -> Response:
    """GET /yzw/v1/health (REG-01)."""
    return JSONResponse({"status": "ok", "norm": request.app.state.system.parts.health_norm})
