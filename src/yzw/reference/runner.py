"""Start the reference system next to a running mock platform, registered there, on a free loopback port."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import uvicorn

from yzw.mock.control import credentials_for
from yzw.mock.runner import RunningPlatform, bind, serve
from yzw.reference.app import create_reference_app
from yzw.reference.system import ReferenceSystem


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
    platform: RunningPlatform, record: dict[str, Any], faults: frozenset[str] = frozenset(), db: str = ":memory:"
) -> RunningReference:
    """Bind a port, point the record's URLs at it, register at the platform, and serve."""
    sock = bind()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    record = {**record, "base_url": url, "sso_url": url + "/yzw/v1/sso", "driver": {"url": url + "/_driver"}}
    platform.platform.register(record)
    system = ReferenceSystem.from_registration(record, credentials_for(platform.platform, record), db, faults)
    server, thread = serve(create_reference_app(system), sock, "reference-system")
    return RunningReference(system, url, server, thread)
