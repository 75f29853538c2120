"""Benchmark: the kit's signed intake user against a bare locust FastHttpUser, side by side in one run.

Both post to the same trivial loopback endpoint (a bare ASGI app on uvicorn in its own process), one locust
process each, 32 users without wait, for --seconds. The kit's user builds an application from the fixtures,
numbers it, signs it (HMAC-SM3) and writes the ledger line. Aim: the kit's user at ≥ 70 % of the bare one.
Figures only; nothing passes or fails. Run: make bench-locust
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from yzw.content import content_path
from yzw.load.plan import PLAN_ENV, LoadPlan

ENDPOINT = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 202, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"status":"received"}'})
"""
BARE = """
from locust import FastHttpUser, constant, task

BODY = open(__file__.replace("bare.py", "body.json"), "rb").read()


class BareUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def apply(self):
        self.client.post("/yzw/v1/applications", data=BODY, headers={"Content-Type": "application/json"}, name="intake")
"""
KIT = """
import sys
sys.path.insert(0, {loadtests!r})
from locust import constant
from locustfile import IntakeUser


class KitUser(IntakeUser):
    wait_time = constant(0)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rps(folder: Path, name: str, user: str, url: str, seconds: int, env: dict[str, str]) -> float:
    prefix = folder / name
    command = [sys.executable, "-m", "locust", "-f", str(folder / f"{name}.py"), "--headless", "-u", "32", "-r", "32"]
    command += ["-t", f"{seconds}s", "-H", url, "--csv", str(prefix), "--only-summary", "--stop-timeout", "2", user]
    subprocess.run(command, env=env, capture_output=True, check=False, timeout=seconds + 60)
    with Path(f"{prefix}_stats.csv").open(encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "intake")
    return float(row["Requests/s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    seconds = parser.parse_args().seconds
    folder = Path(tempfile.mkdtemp(prefix="yzw-bench-locust-"))
    (folder / "endpoint.py").write_text(ENDPOINT, encoding="utf-8")
    (folder / "bare.py").write_text(BARE, encoding="utf-8")
    (folder / "kit.py").write_text(KIT.format(loadtests=str(content_path("loadtests"))), encoding="utf-8")
    item = yaml.safe_load(content_path("mocks", "catalog.yaml").read_text(encoding="utf-8"))["items"][0]
    record = yaml.safe_load(content_path("mocks", "reference-sut.yaml").read_text(encoding="utf-8"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    plan = LoadPlan(
        url, url, "yzw-platform", "p" * 40, record["app_id"], record["app_secret"], None, record, item, str(folder)
    )
    plan.save(folder / "plan.json")
    env = {**os.environ, PLAN_ENV: str(folder / "plan.json")}
    (folder / "body.json").write_text(json.dumps({**item, "note": "一张网"}, ensure_ascii=False), encoding="utf-8")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "endpoint:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=folder,
    )
    try:
        time.sleep(1.5)
        bare = _rps(folder, "bare", "BareUser", url, seconds, env)
        kit = _rps(folder, "kit", "KitUser", url, seconds, env)
    finally:
        server.terminate()
    print(f"bare FastHttpUser: {bare:,.0f} requests/s")
    print(f"kit's signed intake user: {kit:,.0f} requests/s = {kit / bare:.0%} of bare (aim ≥ 70 %)")


if __name__ == "__main__":
    main()
