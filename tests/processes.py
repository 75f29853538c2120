"""The `yzw` command as a user runs it: a separate process, its exit code and both output streams."""

from __future__ import annotations

import socket
import subprocess
import sys


def run_yzw(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`yzw ARGS…` through the console script's entry point (errors as one line, exit 2), output captured."""
    return subprocess.run(
        [sys.executable, "-c", "from yzw.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def free_port_base(nodes: int = 3) -> int:
    """A port with the next `nodes - 1` ports free too (the default topology's province, city and county)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        socks = []
        try:
            for offset in range(nodes):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no run of free ports")
