"""schemathesis over department.yaml against the reference system: no 5xx, answers within their schemas (ROB-01)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core import NotSet
from tests.conftest import RECORD, REPO
from tests.test_mock_fuzz import SECURITY_HEADERS, _documented, _kind_of

from yzw.client import Credentials, SignedClient
from yzw.mock.runner import RunningPlatform
from yzw.reference.runner import RunningReference, start_reference
from yzw.spec import validate

SPEC = REPO / "specs" / "openapi" / "department.yaml"
OPERATIONS = [result.ok() for result in schemathesis.openapi.from_path(str(SPEC)).get_all_operations()]
RESPONSES = _documented(SPEC)


@pytest.fixture(scope="module")
def fuzzed(running_platform: RunningPlatform) -> Iterator[tuple[RunningReference, SignedClient, SignedClient]]:
    reference = start_reference(running_platform, RECORD)
    portal = SignedClient(Credentials(reference.system.platform_app_id, reference.system.platform_secret))
    desk = SignedClient(Credentials(RECORD["app_id"], RECORD["app_secret"]))
    yield reference, portal, desk
    portal.close()
    desk.close()
    reference.stop()


def _send(fuzzed: tuple[RunningReference, SignedClient, SignedClient], case: Any) -> Any:
    reference, portal, desk = fuzzed
    client = desk if case.path == "/actions" else portal
    path = "/_driver/actions" if case.path == "/actions" else case.formatted_path
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in SECURITY_HEADERS}
    content = None
    if case.body is not None and not isinstance(case.body, NotSet):
        content = json.dumps(case.body, ensure_ascii=False).encode()
        headers["Content-Type"] = case.media_type or "application/json"
    return client.request(
        case.method, reference.url + path, params=case.query or None, content=content, headers=headers
    )


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_the_reference_system_never_answers_5xx_and_keeps_to_its_schemas(fuzzed: Any, operation: Any) -> None:
    responses = RESPONSES[(operation.method.upper(), operation.path)]
    problems: list[str] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=12, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def probe(case: Any) -> None:
        answer = _send(fuzzed, case)
        if answer.status_code >= 500 and answer.json().get("code") != "DEPENDENCY_UNAVAILABLE":
            problems.append(f"{answer.status_code} for {case.formatted_path}: {answer.text[:200]}")
            return
        kind = _kind_of(responses, answer.status_code)
        if kind is not None and answer.headers.get("content-type", "").startswith("application/json"):
            findings = validate(kind, answer.json())
            if findings:
                problems.append(f"{answer.status_code} answer breaks {kind}: {findings[:2]}")

    probe()
    assert problems == []
