"""/_mock/…: the kit's inspection and control API (loopback only): registration, traffic, reset, clock, faults."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from starlette.responses import JSONResponse, Response

from yzw.codes.lists import channel_digits, platform_channels
from yzw.codes.times import CN_TZ
from yzw.mock import supervision
from yzw.mock.catalog import (
    all_current_items,
    current_item,
    every_item_version,
    load_demo_catalogue,
    save_version,
)
from yzw.mock.exchange import recorded
from yzw.mock.idp import issue_ticket
from yzw.mock.own_items import OWN_ITEMS, restore_own_items
from yzw.mock.pipeline import Call, endpoint
from yzw.mock.platform import PLATFORM_APP_ID, Fault, Platform, caller_of
from yzw.mock.scope import reset_system, system_of
from yzw.mock.topology import NodeSpec
from yzw.serving.errors import ApiError, finding_details
from yzw.spec import validate_value
from yzw.spec.catalogue import check_items
from yzw.spec.monitoring import department_report
from yzw.sut import PlatformGrant, Registration

FLAGS = (
    "forge_signature",
    "use_ticket",
    "expire_ticket",
    "refuse_license",
    "short_token",
    "rotate_key",
    "new_key",
    "latest_key",
)


def _json(call: Call) -> dict[str, Any]:
    try:
        document = json.loads(call.body or b"{}")
    except ValueError as exc:
        raise ApiError(400, "MALFORMED_BODY", f"the body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ApiError(400, "SCHEMA_INVALID", "the body must be a JSON object")
    return document


def grant_for(platform: Platform, registration: Registration) -> PlatformGrant:
    """What the platform gives a registered system (norm §1): its key and the URLs it must call."""
    topology = platform.topology
    exchange = topology.node_for(registration.tier, registration.division_code) or topology.province
    return PlatformGrant(
        PLATFORM_APP_ID, platform.platform_secret, platform.url(topology.province.name), platform.url(exchange.name)
    )


@endpoint(signed=False)
async def register_system(call: Call) -> Response:
    """POST /_mock/systems: register a departmental system from its sut record; answers its credentials."""
    record = _json(call)
    findings = validate_value("sut", record)
    if findings:
        raise ApiError(400, "SCHEMA_INVALID", "the registration record is invalid", finding_details(findings))
    if isinstance(record.get("catalog"), str):
        raise ApiError(
            400,
            "SCHEMA_INVALID",
            "catalog must carry the items themselves: the platform cannot read a file of the vendor's "
            "(yzw reads the catalog: path of a sut.yaml and sends its items)",
            [{"path": "/catalog", "reason": "a path, not a list of items"}],
        )
    registration = Registration.from_checked(record)
    problems = check_items(list(registration.catalog), "catalog", department=registration.department())
    if problems:
        details = [{"path": f"/catalog ({p.item})", "reason": f"{p.field}: {p.reason}"} for p in problems]
        raise ApiError(400, "SCHEMA_INVALID", problems[0].render(), details)
    call.platform.register(registration)
    return JSONResponse({"app_id": registration.app_id, **grant_for(call.platform, registration).as_answer()})


def _system(call: Call) -> Registration | None:
    """The registered system `?app_id=` names (a run's own share of the platform), or None for the whole."""
    app_id = call.request.query_params.get("app_id")
    return system_of(call.platform, app_id) if app_id else None


@endpoint(signed=False)
async def reset(call: Call) -> Response:
    """POST /_mock/reset: back to the start (the demo catalogue and every registered department's own items, no
    traffic), keeping only the registrations. `?app_id=` resets one system's share and nothing else: several
    runs may use the platform at once."""
    platform = call.platform
    system = _system(call)
    async with platform.relays.closed():  # no relay lands after the reset (a stale history at the parent)
        if system is not None:
            reset_system(platform, system)
            return JSONResponse({"reset": True, "app_id": system.app_id})
        _reset_all(platform)
    return JSONResponse({"reset": True})


def _reset_all(platform: Platform) -> None:
    platform.store.reset(keep=("systems", "settings", OWN_ITEMS))
    load_demo_catalogue(platform.store)
    restore_own_items(platform.store)
    platform.tokens.clear()
    platform.faults.clear()
    platform.flags.clear()
    platform.set_clock_offset(0.0)
    platform.pending_notices.clear()
    platform.delivered.clear()
    for log in platform.traffic.values():
        log.clear()


@endpoint(signed=False)
async def nodes(call: Call) -> Response:
    """GET /_mock/nodes: every node of the platform (name, tier, division, parent) and where it listens, so that
    a tool given the province's URL finds the others (the console's traffic and case pages)."""
    platform = call.platform
    return JSONResponse(
        {
            "nodes": [
                {
                    "name": node.name,
                    "tier": node.tier,
                    "division_code": node.division_code,
                    "parent": node.parent,
                    "url": platform.url(node.name),
                }
                for node in platform.topology.nodes
            ]
        }
    )


@endpoint(signed=False)
async def traffic(call: Call) -> Response:
    """GET /_mock/traffic?path=&method=&status=&min_status=&app_id=&limit=: this node's requests and answers,
    newest last."""
    query = call.request.query_params
    entries = [_readable(entry) for entry in list(call.platform.traffic[call.node.name]) if _matches(entry, query)]
    limit = int(query.get("limit", "1000")) if query.get("limit", "1000").isdigit() else 1000
    return JSONResponse({"node": call.node.name, "entries": entries[-limit:]})


def _readable(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.decode("utf-8", "replace") if isinstance(value, bytes) else value for key, value in entry.items()
    }


def _matches(entry: dict[str, Any], query: Any) -> bool:
    if query.get("path") and not str(entry["path"]).startswith(query["path"]):
        return False
    if query.get("method") and entry["method"] != query["method"].upper():
        return False
    if query.get("status") and str(entry["status"]) != query["status"]:
        return False
    if query.get("min_status", "").isdigit() and int(entry.get("status") or 0) < int(query["min_status"]):
        return False
    return not (query.get("app_id") and caller_of(entry) != query["app_id"])


@endpoint(signed=False)
async def clock(call: Call) -> Response:
    """GET/POST /_mock/clock?app_id=: the supervision engine's now (for the system's department, when named);
    POST {"set": time} or {"advance_seconds": n} moves that department's clock (without app_id: every clock)."""
    platform = call.platform
    system = _system(call)
    dept = system.dept_uscc if system else ""
    if call.request.method == "POST":
        change = _json(call)
        if "set" in change:
            try:
                target = dt.datetime.fromisoformat(str(change["set"]))
            except ValueError:
                raise ApiError(400, "SCHEMA_INVALID", "set takes an RFC 3339 time with +08:00") from None
            platform.set_clock_offset(target.timestamp() - dt.datetime.now(CN_TZ).timestamp(), dept)
        elif isinstance(change.get("advance_seconds"), int | float):
            platform.set_clock_offset(platform.clock_offset(dept) + float(change["advance_seconds"]), dept)
        else:
            raise ApiError(400, "SCHEMA_INVALID", 'post {"set": "<time>"} or {"advance_seconds": <number>}')
    now = dt.datetime.fromtimestamp(platform.now(dept), CN_TZ).replace(microsecond=0)
    return JSONResponse({"now": now.isoformat(), "offset_seconds": round(platform.clock_offset(dept), 3)})


@endpoint(signed=False)
async def faults(call: Call) -> Response:
    """POST /_mock/faults {path, status? | latency_ms? | drop? | drop_after? | body?, share?, count?, node?, match?};
    DELETE clears; GET lists. A 2xx status is the node's own answer under that status; drop_after cuts the answer off
    after the node has done the request (a recorded event whose answer never came); body (with content_type?) is
    answered in the node's place, under status (default 200): an answer that is not the norm's (ROB-01). With
    `?app_id=` a fault touches only that system's calls, and DELETE clears only its faults; `match` (a text the
    request's query or body must hold) scopes a fault to one scenario's requests, and DELETE `?match=` clears only
    the faults of that match, so scenarios side by side keep theirs."""
    platform = call.platform
    system = _system(call)
    if call.request.method == "DELETE":
        match = call.request.query_params.get("match")
        platform.faults[:] = [
            f
            for f in platform.faults
            if system is not None and (f.app_id != system.app_id or (match is not None and f.match != match))
        ]
    elif call.request.method == "POST":
        spec = _json(call)
        if not isinstance(spec.get("path"), str) or not (
            spec.get("status")
            or spec.get("latency_ms")
            or spec.get("drop")
            or spec.get("drop_after")
            or isinstance(spec.get("body"), str)
        ):
            raise ApiError(
                400,
                "SCHEMA_INVALID",
                'a fault needs "path" and a "status", "latency_ms", "drop", "drop_after" or "body"',
            )
        fault = Fault(
            secrets.token_hex(4),
            str(spec.get("node", call.node.name)),
            spec["path"],
            spec.get("status"),
            float(spec.get("share", 1.0)),
            int(spec.get("latency_ms", 0)),
            spec.get("count"),
            bool(spec.get("drop", False)),
            bool(spec.get("drop_after", False)),
            system.app_id if system else None,
            spec["body"] if isinstance(spec.get("body"), str) else None,
            str(spec.get("content_type", "application/json")),
            spec["match"] if isinstance(spec.get("match"), str) and spec["match"] else None,
            spec.get("count"),
        )
        platform.faults.append(fault)
    return JSONResponse({"faults": [vars(f) for f in platform.faults]})


@endpoint(signed=False)
async def flags(call: Call) -> Response:
    """POST /_mock/flags?app_id= {"forge_signature": 1, "use_ticket": 1, …}: one-shot misbehaviours of the
    province (towards the named system only, when one is named)."""
    change, system = _json(call), _system(call)
    unknown = sorted(set(change) - set(FLAGS))
    if unknown:
        raise ApiError(400, "SCHEMA_INVALID", f"unknown flag(s) {unknown}; flags are {', '.join(FLAGS)}")
    for name, count in change.items():
        call.platform.flags[f"{name}@{system.app_id}" if system else name] = int(count)
    return JSONResponse({"flags": call.platform.flags})


@endpoint(signed=False)
async def tokens(call: Call) -> Response:
    """POST /_mock/tokens {"action": "expire"|"revoke", "app_id"?}; GET: token requests per app (SIG-04)."""
    platform = call.platform
    if call.request.method == "POST":
        change = _json(call)
        if change.get("action") not in ("expire", "revoke"):
            raise ApiError(400, "SCHEMA_INVALID", 'action must be "expire" or "revoke"')
        platform.change_tokens(change["action"], change.get("app_id"))
    return JSONResponse({"token_requests": platform.token_requests()})


@endpoint(signed=False)
async def portal_login(call: Call) -> Response:
    """POST /_mock/portal/login {"user": {...}, "app_id"?, "state"?}: a ticket, and the hand-off URL (SSO-01)."""
    request = _json(call)
    user = request.get("user")
    if not isinstance(user, dict) or validate_value("user", user):
        raise ApiError(
            400,
            "SCHEMA_INVALID",
            "user must be a user record (specs/schemas/user.schema.json)",
            finding_details(validate_value("user", user)) if isinstance(user, dict) else [],
        )
    ticket = issue_ticket(call.platform, user)
    system = next((s for s in call.platform.systems() if s.app_id == request.get("app_id")), None)
    state = str(request.get("state", secrets.token_hex(8)))
    redirect = f"{system.sso_url}?ticket={ticket}&state={state}" if system else None
    return JSONResponse({"ticket": ticket, "state": state, "redirect": redirect})


@endpoint(signed=False)
async def change_item(call: Call) -> Response:
    """POST /_mock/catalog/{item_code} {changes, "retire"?}: a new version; change notices go to the systems.

    {"create": {item}} adds a new item (version 1) that systems learn of by asking the catalogue (CAT-01).
    """
    store, code = call.platform.store, call.request.path_params["item_code"]
    item, change = current_item(store, code), _json(call)
    if item is None and isinstance(change.get("create"), dict):
        return _created(store, {**change["create"], "item_code": code, "version": 1, "status": "active"})
    if item is None:
        raise ApiError(404, "ITEM_UNKNOWN", f"no item {code}")
    retire = bool(change.pop("retire", False))
    updated = {**item, **change, "version": item["version"] + 1, "status": "retired" if retire else item["status"]}
    findings = validate_value("item", updated)
    if findings:
        raise ApiError(400, "SCHEMA_INVALID", "the changed item is invalid", finding_details(findings))
    save_version(store, updated)
    notice = {"item_code": code, "version": updated["version"], "change": "retired" if retire else "updated"}
    for dept in dict.fromkeys((item["dept"]["uscc"], updated["dept"]["uscc"])):  # an item moved: both departments
        call.platform.pending_notices.append(("catalog", dept, notice))
    return JSONResponse(updated)


def _created(store: Any, item: dict[str, Any]) -> Response:
    findings = validate_value("item", item)
    if findings:
        raise ApiError(400, "SCHEMA_INVALID", "the new item is invalid", finding_details(findings))
    save_version(store, item)
    return JSONResponse(item, status_code=201)


@endpoint(signed=False)
async def catalogue(call: Call) -> Response:
    """GET /_mock/catalog: every item's current version; `?versions=all`: every version of every item."""
    store = call.platform.store
    every = call.request.query_params.get("versions") == "all"
    return JSONResponse({"items": every_item_version(store) if every else all_current_items(store)})


@endpoint(signed=False)
async def license_status(call: Call) -> Response:
    """POST /_mock/licenses/{license_id} {"status": "revoked"|"expired"|"valid"}, or {"license": {...}} to seed."""
    change, store = _json(call), call.platform.store
    license_id = call.request.path_params["license_id"]
    if isinstance(change.get("license"), dict):
        store.execute(
            "INSERT INTO licenses (license_id, body, status) VALUES (?, ?, 'valid') ON CONFLICT (license_id) "
            "DO UPDATE SET body = excluded.body, status = 'valid'",
            license_id,
            json.dumps(change["license"], ensure_ascii=False),
        )
    elif change.get("status") in ("revoked", "expired", "valid"):
        store.execute("UPDATE licenses SET status = ? WHERE license_id = ?", change["status"], license_id)
    else:
        raise ApiError(400, "SCHEMA_INVALID", 'post {"status": "revoked"|"expired"|"valid"} or {"license": {...}}')
    row = store.one("SELECT status FROM licenses WHERE license_id = ?", license_id)
    if row is None:
        raise ApiError(404, "NOT_FOUND", f"no license {license_id}")
    return JSONResponse({"license_id": license_id, "status": row["status"]})


@endpoint(signed=False)
async def events(call: Call) -> Response:
    """GET /_mock/events?application_no=&app_id=: every event this node recorded (with arrival and delay), in
    order; of the applications named (`application_no`, repeatable), or of the named system's department.
    `numbers=1` answers only the application numbers, the latest arrival first (a case list's pages)."""
    query, node, store = call.request.query_params, call.node.name, call.platform.store
    system = _system(call)
    if query.get("numbers") == "1":
        dept = "AND dept_uscc = ? " if system is not None else ""
        rows = store.rows(
            f"SELECT application_no, MAX(received_at) AS last FROM events WHERE node = ? {dept}"
            "GROUP BY application_no ORDER BY last DESC, application_no DESC",
            *([node, system.dept_uscc] if system is not None else [node]),
        )
        return JSONResponse({"node": node, "numbers": [row["application_no"] for row in rows]})
    numbers = query.getlist("application_no")
    if numbers:
        marks = ", ".join("?" for _ in numbers)
        rows = store.rows(
            f"SELECT * FROM events WHERE node = ? AND application_no IN ({marks}) ORDER BY application_no, seq",
            node,
            *numbers,
        )
    else:
        rows = store.rows("SELECT * FROM events WHERE node = ? ORDER BY received_at, application_no, seq", node)
    rows = [row for row in rows if system is None or row["dept_uscc"] == system.dept_uscc]
    pending = store.one("SELECT COUNT(*) FROM outbox WHERE node = ?", node)
    return JSONResponse(
        {"node": node, "events": [recorded(row) for row in rows], "relay_pending": pending[0] if pending else 0}
    )


@endpoint(signed=False)
async def forward(call: Call) -> Response:
    """POST /_mock/applications {"division_code", "channel", "submitted_at"}: the unified application system
    numbers an application it forwards (CODE-05, channels web, app and terminal) and its exchange keeps
    `submitted_at` (EVT-04). Numbers never repeat on a platform, whichever system they are forwarded to."""
    change = _json(call)
    digits = channel_digits()
    division, channel, submitted_at = change.get("division_code"), change.get("channel"), change.get("submitted_at")
    try:
        day = dt.datetime.fromisoformat(str(submitted_at)).astimezone(CN_TZ).date()
    except ValueError:
        day = None
    if not isinstance(division, str) or not division.isdigit() or len(division) != 6 or day is None:
        raise ApiError(400, "SCHEMA_INVALID", 'post {"division_code": "<6 digits>", "channel", "submitted_at"}')
    if channel not in platform_channels():
        numbered = ", ".join(platform_channels())
        raise ApiError(400, "SCHEMA_INVALID", f"the platform numbers the channels {numbered} (CODE-05)")
    number = call.platform.issue_application_no(division, digits[str(channel)], day)
    _keep_submitted_at(call.platform, number, str(submitted_at))
    return JSONResponse({"application_no": number, "submitted_at": submitted_at}, status_code=201)


def _keep_submitted_at(platform: Platform, number: str, submitted_at: str) -> None:
    platform.store.execute(
        "INSERT INTO records (node, kind, key, body) VALUES ('*', 'submitted_at', ?, ?) ON CONFLICT (node, kind, key) "
        "DO UPDATE SET body = excluded.body",
        number,
        json.dumps(submitted_at),
    )


@endpoint(signed=False)
async def submitted(call: Call) -> Response:
    """POST /_mock/applications/{application_no} {"submitted_at"}: the platform forwarded it (EVT-04)."""
    change = _json(call)
    _keep_submitted_at(call.platform, call.request.path_params["application_no"], str(change.get("submitted_at", "")))
    return JSONResponse({"recorded": True})


def cards_of(platform: Platform, node: NodeSpec, dept_uscc: str | None) -> list[dict[str, Any]]:
    supervision.raise_cards(platform, node)
    rows = platform.store.rows("SELECT body FROM cards WHERE node = ? ORDER BY card_id", node.name)
    found = [json.loads(row["body"]) for row in rows]
    return [card for card in found if dept_uscc in (None, card["dept_uscc"])]


@endpoint(signed=False)
async def all_cards(call: Call) -> Response:
    """GET /_mock/cards?dept_uscc=&application_no=: every card of this node, revoked ones included; of the
    applications named (`application_no`, repeatable) when given."""
    query = call.request.query_params
    cards = cards_of(call.platform, call.node, query.get("dept_uscc"))
    numbers = set(query.getlist("application_no"))
    return JSONResponse({"cards": [card for card in cards if not numbers or card["application_no"] in numbers]})


@endpoint(signed=False)
async def portal_logout(call: Call) -> Response:
    """POST /_mock/portal/logout {"user_id"}: the IdP's single logout, fanned out to every system (SSO-06)."""
    request = _json(call)
    if not isinstance(request.get("user_id"), str) or not request["user_id"]:
        raise ApiError(400, "SCHEMA_INVALID", 'post {"user_id": "<the person>"}')
    call.platform.pending_notices.append(("logout", "*", {"user_id": request["user_id"]}))
    return JSONResponse({"queued": True, "systems": len(call.platform.systems())})


@endpoint(signed=False)
async def delivered(call: Call) -> Response:
    """GET /_mock/delivered: the calls the platform made to systems (notices, logouts) and their answers."""
    return JSONResponse({"delivered": call.platform.delivered})


@endpoint(signed=False)
async def report(call: Call) -> Response:
    """GET /_mock/report?dept_uscc=&from=&to=: the SUP-03 monitoring KPIs of this node's area."""
    query, store, node = call.request.query_params, call.platform.store, call.node.name
    try:
        period = (dt.date.fromisoformat(query["from"]), dt.date.fromisoformat(query["to"])) if "from" in query else None
    except (KeyError, ValueError):
        raise ApiError(400, "SCHEMA_INVALID", "from and to are dates (YYYY-MM-DD), given together") from None
    events = [recorded(row) for row in store.rows("SELECT * FROM events WHERE node = ?", node)]
    items = {item["item_code"]: item for item in all_current_items(store)}
    found = department_report(events, items, call.node.tier, period, cards_of(call.platform, call.node, None))
    wanted = query.get("dept_uscc")
    return JSONResponse(
        {"node": node, "tier": call.node.tier, "departments": {k: v for k, v in found.items() if wanted in (None, k)}}
    )
