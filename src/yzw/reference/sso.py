"""Single sign-on for people (SSO-01 … SSO-07): ticket hand-off, SM2-verified identity, sessions, logout."""

from __future__ import annotations

import html
import json
import secrets
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from yzw.reference.catalogue import active_for_department, item
from yzw.reference.system import ReferenceSystem, now_text
from yzw.serving.errors import error_response
from yzw.sm2 import verify
from yzw.spec import validate_value

COOKIE = "sid"  # the session cookie's name (a part: the alternative flavour names it otherwise)


def browser_error(
    request: Request, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> Response:
    """MSG-02: the error body, or an HTML page when the request's Accept prefers text/html (q-values)."""
    system: ReferenceSystem = request.app.state.system
    if system.parts.page_wanted(request):
        return system.parts.error_page(status, code, message)
    return error_response(status, code, message, details)


def page_wanted(request: Request) -> bool:
    """MSG-02: each browser-facing endpoint answers its errors as a page when Accept prefers text/html."""
    system: ReferenceSystem = request.app.state.system
    return system.parts.prefers_html(request.headers.get("accept", ""))


def error_page(status: int, code: str, message: str) -> Response:
    """MSG-02: the error as an HTML page, with the error's own status (401, 404 …)."""
    page = f"<!doctype html><title>{code}</title><h1>{status} {html.escape(code)}</h1><p>{html.escape(message)}</p>"
    return HTMLResponse(page, status_code=status)


async def _keys(system: ReferenceSystem) -> dict[str, str] | None:
    """SSO-02: the IdP's published keys by kid; None when the IdP cannot give them (ROB-01: 503)."""
    answer = await system.parts.keys_get(system, system.province_url + "/idp/v1/keys")
    return system.parts.keys_of(answer)


def keys_of(answer: httpx.Response) -> dict[str, str] | None:
    """SSO-02: the keys of the IdP's 200 by kid; None for any other answer, or one that is not the norm's (ROB-01)."""
    try:
        body = answer.json() if answer.status_code == 200 else None
    except ValueError:
        body = None
    if body is None or validate_value("keys", body):
        return None
    return {key["kid"]: key["public_key"] for key in body["keys"]}


async def signed_get(system: ReferenceSystem, url: str) -> httpx.Response:
    """SIG-01 / SIG-03: a call to the platform, the keys fetch too, is signed and carries the bearer token."""
    return await system.client.request("GET", url)


async def hand_off(system: ReferenceSystem, request: Request) -> Response:
    """GET {sso_url}?ticket=…: validate server-side, verify the SM2 record, then a fresh session (302)."""
    ticket = system.parts.ticket_of(request)
    if ticket is None:
        return browser_error(request, 400, "TICKET_MISSING", "the hand-off carries no ticket (SSO-03)")
    early = system.parts.early_session(system, ticket)
    try:
        answer = await system.parts.ticket_validation(system, ticket)
        keys = await _keys(system) if answer.status_code == 200 else {}
    except (httpx.HTTPError, OSError):
        return browser_error(
            request,
            system.parts.unreachable_status,
            "DEPENDENCY_UNAVAILABLE",
            "the identity provider cannot be reached",
        )
    if system.parts.idp_unavailable(answer):
        return browser_error(request, 503, "DEPENDENCY_UNAVAILABLE", "the identity provider cannot answer (ROB-01)")
    if keys is None:
        return system.parts.keys_unavailable(request)
    if answer.status_code != 200:
        return _refused(system, request, answer, early)
    record = answer.json()
    if not system.parts.identity_check(keys, record):
        return browser_error(request, 401, "SIGNATURE_INVALID", "the identity record's SM2 signature fails (SSO-02)")
    return _signed_in(system, request, record["user"])


async def validate_ticket(system: ReferenceSystem, ticket: str) -> httpx.Response:
    """SSO-01: POST {province}/idp/v1/tickets/validate {"ticket", "app_id"}: the ticket as received, the own app_id."""
    return await system.client.request(
        "POST",
        system.province_url + "/idp/v1/tickets/validate",
        json={"ticket": ticket, "app_id": system.registration.app_id},
    )


def redirect_home(sid: str) -> Response:
    """SSO-07: a successful login answers 302 to a page of the system's choosing."""
    return RedirectResponse("/", status_code=302)


def keys_unavailable(request: Request) -> Response:
    """ROB-01: without the IdP's public keys the identity record cannot be verified: the IdP cannot answer (503),
    the login is neither refused (SSO-02's 401) nor made."""
    return browser_error(request, 503, "DEPENDENCY_UNAVAILABLE", "the identity provider's keys cannot be had (ROB-01)")


def idp_unavailable(answer: httpx.Response) -> bool:
    """ROB-01: a 5xx or any answer that is not the norm's (200 with a validation, 400 with a ticket refusal)
    means the IdP cannot answer: 503, not a refused ticket (SSO-03)."""
    if answer.status_code == 400:
        return not (answer.headers.get("content-type", "").startswith("application/json"))
    if answer.status_code != 200:
        return True
    try:
        return bool(validate_value("ticket-validation", answer.json()))
    except ValueError:
        return True


def ticket_of(request: Request) -> str | None:
    """SSO-03: the hand-off's ticket; None when the parameter is missing or empty (400, the IdP is not asked)."""
    return request.query_params.get("ticket") or None


def _refused(system: ReferenceSystem, request: Request, answer: httpx.Response, early: str | None) -> Response:
    """SSO-03: the IdP refused the ticket, so no session (the IdP's code, or TICKET_INVALID)."""
    code = (
        answer.json().get("code", "TICKET_INVALID")
        if answer.headers.get("content-type", "").startswith("application/json")
        else "TICKET_INVALID"
    )
    refused = system.parts.ticket_refusal(
        request,
        system.parts.ticket_refusal_status,
        code,
        "the ticket was refused; no session was created (SSO-03)",
    )
    if early:
        refused.set_cookie(system.parts.session_cookie_name, early, path="/")
    return refused


def verified(keys: dict[str, str], record: dict[str, Any]) -> bool:
    """SSO-02: the identity record is signed with SM2 by a key the IdP publishes."""
    key = keys.get(record.get("kid", ""))
    return key is not None and verify(key, record["user"], record["issued_at"], record["signature"])


def _signed_in(system: ReferenceSystem, request: Request, user: dict[str, Any]) -> Response:
    """A session for the person the IdP vouched for, its cookie, and the way home (302)."""
    sid = system.parts.session_for(system, request, system.parts.session_id(system, request), user)
    if system.parts.session_kept(user):
        system.store.execute(
            "INSERT INTO sessions (sid, user_id, user_record, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (sid) DO "
            "UPDATE SET user_id = excluded.user_id, user_record = excluded.user_record, created_at = "
            "excluded.created_at",
            sid,
            user["user_id"],
            json.dumps(user, ensure_ascii=False),
            now_text(),
        )
    response = system.parts.login_answer(sid)
    if system.parts.login_sets_cookie(request):
        system.parts.session_cookie(response, system.parts.session_cookie_name, sid, request.url.scheme == "https")
    return response


def every_user(user: dict[str, Any]) -> bool:
    """SSO-04: every login the IdP vouched for creates a session, a person's or a legal person's."""
    return True


def every_login(request: Request) -> bool:
    """SSO-07: every login answer sets the new session's cookie, whatever cookie the browser brought."""
    return True


def as_generated(system: ReferenceSystem, request: Request, sid: str, user: dict[str, Any]) -> str:
    """SSO-07: the session id is the one generated for this login, whoever signs on."""
    return sid


def fresh_sid(system: ReferenceSystem, request: Request) -> str:
    """SSO-07: always fresh, so a cookie held before the login never becomes the session."""
    return secrets.token_urlsafe(32)


def set_session_cookie(response: Response, name: str, sid: str, https: bool) -> None:
    """SSO-07: HttpOnly and SameSite, Secure over HTTPS."""
    response.set_cookie(name, sid, httponly=True, samesite="lax", secure=https, path="/")


def no_early_session(system: ReferenceSystem, ticket: str) -> str | None:
    """SSO-01: no session before the IdP has validated the ticket."""
    return None


def session_user(system: ReferenceSystem, request: Request) -> dict[str, Any] | None:
    """SSO-04: the session the cookie names, looked up by its value as a bound parameter; None for no cookie, an
    unknown or a malformed one (401, never a 5xx)."""
    row = system.store.one(
        "SELECT user_record FROM sessions WHERE sid = ?", request.cookies.get(system.parts.session_cookie_name, "")
    )
    return json.loads(row[0]) if row else None


def session(system: ReferenceSystem, request: Request) -> Response:
    """GET /yzw/v1/session: the IdP's user record of this session (SSO-04)."""
    user = system.parts.session_user(system, request)
    if user is None:
        return browser_error(request, 401, "SESSION_REQUIRED", "no session: sign in through the portal")
    return JSONResponse(system.parts.session_view(user))


async def apply_entry(system: ReferenceSystem, request: Request, item_code: str) -> Response:
    """GET /yzw/v1/items/{item_code}/apply: the entry when the auth level is enough (SSO-05)."""
    user, entry = await system.parts.entry_lookup(system, request, item_code)
    if user is None:
        return browser_error(request, 401, "SESSION_REQUIRED", "no session: sign in through the portal")
    if entry is None:
        return system.parts.entry_refusal(request, 404, "ITEM_UNKNOWN", f"{item_code} is not an active item here")
    if not system.parts.auth_level_enough(user, entry):
        return system.parts.entry_refusal(
            request,
            403,
            "AUTH_LEVEL_INSUFFICIENT",
            f"this item needs auth level {entry['required_auth_level']}, the session has {user['auth_level']} (SSO-05)",
        )
    return JSONResponse({"item_code": item_code, "name": entry["name"], "user_id": user["user_id"]})


async def session_first(
    system: ReferenceSystem, request: Request, item_code: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """SSO-05: the session, then (only with one) the active item; without a session 401 comes first."""
    user = system.parts.session_user(system, request)
    if user is None:
        return None, None
    entry = await item(system, item_code)
    return user, entry if entry is not None and active_for_department(system, entry) else None


def logout(system: ReferenceSystem, document: dict[str, Any]) -> Response:
    """POST /yzw/v1/sso/logout: end every session of the person at once (SSO-06)."""
    system.parts.end_sessions(system, document["user_id"])
    return system.parts.logout_answer(document["user_id"])


def logged_out(user_id: str) -> Response:
    """SSO-06: the logout call is answered 200 (whether or not the person had a session here)."""
    return JSONResponse({"user_id": user_id})


def end_sessions(system: ReferenceSystem, user_id: str) -> None:
    """SSO-06: every session of the person ends at once."""
    system.store.execute("DELETE FROM sessions WHERE user_id = ?", user_id)


def auth_level_enough(user: dict[str, Any], entry: dict[str, Any]) -> bool:
    """SSO-05: the session's authentication level reaches the item's."""
    return int(user["auth_level"]) >= int(entry["required_auth_level"])
