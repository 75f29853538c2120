"""Benchmark the mock platform, side by side in one run (figures only; nothing passes or fails):

1. catalogue-item GET requests/s: a mock node (signature, token, logging) vs. Stoplight Prism serving the
   same operation of specs/openapi/platform.yaml (errors-only logging);
2. exchange ingest events/s (signed, validated, judged, persisted), single posts and batches of 500.

Needs wrk (Debian) and, for Prism, npm (installed into .benchmarks/prism on first use). The platform runs in
its own process (a province-only topology, so relay takes no share); wrk drives it on 127.0.0.1 with
pre-signed requests (benchmarks/presigned.lua). Run: make bench-mock

`--before DIR` also starts the platform of another checkout (e.g. a worktree of main) and measures both in
the same run, one after the other (each node stopped once measured: its supervision engine would go on
working through the cases just pushed while the other is measured), for a before/after on one machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from yzw.client import Credentials, SignedClient
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.signing import signed_headers

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "benchmarks" / "presigned.lua"
CACHE = ROOT / ".benchmarks"
ITEM = "11330106002482061L4010000123000"
DEPT = "11330106002482061L"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {seconds} s")


def wrk(
    url: str, seconds: int, connections: int, script: list[str] | None = None, headers: dict[str, str] | None = None
) -> tuple[float, int]:
    """Requests/s and non-2xx count of one wrk run."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command += [*(["-s", str(LUA)] if script else []), url, *(["--", *script] if script else [])]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rate, int(failed.group(1)) if failed else 0


def presign(path: Path, client: SignedClient, requests: list[tuple[str, str, bytes]]) -> None:
    """Write one line per request with fresh signature headers and the client's bearer token."""
    token = client._bearer()["Authorization"]
    creds = client.credentials
    with path.open("w", encoding="utf-8") as out:
        for method, url_path, body in requests:
            headers = signed_headers(creds.app_id, creds.secret, method, url_path, "", body)
            headers |= {"Authorization": token, "Content-Type": "application/json"}
            text = "|".join(f"{k}: {v}" for k, v in headers.items())
            out.write(f"{url_path}\t{text}\t{method}\t{body.decode()}\n")


def start_platform(workdir: Path, checkout: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """`yzw mock up` with a province-only topology, from this checkout or from `checkout`."""
    topology = workdir / "topology.yaml"
    topology.write_text(
        yaml.safe_dump({"nodes": [{"name": "province", "tier": "province", "division_code": "330000", "port": 0}]})
    )
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from yzw.cli import main; main()",
            "mock",
            "up",
            "--topology",
            str(topology),
            "--port-base",
            str(port),
            "--duration",
            "3600",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": f"{checkout / 'src'}:{checkout}"} if checkout else None,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/idp/v1/keys")
    return process, url


def start_prism() -> tuple[subprocess.Popen[bytes] | None, str]:
    if shutil.which("npm") is None:
        return None, ""
    prism = CACHE / "prism" / "node_modules" / ".bin" / "prism"
    if not prism.exists():
        subprocess.run(
            ["npm", "install", "--silent", "--prefix", str(CACHE / "prism"), "@stoplight/prism-cli"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    port = free_port()
    process = subprocess.Popen(
        [str(prism), "mock", str(ROOT / "specs/openapi/platform.yaml"), "-p", str(port), "--verboseLevel", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/idp/v1/keys")
    return process, url


def register(url: str) -> SignedClient:
    factory = MessageFactory(make_faker(99))
    record = {**factory.sut(), "dept_uscc": DEPT, "dept_seq": "021", "items": [ITEM]}
    httpx.post(url + "/_mock/systems", json=record).raise_for_status()
    return SignedClient(
        Credentials(
            record["app_id"],
            record["app_secret"],
            token_url=url + "/idp/v1/oauth/token",
            scope="exchange:write catalog:read",
        )
    )


def opening_events(count: int) -> list[dict[str, Any]]:
    """`count` events that each open their own application (SL, seq 1), so no two depend on each other."""
    factory = MessageFactory(make_faker(7))
    events: list[dict[str, Any]] = []
    while len(events) < count:
        _, history = factory.case_history(("SL",))
        events.append(history[0])
    return events


@dataclass
class Node:
    """One platform under test: its process, URL, signed client and pre-signed request files."""

    label: str
    process: subprocess.Popen[bytes]
    url: str
    client: SignedClient | None = None
    files: dict[str, Path] = field(default_factory=dict)


def prepare(node: Node, workdir: Path, seconds: int, singles: list[dict[str, Any]], more: list[dict[str, Any]]) -> None:
    """Register, set the clock back before the generated events, and pre-sign every request for this node."""
    node.client = client = register(node.url)
    # The generated events are months old: with the real date every case would be overdue at once and the
    # run would measure a storm of card notices, not ingest. Supervision's clock goes back before them.
    httpx.post(node.url + "/_mock/clock", json={"set": "2025-06-01T00:00:00+08:00"}).raise_for_status()
    name = node.label.replace(" ", "-")
    node.files = {kind: workdir / f"{name}-{kind}.tsv" for kind in ("gets", "singles", "batches")}
    presign(node.files["gets"], client, [("GET", f"/catalog/v1/items/{ITEM}", b"")] * (seconds * 15_000))
    posts = [("POST", "/exchange/v1/events", json.dumps(e, ensure_ascii=False).encode()) for e in singles]
    presign(node.files["singles"], client, posts)
    batches = [json.dumps({"events": more[i : i + 500]}, ensure_ascii=False).encode() for i in range(0, len(more), 500)]
    presign(node.files["batches"], client, [("POST", "/exchange/v1/events:batch", body) for body in batches])


def measure(node: Node, seconds: int, connections: int) -> list[tuple[str, float, int]]:
    """The node's catalogue GET, single pushes and batches of 500, one after the other."""
    rows = []
    for kind, what, clients, per in (
        ("gets", "catalogue GET, mock node {} (signed, token, logged)", connections, 1),
        ("singles", "exchange ingest {}, single events (events/s)", connections, 1),
        ("batches", "exchange ingest {}, batches of 500 (events/s)", 8, 500),
    ):
        rate, failed = wrk(node.url + "/", seconds, clients, [str(node.files[kind]), "2"])
        rows.append((what.format(node.label), rate * per, failed))
    return rows


def prism_row(prism_url: str, seconds: int, connections: int) -> tuple[str, float, int]:
    dummy = {
        "Authorization": "Bearer x",
        "X-Yzw-App-Id": "a",
        "X-Yzw-Timestamp": "1",
        "X-Yzw-Nonce": "n" * 16,
        "X-Yzw-Signature": "0" * 64,
    }
    rate, failed = wrk(f"{prism_url}/catalog/v1/items/{ITEM}", seconds, connections, headers=dummy)
    return "catalogue GET, Stoplight Prism mock", rate, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--before", type=Path, help="another checkout, measured in the same run (before/after)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="yzw-bench-"))
    nodes = [Node("before", *start_platform(workdir, args.before.resolve()))] if args.before else []
    nodes.append(Node("after" if args.before else "node", *start_platform(workdir)))
    prism, prism_url = start_prism()
    rows: list[tuple[str, float, int]] = []
    try:
        # wrk divides by the whole duration even when the pre-signed requests run out sooner (each is sent once):
        # prepare twice the aims (3,000 single and 10,000 batched events/s), or the figure is the supply's cap
        singles, more = opening_events(args.seconds * 6_000), opening_events(args.seconds * 40 * 500)
        for node in nodes:
            prepare(node, workdir, args.seconds, singles, more)
        if prism is not None:
            rows.append(prism_row(prism_url, args.seconds, args.connections))
        for node in nodes:
            rows += measure(node, args.seconds, args.connections)
            node.process.terminate()  # its supervision engine still works through the cases just pushed
    finally:
        for node in nodes:
            if node.client is not None:
                node.client.close()
            node.process.terminate()
        if prism is not None:
            prism.terminate()
        shutil.rmtree(workdir, ignore_errors=True)
    report(rows, args.seconds, args.connections)


def report(rows: list[tuple[str, float, int]], seconds: int, connections: int) -> None:
    print(f"{'what':62} {'per second':>12} {'non-2xx':>8}   (wrk, {connections} connections, {seconds} s)")
    for name, rate, failed in rows:
        print(f"{name:62} {rate:>12,.0f} {failed:>8}")
    prism = next((rate for name, rate, _ in rows if "Prism" in name), None)
    for name, rate, _ in rows:
        if prism and name.startswith("catalogue GET, mock node"):
            print(f"{name.split(' (')[0].removeprefix('catalogue GET, ')} / Prism on the GET: {rate / prism:.1f}x")


if __name__ == "__main__":
    main()
