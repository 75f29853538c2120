"""PERF-02 after the load: every application answered 202 is known exactly once; nothing refused was kept."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from yzw.client import Credentials, SignedClient
from yzw.load.clauses import judges
from yzw.run.target import Target

CONFLICT = 409  # a number that existed before the run: nothing new was kept (specs/DECISIONS.md, PERF-02)
CHECKERS = 8


def entries(folder: Path) -> Iterator[tuple[str, int]]:
    for path in sorted(folder.glob("ledger-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                yield str(record["application_no"]), int(record["status"])


@judges("PERF-02", clauses=["PERF-02.1", "PERF-02.2", "PERF-02.3", "PERF-02.4", "PERF-02.5"])
def check(target: Target, folder: Path) -> tuple[int, list[str]]:
    """How many applications were checked, and the problems found (lost, doubled or kept after refusal)."""
    answers: dict[str, list[int]] = {}
    for number, status in entries(folder):
        answers.setdefault(number, []).append(status)
    doubled = [n for n, statuses in answers.items() if Counter(statuses)[202] > 1]
    client = SignedClient(Credentials(target.grant.app_id, target.grant.secret))

    def known(number: str) -> tuple[str, int, str | None]:
        """Its status and the number the system knows it by; status 0 when the system did not answer."""
        try:
            answer = client.request("GET", f"{target.base_url}/yzw/v1/applications/{number}")
            found = answer.json().get("application_no") if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return number, 0, None
        return number, answer.status_code, found

    try:
        with ThreadPoolExecutor(CHECKERS) as pool:  # httpx clients are safe to share between threads
            results = list(pool.map(known, answers))
    finally:
        client.close()
    problems = [f"{n} was sent twice in one run and answered 202 twice" for n in doubled[:5]]
    for number, status, found in results:
        taken = 202 in answers[number]
        if taken and (status != 200 or found != number):
            problems.append(f"{number} was answered 202 but the status query says {status} (lost)")
        elif not taken and CONFLICT not in answers[number] and status != 404:
            problems.append(f"{number} was refused ({answers[number]}) but the status query knows it (kept)")
    return len(results), problems
