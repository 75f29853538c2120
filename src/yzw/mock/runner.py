"""Start a whole mock platform on 127.0.0.1: one uvicorn server per node, each in its own thread."""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from yzw.errors import YzwError
from yzw.mock.catalog import load_demo_catalogue
from yzw.mock.control import grant_for
from yzw.mock.node import create_node
from yzw.mock.own_items import keep_own_items
from yzw.mock.platform import Platform
from yzw.mock.schema import SCHEMA
from yzw.mock.topology import NodeSpec, Topology, load_topology
from yzw.serving.server import HOST, bind, serve
from yzw.serving.store import open_store
from yzw.sut import PlatformGrant, Registration


class _InjectedDrops(logging.Filter):
    """Keep uvicorn quiet about the cut-off answers the `drop` fault sends on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Response content shorter than Content-Length" not in str(record.exc_info and record.exc_info[1])


logging.getLogger("uvicorn.error").addFilter(_InjectedDrops())


@dataclass
class RunningPlatform:
    """A started platform: its shared state, the node URLs, and how to stop it."""

    platform: Platform
    servers: list[uvicorn.Server] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    sockets: dict[str, socket.socket] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        return dict(self.platform.urls)

    def register(self, registration: Registration) -> PlatformGrant:
        """Register a system here, as `POST /_mock/systems` does; what the platform grants it."""
        self.platform.register(registration)
        return grant_for(self.platform, registration)

    def keep_items(self, items: list[dict[str, Any]]) -> None:
        """A department's own catalogue items (checked already), served and restored on every reset."""
        keep_own_items(self.platform.store, items)

    def stop_node(self, name: str) -> None:
        """Stop one node (to test store-and-forward); `start_node` brings it back on the same port."""
        index = [n.name for n in self.platform.topology.nodes].index(name)
        self.servers[index].should_exit = True
        self.threads[index].join(timeout=10)

    def start_node(self, name: str) -> None:
        index = [n.name for n in self.platform.topology.nodes].index(name)
        port = urlsplit(self.platform.urls[name]).port or 0
        server, thread = _serve(self.platform, self.platform.topology.nodes[index], bind(port))
        self.servers[index], self.threads[index] = server, thread

    def stop(self) -> None:
        for server in self.servers:
            server.should_exit = True
        for thread in self.threads:
            thread.join(timeout=10)
        self.platform.store.close()


def _serve(platform: Platform, node: NodeSpec, sock: socket.socket) -> tuple[uvicorn.Server, threading.Thread]:
    return serve(create_node(platform, node), sock, f"node-{node.name}")


def start_platform(
    topology: Topology | None = None, db: str = ":memory:", port_base: int = 0, platform_secret: str = ""
) -> RunningPlatform:
    """Start every node; port_base 0 picks free ports, otherwise node i listens on port_base + its offset.

    `platform_secret` fixes the key the platform signs its calls to systems with (default: the store's own).
    """
    topology = topology or load_topology()
    store = open_store(db, SCHEMA)
    load_demo_catalogue(store)
    platform = Platform(topology, store, platform_secret=platform_secret)
    running = RunningPlatform(platform)
    socks: dict[str, socket.socket] = {}
    try:
        for node in topology.nodes:
            socks[node.name] = bind(port_base + node.port_offset if port_base else 0)
    except YzwError:
        for sock in socks.values():
            sock.close()
        store.close()
        raise
    for node in topology.nodes:
        platform.urls[node.name] = f"http://{HOST}:{socks[node.name].getsockname()[1]}{node.prefix}"
    for node in topology.nodes:
        server, thread = _serve(platform, node, socks[node.name])
        running.servers.append(server)
        running.threads.append(thread)
    return running
