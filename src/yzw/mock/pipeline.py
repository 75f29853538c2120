"""The platform's use of the shared pipeline (`yzw.serving.pipeline`): a node's keys and nonces, and the token
check of SIG-03/04/05 for routes that need a scope."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from yzw.mock.platform import Platform
from yzw.mock.topology import NodeSpec
from yzw.serving import pipeline as serving
from yzw.serving.errors import ApiError
from yzw.serving.http import JSON
from yzw.signing import Nonces


class Call(serving.Call):
    """A request to a platform node: the platform's shared state and the node it reached."""

    @property
    def platform(self) -> Platform:
        platform: Platform = self.request.app.state.platform
        return platform

    @property
    def node(self) -> NodeSpec:
        node: NodeSpec = self.request.app.state.node
        return node


def node_pipeline(platform: Platform, node: NodeSpec) -> serving.Pipeline:
    """A node checks signatures with every registered key and remembers nonces per node (SIG-02)."""

    def keys(call: serving.Call, route: serving.Route) -> Callable[[str], str | None]:
        return platform.secret_of

    def nonces(call: serving.Call) -> Nonces:
        return platform.nonces[node.name]

    return serving.Pipeline(keys, nonces, tokens=check_token)


def check_token(call: serving.Call, scope: str) -> None:
    """401 without a valid, unexpired token of the caller (SIG-03, SIG-04); 403 without the scope (SIG-05)."""
    platform: Platform = call.request.app.state.platform
    header = call.request.headers.get("authorization", "")
    token = platform.token(header[7:].strip()) if header[:7].lower() == "bearer " else None
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


def endpoint(
    *,
    signed: bool = True,
    scope: str | None = None,
    kind: str | None = None,
    parse: bool = False,
    media: tuple[str, ...] = (JSON,),
) -> Callable[[Callable[[Call], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]]:
    """A platform route through the shared pipeline; `kind` names the schema its body must follow."""
    return serving.endpoint(serving.Route(signed=signed, scope=scope, kind=kind, parse=parse, media=media), Call)
