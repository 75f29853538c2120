"""`yzw run` attaches to the mock platform at --platform, or starts one there when nothing listens.

A platform the run starts must be the one the system was configured for: the same URLs (the default
topology on the --platform port) and the same platform_secret, which the record then carries.
"""

from __future__ import annotations

import socket
from urllib.parse import SplitResult, urlsplit

from yzw.errors import YzwError
from yzw.mock.runner import RunningPlatform, start_platform
from yzw.mock.topology import load_topology
from yzw.sut import Registration

LOOPBACK = ("127.0.0.1", "localhost")
EXAMPLE = "http://127.0.0.1:8700"


def _parts(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as exc:
        raise YzwError(f"--platform {url!r} is no URL ({exc}); give the province URL, e.g. {EXAMPLE}") from None
    return parts


def listening(url: str, timeout: float = 1.0) -> bool:
    """Something accepts connections at the URL's host and port."""
    parts = _parts(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=timeout):
            return True
    except OSError:
        return False


def platform_at(url: str, platform_secret: str = "") -> RunningPlatform | None:
    """None when something answers at `url`; otherwise a platform started there (the default topology, with
    the province at the URL's port)."""
    if listening(url):
        return None
    parts = _parts(url)
    if parts.hostname not in LOOPBACK or parts.port is None:
        raise YzwError(f"no mock platform answers at {url}; start one with `yzw mock up` there")
    base = parts.port - load_topology().province.port_offset
    if base <= 0:
        raise YzwError(f"cannot start the mock platform at {url}: the province node's port offset does not fit")
    return start_platform(port_base=base, platform_secret=platform_secret)


def platform_for(url: str, registration: Registration) -> RunningPlatform | None:
    """None when a platform (or anything) answers at `url`; otherwise a platform started there for the run."""
    if listening(url):
        return None
    parts = _parts(url)
    if parts.hostname not in LOOPBACK or parts.port is None:
        raise YzwError(f"no mock platform answers at {url}; start one with `yzw mock up --sut FILE` there")
    secret = registration.platform_secret
    if not secret:
        raise YzwError(
            f"no mock platform answers at {url}; start one with `yzw mock up --sut FILE`, or write into the record "
            "the platform_secret your system verifies the platform's calls with, and `yzw run` starts it itself"
        )
    return platform_at(url, str(secret))
