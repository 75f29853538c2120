"""One request pipeline for every server of the kit (mock platform nodes, reference system), in the norm's
order (MSG-04): 413 size → 415 media type → 401 signature (SIG-02) → 401/403 token and scope (SIG-03/05) →
400 malformed → 400 schema → the handler (which answers 409 and 422 itself where a conflict check comes first).

A server builds one `Pipeline` (whose keys verify a signature, which nonces it remembers, which media it
takes, how it answers an error) and keeps it in `app.state.pipeline`; each route says what it needs with a
`Route`. Every step is a field of the pipeline, so a seeded fault of the reference system replaces a step
instead of branching inside it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from yzw.serving.errors import ApiError, finding_details
from yzw.serving.http import JSON, parse_body, raw_path, read_body
from yzw.signing import SIG02_ORDER, Nonces, Stage, canonical_query, verify
from yzw.spec.findings import Finding
from yzw.spec.validate import validate_value as validate_document

BODY_METHODS = ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class Route:
    """What one endpoint asks of the pipeline."""

    signed: bool = True
    signer: str = "caller"  # whose keys verify the signature; the server's `keys` says what a name means
    scope: str | None = None  # SIG-05: the token must carry it
    kind: str | None = None  # the schema the body must follow (specs/schemas/{kind}.schema.json)
    parse: bool = False  # read the body into `call.document` without a schema
    media: tuple[str, ...] | None = None  # None: the server's media types


class Call:
    """One request as the steps and the handler see it."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.body = b""
        self.media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        self.app_id: str | None = None
        self.document: Any = None
        self.code_findings: list[Finding] = []

    @property
    def has_body(self) -> bool:
        return self.request.method in BODY_METHODS

    def refuse_codes(self) -> None:
        """422 CODE_INVALID when the message broke a code rule (after the handler's 409 checks)."""
        if self.code_findings:
            raise ApiError(422, "CODE_INVALID", "a code breaks its rule (norm §2)", finding_details(self.code_findings))


Keys = Callable[[Call, Route], Callable[[str], str | None]]
Step = Callable[["Pipeline", Call, Route], None]


def check_media(pipeline: Pipeline, call: Call, route: Route) -> None:
    """415 for a body in a media type the endpoint does not take."""
    accepted = pipeline.media if route.media is None else route.media
    if call.has_body and call.body and call.media not in accepted:
        raise ApiError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"content type {call.media or '(none)'!r} is not one of {', '.join(accepted)} (MSG-04)",
        )


def check_signature(pipeline: Pipeline, call: Call, route: Route) -> None:
    """401 for a request not signed by a known key (SIG-01/02); the caller's app id otherwise."""
    verify_signature(pipeline, call, route, call.request.scope["query_string"])  # the bytes as sent


def verify_signature(
    pipeline: Pipeline,
    call: Call,
    route: Route,
    raw_query: str | bytes,
    *,
    stages: tuple[Stage, ...] = SIG02_ORDER,
    query_rule: Callable[[str | bytes], str] = canonical_query,
) -> None:
    """SIG-02 over the given raw query (SIG-01 decodes it itself, so servers pass it undecoded), its stages in
    the norm's order."""
    if not route.signed:
        return
    request = call.request
    rejection = verify(
        request.headers,
        request.method,
        raw_path(request.scope),
        raw_query,
        call.body,
        pipeline.keys(call, route),
        pipeline.nonces(call),
        stages=stages,
        query_rule=query_rule,
    )
    if rejection is not None:
        raise ApiError(401, rejection.code, rejection.message)
    call.app_id = str(request.headers.get("x-yzw-app-id"))


def check_token(pipeline: Pipeline, call: Call, route: Route) -> None:
    """SIG-03/05 for a route that needs a scope; a server without a token check must not declare one."""
    if route.scope is None:
        return
    if pipeline.tokens is None:
        raise TypeError(f"a route needs scope {route.scope!r} but this server's pipeline checks no tokens")
    pipeline.tokens(call, route.scope)


def parse_document(pipeline: Pipeline, call: Call, route: Route) -> None:
    """400 for a body that is not well-formed JSON, XML or form data (MSG-04, MSG-05)."""
    if (route.kind is not None or route.parse) and call.has_body:
        call.document = parse_body(call.body, call.media)


def check_schema(pipeline: Pipeline, call: Call, route: Route) -> None:
    """400 for a body that breaks its schema; code-rule findings wait for the handler's 422 (norm §2)."""
    if route.kind is None or not call.has_body:
        return
    findings = validate_document(route.kind, call.document)
    schema = [f for f in findings if not f.requirement.startswith("CODE-")]
    if schema:
        raise ApiError(400, "SCHEMA_INVALID", schema_message(route.kind), finding_details(findings))
    call.code_findings = findings


def check_schema_whole(pipeline: Pipeline, call: Call, route: Route) -> None:
    """400 for any finding, code rules included: a server that judges codes as part of the schema."""
    if route.kind is None or not call.has_body:
        return
    findings = validate_document(route.kind, call.document)
    if findings:
        raise ApiError(400, "SCHEMA_INVALID", schema_message(route.kind), finding_details(findings))


def schema_message(kind: str) -> str:
    return f"the body breaks the {kind} schema (specs/schemas/{kind}.schema.json)"


def render_json(error: ApiError, call: Call) -> Response:
    return error.response()


@dataclass(frozen=True)
class Pipeline:
    """A server's request pipeline: its keys, nonces and media, and each step in the norm's order."""

    keys: Keys
    nonces: Callable[[Call], Nonces]
    media: tuple[str, ...] = (JSON,)
    tokens: Callable[[Call, str], None] | None = None
    steps: tuple[Step, ...] = (check_media, check_signature, check_token, parse_document, check_schema)
    render: Callable[[ApiError, Call], Response] = render_json
    reader: Callable[[Request], Awaitable[bytes]] = read_body  # the body, 413 over the limit (MSG-04)

    async def prepare(self, call: Call, route: Route) -> None:
        """Read the body (413 first), then run every step; the first refusal raises its ApiError."""
        if call.has_body:
            call.body = await self.reader(call.request)
        for step in self.steps:
            step(self, call, route)


C = TypeVar("C", bound=Call)


def endpoint(
    route: Route, make: Callable[[Request], C]
) -> Callable[[Callable[[C], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler in the pipeline its app keeps in `app.state.pipeline`; `make` builds the server's call."""

    def wrap(handler: Callable[[C], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            pipeline: Pipeline = request.app.state.pipeline
            call = make(request)
            try:
                await pipeline.prepare(call, route)
                return await handler(call)
            except ApiError as error:
                return pipeline.render(error, call)

        run.__name__ = handler.__name__
        return run

    return wrap
