"""The reference system as a Starlette app: its routes behind the shared request pipeline, and its outbox pusher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from yzw.reference import driver, intake, services, sso
from yzw.reference.guard import Call, route, system_pipeline
from yzw.reference.journal import pusher
from yzw.reference.system import ReferenceSystem
from yzw.serving.errors import ApiError


@route(parse=True)
async def submit(call: Call) -> Response:
    return await intake.submit(call.system, call.document)


@route()
async def status(call: Call) -> Response:
    return call.system.parts.status_query(call.system, call.request.path_params["application_no"])


@route("supplements")
async def supplements(call: Call) -> Response:
    return intake.supplements(call.system, call.request.path_params["application_no"], call.document)


@route("driver-action", signer="system")
async def actions(call: Call) -> Response:
    return JSONResponse(await driver.act(call.system, call.document))


@route("notification")
async def catalog_notice(call: Call) -> Response:
    return await services.change_notice(call.system, dict(call.document))


@route("notice")
async def supervision_notice(call: Call) -> Response:
    return call.system.parts.notice_answer(call.system, dict(call.document))


@route("logout")
async def logout(call: Call) -> Response:
    return sso.logout(call.system, dict(call.document))


async def health(request: Request) -> Response:
    system: ReferenceSystem = request.app.state.system
    return await system.parts.public_gate(request) or await system.parts.health(request)


async def guide(request: Request) -> Response:
    system: ReferenceSystem = request.app.state.system
    return await system.parts.public_gate(request) or await system.parts.guide_page(request)


async def hand_off(request: Request) -> Response:
    system: ReferenceSystem = request.app.state.system
    return await system.parts.public_gate(request) or await sso.hand_off(system, request)


async def session(request: Request) -> Response:
    system: ReferenceSystem = request.app.state.system
    return await system.parts.public_gate(request) or sso.session(system, request)


async def apply_entry(request: Request) -> Response:
    system: ReferenceSystem = request.app.state.system
    refused = await system.parts.public_gate(request)
    if refused is not None:
        return refused
    try:
        return await sso.apply_entry(request.app.state.system, request, request.path_params["item_code"])
    except ApiError as error:  # a browser-facing endpoint (MSG-02)
        return sso.browser_error(request, error.status, error.code, error.message, error.details)


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
        Route("/yzw/v1/health", health, methods=["GET"]),
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
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=system.parts.route_errors("system"))
    app.state.system, app.state.pipeline = system, system_pipeline(system)
    return app
