"""ROB-01 by property-based testing: schemathesis generates requests from department.yaml, signed as the norm asks.

One fuzz per run: its findings go by the norm's attribution rule (a wrong shape of an answer carries ROB-01 only
when no chapter states that answer): 5xx and hangs to ROB-01, error answers outside the error shape to MSG-02
(every error of every endpoint); a 2xx outside its schema is its chapter's, judged there on real requests."""

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

from yzw.client import Credentials, SignedClient
from yzw.content import content_path
from yzw.run.target import Target
from yzw.spec import validate
from yzw.spec.limits import limits

SECURITY_HEADERS = {"authorization", "x-yzw-app-id", "x-yzw-nonce", "x-yzw-signature", "x-yzw-timestamp"}
DRIVER_PATH = "/actions"
EXAMPLES_PER_OPERATION = 8
ROBUSTNESS = "ROB-01"  # 5xx, hangs, and answers no chapter states
ERROR_SHAPE = "MSG-02"  # errors are {code, message, details}: every error of every endpoint
Findings = dict[str, list[str]]  # by the requirement the norm's attribution rule gives them


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
) -> Findings:
    """Problems found, by requirement: 5xx (other than 503 DEPENDENCY_UNAVAILABLE) and hangs (ROB-01), error
    answers outside the error shape (MSG-02), 2xx answers outside their schema where no chapter states them."""
    spec = department_spec()
    responses, problems = documented(spec), Findings()
    for result in schemathesis.openapi.from_path(str(spec)).get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # department.yaml is validated by the kit's tests
        if operation.path == DRIVER_PATH and (desk is None or driver_url is None):
            continue
        client, url = (desk, driver_url) if operation.path == DRIVER_PATH else (portal, base_url)
        stated = bool(operation.definition.raw.get("x-requirements"))
        found = _probe_operation(
            operation, client, str(url), responses[(operation.method.upper(), operation.path)], examples, stated
        )
        for requirement, texts in found.items():
            problems.setdefault(requirement, []).extend(texts)
    return problems


def probed_once(memo: dict[str, Findings], target: Target, portal: SignedClient) -> Findings:
    """The run's one fuzz (the checks of ROB-01 and MSG-02 share it), with the driver signed as the system."""
    if "findings" not in memo:
        signer = Credentials(target.app_id, target.registration.app_secret)
        desk = SignedClient(signer, timeout=limits().answer_seconds) if target.driver_url else None
        try:
            memo["findings"] = probe(target.base_url, target.driver_url, portal, desk, EXAMPLES_PER_OPERATION)
        finally:
            if desk is not None:
                desk.close()
    return memo["findings"]


def _probe_operation(
    operation: Any, client: Any, url: str, responses: dict[str, Any], examples: int, stated: bool = False
) -> Findings:
    problems: Findings = {}

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
            problems.setdefault(ROBUSTNESS, []).append(f"{label}: no answer within {limits().answer_seconds:g} s")
            return
        problem = _judged(answer, responses, headers.get("Content-Type", ""))
        owner = _owner(answer.status_code, problem, stated)
        if problem and owner:
            problems.setdefault(owner, []).append(f"{label}: {problem}")

    send()
    return problems


def _judged(answer: httpx.Response, responses: dict[str, Any], sent: str = "") -> str | None:
    """The problem with an answer to a request sent as `sent` (its media type), or None."""
    body: Any = None
    if _json_label(answer.headers.get("content-type", "")):  # its label is MSG-01's, judged on real answers
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


def _owner(status: int, problem: str | None, stated: bool) -> str | None:
    """The requirement a problem with an answer of `status` carries: a 5xx is ROB-01's, an error outside the error
    shape MSG-02's; a 2xx outside its schema is ROB-01's only where no requirement states the operation (the
    driver), else its chapter's, whose checks judge that answer on real requests (None: not judged here)."""
    if problem is None:
        return None
    if status >= 500 and not problem.startswith(f"{status} answer"):
        return ROBUSTNESS
    if status >= 400:
        return ERROR_SHAPE
    return None if stated else ROBUSTNESS


def _json_label(media: str) -> bool:
    """application/json or a JSON type of another name (application/problem+json): a body to read as JSON."""
    kind = media.split(";", maxsplit=1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def _xml(media: str) -> bool:
    return media.split(";", maxsplit=1)[0].strip().lower() in ("application/xml", "text/xml")
