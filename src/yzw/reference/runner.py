"""Start the reference system: next to a platform in this process, or against a running `yzw mock up`."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvicorn

from yzw.errors import YzwError
from yzw.mock.control import credentials_for
from yzw.mock.runner import RunningPlatform, bind, serve
from yzw.reference.app import create_reference_app
from yzw.reference.parts import assemble
from yzw.reference.system import ReferenceSystem

REMEDY = "give the record another base_url port"


@dataclass
class RunningReference:
    system: ReferenceSystem
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_reference(
    platform: RunningPlatform,
    record: dict[str, Any],
    faults: frozenset[str] = frozenset(),
    db: str = ":memory:",
    port: int = 0,
) -> RunningReference:
    """Bind a port (0: a free one), point the record's URLs at it, register at the platform, and serve."""
    sock = bind(port, REMEDY)
    record = _pointed_at(record, sock)
    platform.platform.register(record)
    return serve_reference(record, credentials_for(platform.platform, record), sock, faults, db)


def serve_reference(
    record: dict[str, Any],
    given: dict[str, Any],
    sock: socket.socket,
    faults: frozenset[str] = frozenset(),
    db: str = ":memory:",
) -> RunningReference:
    """Serve the reference system on a bound socket with the credentials its registration was answered with."""
    system = ReferenceSystem.from_registration(record, given, db, faults, parts=assemble(faults))
    server, thread = serve(create_reference_app(system), sock, "reference-system")
    return RunningReference(system, record["base_url"], server, thread)


def _pointed_at(record: dict[str, Any], sock: socket.socket) -> dict[str, Any]:
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    return {**record, "base_url": url, "sso_url": url + "/yzw/v1/sso", "driver": {"url": url + "/_driver"}}


def register_remotely(platform_url: str, record: dict[str, Any]) -> dict[str, Any]:
    """Register at a running mock platform (`yzw mock up`) and return its answer (the credentials)."""
    try:
        answer = httpx.post(platform_url.rstrip("/") + "/_mock/systems", json=record, timeout=10)
    except httpx.HTTPError as exc:
        raise YzwError(f"no mock platform answers at {platform_url} ({exc}); start one with `yzw mock up`") from None
    if answer.status_code != 200:
        raise YzwError(f"the platform refused the registration: {answer.text[:300]}")
    return dict(answer.json())


def port_of(record: dict[str, Any]) -> int:
    """The port the record's base_url names (where the platform will look for the system)."""
    return urlsplit(record["base_url"]).port or 80
