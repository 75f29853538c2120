"""The reference system's request pipeline: the shared one (`yzw.serving.pipeline`) with its own keys
(the platform's or, for the §11 driver, the system's own), its nonces, the formats it registered (MSG-01),
and errors in the form the request came in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from yzw.reference.system import ReferenceSystem
from yzw.serving import pipeline as serving
from yzw.serving.errors import ApiError
from yzw.serving.http import JSON, XML
from yzw.signing import NonceMemory, Nonces


class Call(serving.Call):
    """A request to the reference system: the system it reached."""

    @property
    def system(self) -> ReferenceSystem:
        system: ReferenceSystem = self.request.app.state.system
        return system


def system_pipeline(system: ReferenceSystem) -> serving.Pipeline:
    """Signatures with the platform's key (the system's own for the driver), nonces remembered (SIG-02),
    JSON and the registered XML (MSG-01), every schema finding a 400 (the system judges codes there)."""
    memory, parts = NonceMemory(), system.parts
    registration = system.registration

    def keys(call: serving.Call, route: serving.Route) -> Callable[[str], str | None]:
        if route.signer == "system":
            return {registration.app_id: registration.app_secret}.get
        return {system.platform_app_id: system.platform_secret}.get

    def remembered(call: serving.Call) -> Nonces:
        return parts.request_nonces(memory)

    media = parts.accepted_media((JSON, XML) if registration.accepts_xml() else (JSON,))
    checks = parts.check_order((serving.check_media, parts.signature_check))
    steps = (*checks, parts.body_parser, parts.schema_step)
    return serving.Pipeline(keys, remembered, media, steps=steps, render=parts.error_answer, reader=parts.body_reader)


def answer_in_kind(error: ApiError, call: serving.Call) -> Response:
    """An error in XML when the request came as XML and XML is taken (MSG-01), in JSON otherwise."""
    pipeline: serving.Pipeline = call.request.app.state.pipeline
    return error.response(xml=XML in pipeline.media and call.media == XML)


def route(
    kind: str | None = None, *, parse: bool = False, signer: str = "platform"
) -> Callable[[Callable[[Call], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]]:
    """A signed route of the reference system; `kind` names the schema its body must follow."""
    return serving.endpoint(serving.Route(signer=signer, kind=kind, parse=parse), Call)


async def open_door(request: Request) -> Response | None:
    """SIG-02: the public and browser-facing endpoints (health, the item guide, the hand-off, the session, the apply
    entry) are served without signature headers: nothing stops a request here."""
    return None
