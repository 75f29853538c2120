"""Helpers shared by the mock platform tests: a running platform, a registered system, its signed client."""

from __future__ import annotations

import json
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from yzw.client import Credentials, SignedClient
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.mock.topology import load_topology
from yzw.serving.server import bind, serve
from yzw.signing import NonceMemory, verify

DEPT_USCC = "11330106002482061L"  # 杭州市西湖区市场监督管理局 of mocks/catalog.yaml
FOOD_ITEM = "11330106002482061L4010000123000"
SCOPES = "exchange:write catalog:read license:read license:write idp:ticket"
YZW = (sys.executable, "-c", "from yzw.cli import main; main()")


class Running(Protocol):
    """A running mock platform, in this process (`RunningPlatform`) or in another (`MockProcess`)."""

    @property
    def urls(self) -> dict[str, str]: ...


@dataclass
class System:
    """A registered departmental system as the tests play it: its record, client and message factory."""

    record: dict[str, Any]
    client: SignedClient
    factory: MessageFactory
    urls: dict[str, str]

    def push(self, event: dict[str, Any], node: str = "county") -> httpx.Response:
        return self.client.request("POST", self.urls[node] + "/exchange/v1/events", json=event)


def register(running: Running, seed: int = 1, app_id: str | None = None, base_url: str | None = None) -> System:
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
    running: Running, node: str, application_no: str | None = None, step: str | None = None
) -> list[dict[str, Any]]:
    """The events a node holds, of one application and one step when given."""
    params = {"application_no": application_no} if application_no else {}
    events = httpx.get(running.urls[node] + "/_mock/events", params=params).json()["events"]
    return [event for event in events if step is None or event["step"] == step]


def pushed_to(running: Running, path: str, count: int, node: str = "county") -> list[dict[str, Any]]:
    """The node's traffic at `path` once it holds `count` requests (the system's outbox pushes in its own time);
    what it holds after 5 s otherwise."""

    def entries() -> list[dict[str, Any]]:
        return list(httpx.get(running.urls[node] + "/_mock/traffic", params={"path": path}).json()["entries"])

    wait_until(lambda: len(entries()) >= count, timeout=5)
    return entries()


def push_histories(system: System, nodes: list[Running], applications: int) -> list[str]:
    """Push whole case histories, event by event to the county node of each running platform in turn, and
    return the receipt ids the exchange answered (each event new, each answered 200)."""
    receipts = []
    for _ in range(applications):
        _, events = system.factory.case_history()
        for index, event in enumerate(events):
            url = nodes[index % len(nodes)].urls["county"] + "/exchange/v1/events"
            answer = system.client.request("POST", url, json=event)
            assert answer.status_code == 200, answer.text
            assert answer.json()["duplicate"] is False
            receipts.append(answer.json()["receipt_id"])
    return receipts


def repeated(values: list[str]) -> list[str]:
    """The values that occur more than once."""
    seen: dict[str, int] = {}
    for value in values:
        seen[value] = seen.get(value, 0) + 1
    return sorted(value for value, n in seen.items() if n > 1)


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


def free_port_base(count: int = 3) -> int:
    """A port p with p … p + count - 1 free on 127.0.0.1 (checked, not held: for `--port-base`)."""
    for _ in range(100):
        base = random.randint(20_000, 60_000 - count)
        try:
            for port in range(base, base + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


class MockProcess:
    """`yzw mock up` in a process of its own (a replica, or a node to restart) on the demo topology's ports.

    Its output goes to `log`; `stop()` ends it (Ctrl-C, then kill) and is safe to call twice.
    """

    def __init__(self, *args: str, log: Path, port_base: int | None = None) -> None:
        self.log = log
        for _ in range(3):  # ports found free may be taken before the process binds them: try other ones
            self.port_base = port_base or free_port_base()
            if self._start(args) or port_base is not None or "is busy" not in log.read_text(encoding="utf-8"):
                break
        if self.process.poll() is not None or not self._answers():
            self.stop()
            raise RuntimeError(f"yzw mock up did not answer within 60 s:\n{log.read_text(encoding='utf-8')}")

    def _start(self, args: tuple[str, ...]) -> bool:
        """Start the process on `self.port_base`; whether all its nodes answer within 60 s."""
        with self.log.open("a", encoding="utf-8") as output:
            self.process = subprocess.Popen(
                [*YZW, "mock", "up", "--port-base", str(self.port_base), *args],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        nodes = load_topology().nodes
        self._urls = {node.name: f"http://127.0.0.1:{self.port_base + node.port_offset}{node.prefix}" for node in nodes}
        answered = wait_until(lambda: self.process.poll() is not None or self._answers(), timeout=60)
        return answered and self.process.poll() is None

    @property
    def urls(self) -> dict[str, str]:
        return dict(self._urls)

    def _answers(self) -> bool:
        try:
            return all(httpx.get(url + "/_mock/clock", timeout=2).status_code == 200 for url in self._urls.values())
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # `yzw mock up` stops its nodes on Ctrl-C
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
