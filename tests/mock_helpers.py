"""Helpers shared by the mock platform tests: a running platform, a registered system, its signed client."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from yzw.client import Credentials, SignedClient
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.mock.runner import RunningPlatform
from yzw.serving.server import bind, serve
from yzw.signing import NonceMemory, verify

DEPT_USCC = "11330106002482061L"  # 杭州市西湖区市场监督管理局 of mocks/catalog.yaml
FOOD_ITEM = "11330106002482061L4010000123000"
SCOPES = "exchange:write catalog:read license:read license:write idp:ticket"


@dataclass
class System:
    """A registered departmental system as the tests play it: its record, client and message factory."""

    record: dict[str, Any]
    client: SignedClient
    factory: MessageFactory
    urls: dict[str, str]

    def push(self, event: dict[str, Any], node: str = "county") -> httpx.Response:
        return self.client.request("POST", self.urls[node] + "/exchange/v1/events", json=event)


def register(running: RunningPlatform, seed: int = 1, app_id: str | None = None, base_url: str | None = None) -> System:
    factory = MessageFactory(make_faker(seed))
    factory.dept = {**factory.dept, "uscc": DEPT_USCC, "dept_seq": "021", "division_code": "330106"}
    factory.item_code = FOOD_ITEM
    record = {
        **factory.sut(base_url or "http://127.0.0.1:9"),
        "dept_uscc": DEPT_USCC,
        "dept_seq": "021",
        "items": [FOOD_ITEM],
    }
    if app_id:
        record["app_id"] = app_id
    answer = httpx.post(running.urls["county"] + "/_mock/systems", json=record)
    answer.raise_for_status()
    record["platform_secret"] = answer.json()["platform_secret"]
    client = SignedClient(
        Credentials(
            record["app_id"],
            record["app_secret"],
            token_url=running.urls["province"] + "/idp/v1/oauth/token",
            scope=SCOPES,
        )
    )
    return System(record, client, factory, running.urls)


def mock_events(
    running: RunningPlatform, node: str, application_no: str | None = None, step: str | None = None
) -> list[dict[str, Any]]:
    """The events a node holds, of one application and one step when given."""
    params = {"application_no": application_no} if application_no else {}
    events = httpx.get(running.urls[node] + "/_mock/events", params=params).json()["events"]
    return [event for event in events if step is None or event["step"] == step]


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class StubSystem:
    """A departmental system's notice endpoints that only record what the platform sends, and check its signature."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.platform_secret = ""
        self._sock = bind()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server, self._thread = serve(
            Starlette(routes=[Route("/{path:path}", self._record, methods=["POST"])]), self._sock, "stub-system"
        )

    async def _record(self, request: Request) -> JSONResponse:
        body = await request.body()
        rejection = verify(
            request.headers,
            "POST",
            request.url.path,
            request.url.query,
            body,
            {"yzw-platform": self.platform_secret}.get,
            NonceMemory(),
        )
        self.received.append(
            {
                "path": request.url.path,
                "body": json.loads(body or b"{}"),
                "signature": rejection.code if rejection else "ok",
            }
        )
        return JSONResponse({})

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
