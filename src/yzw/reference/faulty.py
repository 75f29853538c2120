"""The seeded faults (mocks/faults.yaml) as faulty parts: realistic vendor mistakes, kept apart from the clean code.

`REGISTRY` maps each fault to the parts it replaces and with what (yzw.reference.parts assembles them).
Each replacement breaks the requirement the catalogue names for its fault, and nothing it does not declare.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping
from contextlib import nullcontext
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from yzw.codes.times import CN_TZ
from yzw.errors import CalendarYearMissing
from yzw.reference.catalogue import active_for_department, item
from yzw.reference.driver import (
    absent,
    announce,
    bj_payload,
    issue_case_no,
    license_number,
    licensed_review,
    reason_given,
    review,
    sl_payload,
)
from yzw.reference.guard import answer_in_kind
from yzw.reference.journal import EVENTS, SYSTEM_NAME
from yzw.reference.sso import COOKIE, fresh_sid, session_user
from yzw.reference.system import SCOPES, ReferenceSystem, now_text
from yzw.serving.errors import ApiError
from yzw.serving.http import JSON, XML
from yzw.serving.pipeline import Call, Pipeline, Route, Step, parse_document, verify_signature
from yzw.signing import NonceMemory, Nonces
from yzw.spec.findings import Finding
from yzw.spec.xml import from_xml

# The members of an application the strict parser of unknown-fields-refused knows (the norm's, today).
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


def _strict(document: Any, findings: list[Finding]) -> list[Finding]:
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


def _held_cookie(request: Request) -> str:
    """SSO-07 broken: the session cookie the browser already held becomes the logged-in session."""
    return request.cookies.get(COOKIE) or fresh_sid(request)


def _bare_cookie(response: Response, sid: str, https: bool) -> None:
    """SSO-07 broken: no HttpOnly, no SameSite, no Secure."""
    response.headers["set-cookie"] = f"{COOKIE}={sid}; Path=/"


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
    # intake, status, health
    "health-wrong-norm": {"health_norm": "YZW-NORM-2025"},
    "unknown-fields-refused": {"schema_check": _strict},
    "no-schema-check": {"schema_check": lambda document, findings: []},
    "applicant-id-unchecked": {"unchecked_codes": frozenset({"APPLICANT_INVALID"})},
    "item-unchecked": {"unchecked_codes": frozenset({"ITEM_UNKNOWN"})},
    "no-idempotency": {"answer_again": _stored_again},
    "slow-intake": {"intake_pause": _synchronous_lookup},
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
    "utc-timestamps": {"event_time": _in_utc},
    "pushes-to-province": {"event_exchange": lambda system: system.province_url},
    "only-201-delivered": {"delivered": lambda status: status == 201},
    "no-retry-on-5xx": {"gives_up": _yes},
    "resends-refused": {"gives_up": lambda status: False},
    "retry-without-backoff": {"backoff": lambda attempts: 0.0},
    # the clerk's desk
    "accepts-not-serialized": {"desk": lambda system: nullcontext(), "case_item": _refreshed_item},
    "license-not-verified": {"license_status": _taken_as_valid},
    "bz-reason-not-status": {"license_reason": lambda material, state: absent(material)},
    "bz-first-material-only": {"missing_listed": lambda missing: missing[:1]},
    "due-date-weekends-only": {"due_date": _weekdays_only},
    "case-no-without-check": {"case_no": lambda system: issue_case_no(system)[:-1]},
    "legal-days-wrong": {"sl_payload": _sl_with("legal_days", lambda entry: entry["promised_days"])},
    "case-no-after-acceptance": {"sl_payload": _sl_with("case_no", lambda entry: None)},  # assigned later
    "refusal-without-reason": {"bysl_payload": reason_given},
    "bysl-gets-case-no": {"refusal_case_no": issue_case_no},
    "skips-review-steps": {"review_steps": ()},
    "bj-without-documents": {"bj_payload": _bj_without_documents},
    "license-id-bad-check": {"license_id": _home_made_check},
    "bj-before-license": {"license_issue": _never},
    "window-number-wrong-channel": {
        "window_digit": lambda channel: "1",
        "window_unchecked": frozenset({"/application_no"}),
    },
    "window-id-unchecked": {"window_unchecked": frozenset({"/applicant/id_number"})},
    "window-uscc-unchecked": {"window_unchecked": frozenset({"/applicant/uscc"})},
    "window-id-type-unchecked": {"window_unchecked": frozenset({"/applicant/id_type"})},
    "text-trimmed": {"window_entry": _trimmed},
    "sb-missing": {"window_announcement": _unannounced},
    # the platform's other calls and the evaluations
    "guide-kept-apart": {"guide": _local_copy},
    "change-notice-ignored": {"change_refetch": _nothing},
    "fk-twice": {"repeat_fk": True},
    "evaluation-not-pushed": {"evaluation_push": _never},
    "rectification-not-pushed": {"rectification_push": _never},
    # single sign-on
    "session-before-validation": {"early_session": _early_session},
    "ticket-refusal-200": {"ticket_refusal_status": 200},
    "sm2-not-verified": {"identity_check": _yes},
    "session-fixation": {"session_id": _held_cookie},
    "cookie-not-httponly": {"session_cookie": _bare_cookie},
    "session-missing-fields": {"session_view": lambda user: {"user_id": user["user_id"], "name": user["name"]}},
    "auth-level-ignored": {"auth_level_enough": _yes},
    "logout-ignored": {"end_sessions": _nothing},
    # 2026.2 messages, signing, SSO
    "query-blank-pairs-dropped": {"signature_check": _blank_pairs_dropped},
    "apply-entry-item-first": {"entry_lookup": _item_first},
    "accept-q-ignored": {"prefers_html": _html_named_first},
    "calendar-path-in-error": {"calendar_refusal": _calendar_path_shown},
    "sb-material-names-empty": {"window_announcement": _sb_without_material_names},
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
    "time-before-submission": {"earliest_time": lambda application, last_time: None},
    "evaluation-outside-outbox": {"evaluation_push": _pushed_at_once, "rectification_push": _pushed_at_once},
    "refused-reissued": {"on_refusal": _reissued},
}
