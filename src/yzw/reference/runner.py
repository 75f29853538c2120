"""Start the reference system: next to a platform in this process, or against a running `yzw mock up`."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx
import uvicorn

from yzw.errors import YzwError
from yzw.reference import flavours
from yzw.reference.app import create_reference_app
from yzw.reference.parts import assemble
from yzw.reference.system import ReferenceSystem
from yzw.serving.server import bind, serve
from yzw.sut import PlatformGrant, Registration

REMEDY = "give the record another base_url port"


class Registrar(Protocol):
    """A platform the system registers at (a started mock platform, or a wrapper around a remote one)."""

    def register(self, registration: Registration) -> PlatformGrant: ...


@dataclass
class RunningReference:
    system: ReferenceSystem
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def registration(self) -> Registration:
        """The record the system was registered with (pointed at where it is served)."""
        return self.system.registration

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_reference(
    platform: Registrar,
    registration: Registration,
    faults: frozenset[str] = frozenset(),
    db: str = ":memory:",
    port: int = 0,
    flavour: str = "clean",
) -> RunningReference:
    """Bind a port (0: a free one), point the record's URLs at it, register at the platform, and serve."""
    sock = bind(port, REMEDY)
    registration = flavours.flavour(flavour).registers(registration)
    registration = registration.served_at(f"http://127.0.0.1:{sock.getsockname()[1]}")
    return serve_reference(registration, platform.register(registration), sock, faults, db, flavour)


def serve_reference(
    registration: Registration,
    grant: PlatformGrant,
    sock: socket.socket,
    faults: frozenset[str] = frozenset(),
    db: str = ":memory:",
    flavour: str = "clean",
) -> RunningReference:
    """Serve the reference system on a bound socket with the credentials its registration was answered with."""
    parts = assemble(faults, flavours.flavour(flavour).parts)
    system = ReferenceSystem.from_registration(registration, grant, db, parts=parts)
    server, thread = serve(create_reference_app(system), sock, "reference-system")
    return RunningReference(system, registration.base_url, server, thread)


def register_remotely(platform_url: str, registration: Registration) -> PlatformGrant:
    """Register at a running mock platform (`yzw mock up`) and return what it grants."""
    try:
        answer = httpx.post(platform_url.rstrip("/") + "/_mock/systems", json=registration.as_record(), timeout=10)
    except httpx.HTTPError as exc:
        raise YzwError(f"no mock platform answers at {platform_url} ({exc}); start one with `yzw mock up`") from None
    if answer.status_code != 200:
        raise YzwError(f"the platform refused the registration: {answer.text[:300]}")
    return PlatformGrant.from_answer(answer.json())


def port_of(registration: Registration) -> int:
    """The port the record's base_url names (where the platform will look for the system)."""
    return urlsplit(registration.base_url).port or 80
