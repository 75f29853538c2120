"""MSG-02 error answers of the mock nodes: {code, message, details}, never a trace or a secret."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from yzw.spec.findings import Finding
from yzw.spec.xml import to_xml


class ApiError(Exception):
    """An answer the node refuses with: HTTP status, code, message, details."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []

    def response(self, *, xml: bool = False) -> Response:
        """The JSON answer, or its XML form (MSG-01) when the request came as XML and XML is accepted."""
        if xml:
            return xml_error_response(self.status, self.code, self.message, self.details)
        return error_response(self.status, self.code, self.message, self.details)


def error_response(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "details": details or []}, status_code=status)


def xml_error_response(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response:
    """MSG-01/MSG-02 in the XML form: an `error` root carrying only the members the XSD declares."""
    items = [{key: d[key] for key in ("path", "reason") if key in d} for d in details or []]
    body = to_xml("error", {"code": code, "message": message, "details": items})
    return Response(body, status_code=status, media_type="application/xml")


def finding_details(findings: list[Finding]) -> list[dict[str, Any]]:
    return [{"path": f.path, "reason": f.reason, "requirement": f.requirement} for f in findings]


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def exception_handlers(server: str) -> dict[Any, ExceptionHandler]:
    """MSG-02 for what no route answers: unknown routes and methods, and failures (never a trace)."""

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(404, "NOT_FOUND", f"no route {request.url.path} on this {server} (MSG-02)")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(405, "METHOD_NOT_ALLOWED", f"{request.method} is not served at {request.url.path}")

    async def internal(request: Request, exc: Exception) -> Response:
        return error_response(500, "INTERNAL_ERROR", f"the {server} failed to answer; see its log")

    return {404: not_found, 405: not_allowed, 500: internal}
