"""One platform node as a Starlette app: routes by tier, MSG-02 errors everywhere, traffic log, faults."""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yzw.mock import catalog, control, exchange, idp, licenses
from yzw.mock.intake import Coalescer
from yzw.mock.outbound import notice_loop, relay_loop
from yzw.mock.pipeline import Call, endpoint, node_pipeline
from yzw.mock.platform import Fault, Platform
from yzw.mock.topology import NodeSpec
from yzw.serving.errors import error_response, exception_handlers
from yzw.serving.hot import Endpoint, HotRoutes

LOGGED_BYTES = 4096


@endpoint(scope="exchange:write")
async def list_cards(call: Call) -> Response:
    """GET /supervision/v1/cards?dept_uscc=… (SUP-01)."""

    return JSONResponse(
        {"cards": control.cards_of(call.platform, call.node, call.request.query_params.get("dept_uscc"))}
    )


def _routes(node: NodeSpec) -> list[Route]:
    """The node's route table, hot paths first (Starlette matches in order)."""
    hot = [Route("/catalog/v1/items/{item_code}", catalog.get_item, methods=["GET"])] if node.tier == "province" else []
    routes = [
        *hot,
        Route("/exchange/v1/events", exchange.push_event, methods=["POST"]),
        Route("/exchange/v1/events", exchange.query_events, methods=["GET"]),
        Route("/exchange/v1/events:batch", exchange.push_batch, methods=["POST"]),
        Route("/exchange/v1/cases/{case_no}", exchange.get_case, methods=["GET"]),
        Route("/exchange/v1/evaluations", exchange.push_evaluation, methods=["POST"]),
        Route("/exchange/v1/rectifications", exchange.push_rectification, methods=["POST"]),
        Route("/supervision/v1/cards", list_cards, methods=["GET"]),
        Route("/_mock/systems", control.register_system, methods=["POST"]),
        Route("/_mock/reset", control.reset, methods=["POST"]),
        Route("/_mock/traffic", control.traffic, methods=["GET"]),
        Route("/_mock/nodes", control.nodes, methods=["GET"]),
        Route("/_mock/clock", control.clock, methods=["GET", "POST"]),
        Route("/_mock/faults", control.faults, methods=["GET", "POST", "DELETE"]),
        Route("/_mock/events", control.events, methods=["GET"]),
        Route("/_mock/cards", control.all_cards, methods=["GET"]),
        Route("/_mock/tokens", control.tokens, methods=["GET", "POST"]),
        Route("/_mock/applications", control.forward, methods=["POST"]),
        Route("/_mock/applications/{application_no}", control.submitted, methods=["POST"]),
        Route("/_mock/delivered", control.delivered, methods=["GET"]),
        Route("/_mock/report", control.report, methods=["GET"]),
    ]
    if node.tier == "province":
        routes += [
            Route("/idp/v1/oauth/token", idp.issue_token, methods=["POST"]),
            Route("/idp/v1/tickets/validate", idp.validate_ticket, methods=["POST"]),
            Route("/idp/v1/keys", idp.keys, methods=["GET"]),
            Route("/catalog/v1/items", catalog.list_items, methods=["GET"]),
            Route("/license/v1/licenses", licenses.issue_license, methods=["POST"]),
            Route("/license/v1/licenses/verify", licenses.verify_license, methods=["POST"]),
            Route("/_mock/flags", control.flags, methods=["POST"]),
            Route("/_mock/portal/login", control.portal_login, methods=["POST"]),
            Route("/_mock/portal/logout", control.portal_logout, methods=["POST"]),
            Route("/_mock/catalog", control.catalogue, methods=["GET"]),
            Route("/_mock/catalog/{item_code}", control.change_item, methods=["POST"]),
            Route("/_mock/licenses/{license_id}", control.license_status, methods=["POST"]),
        ]
    return routes


def create_node(platform: Platform, node: NodeSpec) -> ASGIApp:
    """The ASGI app of one node, wrapped in the traffic log and fault injection."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(relay_loop(platform, node, stop)),
            asyncio.create_task(notice_loop(platform, node, stop)),
        ]
        yield
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    handlers = exception_handlers("node")
    app = Starlette(routes=_routes(node), lifespan=lifespan, exception_handlers=handlers)
    app.state.platform, app.state.node = platform, node
    app.state.pipeline = node_pipeline(platform, node)
    app.state.items = catalog.ItemCache(platform.store)
    app.state.intake = Coalescer(platform, node)
    return Observe(HotRoutes(app, *_hot_routes(node), internal_error=handlers[500]), platform, node)


def _hot_routes(node: NodeSpec) -> tuple[dict[tuple[str, str], Endpoint], dict[tuple[str, str], tuple[str, Endpoint]]]:
    """What a system under load calls most: the exchange's pushes and (at the province) the catalogue item."""
    exact: dict[tuple[str, str], Endpoint] = {
        ("POST", "/exchange/v1/events"): exchange.push_event,
        ("POST", "/exchange/v1/events:batch"): exchange.push_batch,
    }
    prefixed = {("GET", "/catalog/v1/items/"): ("item_code", catalog.get_item)} if node.tier == "province" else {}
    return exact, prefixed


class Observe:
    """ASGI middleware: inject faults, then log every request and answer (truncated) with its timing."""

    def __init__(self, app: ASGIApp, platform: Platform, node: NodeSpec) -> None:
        self.app, self.platform, self.node = app, platform, node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope, outside = _under_prefix(scope, self.node.prefix)
        started, path, now = time.perf_counter(), scope["path"], time.time()
        wanted = _observed_headers(scope)
        entry: dict[str, Any] = {
            "node": self.node.name,
            "method": scope["method"],
            "path": path,
            "query": scope.get("query_string", b"").decode("latin-1"),
            "at": _china_time(int(now)),
            "t": round(now, 3),  # the arrival to the millisecond, for back-off intervals (EVT-07)
            "app_id": wanted.get(b"x-yzw-app-id"),
            "bearer": (wanted.get(b"authorization") or "").startswith("Bearer "),  # SIG-03; the token stays out
            "bearer_app": self._bearer_app(wanted.get(b"authorization")),  # who an unsigned call came from (SIG-01)
            "if_none_match": wanted.get(b"if-none-match"),  # CAT-01: the ETag the system echoes
            "content_type": wanted.get(b"content-type"),  # SIG-03: the token request is a form
        }
        request_body, response_body = bytearray(), bytearray()

        async def logged_receive() -> Message:
            message = await receive()
            if len(request_body) < LOGGED_BYTES:
                request_body.extend(message.get("body", b"")[: LOGGED_BYTES - len(request_body)])
            return message

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                entry["etag"] = next((v.decode("latin-1") for k, v in message.get("headers", []) if k == b"etag"), None)
            elif message["type"] == "http.response.body" and len(response_body) < LOGGED_BYTES:
                response_body.extend(message.get("body", b"")[: LOGGED_BYTES - len(response_body)])
            await send(message)

        try:
            if outside:  # behind its gateway the node serves the norm's paths under its prefix only
                await _drain(logged_receive)
                where = f"no route {path} on this node: it is served under {self.node.prefix} (MSG-02)"
                await error_response(404, "NOT_FOUND", where)(scope, logged_receive, logged_send)
            else:
                answered, receive_rest = await self._fault(scope, path, entry["app_id"], logged_receive, logged_send)
                if not answered:
                    await self.app(scope, receive_rest, logged_send)
        except ClientDisconnect:  # a caller that gave up on a slowed answer (ROB-01's call budget): no answer to give
            scope["yzw.dropped"] = True
        finally:  # logged also when the answer is cut off on purpose (the server raises on the short body)
            if scope.get("yzw.dropped"):
                entry["status"] = 0  # the caller saw a dropped connection, not the 200 the cut-off answer began with
            entry.update(
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                request=bytes(request_body),
                response=bytes(response_body),
            )  # decoded when read (/_mock/traffic), not on the hot path
            with self.platform.traffic_lock:
                self.platform.traffic[self.node.name].append(entry)

    def _bearer_app(self, authorization: str | None) -> str | None:
        """The app a bearer token was issued to (by this process, revoked or forgotten since): a call signed wrongly
        or not at all is still the system's own when it carries the system's token (SIG-01)."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        return self.platform.token_owners.get(authorization.removeprefix("Bearer ").strip())

    async def _fault(
        self, scope: Scope, path: str, app_id: str | None, receive: Receive, send: Send
    ) -> tuple[bool, Receive]:
        """Apply a matching fault (one for every caller, or for the calling system): whether it answered in the
        app's place, and the request's body for the app otherwise (read already when a fault's match needed it)."""
        if path.startswith("/_mock"):
            return False, receive
        held = receive  # a slow answer's request is not done once its caller gave up: the app reads no body then
        faults = [f for f in self.platform.faults if f.matches(self.node.name, path, app_id)]
        if any(f.match for f in faults):  # scoped to one scenario's request: read the body to tell
            body = await _read_all(receive)
            receive, seen = _replayed(body), bytes(scope.get("query_string") or b"") + b"\n" + body
            faults = [f for f in faults if f.match is None or f.match.encode() in seen]
        fault = faults[0] if faults else None
        if fault is None or random.random() >= fault.share:
            return False, receive
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self.platform.faults.remove(fault)
        if fault.latency_ms:  # a slow node: it takes the request (logged) and answers late
            receive = _replayed(await _read_all(receive))
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.drop:  # promise a body and send none: the server aborts the connection mid-answer
            await _drain(receive)  # the traffic log keeps what was sent, and marks the answer that never came
            scope["yzw.dropped"] = True
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return True, receive
        if fault.body is not None:  # an answer that is not the norm's, in the node's place (ROB-01)
            await _drain(receive)
            await Response(fault.body, fault.status or 200, media_type=fault.content_type)(scope, receive, send)
            return True, receive
        if fault.drop_after or (fault.status and 200 <= fault.status < 300):
            await self.app(scope, receive, _answered_as(fault, scope, send))
            return True, receive
        if not fault.status:
            return False, held
        await _drain(receive)  # read the body first, as a real exchange would: the traffic log keeps it
        response = error_response(fault.status, "INJECTED_FAULT", f"fault {fault.fault_id} injected at {fault.path}")
        await response(scope, receive, send)
        return True, receive


def _under_prefix(scope: Scope, prefix: str) -> tuple[Scope, bool]:
    """A node served under a path prefix (as behind the province's gateway): the app routes, logs and matches
    faults on the path within it, while `raw_path` keeps the path as sent, which signatures cover (SIG-01). The
    control API (`/_mock`) answers at the root too; any other path outside the prefix is outside (True)."""
    path = scope["path"]
    if not prefix:
        return scope, False
    if path == prefix or path.startswith(prefix + "/"):
        raw = scope.get("raw_path") or quote(path, safe="/:@!$&'()*+,;=-._~%").encode("ascii")
        return {**scope, "path": path[len(prefix) :] or "/", "raw_path": raw}, False
    return scope, not (path == "/_mock" or path.startswith("/_mock/"))


def _answered_as(fault: Fault, scope: Scope, send: Send) -> Send:
    """The node's own answer under the fault's 2xx status, or cut off after its start (drop_after)."""

    async def rewritten(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k != b"content-length"]
            if fault.drop_after:
                scope["yzw.dropped"] = True
                headers.append((b"content-length", b"64"))
            message = {**message, "status": message["status"] if fault.drop_after else fault.status}
            message["headers"] = headers if fault.drop_after else message.get("headers", [])
        elif message["type"] == "http.response.body" and fault.drop_after:
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return rewritten


async def _read_all(receive: Receive) -> bytes:
    body = bytearray()
    while (message := await receive())["type"] == "http.request":
        body.extend(message.get("body", b""))
        if not message.get("more_body"):
            break
    return bytes(body)


def _replayed(body: bytes) -> Receive:
    """The request's body once more, for the app after a delay; then the client is gone or done."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _drain(receive: Receive) -> None:
    while (message := await receive())["type"] == "http.request" and message.get("more_body"):
        pass


OBSERVED = (b"x-yzw-app-id", b"authorization", b"if-none-match", b"content-type")


def _observed_headers(scope: Scope) -> dict[bytes, str]:
    """The headers the traffic log keeps something of (the first of each), in one pass."""
    found: dict[bytes, str] = {}
    for key, value in scope.get("headers", []):
        if key in OBSERVED and key not in found:
            found[key] = value.decode("latin-1")
    return found


@functools.lru_cache(maxsize=4)
def _china_time(second: int) -> str:
    """A Unix second as China time text (made once per second, however many requests it saw)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(second + 8 * 3600))
