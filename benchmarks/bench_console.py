"""Benchmark: the console's pages with 50 systems and 10,000 cases (figures only; nothing passes or fails).

A mock platform (in this process) holds the events of 10,000 applications of one department, pushed at the
county and relayed to the city and the province; the console's database holds 50 systems, a run of 60 checks,
a certificate and a waiver. A signed-in reviewer asks each page REQUESTS times, one after the other, over
HTTP on 127.0.0.1; the script prints p50 and p95 per page (aim: p95 under 300 ms). Run: make bench-console
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from yzw.console.app import Console, build_app
from yzw.console.auth import add_account
from yzw.console.db import ConsoleDb
from yzw.content import content_path
from yzw.fixtures.dumps import generate
from yzw.mock.intake import ingest_many
from yzw.mock.runner import RunningPlatform, start_platform
from yzw.serving.server import bind, serve
from yzw.sut import Registration

PASSWORD = "benchmark password"
CHUNK = 500


def seed_cases(running: RunningPlatform, applications: int) -> Registration:
    """The events of `applications` applications of one department, recorded at the county as pushed by a
    system registered for that department; relayed up before the clock starts."""
    events, _ = generate(departments=1, applications=applications, defect_rate=0.0, seed=7)
    listed = list(events)
    record = yaml.safe_load(content_path("mocks", "reference-sut.yaml").read_text(encoding="utf-8"))
    dept = listed[0]["dept_uscc"]
    registration = Registration.from_mapping({**record, "app_id": "bench-system", "dept_uscc": dept})
    running.register(registration)
    platform = running.platform
    county = platform.topology.node("county")
    for start in range(0, len(listed), CHUNK):
        chunk = [({k: v for k, v in e.items() if k != "received_at"}, []) for e in listed[start : start + CHUNK]]
        ingest_many(platform, county, chunk, "system")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and platform.store.one("SELECT COUNT(*) FROM outbox")[0]:
        time.sleep(0.5)  # the relay to the city and the province
    return registration


def seed_console(db: ConsoleDb, registration: Registration, folder: Path) -> None:
    add_account(db, "reviewer", PASSWORD, "reviewer")
    for n in range(50):
        record = registration.as_record() if n == 0 else {**registration.as_record(), "app_id": f"system-{n:02d}"}
        db.store.execute(
            "INSERT INTO console_systems VALUES (?, ?, ?, '2026-12-04')",
            record["app_id"],
            f"vendor-{n % 7}",
            json.dumps(record, ensure_ascii=False),
        )
    db.store.execute(
        "INSERT INTO console_runs (id, app_id, started_by, profile, chapters, only_ids, status, folder, started_at) "
        "VALUES ('run1', ?, 'reviewer', 'ci', '', '', 'passed', ?, '2026-12-04')",
        registration.app_id,
        str(folder),
    )
    for position in range(1, 61):
        db.store.execute(
            "INSERT INTO console_run_tests VALUES ('run1', ?, 60, 'pass', 'APP-01', 'test_something')", position
        )
    db.store.execute(
        "INSERT INTO console_waivers VALUES ('w1', ?, 'PERF-01', 'why', ?, '2099-01-01', 'now')",
        registration.app_id,
        json.dumps(["a", "b"]),
    )


def measure(client: httpx.Client, path: str, requests: int) -> tuple[float, float]:
    """p50 and p95 in ms of `requests` asks, after one not counted (its template compiled, its caches warm)."""
    client.get(path).raise_for_status()
    seconds = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path)
        seconds.append(time.perf_counter() - started)
        answer.raise_for_status()
    cuts = statistics.quantiles(seconds, n=20)
    return statistics.median(seconds) * 1000, cuts[18] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    running = start_platform()
    try:
        started = time.monotonic()
        registration = seed_cases(running, args.applications)
        events = running.platform.store.one("SELECT COUNT(*) FROM events")[0]
        took = time.monotonic() - started
        print(f"{args.applications:,} applications, {events:,} events at 3 nodes, seeded in {took:.0f} s")
        with tempfile.TemporaryDirectory() as folder:
            db = ConsoleDb(str(Path(folder) / "console.db"))
            seed_console(db, registration, Path(folder))
            console = Console.open(db, Path(folder), running.urls["province"])
            sock = bind(0)
            server, thread = serve(build_app(console), sock, "console")
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            app_id = registration.app_id
            pages = [
                "/systems",
                f"/systems/{app_id}",
                f"/systems/{app_id}/cases",
                f"/systems/{app_id}/cases?page=150",
                f"/systems/{app_id}/traffic",
                "/runs/run1",
                "/certificates",
                "/waivers",
            ]
            with httpx.Client(base_url=url, timeout=30) as client:
                client.post("/login", data={"name": "reviewer", "password": PASSWORD})
                print(f"{'page':<48} {'p50 ms':>8} {'p95 ms':>8}")
                for path in pages:
                    p50, p95 = measure(client, path, args.requests)
                    print(f"{path:<48} {p50:>8.1f} {p95:>8.1f}")
            server.should_exit = True
            thread.join(timeout=5)
    finally:
        running.stop()


if __name__ == "__main__":
    main()
