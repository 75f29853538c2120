"""Benchmark the mock platform, side by side in one run (figures only; nothing passes or fails):

1. catalogue-item GET requests/s: a mock node (signature, token, logging) vs. Stoplight Prism serving the
   same operation of specs/openapi/platform.yaml (errors-only logging);
2. exchange ingest events/s (signed, validated, judged, persisted), single posts and batches of 500.

Needs wrk (Debian) and, for Prism, npm (installed into .benchmarks/prism on first use). The platform runs in
its own process (a province-only topology, so relay takes no share); wrk drives it on 127.0.0.1 with
pre-signed requests (benchmarks/presigned.lua). Run: make bench-mock
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
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


def start_platform(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
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
    events = []
    while len(events) < count:
        _, history = factory.case_history(("SL",))
        events.append(history[0])
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="yzw-bench-"))
    node, url = start_platform(workdir)
    prism, prism_url = start_prism()
    try:
        client = register(url)
        # The generated events are months old: with the real date every case would be overdue at once and the
        # run would measure a storm of card notices, not ingest. Supervision's clock goes back before them.
        httpx.post(url + "/_mock/clock", json={"set": "2025-06-01T00:00:00+08:00"}).raise_for_status()
        gets = workdir / "gets.tsv"
        presign(gets, client, [("GET", f"/catalog/v1/items/{ITEM}", b"")] * (args.seconds * 15_000))
        node_rate, node_failed = wrk(url + "/", args.seconds, args.connections, [str(gets), "2"])
        rows = [("catalogue GET, mock node (signed, token, logged)", node_rate, node_failed)]
        if prism is not None:
            dummy = {
                "Authorization": "Bearer x",
                "X-Yzw-App-Id": "a",
                "X-Yzw-Timestamp": "1",
                "X-Yzw-Nonce": "n" * 16,
                "X-Yzw-Signature": "0" * 64,
            }
            prism_rate, prism_failed = wrk(
                f"{prism_url}/catalog/v1/items/{ITEM}", args.seconds, args.connections, headers=dummy
            )
            rows.append(("catalogue GET, Stoplight Prism mock", prism_rate, prism_failed))
        events = opening_events(args.seconds * 4_000)
        singles = workdir / "events.tsv"
        presign(
            singles,
            client,
            [("POST", "/exchange/v1/events", json.dumps(e, ensure_ascii=False).encode()) for e in events],
        )
        single_rate, single_failed = wrk(url + "/", args.seconds, args.connections, [str(singles), "2"])
        rows.append(("exchange ingest, single events (events/s)", single_rate, single_failed))
        batches = workdir / "batches.tsv"
        more = opening_events(args.seconds * 20 * 500)
        presign(
            batches,
            client,
            [
                (
                    "POST",
                    "/exchange/v1/events:batch",
                    json.dumps({"events": more[i : i + 500]}, ensure_ascii=False).encode(),
                )
                for i in range(0, len(more), 500)
            ],
        )
        batch_rate, batch_failed = wrk(url + "/", args.seconds, 8, [str(batches), "2"])
        rows.append(("exchange ingest, batches of 500 (events/s)", batch_rate * 500, batch_failed))
        client.close()
    finally:
        node.terminate()
        if prism is not None:
            prism.terminate()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{'what':52} {'per second':>12} {'non-2xx':>8}   (wrk, {args.connections} connections, {args.seconds} s)")
    for name, rate, failed in rows:
        print(f"{name:52} {rate:>12,.0f} {failed:>8}")
    if prism is not None:
        print(f"node / Prism on the GET: {rows[0][1] / rows[1][1]:.1f}x")


if __name__ == "__main__":
    main()
