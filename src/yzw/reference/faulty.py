"""The seeded faults (mocks/faults.yaml) as faulty parts: realistic vendor mistakes, kept apart from the clean code.

`REGISTRY` maps each fault to the parts it replaces and with what (yzw.reference.parts assembles them).
Each replacement breaks the requirement the catalogue names for its fault, and nothing it does not declare.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import hashlib
import hmac as std_hmac
import html
import json
import re
import secrets
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, nullcontext, suppress
from dataclasses import replace
from typing import Any, cast
from urllib.parse import parse_qsl, quote, quote_plus, unquote_to_bytes, urlencode, urlsplit

import gmalg
import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from yzw.client import AsyncSignedClient, Credentials, SignHeaders, Token, TokenUnavailable, trusted
from yzw.codes import check, compose
from yzw.codes.calendar import default_calendar, promised_due_at
from yzw.codes.checksums import USCC_ALPHABET, mod_11_2_check, mod_37_36_check, uscc_check
from yzw.codes.license import PREFIX as LICENSE_PREFIX
from yzw.codes.lists import code_list, national_divisions
from yzw.codes.times import CN_TZ, today_cn
from yzw.errors import CalendarYearMissing
from yzw.reference import intake, sso
from yzw.reference.catalogue import active_for_department, item, item_of
from yzw.reference.driver import (
    CLERK,
    absent,
    act,
    allowed_steps,
    announce,
    bj_payload,
    bysl_payload,
    carry_out,
    event_answer,
    issue_case_no,
    issue_license,
    issued,
    license_number,
    license_owner,
    licensed_review,
    missing_materials,
    next_window_serial,
    one_per_bad_review,
    reason_given,
    review,
    sl_payload,
    step_payload,
    verify_license,
)
from yzw.reference.guard import answer_in_kind
from yzw.reference.intake import STATUS, first_answer, health, supplements_taken, waiting_for_supplements
from yzw.reference.journal import (
    EVENTS,
    SYSTEM_NAME,
    is_refusal,
    not_before_submission,
    queue,
    record_event,
    send,
    settle,
)
from yzw.reference.services import (
    clerks_action,
    evaluation_record,
    guide_page,
    send_rectification,
    supervision_notice,
)
from yzw.reference.sso import browser_error, end_sessions, error_page, fresh_sid, session_first, session_user, verified
from yzw.reference.system import SCOPES, ReferenceSystem, now_text
from yzw.serving.errors import ApiError, error_response, exception_handlers
from yzw.serving.http import JSON, XML, prefers_html, read_body
from yzw.serving.pipeline import (
    Call,
    Pipeline,
    Route,
    Step,
    check_media,
    check_schema_whole,
    check_signature,
    parse_document,
    verify_signature,
)
from yzw.signing import (
    HEADER_APP_ID,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    NONCE_SYNTAX,
    SIG02_ORDER,
    SIGNATURE_HEADERS,
    TIMESTAMP_WINDOW,
    UNRESERVED,
    NonceMemory,
    Nonces,
    Presented,
    Rejection,
    Stage,
    app_known,
    canonical_query,
    canonical_string,
    header_syntax,
    headers_present,
    new_nonce,
    nonce_fresh,
    query_pairs,
    signature,
    signature_matches,
    sm3_hex,
    timestamp_window,
)
from yzw.sm2 import DEFAULT_UID, signed_bytes
from yzw.spec import validate
from yzw.spec.findings import Finding
from yzw.spec.limits import limits
from yzw.spec.schemas import schema_documents
from yzw.spec.xml import NS as XML_NS
from yzw.spec.xml import from_xml, to_xml, xsd_errors

# The members of an application the strict parser of unknown-fields-refused knows (the norm's, today).
APPLICANT_KINDS = frozenset(code_list("applicant_kinds"))  # CODE-09's legal-person kinds
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


def _etag_from_version(system: ReferenceSystem, item_code: str) -> dict[str, str]:
    """CAT-01 broken: If-None-Match built from the cached item's version, as if the ETag were "v<version>"."""
    return {"If-None-Match": f'"v{system.items[item_code]["version"]}"'}


async def _review_then_license(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any], result: str
) -> list[str]:
    """ROB-01 broken: CB/SH/PZ recorded before the library is asked, and an unreachable library taken as a refusal."""
    review(system, found["application_no"])
    try:
        return await licensed_review(system, found, entry, result)
    except ApiError as exc:
        if exc.status == 503:
            raise ApiError(409, "LICENSE_REFUSED", "the license library refused the e-license") from None
        raise


def _yes(*_: Any) -> bool:
    """A check that lets everything through."""
    return True


def _nothing(*_: Any) -> None:
    """A step acknowledged but never taken."""


async def _never(*_: Any) -> None:
    """A call to the platform that is never made (the vendor does it "later")."""


def _strict(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """A strict parser that refuses members it does not know (MSG-03)."""
    extra = sorted(set(document) - KNOWN_MEMBERS) if isinstance(document, dict) else []
    return findings + [Finding(f"/{name}", name, "unknown member", "MSG-03") for name in extra]


def _stored_again(system: ReferenceSystem, known: dict[str, Any] | None, document: Any) -> Response | None:
    """No idempotency: the same application again is answered anew, with a new received_at (APP-04)."""
    if known is None:
        return None
    again = {**json.loads(known["answer"]), "received_at": now_text()}
    system.store.execute(
        "UPDATE applications SET answer = ? WHERE application_no = ?", json.dumps(again), document["application_no"]
    )
    return JSONResponse(again, status_code=202)


async def _synchronous_lookup() -> None:
    """A synchronous lookup per application (PERF-01)."""
    await asyncio.sleep(0.9)


async def _synchronous_archive_write() -> None:
    """PERF-01 broken: a synchronous 30 ms archive write inside the async handler blocks the whole server, so
    intake serves one application at a time: about 33 a second, below every tier's rate, whatever the hardware."""
    time.sleep(0.03)


def _status_numbered_by_case(found: dict[str, Any], state: str) -> dict[str, Any]:
    """APP-07 broken: the status answer's application_no is filled from the case record, so from acceptance on
    it carries the case_no instead of the number queried."""
    answer = intake.status_answer(found, state)
    if found["case_no"]:
        answer["application_no"] = found["case_no"]
    return answer


def _draft_kept_on_refusal(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """PERF-02 broken: every application is saved as a draft before it is validated (so that no citizen's input
    is lost), and the draft stays when the application is refused 400: the status query knows it."""
    number = document.get("application_no") if isinstance(document, dict) else None
    if findings and isinstance(number, str) and system.application(number) is None:
        received_at = now_text()
        draft = {"application_no": number, "received_at": received_at, "status": "draft"}
        intake.insert_application(system, document, draft, received_at)
    return intake.as_found(system, document, findings)


def _logout_route_missing(user_id: str) -> Response:
    """SSO-06 broken: the system never mapped the IdP's logout call (it logs people out only from its own menu):
    POST /yzw/v1/sso/logout is an unknown route, and nothing ends."""
    return ApiError(404, "NOT_FOUND", "no route POST /yzw/v1/sso/logout").response()


def _no_sessions_ended(system: ReferenceSystem, user_id: str) -> None:
    """logout-route-missing, second half: the unmapped call ends no session."""


async def _slow_archive_lookup() -> None:
    """resend-kept-twice, first half: a 1.5 s archive lookup before the application is stored."""
    await asyncio.sleep(1.5)


def _upserted_without_second_look(
    system: ReferenceSystem, document: Any, answer: dict[str, Any], received_at: str
) -> Response | None:
    """APP-04 / PERF-02 broken: the duplicate check runs only when an application arrives, and it is stored with
    an upsert, so a repeat that arrives while the first is still being handled is kept again, replacing it, and
    answered with its own received_at."""
    intake.insert_application(system, document, answer, received_at, verb="INSERT OR REPLACE")
    return None


SHED_ABOVE = 5  # applications in flight (more than a certification's concurrent sample of 4 sends at once)
_IN_FLIGHT = [0]
_SHED: contextvars.ContextVar[bool] = contextvars.ContextVar("shed", default=False)


async def _counted_archive_write() -> None:
    """overload-shed-after-keeping, first half: each application is counted in flight during a 120 ms archive
    write, and the guard decides on arrival whether it is one too many (the decision stays with the request)."""
    _SHED.set(_IN_FLIGHT[0] >= SHED_ABOVE)
    _IN_FLIGHT[0] += 1
    try:
        await asyncio.sleep(0.12)
    finally:
        _IN_FLIGHT[0] -= 1


def _shed_after_keeping(system: ReferenceSystem, document: Any) -> None:
    """PERF-02 broken: the overload guard sits in post-processing, after the application was stored, so an
    application it sheds is answered 503 and kept all the same."""
    intake.announced_by_platform(system, document)
    if _SHED.get():
        raise ApiError(503, "OVERLOADED", "too many applications at once; try again later")


async def _from_own_list(system: ReferenceSystem, item_code: str) -> dict[str, Any] | None:
    """The registration's own items list trusted instead of the catalogue (CAT-01)."""
    listed = item_code in system.registration.items
    return {"status": "active", "dept": {"uscc": system.registration.dept_uscc}} if listed else None


def _crashes_on_empty_materials(system: ReferenceSystem, document: Any) -> bool:
    """ROB-01: the vendor's store step reads the first material, whether there is one or not."""
    if not document.get("materials"):
        raise RuntimeError("list index out of range")  # document["materials"][0] in the vendor's code
    return True


def _loses_one_in_five(system: ReferenceSystem, document: Any) -> bool:
    """PERF-02: one application in five is answered but never kept."""
    return system.next_counter("intake") % 5 != 0


async def _taken_as_valid(system: ReferenceSystem, license_id: str, holder: str) -> str:
    """APP-05 broken: license materials taken at face value, never verified with the library."""
    return "valid"


def _in_utc(moment: dt.datetime) -> str:
    """CODE-08 broken: UTC with Z instead of +08:00."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _refreshed_item(system: ReferenceSystem, item_code: str) -> Awaitable[dict[str, Any] | None]:
    """The province asked for the current entry each time: the wait for its answer is where a second,
    unserialized accept of the same application slips in (EVT-03)."""
    return item(system, item_code, refresh=True)


def _weekdays_only(day0: dt.date, days: int) -> dt.datetime:
    """ACC-04 broken: Monday to Friday count, holidays and adjusted weekends do not."""
    day = day0
    while days:
        day += dt.timedelta(days=1)
        days -= day.weekday() < 5
    return dt.datetime.combine(day, dt.time(23, 59, 59, tzinfo=CN_TZ))


SlPayload = Callable[[str, dict[str, Any], dict[str, Any], dt.datetime], dict[str, Any]]


def _sl_with(member: str, value: Callable[[dict[str, Any]], Any]) -> SlPayload:
    """The clean SL payload with one member changed; `value` has the catalogue entry."""

    def payload(case_no: str, found: dict[str, Any], entry: dict[str, Any], due: dt.datetime) -> dict[str, Any]:
        return {**sl_payload(case_no, found, entry, due), member: value(entry)}

    return payload


def _bj_without_documents(result: str, licenses: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """EVT-05 broken: the BJ payload has no documents member."""
    return {k: v for k, v in bj_payload(result, licenses, params).items() if k != "documents"}


def _withdrawal_after_refusal(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """ACC-06 broken: a refused application can still be withdrawn at the applicant's request (CH after BYSL)."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | {"CH"} if last_step == "BYSL" else allowed


BEFORE_ACCEPTANCE = (None, "SB", "BZ", "BZJ")


def _accept_while_awaiting_supplements(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: accept is open while the application waits for supplements (the clerk "takes what came
    at the window"), so a second accept after BZ notifies again instead of waiting for BZJ."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | {"SL"} if last_step == "BZ" else allowed


def _withdraw_only_after_acceptance(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: withdrawal is a case action only; an application not accepted yet cannot be withdrawn."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed - {"CH"} if last_step in BEFORE_ACCEPTANCE else allowed


def _suspend_before_acceptance(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: an application may be suspended (site visit) before it is accepted: GQ before SL."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | {"GQ"} if last_step in BEFORE_ACCEPTANCE else allowed


def _advance_while_suspended(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: the suspension only stops the clock; the review goes on without a resume (SH after GQ)."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | allowed_steps(suspended_at, None) if last_step == "GQ" else allowed


def _resume_restarts_review(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: after a resume the review starts again at CB, whatever step the case was suspended at."""
    return allowed_steps("SL", None) if last_step == "HF" else allowed_steps(last_step, suspended_at)


def _withdraw_after_completion(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: a completed case can still be withdrawn at the applicant's request (CH after BJ)."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | {"CH"} if last_step in ("BJ", "SD") else allowed


def _withdraw_refused_while_suspended(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: a suspended case must be resumed before the applicant can withdraw it."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed - {"CH"} if last_step == "GQ" else allowed


def _completable_unless_closed(allowed: frozenset[str]) -> bool:
    """EVT-03 / §11 broken: complete checks only that the case is not closed, so a suspended case is completed
    (BJ right after GQ)."""
    return bool(allowed - {"SD"})


def _open_case(system: ReferenceSystem, case_no: str) -> Any:
    """EVT-03 / SUP-02 broken: notices are matched against the open cases only, so a notice on a completed
    case is answered 404 CASE_UNKNOWN and gets no FK."""
    return system.store.one(
        "SELECT application_no FROM applications WHERE case_no = ? AND last_step NOT IN ('BJ', 'SD', 'CH')", case_no
    )


def _evaluation_with(**changes: Callable[[Any], Any]) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """EVAL-01 broken: the evaluation as taken, one member changed (`changes`: member -> the value from the
    clean record's value)."""

    def record(case_no: str, params: dict[str, Any]) -> dict[str, Any]:
        evaluation = evaluation_record(case_no, params)
        return {**evaluation, **{member: change(evaluation[member]) for member, change in changes.items()}}

    return record


def _level_2_refused(case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    """EVAL-01 broken: the desk has no button for level 2 (不满意); an evaluation of level 2 is refused."""
    if params.get("level") == 2:
        raise ApiError(422, "PARAMS_INVALID", "params.level is 1, 3, 4 or 5")
    return evaluation_record(case_no, params)


def _level_unchecked(case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    """EVAL-01 broken: the level is taken as typed; a level 6 is queued (and refused by the exchange)."""
    return {**evaluation_record(case_no, {**params, "level": 5}), "level": params.get("level")}


def _evaluation_id_of_case(case_no: str) -> Callable[[Any], str]:
    return lambda evaluation_id: str(uuid.uuid5(uuid.NAMESPACE_URL, case_no))


def _evaluation_per_case(case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    """EVAL-01 broken: the evaluation_id is derived from the case_no, so a second evaluation of a case reuses it
    with other content (409 EVALUATION_CONFLICT at the exchange)."""
    return _evaluation_with(evaluation_id=_evaluation_id_of_case(case_no))(case_no, params)


def _bad_up_to(worst_good: int) -> Callable[[ReferenceSystem, str, dict[str, Any]], None]:
    """EVAL-02 broken: reviews up to level `worst_good` count as bad (2 is the norm's limit)."""

    def rectifiable(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> None:
        row = system.store.one(
            "SELECT level, rectified FROM reviews WHERE evaluation_id = ? AND case_no = ?",
            str(params.get("evaluation_id") or ""),
            case_no,
        )
        if row is not None and not row[1] and row[0] <= worst_good:
            return
        one_per_bad_review(system, case_no, params)

    return rectifiable


def _only_level_1_bad(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> None:
    """EVAL-02 broken: only level 1 (非常不满意) counts as a bad review; a level 2 is refused 409."""
    row = system.store.one("SELECT level FROM reviews WHERE evaluation_id = ?", str(params.get("evaluation_id")))
    if row is not None and row[0] == 2:
        raise ApiError(409, "STATE_INVALID", "a level 2 review gets no rectification")
    one_per_bad_review(system, case_no, params)


def _review_by_id_only(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> None:
    """EVAL-02 broken: the review is looked up by its evaluation_id only, so another case's review is
    rectified under this case."""
    row = system.store.one("SELECT case_no FROM reviews WHERE evaluation_id = ?", str(params.get("evaluation_id")))
    one_per_bad_review(system, str(row[0]) if row else case_no, params)


YELLOW_ONLY = {"yellow": "已收到黄牌督办,承办人正在加快办理"}


def _explained_for_yellow_only(notice: dict[str, Any]) -> dict[str, Any]:
    """SUP-02 broken: the explanation comes from a template of yellow cards only; a red card fails (500)."""
    return {"notice_id": notice["notice_id"], "explanation": YELLOW_ONLY[str(notice["card"])]}


def _fk_names_own_reference(notice: dict[str, Any]) -> dict[str, Any]:
    """SUP-02 broken: the FK names a reference of the system's own (a new UUID), not the notice's notice_id."""
    return {"notice_id": str(uuid.uuid4()), "explanation": "已收到督办,承办人正在加快办理"}


def _fk_without_explanation(notice: dict[str, Any]) -> dict[str, Any]:
    """SUP-02 broken: the FK leaves the explanation out until a clerk writes one."""
    return {"notice_id": notice["notice_id"]}


def _fk_on_own_counter(system: ReferenceSystem, number: str, payload: dict[str, Any]) -> None:
    """EVT-03 broken: the supervision module numbers its FK events on a counter of its own (1, 2 … per
    application), not as the application's next seq."""
    row = system.store.one(
        "SELECT body, last_seq, case_no, last_step, suspended_at, updated_at FROM applications "
        "WHERE application_no = ?",
        number,
    )
    application = json.loads(row[0])
    event = {
        "event_id": str(uuid.uuid4()),
        "application_no": number,
        "case_no": row[2],
        "seq": system.next_counter(f"fk:{number}"),
        "step": "FK",
        "occurred_at": max(now_text(), str(row[5] or application["submitted_at"])),
        "division_code": application["division_code"],
        "dept_uscc": system.registration.dept_uscc,
        "item_code": application["item_code"],
        "handler": {"id": system.registration.app_id, "name": SYSTEM_NAME},
        "payload": payload,
    }
    system.store.execute(
        "INSERT INTO outbox (application_no, body) VALUES (?, ?)", number, json.dumps(event, ensure_ascii=False)
    )


def _passports_checked_as_id_cards(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """APP-03 broken: every certificate number must pass CODE-01, whatever its id_type (a passport fails)."""
    person = document.get("applicant") if isinstance(document, dict) else None
    passport = isinstance(person, dict) and person.get("id_type") not in (None, "111")
    if passport and check("id_number", str(person.get("id_number", ""))) is not None:  # type: ignore[union-attr]
        raise ApiError(422, "APPLICANT_INVALID", "the applicant's id_number is not a valid ID number")
    return findings


def _representative_or_person(applicant: dict[str, Any]) -> str:
    """APP-05 broken: a legal applicant's licenses are verified for its legal representative, not for it."""
    return str((applicant.get("legal_rep") or applicant).get("id_number"))


def _gq_without_expected_days(step: str, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """EVT-02 broken: a suspension says why and what kind, but not how many days it is expected to last."""
    payload = step_payload(step, found, params)
    return {k: v for k, v in payload.items() if k != "expected_days"} if step == "GQ" else payload


def _every_due_entry(system: ReferenceSystem) -> list[Any]:
    """EVT-07 broken: every due outbox entry is pushed, so a later event overtakes one that waits for a retry."""
    return system.store.rows(
        "SELECT id, body, attempts, path FROM outbox WHERE state = 'pending' AND next_try <= ? ORDER BY id LIMIT 200",
        time.time(),
    )


def _day0_or_today(params: dict[str, Any]) -> dt.date:
    """ACC-04 broken: a calendar_date that is no date is ignored and the acceptance goes ahead from today."""
    try:
        return dt.date.fromisoformat(str(params.get("calendar_date")))
    except ValueError:
        return today_cn()


def _on_calendar_date(params: dict[str, Any]) -> str | None:
    """EVT-04 broken: a driver's calendar_date dates the SL itself, at the time of day it happens."""
    if not params.get("calendar_date"):
        return None
    now = dt.datetime.now(CN_TZ).replace(microsecond=0)
    return dt.datetime.combine(dt.date.fromisoformat(params["calendar_date"]), now.time(), CN_TZ).isoformat()


async def _outage_as_not_found(system: ReferenceSystem, license_id: str, holder: str) -> str:
    """ROB-01 broken: a library that cannot answer is read as "license not found", so the applicant is asked
    for a supplement (BZ) instead of the clerk being told to try again (503, nothing decided)."""
    try:
        return await verify_license(system, license_id, holder)
    except ApiError:
        return "not_found"


def _case_no_on_calendar_date(system: ReferenceSystem, params: dict[str, Any]) -> str:
    """CODE-06 broken: the driver's calendar_date is taken as the acceptance day of the case_no too."""
    day = dt.date.fromisoformat(params["calendar_date"]) if params.get("calendar_date") else today_cn()
    serial = system.next_counter(f"case:{day.isoformat()}")
    return compose.case_no(system.registration.division_code, system.registration.dept_seq, day, serial)


def _first_case_no_of_the_day(system: ReferenceSystem, params: dict[str, Any]) -> str:
    """CODE-06 broken: the daily serial is read but never advanced, so every case of the day gets serial 1."""
    return compose.case_no(system.registration.division_code, system.registration.dept_seq, today_cn(), 1)


def _home_made_check(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07 broken: a home-made check character instead of ISO/IEC 7064 MOD 37,36."""
    license_id = license_number(system, entry, case_no)
    return license_id[:-1] + ("1" if license_id[-1] != "1" else "2")


def _trimmed(params: dict[str, Any]) -> dict[str, Any]:
    """ROB-02 broken: the applicant's name trimmed of surrounding spaces."""
    if not isinstance(params.get("applicant"), dict):
        return params
    return {**params, "applicant": {**params["applicant"], "name": str(params["applicant"].get("name", "")).strip()}}


def _unannounced(system: ReferenceSystem, application: dict[str, Any]) -> dict[str, Any]:
    """APP-06 broken: the window application is kept but its SB never made; the driver is answered all the same."""
    return {
        "ok": True,
        "application_no": application["application_no"],
        "step": "SB",
        "seq": 1,
        "event_id": "00000000-0000-4000-8000-000000000000",
    }


def _local_copy(entry: dict[str, Any]) -> dict[str, Any]:
    """CAT-02 broken: a guide kept apart from the catalogue, without the optional materials."""
    return {**entry, "materials": [m for m in entry["materials"] if m["required"]]}


def _early_session(system: ReferenceSystem, ticket: str) -> str | None:
    """SSO-01 broken: a session exists before the IdP has said who this is."""
    sid = secrets.token_urlsafe(32)
    system.store.execute(
        "INSERT INTO sessions (sid, user_id, user_record, created_at) VALUES (?, ?, ?, ?)",
        sid,
        ticket,
        json.dumps({"user_id": ticket}),
        now_text(),
    )
    return sid


def _held_cookie(system: ReferenceSystem, request: Request) -> str:
    """SSO-07 broken: the session cookie the browser already held becomes the logged-in session."""
    return request.cookies.get(system.parts.session_cookie_name) or fresh_sid(system, request)


def _held_known_session(system: ReferenceSystem, request: Request) -> str:
    """SSO-07 broken: a browser that already holds one of the system's sessions has it upgraded at login."""
    held = request.cookies.get(system.parts.session_cookie_name, "")
    known = system.store.one("SELECT sid FROM sessions WHERE sid = ?", held) if held else None
    return held if known else fresh_sid(system, request)


def _cookie_kept_when_brought(request: Request) -> bool:
    """SSO-07 broken: the login sets its cookie only for a browser that brings none (written so as not to overwrite
    a "remember me" cookie), so a browser that held a session cookie keeps it and never gets the new session's."""
    system: ReferenceSystem = request.app.state.system
    return system.parts.session_cookie_name not in request.cookies


def _persons_only(user: dict[str, Any]) -> bool:
    """SSO-04 broken: sessions are rows of the person account table, keyed by the ID number; a legal person (a
    uscc, no id_number) gets the cookie and the redirect home, but no row, so its session is never found."""
    return bool(user.get("id_number"))


def _sl_unreported_after_sb(step: str, last_step: str | None) -> bool:
    """EVT-01 broken: the window module takes it that the SB already told the platform of the application, so the
    acceptance of an application taken at the window or an agent point opens the case without pushing SL."""
    return not (step == "SL" and last_step == "SB")


def _rep_type_as_number(system: ReferenceSystem, application: dict[str, Any]) -> dict[str, Any]:
    """MSG-03 broken: the SB is built from the window form's model, whose certificate select for the legal
    representative holds the type as a number, so a legal applicant's SB carries legal_rep.id_type 111."""
    applicant = application.get("applicant") or {}
    rep = applicant.get("legal_rep")
    if isinstance(rep, dict) and str(rep.get("id_type", "")).isdigit():
        typed = {**rep, "id_type": int(rep["id_type"])}
        application = {**application, "applicant": {**applicant, "legal_rep": typed}}
    return announce(system, application)


def _bare_cookie(response: Response, name: str, sid: str, https: bool) -> None:
    """SSO-07 broken: no HttpOnly, no SameSite, no Secure."""
    response.headers["set-cookie"] = f"{name}={sid}; Path=/"


# the request pipeline ---------------------------------------------------------------------------------------
TRACE = 'Traceback (most recent call last):\n  File "/srv/yzw/reference/intake.py", line 42'


def _json_only(media: tuple[str, ...]) -> tuple[str, ...]:
    """XML registered, and refused all the same (MSG-01)."""
    return (JSON,)


def _signature_first(checks: tuple[Step, ...]) -> tuple[Step, ...]:
    """The signature before the media type: an unsigned text/plain body gets 401, not 415 (MSG-04)."""
    return checks[::-1]


def _fresh_memory(memory: Nonces) -> Nonces:
    """A new memory for each request: a replayed nonce is never seen (SIG-02)."""
    return NonceMemory()


def _no_signature_check(pipeline: Pipeline, call: Call, route: Route) -> None:
    """Requests are served whoever signed them, or nobody (SIG-02)."""


def _parse_resolving_doctype(pipeline: Pipeline, call: Call, route: Route) -> None:
    """The standard library's parser without defusing: a DOCTYPE is taken and its entities expanded (MSG-05)."""
    if call.media == XML and call.has_body and (route.kind is not None or route.parse):
        call.document = from_xml(ET.fromstring(call.body))[1]
    else:
        parse_document(pipeline, call, route)


def _answer_with_trace(error: ApiError, call: Call) -> Response:
    """A debug build's error: the stack trace and a file path in the message (MSG-02)."""
    return answer_in_kind(ApiError(error.status, error.code, f"{error.message}\n{TRACE}", error.details), call)


# 2026.2 messages, signing, SSO
def _blank_pairs_dropped(pipeline: Pipeline, call: Call, route: Route) -> None:
    """SIG-01 over `parse_qsl`'s pairs: without keep_blank_values, `a=` and `b` vanish from the canonical query."""
    query = call.request.scope["query_string"].decode("latin-1")
    verify_signature(pipeline, call, route, urlencode(parse_qsl(query)))


def _verified_in(*stages: Stage, query_rule: Callable[[str | bytes], str] = canonical_query) -> Step:
    """A signature check that runs SIG-02's stages as a vendor ordered (or wrote) them."""

    def check(pipeline: Pipeline, call: Call, route: Route) -> None:
        query = call.request.scope["query_string"]
        verify_signature(pipeline, call, route, query, stages=stages, query_rule=query_rule)

    return check


def _one_code(pipeline: Pipeline, call: Call, route: Route) -> None:
    """SIG-02 broken: the authentication filter answers every refusal 401 SIGNATURE_INVALID, whatever the cause."""
    try:
        check_signature(pipeline, call, route)
    except ApiError as refusal:
        raise ApiError(401, "SIGNATURE_INVALID", "authentication failed") from refusal


def _past_only(request: Presented) -> Rejection | None:
    """SIG-02 broken: only `now - timestamp > 300` is checked, so a timestamp from the future passes."""
    stamp = request.header(HEADER_TIMESTAMP)
    if request.now - int(stamp) > TIMESTAMP_WINDOW:
        return Rejection("TIMESTAMP_EXPIRED", f"timestamp {stamp} is too old")
    return None


def _minute_window(request: Presented) -> Rejection | None:
    """SIG-02 broken: a 60 s window, tighter than the norm's 300 s."""
    stamp = request.header(HEADER_TIMESTAMP)
    if abs(request.now - int(stamp)) > TIMESTAMP_WINDOW // 5:
        return Rejection("TIMESTAMP_EXPIRED", f"timestamp {stamp} is more than a minute from now")
    return None


def _lenient_window(request: Presented) -> Rejection | None:
    """The window over a timestamp read leniently: what is no number counts as 0 (the epoch), long expired."""
    stamp = request.header(HEADER_TIMESTAMP)
    seconds = int(stamp) if stamp.isascii() and stamp.isdigit() else 0
    if abs(request.now - seconds) > TIMESTAMP_WINDOW:
        return Rejection("TIMESTAMP_EXPIRED", f"timestamp {stamp} is more than {TIMESTAMP_WINDOW} s from now")
    return None


def _nonce_and_signature_syntax(request: Presented) -> Rejection | None:
    """Header syntax without the timestamp: it is left to the window, which reads it leniently (SIG-02)."""
    if not NONCE_SYNTAX.fullmatch(request.header(HEADER_NONCE)):
        return Rejection("SIGNATURE_INVALID", "the nonce is not 16-64 characters of [A-Za-z0-9-]")
    return None


def _timestamp_syntax(request: Presented) -> Rejection | None:
    """Header syntax without the nonce: any nonce is taken (SIG-02)."""
    if not request.header(HEADER_TIMESTAMP).isdigit():
        return Rejection("SIGNATURE_INVALID", "the timestamp is not Unix seconds")
    return None


class _OneNonceSet:
    """SIG-02 broken: one set of nonces for every caller, so a nonce another app used counts as a replay."""

    def __init__(self, memory: Nonces) -> None:
        self.memory = memory

    def claim(self, app_id: str, nonce: str) -> bool:
        return self.memory.claim("", nonce)


def _unsigned_at(*suffixes: str) -> Step:
    """SIG-02 broken: routes ending so were mounted outside the signed router and are served to anyone."""

    def check(pipeline: Pipeline, call: Call, route: Route) -> None:
        if not call.request.url.path.endswith(suffixes):
            check_signature(pipeline, call, route)

    return check


def _platform_key_at_the_driver(pipeline: Pipeline, call: Call, route: Route) -> None:
    """§11 broken: the driver takes the platform's key too (one key list for every route)."""
    try:
        check_signature(pipeline, call, route)
    except ApiError:
        if route.signer != "system":
            raise
        check_signature(pipeline, call, replace(route, signer="platform"))


def _driver_key_whatever_app_id(pipeline: Pipeline, call: Call, route: Route) -> None:
    """SIG-02 broken: the driver holds one key, its own app_secret, and looks no app id up: a call signed with that
    secret is served whatever X-Yzw-App-Id it names."""
    if route.signer != "system":
        check_signature(pipeline, call, route)
        return
    system: ReferenceSystem = call.request.app.state.system
    one_key = replace(pipeline, keys=lambda call, route: lambda app_id: system.registration.app_secret)
    check_signature(one_key, call, route)


def _drafted_before_verdict(pipeline: Pipeline, call: Call, route: Route) -> None:
    """SIG-02 broken: an application is saved as it arrives, before the signature filter's verdict, so an
    application refused 401 is kept all the same (and its status query answers it)."""
    if call.request.method == "POST" and call.request.url.path.endswith("/applications"):
        with suppress(ValueError, KeyError, TypeError):
            intake._kept(call.request.app.state.system, json.loads(call.body))
    check_signature(pipeline, call, route)


def _encoded(pairs: list[tuple[str, str]], safe: str = UNRESERVED) -> str:
    return "&".join(f"{quote(name, safe=safe)}={quote(value, safe=safe)}" for name, value in pairs)


def _sorted_by_name_only(raw_query: str | bytes) -> str:
    """SIG-01 broken: pairs sorted by name alone (a stable sort), so equal names keep the order they came in."""
    return _encoded(sorted(query_pairs(raw_query), key=lambda pair: pair[0]))


def _sorted_ignoring_case(raw_query: str | bytes) -> str:
    """SIG-01 broken: pairs sorted case-insensitively, as a collation would, not by code point."""
    return _encoded(sorted(query_pairs(raw_query), key=lambda pair: (pair[0].lower(), pair[1].lower())))


def _encoded_like_javascript(raw_query: str | bytes) -> str:
    """SIG-01 broken: encodeURIComponent's re-encoding, which leaves `!'()*` bare besides the unreserved."""
    return _encoded(sorted(query_pairs(raw_query)), safe=UNRESERVED + "!'()*")


def _ticket_as_given(request: Request) -> str | None:
    """SSO-03 broken: only a missing parameter is a 400; an empty ticket goes to the IdP and its refusal is 401."""
    return request.query_params.get("ticket")


def _latest_session_ended(system: ReferenceSystem, user_id: str) -> None:
    """SSO-06 broken: the store maps a person to their last session only, so logout ends that one alone."""
    system.store.execute(
        "DELETE FROM sessions WHERE rowid = (SELECT MAX(rowid) FROM sessions WHERE user_id = ?)", user_id
    )


def _level_exactly(user: dict[str, Any], entry: dict[str, Any]) -> bool:
    """SSO-05 broken: the level compared with == , so a person verified above the item's level is refused."""
    return int(user["auth_level"]) == int(entry["required_auth_level"])


async def _other_departments_too(system: ReferenceSystem, request: Request, item_code: str) -> tuple[Any, Any]:
    """SSO-05 broken: the apply entry checks that the item is active, not that it is this department's."""
    user = session_user(system, request)
    if user is None:
        return None, None
    entry = await item(system, item_code)
    return user, entry if entry is not None and entry.get("status") == "active" else None


async def _generic_form(system: ReferenceSystem, request: Request, item_code: str) -> tuple[Any, Any]:
    """SSO-05 broken: a code the catalogue does not know opens a generic application form at the lowest level."""
    user = session_user(system, request)
    if user is None:
        return None, None
    entry = await item(system, item_code)
    if entry is None:
        return user, {"item_code": item_code, "name": "通用申请", "required_auth_level": 1}
    return user, entry if active_for_department(system, entry) else None


_signature_checked_last = _verified_in(
    headers_present, app_known, header_syntax, timestamp_window, nonce_fresh, signature_matches
)
_app_looked_up_first = _verified_in(
    app_known, headers_present, header_syntax, timestamp_window, signature_matches, nonce_fresh
)
_syntax_before_app = _verified_in(
    headers_present, header_syntax, app_known, timestamp_window, signature_matches, nonce_fresh
)
_window_before_syntax = _verified_in(
    headers_present, app_known, _lenient_window, header_syntax, signature_matches, nonce_fresh
)
_signature_before_window = _verified_in(
    headers_present, app_known, header_syntax, signature_matches, timestamp_window, nonce_fresh
)
_timestamp_read_leniently = _verified_in(
    headers_present, app_known, _nonce_and_signature_syntax, _lenient_window, signature_matches, nonce_fresh
)
_any_nonce = _verified_in(
    headers_present, app_known, _timestamp_syntax, timestamp_window, signature_matches, nonce_fresh
)
_future_taken = _verified_in(headers_present, app_known, header_syntax, _past_only, signature_matches, nonce_fresh)
_narrow_window = _verified_in(headers_present, app_known, header_syntax, _minute_window, signature_matches, nonce_fresh)


# review 1 item 12: absurd timestamps, malformed session cookies, driver params of another type (issue 13)
def _window_over_a_datetime(request: Presented) -> Rejection | None:
    """The window computed on a datetime made from the timestamp: 25 digits overflow the platform's time_t (an
    OverflowError, a 500) instead of being refused 401 (SIG-02)."""
    stamp = request.header(HEADER_TIMESTAMP)
    sent = dt.datetime.fromtimestamp(int(stamp), CN_TZ)
    if abs((dt.datetime.fromtimestamp(request.now, CN_TZ) - sent).total_seconds()) > TIMESTAMP_WINDOW:
        return Rejection("TIMESTAMP_EXPIRED", f"timestamp {stamp} is more than {TIMESTAMP_WINDOW} s from now")
    return None


_timestamp_overflows = _verified_in(
    headers_present, app_known, header_syntax, _window_over_a_datetime, signature_matches, nonce_fresh
)


def _session_sql_concatenated(system: ReferenceSystem, request: Request) -> dict[str, Any] | None:
    """SSO-04 broken: the session is looked up with the cookie pasted into the SQL, so a cookie with a quote is a
    syntax error (500), and one such as `x'OR'1'='1` opens somebody's session."""
    sid = request.cookies.get(system.parts.session_cookie_name, "")
    if not sid:
        return None
    row = system.store.one(f"SELECT user_record FROM sessions WHERE sid = '{sid}'")  # the fault
    return json.loads(row[0]) if row else None


def _driver_params_untyped(pipeline: Pipeline, call: Call, route: Route) -> None:
    """§11 broken (ROB-01): the driver's request model types `params` as any JSON value and the action reads it as
    `params or {}`: `[]` is taken as no params, and a non-empty list or a string reaches `params[...]` (500)."""
    document = call.document
    if route.kind == "driver-action" and isinstance(document, dict) and not isinstance(document.get("params"), dict):
        call.document = {**document, "params": {}}
    try:
        check_schema_whole(pipeline, call, route)
    finally:
        call.document = document


async def _item_first(system: ReferenceSystem, request: Request, item_code: str) -> tuple[Any, Any]:
    """The apply entry looks the item up before the session, so an unknown item answers 404 to anyone."""
    entry = await item(system, item_code)
    if not active_for_department(system, entry):
        return {}, None  # as if signed in: the 404 comes before the 401
    return session_user(system, request), entry


def _html_named_first(accept: str) -> bool:
    """Accept read by order, not by q-value: `text/html` named before `application/json` wins."""
    at_html, at_json = accept.find("text/html"), accept.find("application/json")
    return at_html >= 0 and (at_json < 0 or at_html < at_json)


def _calendar_path_shown(exc: CalendarYearMissing) -> ApiError:
    """The kit's own error text passed on as the answer: it names calendar.yaml's absolute path."""
    return ApiError(422, "CALENDAR_YEAR_MISSING", str(exc))


def _window_only_announced(system: ReferenceSystem, application: dict[str, Any]) -> dict[str, Any]:
    """APP-06 broken: only window applications get their SB; an agent point's are kept silently."""
    if application.get("channel") == "window":
        return announce(system, application)
    return _unannounced(system, application)


def _sb_without_material_names(system: ReferenceSystem, application: dict[str, Any]) -> dict[str, Any]:
    """The SB is built from the materials table, which keeps each material's code and file but not its name."""
    materials = [{**material, "name": ""} for material in application.get("materials", [])]
    return announce(system, {**application, "materials": materials})


# 2026.2 events
def _last_delivered_step(system: ReferenceSystem, found: dict[str, Any]) -> str | None:
    """APP-07: the status follows only what the exchange took, so a refused step never shows."""
    rows = system.store.rows(
        "SELECT body FROM outbox WHERE application_no = ? AND state = 'delivered' AND path = ? ORDER BY id",
        found["application_no"],
        EVENTS,
    )
    steps = [json.loads(row["body"])["step"] for row in rows]
    return next((step for step in reversed(steps) if step != "FK"), None)


def _holder_always_person(applicant: dict[str, Any]) -> dict[str, Any]:
    """LIC-01: every e-license is issued to a person; a legal applicant's goes to its legal representative."""
    person = applicant if applicant["type"] == "person" else applicant["legal_rep"]
    return {"type": "person", "name": person["name"], "id_number": person["id_number"]}


async def _library_code_passed_on(system: ReferenceSystem, license_: dict[str, Any]) -> None:
    """§11: the library's refusal is passed on as it came (422 LICENSE_CONFLICT), not as 409 LICENSE_REFUSED."""
    try:
        await issue_license(system, license_)
    except ApiError as exc:
        if exc.status != 409:
            raise
        raise ApiError(422, "LICENSE_CONFLICT", "the license library refused the e-license") from None


async def _not_found_as_outage(system: ReferenceSystem, license_id: str, holder: str) -> str:
    """LIC-02: a license the library does not know is taken for a library that cannot answer (503)."""
    state = await verify_license(system, license_id, holder)
    if state == "not_found":
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the license library could not find the license")
    return state


async def _holder_not_compared(system: ReferenceSystem, license_id: str, holder: str) -> str:
    """LIC-02: a license that exists is taken as valid, whoever holds it (holder_mismatch read as valid)."""
    state = await verify_license(system, license_id, holder)
    return "valid" if state == "holder_mismatch" else state


def _case_no_always(found: dict[str, Any], state: str) -> dict[str, Any]:
    """APP-07: the answer is serialised from the row as it stands, so case_no is null before SL."""
    return {
        "application_no": found["application_no"],
        "status": state,
        "case_no": found["case_no"],
        "updated_at": found["updated_at"],
    }


def _updated_now(found: dict[str, Any], state: str) -> dict[str, Any]:
    """APP-07: updated_at is the moment of the query (a "last modified" column filled with now())."""
    answer = {"application_no": found["application_no"], "status": state, "updated_at": now_text()}
    return answer | ({"case_no": found["case_no"]} if found["case_no"] else {})


def _fk_counted(system: ReferenceSystem, found: dict[str, Any]) -> str | None:
    """APP-07: the status follows every event, FK included: a supervision answer shows the case as in progress."""
    row = system.store.one(
        "SELECT body FROM outbox WHERE application_no = ? AND path = ? ORDER BY id DESC LIMIT 1",
        found["application_no"],
        EVENTS,
    )
    last = json.loads(row["body"])["step"] if row else None
    return "CB" if last == "FK" else (str(found["last_step"]) if found["last_step"] else None)


def _generic_handler(system: ReferenceSystem) -> dict[str, str]:
    """EVT-02: the system's own events name a generic "system" instead of its app_id."""
    return {"id": "system", "name": SYSTEM_NAME}


def _reissued(system: ReferenceSystem, row: Any, error: str) -> None:
    """EVT-07: a refused event is "corrected" automatically, under a new event_id, and sent again at once."""
    body = {**json.loads(row["body"]), "event_id": str(uuid.uuid4())}
    system.store.execute(
        "UPDATE outbox SET body = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
        json.dumps(body, ensure_ascii=False),
        error,
        row["id"],
    )


async def _pushed_at_once(system: ReferenceSystem, body: dict[str, Any]) -> None:
    """EVT-07: an evaluation or rectification posted straight away, outside the outbox, never retried:
    before the case's SL reached the exchange it is refused and lost, and any refusal becomes 409."""
    path = "/exchange/v1/evaluations" if "level" in body else "/exchange/v1/rectifications"
    try:
        answer = await system.client.request("POST", system.exchange_url + path, json=body)
    except (httpx.HTTPError, OSError):
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the exchange cannot be reached (ROB-01)") from None
    if answer.status_code != 200:
        raise ApiError(409, "STATE_INVALID", f"the exchange refused it: {answer.text[:200]}")


# MSG-01 … MSG-05 and REG-01, deepened: what a vendor's parser, error renderer or proxy gets wrong
def _python_json(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-04 broken: Python's json.loads with its defaults, which reads NaN and Infinity as numbers."""
    if call.media == JSON and call.has_body and (route.kind is not None or route.parse):
        try:
            call.document = json.loads(call.body)
            return
        except ValueError:
            pass  # the clean parser says what is wrong
    parse_document(pipeline, call, route)


def _empty_body_as_object(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-04 broken: an empty body is read as {} (a framework's default), so it is judged by the schema."""
    if call.media in (JSON, "") and call.has_body and not call.body.strip() and (route.kind or route.parse):
        call.document = {}
        return
    parse_document(pipeline, call, route)


def _decoded_leniently(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-04 broken: bodies are decoded with errors='replace', so GBK text is taken as mojibake."""
    if call.media == JSON:
        call.body = call.body.decode("utf-8", errors="replace").encode("utf-8")
    parse_document(pipeline, call, route)


def _xml_parse_error_as_nothing(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-04 broken: an XML parse error leaves no document, which the schema then refuses (400 SCHEMA_INVALID)."""
    try:
        parse_document(pipeline, call, route)
    except ApiError as error:
        if call.media != XML or error.code != "MALFORMED_BODY":
            raise
        call.document = None


def _dtd_allowed(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-05 broken: defusedxml with its defaults (forbid_dtd=False): a DOCTYPE without entities is parsed."""
    if call.media == XML and call.has_body and (route.kind is not None or route.parse):
        try:
            call.document = from_xml(defused_fromstring(call.body, forbid_dtd=False))[1]
        except DefusedXmlException as exc:
            raise ApiError(400, "XML_FORBIDDEN_CONSTRUCT", f"{type(exc).__name__} (MSG-05)") from None
        except ET.ParseError as exc:
            raise ApiError(400, "MALFORMED_BODY", f"the body is not well-formed: {exc}") from None
        return
    parse_document(pipeline, call, route)


def _supplements_by_stdlib(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-05 broken: the supplements endpoint reads XML with the standard library, not the hardened parser."""
    if call.media == XML and call.has_body and route.kind == "supplements":
        try:
            call.document = from_xml(ET.fromstring(call.body))[1]
        except ET.ParseError as exc:
            raise ApiError(400, "MALFORMED_BODY", f"the body is not well-formed: {exc}") from None
        return
    parse_document(pipeline, call, route)


STRICT_MODELS = ("supplements", "notification", "notice", "logout")  # every model but the application's


def _strict_models(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-03 broken: the request models other than the application forbid extra members (extra='forbid')."""
    parse_document(pipeline, call, route)
    if route.kind in STRICT_MODELS and isinstance(call.document, dict):
        known = set(schema_documents()[route.kind].get("properties", {}))
        material = set(schema_documents()["common"]["$defs"]["material"].get("properties", {}))
        extra = [f"/{name}" for name in call.document if name not in known]
        for index, entry in enumerate(call.document.get("materials") or []):
            if isinstance(entry, dict):
                extra += [f"/materials/{index}/{name}" for name in entry if name not in material]
        if extra:
            details = [{"path": path, "reason": "unknown member"} for path in extra]
            raise ApiError(400, "SCHEMA_INVALID", f"the body breaks the {route.kind} model", details)


def _xml_checked_by_xsd(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-03 broken: XML requests are validated against the XSD as sent, so an undeclared element is refused."""
    parse_document(pipeline, call, route)  # well-formed and without a DOCTYPE, or refused
    if call.media == XML and call.has_body and (route.kind is not None or route.parse):
        errors = xsd_errors(call.body)
        if errors:
            details = [{"path": path, "reason": reason} for path, reason in errors]
            raise ApiError(400, "SCHEMA_INVALID", "the XML body breaks the XSD", details)


async def _limit_inclusive(request: Request) -> bytes:
    """MSG-04 broken: the size check uses >=, so a body of exactly 10 MiB is refused 413."""
    limit = limits().max_body_bytes
    body = await request.body()
    if len(body) >= limit:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"the body is {limit} bytes or more")
    return body


def _proxy_413_page(error: ApiError, call: Call) -> Response:
    """MSG-04 broken: the reverse proxy in front answers a too-large body with its own HTML page."""
    if error.status == 413:
        page = "<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413 Request Entity"
        return HTMLResponse(page + " Too Large</h1></center><hr><center>nginx</center></body></html>", status_code=413)
    return answer_in_kind(error, call)


def _framework_media_code(error: ApiError, call: Call) -> Response:
    """MSG-04 broken: the 415 carries the web framework's own code, not the norm's."""
    if error.code == "UNSUPPORTED_MEDIA_TYPE":
        error = ApiError(error.status, "MEDIA_TYPE_NOT_SUPPORTED", error.message, error.details)
    return answer_in_kind(error, call)


def _details_dropped(error: ApiError, call: Call) -> Response:
    """MSG-02 broken: a schema error says what is wrong in its message only; details stay empty."""
    if error.code == "SCHEMA_INVALID":
        reasons = "; ".join(str(d.get("reason")) for d in error.details)
        error = ApiError(error.status, error.code, f"{error.message}: {reasons}", [])
    return answer_in_kind(error, call)


def _xml_error_rewritten(rewrite: Callable[[ApiError, ET.Element], None]) -> Callable[[ApiError, Call], Response]:
    """MSG-01 broken: the error's XML form, as the clean system writes it, then changed by `rewrite`."""

    def answer(error: ApiError, call: Call) -> Response:
        clean = answer_in_kind(error, call)
        if "xml" not in clean.headers.get("content-type", ""):
            return clean
        root = ET.fromstring(bytes(clean.body))
        rewrite(error, root)
        body = ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=XML_NS)
        return Response(body, status_code=clean.status_code, media_type="application/xml")

    return answer


def _root_named_response(error: ApiError, root: ET.Element) -> None:
    """MSG-01 broken: the schema validator's XML error writer names its root with the framework's generic
    `response`, not `error` (its other errors are written right)."""
    if error.code == "SCHEMA_INVALID":
        root.tag = f"{{{XML_NS}}}response"


def _details_unwrapped(error: ApiError, root: ET.Element) -> None:
    """MSG-01 broken: the error's details written as one `details` element per entry, without `item` elements."""
    details = root.find(f"{{{XML_NS}}}details")
    if details is None:
        return
    root.remove(details)
    for item_ in list(details):
        item_.tag = f"{{{XML_NS}}}details"
        root.append(item_)


def _null_written(error: ApiError, root: ET.Element) -> None:
    """MSG-01 broken: the XML writer renders what the error lacks as the text null: no details is
    <details>null</details>."""
    details = root.find(f"{{{XML_NS}}}details")
    if details is not None and not len(details):
        details.text = "null"


def _requirement_kept(error: ApiError, root: ET.Element) -> None:
    """MSG-01 broken: the XML error keeps each detail's internal `requirement` member, which the XSD does not
    declare (the JSON form may carry more, the XML form may not)."""
    details = root.find(f"{{{XML_NS}}}details")
    for item_, detail in zip(list(details) if details is not None else [], error.details, strict=False):
        if detail.get("requirement"):
            ET.SubElement(item_, f"{{{XML_NS}}}requirement").text = str(detail["requirement"])


def _dotted_paths(error: ApiError, call: Call) -> Response:
    """MSG-02 broken: detail paths in the validator's dotted form (materials.0.name), not JSON pointers."""
    details = [{**d, "path": ".".join(str(d.get("path", "")).strip("/").split("/"))} for d in error.details]
    return answer_in_kind(ApiError(error.status, error.code, error.message, details), call)


def _html_for_every_browser(error: ApiError, call: Call) -> Response:
    """MSG-02 broken: one error renderer for every endpoint, so a browser's Accept gets HTML from the API too."""
    if prefers_html(call.request.headers.get("accept", "")):
        return error_page(error.status, error.code, error.message)
    return answer_in_kind(error, call)


def _page_200(status: int, code: str, message: str) -> Response:
    """MSG-02 broken: the HTML error page is served with status 200, as a page that rendered fine."""
    return error_page(200, code, message)


async def _health_refuses_auth(request: Request) -> Response:
    """REG-01 broken: the public health route refuses requests carrying authentication headers."""
    if "x-yzw-signature" in request.headers:
        return ApiError(400, "UNEXPECTED_AUTHENTICATION", "the health endpoint is public").response()
    return await health(request)


def _conflict_before_schema(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """MSG-04 broken: the idempotency lookup runs before the schema, so a known number gets 409 for any body."""
    number = document.get("application_no") if isinstance(document, dict) else None
    if isinstance(number, str):
        first_answer(system, system.application(number), document)
    return findings


def _codes_before_conflict(system: ReferenceSystem, known: dict[str, Any] | None, document: Any) -> Response | None:
    """MSG-04 broken: the code checks run before the idempotency lookup, so a changed body with a bad code is 422."""
    if known is not None and known["body"] != document:
        codes = [f for f in validate("application", document) if f.requirement.startswith("CODE-")]
        if codes:
            raise ApiError(422, "APPLICANT_INVALID", f"the application fails a code check: {codes[0].reason}")
    return first_answer(system, known, document)


def _at_least_one_material(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """MSG-03 broken: the schema says minItems 1 on materials, so an empty list is refused."""
    if isinstance(document, dict) and document.get("materials") == []:
        return [*findings, Finding("/materials", "materials", "expected at least one item", "MSG-03")]
    return findings


def _no_empty_texts(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """MSG-03 broken: every string member gets minLength 1, so an applicant without a phone is refused."""
    empty: list[Finding] = []

    def walk(value: Any, path: str) -> None:
        if value == "":
            empty.append(Finding(path, path.rsplit("/", 1)[-1], "must not be empty", "MSG-03"))
        elif isinstance(value, dict):
            for key, member in value.items():
                walk(member, f"{path}/{key}")
        elif isinstance(value, list):
            for index, member in enumerate(value):
                walk(member, f"{path}/{index}")

    walk(document, "")
    return findings + empty


# CODE-01, CODE-07, CODE-08, CODE-09 at the window and in what the system issues
def _window_form(refused: Callable[[dict[str, Any]], str | None]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The clerk's form refuses what `refused` names (a drop-down or a field pattern narrower than the norm)."""

    def entry(params: dict[str, Any]) -> dict[str, Any]:
        applicant = params.get("applicant")
        reason = refused(applicant) if isinstance(applicant, dict) else None
        if reason is not None:
            raise ApiError(422, "PARAMS_INVALID", reason)
        return params

    return entry


def _certificate_not_offered(applicant: dict[str, Any]) -> str | None:
    """The window's certificate list offers 居民身份证 and 护照 only."""
    id_type = applicant.get("id_type")
    return None if id_type in (None, "111", "414") else f"certificate type {id_type} is not offered"


def _kind_not_offered(applicant: dict[str, Any]) -> str | None:
    """The window's legal-person list offers 企业法人 and 行政机关 only."""
    kind = applicant.get("kind")
    return None if kind in (None, "2", "6") else f"legal-person kind {kind} is not offered"


def _id_digits_only(applicant: dict[str, Any]) -> str | None:
    """The ID number field takes 18 digits (a numeric column): a check character X is refused."""
    number = str(applicant.get("id_number", ""))
    return None if applicant.get("id_type") != "111" or number.isdigit() else f"{number} is not 18 digits"


def _version_padded_right(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07 broken: the version is padded on the right ("100"), not the left ("001"); the check still fits."""
    return compose.license_id(entry["license_type"], system.registration.dept_uscc, case_no, 100)


def _issuer_is_type_body(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07 broken: the issuer part is the USCC of the body that defines the type, not the issuing department."""
    return compose.license_id(entry["license_type"], str(entry["license_type"])[:18], case_no, 1)


def _type_of_department(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07 broken: the type code is the department's own USCC and 001, not the item's license_type."""
    dept = system.registration.dept_uscc
    return compose.license_id(dept + "001", dept, case_no, 1)


def _acceptance_year_only(day0: dt.date, days: int) -> dt.datetime:
    """CODE-08 broken: only the acceptance year's holiday table is loaded; later days count Monday to Friday."""
    calendar = default_calendar()
    day = day0
    while days:
        day += dt.timedelta(days=1)
        working = calendar.is_working_day(day) if day.year == day0.year else day.weekday() < 5
        days -= working
    return dt.datetime.combine(day, dt.time(23, 59, 59, tzinfo=CN_TZ))


# CAT-02 / CAT-03 deepened (gaps-cat)
async def _refetched_first(system: ReferenceSystem, notice: Mapping[str, Any]) -> None:
    """CAT-03 broken: the notice is answered only after the item has been fetched again."""
    await item(system, str(notice["item_code"]), refresh=True)


async def _updates_only(system: ReferenceSystem, notice: Mapping[str, Any]) -> None:
    """CAT-03 broken: only `updated` notices make the system fetch the item again; a retirement goes unseen."""
    if notice.get("change") == "updated":
        await _refetched_first(system, notice)


def _shown_whatever_status(system: ReferenceSystem, entry: Mapping[str, Any]) -> bool:
    """CAT-02 broken: the guide shows any item of the department, a retired one as it was."""
    return bool(entry["dept"]["uscc"] == system.registration.dept_uscc)


async def _active_case_item(system: ReferenceSystem, item_code: str) -> dict[str, Any] | None:
    """CAT-03 broken: the clerk's desk looks the item up as intake does, so a retired item is no item."""
    entry = await item(system, item_code)
    return entry if active_for_department(system, entry) else None


def _first_version(system: ReferenceSystem, application: Mapping[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """CAT-03 broken: the desk decides on the first version of the item it saw, whatever the catalogue says now."""
    known = [v for (code, v) in system.item_versions if code == current["item_code"]]
    return system.item_versions.get((current["item_code"], min(known)), current) if known else current


async def _guide_refuses_signed(request: Request) -> Response:
    """CAT-02 broken: the public guide refuses requests carrying the platform's signature headers."""
    if "x-yzw-signature" in request.headers:
        return ApiError(401, "SIGNATURE_INVALID", "the item guide is public: send no signature").response()
    return await guide_page(request)


# ACC-04 deepened (gaps-cat)
def _weekend_day0_moved(day0: dt.date, days: int) -> dt.datetime:
    """ACC-04 broken: an acceptance on a day off counts from the next working day, as if that were day 0."""
    calendar = default_calendar()
    while not calendar.is_working_day(day0):
        day0 += dt.timedelta(days=1)
    return promised_due_at(day0, days)


def _instant_as_one_day(day0: dt.date, days: int) -> dt.datetime:
    """ACC-04 broken: a 即办件 (promised_days 0) is given until the next working day."""
    return promised_due_at(day0, max(days, 1))


def _calendar_always_read(day0: dt.date, days: int) -> dt.datetime:
    """ACC-04 broken: the acceptance day is looked up in the calendar first, even for a 即办件 that needs none."""
    default_calendar().is_working_day(day0)
    return promised_due_at(day0, days)


def _weekends_beyond_calendar(day0: dt.date, days: int) -> dt.datetime:
    """ACC-04 broken: a year the calendar lacks is counted Monday to Friday instead of refused."""
    try:
        return promised_due_at(day0, days)
    except CalendarYearMissing:
        return _weekdays_only(day0, days)


def _calendar_gap_500(exc: CalendarYearMissing) -> ApiError:
    """ACC-04 broken: the missing year escapes as an internal error."""
    return ApiError(500, "INTERNAL_ERROR", "the due time could not be computed")


def _calendar_gap_unnamed(exc: CalendarYearMissing) -> ApiError:
    """ACC-04 broken: the refusal says a calendar is missing but not which year."""
    return ApiError(422, "CALENDAR_YEAR_MISSING", "working-day calendar error: the due time cannot be computed")


# APP-04 deepened (gaps-cat)
def _repeat_as_text(system: ReferenceSystem, known: dict[str, Any] | None, document: Any) -> Response | None:
    """APP-04 broken: a repeat is compared as serialised text, so the same value with other key order is 409."""
    if known is not None and json.dumps(known["body"], ensure_ascii=False) != json.dumps(document, ensure_ascii=False):
        raise ApiError(409, "APPLICATION_CONFLICT", "this application_no was received with another body")
    return first_answer(system, known, document)


def _repeat_checked_again(system: ReferenceSystem, known: dict[str, Any] | None, document: Any) -> Response | None:
    """APP-04 broken: an identical repeat goes through every check again (its first answer comes only at storing),
    so a repeat whose item was retired since gets 422 ITEM_UNKNOWN."""
    if known is not None and known["body"] == document:
        return None
    return first_answer(system, known, document)


def _item_before_conflict(system: ReferenceSystem, known: dict[str, Any] | None, document: Any) -> Response | None:
    """APP-04 broken: the item is checked (against the held catalogue copy) before the idempotency lookup, so
    another body under a known number for an item retired since gets 422 ITEM_UNKNOWN, not 409."""
    changed = known is not None and known["body"] != document
    if changed and not active_for_department(system, system.items.get(document["item_code"])):
        raise ApiError(422, "ITEM_UNKNOWN", "not an active item of this department")
    return first_answer(system, known, document)


# ACC-01 deepened (gaps-cat)
async def _unknown_as_state(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """ACC-01 broken: an application the system never received has no state, so any action on it is 409."""
    number = str(request.get("application_no") or "")
    plain = request.get("action") not in ("window_apply", "evaluate", "rectify")
    if number and plain and system.application(number) is None:
        raise ApiError(409, "STATE_INVALID", f"{request.get('action')} is not possible in no state")
    return await carry_out(system, request)


async def _params_first(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """ACC-01 broken: the params are validated before the state, so a refusal without a reason is 422 even on a
    decided application."""
    params = request.get("params") or {}
    if request.get("action") == "refuse" and not str(params.get("reason", "")).strip():
        raise ApiError(422, "PARAMS_INVALID", "params.reason is required")
    return await carry_out(system, request)


async def _params_required(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """ACC-01 broken: the driver reads request["params"], so an action without params is refused."""
    if not isinstance(request.get("params"), dict):
        raise ApiError(422, "PARAMS_INVALID", "params is required")
    return await carry_out(system, request)


def _answer_of_new_event_id(event: dict[str, Any]) -> dict[str, Any]:
    """ACC-01 broken: the decision desk's answer (accept, refuse, request_supplement) makes up an event_id of its
    own instead of naming the queued event."""
    answer = event_answer(event)
    return {**answer, "event_id": str(uuid.uuid4())} if event["step"] in ("SL", "BYSL", "BZ") else answer


def _accept_again(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """ACC-01 broken: a decided application can be accepted again (a double click gives a second SL)."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | {"SL"} if last_step == "SL" else allowed


# ROB-01 deepened (gaps-cat)
async def _outage_as_unknown(system: ReferenceSystem, item_code: str) -> dict[str, Any] | None:
    """ROB-01 broken: an item the catalogue could not give is taken as unknown (422 ITEM_UNKNOWN), not as an outage."""
    try:
        return await item(system, item_code)
    except ApiError:
        return None


def _own_lookup(caught: tuple[type[BaseException], ...]) -> Callable[[ReferenceSystem, str], Awaitable[Any]]:
    """ROB-01 broken: intake's own catalogue call handles the catalogue's statuses and the errors `caught`, and no
    other: what else goes wrong on the way escapes as 500."""

    async def lookup(system: ReferenceSystem, item_code: str) -> dict[str, Any] | None:
        cached = system.items.get(item_code)
        if cached is not None:
            return cached
        try:
            answer = await system.client.request("GET", f"{system.province_url}/catalog/v1/items/{item_code}")
        except caught:
            raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the province catalogue cannot be reached") from None
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise ApiError(503, "DEPENDENCY_UNAVAILABLE", f"the province catalogue answered {answer.status_code}")
        entry: dict[str, Any] = answer.json()
        system.items[item_code] = entry
        system.etags[item_code] = answer.headers.get("ETag", "")
        system.item_versions[(item_code, int(entry["version"]))] = entry
        return entry

    return lookup


# ROB-02 deepened (gaps-cat)
def _reason_trimmed(params: dict[str, Any]) -> dict[str, Any]:
    """ROB-02 broken: the clerk's refusal reason is trimmed before it is stored and pushed."""
    reason = str(params.get("reason", "")).strip()
    if not reason:
        raise ApiError(422, "PARAMS_INVALID", "refuse needs params.reason")
    return {"reason": reason}


def _suspension_escaped(step: str, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """ROB-02 broken: the texts of GQ and CH are HTML-escaped before they are stored ("to be safe")."""
    payload = step_payload(step, found, params)
    return {k: html.escape(v) if isinstance(v, str) else v for k, v in payload.items()}


def _window_fields_escaped(params: dict[str, Any]) -> dict[str, Any]:
    """ROB-02 broken: the desk's form widgets HTML-escape what the clerk types (form values, addresses, material
    names) before it is stored; the applicant's name, typed in a widget of its own, is kept."""

    def escaped(value: Any) -> Any:
        return html.escape(value) if isinstance(value, str) else value

    entry = {**params, "form": {k: escaped(v) for k, v in (params.get("form") or {}).items()}}
    for member in ("applicant", "delivery"):
        if isinstance(params.get(member), dict) and "address" in params[member]:
            entry[member] = {**params[member], "address": escaped(params[member]["address"])}
    entry["materials"] = [
        {**m, "name": escaped(m.get("name"))} if isinstance(m, dict) else m for m in params.get("materials") or []
    ]
    return entry


def _ticket_refused_as_json(request: Request, status: int, code: str, message: str) -> Response:
    """SSO-03 broken: the hand-off was written as an API: a ticket the IdP refused is answered with the JSON
    error body, even to a browser that asked for a page."""
    return error_response(status, code, message)


async def _signed_calls_sessionless(
    system: ReferenceSystem, request: Request, item_code: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """SIG-02 broken: a request carrying signature headers is taken for a machine call, so its session cookie is
    not read: a signed call to the apply entry is answered 401 instead of served all the same."""
    if "x-yzw-signature" in request.headers:
        return None, None
    return await session_first(system, request, item_code)


_FIRST_LEVELS: dict[str, int] = {}  # item_code: the required_auth_level the apply entry first saw


def _first_level_kept(user: dict[str, Any], entry: dict[str, Any]) -> bool:
    """SSO-05 broken: the apply entry remembers each item's required_auth_level the first time it looks, and
    never again: a new version that raises or lowers it is not followed."""
    needed = _FIRST_LEVELS.setdefault(str(entry["item_code"]), int(entry["required_auth_level"]))
    return int(user["auth_level"]) >= needed


def _rectification_action_escaped(params: dict[str, Any]) -> str:
    """ROB-02 broken: the clerk's rectification action is HTML-escaped before it is stored and pushed."""
    return html.escape(clerks_action(params))


def _other_applications_dropped(system: ReferenceSystem, application: dict[str, Any]) -> dict[str, Any]:
    """ROB-02 broken: the window's search index is updated by SQL built from the entry's text, so a text like
    `'; DROP TABLE` (read as a statement) empties the applications held, all but the one being taken."""
    if "DROP TABLE" in json.dumps(application, ensure_ascii=False).upper():
        system.store.execute("DELETE FROM applications WHERE application_no <> ?", application["application_no"])
    return announce(system, application)


def _session_name_trimmed(user: dict[str, Any]) -> dict[str, Any]:
    """ROB-02 broken: the session shows the person's name trimmed and with its markup stripped."""
    return {**user, "name": re.sub(r"<[^>]*>", "", str(user.get("name", ""))).strip()}


# APP-01 deepened (gaps-cat)
def _refusing(path: str, reason: str, wrong: Callable[[dict[str, Any]], bool]) -> Callable[..., list[Finding]]:
    """APP-01 broken: the system's own request model refuses a valid application that `wrong` picks out."""

    def check(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
        if isinstance(document, dict) and wrong(document):
            return [*findings, Finding(path, path.strip("/"), reason, "APP-02")]
        return findings

    return check


def _without_address(document: dict[str, Any]) -> bool:
    delivery = document.get("delivery")
    return isinstance(delivery, dict) and "address" not in delivery


def _web_or_window(document: dict[str, Any]) -> bool:
    return document.get("channel") in ("app", "terminal")


def _with_agent(document: dict[str, Any]) -> bool:
    return "agent" in document


# ROB-01 deepened: every dependency, every way of failing (depth-rob)
def _token_taken_as_given(response: httpx.Response, token: Token) -> None:
    """ROB-01 broken: the IdP's answer is read as a token without a look at it: a 200 that is not SIG-03's token
    answer (a gateway's `{"code":0,"msg":"success"}`) raises a KeyError, answered 500."""
    response.raise_for_status()
    data = response.json()
    token.value, token.expires_at = data["access_token"], time.time() + int(data["expires_in"])
    token.requests += 1


def _item_taken_as_given(answer: httpx.Response) -> dict[str, Any] | None:
    """ROB-01 broken: the catalogue's 200 is taken for an item whatever it holds; a body that is not an item is
    then an inactive item of no department (404 ITEM_UNKNOWN, or a KeyError when intake reads its fields)."""
    try:
        entry = answer.json()
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


async def _status_field_read(system: ReferenceSystem, license_id: str, holder: str) -> str:
    """ROB-01 broken: the verification's outages are handled, but a 200 is read as LIC-02's answer without a
    look at it: one without a `status` (a gateway's envelope) is a license that is not valid, so a BZ goes out."""
    try:
        answer = await system.client.request(
            "POST",
            system.province_url + "/license/v1/licenses/verify",
            json={"license_id": license_id, "holder_id": holder},
        )
    except (httpx.HTTPError, OSError):
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the license library cannot be reached") from None
    if answer.status_code != 200:
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", f"the license library answered {answer.status_code}")
    try:
        body = answer.json()
    except ValueError:
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the license library answered no JSON") from None
    return str(body.get("status") or "not_found") if isinstance(body, dict) else "not_found"


async def _any_2xx_issued(system: ReferenceSystem, license_: dict[str, Any]) -> None:
    """ROB-01 broken: any 2xx of the library is taken as the license issued, whatever it says: a gateway's 200
    envelope gets a BJ listing a license the library never issued."""
    try:
        answer = await system.client.request("POST", system.province_url + "/license/v1/licenses", json=license_)
    except (httpx.HTTPError, OSError):
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the license library cannot be reached") from None
    if answer.status_code >= 500:
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", f"the license library answered {answer.status_code}")
    if not answer.is_success:
        raise ApiError(409, "LICENSE_REFUSED", "the license library refused the e-license; no BJ was pushed")


def _keys_outage_as_bad_signature(request: Request) -> Response:
    """ROB-01 broken: keys the IdP cannot give are read as a record no key verifies: the login is refused as a
    bad signature (401), not answered 503."""
    return browser_error(request, 401, "SIGNATURE_INVALID", "the identity record's signature cannot be verified")


# MSG-02 deepened (depth-rob)
def _conflict_from_the_database(
    system: ReferenceSystem, known: dict[str, Any] | None, document: Any
) -> Response | None:
    """MSG-02 broken: another body under a known number is left to the database's unique key, and its message is
    the 409's: `UNIQUE constraint failed: applications.application_no`."""
    if known is not None and known["body"] != document:
        raise ApiError(409, "APPLICATION_CONFLICT", "UNIQUE constraint failed: applications.application_no")
    return first_answer(system, known, document)


def _signature_explained(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-02 broken: a debugging aid left in: a wrong signature is answered with the one expected and the key it
    was computed with."""
    try:
        check_signature(pipeline, call, route)
    except ApiError as error:
        if error.code != "SIGNATURE_INVALID":
            raise
        app_id = call.request.headers.get("x-yzw-app-id", "")
        key = pipeline.keys(call, route)(app_id) or ""
        raise ApiError(401, "SIGNATURE_INVALID", f"signature mismatch for {app_id}: HMAC-SM3 key {key!r}") from None


# MSG-03 deepened (depth-rob)
MATERIAL_MEMBER = re.compile(r"/materials/\d+/(file|license_id)")
CODE_MEMBERS = ("/division_code", "/applicant/id_type", "/applicant/kind", "/applicant/legal_rep/id_type")


def _material_kinds_unmodelled(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """MSG-03 broken: the request model has file and license_id as optional members of every material (the rule
    that a kind requires its member was not modelled), so a file material without its file is taken."""
    return [f for f in findings if not MATERIAL_MEMBER.fullmatch(f.path)]


def _codes_coerced(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """MSG-03 broken: a lenient JSON binder coerces numbers into the string code members (111 → "111"), so a code
    sent as a JSON number is taken instead of refused."""
    coerced = set()
    for path in {f.path for f in findings if f.path in CODE_MEMBERS and "not of type" in f.reason}:
        parent, member = document, path.strip("/").split("/")
        for step in member[:-1]:
            parent = parent[step]
        if isinstance(parent[member[-1]], int | float) and not isinstance(parent[member[-1]], bool):
            parent[member[-1]] = str(parent[member[-1]])  # a number, not a null (JSON null stays null)
            coerced.add(path)
    return [f for f in findings if f.path not in coerced]


# SIG-01 deepened (depth-rob)
async def _plain_get(system: ReferenceSystem, url: str) -> httpx.Response:
    """SIG-01 broken: the IdP's keys look public, so they are fetched with a plain HTTP client: unsigned, no token."""
    async with httpx.AsyncClient(timeout=system.parts.platform_timeout, verify=trusted()) as plain:
        return await plain.get(url)


# SSO-04 deepened (depth-rob)
PERSON_SESSION = ("user_id", "user_type", "name", "id_type", "id_number", "auth_level")


def _person_session(user: dict[str, Any]) -> dict[str, Any]:
    """SSO-04 broken: the session's answer is a DTO modelled on natural persons: a legal person's uscc is lost
    (and its id_type and id_number answered null)."""
    return {member: user.get(member) for member in PERSON_SESSION}


# APP-02 … APP-05 and CODE-01 … CODE-06 deepened (depth-app)
Codes = dict[str, list[Finding]]


def _applicants(document: Any) -> list[dict[str, Any]]:
    """The applicant and its legal representative, as far as the document has them."""
    applicant = document.get("applicant") if isinstance(document, dict) else None
    if not isinstance(applicant, dict):
        return []
    rep = applicant.get("legal_rep")
    return [applicant, *([rep] if isinstance(rep, dict) else [])]


def _applicant_refused(refused: Callable[[dict[str, Any], dict[str, Any]], str | None]) -> Callable[..., Codes]:
    """APP-03 broken: intake's own list refuses an applicant (or representative) that `refused` names, 422
    APPLICANT_INVALID in its place in the norm's order (the list is narrower than CODE-09)."""

    def check(document: Any, codes: Codes) -> Codes:
        people = _applicants(document)
        for person in people:
            reason = refused(people[0], person)
            if reason is not None:
                found = Finding("/applicant", "applicant", reason, "CODE-09")
                return {**codes, "APPLICANT_INVALID": [*codes.get("APPLICANT_INVALID", []), found]}
        return codes

    return check


def _certificates_without(*missing: str) -> Callable[[dict[str, Any], dict[str, Any]], str | None]:
    def refused(applicant: dict[str, Any], person: dict[str, Any]) -> str | None:
        id_type = person.get("id_type")
        return f"certificate type {id_type} is not accepted" if id_type in missing else None

    return refused


def _kind_9(applicant: dict[str, Any], person: dict[str, Any]) -> str | None:
    """The legal-person kind column is a digit 2-6 (the table before 其他组织 was added)."""
    return "legal-person kind 9 is not accepted" if person is applicant and person.get("kind") == "9" else None


def _kind_read_on_persons(applicant: dict[str, Any], person: dict[str, Any]) -> str | None:
    """applicant.kind is checked against the legal-person list whoever carries it, a natural person too."""
    kind = person.get("kind")
    if person is applicant and person.get("type") == "person" and kind is not None and kind not in APPLICANT_KINDS:
        return f"applicant kind {kind} is not a legal-person kind"
    return None


def _division_by_prefix(document: Any, codes: Codes) -> Codes:
    """APP-03 broken: division_code is checked by its pattern (33 and four digits), not against the province's list."""
    division = str(document.get("division_code", "")) if isinstance(document, dict) else ""
    if re.fullmatch(r"33\d{4}", division):
        return {code: found for code, found in codes.items() if code != "CODE_INVALID"}
    return codes


def _number_check_digit_only(document: Any, codes: Codes) -> Codes:
    """APP-03 broken: application_no goes through the ID-number routine: 23 digits and MOD 11-2, not its parts."""
    number = str(document.get("application_no", "")) if isinstance(document, dict) else ""
    if re.fullmatch(r"\d{22}[\dX]", number) and mod_11_2_check(number[:22]) == number[22]:
        return {code: found for code, found in codes.items() if code != "APPLICATION_NO_INVALID"}
    return codes


def _terminal_digit_unknown(document: Any, codes: Codes) -> Codes:
    """APP-01 broken: the number pattern knows the channel digits of 2019 (1, 2, 3, 5): a terminal's 4 is refused."""
    number = str(document.get("application_no", "")) if isinstance(document, dict) else ""
    if len(number) == 23 and number[6] == "4":
        found = Finding("/application_no", "application_no", "channel digit 4 is not 1, 2, 3 or 5", "CODE-05")
        return {**codes, "APPLICATION_NO_INVALID": [found]}
    return codes


def _app_numbered_as_web(document: Any, codes: Codes) -> Codes:
    """APP-01 broken: the channel table maps the mobile app to the web digit 1 (the app was once part of the web
    hall), so an app application numbered with its own digit 2 is refused."""
    number = str(document.get("application_no", "")) if isinstance(document, dict) else ""
    if document.get("channel") == "app" and len(number) == 23 and number[6] == "2":
        found = Finding("/application_no", "application_no", "channel app is numbered with digit 1", "CODE-05")
        return {**codes, "APPLICATION_NO_INVALID": [found]}
    return codes


_DAY_PATTERN = re.compile(r"\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])")


def _number_date_by_pattern(document: Any, codes: Codes) -> Codes:
    """APP-03 broken: the number's date part is checked by a pattern (month 01-12, day 01-31), not as a calendar
    day, so 30 February or 31 April passes."""
    number = str(document.get("application_no", "")) if isinstance(document, dict) else ""
    problem = check("application_no", number, channel=document.get("channel"))
    if problem is not None and problem.defect == "date" and _DAY_PATTERN.fullmatch(number[7:15]):
        return {code: found for code, found in codes.items() if code != "APPLICATION_NO_INVALID"}
    return codes


def _divisions_of(year: int) -> frozenset[str]:
    """The Zhejiang division codes of GB/T 2260 as published for `year`."""
    return frozenset(
        d.code
        for d in national_divisions().values()
        if d.code.startswith("33") and (d.first_year or 0) <= year and (d.last_year or year + 1) > year
    )


def _divisions_table_2018(document: Any, codes: Codes) -> Codes:
    """APP-03 broken: intake's division table is GB/T 2260 as of 2018, never updated: 临平区 330113, 钱塘区 330114
    (2021) and 龙港市 330383 (2019) are refused, 下城区 330103 and 江干区 330104 (abolished 2021) taken, in
    division_code and in the number's division part alike."""
    if not isinstance(document, dict):
        return codes
    table, codes = _divisions_of(2018), dict(codes)
    division, number = str(document.get("division_code", "")), str(document.get("application_no", ""))
    if division in table:
        codes.pop("CODE_INVALID", None)
    elif "CODE_INVALID" not in codes:
        codes["CODE_INVALID"] = [
            Finding("/division_code", "division_code", f"{division} is not in the table", "CODE-03")
        ]
    problem = check("application_no", number, channel=document.get("channel"))
    if problem is not None and problem.defect == "division" and number[:6] in table:
        codes.pop("APPLICATION_NO_INVALID", None)
    elif problem is None and number[:6] not in table:
        found = Finding("/application_no", "application_no", f"division {number[:6]} is not in the table", "CODE-05")
        codes["APPLICATION_NO_INVALID"] = [found]
    return codes


def _legal_kind_1_taken(document: Any, codes: Codes) -> Codes:
    """APP-03 broken: `kind` is checked against the whole 申请人类型 table (1 自然人 included), not the
    legal-person kinds, so a legal applicant of kind 1 is taken."""
    applicant = document.get("applicant") if isinstance(document, dict) else None
    if isinstance(applicant, dict) and applicant.get("type") == "legal" and applicant.get("kind") == "1":
        kept = [f for f in codes.get("APPLICANT_INVALID", []) if f.path != "/applicant/kind"]
        return {code: found for code, found in {**codes, "APPLICANT_INVALID": kept}.items() if found}
    return codes


def _number_dated_before_today(document: Any, codes: Codes) -> Codes:
    """APP-03 broken: the number's date must be before today (`date < today`), so a number issued today is
    refused."""
    number = str(document.get("application_no", "")) if isinstance(document, dict) else ""
    if len(number) == 23 and number[7:15] == f"{today_cn():%Y%m%d}":
        found = Finding("/application_no", "application_no", "the date part is not before today", "CODE-05")
        return {**codes, "APPLICATION_NO_INVALID": [*codes.get("APPLICATION_NO_INVALID", []), found]}
    return codes


def _legal_kind_other_than(*known: str) -> Callable[[dict[str, Any], dict[str, Any]], str | None]:
    def refused(applicant: dict[str, Any], person: dict[str, Any]) -> str | None:
        kind = person.get("kind")
        legal = person is applicant and person.get("type") == "legal"
        return f"legal-person kind {kind} is not accepted" if legal and kind not in (None, *known) else None

    return refused


def _of_type(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda document: isinstance(document.get("applicant"), dict) and document["applicant"].get("type") == kind


async def _retired_as_active(system: ReferenceSystem, item_code: str) -> dict[str, Any] | None:
    """APP-03 broken: intake checks that the item is the department's, not that it is still active."""
    entry = await item(system, item_code)
    return None if entry is None else {**entry, "status": "active"}


def _items_where(keep: Callable[[dict[str, Any]], bool]) -> Callable[[ReferenceSystem, str], Awaitable[Any]]:
    """CODE-04 broken: the system loaded only the catalogue items `keep` picks; others are unknown to intake."""

    async def lookup(system: ReferenceSystem, item_code: str) -> dict[str, Any] | None:
        entry = await item(system, item_code)
        return entry if entry is None or keep(entry) else None

    return lookup


def _schema_dropping(path: str, wrong: Callable[[dict[str, Any]], bool]) -> Callable[..., list[Finding]]:
    """APP-02 broken: the vendor's request model lets through what `wrong` picks out (the schema's finding at
    `path` is dropped)."""

    def check(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
        if isinstance(document, dict) and wrong(document):
            return [f for f in findings if not f.path.startswith(path)]
        return findings

    return check


def _version_as_text(document: dict[str, Any]) -> bool:
    """pydantic's lax mode: "1" is coerced to the integer 1."""
    version = document.get("item_version")
    return isinstance(version, str) and version.isdigit()


def _post_without_address(document: dict[str, Any]) -> bool:
    delivery = document.get("delivery")
    return isinstance(delivery, dict) and delivery.get("method") == "post"


def _any_material(document: dict[str, Any]) -> bool:
    """file and license_id are both optional members of one material model, whatever the kind."""
    return isinstance(document.get("materials"), list)


def _codes_before_schema(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """APP-02 broken: the code checks are field validators of the request model and run first, so an application
    with a bad code and a schema error is answered 422 for the code."""
    if findings:
        for found in validate("application", document):
            code = next((c for prefix, c in intake.CODE_ANSWERS if found.path.startswith(prefix)), None)
            if code is not None and found.requirement.startswith("CODE-"):
                raise ApiError(422, code, f"the application fails a code check: {found.reason}")
    return findings


def _refusals_logged(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """APP-02 broken: every number intake sees goes into an intake log with a unique key, refused ones too, so a
    corrected application under a refused number is answered 409 APPLICATION_CONFLICT."""
    number = document.get("application_no") if isinstance(document, dict) else None
    if not isinstance(number, str):
        return findings
    key = f"refused:{number}"
    if findings:
        system.next_counter(key)
    elif system.store.one("SELECT value FROM counters WHERE key = ?", key) is not None:
        raise ApiError(409, "APPLICATION_CONFLICT", "this application_no was received with another body (APP-04)")
    return findings


def _repeat_stored_anew(system: ReferenceSystem, known: dict[str, Any] | None, document: Any) -> Response | None:
    """APP-04 broken: an identical repeat is answered its first 202 but stored again (INSERT OR REPLACE), so the
    application starts over: what happened to it since (its acceptance, its case_no) is lost."""
    answer = first_answer(system, known, document)
    if known is not None:
        system.store.execute(
            "UPDATE applications SET last_step = NULL, case_no = NULL, updated_at = received_at, suspended_at = NULL "
            "WHERE application_no = ?",
            known["application_no"],
        )
    return answer


_HOLDER_STATUS: dict[tuple[int, str], str] = {}  # license-cached-per-holder's cache, by system and holder


async def _cached_per_holder(system: ReferenceSystem, license_id: str, holder: str) -> str:
    """APP-05 broken: verification results are cached by holder_id alone, so an applicant's second license is
    taken with the first one's result, never verified."""
    key = (id(system), holder)
    if key not in _HOLDER_STATUS:
        _HOLDER_STATUS[key] = await verify_license(system, license_id, holder)
    return _HOLDER_STATUS[key]


def _window_id(rule: Callable[[str], bool], reason: str) -> Callable[[dict[str, Any]], str | None]:
    """The window's ID number field refuses a type 111 number `rule` picks out."""

    def refused(applicant: dict[str, Any]) -> str | None:
        number = str(applicant.get("id_number", ""))
        return f"{number}: {reason}" if applicant.get("id_type") == "111" and rule(number) else None

    return refused


def _window_uscc(rule: Callable[[str], bool], reason: str) -> Callable[[dict[str, Any]], str | None]:
    """The window's credit-code field refuses a USCC `rule` picks out."""

    def refused(applicant: dict[str, Any]) -> str | None:
        uscc = applicant.get("uscc")
        return f"{uscc}: {reason}" if isinstance(uscc, str) and rule(uscc) else None

    return refused


def _check_31_kept(uscc: str) -> bool:
    """C18 = 31 - (S mod 31) without folding 31 to 0: a code whose S mod 31 is 0 (check character 0) fails."""
    return len(uscc) == 18 and all(c in USCC_ALPHABET for c in uscc) and uscc_check(uscc[:17]) == "0"


def _division_part_checked(uscc: str) -> bool:
    """Positions 3-8 must be a GB/T 2260 division code, as stdnum.cn.uscc demands."""
    return uscc[2:8] not in national_divisions()


def _org_code_digits_only(uscc: str) -> bool:
    """The organisation code part (positions 9-17) is read as 8 digits and a check digit or X."""
    return re.fullmatch(r"\d{8}[\dX]", uscc[8:17]) is None


def _org_code_check_fails(uscc: str) -> bool:
    """The embedded organisation code (positions 9-17) must pass GB 11714's own check."""
    body, check_char = uscc[8:16], uscc[16:17]
    if not re.fullmatch(r"[0-9A-Z]{8}", body) or not check_char:
        return True
    total = sum((int(c, 36)) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    expected = 11 - total % 11
    return check_char != {10: "X", 11: "0"}.get(expected, str(expected))


def _sb_with_case_no(system: ReferenceSystem, application: dict[str, Any]) -> dict[str, Any]:
    """CODE-06 broken: the window prints the 受理编号 on the counter's receipt, so it is assigned when the clerk
    takes the application and the SB carries it, before any acceptance."""
    event = record_event(
        system, application["application_no"], "SB", application, case_no=issue_case_no(system), handler=CLERK
    )
    return event_answer(event)


# ACC-01, ACC-05, ACC-06, EVT-01, EVT-02, EVT-07 deepened (depth-flow)
async def _refusal_answered_with_register_no(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """ACC-06 broken: the refusal desk draws a number from the case register for its answer (a 登记号 of the
    department's register), so the driver's answer to refuse names a case_no although the BYSL carries none."""
    answer = await carry_out(system, request)
    return {**answer, "case_no": issue_case_no(system)} if request.get("action") == "refuse" else answer


def _refuse_again(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """ACC-06 broken: a refusal can be issued again to correct its reason, pushing a second BYSL."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | {"BYSL"} if last_step == "BYSL" else allowed


def _supplements_waiting_for_documents_only(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """ACC-05 broken: an application waiting for supplements can only get them or be refused; the applicant's
    withdrawal is taken only before the notice or after the supplements came (409 after BZ)."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed - {"CH"} if last_step == "BZ" else allowed


async def _supplement_only_at_intake_check(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """ACC-01 broken: supplements are asked for only by accept's completeness check; the clerk's own
    request_supplement is answered 409 STATE_INVALID whatever the application's state."""
    if request.get("action") == "request_supplement" and system.application(str(request.get("application_no"))):
        raise ApiError(409, "STATE_INVALID", "supplements are asked for by accept's completeness check")
    return await carry_out(system, request)


async def _supplements_trusted(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]
) -> list[dict[str, str]]:
    """ACC-05 broken: once supplements came (BZJ) the application is taken as complete: accept pushes SL without
    checking again what is still missing."""
    return [] if found["last_step"] == "BZJ" else await missing_materials(system, found, entry)


def _case_step_answer(event: dict[str, Any]) -> dict[str, Any]:
    """EVT-01 broken: the case-handling actions (advance, suspend, resume, complete, deliver, withdraw) answer from
    the case file, built before the event is queued: the step, but neither its seq nor its event_id."""
    answer = event_answer(event)
    if event["step"] in ("SB", "BZ", "BYSL", "SL"):
        return answer
    return {k: v for k, v in answer.items() if k not in ("seq", "event_id")}


def _sb_for_every_application(system: ReferenceSystem, document: Any) -> None:
    """EVT-02 broken: every application received is announced with an SB (申报), online ones too, as if the system
    had taken it at its own window."""
    record_event(system, str(document["application_no"]), "SB", document)


def _rebuilt(body: str) -> str:
    """EVT-07 broken: a retry rebuilds the event from the case file: a new event_id each attempt."""
    return json.dumps({**json.loads(body), "event_id": str(uuid.uuid4())}, ensure_ascii=False)


async def _answered_after_delivery(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """EVT-07 broken: the driver answers only once the exchange took the event (or refused it), so a clerk's
    action hangs while the exchange fails: delivery is synchronous with the action."""
    answer = await carry_out(system, request)
    event_id, deadline = str(answer.get("event_id") or ""), time.monotonic() + 60
    while event_id and time.monotonic() < deadline:
        row = system.store.one(
            "SELECT o.state, (SELECT COUNT(*) FROM outbox p WHERE p.application_no = o.application_no AND "
            "p.state = 'refused') FROM outbox o WHERE instr(o.body, ?) > 0",
            event_id,
        )
        if row is None or row[0] != "pending" or row[1]:
            break
        await asyncio.sleep(0.05)
    return answer


_BATCH_PAUSE: dict[int, tuple[int, float]] = {}  # per system: failed batches in a row, when the next may go


async def _everything_in_one_batch(system: ReferenceSystem) -> int:
    """EVT-01 broken: the outbox sends the next event of every application in one events:batch push, however many
    applications wait, backing off as a whole after a failed batch: after an outage of the exchange the backlog
    goes up in one batch of more than 500 events."""
    failures, next_batch = _BATCH_PAUSE.get(id(system), (0, 0.0))
    now = time.time()
    heads = system.store.rows(
        "SELECT o.id, o.body, o.attempts, o.path, o.next_try FROM outbox o WHERE o.state = 'pending' AND o.id = "
        "(SELECT MIN(id) FROM outbox p WHERE p.application_no = o.application_no AND p.state != 'delivered') "
        "ORDER BY o.id"
    )
    batch = [row for row in heads if row["path"] == EVENTS]
    delivered = 0
    if batch and now >= next_batch:
        try:
            answer = await system.client.request(
                "POST",
                system.parts.event_exchange(system) + EVENTS + ":batch",
                json={"events": [json.loads(row["body"]) for row in batch]},
            )
            status = answer.status_code
            results = answer.json().get("results") if 200 <= status < 300 and answer.content else None
        except (httpx.HTTPError, OSError, ValueError):
            status, results = 0, None
        failed = status == 0 or status >= 500  # the exchange could not answer: the whole outbox backs off
        _BATCH_PAUSE[id(system)] = (failures + 1, now + system.parts.backoff(failures)) if failed else (0, 0.0)
        for index, row in enumerate(batch):
            result = results[index] if isinstance(results, list) and index < len(results) else {}
            one = int(result.get("status", status)) if isinstance(result, dict) else status
            delivered += settle(system, row, one, json.dumps(result, ensure_ascii=False)[:300])
    for row in heads:  # evaluations and rectifications go one by one, each with its own back-off
        if row["path"] != EVENTS and row["next_try"] <= now:
            delivered += settle(system, row, *await send(system, row["path"], row["body"]))
    return delivered


# depth: APP, CAT, LIC, SUP, EVAL, ROB (appetc)
def _schema_refusing(path: str, reason: str, wrong: Callable[[dict[str, Any]], bool]) -> Callable[..., list[Finding]]:
    """APP-01 broken: the vendor's request model is narrower than the schema: it refuses what `wrong` picks out
    (a finding at `path`, so 400 SCHEMA_INVALID for a valid application)."""

    def check(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
        if isinstance(document, dict) and wrong(document):
            return [*findings, Finding(path, path.rsplit("/", 1)[-1], reason, "APP-01")]
        return findings

    return check


# SIG-01, SIG-03 in the system's own calls (depth-sigsso)
CanonicalRule = Callable[[str, str, str | bytes, str, str, bytes], str]
MacRule = Callable[[str, str], str]


def _vendor_signer(
    canonical: CanonicalRule = canonical_string,
    mac: MacRule = signature,
    stamp: Callable[[], str] = lambda: str(int(time.time())),
    unsigned: Callable[[str], bool] = lambda path: False,
    key: Callable[[ReferenceSystem, str], str] = lambda system, secret: secret,
    app_id: Callable[[ReferenceSystem, str], str] = lambda system, own: own,
) -> Callable[[ReferenceSystem], SignHeaders]:
    """The system's own signing (SIG-01) as a vendor wrote it: its canonical string, its MAC, its timestamp,
    its key and app id, and the paths it forgot to sign."""

    def signer_of(system: ReferenceSystem) -> SignHeaders:
        def sign(
            own_app_id: str,
            secret: str,
            method: str,
            path: str,
            raw_query: str | bytes = "",
            body: bytes = b"",
            *,
            timestamp: int | None = None,
            nonce: str | None = None,
        ) -> dict[str, str]:
            if unsigned(path):
                return {}
            when, nonce = stamp(), nonce or new_nonce()
            return {
                HEADER_APP_ID: app_id(system, own_app_id),
                HEADER_TIMESTAMP: when,
                HEADER_NONCE: nonce,
                HEADER_SIGNATURE: mac(key(system, secret), canonical(method, path, raw_query, when, nonce, body)),
            }

        return sign

    return signer_of


def _lines(method: str, path: str, query: str, stamp: str, nonce: str, body_hash: str) -> str:
    return "\n".join((method, path, query, stamp, nonce, body_hash))


def _hmac_sha256(secret: str, message: str) -> str:
    """SIG-01 broken: HMAC-SHA256, as most cloud APIs sign, not HMAC-SM3."""
    return std_hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _utf16_keyed(secret: str, message: str) -> str:
    """SIG-01 broken: the key is the secret's UTF-16LE bytes (C#'s Encoding.Unicode.GetBytes), not its UTF-8."""
    mac = crypto_hmac.HMAC(secret.encode("utf-16-le"), hashes.SM3())
    mac.update(message.encode())
    return mac.finalize().hex()


def _lowercase_method(method: str, path: str, raw_query: str | bytes, stamp: str, nonce: str, body: bytes) -> str:
    """SIG-01 broken: the method as the HTTP library names it internally, lower case."""
    return _lines(method.lower(), path, canonical_query(raw_query), stamp, nonce, sm3_hex(body))


def _path_within_service(method: str, path: str, raw_query: str | bytes, stamp: str, nonce: str, body: bytes) -> str:
    """SIG-01 broken: the path relative to the service's base URL (`/events`), as the route table names it,
    not the path sent (`/exchange/v1/events`)."""
    relative = "/" + path.split("/v1/", 1)[-1]  # also behind a gateway's prefix (`/gw/zj/idp/v1/…`)
    return _lines(method.upper(), relative, canonical_query(raw_query), stamp, nonce, sm3_hex(body))


def _path_after_base_url(system: ReferenceSystem) -> SignHeaders:
    """SIG-01 broken: the SDK joins the configured base URL and the API path, and signs the API path
    (`/idp/v1/oauth/token`, as a Feign interceptor signs `template.path()`), not the path sent behind the
    gateway (`/gw/zj/idp/v1/oauth/token`)."""
    bases = sorted(
        {urlsplit(url).path.rstrip("/") for url in (system.province_url, system.exchange_url)} - {""},
        key=len,
        reverse=True,
    )

    def api_path(method: str, path: str, raw_query: str | bytes, stamp: str, nonce: str, body: bytes) -> str:
        base = next((b for b in bases if path.startswith(b + "/")), "")
        return canonical_string(method, path[len(base) :], raw_query, stamp, nonce, body)

    return _vendor_signer(canonical=api_path)(system)


def _query_line_dropped(method: str, path: str, raw_query: str | bytes, stamp: str, nonce: str, body: bytes) -> str:
    """SIG-01 broken: a request without a query leaves the CANONICAL_QUERY line out (five lines, not six)."""
    query = canonical_query(raw_query)
    lines = (method.upper(), path, *((query,) if query else ()), stamp, nonce, sm3_hex(body))
    return "\n".join(lines)


def _nonce_before_timestamp(method: str, path: str, raw_query: str | bytes, stamp: str, nonce: str, body: bytes) -> str:
    """SIG-01 broken: nonce and timestamp swapped in the canonical string (the headers' alphabetical order)."""
    return _lines(method.upper(), path, canonical_query(raw_query), nonce, stamp, sm3_hex(body))


def _body_serialized_again(method: str, path: str, raw_query: str | bytes, stamp: str, nonce: str, body: bytes) -> str:
    """SIG-01 broken: the body hash is over the document serialized once more (compact), not the bytes sent."""
    if body:
        with suppress(ValueError):
            body = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
    return _lines(method.upper(), path, canonical_query(raw_query), stamp, nonce, sm3_hex(body))


def _no_body_no_hash(method: str, path: str, raw_query: str | bytes, stamp: str, nonce: str, body: bytes) -> str:
    """SIG-01 broken: a request without a body leaves the hash line empty instead of the SM3 of nothing."""
    return _lines(method.upper(), path, canonical_query(raw_query), stamp, nonce, sm3_hex(body) if body else "")


def _trailing_newline(method: str, path: str, raw_query: str | bytes, stamp: str, nonce: str, body: bytes) -> str:
    """SIG-01 broken: every line, the last too, ends with a newline."""
    return canonical_string(method, path, raw_query, stamp, nonce, body) + "\n"


def _under(*prefixes: str) -> Callable[[str], bool]:
    return lambda path: any(prefix in path for prefix in prefixes)  # behind a gateway path too (/gw/zj/idp/…)


def _token_request(grant_type: str = "client_credentials", *, as_json: bool = False, bearer: bool = False) -> Any:
    """SIG-03's token request as a vendor wrote it: its grant type, a JSON body, a stale bearer on it."""

    def form(credentials: Credentials, token: Token) -> tuple[bytes, dict[str, str]]:
        fields = {"grant_type": grant_type, "scope": credentials.scope}
        if as_json:
            body, headers = json.dumps(fields).encode(), {"Content-Type": "application/json"}
        else:
            body, headers = urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        if bearer and token.value:
            headers["Authorization"] = f"Bearer {token.value}"
        return body, headers

    return form


# SIG-01 CANONICAL_QUERY on the receiving side (depth-sigsso)
def _split_on_semicolons_too(raw_query: str | bytes) -> str:
    """SIG-01 broken: pairs split on `;` as well as `&` (the old HTML form rule of parse_qsl before 3.9.2)."""
    raw = raw_query.decode("latin-1") if isinstance(raw_query, bytes) else raw_query
    pairs = [pair for part in raw.split(";") for pair in query_pairs(part.encode("latin-1"))]
    return _encoded(sorted(pairs))


def _empty_pairs_kept(raw_query: str | bytes) -> str:
    """SIG-01 broken: `a=1&&b=2` keeps its empty pair, as the name `` with an empty value (`=`)."""
    raw = raw_query.encode("latin-1") if isinstance(raw_query, str) else raw_query
    pairs = query_pairs(raw) + [("", "")] * sum(1 for segment in raw.split(b"&") if raw and not segment)
    return _encoded(sorted(pairs))


def _decoded_pairs(raw: bytes, decode: Callable[[bytes], str]) -> list[tuple[str, str]]:
    """The raw query's non-empty `name=value` pairs, each part decoded by a vendor's rule."""
    pairs = []
    for segment in raw.split(b"&"):
        if segment:
            name, _, value = segment.partition(b"=")
            pairs.append((decode(name), decode(value)))
    return pairs


def _plus_kept(raw_query: str | bytes) -> str:
    """SIG-01 broken: names and values decoded by URI rules (`unquote`), so `+` stays a plus, not a space."""
    raw = raw_query.encode("latin-1") if isinstance(raw_query, str) else raw_query
    return _encoded(sorted(_decoded_pairs(raw, lambda part: unquote_to_bytes(part).decode("utf-8", "replace"))))


def _read_as_latin1(raw_query: str | bytes) -> str:
    """SIG-01 broken: decoded bytes read as ISO-8859-1 (a servlet container's default), not UTF-8."""
    raw = raw_query.encode("latin-1") if isinstance(raw_query, str) else raw_query
    return _encoded(
        sorted(_decoded_pairs(raw, lambda part: unquote_to_bytes(part.replace(b"+", b" ")).decode("latin-1")))
    )


def _bad_escapes_kept_raw(raw_query: str | bytes) -> str:
    """SIG-01 broken: a value whose escapes do not decode is taken raw into the canonical query (`%zz`, not
    `%25zz`)."""
    raw = raw_query.encode("latin-1") if isinstance(raw_query, str) else raw_query
    parts = []
    for segment in sorted(filter(None, raw.split(b"&"))):
        encoded = []
        for piece in segment.partition(b"=")[::2]:
            text = piece.decode("latin-1")
            bad = re.search(r"%(?![0-9A-Fa-f]{2})", text)
            encoded.append(text if bad else quote(unquote_to_bytes(piece.replace(b"+", b" ")), safe=UNRESERVED))
        parts.append(tuple(encoded))
    return "&".join(f"{name}={value}" for name, value in sorted(parts))


def _bad_bytes_dropped(raw_query: str | bytes) -> str:
    """SIG-01 broken: bytes that are not UTF-8 are dropped (errors="ignore"), not read as U+FFFD."""
    raw = raw_query.encode("latin-1") if isinstance(raw_query, str) else raw_query
    return _encoded(sorted(_decoded_pairs(raw, _utf8_ignoring_bad_bytes)))


def _utf8_ignoring_bad_bytes(part: bytes) -> str:
    return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8", "ignore")


def _pairs_as_sent(raw_query: str | bytes) -> str:
    """SIG-01 broken: the pairs are re-encoded in the order they came, never sorted."""
    return _encoded(query_pairs(raw_query))


def _spaces_as_plus(raw_query: str | bytes) -> str:
    """SIG-01 broken: re-encoded with form rules (`quote_plus`), so a space becomes `+`, not `%20`."""
    return "&".join(
        f"{quote_plus(n, safe=UNRESERVED)}={quote_plus(v, safe=UNRESERVED)}" for n, v in sorted(query_pairs(raw_query))
    )


def _scopes_without(scope: str) -> str:
    """SIG-05 broken: the token asks for the scopes of the modules the vendor wired first, one of them missing."""
    return " ".join(name for name in SCOPES.split() if name != scope)


def _own_secret_as_fallback(pipeline: Pipeline, call: Call, route: Route) -> None:
    """SIG-02 broken: the system was first tested with its own secret; the fallback stayed, so a platform request
    whose signature fails with the platform_secret is tried again with the system's own app_secret."""
    try:
        check_signature(pipeline, call, route)
    except ApiError as refusal:
        if route.signer != "platform" or refusal.code != "SIGNATURE_INVALID":
            raise
        system: ReferenceSystem = call.request.app.state.system
        secrets_ = {system.platform_app_id: system.registration.app_secret}
        own = replace(pipeline, keys=lambda call, route: secrets_.get)
        verify_signature(own, call, route, call.request.scope["query_string"])


def _signature_filter_at(path: str) -> Callable[[Request], Awaitable[Response | None]]:
    """SIG-02 broken: the authentication filter covers /yzw/v1/* but for a list of exceptions, and this public path
    was left off the list: without the four headers it is refused 401 SIGNATURE_MISSING."""
    pattern = re.compile(path)

    async def gate(request: Request) -> Response | None:
        if pattern.fullmatch(request.url.path) and not all(request.headers.get(name) for name in SIGNATURE_HEADERS):
            return error_response(401, "SIGNATURE_MISSING", "missing signature header(s) (SIG-01)")
        return None

    return gate


# SSO-02: how the identity record is verified (depth-sigsso)
KeyChoice = Callable[[dict[str, str], dict[str, Any]], str | None]


def _by_kid(keys: dict[str, str], record: dict[str, Any]) -> str | None:
    return keys.get(record.get("kid", ""))


def _sm2_verified(
    data_of: Callable[[dict[str, Any], str], bytes] = signed_bytes,
    key_of: KeyChoice = _by_kid,
    uid_of: Callable[[dict[str, Any]], bytes] = lambda user: DEFAULT_UID,
    der: bool = False,
) -> Callable[[dict[str, str], dict[str, Any]], bool]:
    """SSO-02 as a vendor verified it: the bytes, the key, the SM2 user id and the signature's form it chose."""

    def check(keys: dict[str, str], record: dict[str, Any]) -> bool:
        key = key_of(keys, record)
        if key is None:
            return False
        try:
            signature_ = bytes.fromhex(str(record["signature"]))
            if der:
                r_int, s_int = decode_dss_signature(signature_)
                r, s_ = r_int.to_bytes(32, "big"), s_int.to_bytes(32, "big")
            else:
                r, s_ = signature_[:32], signature_[32:]
            verifier = gmalg.SM2(pk=bytes.fromhex(key), uid=uid_of(record["user"]))
            return bool(verifier.verify(data_of(record["user"], str(record["issued_at"])), r, s_))
        except (ValueError, gmalg.errors.GMError):
            return False

    return check


def _applicant_is(kind: str, lacks: str) -> Callable[[dict[str, Any]], bool]:
    """An applicant of type `kind` without the member `lacks`."""

    def wrong(document: dict[str, Any]) -> bool:
        applicant = document.get("applicant")
        return isinstance(applicant, dict) and applicant.get("type") == kind and lacks not in applicant

    return wrong


def _repeat_answered_200(system: ReferenceSystem, known: dict[str, Any] | None, document: Any) -> Response | None:
    """APP-04 broken: an identical repeat is answered with the first answer, but 200 ("already have it")."""
    answer = first_answer(system, known, document)
    if answer is not None and answer.status_code == 202:
        answer.status_code = 200
    return answer


def _window_number_left_out(system: ReferenceSystem, application: dict[str, Any]) -> dict[str, Any]:
    """APP-06 broken: window_apply answers with the SB it queued, but leaves out the number it issued (the clerk
    reads it on the printed receipt)."""
    answer = announce(system, application)
    return {k: v for k, v in answer.items() if k != "application_no"}


def _received_at_utc(answer: dict[str, Any]) -> dict[str, Any]:
    """APP-01 broken: received_at is written in UTC (the server's zone), with Z."""
    at = dt.datetime.fromisoformat(str(answer["received_at"])).astimezone(dt.UTC)
    return {**answer, "received_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _unknown_as_not_found(system: ReferenceSystem, number: str) -> Response:
    """APP-07 broken: an unknown number falls through to the framework's 404, code NOT_FOUND."""
    if system.application(number) is None:
        return ApiError(404, "NOT_FOUND", "Not Found").response()
    return intake.status(system, number)


def _due_from_legal_days(
    case_no: str, found: dict[str, Any], entry: dict[str, Any], due: dt.datetime
) -> dict[str, Any]:
    """CAT-01 broken: the due time is counted in the item's legal_days (法定时限), not its promised_days; the SL
    names both days as the catalogue has them."""
    extra = int(entry["legal_days"]) - int(entry["promised_days"])
    try:
        later = promised_due_at(due.date(), extra) if extra > 0 else due
    except CalendarYearMissing:
        later = due  # the vendor's calendar table ends there
    return sl_payload(case_no, found, entry, later)


async def _guide_signed_only(request: Request) -> Response:
    """CAT-02 broken: the item guide sits behind the signed API gateway: an unsigned request is refused 401."""
    if "x-yzw-signature" not in request.headers:
        return ApiError(401, "SIGNATURE_INVALID", "sign the request").response()
    return await guide_page(request)


async def _unknown_item_not_found(request: Request) -> Response:
    """CAT-02 broken: an item the catalogue does not know falls through to the framework's 404 NOT_FOUND; only a
    retired one is ITEM_UNKNOWN."""
    system = request.app.state.system
    try:
        entry = await item(system, request.path_params["item_code"])
    except ApiError:
        entry = {}
    if entry is None:
        return browser_error(request, 404, "NOT_FOUND", "Not Found", None)
    return await guide_page(request)


def _guide_changed(**changes: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """CAT-02 broken: the guide's page template fills a member its own way (`changes`: member -> its value)."""
    return lambda entry: {**entry, **{member: change(entry) for member, change in changes.items()}}


def _license_changed(
    **changes: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], Any],
) -> Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], dict[str, Any]]:
    """LIC-01 broken: one member of the e-license filled the vendor's way (`changes`: member -> its value from the
    clean license, the item's entry and the case)."""

    def document(license_: dict[str, Any], entry: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
        return {**license_, **{member: change(license_, entry, found) for member, change in changes.items()}}

    return document


def _presented_license_type(license_: dict[str, Any], entry: dict[str, Any], found: dict[str, Any]) -> Any:
    """The license_type of the license the item asks the applicant for, taken for the one it results in."""
    return next((m["license_type"] for m in entry.get("materials", []) if m.get("license_type")), entry["license_type"])


def _natural_person(applicant: dict[str, Any]) -> dict[str, Any]:
    """LIC-01 broken: a person holds the license as a "natural_person" (自然人), the vendor's own word."""
    owner = license_owner(applicant)
    return {**owner, "type": "natural_person"} if owner["type"] == "person" else owner


async def _refusal_queued_for_retry(system: ReferenceSystem, license_: dict[str, Any]) -> None:
    """LIC-01 broken: a license the library refuses is put on a retry list and the case completed all the same."""
    with suppress(ApiError):
        await issue_license(system, license_)


def _answered_202(answer: Callable[[ReferenceSystem, dict[str, Any]], Response]) -> Callable[..., Response]:
    def notice(system: ReferenceSystem, document: dict[str, Any]) -> Response:
        response = answer(system, document)
        if response.status_code == 200:
            response.status_code = 202
        return response

    return notice


def _repeat_notice_conflict(system: ReferenceSystem, notice: dict[str, Any]) -> Response:
    """SUP-02 broken: a notice_id already received is refused 409 (a unique key violation passed on)."""
    if system.store.one("SELECT notice_id FROM notices WHERE notice_id = ?", notice["notice_id"]) is not None:
        raise ApiError(409, "NOTICE_DUPLICATE", "this notice was received before")
    return supervision_notice(system, notice)


def _unknown_case_422(system: ReferenceSystem, notice: dict[str, Any]) -> Response:
    """SUP-02 broken: an unknown case_no is answered as the exchange answers it, 422 CASE_UNKNOWN."""
    try:
        return supervision_notice(system, notice)
    except ApiError as exc:
        if exc.status == 404:
            raise ApiError(422, exc.code, exc.message) from None
        raise


def _fk_drafted(system: ReferenceSystem, number: str, payload: dict[str, Any]) -> None:
    """SUP-02 broken: the FK is a draft the clerk in charge must sign off; none goes out before that."""


def _evaluation_id_serial(evaluation_id: Any) -> str:
    return "PJ" + dt.datetime.now(CN_TZ).strftime("%Y%m%d%H%M%S%f")


def _zone_added_twice(evaluated_at: Any) -> str:
    """The server's clock already runs in +08:00 and 8 hours are added again to "convert" it."""
    return (dt.datetime.fromisoformat(str(evaluated_at)) + dt.timedelta(hours=8)).isoformat()


def _rectification_changed(
    **changes: Callable[[Any], Any],
) -> Callable[[ReferenceSystem, dict[str, Any]], Awaitable[None]]:
    """EVAL-02 broken: the rectification record, one member written the vendor's way, then queued as usual."""

    async def push(system: ReferenceSystem, record: dict[str, Any]) -> None:
        changed = {**record, **{member: change(record[member]) for member, change in changes.items()}}
        await send_rectification(system, changed)

    return push


def _date_only(rectified_at: Any) -> str:
    """The rectification form has a date picker: the time is the day's start."""
    return f"{str(rectified_at)[:10]}T00:00:00+08:00"


def _rectified_when_closed(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> None:
    """EVAL-02 broken: a review can be rectified only once its case is completed (回访 after 办结)."""
    one_per_bad_review(system, case_no, params)
    row = system.store.one("SELECT last_step FROM applications WHERE case_no = ?", case_no)
    if row is None or row[0] not in ("BJ", "SD"):
        raise ApiError(409, "STATE_INVALID", "the case is not completed yet")


def _name_changed(change: Callable[[str], str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """ROB-02 broken: the window's form changes the applicant's name before it is stored."""

    def entry(params: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(params.get("applicant"), dict):
            return params
        name = str(params["applicant"].get("name", ""))
        return {**params, "applicant": {**params["applicant"], "name": change(name)}}

    return entry


# REG-01, CODE-04 … CODE-08 clauses without a fault (msgcode)
async def _health_status_up(request: Request) -> Response:
    """REG-01 broken: the health answer says status "UP", as the framework's actuator writes it, not "ok"."""
    return JSONResponse({"status": "UP", "norm": request.app.state.system.parts.health_norm})


async def _health_behind_signature(request: Request) -> Response:
    """REG-01 broken: the signature filter guards every route, the health route too, so an unsigned GET gets 401."""
    if "x-yzw-signature" not in request.headers:
        return ApiError(401, "SIGNATURE_MISSING", "the request carries no signature").response()
    return await health(request)


async def _health_on_management_port(request: Request) -> Response:
    """REG-01 broken: health is served only by the management server (another port), not at the base_url."""
    return ApiError(404, "NOT_FOUND", "no route GET /yzw/v1/health").response()


def _window_item_code(rebuilt: Callable[[str], str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """CODE-04 broken: the window's item picker writes the item_code from the vendor's own item table (`rebuilt`
    from the catalogue's), and the window application keeps it, in its events too; online ones keep the platform's."""

    def entry(params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "item_code": rebuilt(str(params["item_code"]))} if "item_code" in params else params

    return entry


def _cjk_spaces_dropped(name: str) -> str:
    """A Chinese name is normalised: the spaces between Chinese characters go (张 三 → 张三)."""
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", name)


def _emoji_dropped(name: str) -> str:
    """A utf8 (3-byte) MySQL column: characters outside the BMP are dropped."""
    return "".join(c for c in name if ord(c) <= 0xFFFF)


def _quotes_slashed(name: str) -> str:
    """PHP's addslashes before the INSERT, never undone."""
    return name.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"')


def _sql_words_filtered(name: str) -> str:
    """An anti-injection filter drops SQL keywords and comment marks from every text."""
    return re.sub(r"(?i)\b(drop|table|select|insert|delete|update)\b|--", "", name)


def _item_type_plus_ten(item_code: str) -> str:
    """CODE-04 broken: the item type is written in the vendor's own numbering, the national type plus ten."""
    return item_code[:19] + f"{int(item_code[19:21]) + 10:02d}" + item_code[21:]


def _implementer_organisation_code(item_code: str) -> str:
    """CODE-04 broken: positions 1-18 are the department's organisation code (9 characters) padded with zeros."""
    return "000000000" + item_code[8:17] + item_code[18:]


def _window_number_dashed(division: str, digit: str, day: dt.date, dept_seq: str, daily: int) -> str:
    """CODE-05 broken: the number is written as printed on the receipt, its parts joined by dashes."""
    number = compose.system_application_no(division, digit, day, dept_seq, daily)
    return "-".join((number[:6], number[6], number[7:15], number[15:22], number[22]))


def _window_number_day_first(division: str, digit: str, day: dt.date, dept_seq: str, daily: int) -> str:
    """CODE-05 broken: the date part is written DDMMYYYY (the clerk's locale), not YYYYMMDD."""
    body = f"{division}{digit}{day:%d%m%Y}{dept_seq}{daily:04d}"
    return body + mod_11_2_check(body)


def _window_number_without_dept_seq(division: str, digit: str, day: dt.date, dept_seq: str, daily: int) -> str:
    """CODE-05 broken: the serial is a 7-digit daily sequence of its own, without the department's dept_seq."""
    return compose.application_no(division, digit, day, daily)


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # CODE-01's 17 weights


def _window_number_id_weights(division: str, digit: str, day: dt.date, dept_seq: str, daily: int) -> str:
    """CODE-05 broken: the check character comes from the ID number routine: its 17 weights, zipped with the 22
    digits, so only the first 17 count."""
    body = compose.system_application_no(division, digit, day, dept_seq, daily)[:22]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=False)) % 11]


def _window_number_next_day(division: str, digit: str, day: dt.date, dept_seq: str, daily: int) -> str:
    """CODE-05 broken: the number is dated on the day the application will be handled, the next day."""
    return compose.system_application_no(division, digit, day + dt.timedelta(days=1), dept_seq, daily)


def _case_no_of_window(system: ReferenceSystem, params: dict[str, Any]) -> str:
    """CODE-06 broken: positions 7-9 are the acceptance window's number (001), not the registered dept_seq."""
    today = today_cn()
    serial = system.next_counter(f"case:{today.isoformat()}")
    return compose.case_no(system.registration.division_code, "001", today, serial)


def _case_no_day_first(system: ReferenceSystem, params: dict[str, Any]) -> str:
    """CODE-06 broken: the date part is written DDMMYYYY (the clerk's locale), not YYYYMMDD."""
    today = today_cn()
    serial = system.next_counter(f"case:{today.isoformat()}")
    body = f"{system.registration.division_code}{system.registration.dept_seq}{today:%d%m%Y}{serial:06d}"
    return body + mod_11_2_check(body)


def _case_no_of_city(system: ReferenceSystem, params: dict[str, Any]) -> str:
    """CODE-06 broken: case numbers open with the city's division code (the vendor's city-level product)."""
    today = today_cn()
    serial = system.next_counter(f"case:{today.isoformat()}")
    return compose.case_no(system.registration.division_code[:4] + "00", system.registration.dept_seq, today, serial)


def _sl_case_no_of_submission(
    case_no: str, found: dict[str, Any], entry: dict[str, Any], due: dt.datetime
) -> dict[str, Any]:
    """CODE-06 broken: the case_no is dated on the application's submitted_at, not on the day of acceptance."""
    submitted = dt.datetime.fromisoformat(str(found["body"]["submitted_at"])).astimezone(CN_TZ).date()
    body = f"{case_no[:9]}{submitted:%Y%m%d}{case_no[17:23]}"
    return sl_payload(body + mod_11_2_check(body), found, entry, due)


def _license_id_parts(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> list[str]:
    """The clean license_id's parts after the prefix: type code, issuer, serial, version, check."""
    return license_number(system, entry, case_no)[len(LICENSE_PREFIX) :].split(".")


def _license_checked(prefix: str, type_code: str, issuer: str, serial: str, version: str, dot: str = ".") -> str:
    check = mod_37_36_check(type_code + issuer + serial + version)
    return f"{prefix}{type_code}.{issuer}.{serial}.{version}{dot}{check}"


def _license_prefix_short(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07 broken: the prefix lacks its last arc (1.2.156.3005. instead of 1.2.156.3005.2.)."""
    type_code, issuer, serial, version, _ = _license_id_parts(system, entry, case_no)
    return _license_checked("1.2.156.3005.", type_code, issuer, serial, version)


def _license_type_number_unpadded(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07 broken: the type code's number is written as an integer (…W9), not 3 digits (…W009)."""
    type_code, issuer, serial, version, _ = _license_id_parts(system, entry, case_no)
    return _license_checked(LICENSE_PREFIX, type_code[:18] + str(int(type_code[18:])), issuer, serial, version)


def _license_check_undotted(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07 broken: the check character is appended to the version without its dot."""
    type_code, issuer, serial, version, _ = _license_id_parts(system, entry, case_no)
    return _license_checked(LICENSE_PREFIX, type_code, issuer, serial, version, dot="")


def _license_serial_uuid(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07 broken: the serial is a UUID as the database writes it (36 characters, lower case, dashes)."""
    type_code, issuer, _, version, _ = _license_id_parts(system, entry, case_no)
    serial = str(uuid.uuid4())
    check = mod_37_36_check((type_code + issuer + serial + version).upper().replace("-", ""))
    return f"{LICENSE_PREFIX}{type_code}.{issuer}.{serial}.{version}.{check}"


def _license_version_unpadded(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07 broken: the version is written as an integer (1), not 3 digits (001)."""
    type_code, issuer, serial, _, _ = _license_id_parts(system, entry, case_no)
    return _license_checked(LICENSE_PREFIX, type_code, issuer, serial, "1")


def _license_type_template_typo(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07 broken: the type code comes from the vendor's license template, whose defining body's USCC was
    typed with a wrong check character."""
    type_code, issuer, serial, version, _ = _license_id_parts(system, entry, case_no)
    wrong = next(c for c in USCC_ALPHABET if c != type_code[17])
    return _license_checked(LICENSE_PREFIX, type_code[:17] + wrong + type_code[18:], issuer, serial, version)


def _license_issuer_organisation_code(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07 broken: the issuer is the department's organisation code (9 characters) padded with zeros to 18."""
    type_code, issuer, serial, version, _ = _license_id_parts(system, entry, case_no)
    return _license_checked(LICENSE_PREFIX, type_code, "000000000" + issuer[8:17], serial, version)


def _time_with_space(moment: dt.datetime) -> str:
    """CODE-08 broken: times written with str(), a space between date and time instead of T."""
    return str(moment.replace(microsecond=0))


def _time_with_milliseconds(moment: dt.datetime) -> str:
    """CODE-08 broken: times keep milliseconds (isoformat with timespec="milliseconds")."""
    return moment.isoformat(timespec="milliseconds")


def _received_at_with_microseconds(answer: dict[str, Any]) -> dict[str, Any]:
    """CODE-08 broken: the 202's received_at is the database's timestamp, microseconds included."""
    return {**answer, "received_at": dt.datetime.now(CN_TZ).isoformat(timespec="microseconds")}


# MSG-01 … MSG-04 clauses without a fault (msgcode)
def _framework_route_errors(server: str) -> dict[Any, Any]:
    """MSG-02 broken: unknown routes get the web framework's default 404, a text/plain "Not Found"."""

    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("Not Found", status_code=404)

    return exception_handlers(server) | {404: not_found}


def _framework_405_detail(server: str) -> dict[Any, Any]:
    """MSG-02 broken: a known route called with another method gets the framework's {"detail": …} 405."""

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": "Method Not Allowed"}, status_code=405)

    return exception_handlers(server) | {405: not_allowed}


def _route_errors_class_names(server: str) -> dict[Any, Any]:
    """MSG-02 broken: unknown routes and methods are answered with the exception's class name as the code."""

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(404, "NotFound", f"no route {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(405, "MethodNotAllowed", f"{request.method} is not served at {request.url.path}")

    return exception_handlers(server) | {404: not_found, 405: not_allowed}


def _signature_filter_msg(error: ApiError, call: Call) -> Response:
    """MSG-02 broken: the signature filter writes its 401s itself, with msg where the norm says message."""
    if error.status == 401 and call.media != XML:
        return JSONResponse({"code": error.code, "msg": error.message, "details": error.details}, status_code=401)
    return answer_in_kind(error, call)


def _empty_details_omitted(error: ApiError, call: Call) -> Response:
    """MSG-02 broken: the JSON writer leaves out empty members (NON_EMPTY), so an error without details has none."""
    if error.details or call.media == XML or error.status in (413, 415):  # the gateway writes those in full
        return answer_in_kind(error, call)
    return JSONResponse({"code": error.code, "message": error.message}, status_code=error.status)


def _problem_json(error: ApiError, call: Call) -> Response:
    """MSG-01 broken: JSON errors are labelled application/problem+json (an RFC 7807 library), not application/json."""
    answer = answer_in_kind(error, call)
    if answer.media_type == JSON:
        return Response(bytes(answer.body), status_code=answer.status_code, media_type="application/problem+json")
    return answer


def _errors_always_json(error: ApiError, call: Call) -> Response:
    """MSG-01 broken: errors are always written as JSON, to an XML request too."""
    return error.response()


def _xml_errors_without_namespace(error: ApiError, call: Call) -> Response:
    """MSG-01 broken: the schema validator's XML error writer leaves out the norm's namespace."""
    answer = answer_in_kind(error, call)
    if "xml" not in answer.headers.get("content-type", "") or error.code != "SCHEMA_INVALID":
        return answer
    root = ET.fromstring(bytes(answer.body))
    for element in root.iter():
        element.tag = element.tag.split("}")[-1]
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, status_code=answer.status_code, media_type="application/xml")


def _xml_read_as(change: Callable[[dict[str, Any]], None]) -> Step:
    """MSG-01 broken: an XML request's document as the vendor's XML binder reads it (`change`); JSON as it is."""

    def parse(pipeline: Pipeline, call: Call, route: Route) -> None:
        parse_document(pipeline, call, route)
        if call.media == XML and isinstance(call.document, dict):
            change(call.document)

    return parse


def _snake_case_nested_unbound(document: dict[str, Any]) -> None:
    """The binder expects camelCase below the root: a nested object's snake_case members are not bound."""
    for name in ("applicant", "delivery"):
        member = document.get(name)
        if isinstance(member, dict):
            document[name] = {key: value for key, value in member.items() if "_" not in key}


def _materials_of_material_elements(document: dict[str, Any]) -> None:
    """The binder reads the materials from material elements, so the item elements of the norm are not read."""
    if isinstance(document.get("materials"), list):
        document["materials"] = []


def _numbers_as_text(document: dict[str, Any]) -> None:
    """The binder leaves every value as text, item_version too."""
    if "item_version" in document and document["item_version"] is not None:
        document["item_version"] = str(document["item_version"])


def _form_as_text(document: dict[str, Any]) -> None:
    """The binder knows no type for form and reads it as the element's text."""
    form = document.get("form")
    if isinstance(form, dict):
        document["form"] = "".join(str(value) for value in form.values())


def _parsed_before_signature(checks: tuple[Step, ...]) -> tuple[Step, ...]:
    """MSG-04 broken: the body is parsed before the signature is checked (the framework binds it first)."""
    media, signature = checks

    def parse_then_sign(pipeline: Pipeline, call: Call, route: Route) -> None:
        parse_document(pipeline, call, route)
        signature(pipeline, call, route)

    return (media, parse_then_sign)


def _media_never_checked(checks: tuple[Step, ...]) -> tuple[Step, ...]:
    """MSG-04 broken: the content type is never looked at; the body is read as JSON whatever its label."""
    return checks[1:]


def _malformed_as_422(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-04 broken: a body the JSON reader cannot read is answered like the framework's validation errors,
    422 with the reader's complaint."""
    try:
        parse_document(pipeline, call, route)
    except ApiError as error:
        if error.code != "MALFORMED_BODY" or call.media != JSON:
            raise
        raise ApiError(422, "JSON_INVALID", "the body could not be read as JSON") from None


async def _limit_of_the_proxy(request: Request) -> bytes:
    """MSG-04 broken: the only limit is the reverse proxy's client_max_body_size, 100 MiB."""
    return await request.body() if int(request.headers.get("content-length") or 0) <= 100 * 2**20 else b""


async def _media_before_size(request: Request) -> bytes:
    """MSG-04 broken: the framework's content negotiation runs before the body is read, so a body too large and
    of a wrong type gets 415, not 413."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    pipeline: Pipeline = request.app.state.pipeline
    if media not in pipeline.media:
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"content type {media!r} is not taken")
    return await read_body(request)


def _nested_strict(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """MSG-03 broken: the applicant model forbids members it does not know (unknown top-level members pass)."""
    applicant = document.get("applicant") if isinstance(document, dict) else None
    known = {"type", "name", "id_type", "id_number", "phone", "address", "uscc", "kind", "legal_rep", "contact"}
    extra = sorted(set(applicant) - known) if isinstance(applicant, dict) else []
    return findings + [Finding(f"/applicant/{name}", name, "unknown member", "MSG-03") for name in extra]


def _pointed(document: Any, path: str) -> Any:
    for step in path.strip("/").split("/"):
        if isinstance(document, list) and step.isdigit() and int(step) < len(document):
            document = document[int(step)]
        elif isinstance(document, dict) and step in document:
            document = document[step]
        else:
            return None
    return document


def _empty_names_taken(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """MSG-03 broken: the request model says name is a required string but sets no minimum length."""
    return [f for f in findings if not (f.path.endswith("/name") and _pointed(document, f.path) == "")]


def _person_kind_typed(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """MSG-03 broken: one applicant model for persons and legal persons types kind as a string on both."""
    applicant = document.get("applicant") if isinstance(document, dict) else None
    if isinstance(applicant, dict) and applicant.get("type") == "person" and not isinstance(applicant.get("kind"), str):
        return findings + [Finding("/applicant/kind", "kind", "kind is a string", "MSG-03")] * ("kind" in applicant)
    return findings


def _media_compared_whole(checks: tuple[Step, ...]) -> tuple[Step, ...]:
    """MSG-01 broken: the content type is compared as a whole string, so application/json; charset=utf-8 is 415."""
    _, signature = checks

    def media_whole(pipeline: Pipeline, call: Call, route: Route) -> None:
        label = call.request.headers.get("content-type", "").strip().lower()
        if call.has_body and call.body and label not in (route.media or pipeline.media):
            raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"content type {label!r} is not taken")

    return (media_whole, signature)


def _license_reissued(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[..., Awaitable[None]]:
    """CODE-08 broken: the e-license as the vendor's license module writes it (`change`), then issued."""

    async def issue(system: ReferenceSystem, license_: dict[str, Any]) -> None:
        await issue_license(system, change(license_))

    return issue


def _issued_at_with_microseconds(license_: dict[str, Any]) -> dict[str, Any]:
    """The license's issued_at is the database's timestamp, microseconds included."""
    issued = dt.datetime.fromisoformat(str(license_["issued_at"])).replace(microsecond=dt.datetime.now().microsecond)
    return {**license_, "issued_at": issued.isoformat(timespec="microseconds")}


def _valid_from_as_time(license_: dict[str, Any]) -> dict[str, Any]:
    """The license's valid_from is the ORM's datetime column, written as a time, not a date."""
    return {**license_, "valid_from": f"{license_['valid_from']}T00:00:00+08:00"}


def _json_errors_at(where: Callable[[str], bool]) -> Callable[[Request], bool]:
    """MSG-02 broken: the browser-facing endpoint whose path `where` picks was written as an API endpoint, so its
    errors are JSON whatever Accept prefers; the others answer a page."""

    def page_wanted(request: Request) -> bool:
        return not where(request.url.path) and prefers_html(request.headers.get("accept", ""))

    return page_wanted


def _driver_401_oauth(error: ApiError, call: Call) -> Response:
    """MSG-02 broken: the driver's own signature filter answers 401 the OAuth way, {error, error_description}."""
    if error.status == 401 and call.request.url.path.startswith("/_driver"):
        return JSONResponse({"error": error.code, "error_description": error.message}, status_code=401)
    return answer_in_kind(error, call)


def _camel_case(answer: dict[str, Any]) -> dict[str, Any]:
    """MSG-03 broken: the JSON writer's default naming, camelCase (applicationNo, receivedAt)."""
    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key): value for key, value in answer.items()}


def _phone_coerced(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """MSG-03 broken: the binder coerces a scalar into a string member, so a phone sent as a number is taken."""
    applicant = document.get("applicant") if isinstance(document, dict) else None
    if isinstance(applicant, dict) and isinstance(applicant.get("phone"), int | float):
        return [f for f in findings if f.path != "/applicant/phone"]
    return findings


def _electronic_needs_address(document: dict[str, Any]) -> bool:
    """The vendor's model takes electronic delivery for e-mail, so it requires an address there too."""
    delivery = document.get("delivery")
    return isinstance(delivery, dict) and delivery.get("method") == "electronic" and "address" not in delivery


def _holder_name_left_empty(license_: dict[str, Any]) -> dict[str, Any]:
    """The holder is written with its id only; its name is left for the library to fill in from its register."""
    return {**license_, "holder": {**license_["holder"], "name": ""}}


def _issuer_name_left_empty(license_: dict[str, Any]) -> dict[str, Any]:
    """The issuer's name comes from the registration record, which holds no department name."""
    return {**license_, "issuer": {**license_["issuer"], "name": ""}}


def _license_name_left_empty(license_: dict[str, Any]) -> dict[str, Any]:
    """The license's name comes from the vendor's item table, which has no license_name column."""
    return {**license_, "name": ""}


def _wrong_method_not_found(server: str) -> dict[Any, Any]:
    """MSG-02 broken: the router matches method and path together, so a known path called with another method
    is answered 404 NOT_FOUND, not 405."""

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(404, "NOT_FOUND", f"no route {request.method} {request.url.path}")

    return exception_handlers(server) | {405: not_allowed}


def _events_in_xml_with_entity_fields(path: str, body: str) -> tuple[bytes, str]:
    """MSG-01 broken: a system registered for xml pushes its events in the XML form, serialising its own event
    entity, which writes an element the XSD does not declare (the outbox's retry counter) in each event
    (evaluations and rectifications, which have no XML form, stay JSON)."""
    if not path.startswith(EVENTS):
        return body.encode(), JSON
    document = json.loads(body)
    for event in document.get("events", [document]):
        event["retry_count"] = 0
    return to_xml("batch" if path.endswith(":batch") else "event", document), XML


def _terminal_renumbered(system: ReferenceSystem, document: Any) -> bool:
    """CODE-05 broken: the self-service terminals stand in the department's hall, so the system files their
    applications as its own: under a number of its window range (channel digit 3), its events too."""
    if isinstance(document, dict) and document.get("channel") == "terminal":
        document["application_no"] = compose.system_application_no(
            system.registration.division_code, "3", today_cn(), system.registration.dept_seq, next_window_serial(system)
        )
    return True


# APP, LIC, EVAL clauses without a fault (appetc2)
MOBILE = re.compile(r"1\d{10}")


def _person_landline(document: dict[str, Any]) -> bool:
    """The request model takes a person's phone as a mobile number only (11 digits from 1)."""
    applicant = document.get("applicant")
    return (
        isinstance(applicant, dict)
        and applicant.get("type") == "person"
        and not MOBILE.fullmatch(str(applicant.get("phone")))
    )


def _contact_landline(document: dict[str, Any]) -> bool:
    """The request model takes a legal applicant's contact phone as a mobile number only."""
    applicant = document.get("applicant")
    contact = applicant.get("contact") if isinstance(applicant, dict) else None
    return isinstance(contact, dict) and not MOBILE.fullmatch(str(contact.get("phone")))


def _materials(document: dict[str, Any]) -> list[dict[str, Any]]:
    materials = document.get("materials")
    return [m for m in materials if isinstance(m, dict)] if isinstance(materials, list) else []


def _file_over_50_mb(document: dict[str, Any]) -> bool:
    """The upload limit of the vendor's portal (50 MB) applied to the declared size of a file at its url."""
    return any(
        isinstance(m.get("file"), dict) and int(m["file"].get("size") or 0) > 50 * 1024 * 1024
        for m in _materials(document)
    )


def _license_with_file(document: dict[str, Any]) -> bool:
    """The material model is oneOf(file, license_id): a license material carrying its scan as well matches both."""
    return any(m.get("kind") == "license" and "file" in m for m in _materials(document))


def _address_without_postcode(document: dict[str, Any]) -> bool:
    """The EMS form needs a postcode: a post address must end with six digits."""
    delivery = document.get("delivery")
    return (
        isinstance(delivery, dict)
        and delivery.get("method") == "post"
        and not re.search(r"\d{6}$", str(delivery.get("address", "")))
    )


def _terminal_without_agent(document: dict[str, Any]) -> bool:
    """Self-service terminals stand at agent points, so the model requires `agent` on channel terminal too."""
    return document.get("channel") in ("terminal", "agent") and "agent" not in document


def _one_material_as_list(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """APP-02 broken: the request model coerces a single material object into a list of one (a lenient binder),
    so `materials` sent as an object is taken instead of refused 400."""
    if isinstance(document, dict) and isinstance(document.get("materials"), dict):
        document["materials"] = [document["materials"]]
        return [f for f in findings if f.path != "/materials"]
    return findings


def _born_before_1940(applicant: dict[str, Any], person: dict[str, Any]) -> str | None:
    """A plausibility rule of the vendor's own: a resident card born before 1940 is taken for a typing error."""
    number = str(person.get("id_number") or "")
    if person.get("id_type") == "111" and len(number) == 18 and number[6:10].isdigit() and int(number[6:10]) < 1940:
        return "birth year before 1940 is not plausible"
    return None


def _minor(applicant: dict[str, Any], person: dict[str, Any]) -> str | None:
    """An account rule of the vendor's own: the applicant (not a legal representative) must be of age, read from
    the birth date of a resident card, so a holder under 18 is refused."""
    number = str(person.get("id_number") or "")
    if person is not applicant or person.get("id_type") != "111" or len(number) != 18 or not number[6:14].isdigit():
        return None
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    today = today_cn()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return "an applicant under 18 cannot apply in person" if age < 18 else None


def _enterprise_outside_market_registry(applicant: dict[str, Any], person: dict[str, Any]) -> str | None:
    """The vendor looks an enterprise (kind 2) up in the market regulator's registry, which holds only credit codes
    its registering authority (first character 9) issued, and refuses any other as "not an enterprise"."""
    legal = person is applicant and person.get("type") == "legal" and person.get("kind") == "2"
    if legal and not str(person.get("uscc") or "").startswith("9"):
        return "kind 2 (企业法人) with a credit code the market regulator did not issue"
    return None


def _web_for_fully_online_items(document: Any, entry: dict[str, Any]) -> bool:
    """CODE-05 broken: the web hall was taken for the 全程网办 channel, so the web digit 1 is taken only for items
    of online_depth 4; a web application for an item handled online to depth 2 or 3 (submitted online, a visit
    to the window still due) is refused as a number of a channel the item does not offer."""
    number = str(document.get("application_no") or "")
    return not (len(number) > 6 and number[6] == "1" and entry.get("online_depth") != 4)


async def _expired_as_valid(system: ReferenceSystem, license_id: str, holder: str) -> str:
    """LIC-02 broken: an expired license is taken as valid (the desk reads expiry as a reminder for renewal)."""
    state = await verify_license(system, license_id, holder)
    return "valid" if state == "expired" else state


LICENSE_FAILURES = frozenset({"revoked", "expired", "not_found", "holder_mismatch"})


async def _license_bz_as_error(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """LIC-02 broken: an accept that falls back to BZ for a license the library did not verify valid answers
    409 LICENSE_INVALID (the desk shows the clerk an error), though the BZ is pushed all the same."""
    answer = await carry_out(system, request)
    if request.get("action") != "accept" or answer.get("step") != "BZ":
        return answer
    row = system.store.rows(
        "SELECT body FROM outbox WHERE application_no = ? ORDER BY id DESC LIMIT 1", answer["application_no"]
    )
    missing = (json.loads(row[0]["body"]).get("payload") or {}).get("missing", []) if row else []
    statuses = [m.get("reason") for m in missing if m.get("reason") in LICENSE_FAILURES]
    if statuses:
        raise ApiError(409, "LICENSE_INVALID", "a license material is not valid", [{"status": s} for s in statuses])
    return answer


async def _evaluation_case_no_short(system: ReferenceSystem, evaluation: dict[str, Any]) -> None:
    """EVAL-01 broken: the evaluation desk keys cases by the register number without its check character; the
    evaluation is queued behind its case as usual, but the record sent names the case one character short."""
    case_no = str(evaluation["case_no"])
    queue(system, case_no, "/exchange/v1/evaluations", {**evaluation, "case_no": case_no[:-1]})


def _id_number_lower_case(applicant: dict[str, Any]) -> str:
    """APP-05 broken: a person's license is verified for the ID number as the vendor's user table keeps it, lower
    case (the portal's login normalises the check character x), so a holder whose number ends in X is not found."""
    number = applicant.get("id_number")
    return str(number).lower() if number else str(applicant.get("uscc"))


def _sb_outside_the_sequence(system: ReferenceSystem, application: dict[str, Any]) -> dict[str, Any]:
    """APP-06 broken: the window desk's SB is written by the intake module, which keeps no case sequence; the case
    module starts its own at 1, so the SL after a window SB is pushed as seq 1 again."""
    event = record_event(system, application["application_no"], "SB", application, handler=CLERK)
    system.store.execute("UPDATE applications SET last_seq = 0 WHERE application_no = ?", application["application_no"])
    return event_answer(event)


async def _evaluations_with_sso_token(system: ReferenceSystem) -> int:
    """EVAL-01 broken: the evaluation module, added later, pushes with the client of the SSO module, whose token
    is asked with scope idp:ticket only, not exchange:write; events go as usual."""
    delivered_now = 0
    for row in system.parts.ready(system):
        if row["path"] != "/exchange/v1/evaluations":
            status, error = await send(system, row["path"], row["body"])
        else:
            async with _client_of_its_own(system, "idp:ticket", Token()) as client:
                status, error = await send(system, row["path"], row["body"], client)
        delivered_now += settle(system, row, status, error)
    return delivered_now


@asynccontextmanager
async def _client_of_its_own(system: ReferenceSystem, scope: str, token: Token) -> AsyncIterator[AsyncSignedClient]:
    """A module's own signed client for one round, holding `token`; closed after the round (a client kept open
    outlived the system's event loop)."""
    client = AsyncSignedClient(replace(system.client.credentials, scope=scope), timeout=system.parts.platform_timeout)
    client.token = token
    try:
        yield client
    finally:
        await client.aclose()


_PUSHER_TOKENS: dict[int, Token] = {}  # per system: the outbox component's own token, kept between rounds


async def _outbox_with_its_own_token(system: ReferenceSystem) -> int:
    """SIG-05 broken: the outbox is a component of its own, with its own token asked for exchange:write only,
    while the rest of the system holds a token for the other scopes: two tokens, one per scope group."""
    delivered_now = 0
    token = _PUSHER_TOKENS.setdefault(id(system), Token())
    async with _client_of_its_own(system, "exchange:write", token) as client:
        for row in system.parts.ready(system):
            status, error = await send(system, row["path"], row["body"], client)
            delivered_now += settle(system, row, status, error)
        _PUSHER_TOKENS[id(system)] = client.token
    return delivered_now


_LICENSES_USED: dict[int, dict[str, str]] = {}  # per system: license_id -> the application it served


async def _license_used_once(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]
) -> list[dict[str, str]]:
    """LIC-02 broken: 一证一用: a license that served an accepted application is taken as used up and listed
    missing for any later application, though the library verifies it valid."""
    missing = await missing_materials(system, found, entry)
    used = _LICENSES_USED.setdefault(id(system), {})
    number = found["application_no"]
    licenses = [m for m in found["body"]["materials"] if m.get("kind") == "license"]
    missing += [
        {"material_code": m["material_code"], "reason": "used"}
        for m in licenses
        if used.get(m["license_id"], number) != number
    ]
    if not missing:
        used.update({m["license_id"]: number for m in licenses})
    return missing


def _notice_refusal_as_text(error: ApiError, call: Call) -> Response:
    """ROB-01 broken: the supervision notice controller has its own exception handler, which writes the message of
    a notice it refuses for its content (400, 422) as text/plain; the signature filter's refusals and the 404
    CASE_UNKNOWN (the case the vendor tested) stay JSON."""
    if call.request.url.path.endswith("/supervision/notices") and error.status in (400, 422):
        return Response(f"{error.code}: {error.message}", status_code=error.status, media_type="text/plain")
    return answer_in_kind(error, call)


_ARCHIVE_OPENED: set[int] = set()  # the systems whose archive connection is open


def _old_numbers_in_archive(system: ReferenceSystem, number: str) -> Response:
    """ROB-01 broken: a status query for a number the system does not hold and that is not of CODE-05's length (an
    old-format number, the vendor thinks) is looked up in the legacy archive, whose connection is opened on first
    use, synchronously: the first such query blocks for 12 s before its 404."""
    if system.application(number) is None and len(number) != 23 and id(system) not in _ARCHIVE_OPENED:
        _ARCHIVE_OPENED.add(id(system))
        time.sleep(12)
    return intake.status(system, number)


async def _unseen_item_from_the_list(system: ReferenceSystem, item_code: str) -> dict[str, Any] | None:
    """APP-01 broken: an item intake has not seen is looked for in the department's whole catalogue list, page by
    page (2.5 s), before the item itself is fetched: its first application is answered after the 2 s."""
    if item_code not in system.items:
        await asyncio.sleep(2.5)
    return await item(system, item_code)


def _pinned_keys() -> Callable[[dict[str, str], dict[str, Any]], bool]:
    """SSO-02 broken: the IdP's keys are read once, at the first login, and kept: a key the IdP publishes later is
    never known here."""
    pinned: dict[str, str] = {}

    def check(keys: dict[str, str], record: dict[str, Any]) -> bool:
        if not pinned:
            pinned.update({kid: key for kid, key in keys.items() if kid == record.get("kid")})
        return verified(pinned, record)

    return check


def _canonical_with(**options: Any) -> Callable[[dict[str, Any], str], bytes]:
    """SSO-02 broken: the user's JSON written with other options than the canonical ones."""
    settings = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False, **options}
    return lambda user, issued_at: (json.dumps(user, **settings) + issued_at).encode()


def _top_level_sorted(user: dict[str, Any], issued_at: str) -> bytes:
    """SSO-02 broken: the user's keys sorted by hand at the top level only; nested objects keep their order."""
    members = ",".join(
        f"{json.dumps(name, ensure_ascii=False)}:{json.dumps(user[name], separators=(',', ':'), ensure_ascii=False)}"
        for name in sorted(user)
    )
    return ("{" + members + "}" + issued_at).encode()


# SSO-01, SSO-03 … SSO-05, SSO-07 (depth-sigsso)
HAND_OFF = "/yzw/v1/sso"


async def _hand_off_moved(request: Request) -> Response | None:
    """SSO-01 broken: the hand-off is routed at `/yzw/v1/sso/` with a trailing slash; the registered sso_url without
    it answers 404."""
    if request.url.path == HAND_OFF:
        return error_response(404, "NOT_FOUND", "no route")
    return None


async def _validated_with_get(system: ReferenceSystem, ticket: str) -> httpx.Response:
    """SSO-01 broken: the ticket is validated CAS-style, GET /idp/v1/tickets/validate?ticket=…, not POSTed."""
    return await system.client.request(
        "GET", system.province_url + "/idp/v1/tickets/validate", params={"ticket": ticket}
    )


def _validated_as(
    ticket: Callable[[str], str] = lambda t: t,
    app_id: Callable[[ReferenceSystem], str] = lambda system: system.registration.app_id,
) -> Callable[[ReferenceSystem, str], Awaitable[httpx.Response]]:
    """SSO-01 broken: the validate body as a vendor filled it (the ticket, the app_id it names)."""

    async def validate(system: ReferenceSystem, received: str) -> httpx.Response:
        return await system.client.request(
            "POST",
            system.province_url + "/idp/v1/tickets/validate",
            json={"ticket": ticket(received), "app_id": app_id(system)},
        )

    return validate


def _to_portal(system: ReferenceSystem) -> Response:
    return Response(status_code=302, headers={"Location": system.province_url + "/portal/login"})


async def _no_ticket_to_portal(request: Request) -> Response | None:
    """SSO-03 broken: a hand-off without a ticket parameter is sent to the portal's login (302), as a CAS client
    does, instead of 400."""
    if request.url.path == HAND_OFF and "ticket" not in request.query_params:
        return _to_portal(request.app.state.system)
    return None


async def _anonymous_session(request: Request) -> Response | None:
    """SSO-04 broken: without a session, GET /yzw/v1/session answers 200 with an anonymous guest."""
    system: ReferenceSystem = request.app.state.system
    if request.url.path == "/yzw/v1/session" and session_user(system, request) is None:
        return JSONResponse({"user_id": "", "user_type": "anonymous", "name": "游客", "auth_level": 0})
    return None


async def _apply_without_session_to_portal(request: Request) -> Response | None:
    """SSO-05 broken: the apply entry sends a person without a session to the portal's login (302) instead of 401."""
    system: ReferenceSystem = request.app.state.system
    if request.url.path.endswith("/apply") and session_user(system, request) is None:
        return _to_portal(system)
    return None


def _meta_refresh_page(sid: str) -> Response:
    """SSO-07 broken: the login answers 200 with a page that moves on by a meta refresh, not 302/303."""
    return HTMLResponse('<!doctype html><meta http-equiv="refresh" content="0; url=/"><title>OK</title>')


def _session_of_person(system: ReferenceSystem, request: Request, sid: str, user: dict[str, Any]) -> str:
    """SSO-07 broken: the session id is derived from the person (a hash of the user_id, one session row per person),
    so every login of one person sets the same cookie value."""
    return hashlib.sha256(f"yzw-session:{user['user_id']}".encode()).hexdigest()


def _own_session_kept(system: ReferenceSystem, request: Request, sid: str, user: dict[str, Any]) -> str:
    """SSO-07 broken: a person who signs on again while the browser still holds their own live session keeps that
    session ("already signed in": the row is refreshed, no new id); anyone else gets a fresh one."""
    held = request.cookies.get(system.parts.session_cookie_name, "")
    row = system.store.one("SELECT user_id FROM sessions WHERE sid = ?", held) if held else None
    return held if row and row[0] == user["user_id"] else sid


def _denial_reason_defaulted(params: dict[str, Any]) -> dict[str, Any]:
    """EVT-05 broken: complete checks the result only; a denial without a reason goes on with an empty one (the form's
    reason field is optional), so its BJ says denied with reason ""."""
    if str(params.get("result", "approved")) not in ("approved", "denied"):
        raise ApiError(422, "PARAMS_INVALID", "params.result is approved or denied")
    return {**params, "reason": str(params.get("reason") or "")}


def _submission_floor_on_acceptance_only(application: dict[str, Any], last_time: str | None, step: str) -> str | None:
    """EVT-04 broken: the fix for a platform clock ahead of the system's went into the acceptance code only: an SL is
    never dated before submitted_at, every other step only never before the previous event, so a first decision
    other than acceptance (BZ, BYSL, CH) takes the system's clock and precedes submitted_at."""
    return not_before_submission(application, last_time, step) if step == "SL" else last_time


# --- depth: ACC-01 … ACC-06 (issue 13, part 3) ---


def _answer_internal_case_no(event: dict[str, Any]) -> dict[str, Any]:
    """ACC-02 broken: the driver's accept answer names the case from the desk's file record, the case number
    without its check character, while the SL carries the full CODE-06 number."""
    answer = event_answer(event)
    return {**answer, "case_no": answer["case_no"][:-1]} if answer.get("case_no") else answer


def _due_at_office_close(day0: dt.date, days: int) -> dt.datetime:
    """ACC-04 broken: the promise ends when the office closes (17:30) on the due day, not at its end."""
    return promised_due_at(day0, days).replace(hour=17, minute=30, second=0)


def _day0_counted(day0: dt.date, days: int) -> dt.datetime:
    """ACC-04 broken: the acceptance day counts as the first of the promised days when it is a working day, so
    the promise ends one working day early."""
    if days and default_calendar().is_working_day(day0):
        return promised_due_at(day0, days - 1)
    return promised_due_at(day0, days)


def _holiday_table_only(day0: dt.date, days: int) -> dt.datetime:
    """ACC-04 broken: only the calendar's listed days off are skipped; Saturdays and Sundays count as working
    days (the holiday table read as the whole truth)."""
    if days == 0:
        return promised_due_at(day0, 0)
    calendar, day, left = default_calendar(), day0, days
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and not calendar.is_working_day(day):
            continue
        left -= 1
    return dt.datetime.combine(day, dt.time(23, 59, 59, tzinfo=CN_TZ))


def _calendar_date_checked_only(params: dict[str, Any]) -> dt.date:
    """ACC-04 broken: params.calendar_date is checked to be a date but the count starts today all the same."""
    if "calendar_date" in params:
        dt.date.fromisoformat(params["calendar_date"])
    return today_cn()


async def _licenses_after_files(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]
) -> list[dict[str, str]]:
    """ACC-05 broken: the licenses are verified only once the files are complete, so an application lacking
    files and holding a revoked license gets two notices: the files first, the license in a second BZ."""
    missing = await missing_materials(system, found, entry)
    files = {m["material_code"] for m in entry["materials"] if m["required"]}
    given = {m["material_code"] for m in found["body"]["materials"]}
    absent_files = [m for m in missing if m["material_code"] in files - given]
    return absent_files or missing


def _absent_file(missing: dict[str, str]) -> bool:
    """A material listed as absent (ACC-05's `absent` reason), not a license whose status is not valid."""
    return missing["reason"].startswith("缺少")


async def _licenses_only(system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]) -> list[Any]:
    return [m for m in await missing_materials(system, found, entry) if not _absent_file(m)]


async def _accept_with_deficiencies(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """ACC-05 broken (容缺受理): accept takes an application lacking files at once, pushing SL; the applicant is
    told by text message what to bring later, so no BZ is pushed and nothing waits for supplements (a license
    that is not valid still stops it)."""
    if request["action"] != "accept":
        return await carry_out(system, request)
    parts = system.parts
    system.parts = replace(parts, missing_of=_licenses_only)
    try:
        return await carry_out(system, request)
    finally:
        system.parts = parts


async def _notice_answered_as_error(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """ACC-05 broken: accept on an application lacking files pushes the BZ but answers it as a failed acceptance,
    422 MATERIALS_INCOMPLETE, as the clerk's screen shows the completeness check (a license that is not valid
    comes from another check, answered as the norm says)."""
    answer = await carry_out(system, request)
    if request["action"] == "accept" and answer.get("step") == "BZ" and any(map(_absent_file, _listed(system, answer))):
        raise ApiError(422, "MATERIALS_INCOMPLETE", "the application lacks materials; a notice was sent (BZ)")
    return answer


def _listed(system: ReferenceSystem, answer: dict[str, Any]) -> list[dict[str, str]]:
    """The materials the BZ the answer names lists."""
    number = answer["application_no"]
    row = system.store.one("SELECT body FROM outbox WHERE application_no = ? ORDER BY id DESC", number)
    return list(json.loads(row[0])["payload"]["missing"]) if row else []


def _supplements_accepted_202(number: str) -> Response:
    """ACC-05 broken: supplements are answered like a new application, 202 Accepted."""
    answer = supplements_taken(number)
    answer.status_code = 202
    return answer


def _supplements_status_supplemented(number: str) -> Response:
    """ACC-05 broken: the supplements answer names the application's new state, `supplemented`."""
    return JSONResponse({"application_no": number, "status": "supplemented", "received_at": now_text()})


def _whole_file_supplied(document: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """ACC-05 broken: the BZJ lists the application's whole file after the supplements, not what came."""
    return {"materials": body["materials"]}


def _supplements_before_acceptance(system: ReferenceSystem, number: str) -> dict[str, Any]:
    """ACC-05 broken: supplements are taken at any time before the first decision (the applicant may add
    materials unasked), not only while the application waits for them after a BZ."""
    found = system.application(number)
    if found is None:
        raise ApiError(404, "APPLICATION_UNKNOWN", f"no application {number} was received")
    if found["last_step"] not in BEFORE_ACCEPTANCE:
        raise ApiError(409, "STATE_INVALID", f"application {number} is not waiting for supplements")
    return found


def _supplements_state_first(system: ReferenceSystem, number: str) -> dict[str, Any]:
    """ACC-05 broken: the state is asked first, and an application never received is in no state waiting for
    supplements: 409 STATE_INVALID instead of 404 APPLICATION_UNKNOWN."""
    found = system.application(number)
    if found is None or found["last_step"] != "BZ":
        raise ApiError(409, "STATE_INVALID", f"application {number} is not waiting for supplements")
    return found


def _supplements_reopen_refusal(system: ReferenceSystem, number: str) -> dict[str, Any]:
    """ACC-06 broken: supplements for a refused application are taken (the refusal is read as one more
    notice), and BZJ is pushed after BYSL."""
    found = system.application(number)
    if found is not None and found["last_step"] == "BYSL":
        return found
    return waiting_for_supplements(system, number)


def _after_refusal(*steps: str) -> Callable[[str | None, str | None], frozenset[str]]:
    """ACC-06 broken: after BYSL the `steps` are still open (a refusal closes only the acceptance form)."""

    def allowed(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
        return (
            allowed_steps(last_step, suspended_at) | frozenset(steps)
            if last_step == "BYSL"
            else allowed_steps(last_step, suspended_at)
        )

    return allowed


# --- depth: EVT-01 … EVT-05 (issue 13, part 3) ---


def _deliver_again(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: a delivered result can be delivered again (a second SD, say by post after a pickup)."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | {"SD"} if last_step == "SD" else allowed


def _bj_result_in_words(result: str, licenses: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """EVT-05 broken: the BJ result is written as the decision's wording (准予许可 / 不予许可), not its code."""
    payload = bj_payload(result, licenses, params)
    return {**payload, "result": {"approved": "准予许可", "denied": "不予许可"}[result]}


def _bj_result_on_denial_only(result: str, licenses: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """EVT-05 broken: result is sent only for a denial; an approval is taken to go without saying."""
    payload = bj_payload(result, licenses, params)
    return payload if result == "denied" else {k: v for k, v in payload.items() if k != "result"}


def _bj_licenses_when_issued(result: str, licenses: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """EVT-05 broken: the serializer drops empty lists, so a BJ without an e-license has no licenses member."""
    payload = bj_payload(result, licenses, params)
    return payload if licenses else {k: v for k, v in payload.items() if k != "licenses"}


def _payload_renamed(step_code: str, member: str, renamed: str) -> Callable[[str, dict[str, Any], dict[str, Any]], Any]:
    """EVT-02 broken: the `step_code` payload names its `member` `renamed` (the back office's column name)."""

    def payload(step: str, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        clean = step_payload(step, found, params)
        if step != step_code:
            return clean
        return {(renamed if k == member else k): v for k, v in clean.items()}

    return payload


def _payload_not_an_object(steps: frozenset[str], written: Any) -> Callable[[str, dict[str, Any], dict[str, Any]], Any]:
    """EVT-02 broken: the payload of `steps`, which carry no data, is written as `written` (null, []) instead of
    the object {} the norm names."""

    def payload(step: str, found: dict[str, Any], params: dict[str, Any]) -> Any:
        return written if step in steps else step_payload(step, found, params)

    return payload


def _seq_from_zero(db: Any, row: Any) -> int:
    """EVT-03 broken: seq is the event's index in the application's list, counted from 0."""
    return 0 if row[3] is None else int(row[1]) + 1


def _seq_across_applications(db: Any, row: Any) -> int:
    """EVT-03 broken: seq is drawn from one running number for all the system's events, not counted per
    application (only the system's first application starts at 1)."""
    return int(db.execute("SELECT COALESCE(MAX(last_seq), 0) FROM applications").fetchone()[0]) + 1


BEFORE_THE_CASE = frozenset({"SB", "BZ", "BZJ", "BYSL", "SL"})  # the steps the intake module writes


def _case_events_without_application_no(path: str, body: str) -> tuple[bytes, str]:
    """EVT-02 broken: the case module's serializer keys the events from CB on by the case: it writes case_no and
    leaves application_no out."""
    event = json.loads(body)
    if path != EVENTS or event.get("step") in BEFORE_THE_CASE:
        return body.encode(), JSON
    return json.dumps({k: v for k, v in event.items() if k != "application_no"}, ensure_ascii=False).encode(), JSON


def _backlog_batched(url: str, wrap: Callable[[list[Any]], Any]) -> Callable[[ReferenceSystem], Awaitable[int]]:
    """EVT-01 broken: an event alone goes as the clean outbox sends it, but when several events of an application
    wait (complete queues CB, SH, PZ and BJ at once; a backlog after an outage) they go together in one push to
    `url`, as `wrap` writes them, and are settled by its answer."""

    async def push_round(system: ReferenceSystem) -> int:
        delivered = 0
        for row in system.parts.ready(system):
            waiting = system.store.rows(
                "SELECT id, body, attempts, path FROM outbox WHERE state = 'pending' AND path = ? AND id >= ? AND "
                "application_no = (SELECT application_no FROM outbox WHERE id = ?) ORDER BY id",
                EVENTS,
                row["id"],
                row["id"],
            )
            if row["path"] != EVENTS or len(waiting) < 2:
                delivered += settle(system, row, *await send(system, row["path"], row["body"]))
                continue
            batch = json.dumps(wrap([json.loads(one["body"]) for one in waiting]), ensure_ascii=False).encode()
            try:
                answer = await system.client.request(
                    "POST", system.parts.event_exchange(system) + url, content=batch, headers={"Content-Type": JSON}
                )
                status, text = answer.status_code, answer.text[:300]
            except (httpx.HTTPError, OSError) as exc:
                status, text = 0, f"{type(exc).__name__}: {exc}"
            for one in waiting:
                delivered += settle(system, one, status, text)
        return delivered

    return push_round


def _sl_without(member: str) -> Callable[[str, dict[str, Any], dict[str, Any], dt.datetime], dict[str, Any]]:
    """ACC-03 broken: the SL payload leaves `member` out (the acceptance desk's form has no field for it)."""

    def payload(case_no: str, found: dict[str, Any], entry: dict[str, Any], due: dt.datetime) -> dict[str, Any]:
        return {k: v for k, v in sl_payload(case_no, found, entry, due).items() if k != member}

    return payload


def _refusal_reason_renamed(params: dict[str, Any]) -> dict[str, Any]:
    """ACC-01 broken: the BYSL payload names the reason `refuse_reason`, as the refusal letter's form field."""
    return {"refuse_reason": bysl_payload(params)["reason"]}


def _missing_as_codes(missing: list[dict[str, str]]) -> list[Any]:
    """ACC-05 broken: the BZ lists the missing materials by code only, without the reason of each."""
    return [m["material_code"] for m in missing]


# --- depth: ACC-01.8, ACC-02.4, ACC-05.10, ACC-05.15 (issue 13, part 3) ---


def _no_refusal_while_awaiting_supplements(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """ACC-05 broken: an application waiting for supplements can only be supplemented or withdrawn; the clerk's
    refusal is taken only once the supplements came (BYSL never right after BZ)."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed - {"BYSL"} if last_step == "BZ" else allowed


def _supplied_codes(system: ReferenceSystem, number: str) -> set[str]:
    """The material codes the application's supplements brought (its BZJ events)."""
    supplied: set[str] = set()
    for (body,) in system.store.rows("SELECT body FROM outbox WHERE application_no = ?", number):
        event = json.loads(body)
        if event.get("step") == "BZJ":
            supplied |= {str(m["material_code"]) for m in event["payload"]["materials"]}
    return supplied


async def _as_first_filed(system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]) -> list[Any]:
    """ACC-05 broken: completeness is checked on the application as first filed; the supplements are kept apart
    (in the BZJ events) and never counted, so a supplemented application is noticed again instead of accepted."""
    supplied = _supplied_codes(system, found["application_no"])
    body = found["body"]
    filed = {**body, "materials": [m for m in body["materials"] if m["material_code"] not in supplied]}
    return await missing_materials(system, {**found, "body": filed}, entry)


def _instant_accepted_on_receipt(system: ReferenceSystem, document: Any) -> None:
    """ACC-01 broken (自动受理): a 即办件 is accepted by the system itself as soon as it is received, SL with the
    system as handler, without waiting for a clerk's decision."""
    number = str(document["application_no"])
    entry, found = system.items.get(str(document["item_code"])), system.application(number)
    if entry is None or found is None or int(entry["promised_days"]) != 0:
        return
    case_no = issue_case_no(system)
    payload = sl_payload(case_no, found, entry, promised_due_at(today_cn(), 0))
    record_event(system, number, "SL", payload, case_no=case_no)


async def _case_no_at_opening(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """CODE-06 broken: the case number is drawn when the clerk first opens an application (its first decision of
    any kind), so a BZ notice already carries one; acceptance draws the case's own number later."""
    found = system.application(str(request.get("application_no") or ""))
    opening = found is not None and found["last_step"] in BEFORE_ACCEPTANCE and not found["case_no"]
    if request["action"] in ("accept", "request_supplement") and found is not None and opening:
        system.store.execute(
            "UPDATE applications SET case_no = ? WHERE application_no = ?",
            issue_case_no(system),
            found["application_no"],
        )
    return await carry_out(system, request)


# --- depth: EVT-02's members, on the FK the supervision module builds by hand (issue 13, part 3) ---


EventEdit = Callable[[dict[str, Any]], dict[str, Any]]


def _fk_built_by_hand(mutate: EventEdit) -> Callable[[ReferenceSystem, str, Any], None]:
    """EVT-02 broken on one code path: the supervision module writes its FK itself, from the event the journal
    made, and gets one member wrong (`mutate`); the other steps are made by the journal, right."""

    def feedback(system: ReferenceSystem, number: str, payload: dict[str, Any]) -> None:
        record_event(system, number, "FK", payload)
        row = system.store.one("SELECT id, body FROM outbox WHERE application_no = ? ORDER BY id DESC", number)
        event = mutate(json.loads(row[1]))
        system.store.execute("UPDATE outbox SET body = ? WHERE id = ?", json.dumps(event, ensure_ascii=False), row[0])

    return feedback


def _without(member: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda event: {k: v for k, v in event.items() if k != member}


def _fk_id_composed(event: dict[str, Any]) -> dict[str, Any]:
    """The FK's event_id is composed of the case and the seq (FK-<case_no>-<seq>), not a UUID."""
    return {**event, "event_id": f"FK-{event['case_no']}-{event['seq']}"}


def _fk_named_db(event: dict[str, Any]) -> dict[str, Any]:
    """The FK's step is named DB (督办, the notice's kind), not FK."""
    return {**event, "step": "DB"}


def _fk_handler_id_only(event: dict[str, Any]) -> dict[str, Any]:
    """The FK's handler is the system's app_id alone, without a name."""
    return {**event, "handler": {"id": event["handler"]["id"]}}


def _fk_flattened(event: dict[str, Any]) -> dict[str, Any]:
    """The FK's notice_id and explanation stand at the top of the event; there is no payload."""
    return {**{k: v for k, v in event.items() if k != "payload"}, **event["payload"]}


def _fk_division_of_case(event: dict[str, Any]) -> dict[str, Any]:
    """The FK's division_code is read off the case number (its first six digits: the system's own division), not
    the application's."""
    return {**event, "division_code": str(event["case_no"])[:6]}


def _bzj_by_the_bz_clerk(system: ReferenceSystem, number: str) -> dict[str, str]:
    """EVT-02 broken: the BZJ is filed under the clerk who asked for the supplements (the BZ's handler), as if the
    clerk had received them, not under the system that took them from the platform."""
    for (body,) in system.store.rows("SELECT body FROM outbox WHERE application_no = ? ORDER BY id DESC", number):
        event = json.loads(body)
        if event.get("step") == "BZ":
            return dict(event["handler"])
    return dict(CLERK)


# --- depth: EVT-01.7, EVT-03.2, EVT-03.13, EVT-04.1 (issue 13, part 3) ---


async def _dispatch_takes_a_seq(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """EVT-03 broken: handing an accepted case straight to completion (分办 to the approving office) is an internal
    step that takes the next seq but is never pushed, so the CB `complete` fills in comes with a gap in seq."""
    found = system.application(str(request.get("application_no") or ""))
    if request["action"] == "complete" and found is not None and found["last_step"] == "SL":
        system.store.execute(
            "UPDATE applications SET last_seq = last_seq + 1 WHERE application_no = ?", found["application_no"]
        )
    return await carry_out(system, request)


def _cb_again_after_cb(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: a case under 承办 can be taken on again (reassigned to another handler), so advance after
    CB pushes a second CB instead of moving on to SH."""
    allowed = allowed_steps(last_step, suspended_at)
    phase = suspended_at if last_step == "HF" else last_step
    return allowed | {"CB"} if phase == "CB" else allowed


async def _review_backdated(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """EVT-04 broken: the review steps `complete` fills in (CB, SH, PZ) are dated at the application's filing
    time, as if reviewed when it came, so they precede the SL."""
    answer = await carry_out(system, request)
    if request["action"] == "complete":
        number = str(answer["application_no"])
        found = system.application(number)
        filed = found["body"]["submitted_at"] if found else None
        for row_id, body in system.store.rows("SELECT id, body FROM outbox WHERE application_no = ?", number):
            event = json.loads(body)
            if event.get("step") in ("CB", "SH", "PZ") and filed:
                event["occurred_at"] = filed
                system.store.execute(
                    "UPDATE outbox SET body = ? WHERE id = ? AND state = 'pending'",
                    json.dumps(event, ensure_ascii=False),
                    row_id,
                )
    return answer


def _utc_day() -> dt.date:
    """The day as a server set to UTC sees it: yesterday's date until 08:00 +08:00 (CODE-05, CODE-06 broken)."""
    return dt.datetime.now(dt.UTC).date()


def _case_no_by_utc_day(system: ReferenceSystem, params: dict[str, Any]) -> str:
    """CODE-06 broken: the case number's date part and daily serial follow the UTC day."""
    day = _utc_day()
    serial = system.next_counter(f"case:{day.isoformat()}")
    return compose.case_no(system.registration.division_code, system.registration.dept_seq, day, serial)


def _window_number_by_utc_day(division: str, digit: str, day: dt.date, dept_seq: str, serial: int) -> str:
    """CODE-05 broken: the number the window issues is dated by the UTC day, whatever day the desk is in."""
    return compose.system_application_no(division, digit, _utc_day(), dept_seq, serial)


# depth: APP-05, ACC-06, APP-06 (issue 13, cold review items 6, 7, 8, 13, 19)
def _as_checked(materials: list[dict[str, Any]], trusted: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The materials with the licenses `trusted` picks taken as checked papers (never sent to the library)."""
    return [{**m, "kind": "file"} if m.get("kind") == "license" and trusted(m) else m for m in materials]


async def _supplied_licenses_trusted(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]
) -> list[dict[str, str]]:
    """APP-05 broken: a license that came with the supplements is taken as checked (the applicant brought it in
    after the notice, the clerk saw it), so only the licenses of the application as first filed are verified."""
    supplied = _supplied_codes(system, found["application_no"])
    body = found["body"]
    materials = _as_checked(body["materials"], lambda m: str(m["material_code"]) in supplied)
    return await missing_materials(system, {**found, "body": {**body, "materials": materials}}, entry)


_VALID_LICENSES: dict[int, set[tuple[str, str]]] = {}  # license-verified-once's cache, per system


async def _valid_remembered(system: ReferenceSystem, license_id: str, holder: str) -> str:
    """APP-05 broken: a license the library once verified valid for a holder is remembered as valid (a cache to
    spare the library), so a license revoked since is taken on an earlier application's result."""
    known = _VALID_LICENSES.setdefault(id(system), set())
    if (license_id, holder) in known:
        return "valid"
    status = await verify_license(system, license_id, holder)
    if status == "valid":
        known.add((license_id, holder))
    return status


async def _window_licenses_seen(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]
) -> list[dict[str, str]]:
    """APP-05 broken: the clerk saw the original at the counter, so the licenses of a window or agent-point
    application are taken as present, never verified with the library; only online applications' are."""
    body = found["body"]
    if body.get("channel") not in ("window", "agent"):
        return await missing_materials(system, found, entry)
    materials = _as_checked(body["materials"], lambda m: True)
    return await missing_materials(system, {**found, "body": {**body, "materials": materials}}, entry)


def _refused_number_reopened(system: ReferenceSystem, known: dict[str, Any] | None, document: Any) -> Response | None:
    """ACC-06 broken: 不予受理 is taken to end the filing, not the number: the platform's re-send of a refused
    application is taken as the applicant's new attempt, stored over the refused one (received again, a new
    received_at), whether its body is the same or not."""
    if known is None or known["last_step"] != "BYSL":
        return first_answer(system, known, document)
    received_at = now_text()
    answer = {"application_no": document["application_no"], "received_at": received_at, "status": "received"}
    system.store.execute(
        "UPDATE applications SET body = ?, received_at = ?, answer = ?, updated_at = ?, last_step = NULL, "
        "case_no = NULL WHERE application_no = ?",
        json.dumps(document, ensure_ascii=False),
        received_at,
        json.dumps(answer),
        received_at,
        document["application_no"],
    )
    return JSONResponse(answer, status_code=202)


def _sb_without_agent(system: ReferenceSystem, application: dict[str, Any]) -> dict[str, Any]:
    """APP-06 broken: the SB is built from the window form's model, which has no field for the agent point's
    代办人, so an agent-point application's SB leaves `agent` out (the application keeps it)."""
    return announce(system, {k: v for k, v in application.items() if k != "agent"})


def _case_no_check_ten_as_digits(system: ReferenceSystem, params: dict[str, Any]) -> str:
    """CODE-06 broken: the check character is the check value printed as a number, so the value 10 comes out as
    "10" (a 25-character case_no) instead of X."""
    number = issue_case_no(system, params)
    return number[:-1] + "10" if number.endswith("X") else number


_FORM_SERIAL: contextvars.ContextVar[int | None] = contextvars.ContextVar("form_serial", default=None)


def _highest_case_serial_today(system: ReferenceSystem) -> int:
    """SELECT MAX(serial) over today's case numbers of the department (0 when none)."""
    prefix = f"{system.registration.division_code}{system.registration.dept_seq}{today_cn():%Y%m%d}"
    rows = system.store.rows("SELECT case_no FROM applications WHERE case_no LIKE ?", prefix + "%")
    return max((int(str(row[0])[17:23]) for row in rows), default=0)


async def _acceptance_form_numbered_first(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """CODE-06 broken: the acceptance form is numbered when it opens, with the day's highest case serial plus one,
    and the case is written only after the item and the licenses are checked; nothing reserves the number."""
    if request.get("action") != "accept":
        return await carry_out(system, request)
    token = _FORM_SERIAL.set(_highest_case_serial_today(system) + 1)
    try:
        return await carry_out(system, request)
    finally:
        _FORM_SERIAL.reset(token)


def _case_no_of_the_form(system: ReferenceSystem, params: dict[str, Any]) -> str:
    serial = _FORM_SERIAL.get()
    if serial is None:
        return issue_case_no(system, params)
    return compose.case_no(system.registration.division_code, system.registration.dept_seq, today_cn(), serial)


GATEWAY_STATUSES = (502, 503, 504)  # what a gateway answers for a backend it cannot reach


async def _issue_gateway_statuses_only(system: ReferenceSystem, license_: dict[str, Any]) -> None:
    """ROB-01 broken: only a gateway's statuses (502, 503, 504) are read as a library that cannot answer; a 500 is
    taken for the library's own answer about this license, a refusal (409 LICENSE_REFUSED), not for an outage."""
    try:
        answer = await system.client.request("POST", system.province_url + "/license/v1/licenses", json=license_)
    except (httpx.HTTPError, OSError):
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the license library cannot be reached") from None
    if answer.status_code in GATEWAY_STATUSES:
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", f"the license library answered {answer.status_code}")
    if answer.status_code not in (200, 201):
        raise ApiError(409, "LICENSE_REFUSED", "the license library refused the e-license; no BJ was pushed")
    if not issued(answer, license_):
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the license library gave an answer that is not the license")


SDK_TIMEOUT_SECONDS = 30.0  # a catalogue SDK's own default time-out


async def _sdk_get(system: ReferenceSystem, url: str, force: bool) -> httpx.Response:
    """A signed GET with the system's token and the SDK's own time-out."""
    client = system.client
    pending = client._token_request(force)
    if pending is not None:
        token_url, token_body, token_headers = pending
        client.read_token(await client._http.post(token_url, content=token_body, headers=token_headers), client.token)
    full, body, headers = client._signed("GET", url, {})
    return await client._http.request("GET", full, content=body, headers=headers, timeout=SDK_TIMEOUT_SECONDS)


async def _lookup_without_budget(system: ReferenceSystem, item_code: str) -> dict[str, Any] | None:
    """ROB-01 broken: intake looks items up through the catalogue SDK, which keeps its own default time-out of 30 s
    instead of the system's 3 s per call: a catalogue that answers late is waited for, and the application taken
    after it, while the guide (the system's own client) answers 503."""
    cached = system.items.get(item_code)
    if cached is not None:
        return cached
    try:
        answer = await _sdk_get(system, f"{system.province_url}/catalog/v1/items/{item_code}", force=False)
        if answer.status_code == 401:  # a token refused: a new one, once (SIG-04), as the system's own client does
            answer = await _sdk_get(system, f"{system.province_url}/catalog/v1/items/{item_code}", force=True)
    except (httpx.HTTPError, OSError, TokenUnavailable):
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the province catalogue cannot be reached") from None
    if answer.status_code == 404:
        return None
    entry = item_of(answer) if answer.status_code == 200 else None
    if entry is None:
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", f"the province catalogue answered {answer.status_code}")
    system.items[item_code] = entry
    system.etags[item_code] = answer.headers.get("ETag", "")
    system.item_versions[(item_code, int(entry["version"]))] = entry
    return entry


async def _license_drawn_first(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any], result: str
) -> list[str]:
    """ROB-01 broken: complete draws the case's e-license from the library before it looks at the result, and a
    denial drops it again: a denial, which needs no license, is answered 503 while the library cannot be reached."""
    licenses = await licensed_review(system, found, entry, "approved" if entry.get("license_type") else result)
    return licenses if result == "approved" else []


def _keys_taken_as_given(answer: httpx.Response) -> dict[str, str] | None:
    """ROB-01 broken: the IdP's 200 is read for its keys without a look at it: a gateway's envelope instead of the
    key list raises a KeyError, answered 500 instead of 503."""
    if answer.status_code != 200:
        return None
    return {key["kid"]: key["public_key"] for key in answer.json()["keys"]}


def _number_read_first(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """ROB-01 broken: the number is read before the schema's findings are looked at (to tell a resend from a new
    application early, MSG-04): a body without application_no, or a list there, fails with 500 instead of 400."""
    system.application(document["application_no"])
    return intake.as_found(system, document, findings)


def _number_looked_up_first(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """ROB-01 broken: the number is looked up (`document.get`) before the schema's findings are looked at, with a
    guard for a missing or odd number but none for the body itself: a body that is a string, a number or a list,
    not an object, fails with 500 instead of 400."""
    number = document.get("application_no")
    if isinstance(number, str):
        system.application(number)
    return intake.as_found(system, document, findings)


def _unguarded_recursive_parser(pipeline: Pipeline, call: Call, route: Route) -> None:
    """ROB-01 broken: a recursive JSON parser with no depth guard: a body nested past the interpreter's recursion
    limit raises RecursionError, answered 500 instead of 400."""
    if call.media == JSON and call.has_body and call.body.strip() and (route.kind is not None or route.parse):
        try:
            call.document = json.loads(call.body, parse_constant=_no_constants)
            return
        except ValueError:
            pass  # the clean parser says what is wrong; a RecursionError is no ValueError and goes up
    parse_document(pipeline, call, route)


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


async def _entry_outage_as_unknown(
    system: ReferenceSystem, request: Request, item_code: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """ROB-01 broken: the apply entry shows "no such item" (404 ITEM_UNKNOWN) whenever the catalogue lookup fails,
    an outage included, instead of 503 DEPENDENCY_UNAVAILABLE."""
    try:
        return await session_first(system, request, item_code)
    except ApiError:
        return session_user(system, request), None


def _window_supplements_announced_again(system: ReferenceSystem, number: str) -> dict[str, str]:
    """EVT-03 broken: the window module announces a window or agent-point application again as SB whenever its
    file changes, so supplements taken for it push a second SB (after the BZ) before the BZJ."""
    found = system.application(number)
    if found is not None and found["body"].get("channel") in ("window", "agent"):
        system.parts.window_announcement(system, found["body"])
    return system.parts.own_handler(system)


# depth: SIG-02 receiving, realistic vendor mistakes (issue 13, review 2 a2, a11, a20)
_TRAFFIC_NONCE = re.compile(r"[0-9a-f]{32}")


def _nonce_as_seen_in_traffic(request: Presented) -> Rejection | None:
    """Header syntax written from the platform's test traffic: a nonce is 32 lower-case hex characters (SIG-02)."""
    if not request.header(HEADER_TIMESTAMP).isdigit() or not _TRAFFIC_NONCE.fullmatch(request.header(HEADER_NONCE)):
        return Rejection("SIGNATURE_INVALID", "the nonce is not 32 hex characters")
    return None


_nonce_syntax_from_traffic = _verified_in(
    headers_present, app_known, _nonce_as_seen_in_traffic, timestamp_window, signature_matches, nonce_fresh
)


def _nonce_with_its_timestamp(request: Presented) -> Rejection | None:
    """The replay store keyed by nonce and timestamp together: the same nonce with a new timestamp is fresh."""
    app_id, nonce = request.header(HEADER_APP_ID), request.header(HEADER_NONCE)
    if not request.nonces.claim(app_id, f"{nonce}@{request.header(HEADER_TIMESTAMP)}"):
        return Rejection(
            "NONCE_REPLAYED", f"nonce {nonce!r} was used by {app_id} in the last {limits().nonce_window_seconds:g} s"
        )
    return None


_replays_keyed_by_timestamp = _verified_in(
    headers_present, app_known, header_syntax, timestamp_window, signature_matches, _nonce_with_its_timestamp
)
_no_nonce_memory = _verified_in(headers_present, app_known, header_syntax, timestamp_window, signature_matches)


def _intake_replays_left_to_idempotency(pipeline: Pipeline, call: Call, route: Route) -> None:
    """The nonce is not checked on POST /applications: intake answers a resend with its first answer anyway."""
    if call.request.method == "POST" and call.request.url.path.endswith("/applications"):
        _no_nonce_memory(pipeline, call, route)
    else:
        check_signature(pipeline, call, route)


def _presence_only_at(*suffixes: str) -> Step:
    """Routes ending so sit behind a callback filter that checks the headers are there and the app is known, its
    HMAC check left for later: any signature is taken (SIG-02)."""
    presence = _verified_in(headers_present, app_known)

    def check(pipeline: Pipeline, call: Call, route: Route) -> None:
        if call.request.url.path.endswith(suffixes):
            presence(pipeline, call, route)
        else:
            check_signature(pipeline, call, route)

    return check


def _body_reserialised(pipeline: Pipeline, call: Call, route: Route) -> None:
    """SIG-01 broken: the filter hashes a JSON body as the framework writes its parsed value back out
    (json.dumps), not the raw bytes received: a body laid out otherwise (compact, other key order, \\u escapes)
    fails its signature."""
    received = call.body
    if call.media == JSON and received:
        with suppress(ValueError, RecursionError):  # not JSON, or too deep: the raw bytes, as before
            call.body = json.dumps(json.loads(received), ensure_ascii=False).encode()
    try:
        check_signature(pipeline, call, route)
    finally:
        call.body = received


class _OneSend:
    """The shared signed client without its 401-renew-retry wrapper: one send with the token it holds (SIG-04)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        response: httpx.Response = (await self._client._send(method, url, options, refused=None))[0]
        return response


class _ModuleWithoutRetry:
    """A module given the system's token and signer but calling the platform through its own plain HTTP code."""

    def __init__(self, system: ReferenceSystem) -> None:
        self._system = system
        self.client = _OneSend(system.client)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._system, name)


async def _ticket_validated_without_retry(system: ReferenceSystem, ticket: str) -> httpx.Response:
    """SIG-04 broken: the SSO module validates tickets with the shared token but no renew-and-retry on 401."""
    return await sso.validate_ticket(cast(ReferenceSystem, _ModuleWithoutRetry(system)), ticket)


async def _license_issued_without_retry(system: ReferenceSystem, license_: dict[str, Any]) -> None:
    """SIG-04 broken: the license issuer posts with the shared token but no renew-and-retry on 401."""
    await issue_license(cast(ReferenceSystem, _ModuleWithoutRetry(system)), license_)


# depth: CODE-01 and CODE-09 on the whole country's IDs, birth-date edges (issue 13, review 2 a1, a6, a13)
def _ids_of_the_province(applicant: dict[str, Any]) -> str | None:
    """The window's ID number field checks positions 1-6 against the province's division list (CODE-03's
    Zhejiang codes, current and abolished), on the applicant and on the legal representative alike."""
    for person in (applicant, applicant.get("legal_rep")):
        if isinstance(person, dict) and person.get("id_type") == "111":
            number = str(person.get("id_number", ""))
            if not number.startswith("33"):
                return f"{number}: positions 1-6 are no Zhejiang division code"
    return None


def _legal_rep_read_as_id_card(document: Any, codes: Codes) -> Codes:
    """APP-03 broken: the legal representative's block is the resident-card form of the person applicant, so
    the representative's number is held to CODE-01 whatever its id_type (a passport holder is refused)."""
    applicant = document.get("applicant") if isinstance(document, dict) else None
    rep = applicant.get("legal_rep") if isinstance(applicant, dict) else None
    if not isinstance(rep, dict) or rep.get("id_type") in (None, "111"):
        return codes
    if check("id_number", str(rep.get("id_number", ""))) is None:
        return codes
    found = Finding("/applicant/legal_rep/id_number", "id_number", "not a valid ID number", "CODE-01")
    return {**codes, "APPLICANT_INVALID": [*codes.get("APPLICANT_INVALID", []), found]}


def _born_from_today_on(number: str) -> bool:
    """The birth date must be before today (`birth < today`), so a baby born today is refused."""
    return number[6:14] >= f"{today_cn():%Y%m%d}"


def _february_of_28_days(number: str) -> bool:
    """The birth date is checked against a month table with February at 28 days: 29 February is refused."""
    return number[10:14] == "0229"


# depth: ACC-04 on a plain acceptance, its calendar at the edges (issue 13, review 2 b4, a12, a7)
def _counted_from_submission(found: dict[str, Any], params: dict[str, Any], day: dt.date) -> dt.date:
    """ACC-04 broken: without a driver's calendar_date the count starts on the day the application was made
    (申请之日, a local rule), not on the acceptance day."""
    if "calendar_date" in params:
        return day
    return dt.datetime.fromisoformat(str(found["body"]["submitted_at"])).astimezone(CN_TZ).date()


def _spring_festival_of_seven_days(day0: dt.date, days: int) -> dt.datetime:
    """ACC-04 broken: a hand-made calendar gives the 2026 Spring Festival the usual seven days (15-21 February,
    the weekend and 16-20 February off): its eighth day, Monday 23 February 2026, counts as a working day."""
    if days == 0:
        return promised_due_at(day0, 0)
    calendar, day, left = default_calendar(), day0, days
    while left:
        day += dt.timedelta(days=1)
        if day == dt.date(2026, 2, 23) or calendar.is_working_day(day):
            left -= 1
    return dt.datetime.combine(day, dt.time(23, 59, 59, tzinfo=CN_TZ))


def _calendar_checked_for_day0(day0: dt.date, days: int) -> dt.datetime:
    """ACC-04 broken: the acceptance day's year is looked up in the calendar first (CALENDAR_YEAR_MISSING when
    it is not there), then the count asks each day `holiday → off, workday → on, else Monday to Friday`, so a
    count running past 31 December of the last year held goes on with weekends only."""
    if days == 0:
        return promised_due_at(day0, 0)
    calendar = default_calendar()
    calendar.is_working_day(day0)  # CalendarYearMissing for day 0's year
    day, left = day0, days
    while left:
        day += dt.timedelta(days=1)
        left -= calendar.is_working_day(day) if day.year in calendar.years else day.weekday() < 5
    return dt.datetime.combine(day, dt.time(23, 59, 59, tzinfo=CN_TZ))


# cold review round 2, item b5: transitions never tried (issue 13)
CASE_PHASES = ("SL", "CB", "SH", "PZ", "HF")  # an accepted case, not suspended, not completed


def _supplements_asked_while_processing(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """ACC-01 broken: 补正 is allowed at any time before completion, so request_supplement on an accepted case
    pushes a BZ after the SL (a second decision)."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | {"BZ"} if last_step in CASE_PHASES else allowed


def _material_added_to_the_notice(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: while the applicant's supplements are awaited the clerk may "add a material" to the
    notice, so request_supplement after a BZ pushes a second BZ."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | {"BZ"} if last_step == "BZ" else allowed


def _suspension_extended(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: a suspension is extended by suspending the case again, so suspend on a suspended case
    pushes a second GQ."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | {"GQ"} if last_step == "GQ" else allowed


def _resume_without_suspension(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    """EVT-03 broken: resume is offered on every case in progress (a button always shown), so a case that was
    never suspended gets an HF without a GQ."""
    allowed = allowed_steps(last_step, suspended_at)
    return allowed | {"HF"} if last_step in ("SL", "CB", "SH", "PZ") else allowed


def _active_case(system: ReferenceSystem, case_no: str) -> Any:
    """EVT-03 / SUP-02 broken: notices are matched against the cases being worked on, so a notice on a suspended
    case is answered 404 CASE_UNKNOWN and gets no FK."""
    return system.store.one(
        "SELECT application_no FROM applications WHERE case_no = ? AND last_step IS NOT 'GQ'", case_no
    )


# cold review round 2, item b6: a decision made alone after supplements (issue 13)
_AUTO_ACCEPTANCES: set[asyncio.Task[None]] = set()  # the tasks running, kept from the garbage collector


def _accepted_once_complete(system: ReferenceSystem, number: str) -> None:
    """ACC-01 broken (自动受理 after 补正): once the supplements complete the file (every required material there,
    every license valid), the system accepts the application by itself, without waiting for the clerk's new
    decision; the clerk's accept that follows is answered 409."""
    task = asyncio.get_running_loop().create_task(_accept_if_complete(system, number))
    _AUTO_ACCEPTANCES.add(task)
    task.add_done_callback(_AUTO_ACCEPTANCES.discard)


async def _accept_if_complete(system: ReferenceSystem, number: str) -> None:
    found = system.application(number)
    entry = await system.parts.case_item(system, str(found["body"]["item_code"])) if found is not None else None
    if found is None or entry is None or await system.parts.missing_of(system, found, entry):
        return
    with suppress(ApiError):
        await act(system, {"action": "accept", "application_no": number})


# cold review round 2, item b15: the driver's answers to refuse and request_supplement (issue 13)
def _refusal_answered_bare(event: dict[str, Any]) -> dict[str, Any]:
    """ACC-01 broken: a refusal makes no case, so the refuse handler answers a bare {ok, application_no, step}:
    no seq, no event_id."""
    answer = event_answer(event)
    return {k: answer[k] for k in ("ok", "application_no", "step")} if event["step"] == "BYSL" else answer


def _notice_id_as_event_id(event: dict[str, Any]) -> dict[str, Any]:
    """ACC-01 broken: request_supplement answers the id of the supplement notice document it drew up (a UUID of
    its own) as `event_id`, not the id of the BZ event it queued."""
    answer = event_answer(event)
    return answer | {"event_id": str(uuid.uuid4())} if event["step"] == "BZ" else answer


# cold review round 2, item b7: rectify's errors in the norm's order (issue 13)
def _rectification_params_first(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> None:
    """EVAL-02 broken: the request is validated (`@NotBlank action`) before the review is looked at, so an empty
    action on a level 5 or an already rectified review is 422 PARAMS_INVALID instead of 409 STATE_INVALID."""
    clerks_action(params)
    one_per_bad_review(system, case_no, params)


# cold review round 2, item b8: the evaluation level's lower bound (issue 13)
def _level_capped_above_only(case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    """EVAL-01 broken: the level is checked with `if level > 5` only, so a level 0 or -1 is taken (200) and
    pushed."""
    level = params.get("level")
    if isinstance(level, int) and level > 5:
        raise ApiError(422, "PARAMS_INVALID", "params.level is at most 5 (EVAL-01)")
    return evaluation_record(case_no, {**params, "level": 1}) | {"level": level}


# cold review round 2, item b10: one FK per notice_id, not per card (issue 13)
_CARDS_ANSWERED: dict[int, set[tuple[str, str]]] = {}  # per system: the (case_no, card) already answered


def _one_fk_per_card(system: ReferenceSystem, notice: dict[str, Any]) -> Response:
    """SUP-02 broken: repeats are recognised by (case_no, card), "the case already answered its yellow card", so
    a second yellow card of the case under a new notice_id is answered 200 and gets no FK."""
    if system.parts.notice_case(system, notice["case_no"]) is None:
        return supervision_notice(system, notice)  # 404 CASE_UNKNOWN
    answered_cards = _CARDS_ANSWERED.setdefault(id(system), set())
    card = (str(notice["case_no"]), str(notice["card"]))
    if card in answered_cards:
        return JSONResponse({"notice_id": notice["notice_id"]})
    answered_cards.add(card)
    return supervision_notice(system, notice)


# cold review round 2, item b12: the e-license's issuer.uscc (issue 13)
COUNTY_GOVERNMENT_USCC = "11330105002500287C"  # a deployment setting: the county government's code


def _issuer_from_settings(license_: dict[str, Any], entry: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """LIC-01 broken: issuer.uscc comes from a deployment setting holding the county government's USCC, not the
    issuing department's (the license_id's issuer part is still the department's)."""
    return license_ | {"issuer": {**license_["issuer"], "uscc": COUNTY_GOVERNMENT_USCC}}


# cold review round 2, item b11: a retired item under a version the system once held (issue 13)
async def _item_by_named_version(system: ReferenceSystem, document: Any) -> dict[str, Any] | None:
    """CAT-03 broken: intake resolves the item by (item_code, item_version) from the versions the system keeps
    (CAT-03.6), asking the catalogue only for a version it never held, so a new application naming a retired
    item's old version is taken."""
    held = system.item_versions.get((str(document["item_code"]), document.get("item_version")))
    return held if held is not None else await intake.current_item(system, document)


# cold review round 2, item b13: where each step is pushed (issue 13)
async def _feedback_to_the_province(system: ReferenceSystem) -> int:
    """EVT-01 broken: "supervision is provincial": the supervision module's FK (督办反馈) goes to the province's
    exchange, whose platform raised the card, while every other event goes to the exchange of the own tier."""
    delivered_now = 0
    for row in system.parts.ready(system):
        if row["path"] == EVENTS and json.loads(row["body"]).get("step") == "FK":
            content, media = system.parts.push_form(row["path"], row["body"])
            try:
                answer = await system.client.request(
                    "POST", system.province_url + row["path"], content=content, headers={"Content-Type": media}
                )
                status, error = answer.status_code, answer.text[:300]
            except (httpx.HTTPError, OSError) as exc:
                status, error = 0, f"{type(exc).__name__}: {exc}"
        else:
            status, error = await send(system, row["path"], row["body"])
        delivered_now += settle(system, row, status, error)
    return delivered_now


# cold review round 2, item b14: supplements after SL, license-typed materials omitted or scanned (issue 13)
def _supplements_once_noticed(system: ReferenceSystem, number: str) -> dict[str, Any]:
    """ACC-05 broken: the guard asks whether the applicant was ever sent a supplement notice (a BZ in the
    application's history), not whether the application waits for supplements now: supplements after the SL
    that followed the BZJ are taken (200) and pushed as BZJ; a refused one stays closed."""
    found = system.application(number)
    if found is None:
        raise ApiError(404, "APPLICATION_UNKNOWN", f"no application {number} was received")
    bodies = system.store.rows("SELECT body FROM outbox WHERE application_no = ?", number)
    noticed = any(json.loads(row["body"]).get("step") == "BZ" for row in bodies)
    if not noticed or found["last_step"] == "BYSL":
        raise ApiError(409, "STATE_INVALID", f"application {number} is not waiting for supplements")
    return found


async def _uploads_counted_only(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]
) -> list[dict[str, str]]:
    """ACC-05 broken: completeness is judged over the file uploads the catalogue asks for; license-typed
    materials are left to the license module, which verifies only the licenses given, so a required
    license-typed material that is absent is never listed (accept pushes SL)."""
    uploads = {**entry, "materials": [m for m in entry["materials"] if "license_type" not in m]}
    return await missing_materials(system, found, uploads)


async def _scans_of_licenses_missing(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]
) -> list[dict[str, str]]:
    """ACC-05 broken: a license-typed material counts only as an e-license: one presented as a scanned file
    (kind file) is listed as missing, so accept pushes BZ for a complete application."""
    missing = await missing_materials(system, found, entry)
    licensed = {m["material_code"] for m in entry["materials"] if "license_type" in m}
    scans = [
        {"material_code": m["material_code"], "reason": "须提供电子证照"}
        for m in found["body"]["materials"]
        if m["material_code"] in licensed and m.get("kind") != "license"
    ]
    return missing + scans


# cold review round 2, item b17: a change of the item's materials (issue 13)
_MATERIAL_REFETCHES: set[asyncio.Task[None]] = set()  # background refetches of the fault below, kept till done


async def _materials_kept_on_notice(system: ReferenceSystem, notice: dict[str, Any]) -> None:
    """CAT-03 broken: a change notice refreshes the item's own fields (days, name, levels) in the background,
    while its required materials, kept in a table of their own that a nightly job synchronises, stay as first
    fetched: the guide lists the old materials and a new application is judged complete against them."""
    task = asyncio.get_running_loop().create_task(_refreshed_but_materials(system, notice["item_code"]))
    _MATERIAL_REFETCHES.add(task)
    task.add_done_callback(_MATERIAL_REFETCHES.discard)


async def _refreshed_but_materials(system: ReferenceSystem, code: str) -> None:
    held = system.items.get(code)
    with suppress(ApiError):
        fresh = await item(system, code, refresh=True)
        if held is not None and fresh is not None:
            kept = {**fresh, "materials": held["materials"]}
            system.items[code] = kept
            system.item_versions[(code, int(fresh["version"]))] = kept


# review round 2, a15: the label of a JSON answer (MSG-01.2)
async def _health_actuator_media(request: Request) -> Response:
    """MSG-01 broken: health is the framework's actuator endpoint mapped to /yzw/v1/health, which labels its JSON
    with the actuator's own media type, not application/json."""
    answer = await health(request)
    answer.headers["content-type"] = "application/vnd.spring-boot.actuator.v3+json"
    return answer


# review round 2, a16: the IdP's logout of a person without a session here, a logout with a member more (SSO-06)
def _logout_of_a_stranger_unknown(system: ReferenceSystem, user_id: str) -> None:
    """SSO-06 broken: the session service looks the person's sessions up before it ends them, and throws
    UserNotFound (404 USER_UNKNOWN) when there are none, so the IdP's fan-out logout of a stranger is not 200."""
    if system.store.one("SELECT 1 FROM sessions WHERE user_id = ?", user_id) is None:
        raise ApiError(404, "USER_UNKNOWN", "no session for this user")
    end_sessions(system, user_id)


def _strict_logout_model(pipeline: Pipeline, call: Call, route: Route) -> None:
    """SSO-06 broken: the logout request model forbids extra members (Jackson FAIL_ON_UNKNOWN_PROPERTIES on that
    one DTO), so the IdP's logout with a member more than user_id is refused 400 and ends nothing."""
    parse_document(pipeline, call, route)
    if route.kind == "logout" and isinstance(call.document, dict):
        extra = [{"path": f"/{name}", "reason": "unknown member"} for name in call.document if name != "user_id"]
        if extra:
            raise ApiError(400, "SCHEMA_INVALID", "the body breaks the logout model", extra)


# cold review round 2 (issue 13): APP-01, APP-02, APP-04, APP-07, MSG-03, MSG-04, CODE-08 (msgapp)
def _members_defaulted(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """APP-02 broken: the request model gives `form` and `materials` defaults ({} and [], pydantic style) and
    reads null as absent, so an application without them, or with them null, is taken."""
    if isinstance(document, dict):
        for member, default in (("form", {}), ("materials", [])):
            if document.get(member) is None:
                document[member] = default
                findings = [f for f in findings if f.path != f"/{member}"]
    return findings


def _item_resolved_first(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """APP-02 broken: a request filter resolves the item from the system's item table before the body is
    validated, so a broken application for an item the system does not hold is answered 422 ITEM_UNKNOWN."""
    code = document.get("item_code") if isinstance(document, dict) else None
    if findings and isinstance(code, str) and code not in system.items:
        raise ApiError(422, "ITEM_UNKNOWN", f"no item {code} in the item table")
    return findings


def _form_of_texts(document: dict[str, Any]) -> bool:
    """form typed Map<String, String>: a number, a boolean, a list or an object among its values is refused."""
    form = document.get("form")
    return isinstance(form, dict) and any(not isinstance(value, str) for value in form.values())


def _contact_phone_blank(system: ReferenceSystem, document: Any, findings: list[Finding]) -> list[Finding]:
    """MSG-03 broken: the legal applicant's contact model has @NotBlank on phone (the person's phone has not), so
    a legal applicant whose contact's phone is empty is refused 400."""
    applicant = document.get("applicant") if isinstance(document, dict) else None
    contact = applicant.get("contact") if isinstance(applicant, dict) else None
    if isinstance(contact, dict) and contact.get("phone") == "":
        return [*findings, Finding("/applicant/contact/phone", "phone", "must not be blank", "MSG-03")]
    return findings


def _sb_submitted_now_isoformat(system: ReferenceSystem, application: dict[str, Any]) -> dict[str, Any]:
    """CODE-08 broken: the window module stamps the SB's submitted_at with datetime.now(tz).isoformat() after the
    clerk's entry was checked, so it keeps microseconds (…T10:00:00.123456+08:00)."""
    now = dt.datetime.now(CN_TZ)
    stamped = now.replace(microsecond=now.microsecond or 1).isoformat()
    return announce(system, {**application, "submitted_at": stamped})


def _status_updated_in_utc(found: dict[str, Any], state: str) -> dict[str, Any]:
    """CODE-08 broken: the status answer reads updated_at from a UTC timestamp column and writes it with Z."""
    answer = intake.status_answer(found, state)
    moment = dt.datetime.fromisoformat(str(answer["updated_at"])).astimezone(dt.UTC)
    return {**answer, "updated_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _review_steps_unnamed(step: str, handler: dict[str, str]) -> dict[str, str]:
    """MSG-03 broken: the review steps complete fills in by itself (CB, SH, PZ) carry the clerk's id but an empty
    name: the batch that writes them knows no clerk's name."""
    return {**handler, "name": ""} if step in ("CB", "SH", "PZ") else handler


def _notification_change_defaulted(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-03 broken: the catalogue notification model gives change a default ("updated") and reads null as
    absent, so a notification without change is taken (200) and the item refetched."""
    parse_document(pipeline, call, route)
    if route.kind == "notification" and isinstance(call.document, dict) and call.document.get("change") is None:
        call.document = {**call.document, "change": "updated"}


def _notice_and_logout_strict(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-03 broken: the supervision notice and logout DTOs of the vendor's SSO and supervision modules fail on
    unknown properties (Jackson's default), while the intake's models ignore them."""
    parse_document(pipeline, call, route)
    if route.kind in ("notice", "logout") and isinstance(call.document, dict):
        known = set(schema_documents()[route.kind].get("properties", {}))
        extra = [f"/{name}" for name in call.document if name not in known]
        if extra:
            details = [{"path": path, "reason": "unrecognized field"} for path in extra]
            raise ApiError(400, "SCHEMA_INVALID", f"the body breaks the {route.kind} model", details)


async def _size_of_content_length(request: Request) -> bytes:
    """MSG-04 broken: the size is judged on the Content-Length header only, so a chunked body of any size is read
    whole (and refused later for something else)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits().max_body_bytes:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"the body is over {limits().max_body_bytes} bytes")
    return await request.body()


def _media_of_the_intake_only(checks: tuple[Step, ...]) -> tuple[Step, ...]:
    """MSG-04 broken: the media type is checked by the intake's own raw-body code only; the other endpoints read
    any body as JSON whatever its label (a framework's default), so a JSON body labelled text/plain is served."""

    def intake_media(pipeline: Pipeline, call: Call, route: Route) -> None:
        if route.parse:
            check_media(pipeline, call, route)

    return tuple(intake_media if step is check_media else step for step in checks)


def _secondary_parse_errors_as_schema(pipeline: Pipeline, call: Call, route: Route) -> None:
    """MSG-04 broken: bodies of the endpoints other than the intake are bound by the framework, whose parse error
    the vendor's global handler maps like a validation error, to 400 SCHEMA_INVALID."""
    try:
        parse_document(pipeline, call, route)
    except ApiError as error:
        if error.code != "MALFORMED_BODY" or route.parse:
            raise
        raise ApiError(
            400, "SCHEMA_INVALID", "the request body is invalid", [{"path": "/", "reason": "invalid"}]
        ) from None


def _repeat_compared_with_the_file(
    system: ReferenceSystem, known: dict[str, Any] | None, document: Any
) -> Response | None:
    """APP-04 broken: a repeat is compared with the application as it is stored now, whose materials the
    supplements have completed, so the platform's repeat of the body it sent is answered 409 after supplements."""
    if known is None:
        return None
    if known["body"] == document:
        return JSONResponse(json.loads(known["answer"]), status_code=202)
    raise ApiError(409, "APPLICATION_CONFLICT", "this application_no was received with another body")


def _repeat_compared_on_the_row(
    system: ReferenceSystem, known: dict[str, Any] | None, document: Any
) -> Response | None:
    """APP-04 broken: a repeat is compared on the application row (number, item, applicant, form …) but not on
    its child rows (materials, delivery), so a body differing only there gets the first 202."""
    if known is None:
        return None

    def row(body: Any) -> Any:
        return {k: v for k, v in body.items() if k not in ("materials", "delivery")} if isinstance(body, dict) else body

    if row(intake.received_body(known)) == row(document):
        return JSONResponse(json.loads(known["answer"]), status_code=202)
    raise ApiError(409, "APPLICATION_CONFLICT", "this application_no was received with another body")


def _status_of_settled_events(system: ReferenceSystem, found: dict[str, Any]) -> str | None:
    """APP-07 broken: the 2026.2 fix done literally: the status follows the last event the exchange took or
    refused for good (outbox rows delivered or refused), so an event still waiting for its retry is not shown."""
    rows = system.store.rows(
        "SELECT body FROM outbox WHERE application_no = ? AND state IN ('delivered', 'refused') ORDER BY id",
        found["application_no"],
    )
    steps = [json.loads(row["body"]).get("step") for row in rows]
    return next((str(step) for step in reversed(steps) if step != "FK"), None)


async def _materials_checked_when_given(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]
) -> list[dict[str, str]]:
    """ACC-05 broken: the completeness check runs over the uploaded files (an application with none is read as
    "paper materials to follow at the window"), so an application without materials is accepted."""
    if not found["body"]["materials"]:
        return []
    return await missing_materials(system, found, entry)


# review round 2, a8: a retired item at the apply entry (SSO-05.6)
async def _retired_items_open(system: ReferenceSystem, request: Request, item_code: str) -> tuple[Any, Any]:
    """SSO-05 broken: the apply entry (a web front end of its own) looks the item up by code and department in its
    item table, without the item's status: an item the catalogue retired still opens for a signed-in person."""
    user = session_user(system, request)
    if user is None:
        return None, None
    entry = await item(system, item_code)
    return user, entry if entry is not None and entry["dept"]["uscc"] == system.registration.dept_uscc else None


# review round 2, a10: Accept wildcards at the browser-facing endpoints; the apply entry's refusals (MSG-02)
def _named_types_only(accept: str) -> bool:
    """MSG-02 broken: Accept read as a map of the types it names, text/html's q against application/json's, a type
    not named counting 0: a wildcard range gives neither type anything (so `*/*` and no Accept still tie: JSON),
    but `text/*` gets JSON and `text/html;q=0.5, */*` an HTML page."""
    named: dict[str, float] = {}
    for media_range in accept.split(","):
        name, *params = (part.strip().lower() for part in media_range.split(";"))
        q = next((param.partition("=")[2] for param in params if param.startswith("q=")), "1")
        named[name] = float(q) if q.replace(".", "", 1).isdigit() else 0.0
    return named.get("text/html", 0.0) > named.get(JSON, 0.0)


def _entry_refusals_as_json(request: Request, status: int, code: str, message: str) -> Response:
    """MSG-02 broken: the apply entry's session filter renders its login-required page (401), but the controller's
    refusals (403 AUTH_LEVEL_INSUFFICIENT, 404 ITEM_UNKNOWN) go through the API's global exception handler: JSON
    whatever the browser's Accept prefers."""
    return error_response(status, code, message)


# review round 2, a18: a key the IdP publishes after start-up (SSO-02.3)
def _keys_loaded_once() -> Callable[[dict[str, str], dict[str, Any]], bool]:
    """SSO-02 broken: the IdP's public keys are loaded once (the whole list, the key published ahead included, as a
    @PostConstruct at start-up would) and never fetched again, not even for a kid they lack: a key the IdP
    publishes later is never known here."""
    loaded: dict[str, str] = {}

    def check(keys: dict[str, str], record: dict[str, Any]) -> bool:
        if not loaded:
            loaded.update(keys)
        return verified(loaded, record)

    return check


REGISTRY: Mapping[str, Mapping[str, Any]] = {
    # the request pipeline
    "xml-refused": {"accepted_media": _json_only},
    "wrong-error-order": {"check_order": _signature_first},
    "nonce-not-remembered": {"request_nonces": _fresh_memory},
    "signature-unchecked": {"signature_check": _no_signature_check},
    "xml-doctype-resolved": {"body_parser": _parse_resolving_doctype},
    "stack-trace-in-errors": {"error_answer": _answer_with_trace},
    # the signed client
    "no-token": {"token_path": None},
    "scope-too-broad": {"token_scope": SCOPES + " admin:all"},
    "token-per-request": {"token_reuse": False},
    "nonce-too-short": {"nonce_bytes": 4},
    "token-renewed-on-expiry-only": {"token_renewed_on": ("TOKEN_EXPIRED",)},
    "token-retry-loop": {"token_retries": 25},  # "until it works", with a safety cap
    # intake, status, health
    "health-wrong-norm": {"health_norm": "YZW-NORM-2025"},
    "unknown-fields-refused": {"schema_check": _strict},
    "no-schema-check": {"schema_check": lambda system, document, findings: []},
    "applicant-id-unchecked": {"unchecked_codes": frozenset({"APPLICANT_INVALID"})},
    "item-unchecked": {"unchecked_codes": frozenset({"ITEM_UNKNOWN"})},
    "division-unchecked": {"unchecked_codes": frozenset({"CODE_INVALID"})},
    "application-no-unchecked": {"unchecked_codes": frozenset({"APPLICATION_NO_INVALID"})},
    "legal-rep-unchecked": {"unchecked_members": ("/applicant/legal_rep",)},
    "applicant-checked-first": {
        "code_order": ("APPLICANT_INVALID", "APPLICATION_NO_INVALID", "CODE_INVALID", "ITEM_UNKNOWN")
    },
    "every-id-checked-as-resident-card": {"schema_check": _passports_checked_as_id_cards},
    "no-idempotency": {"answer_again": _stored_again},
    "slow-intake": {"intake_pause": _synchronous_lookup},
    "intake-one-at-a-time": {"intake_pause": _synchronous_archive_write},
    "status-numbered-by-case": {"status_answer": _status_numbered_by_case},
    "logout-route-missing": {"logout_answer": _logout_route_missing, "end_sessions": _no_sessions_ended},
    "draft-kept-on-refusal": {"schema_check": _draft_kept_on_refusal},
    "resend-kept-twice": {"intake_pause": _slow_archive_lookup, "store_once": _upserted_without_second_look},
    "overload-shed-after-keeping": {"intake_pause": _counted_archive_write, "on_received": _shed_after_keeping},
    "items-from-own-list": {"item_lookup": _from_own_list},
    "crash-on-empty-materials": {"keeps": _crashes_on_empty_materials},
    "loses-applications": {"keeps": _loses_one_in_five},
    "intake-200": {"intake_status": 200},
    "status-stuck-received": {"status_of": lambda last_step: "received"},
    # events and the outbox
    "old-item-code": {"event_item_code": lambda item_code: item_code[19:]},  # the 12-digit base code
    "handler-missing-name": {"event_handler": lambda handler: {**handler, "name": ""}},
    "future-timestamps": {"event_clock_shift": dt.timedelta(hours=1)},
    "nightly-batch-push": {"event_clock_shift": dt.timedelta(hours=-13)},  # pushed 13 h after the step
    "refusals-in-daily-report": {"step_lag": lambda step: dt.timedelta(hours=13 if step == "BYSL" else 0)},
    "utc-timestamps": {"event_time": _in_utc},
    "pushes-to-province": {"event_exchange": lambda system: system.province_url},
    "only-201-delivered": {"delivered": lambda status: status == 201},
    "duplicate-not-delivered": {"receipt_taken": lambda answer: '"duplicate":true' not in answer.replace(" ", "")},
    "only-200-delivered": {"delivered": lambda status: status == 200},
    "no-retry-on-5xx": {"gives_up": _yes},
    "resends-refused": {"gives_up": lambda status: False},
    "retry-without-backoff": {"backoff": lambda attempts: 0.0},
    "conflict-retried": {"gives_up": lambda status: status in (400, 413, 415, 422)},  # 409 read as a lock
    "proxy-refusals-retried": {"gives_up": lambda status: status in (400, 409, 422)},  # 413/415 read as a proxy's
    "bad-request-retried": {"gives_up": lambda status: status in (409, 413, 415, 422)},  # 400 read as transient
    "retry-rebuilt": {"retry_body": _rebuilt},
    "rectification-outside-outbox": {"rectification_push": _pushed_at_once},
    "driver-waits-for-delivery": {"driver_action": _answered_after_delivery},
    "suspension-not-pushed": {"unreported_steps": frozenset({"GQ", "HF"})},
    "withdrawal-not-pushed": {"unreported_steps": frozenset({"CH"})},
    "case-actions-answer-step-only": {"driver_answer": _case_step_answer},
    "batch-without-limit": {"push_round": _everything_in_one_batch},
    "sb-for-online": {"on_received": _sb_for_every_application},
    "outbox-not-ordered": {"ready": _every_due_entry},
    "gives-up-after-one-retry": {"attempts_limit": 2.0},
    "connection-failure-taken-as-refusal": {"gives_up": lambda status: status == 0 or is_refusal(status)},
    # the clerk's desk
    "accepts-not-serialized": {"desk": lambda system, request: nullcontext(), "case_item": _refreshed_item},
    "license-not-verified": {"license_status": _taken_as_valid},
    "library-error-taken-as-invalid": {"license_status": _outage_as_not_found},
    "connection-failure-as-502": {"unreachable_status": 502},
    "idp-error-taken-as-bad-ticket": {"idp_unavailable": lambda answer: False},
    "license-holder-is-legal-rep": {"license_holder": _representative_or_person},
    "bz-reason-not-status": {"license_reason": lambda material, state: absent(material)},
    "bz-first-material-only": {"missing_listed": lambda missing: missing[:1]},
    "due-date-weekends-only": {"due_date": _weekdays_only},
    "case-no-without-check": {"case_no": lambda system, params: issue_case_no(system)[:-1]},
    "case-no-dated-by-calendar-date": {"case_no": _case_no_on_calendar_date},
    "case-serial-not-advanced": {"case_no": _first_case_no_of_the_day},
    "legal-days-wrong": {"sl_payload": _sl_with("legal_days", lambda entry: entry["promised_days"])},
    "case-no-after-acceptance": {"sl_payload": _sl_with("case_no", lambda entry: None)},  # assigned later
    "refusal-without-reason": {"bysl_payload": reason_given},
    "bysl-gets-case-no": {"refusal_case_no": issue_case_no},
    "refused-can-be-withdrawn": {"next_steps": _withdrawal_after_refusal},
    "accept-while-awaiting-supplements": {"next_steps": _accept_while_awaiting_supplements},
    "withdraw-only-after-acceptance": {"next_steps": _withdraw_only_after_acceptance},
    "suspend-before-acceptance": {"next_steps": _suspend_before_acceptance},
    "advance-while-suspended": {"next_steps": _advance_while_suspended},
    "resume-restarts-review": {"next_steps": _resume_restarts_review},
    "withdraw-after-completion": {"next_steps": _withdraw_after_completion},
    "withdraw-refused-while-suspended": {"next_steps": _withdraw_refused_while_suspended},
    "complete-while-suspended": {"completable": _completable_unless_closed},
    "notices-on-open-cases-only": {"notice_case": _open_case},
    "fk-on-own-counter": {"feedback": _fk_on_own_counter},
    "red-card-unanswered": {"fk_payload": _explained_for_yellow_only},
    "fk-names-own-reference": {"fk_payload": _fk_names_own_reference},
    "fk-without-explanation": {"fk_payload": _fk_without_explanation},
    "evaluation-middle-folded": {"evaluation_of": _evaluation_with(level=lambda level: 4 if level == 3 else level)},
    "evaluation-level-2-refused": {"evaluation_of": _level_2_refused},
    "evaluation-scale-inverted": {"evaluation_of": _evaluation_with(level=lambda level: 6 - level)},
    "evaluation-empty-comment-null": {"evaluation_of": _evaluation_with(comment=lambda comment: comment or None)},
    "evaluation-id-per-case": {"evaluation_of": _evaluation_per_case},
    "evaluation-level-unchecked": {"evaluation_of": _level_unchecked},
    "evaluation-channel-default-web": {"evaluation_channel": lambda params: str(params.get("channel", "web"))},
    "evaluate-answers-id-only": {"evaluation_answer": lambda answer: {"evaluation_id": answer["evaluation_id"]}},
    "rectifies-level-1-only": {"rectifiable": _only_level_1_bad},
    "rectifies-below-5": {"rectifiable": _bad_up_to(4)},
    "rectifies-up-to-3": {"rectifiable": _bad_up_to(3)},
    "rectify-answers-ok-only": {"rectification_answer": lambda answer: {"ok": True}},
    "rectifies-another-cases-review": {"rectifiable": _review_by_id_only},
    "rectify-empty-action": {"rectification_action": lambda params: str(params.get("action", ""))},
    "skips-review-steps": {"review_steps": ()},
    "bj-without-documents": {"bj_payload": _bj_without_documents},
    "denial-reported-approved": {"bj_payload": lambda result, licenses, params: bj_payload("approved", licenses, {})},
    "sl-dated-by-calendar-date": {"acceptance_time": _on_calendar_date},
    "calendar-date-read-leniently": {"day0": _day0_or_today},
    "license-id-bad-check": {"license_id": _home_made_check},
    "bj-before-license": {"license_issue": _never},
    "window-number-wrong-channel": {
        "window_digit": lambda channel: "1",
        "window_unchecked": frozenset({"/application_no"}),
    },
    "agent-number-window-digit": {
        "window_digit": lambda channel: "3",
        "window_unchecked": frozenset({"/application_no"}),
    },
    "window-number-city-division": {"window_division": lambda system: system.registration.division_code[:4] + "00"},
    "window-sequence-not-advanced": {"window_serial": lambda system: 1},
    "window-id-unchecked": {"window_unchecked": frozenset({"/applicant/id_number"})},
    "window-uscc-unchecked": {"window_unchecked": frozenset({"/applicant/uscc"})},
    "window-id-type-unchecked": {"window_unchecked": frozenset({"/applicant/id_type"})},
    "text-trimmed": {"window_entry": _trimmed},
    "sb-missing": {"window_announcement": _unannounced},
    "agent-application-unannounced": {"window_announcement": _window_only_announced},
    # the platform's other calls and the evaluations
    "guide-kept-apart": {"guide": _local_copy},
    "change-notice-ignored": {"change_refetch": _never},
    "fk-twice": {"repeat_fk": True},
    "evaluation-not-pushed": {"evaluation_push": _never},
    "rectification-not-pushed": {"rectification_push": _never},
    # single sign-on
    "session-before-validation": {"early_session": _early_session},
    "ticket-refusal-200": {"ticket_refusal_status": 200},
    "sm2-not-verified": {"identity_check": _yes},
    "session-fixation": {"session_id": _held_cookie},
    "session-fixation-known-sessions": {"session_id": _held_known_session},
    "cookie-not-httponly": {"session_cookie": _bare_cookie},
    "session-missing-fields": {"session_view": lambda user: {"user_id": user["user_id"], "name": user["name"]}},
    "auth-level-ignored": {"auth_level_enough": _yes},
    "logout-ignored": {"end_sessions": _nothing},
    # 2026.2 messages, signing, SSO
    "query-blank-pairs-dropped": {"signature_check": _blank_pairs_dropped},
    "apply-entry-item-first": {"entry_lookup": _item_first},
    "signature-errors-one-code": {"signature_check": _one_code},
    "future-timestamps-accepted": {"signature_check": _future_taken},
    "timestamp-window-one-minute": {"signature_check": _narrow_window},
    "nonce-claimed-before-signature": {"signature_check": _signature_checked_last},
    "nonces-shared-by-apps": {"request_nonces": _OneNonceSet},
    "app-looked-up-first": {"signature_check": _app_looked_up_first},
    "header-syntax-before-app": {"signature_check": _syntax_before_app},
    "timestamp-read-leniently": {"signature_check": _timestamp_read_leniently},
    "nonce-syntax-unchecked": {"signature_check": _any_nonce},
    "timestamp-window-before-syntax": {"signature_check": _window_before_syntax},
    "signature-before-timestamp-window": {"signature_check": _signature_before_window},
    "forged-application-kept": {"signature_check": _drafted_before_verdict},
    "supplements-unsigned": {"signature_check": _unsigned_at("/supplements")},
    "catalog-notices-unsigned": {"signature_check": _unsigned_at("/catalog/notifications")},
    "supervision-notices-unsigned": {"signature_check": _unsigned_at("/supervision/notices")},
    "driver-takes-platform-key": {"signature_check": _platform_key_at_the_driver},
    # the last clauses without a fault (issue 13, faults2)
    "driver-app-id-unchecked": {"signature_check": _driver_key_whatever_app_id},
    "login-cookie-kept-when-brought": {"login_sets_cookie": _cookie_kept_when_brought},
    "legal-person-session-not-kept": {"session_kept": _persons_only},
    "window-acceptance-not-pushed": {"step_reported": _sl_unreported_after_sb},
    "minor-applicants-refused": {"code_check": _applicant_refused(_minor)},
    "enterprise-uscc-market-only": {"code_check": _applicant_refused(_enterprise_outside_market_registry)},
    "web-digit-fully-online-items-only": {"number_fits_item": _web_for_fully_online_items},
    "sb-rep-id-type-as-number": {"window_announcement": _rep_type_as_number},
    "logout-unsigned": {"signature_check": _unsigned_at("/sso/logout")},
    "empty-ticket-sent-to-idp": {"ticket_of": _ticket_as_given},
    "logout-ends-latest-session-only": {"end_sessions": _latest_session_ended},
    "logout-answers-204": {"logout_answer": lambda user_id: Response(status_code=204)},
    "auth-level-must-equal": {
        "auth_level_enough": lambda user, entry: user["auth_level"] == entry["required_auth_level"]
    },
    "apply-entry-any-department": {"entry_lookup": _other_departments_too},
    "apply-entry-generic-form": {"entry_lookup": _generic_form},
    "query-sorted-by-name-only": {"signature_check": _verified_in(*SIG02_ORDER, query_rule=_sorted_by_name_only)},
    "query-sorted-ignoring-case": {"signature_check": _verified_in(*SIG02_ORDER, query_rule=_sorted_ignoring_case)},
    "query-encoded-like-javascript": {
        "signature_check": _verified_in(*SIG02_ORDER, query_rule=_encoded_like_javascript)
    },
    "accept-q-ignored": {"prefers_html": _html_named_first},
    "calendar-path-in-error": {"calendar_refusal": _calendar_path_shown},
    "sb-material-names-empty": {"window_announcement": _sb_without_material_names},
    "events-carry-system-division": {"event_division": lambda system, application: system.registration.division_code},
    "gq-without-expected-days": {"step_payload": _gq_without_expected_days},
    "handler-without-id": {"event_handler": lambda handler: {"name": handler["name"]}},
    # 2026.2 catalogue, evaluation, driver, robustness
    "etag-built-from-version": {"item_condition": _etag_from_version},
    "library-outage-taken-as-refusal": {"license_then_review": _review_then_license},
    "evaluation-channel-ignored": {"evaluation_channel": lambda params: "window"},
    "rectifies-every-review": {"rectifiable": _nothing},
    "waits-past-call-budget": {"platform_timeout": 30.0},  # an HTTP library's generous default
    "decides-on-current-version": {"case_version": lambda system, application, current: current},
    # 2026.2 events
    "status-follows-delivered": {"status_step": _last_delivered_step},
    "handler-generic-system": {"own_handler": _generic_handler},
    "time-before-submission": {"earliest_time": lambda application, last_time, step: None},
    "evaluation-outside-outbox": {"evaluation_push": _pushed_at_once, "rectification_push": _pushed_at_once},
    "refused-reissued": {"on_refusal": _reissued},
    # deeper APP-07
    "status-case-no-null": {"status_answer": _case_no_always},
    "status-updated-at-now": {"status_answer": _updated_now},
    "status-fk-counted": {"status_step": _fk_counted},
    "status-bzj-still-supplement": {"status_of": {**STATUS, "BZJ": "supplement_required"}.__getitem__},
    # deeper LIC-01, LIC-02
    "license-named-after-item": {"license_title": lambda entry: str(entry["name"])},
    "license-holder-always-person": {"license_owner": _holder_always_person},
    "license-refusal-passed-on": {"license_issue": _library_code_passed_on},
    "license-not-found-as-outage": {"license_status": _not_found_as_outage},
    "license-holder-not-compared": {"license_status": _holder_not_compared},
    # MSG-01 … MSG-05, REG-01 deepened
    "nan-taken-as-number": {"body_parser": _python_json},
    "empty-body-read-as-object": {"body_parser": _empty_body_as_object},
    "body-decoded-leniently": {"body_parser": _decoded_leniently},
    "xml-parse-error-as-schema": {"body_parser": _xml_parse_error_as_nothing},
    "body-limit-inclusive": {"body_reader": _limit_inclusive},
    "proxy-413-page": {"error_answer": _proxy_413_page},
    "framework-415-code": {"error_answer": _framework_media_code},
    "conflict-before-schema": {"schema_check": _conflict_before_schema},
    "codes-before-conflict": {"answer_again": _codes_before_conflict},
    "xml-dtd-allowed": {"body_parser": _dtd_allowed},
    "supplements-xml-unhardened": {"body_parser": _supplements_by_stdlib},
    "schema-details-empty": {"error_answer": _details_dropped},
    "dotted-detail-paths": {"error_answer": _dotted_paths},
    "xml-error-root-response": {"error_answer": _xml_error_rewritten(_root_named_response)},
    "xml-details-unwrapped": {"error_answer": _xml_error_rewritten(_details_unwrapped)},
    "xml-null-written": {"error_answer": _xml_error_rewritten(_null_written)},
    "xml-error-undeclared-member": {"error_answer": _xml_error_rewritten(_requirement_kept)},
    "html-errors-everywhere": {"error_answer": _html_for_every_browser},
    "html-error-page-200": {"error_page": _page_200},
    "strict-request-models": {"body_parser": _strict_models},
    "xml-checked-by-xsd": {"body_parser": _xml_checked_by_xsd},
    "materials-at-least-one": {"schema_check": _at_least_one_material},
    "texts-never-empty": {"schema_check": _no_empty_texts},
    "health-refuses-signed": {"health": _health_refuses_auth},
    # CODE-01, CODE-07, CODE-08, CODE-09 deepened
    "window-certificates-limited": {"window_entry": _window_form(_certificate_not_offered)},
    "window-kinds-limited": {"window_entry": _window_form(_kind_not_offered)},
    "window-kind-1-taken": {"window_unchecked": frozenset({"/applicant/kind"})},
    "window-id-digits-only": {"window_entry": _window_form(_id_digits_only)},
    "license-version-padded-right": {"license_id": _version_padded_right},
    "license-issuer-type-body": {"license_id": _issuer_is_type_body},
    "license-type-of-department": {"license_id": _type_of_department},
    "calendar-of-acceptance-year-only": {"due_date": _acceptance_year_only},
    # CAT-02 / CAT-03 deepened
    "notice-answered-202": {"notice_status": 202},
    "notice-after-refetch": {"change_refetch": _refetched_first},
    "retired-notice-ignored": {"change_refetch": _updates_only},
    "guide-shows-retired": {"guide_shows": _shown_whatever_status},
    "accept-needs-active-item": {"case_item": _active_case_item},
    "decides-on-first-version": {"case_version": _first_version},
    "guide-refuses-signed": {"guide_page": _guide_refuses_signed},
    # ACC-04 deepened
    "weekend-day0-moved": {"due_date": _weekend_day0_moved},
    "instant-as-one-day": {"due_date": _instant_as_one_day},
    "instant-needs-calendar": {"due_date": _calendar_always_read},
    "calendar-gap-weekdays": {"due_date": _weekends_beyond_calendar},
    "calendar-gap-500": {"calendar_refusal": _calendar_gap_500},
    "calendar-gap-year-unnamed": {"calendar_refusal": _calendar_gap_unnamed},
    # APP-04 deepened
    "repeat-compared-as-text": {"answer_again": _repeat_as_text},
    "repeat-checked-again": {"answer_again": _repeat_checked_again},
    "item-checked-before-conflict": {"answer_again": _item_before_conflict},
    # ACC-01 deepened
    "driver-unknown-409": {"driver_action": _unknown_as_state},
    "driver-params-first": {"driver_action": _params_first},
    "driver-params-required": {"driver_action": _params_required},
    "driver-answer-own-event-id": {"driver_answer": _answer_of_new_event_id},
    "second-accept-taken": {"next_steps": _accept_again},
    "refusal-answer-names-case-no": {"driver_action": _refusal_answered_with_register_no},
    "second-refusal-taken": {"next_steps": _refuse_again},
    "withdraw-refused-while-awaiting-supplements": {"next_steps": _supplements_waiting_for_documents_only},
    "request-supplement-refused": {"driver_action": _supplement_only_at_intake_check},
    "supplements-trusted": {"missing_of": _supplements_trusted},
    # ROB-01 deepened
    "catalogue-outage-item-unknown": {"item_lookup": _outage_as_unknown},
    "catalogue-drop-unhandled": {"item_lookup": _own_lookup(())},
    "token-failure-unhandled": {"item_lookup": _own_lookup((httpx.TransportError,))},
    "token-answer-unchecked": {"token_answer": _token_taken_as_given},
    "catalogue-answer-unchecked": {"item_answer": _item_taken_as_given},
    "verification-answer-unchecked": {"license_status": _status_field_read},
    "issue-answer-unchecked": {"license_issue": _any_2xx_issued},
    "validation-answer-unchecked": {"idp_unavailable": lambda answer: answer.status_code >= 500},
    "keys-outage-taken-as-bad-signature": {"keys_unavailable": _keys_outage_as_bad_signature},
    "conflict-shows-database-error": {"answer_again": _conflict_from_the_database},
    "signature-mismatch-shows-key": {"signature_check": _signature_explained},
    "material-kinds-unmodelled": {"schema_check": _material_kinds_unmodelled},
    "codes-coerced-from-numbers": {"schema_check": _codes_coerced},
    "keys-fetched-unsigned": {"keys_get": _plain_get},
    "session-person-fields-only": {"session_view": _person_session},
    # ROB-02 deepened
    "refusal-reason-trimmed": {"bysl_payload": _reason_trimmed},
    "window-fields-escaped": {"window_entry": _window_fields_escaped},
    "auth-level-cached-forever": {"auth_level_enough": _first_level_kept},
    "ticket-refusal-json": {"ticket_refusal": _ticket_refused_as_json},
    "signed-apply-sessionless": {"entry_lookup": _signed_calls_sessionless},
    "evaluation-comment-trimmed": {"evaluation_of": _evaluation_with(comment=lambda comment: comment.strip())},
    "rectification-action-escaped": {"rectification_action": _rectification_action_escaped},
    "window-text-drops-others": {"window_announcement": _other_applications_dropped},
    "step-texts-escaped": {"step_payload": _suspension_escaped},
    "session-name-cleaned": {"session_view": _session_name_trimmed},
    # APP-01 deepened
    "delivery-address-required": {"schema_check": _refusing("/delivery/address", "required", _without_address)},
    "channels-of-2019": {"schema_check": _refusing("/channel", "not a known channel", _web_or_window)},
    "agent-member-refused": {"schema_check": _refusing("/agent", "unexpected member", _with_agent)},
    # APP-02 … APP-05, CODE-01 … CODE-06 deepened (depth-app)
    "household-register-refused": {"code_check": _applicant_refused(_certificates_without("113"))},
    "other-certificate-refused": {"code_check": _applicant_refused(_certificates_without("990"))},
    "legal-kinds-enterprise-only": {"code_check": _applicant_refused(_legal_kind_other_than("2"))},
    "app-numbered-as-web": {"code_check": _app_numbered_as_web},
    "channel-free-text": {"schema_check": _schema_dropping("/channel", lambda document: True)},
    "delivery-method-free-text": {"schema_check": _schema_dropping("/delivery/method", lambda document: True)},
    "person-contact-optional": {
        "schema_check": _schema_dropping("/applicant/phone", _of_type("person")),
    },
    "legal-contact-optional": {"schema_check": _schema_dropping("/applicant/contact", _of_type("legal"))},
    "certificates-mainland-only": {"code_check": _applicant_refused(_certificates_without("513", "516", "511", "553"))},
    "legal-kind-9-refused": {"code_check": _applicant_refused(_kind_9)},
    "person-kind-checked": {"code_check": _applicant_refused(_kind_read_on_persons)},
    "division-by-prefix": {"code_check": _division_by_prefix},
    "number-check-digit-only": {"code_check": _number_check_digit_only},
    "terminal-digit-refused": {"code_check": _terminal_digit_unknown},
    "item-checked-first": {
        "code_order": ("ITEM_UNKNOWN", "APPLICATION_NO_INVALID", "CODE_INVALID", "APPLICANT_INVALID")
    },
    "retired-item-taken": {"item_lookup": _retired_as_active},
    "public-service-items-unknown": {"item_lookup": _items_where(lambda entry: entry.get("type") != "20")},
    "instant-items-unknown": {"item_lookup": _items_where(lambda entry: entry.get("case_kind") != "1")},
    "item-version-coerced": {"schema_check": _schema_dropping("/item_version", _version_as_text)},
    "post-address-optional": {"schema_check": _schema_dropping("/delivery", _post_without_address)},
    "material-members-optional": {"schema_check": _schema_dropping("/materials", _any_material)},
    "codes-before-schema": {"schema_check": _codes_before_schema},
    "refused-number-remembered": {"schema_check": _refusals_logged},
    "repeat-stored-anew": {"answer_again": _repeat_stored_anew},
    "license-cached-per-holder": {"license_status": _cached_per_holder},
    "window-id-current-divisions": {
        "window_entry": _window_form(
            _window_id(
                lambda n: (d := national_divisions().get(n[:6])) is None or d.last_year is not None,
                "positions 1-6 are no current division code",
            )
        )
    },
    "uscc-check-31-kept": {"window_entry": _window_form(_window_uscc(_check_31_kept, "wrong check character"))},
    "uscc-division-checked": {
        "window_entry": _window_form(_window_uscc(_division_part_checked, "positions 3-8 are no division code"))
    },
    "uscc-org-code-checked": {
        "window_entry": _window_form(_window_uscc(_org_code_check_fails, "the organisation code fails GB 11714"))
    },
    "uscc-org-code-digits-only": {
        "window_entry": _window_form(_window_uscc(_org_code_digits_only, "the organisation code is not 8 digits"))
    },
    "sb-carries-case-no": {"window_announcement": _sb_with_case_no},
    # depth: APP, CAT, LIC, SUP, EVAL, ROB (appetc)
    "legal-kind-required": {
        "schema_check": _schema_refusing("/applicant/kind", "kind is required", _applicant_is("legal", "kind"))
    },
    "intake-answers-receipt-id": {"intake_answer": lambda answer: {**answer, "application_no": str(uuid.uuid4())}},
    "received-at-utc": {"intake_answer": _received_at_utc},
    "intake-answers-accepted": {"intake_answer": lambda answer: {**answer, "status": "accepted"}},
    "division-checked-before-number": {
        "code_order": ("CODE_INVALID", "APPLICATION_NO_INVALID", "ITEM_UNKNOWN", "APPLICANT_INVALID")
    },
    "repeat-answered-200": {"answer_again": _repeat_answered_200},
    "window-number-left-out": {"window_announcement": _window_number_left_out},
    "status-submitted-first": {"status_of": {**STATUS, None: "submitted"}.__getitem__},
    "status-sb-accepted": {"status_of": {**STATUS, "SB": "accepted"}.__getitem__},
    "status-unknown-not-found": {"status_query": _unknown_as_not_found},
    "due-from-legal-days": {"sl_payload": _due_from_legal_days},
    "guide-signed-only": {"guide_page": _guide_signed_only},
    "guide-unknown-not-found": {"guide_page": _unknown_item_not_found},
    "guide-name-with-department": {"guide": _guide_changed(name=lambda e: f"{e['dept']['name']} {e['name']}")},
    "guide-legal-as-promised": {"guide": _guide_changed(legal_days=lambda e: e["promised_days"])},
    "guide-promised-as-legal": {"guide": _guide_changed(promised_days=lambda e: e["legal_days"])},
    "guide-auth-level-1": {"guide": _guide_changed(required_auth_level=lambda e: 1)},
    "guide-visits-one": {"guide": _guide_changed(max_visits=lambda e: 1)},
    "license-type-presented": {"license_document": _license_changed(license_type=_presented_license_type)},
    "license-holder-natural-person": {"license_owner": _natural_person},
    "license-issuer-text": {
        "license_document": _license_changed(issuer=lambda lic, entry, found: entry["dept"]["name"])
    },
    "license-dates-as-times": {
        "license_document": _license_changed(valid_from=lambda lic, entry, found: lic["issued_at"])
    },
    "license-application-no": {
        "license_document": _license_changed(case_no=lambda lic, entry, found: found["application_no"])
    },
    "license-file-mime": {
        "license_document": _license_changed(
            file=lambda lic, entry, found: {**lic["file"], "format": "application/ofd"}
        )
    },
    "license-refusal-retried-later": {"license_issue": _refusal_queued_for_retry},
    "card-notice-answered-202": {"notice_answer": _answered_202(supervision_notice)},
    "notice-repeat-conflict": {"notice_answer": _repeat_notice_conflict},
    "notice-unknown-case-422": {"notice_answer": _unknown_case_422},
    "fk-drafted": {"feedback": _fk_drafted},
    "evaluation-id-serial": {"evaluation_of": _evaluation_with(evaluation_id=_evaluation_id_serial)},
    "evaluation-zone-twice": {"evaluation_of": _evaluation_with(evaluated_at=_zone_added_twice)},
    "evaluate-answers-desk-id": {"evaluation_answer": lambda answer: {**answer, "evaluation_id": str(uuid.uuid4())}},
    "rectification-id-uppercase": {"rectification_push": _rectification_changed(evaluation_id=str.upper)},
    "rectification-action-template": {"rectification_action": lambda params: "已整改"},
    "rectified-at-date-only": {"rectification_push": _rectification_changed(rectified_at=_date_only)},
    "rectified-when-closed": {"rectifiable": _rectified_when_closed},
    "name-cjk-spaces-dropped": {"window_entry": _name_changed(_cjk_spaces_dropped)},
    "name-emoji-dropped": {"window_entry": _name_changed(_emoji_dropped)},
    "name-quotes-slashed": {"window_entry": _name_changed(_quotes_slashed)},
    "name-sql-words-filtered": {"window_entry": _name_changed(_sql_words_filtered)},
    "name-html-escaped": {"window_entry": _name_changed(html.escape)},
    # REG-01, CODE-04 … CODE-08 clauses without a fault (msgcode)
    "health-status-up": {"health": _health_status_up},
    "health-behind-signature": {"health": _health_behind_signature},
    "health-on-management-port": {"health": _health_on_management_port},
    "item-type-local-numbering": {
        "window_entry": _window_item_code(_item_type_plus_ten),
        "window_unchecked": frozenset({"/item_code"}),
    },
    "item-code-organisation-code": {
        "window_entry": _window_item_code(_implementer_organisation_code),
        "window_unchecked": frozenset({"/item_code"}),
    },
    "item-level-unset": {
        "window_entry": _window_item_code(lambda item_code: item_code[:18] + "0" + item_code[19:]),
        "window_unchecked": frozenset({"/item_code"}),
    },
    "window-number-dashed": {
        "window_number": _window_number_dashed,
        "window_unchecked": frozenset({"/application_no"}),
    },
    "window-number-day-first": {
        "window_number": _window_number_day_first,
        "window_unchecked": frozenset({"/application_no"}),
    },
    "window-number-without-dept-seq": {"window_number": _window_number_without_dept_seq},
    "window-number-id-weights": {
        "window_number": _window_number_id_weights,
        "window_unchecked": frozenset({"/application_no"}),
    },
    "window-number-next-day": {
        "window_number": _window_number_next_day,
        "window_unchecked": frozenset({"/application_no"}),
    },
    "case-no-window-number": {"case_no": _case_no_of_window},
    "case-no-day-first": {"case_no": _case_no_day_first},
    "case-no-city-division": {"case_no": _case_no_of_city},
    "case-no-dated-by-submission": {"sl_payload": _sl_case_no_of_submission},
    "license-prefix-short": {"license_id": _license_prefix_short},
    "license-type-number-unpadded": {"license_id": _license_type_number_unpadded},
    "license-check-undotted": {"license_id": _license_check_undotted},
    "license-serial-uuid": {"license_id": _license_serial_uuid},
    "license-version-unpadded": {"license_id": _license_version_unpadded},
    "license-type-template-typo": {"license_id": _license_type_template_typo},
    "license-issuer-organisation-code": {"license_id": _license_issuer_organisation_code},
    "event-time-with-space": {"event_time": _time_with_space},
    "event-time-milliseconds": {"event_time": _time_with_milliseconds},
    "received-at-microseconds": {"intake_answer": _received_at_with_microseconds},
    # MSG-01 … MSG-04 clauses without a fault (msgcode)
    "unknown-route-plain-404": {"route_errors": _framework_route_errors},
    "method-not-allowed-detail": {"route_errors": _framework_405_detail},
    "route-errors-class-names": {"route_errors": _route_errors_class_names},
    "signature-errors-msg": {"error_answer": _signature_filter_msg},
    "empty-details-omitted": {"error_answer": _empty_details_omitted},
    "problem-json-errors": {"error_answer": _problem_json},
    "xml-errors-in-json": {"error_answer": _errors_always_json},
    "xml-errors-without-namespace": {"error_answer": _xml_errors_without_namespace},
    "xml-nested-camel-case": {"body_parser": _xml_read_as(_snake_case_nested_unbound)},
    "xml-materials-of-material-elements": {"body_parser": _xml_read_as(_materials_of_material_elements)},
    "xml-numbers-as-text": {"body_parser": _xml_read_as(_numbers_as_text)},
    "xml-form-as-text": {"body_parser": _xml_read_as(_form_as_text)},
    "parsed-before-signature": {"check_order": _parsed_before_signature},
    "content-type-ignored": {"check_order": _media_never_checked},
    "malformed-json-422": {"body_parser": _malformed_as_422},
    "body-limit-of-the-proxy": {"body_reader": _limit_of_the_proxy},
    "media-before-size": {"body_reader": _media_before_size},
    "nested-members-refused": {"schema_check": _nested_strict},
    "empty-names-taken": {"schema_check": _empty_names_taken},
    "person-kind-typed": {"schema_check": _person_kind_typed},
    "json-charset-refused": {"check_order": _media_compared_whole},
    "sub-items-unknown": {"item_lookup": _items_where(lambda entry: str(entry.get("item_code"))[-3:] == "000")},
    "license-issued-at-microseconds": {"license_issue": _license_reissued(_issued_at_with_microseconds)},
    "license-valid-from-as-time": {"license_issue": _license_reissued(_valid_from_as_time)},
    "administrative-bodies-refused": {
        "code_check": _applicant_refused(_legal_kind_other_than("2", "3", "4", "5", "9"))
    },
    "sso-hand-off-json-errors": {"page_wanted": _json_errors_at(lambda path: path.endswith("/sso"))},
    "session-json-errors": {"page_wanted": _json_errors_at(lambda path: path == "/yzw/v1/session")},
    "guide-json-errors": {
        "page_wanted": _json_errors_at(lambda path: path.startswith("/yzw/v1/items/") and not path.endswith("/apply"))
    },
    "apply-entry-json-errors": {"page_wanted": _json_errors_at(lambda path: path.endswith("/apply"))},
    "driver-401-oauth": {"error_answer": _driver_401_oauth},
    "intake-answer-camel-case": {"intake_answer": _camel_case},
    "phone-coerced-from-number": {"schema_check": _phone_coerced},
    "electronic-delivery-needs-address": {
        "schema_check": _refusing("/delivery/address", "required", _electronic_needs_address)
    },
    "license-holder-name-empty": {"license_issue": _license_reissued(_holder_name_left_empty)},
    "license-issuer-name-empty": {"license_issue": _license_reissued(_issuer_name_left_empty)},
    "license-name-empty": {"license_issue": _license_reissued(_license_name_left_empty)},
    "events-as-text-plain": {"push_form": lambda path, body: (body.encode(), "text/plain;charset=UTF-8")},
    "xml-events-entity-fields": {"push_form": _events_in_xml_with_entity_fields},
    "wrong-method-not-found": {"route_errors": _wrong_method_not_found},
    "terminal-renumbered": {"keeps": _terminal_renumbered},
    # APP, LIC, EVAL clauses without a fault (appetc2)
    "person-phone-mobile-only": {
        "schema_check": _refusing("/applicant/phone", "not a mobile number", _person_landline)
    },
    "contact-phone-mobile-only": {
        "schema_check": _refusing("/applicant/contact/phone", "not a mobile number", _contact_landline)
    },
    "file-size-capped": {"schema_check": _refusing("/materials", "file larger than 50 MB", _file_over_50_mb)},
    "license-material-one-of": {
        "schema_check": _refusing("/materials", "matches file and license", _license_with_file)
    },
    "post-address-needs-postcode": {
        "schema_check": _refusing("/delivery/address", "no postcode", _address_without_postcode)
    },
    "agent-required-at-terminals": {"schema_check": _refusing("/agent", "required", _terminal_without_agent)},
    "one-material-taken-as-list": {"schema_check": _one_material_as_list},
    "id-born-before-1940-refused": {"code_check": _applicant_refused(_born_before_1940)},
    "license-expired-taken-as-valid": {"license_status": _expired_as_valid},
    "license-bz-answered-409": {"driver_action": _license_bz_as_error},
    "refused-connection-unhandled": {
        "item_lookup": _own_lookup((httpx.TimeoutException, httpx.HTTPStatusError, TokenUnavailable))
    },
    "evaluation-case-no-without-check": {"evaluation_push": _evaluation_case_no_short},
    "holder-id-lower-case": {"license_holder": _id_number_lower_case},
    "window-sequence-restarted": {"window_announcement": _sb_outside_the_sequence},
    "evaluation-token-of-sso": {"push_round": _evaluations_with_sso_token},
    "license-used-once": {"missing_of": _license_used_once},
    "notice-refusal-as-text": {"error_answer": _notice_refusal_as_text},
    "archive-opened-on-first-query": {"status_query": _old_numbers_in_archive},
    "unseen-item-from-the-list": {"item_lookup": _unseen_item_from_the_list},
    # SIG-01, SIG-03 in the system's own calls (depth-sigsso)
    "own-calls-timestamp-in-ms": {"request_signer": _vendor_signer(stamp=lambda: str(int(time.time() * 1000)))},
    "own-signature-upper-hex": {
        "request_signer": _vendor_signer(mac=lambda secret, message: signature(secret, message).upper())
    },
    "own-calls-hmac-sha256": {"request_signer": _vendor_signer(mac=_hmac_sha256)},
    "own-calls-keyed-with-platform-secret": {
        "request_signer": _vendor_signer(key=lambda system, secret: system.platform_secret)
    },
    "own-calls-key-utf16": {"request_signer": _vendor_signer(mac=_utf16_keyed)},
    "own-calls-method-lowercase": {"request_signer": _vendor_signer(canonical=_lowercase_method)},
    "own-calls-path-within-service": {"request_signer": _vendor_signer(canonical=_path_within_service)},
    "own-calls-empty-query-line-dropped": {"request_signer": _vendor_signer(canonical=_query_line_dropped)},
    "own-calls-nonce-before-timestamp": {"request_signer": _vendor_signer(canonical=_nonce_before_timestamp)},
    "own-calls-body-serialized-again": {"request_signer": _vendor_signer(canonical=_body_serialized_again)},
    "own-calls-empty-body-unhashed": {"request_signer": _vendor_signer(canonical=_no_body_no_hash)},
    "own-calls-trailing-newline": {"request_signer": _vendor_signer(canonical=_trailing_newline)},
    "own-calls-department-as-app-id": {
        "request_signer": _vendor_signer(app_id=lambda system, own: system.registration.dept_uscc)
    },
    "exchange-calls-unsigned": {"request_signer": _vendor_signer(unsigned=_under("/exchange/"))},
    "catalogue-calls-unsigned": {"request_signer": _vendor_signer(unsigned=_under("/catalog/"))},
    "license-calls-unsigned": {"request_signer": _vendor_signer(unsigned=_under("/license/"))},
    "token-request-unsigned": {"request_signer": _vendor_signer(unsigned=_under("/idp/v1/oauth/"))},
    "ticket-validation-unsigned": {"request_signer": _vendor_signer(unsigned=_under("/idp/v1/tickets/"))},
    "token-grant-client-credential": {"token_form": _token_request("client_credential")},
    "token-request-as-json": {"token_form": _token_request(as_json=True)},
    "token-request-carries-bearer": {"token_form": _token_request(bearer=True)},
    # SIG-01 CANONICAL_QUERY on the receiving side (depth-sigsso)
    "query-split-on-semicolons": {"signature_check": _verified_in(*SIG02_ORDER, query_rule=_split_on_semicolons_too)},
    "query-empty-pairs-kept": {"signature_check": _verified_in(*SIG02_ORDER, query_rule=_empty_pairs_kept)},
    "query-plus-kept": {"signature_check": _verified_in(*SIG02_ORDER, query_rule=_plus_kept)},
    "query-read-as-latin1": {"signature_check": _verified_in(*SIG02_ORDER, query_rule=_read_as_latin1)},
    "query-bad-escapes-kept-raw": {"signature_check": _verified_in(*SIG02_ORDER, query_rule=_bad_escapes_kept_raw)},
    "query-bad-bytes-dropped": {"signature_check": _verified_in(*SIG02_ORDER, query_rule=_bad_bytes_dropped)},
    "query-pairs-unsorted": {"signature_check": _verified_in(*SIG02_ORDER, query_rule=_pairs_as_sent)},
    "query-spaces-as-plus": {"signature_check": _verified_in(*SIG02_ORDER, query_rule=_spaces_as_plus)},
    # SIG-04, SIG-05 (depth-sigsso)
    "token-expiry-not-renewed": {"token_renewed_on": ("TOKEN_INVALID",)},
    "token-refusal-not-retried": {"token_refused_retried": False},
    "token-renewed-five-minutes-early": {"token_margin": 300},
    "scope-without-exchange-write": {"token_scope": _scopes_without("exchange:write")},
    "scope-without-catalog-read": {"token_scope": _scopes_without("catalog:read")},
    "scope-without-license-read": {"token_scope": _scopes_without("license:read")},
    "scope-without-license-write": {"token_scope": _scopes_without("license:write")},
    "scope-without-idp-ticket": {"token_scope": _scopes_without("idp:ticket")},
    # SIG-02: keys and the public endpoints (depth-sigsso)
    "platform-verified-with-own-secret-too": {"signature_check": _own_secret_as_fallback},
    "health-behind-signature-filter": {"public_gate": _signature_filter_at(r"/yzw/v1/health")},
    "hand-off-behind-signature-filter": {"public_gate": _signature_filter_at(r"/yzw/v1/sso")},
    "session-behind-signature-filter": {"public_gate": _signature_filter_at(r"/yzw/v1/session")},
    "guide-behind-signature-filter": {"public_gate": _signature_filter_at(r"/yzw/v1/items/[^/]+")},
    "apply-entry-behind-signature-filter": {"public_gate": _signature_filter_at(r"/yzw/v1/items/[^/]+/apply")},
    # SSO-02: how the identity record is verified (depth-sigsso)
    "sm2-first-key-taken": {
        "identity_check": _sm2_verified(key_of=lambda keys, record: next(iter(keys.values()), None))
    },
    "sm2-keys-pinned": {"identity_check": _pinned_keys()},
    "sm2-message-prehashed": {
        "identity_check": _sm2_verified(
            data_of=lambda user, issued_at: bytes.fromhex(sm3_hex(signed_bytes(user, issued_at)))
        )
    },
    "sm2-user-id-of-person": {"identity_check": _sm2_verified(uid_of=lambda user: str(user["user_id"]).encode())},
    "sm2-signature-read-as-der": {"identity_check": _sm2_verified(der=True)},
    "sm2-json-unsorted": {"identity_check": _sm2_verified(data_of=_canonical_with(sort_keys=False))},
    "sm2-json-top-level-sorted": {"identity_check": _sm2_verified(data_of=_top_level_sorted)},
    "sm2-json-with-spaces": {"identity_check": _sm2_verified(data_of=_canonical_with(separators=(", ", ": ")))},
    "sm2-json-ascii-escaped": {"identity_check": _sm2_verified(data_of=_canonical_with(ensure_ascii=True))},
    "sm2-issued-at-quoted": {
        "identity_check": _sm2_verified(data_of=lambda user, issued_at: signed_bytes(user, json.dumps(issued_at)))
    },
    # SSO-01, SSO-03 … SSO-05, SSO-07 (depth-sigsso)
    "hand-off-at-trailing-slash": {"public_gate": _hand_off_moved},
    "ticket-validated-cas-style": {"ticket_validation": _validated_with_get},
    "ticket-sent-without-prefix": {"ticket_validation": _validated_as(ticket=lambda t: t.removeprefix("ST-"))},
    "validation-names-department": {
        "ticket_validation": _validated_as(app_id=lambda system: system.registration.dept_uscc)
    },
    "hand-off-without-ticket-to-portal": {"public_gate": _no_ticket_to_portal},
    "session-local-account-id": {"session_view": lambda user: {**user, "user_id": f"local-{user['user_id']}"}},
    "session-name-masked": {"session_view": lambda user: {**user, "name": str(user["name"])[:1] + "*"}},
    "anonymous-session-200": {"public_gate": _anonymous_session},
    "auth-level-above-only": {
        "auth_level_enough": lambda user, entry: int(user["auth_level"]) > int(entry["required_auth_level"])
    },
    "apply-entry-to-portal-login": {"public_gate": _apply_without_session_to_portal},
    "login-answers-page": {"login_answer": _meta_refresh_page},
    "session-id-from-user": {"session_for": _session_of_person},
    "token-from-oauth2-default-path": {"token_path": "/oauth2/token"},
    # depth: ACC-01 … ACC-06 (issue 13, part 3)
    "refusal-not-pushed": {"unreported_steps": frozenset({"BYSL"})},
    "accept-answer-internal-case-no": {"driver_answer": _answer_internal_case_no},
    "promised-days-as-legal": {"sl_payload": _sl_with("promised_days", lambda entry: entry["legal_days"])},
    "due-at-office-close": {"due_date": _due_at_office_close},
    "day0-counted": {"due_date": _day0_counted},
    "weekends-counted-as-working": {"due_date": _holiday_table_only},
    "calendar-date-ignored": {"day0": _calendar_date_checked_only},
    "licenses-noticed-after-files": {"missing_of": _licenses_after_files},
    "accepted-with-deficiencies": {"driver_action": _accept_with_deficiencies},
    "notice-answered-as-error": {"driver_action": _notice_answered_as_error},
    "supplements-answered-202": {"supplements_answer": _supplements_accepted_202},
    "supplements-status-supplemented": {"supplements_answer": _supplements_status_supplemented},
    "supplements-not-pushed": {"unreported_steps": frozenset({"BZJ"})},
    "bzj-lists-whole-file": {"bzj_payload": _whole_file_supplied},
    "supplements-unasked-taken": {"supplements_state": _supplements_before_acceptance},
    "supplements-unknown-409": {"supplements_state": _supplements_state_first},
    "refused-takes-supplements": {"supplements_state": _supplements_reopen_refusal},
    "refused-can-be-accepted": {"next_steps": _after_refusal("SL")},
    "supplement-notice-after-refusal": {"next_steps": _after_refusal("BZ")},
    "refused-case-steps-open": {"next_steps": _after_refusal("CB", "GQ")},
    # depth: EVT-01 … EVT-05 (issue 13, part 3)
    "delivery-not-pushed": {"unreported_steps": frozenset({"SD"})},
    "second-delivery-taken": {"next_steps": _deliver_again},
    "notice-not-pushed": {"unreported_steps": frozenset({"BZ"})},
    "token-without-exchange-scope": {"token_scope": SCOPES.replace("exchange:write ", "")},
    "bj-result-in-words": {"bj_payload": _bj_result_in_words},
    "bj-result-on-denial-only": {"bj_payload": _bj_result_on_denial_only},
    "bj-licenses-when-issued": {"bj_payload": _bj_licenses_when_issued},
    "sd-method-renamed": {"step_payload": _payload_renamed("SD", "method", "delivery_method")},
    "ch-reason-renamed": {"step_payload": _payload_renamed("CH", "reason", "withdraw_reason")},
    "bysl-reason-renamed": {"bysl_payload": _refusal_reason_renamed},
    "bz-missing-as-codes": {"missing_listed": _missing_as_codes},
    # depth: ACC-01.8, ACC-02.4, ACC-05.10, ACC-05.15 (issue 13, part 3)
    "no-refusal-while-awaiting-supplements": {"next_steps": _no_refusal_while_awaiting_supplements},
    "completeness-checked-as-first-filed": {"missing_of": _as_first_filed},
    "instant-items-auto-accepted": {"on_received": _instant_accepted_on_receipt},
    "case-no-drawn-at-opening": {"driver_action": _case_no_at_opening},
    # depth: EVT-02's members, on the FK the supervision module builds by hand (issue 13, part 3)
    "fk-event-id-composed": {"feedback": _fk_built_by_hand(_fk_id_composed)},
    "fk-without-seq": {"feedback": _fk_built_by_hand(_without("seq"))},
    "fk-step-named-db": {"feedback": _fk_built_by_hand(_fk_named_db)},
    "fk-time-left-to-exchange": {"feedback": _fk_built_by_hand(_without("occurred_at"))},
    "fk-without-division": {"feedback": _fk_built_by_hand(_without("division_code"))},
    "fk-without-dept": {"feedback": _fk_built_by_hand(_without("dept_uscc"))},
    "fk-without-item-code": {"feedback": _fk_built_by_hand(_without("item_code"))},
    "fk-handler-without-name": {"feedback": _fk_built_by_hand(_fk_handler_id_only)},
    "fk-payload-flattened": {"feedback": _fk_built_by_hand(_fk_flattened)},
    # depth: EVT-01.7, EVT-03.2, EVT-03.13, EVT-04.1 (issue 13, part 3)
    "completion-not-pushed": {"unreported_steps": frozenset({"BJ"})},
    "dispatch-takes-a-seq": {"driver_action": _dispatch_takes_a_seq},
    "cb-again-after-cb": {"next_steps": _cb_again_after_cb},
    "review-backdated": {"driver_action": _review_backdated},
    # depth: CODE-05.21, CODE-06.11, the day turning at midnight +08:00 (seen only 00:00–08:00 +08:00: `runs_at`)
    "case-day-in-utc": {"case_no": _case_no_by_utc_day},
    "window-day-in-utc": {"window_number": _window_number_by_utc_day},
    "token-per-component": {
        "push_round": _outbox_with_its_own_token,
        "token_scope": " ".join(name for name in SCOPES.split() if name != "exchange:write"),
    },
    # depth: EVT-02.22, EVT-02.23 (issue 13)
    "review-payload-null": {"step_payload": _payload_not_an_object(frozenset({"CB", "SH", "PZ"}), None)},
    "resumption-payload-list": {"step_payload": _payload_not_an_object(frozenset({"HF"}), [])},
    # depth: EVT-01.13, EVT-01.14, EVT-02.2, EVT-03.1, EVT-03.3, ACC-03.2, ACC-03.6 (issue 13)
    "case-events-without-application-no": {"push_form": _case_events_without_application_no},
    "seq-from-zero": {"event_seq": _seq_from_zero},
    "seq-across-applications": {"event_seq": _seq_across_applications},
    "backlog-batch-to-single-url": {"push_round": _backlog_batched(EVENTS, lambda events: {"events": events})},
    "backlog-batch-unwrapped": {"push_round": _backlog_batched(EVENTS + ":batch", lambda events: events)},
    "sl-without-application-no": {"sl_payload": _sl_without("application_no")},
    "sl-without-due-time": {"sl_payload": _sl_without("promised_due_at")},
    # depth: APP-05, ACC-06, APP-06 (issue 13, cold review items 6, 7, 8, 13, 19)
    "supplied-license-unverified": {"missing_of": _supplied_licenses_trusted},
    "license-verified-once": {"license_status": _valid_remembered},
    "window-licenses-unverified": {"missing_of": _window_licenses_seen},
    "refused-number-reopened": {"answer_again": _refused_number_reopened},
    "sb-without-agent": {"window_announcement": _sb_without_agent},
    # depth: the codes intake judges (issue 13, review items 1-4)
    "number-date-by-pattern": {"code_check": _number_date_by_pattern},
    "divisions-table-2018": {"code_check": _divisions_table_2018},
    "legal-kind-1-taken": {"code_check": _legal_kind_1_taken},
    "number-dated-before-today": {"code_check": _number_dated_before_today},
    # depth: CODE-06.5, the check value 10 (X) reached on purpose (review item 16)
    "case-check-ten-as-digits": {"case_no": _case_no_check_ten_as_digits},
    # depth: CODE-06.8 under clerks acting at the same moment (review item 15)
    "case-serial-max-plus-one": {
        "desk": lambda system, request: nullcontext(),
        "driver_action": _acceptance_form_numbered_first,
        "case_no": _case_no_of_the_form,
    },
    # depth: SSO-07.6/.7, EVT-05.6, EVT-04.3/.4, EVT-02 (cold review, issue 13)
    "own-session-kept-on-relogin": {"session_for": _own_session_kept},
    "denial-reason-optional": {"complete_params": _denial_reason_defaulted},
    "submission-floor-on-acceptance-only": {"earliest_time": _submission_floor_on_acceptance_only},
    "fk-division-of-case-no": {"feedback": _fk_built_by_hand(_fk_division_of_case)},
    "bzj-under-the-bz-clerk": {"bzj_handler": _bzj_by_the_bz_clerk},
    # depth: ROB-01.28, any 5xx, not only a gateway's (issue 13, review 5)
    "library-500-taken-as-refusal": {"license_issue": _issue_gateway_statuses_only},
    # depth: EVT-07.2, any 5xx retried (issue 13, review 20)
    "internal-error-not-retried": {"gives_up": lambda status: status == 500 or is_refusal(status)},  # read as a bug
    # depth: ROB-01.19 at intake (issue 13, review 11)
    "intake-lookup-without-budget": {"item_lookup": _lookup_without_budget},
    "license-drawn-before-the-result": {"license_then_review": _license_drawn_first},
    "keys-answer-unchecked": {"keys_of": _keys_taken_as_given},
    # depth: ROB-01.1, a broken application_no (issue 13, review 12)
    "number-read-before-schema": {"schema_check": _number_read_first},
    "apply-entry-outage-as-unknown": {"entry_lookup": _entry_outage_as_unknown},
    # depth: EVT-03.6, SB only first (issue 13)
    "window-supplements-announced-again": {"bzj_handler": _window_supplements_announced_again},
    # depth: APP-01.1 (issue 13)
    "intake-behind-gateway-prefix": {"intake_path": "/api/yzw/v1/applications"},
    # depth: ROB-01.1, bodies a parser or a handler chokes on
    "body-assumed-an-object": {"schema_check": _number_looked_up_first},
    "deep-json-unguarded": {"body_parser": _unguarded_recursive_parser},
    # depth: SIG-02 receiving (issue 13, review 2 a2, a11, a20)
    "nonce-syntax-from-traffic": {"signature_check": _nonce_syntax_from_traffic},
    "nonce-keyed-with-timestamp": {"signature_check": _replays_keyed_by_timestamp},
    "intake-replays-left-to-idempotency": {"signature_check": _intake_replays_left_to_idempotency},
    "callbacks-signature-presence-only": {
        "signature_check": _presence_only_at("/supplements", "/catalog/notifications", "/supervision/notices")
    },
    "logout-signature-presence-only": {"signature_check": _presence_only_at("/sso/logout")},
    "body-reserialised-before-hashing": {"signature_check": _body_reserialised},
    "ticket-validation-not-renewed": {"ticket_validation": _ticket_validated_without_retry},
    "license-issue-not-renewed": {"license_issue": _license_issued_without_retry},
    # depth: CODE-01 and CODE-09 on the whole country's IDs, birth-date edges (issue 13, review 2 a1, a6, a13)
    "id-division-of-the-province": {"window_entry": _window_form(_ids_of_the_province)},
    "legal-rep-read-as-id-card": {"code_check": _legal_rep_read_as_id_card},
    "id-born-before-today": {
        "window_entry": _window_form(_window_id(_born_from_today_on, "the birth date is not before today"))
    },
    "id-february-of-28-days": {
        "window_entry": _window_form(_window_id(_february_of_28_days, "the birth date is no real day"))
    },
    # depth: ACC-04 on a plain acceptance, its calendar at the edges (issue 13, review 2 b4, a12, a7)
    "due-counted-from-submission": {"counted_from": _counted_from_submission},
    "spring-festival-of-seven-days": {"due_date": _spring_festival_of_seven_days},
    "calendar-checked-for-day0-only": {"due_date": _calendar_checked_for_day0},
    # cold review round 2, item b5: transitions never tried (issue 13)
    "supplements-asked-while-processing": {"next_steps": _supplements_asked_while_processing},
    "material-added-to-the-notice": {"next_steps": _material_added_to_the_notice},
    "suspension-extended": {"next_steps": _suspension_extended},
    "resume-without-suspension": {"next_steps": _resume_without_suspension},
    "notices-refused-while-suspended": {"notice_case": _active_case},
    # cold review round 2, item b6: a decision made alone after supplements (issue 13)
    "accepted-once-supplements-complete": {"after_supplements": _accepted_once_complete},
    # cold review round 2, item b15: the driver's answers to refuse and request_supplement (issue 13)
    "refusal-answered-bare": {"driver_answer": _refusal_answered_bare},
    "bz-answer-names-the-notice": {"driver_answer": _notice_id_as_event_id},
    # cold review round 2, item b7: rectify's errors in the norm's order (issue 13)
    "rectification-params-first": {"rectifiable": _rectification_params_first},
    # cold review round 2, item b8: the evaluation level's lower bound (issue 13)
    "evaluation-level-capped-above-only": {"evaluation_of": _level_capped_above_only},
    # cold review round 2, item b10: one FK per notice_id, not per card (issue 13)
    "one-fk-per-card": {"notice_answer": _one_fk_per_card},
    # cold review round 2, item b12: the e-license's issuer.uscc (issue 13)
    "license-issuer-from-settings": {"license_document": _issuer_from_settings},
    # cold review round 2, item b11: a retired item under a version the system once held (issue 13)
    "retired-item-by-held-version": {"intake_item": _item_by_named_version},
    # cold review round 2, item b13: where each step is pushed (issue 13)
    "feedback-to-the-province": {"push_round": _feedback_to_the_province},
    # cold review round 2, item b14: supplements after SL, license-typed materials omitted or scanned (issue 13)
    "supplements-once-noticed": {"supplements_state": _supplements_once_noticed},
    "license-materials-not-counted": {"missing_of": _uploads_counted_only},
    "license-scan-taken-as-missing": {"missing_of": _scans_of_licenses_missing},
    # cold review round 2, item b17: a change of the item's materials (issue 13)
    "materials-kept-on-notice": {"change_refetch": _materials_kept_on_notice},
    # review round 2, a15: JSON answers labelled application/json beyond the intake's (MSG-01.2)
    "health-actuator-media-type": {"health": _health_actuator_media},
    # review round 2, a16: the IdP's logout of a stranger, a logout with a member more (SSO-06)
    "logout-of-a-stranger-unknown": {"end_sessions": _logout_of_a_stranger_unknown},
    "logout-model-strict": {"body_parser": _strict_logout_model},
    # review 1 item 12: absurd timestamps, malformed session cookies, driver params of another type (issue 13)
    "timestamp-overflows-a-datetime": {"signature_check": _timestamp_overflows},
    "session-cookie-pasted-into-sql": {"session_user": _session_sql_concatenated},
    "driver-params-of-any-type": {"schema_step": _driver_params_untyped},
    # cold review round 2 (issue 13), review2-b item 1: APP-02 on every required member, two violations, 400 first
    "form-and-materials-defaulted": {"schema_check": _members_defaulted},
    "item-resolved-before-schema": {"schema_check": _item_resolved_first},
    # cold review round 2 (issue 13), review2-b item 2: APP-01 / MSG-03, a typed form, an empty contact phone
    "form-values-text-only": {"schema_check": _schema_refusing("/form", "form values must be strings", _form_of_texts)},
    "contact-phone-not-blank": {"schema_check": _contact_phone_blank},
    # cold review round 2 (issue 13), review2-a items 3, 4 / review2-b item 3: CODE-08 beyond the SL's times
    "window-sb-submitted-with-microseconds": {"window_announcement": _sb_submitted_now_isoformat},
    "status-updated-at-in-utc": {"status_answer": _status_updated_in_utc},
    # cold review round 2 (issue 13), review2-a item 17: MSG-03 non-empty names on every step
    "review-steps-unnamed": {"step_handler": _review_steps_unnamed},
    # cold review round 2 (issue 13), review2-a item 5: MSG-03 on supplements, notices, notifications, logout
    "notification-change-defaulted": {"body_parser": _notification_change_defaulted},
    "notice-and-logout-strict": {"body_parser": _notice_and_logout_strict},
    # cold review round 2 (issue 13), review2-a item 9: MSG-04 on every endpoint, a chunked body over 10 MiB
    "body-size-of-content-length": {"body_reader": _size_of_content_length},
    "media-of-the-intake-only": {"check_order": _media_of_the_intake_only},
    "secondary-parse-errors-as-schema": {"body_parser": _secondary_parse_errors_as_schema},
    # cold review round 2 (issue 13), review2-b item 9: APP-04 after supplements, materials and delivery compared
    "repeat-compared-with-the-file": {"answer_again": _repeat_compared_with_the_file},
    "repeat-compared-on-the-row": {"answer_again": _repeat_compared_on_the_row},
    # cold review round 2 (issue 13), review2-b item 16: APP-07 while an event is still queued
    "status-of-settled-events": {"status_step": _status_of_settled_events},
    # cold review round 2 (issue 13), review2-b item 2: ACC-05 for an application without materials
    "empty-materials-complete": {"missing_of": _materials_checked_when_given},
    # review round 2, a8: a retired item at the apply entry (SSO-05.6)
    "apply-entry-retired-item-opens": {"entry_lookup": _retired_items_open},
    # review round 2, a10: Accept wildcards at the browser-facing endpoints; the apply entry's refusals (MSG-02)
    "accept-wildcards-ignored": {"prefers_html": _named_types_only},
    "apply-entry-refusals-as-json": {"entry_refusal": _entry_refusals_as_json},
    # review round 2, a18: a key the IdP publishes after start-up (SSO-02.3)
    "sm2-keys-loaded-at-start-up": {"identity_check": _keys_loaded_once()},
    # review round 2, a14: the system's signer behind the province's gateway (SIG-01.15)
    "own-calls-path-after-base-url": {"request_signer": _path_after_base_url},
}
