"""Run locust (headless, or its web UI on 127.0.0.1) against a system, bounded in time, then judge the run."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from yzw.content import content_path
from yzw.errors import YzwError
from yzw.load.plan import PLAN_ENV, LoadPlan, slo_rules
from yzw.run.items import choose_item
from yzw.run.target import Target
from yzw.spec.limits import hours, limits

CLASSES = {"intake": "IntakeUser", "status": "StatusUser", "guide": "GuideUser", "sso": "SsoUser", "desk": "DeskUser"}
GRACE_SECONDS = 60  # locust's own start-up and stop, beyond the run time


@dataclass(frozen=True)
class LoadRequest:
    """What `yzw load` was asked: tier, duration, users (None: from the SLO), workers, web UI, checks."""

    tier: str
    seconds: int
    users: int | None = None
    workers: int = 1
    web: bool = False
    with_checks: bool = False


def shape(request: LoadRequest) -> tuple[list[str], int, float]:
    """The user classes, the user count and the spawn rate that give the tier's intake rate."""
    rules = slo_rules()
    scenarios = rules["load"]["scenarios"]
    names = [n for n in CLASSES if n != "desk" or request.with_checks]
    intake = scenarios["intake"]
    intake_users = math.ceil(rules["tiers"][request.tier]["rate"] / float(intake["per_user_per_second"]))
    total_weight = sum(int(scenarios[n]["weight"]) for n in names)
    users = request.users or math.ceil(intake_users * total_weight / int(intake["weight"]))
    return [CLASSES[n] for n in names], users, max(1.0, users / float(rules["load"]["ramp_seconds"]))


def run_locust(
    target: Target,
    item: dict[str, Any],
    request: LoadRequest,
    folder: Path,
    tick: Callable[[float], None],
    say: Callable[[str], None],
) -> int:
    """Locust over the system until the run time is over (it stops itself); its exit code."""
    classes, users, spawn = shape(request)
    ledger = folder / "ledger"
    shutil.rmtree(ledger, ignore_errors=True)
    ledger.mkdir(parents=True)
    plan = folder / "plan.json"
    _plan(target, item, ledger).save(plan)
    command = [sys.executable, "-m", "locust", "-f", str(content_path("loadtests", "locustfile.py"))]
    command += ["-u", str(users), "-r", f"{spawn:g}", "-t", f"{request.seconds}s", "--stop-timeout", "5"]
    command += [
        "--csv",
        str(folder / "locust"),
        "--csv-full-history",
        "--html",
        str(folder / "locust.html"),
        "--only-summary",
    ]
    if request.web:
        port = _free_port()
        command += ["--web-host", "127.0.0.1", "--web-port", str(port), "--autostart", "--autoquit", "10"]
        say(f"locust's web UI: http://127.0.0.1:{port} (it closes 10 s after the run)")
    else:
        command += ["--headless"]
    command += ["--processes", str(request.workers)] if request.workers > 1 else []
    with (folder / "locust.log").open("w", encoding="utf-8") as log:
        process = subprocess.Popen([*command, *classes], env=_env(plan), stdout=log, stderr=subprocess.STDOUT)
        return _watch(process, request.seconds, tick)


def _watch(process: subprocess.Popen[bytes], seconds: int, tick: Callable[[float], None]) -> int:
    started = time.monotonic()
    deadline = started + seconds + GRACE_SECONDS
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            raise YzwError(f"locust did not stop within {seconds + GRACE_SECONDS} s; it was stopped (see locust.log)")
        tick(min(time.monotonic() - started, float(seconds)))
        time.sleep(0.5)
    return int(process.returncode)


def _env(plan: Path) -> dict[str, str]:
    return {**os.environ, PLAN_ENV: str(plan)}


def _plan(target: Target, item: dict[str, Any], ledger: Path) -> LoadPlan:
    return LoadPlan(
        base_url=target.base_url,
        province_url=target.province_url,
        platform_app_id=target.grant.app_id,
        platform_secret=target.grant.secret,
        app_id=target.app_id,
        app_secret=target.registration.app_secret,
        driver_url=target.driver_url,
        division_code=target.registration.division_code,
        item=item,
        ledger_dir=str(ledger),
    )


def load_item(target: Target) -> dict[str, Any]:
    """The catalogue item the load applies for; a YzwError when the department has no active item."""
    catalogue = httpx.get(target.province_url + "/_mock/catalog", timeout=10).json()["items"]
    return choose_item(catalogue, target.registration.dept_uscc)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def exchange_problems(target: Target) -> list[str]:
    """--with-checks: what the exchange refused of the system's pushes during the load (EVT-03, EVT-04, EVT-06)."""
    answer = httpx.get(
        target.exchange_url + "/_mock/traffic",
        params={"path": "/exchange/v1/events", "app_id": target.app_id},
        timeout=30,
    )
    refused: dict[str, int] = {}
    for entry in answer.json()["entries"]:
        if int(entry.get("status") or 0) in (400, 409, 422):
            code = _code(entry)
            refused[code] = refused.get(code, 0) + 1
    problems = [f"{n} push(es) refused with {code}" for code, n in sorted(refused.items())]
    events = httpx.get(target.exchange_url + "/_mock/events", timeout=30).json()["events"]
    deadline = limits().event_deadline_seconds
    late = [
        e
        for e in events
        if e.get("dept_uscc") == target.registration.dept_uscc and float(e.get("delay_seconds") or 0) > deadline
    ]
    too_late = f"{len(late)} event(s) reached the exchange more than {hours(deadline)} late (EVT-06)"
    return problems + ([too_late] if late else [])


def _code(entry: dict[str, Any]) -> str:
    try:
        return str(json.loads(entry.get("response") or "{}").get("code", "?"))
    except ValueError:
        return "?"
