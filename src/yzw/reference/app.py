"""The reference system as a Starlette app: its routes behind one guard, and its outbox pusher."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from yzw.reference import driver, intake, services, sso
from yzw.reference.journal import pusher
from yzw.reference.system import ReferenceSystem
from yzw.serving.errors import ApiError, exception_handlers, finding_details
from yzw.serving.http import JSON, XML, parse_body, raw_path, read_body
from yzw.signing import NonceMemory, verify
from yzw.spec import validate
from yzw.spec.xml import from_xml

Handler = Callable[[ReferenceSystem, Request, Any], Awaitable[Response]]


def guarded(
    kind: str | None, signer: str = "platform"
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """MSG-04 order: 413, 415, 401 (SIG-02), 400 malformed, then the handler (which checks its schema)."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            system: ReferenceSystem = request.app.state.system
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            xml_ok = "xml" in system.record.get("formats", []) and "xml-refused" not in system.faults
            try:
                has_body = request.method == "POST"
                body = await read_body(request) if has_body else b""
                accepted = (JSON, XML) if xml_ok else (JSON,)
                late_media = "wrong-error-order" in system.faults
                if has_body and body and media not in accepted and not late_media:
                    raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"content type {media or '(none)'!r} is not accepted")
                keys = (
                    {system.platform_app_id: system.platform_secret}
                    if signer == "platform"
                    else {system.record["app_id"]: system.record["app_secret"]}
                )
                nonces = NonceMemory() if "nonce-not-remembered" in system.faults else request.app.state.nonces
                rejection = verify(
                    request.headers,
                    request.method,
                    raw_path(request.scope),
                    request.scope["query_string"].decode("latin-1"),
                    body,
                    keys.get,
                    nonces,
                )
                if rejection is not None and "signature-unchecked" not in system.faults:
                    raise ApiError(401, rejection.code, rejection.message)
                if late_media and has_body and body and media not in accepted:
                    raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"content type {media or '(none)'!r} is not accepted")
                document: Any
                if "xml-doctype-resolved" in system.faults and media == XML and has_body and kind:
                    document = from_xml(ET.fromstring(body))[1]
                else:
                    document = parse_body(body, media) if has_body and kind else None
                return await handler(system, request, document)
            except ApiError as error:
                if "stack-trace-in-errors" in system.faults:
                    trace = 'Traceback (most recent call last):\n  File "/srv/yzw/reference/intake.py", line 42'
                    error = ApiError(error.status, error.code, f"{error.message}\n{trace}", error.details)
                return error.response(xml=xml_ok and media == XML)

        return run

    return wrap


@guarded("application")
async def submit(system: ReferenceSystem, request: Request, document: Any) -> Response:
    return await intake.submit(system, document)


@guarded(None)
async def status(system: ReferenceSystem, request: Request, document: Any) -> Response:
    return intake.status(system, request.path_params["application_no"])


@guarded("supplements")
async def supplements(system: ReferenceSystem, request: Request, document: Any) -> Response:
    findings = validate("supplements", document)
    if findings:
        raise ApiError(400, "SCHEMA_INVALID", "the supplements break their schema", finding_details(findings))
    return intake.supplements(system, request.path_params["application_no"], document)


@guarded("driver-action", signer="system")
async def actions(system: ReferenceSystem, request: Request, document: Any) -> Response:
    findings = validate("driver-action", document)
    if findings:
        raise ApiError(400, "SCHEMA_INVALID", "the action breaks its schema", finding_details(findings))
    return JSONResponse(await driver.act(system, document))


def _checked(kind: str, document: Any) -> dict[str, Any]:
    findings = validate(kind, document)
    if findings:
        raise ApiError(400, "SCHEMA_INVALID", f"the {kind} breaks its schema", finding_details(findings))
    return dict(document)


@guarded("notification")
async def catalog_notice(system: ReferenceSystem, request: Request, document: Any) -> Response:
    return services.change_notice(system, _checked("notification", document))


@guarded("notice")
async def supervision_notice(system: ReferenceSystem, request: Request, document: Any) -> Response:
    return services.supervision_notice(system, _checked("notice", document))


@guarded("logout")
async def logout(system: ReferenceSystem, request: Request, document: Any) -> Response:
    return sso.logout(system, _checked("logout", document))


async def guide(request: Request) -> Response:
    try:
        return await services.guide(request.app.state.system, request.path_params["item_code"])
    except ApiError as error:
        return error.response()


async def hand_off(request: Request) -> Response:
    return await sso.hand_off(request.app.state.system, request)


async def session(request: Request) -> Response:
    return sso.session(request.app.state.system, request)


async def apply_entry(request: Request) -> Response:
    try:
        return await sso.apply_entry(request.app.state.system, request, request.path_params["item_code"])
    except ApiError as error:
        return error.response()


def create_reference_app(system: ReferenceSystem) -> Starlette:
    """The system's ASGI app; its lifespan runs the outbox pusher (EVT-07)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(pusher(system, stop))
        yield
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
        await system.client.aclose()

    routes = [
        Route("/yzw/v1/health", intake.health, methods=["GET"]),
        Route("/yzw/v1/applications", submit, methods=["POST"]),
        Route("/yzw/v1/applications/{application_no}", status, methods=["GET"]),
        Route("/yzw/v1/applications/{application_no}/supplements", supplements, methods=["POST"]),
        Route("/yzw/v1/items/{item_code}", guide, methods=["GET"]),
        Route("/yzw/v1/items/{item_code}/apply", apply_entry, methods=["GET"]),
        Route("/yzw/v1/sso", hand_off, methods=["GET"]),
        Route("/yzw/v1/session", session, methods=["GET"]),
        Route("/yzw/v1/sso/logout", logout, methods=["POST"]),
        Route("/yzw/v1/catalog/notifications", catalog_notice, methods=["POST"]),
        Route("/yzw/v1/supervision/notices", supervision_notice, methods=["POST"]),
        Route("/_driver/actions", actions, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=exception_handlers("system"))
    app.state.system, app.state.nonces = system, NonceMemory()
    return app
