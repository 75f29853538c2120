"""One pipeline for every platform endpoint, in the norm's order (MSG-04):
413 size → 415 media type → 401 signature (SIG-02) → 401/403 token and scope (SIG-03/05) → 400 malformed →
400 schema → the handler (which answers 409 and 422 itself where a conflict check comes first).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from yzw.mock.platform import Platform
from yzw.mock.topology import NodeSpec
from yzw.serving.errors import ApiError, finding_details
from yzw.serving.http import JSON, parse_body, raw_path, read_body
from yzw.signing import verify
from yzw.spec.findings import Finding
from yzw.spec.validate import validate as validate_document


@dataclass
class Call:
    """One accepted request as a handler sees it."""

    request: Request
    platform: Platform
    node: NodeSpec
    body: bytes = b""
    app_id: str | None = None
    document: Any = None
    code_findings: list[Finding] = field(default_factory=list)

    def refuse_codes(self) -> None:
        """422 CODE_INVALID when the message broke a code rule (after the handler's 409 checks)."""
        if self.code_findings:
            raise ApiError(422, "CODE_INVALID", "a code breaks its rule (norm §2)", finding_details(self.code_findings))


Handler = Callable[[Call], Awaitable[Response]]


def endpoint(
    *,
    signed: bool = True,
    scope: str | None = None,
    kind: str | None = None,
    parse: bool = False,
    media: tuple[str, ...] = (JSON,),
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler in the pipeline; `kind` names the schema its body must follow (`parse` alone: read it)."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            call = Call(request, request.app.state.platform, request.app.state.node)
            try:
                await _prepare(call, signed=signed, scope=scope, kind=kind, parse=parse, media=media)
                return await handler(call)
            except ApiError as error:
                return error.response()

        run.__name__ = handler.__name__
        return run

    return wrap


async def _prepare(
    call: Call, *, signed: bool, scope: str | None, kind: str | None, parse: bool, media: tuple[str, ...]
) -> None:
    request = call.request
    has_body = request.method in ("POST", "PUT", "PATCH")
    call.body = await read_body(request) if has_body else b""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if has_body and call.body and content_type not in media:
        raise ApiError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"content type {content_type or '(none)'!r} is not one of {', '.join(media)} (MSG-04)",
        )
    if signed:
        call.app_id = _check_signature(call)
    if scope is not None:
        _check_token(call, scope)
    if (kind is not None or parse) and has_body:
        call.document = parse_body(call.body, content_type)
    if kind is not None and has_body:
        _check_schema(call, kind)


def _check_signature(call: Call) -> str:
    request, platform = call.request, call.platform
    rejection = verify(
        request.headers,
        request.method,
        raw_path(request.scope),
        request.scope["query_string"].decode("latin-1"),
        call.body,
        platform.secret_of,
        platform.nonces[call.node.name],
    )
    if rejection is not None:
        raise ApiError(401, rejection.code, rejection.message)
    return str(request.headers.get("x-yzw-app-id"))


def _check_token(call: Call, scope: str) -> None:
    header = call.request.headers.get("authorization", "")
    token = call.platform.token(header[7:].strip()) if header[:7].lower() == "bearer " else None
    if token is None or token.revoked:
        raise ApiError(401, "TOKEN_INVALID", "no valid bearer token; obtain one at /idp/v1/oauth/token (SIG-03)")
    if time.time() >= token.expires_at:
        raise ApiError(401, "TOKEN_EXPIRED", "the bearer token has expired; obtain a new one (SIG-04)")
    if token.app_id != call.app_id:
        raise ApiError(401, "TOKEN_INVALID", "the bearer token belongs to another app id (SIG-03)")
    if scope not in token.scopes:
        raise ApiError(
            403,
            "SCOPE_MISSING",
            f"this call needs scope {scope!r}; the token holds {' '.join(sorted(token.scopes)) or 'none'} (SIG-05)",
        )


def _check_schema(call: Call, kind: str) -> None:
    findings = validate_document(kind, call.document)
    schema = [f for f in findings if not f.requirement.startswith("CODE-")]
    if schema:
        raise ApiError(400, "SCHEMA_INVALID", f"the {kind} breaks its schema", finding_details(findings))
    call.code_findings = findings
