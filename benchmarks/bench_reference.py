"""Benchmark: signed application intake of the reference system (APP-01), requests/s and p95 latency.

The city SLO of PERF-01 (200 applications/s sustained, p95 ≤ 800 ms) is the target. The mock platform and the
reference system run in a child process; wrk posts pre-signed, distinct applications (benchmarks/presigned.lua)
over 64 connections. Figures only; nothing passes or fails. Run: make bench-reference
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.signing import signed_headers

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "benchmarks" / "presigned.lua"
ITEM = "11330106002482061L4010000123000"
SERVE = """
import json, sys, time
from pathlib import Path
from yzw.mock.runner import start_platform
from yzw.reference.runner import start_reference
from yzw.sut import load_registration
platform = start_platform(port_base=0)
reference = start_reference(platform, load_registration(Path(sys.argv[1])))
print(json.dumps({"url": reference.url, "app_id": reference.system.platform_app_id,
                  "secret": reference.system.platform_secret}), flush=True)
time.sleep(3600)
"""


def applications(count: int) -> list[bytes]:
    factory = MessageFactory(make_faker(5))
    bodies = []
    for _ in range(count):
        application = factory.application()
        application["item_code"] = ITEM
        bodies.append(json.dumps(application, ensure_ascii=False).encode())
    return bodies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60, help="upper bound; the run ends when all are posted")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--count", type=int, default=20_000, help="distinct applications to post")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(ROOT / "mocks" / "reference-sut.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        started = json.loads(child.stdout.readline())  # type: ignore[union-attr]
        bodies = applications(args.count)
        workdir = Path(tempfile.mkdtemp(prefix="yzw-bench-"))
        lines = workdir / "applications.tsv"
        with lines.open("w", encoding="utf-8") as out:
            for body in bodies:
                headers = signed_headers(started["app_id"], started["secret"], "POST", "/yzw/v1/applications", "", body)
                headers["Content-Type"] = "application/json"
                text = "|".join(f"{k}: {v}" for k, v in headers.items())
                out.write(f"/yzw/v1/applications\t{text}\tPOST\t{body.decode()}\n")
        time.sleep(0.5)
        output = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "-s",
                str(LUA),
                started["url"] + "/",
                "--",
                str(lines),
                "2",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        shutil.rmtree(workdir, ignore_errors=True)
    finally:
        child.terminate()
    # The threads stop when their applications are used up, but wrk divides by the nominal duration: the rate is
    # the threads' own rate while they ran (wrk's per-thread Req/Sec average, times the two threads).
    per_thread = re.search(r"Req/Sec\s+([\d.]+)(k?)", output)
    rate = float(per_thread.group(1)) * (1000 if per_thread.group(2) else 1) * 2  # type: ignore[union-attr]
    p95 = float(re.search(r"p95_ms: ([\d.]+)", output).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    print(
        f"reference intake: {rate:,.0f} applications/s, p95 {p95:.0f} ms, non-2xx {failed.group(1) if failed else 0}"
        f"   (wrk, {args.connections} connections, {args.seconds} s; city SLO: 200/s, p95 ≤ 800 ms)"
    )


if __name__ == "__main__":
    main()
