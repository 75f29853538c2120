"""Hot routes as raw ASGI in front of a Starlette app: a request to one of them goes straight to its endpoint
(the shared pipeline still runs every step), without Starlette's middleware stack and route table; every other
request goes to the app. The answers are the endpoints' own, so they are the same either way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


class IndexedHeaders(Headers):
    """Headers with a dictionary beside the list: a lookup by name costs one hash, not a scan of every header
    (the signature check alone asks for a dozen). The first of repeated headers wins, as in `Headers`."""

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope=scope)
        index: dict[str, str] = {}
        for key, value in self.raw:
            index.setdefault(key.decode("latin-1"), value.decode("latin-1"))
        self._index = index

    def __getitem__(self, key: str) -> str:
        try:
            return self._index[key.lower()]
        except KeyError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return self._index.get(key.lower(), default)

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and key.lower() in self._index


class LeanRequest(Request):
    """A request whose headers are indexed once."""

    @property
    def headers(self) -> Headers:
        if not hasattr(self, "_headers"):
            self._headers = IndexedHeaders(self.scope)
        return self._headers


class HotRoutes:
    """ASGI: `exact` routes by (method, path), `items` by (method, path prefix) with the rest of the path as the
    one path parameter; the Starlette `app` for everything else, and for a hot route's unexpected failure the
    app's own 500 answer (then the exception, for the server's log), as Starlette's error middleware does."""

    def __init__(
        self,
        app: Starlette,
        exact: dict[tuple[str, str], Endpoint],
        prefixed: dict[tuple[str, str], tuple[str, Endpoint]] | None = None,
        *,
        internal_error: Callable[[Request, Exception], Awaitable[Response]],
    ) -> None:
        self.app, self.exact, self.prefixed, self.internal_error = app, exact, prefixed or {}, internal_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._match(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        endpoint, params = found
        scope["app"], scope["path_params"] = self.app, params
        request = LeanRequest(scope, receive)
        try:
            response = await endpoint(request)
        except Exception as exc:
            await (await self.internal_error(request, exc))(scope, receive, send)
            raise
        await response(scope, receive, send)

    def _match(self, scope: Scope) -> tuple[Endpoint, dict[str, str]] | None:
        if scope.get("root_path"):
            return None  # a mounted app: Starlette's router knows the route path
        method, path = scope["method"], scope["path"]
        endpoint = self.exact.get((method, path))
        if endpoint is not None:
            return endpoint, {}
        for (wanted, prefix), (name, handler) in self.prefixed.items():
            rest = path[len(prefix) :]
            if method == wanted and path.startswith(prefix) and rest and "/" not in rest:
                return handler, {name: rest}
        return None
