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

COOKIE = "sid"


def browser_error(request: Request, status: int, code: str, message: str) -> Response:
    """MSG-02: the error body, or an HTML page when the browser prefers text/html."""
    accept = request.headers.get("accept", "")
    if "text/html" in accept and accept.find("text/html") < (accept.find("application/json") % (len(accept) + 1)):
        page = f"<!doctype html><title>{code}</title><h1>{status} {html.escape(code)}</h1><p>{html.escape(message)}</p>"
        return HTMLResponse(page, status_code=status)
    return error_response(status, code, message)


async def _keys(system: ReferenceSystem) -> dict[str, str]:
    answer = await system.client.request("GET", system.province_url + "/idp/v1/keys")
    return {key["kid"]: key["public_key"] for key in answer.json().get("keys", [])}


async def hand_off(system: ReferenceSystem, request: Request) -> Response:
    """GET {sso_url}?ticket=…: validate server-side, verify the SM2 record, then a fresh session (302)."""
    ticket = request.query_params.get("ticket", "")
    if not ticket:
        return browser_error(request, 400, "TICKET_MISSING", "the hand-off carries no ticket (SSO-03)")
    early = _early_session(system, ticket) if "session-before-validation" in system.faults else None
    try:
        answer = await system.client.request(
            "POST",
            system.province_url + "/idp/v1/tickets/validate",
            json={"ticket": ticket, "app_id": system.record["app_id"]},
        )
        keys = await _keys(system) if answer.status_code == 200 else {}
    except (httpx.HTTPError, OSError):
        return browser_error(request, 503, "DEPENDENCY_UNAVAILABLE", "the identity provider cannot be reached")
    if answer.status_code != 200:
        code = (
            answer.json().get("code", "TICKET_INVALID")
            if answer.headers.get("content-type", "").startswith("application/json")
            else "TICKET_INVALID"
        )
        refused = browser_error(
            request,
            200 if "ticket-refusal-200" in system.faults else 401,
            code,
            "the ticket was refused; no session was created (SSO-03)",
        )
        if early:
            refused.set_cookie(COOKIE, early, path="/")
        return refused
    record = answer.json()
    key = keys.get(record.get("kid", ""))
    trusted = "sm2-not-verified" in system.faults
    if not trusted and (key is None or not verify(key, record["user"], record["issued_at"], record["signature"])):
        return browser_error(request, 401, "SIGNATURE_INVALID", "the identity record's SM2 signature fails (SSO-02)")
    sid = secrets.token_urlsafe(32)  # always fresh: a cookie held before the login never becomes the session
    if "session-fixation" in system.faults and request.cookies.get(COOKIE):
        sid = request.cookies[COOKIE]
    system.store.execute(
        "INSERT INTO sessions (sid, user_id, user_record, created_at) VALUES (?, ?, ?, ?)",
        sid,
        record["user"]["user_id"],
        json.dumps(record["user"], ensure_ascii=False),
        now_text(),
    )
    response = RedirectResponse("/", status_code=302)
    if "cookie-not-httponly" in system.faults:
        response.headers["set-cookie"] = f"{COOKIE}={sid}; Path=/"
    else:
        response.set_cookie(COOKIE, sid, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/")
    return response


def _early_session(system: ReferenceSystem, ticket: str) -> str:
    """The fault session-before-validation: a session exists before the IdP has said who this is."""
    sid = secrets.token_urlsafe(32)
    system.store.execute(
        "INSERT INTO sessions (sid, user_id, user_record, created_at) VALUES (?, ?, ?, ?)",
        sid,
        ticket,
        json.dumps({"user_id": ticket}),
        now_text(),
    )
    return sid


def _user(system: ReferenceSystem, request: Request) -> dict[str, Any] | None:
    row = system.store.one("SELECT user_record FROM sessions WHERE sid = ?", request.cookies.get(COOKIE, ""))
    return json.loads(row[0]) if row else None


def session(system: ReferenceSystem, request: Request) -> Response:
    """GET /yzw/v1/session: the IdP's user record of this session (SSO-04)."""
    user = _user(system, request)
    if user is None:
        return browser_error(request, 401, "SESSION_REQUIRED", "no session: sign in through the portal")
    if "session-missing-fields" in system.faults:
        return JSONResponse({"user_id": user["user_id"], "name": user["name"]})
    return JSONResponse(user)


async def apply_entry(system: ReferenceSystem, request: Request, item_code: str) -> Response:
    """GET /yzw/v1/items/{item_code}/apply: the entry when the auth level is enough (SSO-05)."""
    user = _user(system, request)
    if user is None:
        return browser_error(request, 401, "SESSION_REQUIRED", "no session: sign in through the portal")
    entry = await item(system, item_code)
    if not active_for_department(system, entry) or entry is None:
        return browser_error(request, 404, "ITEM_UNKNOWN", f"{item_code} is not an active item here")
    if int(user["auth_level"]) < int(entry["required_auth_level"]) and "auth-level-ignored" not in system.faults:
        return browser_error(
            request,
            403,
            "AUTH_LEVEL_INSUFFICIENT",
            f"this item needs auth level {entry['required_auth_level']}, the session has {user['auth_level']} (SSO-05)",
        )
    return JSONResponse({"item_code": item_code, "name": entry["name"], "user_id": user["user_id"]})


def logout(system: ReferenceSystem, document: dict[str, Any]) -> Response:
    """POST /yzw/v1/sso/logout: end every session of the person at once (SSO-06)."""
    if "logout-ignored" not in system.faults:
        system.store.execute("DELETE FROM sessions WHERE user_id = ?", document["user_id"])
    return JSONResponse({"user_id": document["user_id"]})
