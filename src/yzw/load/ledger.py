"""PERF-02 after the load: every application answered 202 is known exactly once; nothing refused was kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import zip_longest
from pathlib import Path

import httpx

from yzw.client import Credentials, SignedClient
from yzw.load.clauses import judges
from yzw.run.target import Target

CONFLICT = 409  # a number that existed before the run: nothing new was kept (specs/DECISIONS.md, PERF-02)
CHECKERS = 8


def entries(folder: Path) -> Iterator[tuple[str, int, str | None]]:
    """Each answer of the run: number, status, and the received_at of a 202 (None for other answers)."""
    for path in sorted(folder.glob("ledger-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                yield str(record["application_no"]), int(record["status"]), record.get("received_at")


@judges("PERF-02", clauses=["PERF-02.1", "PERF-02.2", "PERF-02.3", "PERF-02.4", "PERF-02.5"])
def check(target: Target, folder: Path) -> tuple[int, list[str]]:
    """How many applications were checked, and the problems found (lost, doubled or kept after refusal).

    Doubled: a number answered 202 with two different received_at, so kept twice (a repeat gets the first
    answer again: APP-04). The load sends a share of applications again after a time-out (specs/rules/slo.yaml).
    """
    answers: dict[str, list[int]] = {}
    received: dict[str, set[str]] = {}
    for number, status, received_at in entries(folder):
        answers.setdefault(number, []).append(status)
        if status == 202 and received_at is not None:
            received.setdefault(number, set()).add(received_at)
    doubled = [n for n, times in received.items() if len(times) > 1]
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
    doubles = [
        f"{n} was answered 202 twice with different received_at ({', '.join(sorted(received[n]))}): kept twice"
        for n in doubled
    ]
    lost, kept = [], []
    for number, status, found in results:
        taken = 202 in answers[number]
        if taken and (status != 200 or found != number):
            lost.append(f"{number} was answered 202 but the status query says {status} (lost)")
        elif not taken and CONFLICT not in answers[number] and status != 404:
            kept.append(f"{number} was refused ({answers[number]}) but the status query knows it (kept)")
    return len(results), _each_kind_first(lost, kept, doubles)


def _each_kind_first(*kinds: list[str]) -> list[str]:
    """The problems taken in turn from each kind, so that the first few shown name every kind found."""
    return [problem for row in zip_longest(*kinds) for problem in row if problem is not None]
