"""MSG-02 error answers of the mock nodes: {code, message, details}, never a trace or a secret."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from yzw.spec.findings import Finding


class ApiError(Exception):
    """An answer the node refuses with: HTTP status, code, message, details."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []

    def response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message, self.details)


def error_response(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "details": details or []}, status_code=status)


def finding_details(findings: list[Finding]) -> list[dict[str, Any]]:
    return [{"path": f.path, "reason": f.reason, "requirement": f.requirement} for f in findings]
