"""Binding and serving, the same for every server of the kit: 127.0.0.1, a port chosen free or named, one
uvicorn server per app in a daemon thread, and one clear error for a busy port."""

from __future__ import annotations

import copy
import errno
import os
import socket
import threading
import time
import traceback
from types import TracebackType
from typing import Any

import uvicorn
import uvicorn.config
import uvicorn.logging
from starlette.types import ASGIApp

from yzw.errors import YzwError

HOST = "127.0.0.1"


def bind(port: int = 0, remedy: str = "choose another --port-base") -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: a free one), or a clear error for a busy port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise YzwError(f"port {port} on {HOST} is busy; stop what uses it or {remedy}") from None
        raise YzwError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
    return sock


class OneLineErrors(uvicorn.logging.DefaultFormatter):
    """A server's unhandled error in one line ("IntegrityError: UNIQUE constraint failed …").

    The kit's servers run in threads beside a conformance run in the same process. Python 3.11 formats a
    traceback by parsing source (`ast`) in a way that is not thread-safe: a server thread formatting one while
    the run formats a failed check's crashed the run ("AST constructor recursion depth mismatch"). A seeded
    fault's crash needs no traceback; `YZW_TRACEBACKS=1` brings them back for debugging the kit.
    """

    def formatException(
        self, ei: tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
    ) -> str:
        if ei[0] is None:
            return ""
        return "".join(traceback.format_exception_only(ei[0], ei[1])).strip()


def _log_config() -> dict[str, Any]:
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    if os.environ.get("YZW_TRACEBACKS") != "1":
        config["formatters"]["default"]["()"] = f"{__name__}.OneLineErrors"
    return config


def serve(app: ASGIApp, sock: socket.socket, name: str) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve an ASGI app on a bound socket in a daemon thread; returns once it accepts connections."""
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        log_config=_log_config(),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"yzw-{name}")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        raise YzwError(f"{name} did not start within 10 s")
    return server, thread
