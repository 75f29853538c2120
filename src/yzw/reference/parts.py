"""The replaceable parts of the reference system: clean by default, swapped for faulty ones by seeded faults.

A part is a function or a small value the clean code paths read as `system.parts.<name>` at a natural seam
(how a case number is issued, how an event time is written, when the outbox gives up …). `assemble` starts
from the clean parts and applies the replacements each seeded fault registers in `yzw.reference.faulty`,
so a fault is data there and never an `if` in the clean code, which names no fault.

To add a part:
1. add a field to `Parts`, typed, its default the clean implementation: a value, or a function defined
   (with its requirement in the docstring) in the module whose code path calls it;
2. call `system.parts.<name>` where that behaviour was;
3. give each fault that changes it a replacement under the part's name in `faulty.REGISTRY`;
4. name the part under the fault's `part:` in mocks/faults.yaml — tests/test_reference_faults.py checks
   that the registry and the catalogue agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import httpx
from starlette.requests import Request
from starlette.responses import Response

from yzw.client import REFRESH_MARGIN, RENEW_ON, Credentials, SignHeaders, Token, read_token, token_form
from yzw.codes import compose
from yzw.codes.calendar import promised_due_at
from yzw.errors import CalendarYearMissing, YzwError
from yzw.reference import catalogue, driver, guard, intake, journal, services, sso
from yzw.reference.faulty import REGISTRY
from yzw.reference.system import SCOPES, ReferenceSystem, own_signer
from yzw.serving import http
from yzw.serving import pipeline as serving
from yzw.serving.errors import ApiError, exception_handlers
from yzw.serving.pipeline import Step
from yzw.signing import Nonces
from yzw.spec.findings import Finding
from yzw.spec.limits import limits

T = TypeVar("T")
Json = dict[str, Any]
ItemLookup = Callable[[ReferenceSystem, str], Awaitable[Json | None]]
EntryLookup = Callable[[ReferenceSystem, Request, str], Awaitable[tuple[Json | None, Json | None]]]


def unchanged(value: T) -> T:
    """The clean version of many parts: the value as it is."""
    return value


async def no_pause() -> None:
    """Nothing to wait for: intake answers as soon as its checks are done (PERF-01)."""


@dataclass(frozen=True)
class Parts:
    """The parts, each with the requirement it serves; the defaults are the clean system."""

    # the signed client to the platform (SIG-01, SIG-03 … SIG-05)
    token_path: str | None = "/idp/v1/oauth/token"  # the province's token endpoint; None: calls carry no token
    token_scope: str = SCOPES
    token_reuse: bool = True  # one token until it expires
    token_renewed_on: tuple[str, ...] = RENEW_ON  # the refusals after which a new token is fetched, the call retried
    token_retries: int = 1  # a call refused TOKEN_EXPIRED/TOKEN_INVALID is retried once with a new token
    nonce_bytes: int = 16  # random bytes per nonce, as hex: 32 characters
    token_answer: Callable[[httpx.Response, Token], None] = read_token  # no token in it: 503 (ROB-01)
    # intake, status, health (REG-01, APP-01 … APP-04, APP-07, MSG-03, CAT-01, PERF-01, PERF-02)
    health_norm: str = "YZW-NORM-2026"
    health: Callable[[Request], Awaitable[Response]] = intake.health  # public: signed or not (REG-01)
    schema_check: Callable[[ReferenceSystem, Any, list[Finding]], list[Finding]] = intake.as_found
    code_check: Callable[[Any, dict[str, list[Finding]]], dict[str, list[Finding]]] = intake.codes_as_found  # APP-03
    unchecked_codes: frozenset[str] = frozenset()  # 422 codes intake never answers
    unchecked_members: tuple[str, ...] = ()  # members whose codes intake never checks (JSON pointer prefixes)
    code_order: tuple[str, ...] = intake.CODE_ORDER  # APP-03: which 422 wins when several apply
    answer_again: Callable[[ReferenceSystem, Json | None, Any], Response | None] = intake.first_answer
    intake_pause: Callable[[], Awaitable[None]] = no_pause
    item_lookup: ItemLookup = catalogue.item  # where intake finds the application's item
    number_fits_item: Callable[[Any, Json], bool] = intake.any_item  # the number's channel for the item (CODE-05)
    item_answer: Callable[[Any], Json | None] = catalogue.item_of  # None: not the norm's answer, 503 (ROB-01)
    keeps: Callable[[ReferenceSystem, Any], bool] = intake.keeps
    store_once: Callable[[ReferenceSystem, Any, Json, str], Response | None] = intake.store_once  # APP-04, PERF-02
    intake_status: int = 202
    status_of: Callable[[str | None], str] = intake.STATUS.__getitem__  # the status after the last step
    status_answer: Callable[[Json, str], Json] = intake.status_answer  # the status query's answer (APP-07)
    # events and the outbox (EVT-01 … EVT-08, CODE-04, CODE-08)
    event_item_code: Callable[[str], str] = unchanged
    event_division: Callable[[ReferenceSystem, Json], str] = journal.application_division
    event_handler: Callable[[dict[str, str]], dict[str, str]] = unchanged
    event_clock_shift: dt.timedelta = dt.timedelta(0)  # how far the system's clock is off
    step_lag: Callable[[str], dt.timedelta] = journal.written_at_once  # EVT-06: when a step is written
    event_time: Callable[[dt.datetime], str] = dt.datetime.isoformat  # occurred_at as written
    event_exchange: Callable[[ReferenceSystem], str] = journal.own_exchange
    push_form: Callable[[str, str], tuple[bytes, str]] = journal.as_json  # a pushed body and its label (MSG-01)
    delivered: Callable[[int], bool] = journal.delivered
    gives_up: Callable[[int], bool] = journal.is_refusal
    attempts_limit: float = float("inf")  # EVT-07: retried until delivered
    ready: Callable[[ReferenceSystem], list[Any]] = journal.ready_in_order  # EVT-07: later events wait
    backoff: Callable[[int], float] = journal.backoff
    outbox_idle_seconds: float = 0.2  # how long an idle outbox sleeps before it looks again (EVT-06: real time)
    intake_path: str = "/yzw/v1/applications"  # APP-01: where the platform POSTs applications
    outbox_woken: bool = True  # a queued event wakes the outbox at once (else it waits out its idle time)
    # the clerk's desk, the driver (ACC-01 … ACC-06, APP-05, APP-06, LIC-01, LIC-02, CODE-01 … CODE-09, ROB-02)
    desk: Callable[[ReferenceSystem, dict[str, Any]], AbstractAsyncContextManager[Any]] = driver.one_desk
    driver_action: Callable[[ReferenceSystem, Json], Awaitable[Json]] = driver.carry_out  # 404, 409, then 422
    driver_answer: Callable[[Json], Json] = driver.event_answer  # names the event queued (ACC-01)
    case_item: ItemLookup = catalogue.item  # where the clerk finds a case's item
    license_status: Callable[[ReferenceSystem, str, str], Awaitable[str]] = driver.verify_license
    license_reason: Callable[[Json, str], str] = driver.status_as_reason
    license_holder: Callable[[Json], str] = driver.license_holder
    missing_listed: Callable[[list[dict[str, str]]], list[dict[str, str]]] = unchanged
    due_date: Callable[[dt.date, int], dt.datetime] = promised_due_at
    next_steps: Callable[[str | None, str | None], frozenset[str]] = driver.allowed_steps  # EVT-03, ACC-06
    completable: Callable[[frozenset[str]], bool] = driver.review_ahead  # §11 complete (EVT-03)
    case_no: Callable[[ReferenceSystem, Json], str] = driver.issue_case_no
    acceptance_time: Callable[[Json], str | None] = driver.accepted_now
    day0: Callable[[Json], dt.date] = driver.day0
    step_payload: Callable[[str, Json, Json], Json] = driver.step_payload
    sl_payload: Callable[[str, Json, Json, dt.datetime], Json] = driver.sl_payload
    bysl_payload: Callable[[Json], Json] = driver.bysl_payload
    refusal_case_no: Callable[[ReferenceSystem], str | None] = driver.no_case_no
    review_steps: tuple[str, ...] = ("CB", "SH", "PZ")
    bj_payload: Callable[[str, list[str], Json], Json] = driver.bj_payload
    complete_params: Callable[[Json], Json] = driver.complete_params  # §11 complete's params, checked (EVT-05)
    license_id: Callable[[ReferenceSystem, Json, str], str] = driver.license_number
    license_issue: Callable[[ReferenceSystem, Json], Awaitable[None]] = driver.issue_license
    license_owner: Callable[[Json], Json] = driver.license_owner  # the issued e-license's holder (LIC-01)
    license_title: Callable[[Json], str] = driver.license_title  # the issued e-license's name (LIC-01)
    window_entry: Callable[[Json], Json] = unchanged  # the clerk's entry, as typed
    window_digit: Callable[[str], str] = driver.CHANNEL_DIGIT.__getitem__
    window_division: Callable[[ReferenceSystem], str] = driver.own_division
    window_serial: Callable[[ReferenceSystem], int] = driver.next_window_serial
    window_number: Callable[[str, str, dt.date, str, int], str] = compose.system_application_no  # CODE-05
    window_unchecked: frozenset[str] = frozenset()  # paths of a window application taken without a check
    window_announcement: Callable[[ReferenceSystem, Json], Json] = driver.announce
    # the platform's other calls and the evaluations (CAT-02, CAT-03, SUP-02, EVAL-01, EVAL-02)
    guide_page: Callable[[Request], Awaitable[Response]] = services.guide_page  # public: signed or not (CAT-02)
    guide: Callable[[Json], Json] = unchanged
    guide_shows: Callable[[ReferenceSystem, Json], bool] = catalogue.active_for_department  # else 404
    change_refetch: Callable[[ReferenceSystem, Json], Awaitable[None]] = services.refetch  # on a notice
    notice_status: int = 200  # the change notice's answer (CAT-03)
    repeat_fk: bool = False  # a repeated supervision notice gets its FK again
    notice_case: Callable[[ReferenceSystem, str], Any] = services.held_case  # the case a notice names (SUP-02)
    feedback: Callable[[ReferenceSystem, str, Json], None] = services.push_feedback  # the FK (SUP-02, EVT-03)
    fk_payload: Callable[[Json], Json] = services.feedback_payload  # what the FK says (SUP-02)
    evaluation_push: Callable[[ReferenceSystem, Json], Awaitable[None]] = services.send_evaluation
    rectification_push: Callable[[ReferenceSystem, Json], Awaitable[None]] = services.send_rectification
    # the request pipeline (MSG-01 … MSG-05, SIG-02): the shared one of yzw.serving.pipeline, configured
    accepted_media: Callable[[tuple[str, ...]], tuple[str, ...]] = unchanged  # the registered formats' media
    check_order: Callable[[tuple[Step, ...]], tuple[Step, ...]] = unchanged  # media type, then signature
    signature_check: Step = serving.check_signature
    request_nonces: Callable[[Nonces], Nonces] = unchanged  # the memory a request's nonce is checked against
    body_reader: Callable[[Request], Awaitable[bytes]] = http.read_body  # 413 over 10 MiB, not at it (MSG-04)
    body_parser: Step = serving.parse_document
    error_answer: Callable[[ApiError, serving.Call], Response] = guard.answer_in_kind
    route_errors: Callable[[str], dict[Any, Any]] = exception_handlers  # unknown routes and methods (MSG-02)
    # single sign-on (SSO-01 … SSO-07)
    early_session: Callable[[ReferenceSystem, str], str | None] = sso.no_early_session
    ticket_of: Callable[[Request], str | None] = sso.ticket_of
    ticket_refusal_status: int = 401
    ticket_refusal: Callable[[Request, int, str, str], Response] = sso.browser_error  # a page for a browser
    identity_check: Callable[[dict[str, str], Json], bool] = sso.verified
    session_id: Callable[[ReferenceSystem, Request], str] = sso.fresh_sid
    idp_unavailable: Callable[[httpx.Response], bool] = sso.idp_unavailable  # ROB-01
    keys_unavailable: Callable[[Request], Response] = sso.keys_unavailable  # ROB-01: 503, no session
    keys_get: Callable[[ReferenceSystem, str], Awaitable[httpx.Response]] = sso.signed_get  # SIG-01, SIG-03
    keys_of: Callable[[httpx.Response], dict[str, str] | None] = sso.keys_of  # ROB-01: not the norm's answer, None
    session_cookie: Callable[[Response, str, str, bool], None] = sso.set_session_cookie
    session_cookie_name: str = sso.COOKIE
    unreachable_status: int = 503  # ROB-01: what a request answers when a platform service cannot be reached
    session_view: Callable[[Json], Json] = unchanged
    auth_level_enough: Callable[[Json, Json], bool] = sso.auth_level_enough
    end_sessions: Callable[[ReferenceSystem, str], None] = sso.end_sessions
    logout_answer: Callable[[str], Response] = sso.logged_out
    # 2026.2 messages, signing, SSO
    entry_lookup: EntryLookup = sso.session_first
    entry_refusal: Callable[[Request, int, str, str], Response] = sso.browser_error  # its 403 and 404 (MSG-02)
    prefers_html: Callable[[str], bool] = http.prefers_html  # a browser-facing error as a page (MSG-02)
    page_wanted: Callable[[Request], bool] = sso.page_wanted  # on each browser-facing endpoint (MSG-02)
    error_page: Callable[[int, str, str], Response] = sso.error_page  # the page keeps the error's status (MSG-02)
    calendar_refusal: Callable[[CalendarYearMissing], ApiError] = driver.year_named  # no file path (MSG-02)
    # 2026.2 catalogue, evaluation, driver, robustness (CAT-01, EVAL-02, LIC-01, ROB-01)
    item_condition: Callable[[ReferenceSystem, str], dict[str, str]] = catalogue.echoed_etag
    license_then_review: Callable[[ReferenceSystem, Json, Json, str], Awaitable[list[str]]] = driver.licensed_review
    evaluation_channel: Callable[[Json], str] = driver.evaluation_channel
    rectifiable: Callable[[ReferenceSystem, str, Json], None] = driver.one_per_bad_review
    evaluation_of: Callable[[str, Json], Json] = services.evaluation_record  # what is pushed (EVAL-01)
    evaluation_answer: Callable[[Json], Json] = unchanged  # §11 evaluate's answer (EVAL-01)
    rectification_action: Callable[[Json], str] = services.clerks_action  # EVAL-02
    rectification_answer: Callable[[Json], Json] = unchanged  # §11 rectify's answer (EVAL-02)
    platform_timeout: float = field(default_factory=lambda: float(limits().platform_call_seconds))  # a call (ROB-01)
    case_version: Callable[[ReferenceSystem, Json, Json], Json] = catalogue.filed_version
    # 2026.2 events (APP-07, EVT-02, EVT-04)
    status_step: Callable[[ReferenceSystem, Json], str | None] = intake.last_step
    own_handler: Callable[[ReferenceSystem], dict[str, str]] = journal.own_handler
    earliest_time: Callable[[Json, str | None, str], str | None] = journal.not_before_submission  # (…, step)
    on_refusal: Callable[[ReferenceSystem, Any, str], None] = journal.alert_operator
    receipt_taken: Callable[[str], bool] = journal.any_receipt  # EVT-08: the 2xx answer's text
    # depth: ACC-05, ACC-06, EVT-01, EVT-02, EVT-07
    unreported_steps: frozenset[str] = frozenset()  # steps the system records without an event (EVT-01: none)
    step_reported: Callable[[str, str | None], bool] = journal.every_step_reported  # (step, the step before)
    retry_body: Callable[[str], str] = unchanged  # what a retry sends: the same event, unchanged (EVT-07)
    push_round: Callable[[ReferenceSystem], Awaitable[int]] = journal.push_once  # one pass of the outbox (EVT-01)
    on_received: Callable[[ReferenceSystem, Json], None] = intake.announced_by_platform  # no SB online (EVT-02)
    missing_of: Callable[[ReferenceSystem, Json, Json], Awaitable[list[dict[str, str]]]] = driver.missing_materials
    # depth: APP-01, APP-07, LIC-01, SUP-02
    intake_answer: Callable[[Json], Json] = unchanged  # the 202 answer as built (APP-01)
    status_query: Callable[[ReferenceSystem, str], Response] = intake.status  # GET …/applications/{no} (APP-07)
    license_document: Callable[[Json, Json, Json], Json] = driver.license_as_built  # the e-license sent (LIC-01)
    notice_answer: Callable[[ReferenceSystem, Json], Response] = services.supervision_notice  # SUP-02
    # depth: SIG-01, SIG-03 (the system's own calls)
    request_signer: Callable[[ReferenceSystem], SignHeaders] = own_signer  # how its calls are signed (SIG-01)
    token_form: Callable[[Credentials, Token], tuple[bytes, dict[str, str]]] = token_form  # the token request
    token_margin: int = REFRESH_MARGIN  # SIG-04: seconds before expiry when the token is renewed
    token_refused_retried: bool = True  # SIG-04: the call refused for its token is sent again with the new one
    # depth: SIG-02 (the public endpoints)
    public_gate: Callable[[Request], Awaitable[Response | None]] = guard.open_door  # None: served unsigned
    # depth: SSO-01, SSO-07
    ticket_validation: Callable[[ReferenceSystem, str], Awaitable[httpx.Response]] = sso.validate_ticket
    login_answer: Callable[[str], Response] = sso.redirect_home  # 302 (SSO-07)
    session_for: Callable[[ReferenceSystem, Request, str, Json], str] = sso.as_generated  # this login's id (SSO-07)
    session_kept: Callable[[Json], bool] = sso.every_user  # whether the login stores a session (SSO-04)
    login_sets_cookie: Callable[[Request], bool] = sso.every_login  # whether the login answer sets it (SSO-07)
    # depth: the supplements (ACC-05, ACC-06)
    supplements_state: Callable[[ReferenceSystem, str], Json] = intake.waiting_for_supplements  # 404, then 409
    bzj_payload: Callable[[Json, Json], Json] = intake.supplied  # the supplements' materials, the file after them
    bzj_handler: Callable[[ReferenceSystem, str], dict[str, str]] = intake.system_receives  # EVT-02: the system
    supplements_answer: Callable[[str], Response] = intake.supplements_taken
    # depth: EVT-01.13, EVT-01.14, EVT-02.2, EVT-03.1, EVT-03.3 (issue 13)
    event_seq: Callable[[Any, Any], int] = journal.next_in_application  # the next event's seq (EVT-03)
    # depth: ACC-04 on a plain acceptance (issue 13, review 2 b4)
    counted_from: Callable[[Json, Json, dt.date], dt.date] = driver.day0_as_given  # (application, params, day 0)
    # cold review round 2 (issue 13)
    after_supplements: Callable[[ReferenceSystem, str], None] = intake.clerk_decides  # after the BZJ (ACC-01)
    intake_item: Callable[[ReferenceSystem, Any], Awaitable[Json | None]] = intake.current_item  # CAT-03
    # review 1 item 12: malformed sessions and driver bodies (issue 13)
    session_user: Callable[[ReferenceSystem, Request], Json | None] = sso.session_user  # the cookie's session (SSO-04)
    schema_step: Step = serving.check_schema_whole  # 400 SCHEMA_INVALID for any body breaking its schema (MSG-03)
    # cold review round 2 (issue 13): MSG-03 on every step
    step_handler: Callable[[str, dict[str, str]], dict[str, str]] = journal.as_handed  # the handler a step names


def assemble(faults: Iterable[str], base: Mapping[str, Any] | None = None) -> Parts:
    """The clean parts (or a flavour's, `base`: yzw.reference.flavours) with every fault's replacements.

    Two faults replacing a set-valued part join their sets (codes unchecked by either are unchecked). An
    unknown fault, a fault without replacements and two faults replacing another part differently are each
    one clear error: a combination the system cannot be built from is refused, not half-applied.
    """
    chosen: dict[str, tuple[str, Any]] = {}  # part: (the fault that replaces it, its replacement)
    for fault in sorted(set(faults)):
        replacements = REGISTRY.get(fault)
        if replacements is None:
            raise YzwError(f"unknown fault {fault}; see mocks/faults.yaml")
        if not replacements:
            raise YzwError(f"the fault {fault} replaces no part of the reference system")
        for part, replacement in replacements.items():
            earlier, earlier_replacement = chosen.setdefault(part, (fault, replacement))
            if isinstance(replacement, frozenset) and isinstance(earlier_replacement, frozenset):
                chosen[part] = (earlier, earlier_replacement | replacement)
            elif earlier_replacement != replacement:
                raise YzwError(f"the faults {earlier} and {fault} both replace the part {part}: choose one")
    start = replace(Parts(), **(base or {}))
    return replace(start, **{part: replacement for part, (_, replacement) in chosen.items()})
