"""schemathesis against the mock nodes' own platform.yaml: no 5xx, and every answer matches its documented schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core import NotSet
from tests.conftest import REPO
from tests.mock_helpers import System, register

from yzw.conformance.fuzz import SECURITY_HEADERS, documented, kind_of
from yzw.mock.runner import RunningPlatform
from yzw.spec import validate

SPEC = REPO / "specs" / "openapi" / "platform.yaml"
OPERATIONS = [result.ok() for result in schemathesis.openapi.from_path(str(SPEC)).get_all_operations()]


RESPONSES = documented(SPEC)


@pytest.fixture(scope="module")
def fuzz_system(running_platform: RunningPlatform) -> Iterator[System]:
    httpx.post(running_platform.urls["province"] + "/_mock/reset").raise_for_status()
    registered = register(running_platform, seed=77, app_id="fuzzer")
    yield registered
    registered.client.close()


def _send(system: System, case: Any) -> httpx.Response:
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in SECURITY_HEADERS}
    content = None
    if not isinstance(case.body, NotSet) and case.body is not None:
        if case.media_type == "application/x-www-form-urlencoded" and isinstance(case.body, dict):
            content = urlencode(case.body).encode()
        else:
            content = httpx.Request("POST", "http://x", json=case.body).content
        headers["Content-Type"] = case.media_type or "application/json"
    return system.client.request(
        case.method,
        system.urls["province"] + case.formatted_path,
        params=case.query or None,
        content=content,
        headers=headers,
    )


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_nodes_answer_every_generated_request_without_5xx_and_within_schema(
    fuzz_system: System, operation: Any
) -> None:
    responses = RESPONSES[(operation.method.upper(), operation.path)]
    problems: list[str] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=12, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def probe(case: Any) -> None:
        answer = _send(fuzz_system, case)
        if answer.status_code >= 500:
            problems.append(f"{answer.status_code} for {case.formatted_path}: {answer.text[:200]}")
            return
        kind = kind_of(responses, answer.status_code)
        if kind is not None and answer.status_code != 304:
            findings = validate(kind, answer.json())
            if findings:
                problems.append(f"{answer.status_code} answer breaks {kind}: {findings[:2]}")

    probe()
    assert problems == []
