"""Province /idp: client-credentials tokens (SIG-03/05), tickets validated into an SM2-signed user record (SSO)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from typing import Any

from starlette.responses import JSONResponse, Response

from yzw.codes.times import CN_TZ
from yzw.mock.pipeline import Call, endpoint
from yzw.serving.errors import ApiError
from yzw.serving.http import FORM
from yzw.spec.limits import limits

SHORT_TOKEN_SECONDS = 150  # a token a check can watch: renewal is fine only in its last 60 s (SIG-04)


@endpoint(kind="token-request", media=(FORM,))
async def issue_token(call: Call) -> Response:
    """POST /idp/v1/oauth/token: a token for the union of the scopes asked (SIG-05: no unknown names)."""
    asked = frozenset(str(call.document["scope"]).split())  # the schema admits only the norm's names (SIG-05)
    short = call.platform.take_flag("short_token", call.app_id)  # SIG-04: a check watches the token's lifetime
    lifetime = SHORT_TOKEN_SECONDS if short else limits().token_lifetime_seconds
    token = call.platform.issue_token(str(call.app_id), asked, lifetime)
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": " ".join(sorted(asked)),
        }
    )


def _now_text() -> str:
    return dt.datetime.now(CN_TZ).replace(microsecond=0).isoformat()


def issue_ticket(call_platform: Any, user: dict[str, Any]) -> str:
    """A service ticket for a signed-in person (SSO-01), single-use, valid 300 s."""
    ticket = "ST-" + secrets.token_hex(20)
    call_platform.store.execute(
        "INSERT INTO tickets (ticket, user_record, issued_at) VALUES (?, ?, ?)",
        ticket,
        json.dumps(user, ensure_ascii=False),
        time.time(),
    )
    return ticket


@endpoint(scope="idp:ticket", kind="ticket-validate")
async def validate_ticket(call: Call) -> Response:
    """POST /idp/v1/tickets/validate: the user record signed with SM2 (SSO-02), or TICKET_* (SSO-03)."""
    platform, ticket = call.platform, str(call.document["ticket"])
    row = platform.store.one("SELECT user_record, issued_at, used FROM tickets WHERE ticket = ?", ticket)
    if row is None:
        raise ApiError(400, "TICKET_INVALID", "no such ticket (SSO-03)")
    lifetime = limits().ticket_lifetime_seconds
    if time.time() - row["issued_at"] > lifetime or platform.take_flag("expire_ticket", call.app_id):
        raise ApiError(400, "TICKET_EXPIRED", f"the ticket is older than {lifetime} s (SSO-03)")
    if row["used"] or platform.take_flag("use_ticket", call.app_id):
        raise ApiError(400, "TICKET_USED", "the ticket was used already (SSO-03)")
    platform.store.execute("UPDATE tickets SET used = 1 WHERE ticket = ?", ticket)
    user, issued_at = json.loads(row["user_record"]), _now_text()
    key = platform.next_key if platform.take_flag("rotate_key", call.app_id) else platform.key  # SSO-02: by kid
    if platform.take_flag("new_key", call.app_id):
        key = platform.new_key()  # published before this answer goes out: a system fetching the keys finds it
    elif platform.take_flag("latest_key", call.app_id) and platform.later_keys:
        key = platform.later_keys[-1]  # the key made last, again: a retry after a system's key-fetch cool-down
    signature = key.sign(user, issued_at)
    if platform.take_flag("forge_signature", call.app_id):
        signature = key.sign({**user, "auth_level": 4}, issued_at)  # a valid signature over other bytes
    return JSONResponse({"user": user, "issued_at": issued_at, "kid": key.kid, "signature": signature})


@endpoint(signed=False)
async def keys(call: Call) -> Response:
    """GET /idp/v1/keys: the IdP's SM2 public keys (SSO-02), the next one published ahead of its use (listed
    first: a system picks the key the answer's kid names), and the keys made during the run before them."""
    published = (*reversed(call.platform.later_keys), call.platform.next_key, call.platform.key)
    return JSONResponse({"keys": [{"kid": k.kid, "alg": "SM2", "public_key": k.public_key_hex} for k in published]})
