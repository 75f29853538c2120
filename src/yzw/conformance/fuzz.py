"""ROB-01 by property-based testing: schemathesis generates requests from department.yaml, signed as the norm asks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis.core import NotSet

from yzw.client import SignedClient
from yzw.content import content_path
from yzw.spec import validate
from yzw.spec.limits import limits

SECURITY_HEADERS = {"authorization", "x-yzw-app-id", "x-yzw-nonce", "x-yzw-signature", "x-yzw-timestamp"}
DRIVER_PATH = "/actions"


def documented(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Each operation's documented responses, by (METHOD, route)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        (method.upper(), route): op["responses"]
        for route, ops in document["paths"].items()
        for method, op in ops.items()
    }


def kind_of(responses: dict[str, Any], status: int) -> str | None:
    """The message kind a documented answer of this status refers to, or None for an inline or absent one."""
    answer = responses.get(str(status))
    if answer is None or "$ref" in answer:
        return "error" if status >= 400 else None
    for media in answer.get("content", {}).values():
        match = re.fullmatch(r"\.\./schemas/([a-z-]+)\.schema\.json", media.get("schema", {}).get("$ref", ""))
        return match.group(1) if match else None
    return None


def body_and_headers(case: Any) -> tuple[bytes | None, dict[str, str]]:
    """The generated body as bytes and the generated headers without the signing ones (the client signs)."""
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in SECURITY_HEADERS}
    if isinstance(case.body, NotSet) or case.body is None:
        return None, headers
    headers["Content-Type"] = case.media_type or "application/json"
    return json.dumps(case.body, ensure_ascii=False).encode(), headers


def department_spec() -> Path:
    return content_path("specs", "openapi", "department.yaml")


def probe(
    base_url: str, driver_url: str | None, portal: SignedClient, desk: SignedClient | None, examples: int
) -> list[str]:
    """Problems found: 5xx (other than 503 DEPENDENCY_UNAVAILABLE), hangs, answers outside their schemas."""
    spec = department_spec()
    responses, problems = documented(spec), []
    for result in schemathesis.openapi.from_path(str(spec)).get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # department.yaml is validated by the kit's tests
        if operation.path == DRIVER_PATH and (desk is None or driver_url is None):
            continue
        client, url = (desk, driver_url) if operation.path == DRIVER_PATH else (portal, base_url)
        problems += _probe_operation(
            operation, client, str(url), responses[(operation.method.upper(), operation.path)], examples
        )
    return problems


def _probe_operation(operation: Any, client: Any, url: str, responses: dict[str, Any], examples: int) -> list[str]:
    problems: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def send(case: Any) -> None:
        content, headers = body_and_headers(case)
        label = f"{case.method} {case.formatted_path}"
        try:
            answer = client.request(
                case.method, url + case.formatted_path, params=case.query or None, content=content, headers=headers
            )
        except httpx.TimeoutException:
            problems.append(f"{label}: no answer within {limits().answer_seconds:g} s")
            return
        problem = _judged(answer, responses, headers.get("Content-Type", ""))
        if problem:
            problems.append(f"{label}: {problem}")

    send()
    return problems


def _judged(answer: httpx.Response, responses: dict[str, Any], sent: str = "") -> str | None:
    """The problem with an answer to a request sent as `sent` (its media type), or None."""
    body: Any = None
    if answer.headers.get("content-type", "").startswith("application/json"):
        try:
            body = answer.json()
        except ValueError:
            return f"{answer.status_code} with a body that is not JSON"
    if answer.status_code >= 500 and not (isinstance(body, dict) and body.get("code") == "DEPENDENCY_UNAVAILABLE"):
        return f"{answer.status_code} {answer.text[:200]!r}"
    kind = kind_of(responses, answer.status_code)
    answered_in_kind = _xml(sent) and _xml(answer.headers.get("content-type", ""))  # MSG-01: XML for XML
    if kind is not None and body is None and answer.content and not answered_in_kind:  # an answer none can read
        media = answer.headers.get("content-type") or "no Content-Type"
        return f"{answer.status_code} answer is {media}, not the JSON of {kind}: {answer.text[:80]!r}"
    if kind is not None and body is not None:
        findings = validate(kind, body)
        if findings:
            return f"{answer.status_code} answer breaks {kind}: {findings[0].path} {findings[0].reason}"
    return None


def _xml(media: str) -> bool:
    return media.split(";", maxsplit=1)[0].strip().lower() in ("application/xml", "text/xml")
