"""Locust users for `yzw load`: one user class per scenario, weights and rates from specs/rules/slo.yaml.

Each intake user sends platform-signed applications built from the kit's fixtures; every answer goes to
the ledger (one JSON line per application), which `yzw load` checks for PERF-02 after the run.
Run through `yzw load`; by hand: YZW_LOAD_PLAN=plan.json locust -f loadtests/locustfile.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gevent
from locust import FastHttpUser, constant_throughput, events, task

from yzw.codes import compose
from yzw.codes.times import today_cn
from yzw.conformance.year_end import latest_day0s
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.load.plan import LoadPlan, slo_rules
from yzw.signing import signed_headers

PLAN = LoadPlan.from_env()
# CODE-08 at the end of the calendar's last year: today's acceptance of the item would count into a year the kit
# lacks, and a correct system refuses it; the clerk gives the latest held day 0 (§11 `calendar_date`) instead.
DAY0 = next(iter(latest_day0s(today_cn(), [int(PLAN.item.get("promised_days") or 0)])), None)
SCENARIOS = slo_rules()["load"]["scenarios"]
APPLICATIONS = "/yzw/v1/applications"
SENT: deque[str] = deque(maxlen=5000)  # numbers this process sent, for the status users


def _rate(name: str) -> Any:
    return constant_throughput(float(SCENARIOS[name]["per_user_per_second"]))


class _Ledger:
    """One JSON line per answer: the number, the status intake answered and, for a 202, its received_at (PERF-02:
    a number answered 202 with two different received_at was kept twice); flushed at the end."""

    def __init__(self) -> None:
        self.file = (Path(PLAN.ledger_dir) / f"ledger-{os.getpid()}.jsonl").open("a", encoding="utf-8")

    def write(self, number: str, status: int, received_at: str | None = None) -> None:
        self.file.write(json.dumps({"application_no": number, "status": status, "received_at": received_at}) + "\n")

    def flush(self, **_: Any) -> None:
        self.file.flush()


LEDGER = _Ledger()
events.test_stop.add_listener(LEDGER.flush)
events.quitting.add_listener(LEDGER.flush)


NUMBER, SUBMITTED = "@@APPLICATION_NO@@", "@@SUBMITTED_AT@@"


class _Applications:
    """Valid applications for the plan's item: fixture applicants, each sent with a fresh, random number.

    The bodies are serialised once with placeholders, so that a request costs a number and a signature.
    """

    def __init__(self, seed: int) -> None:
        factory = MessageFactory(make_faker(seed), division=PLAN.division_code)
        self.division = PLAN.division_code
        self.pool = [
            json.dumps(
                {**self._for_item(factory.application()), "application_no": NUMBER, "submitted_at": SUBMITTED},
                ensure_ascii=False,
            ).encode()
            for _ in range(50)
        ]

    def _for_item(self, application: dict[str, Any]) -> dict[str, Any]:
        application |= {"item_code": PLAN.item["item_code"], "item_version": PLAN.item["version"]}
        application["materials"] = [
            {
                "material_code": m["material_code"],
                "name": m["name"],
                "kind": "file",
                "file": {"name": "m.pdf", "size": 1024, "sm3": "0" * 64, "url": "https://files.example/m.pdf"},
            }
            for m in PLAN.item["materials"]
            if m["required"]
        ]
        return application

    def next(self) -> tuple[str, bytes]:
        """A fresh application number and the body that carries it."""
        day = TODAY - dt.timedelta(days=random.randint(1, 300))
        number = compose.application_no(self.division, "1", day, random.randrange(10_000_000))
        body = random.choice(self.pool).replace(NUMBER.encode(), number.encode(), 1)
        return number, body.replace(SUBMITTED.encode(), f"{day}T09:00:00+08:00".encode(), 1)


TODAY = today_cn()
APPLICATION_POOL = _Applications(seed=os.getpid())


def _signed(method: str, path: str, body: bytes = b"", app: tuple[str, str] | None = None) -> dict[str, str]:
    app_id, secret = app or (PLAN.platform_app_id, PLAN.platform_secret)
    headers = signed_headers(app_id, secret, method, path, body=body)
    return {**headers, "Content-Type": "application/json"} if body else headers


class IntakeUser(FastHttpUser):
    """APP-01 under load: the unified application system forwards applications (PERF-01's measured flow)."""

    host = PLAN.base_url
    weight = int(SCENARIOS["intake"]["weight"])
    wait_time = _rate("intake")

    @task
    def apply(self) -> None:
        number, body = APPLICATION_POOL.next()
        if random.random() < float(SCENARIOS["intake"].get("resend_share", 0)):
            # The unified application system's retry: the same application again after its time-out, whether
            # or not the first answer came (a slow first one is still being kept when the retry arrives).
            gevent.spawn_later(
                float(SCENARIOS["intake"]["resend_after_seconds"]), self._send, number, body, "intake (resend)"
            )
        self._send(number, body, "intake")

    def _send(self, number: str, body: bytes, name: str) -> None:
        answer = self.client.post(APPLICATIONS, data=body, headers=_signed("POST", APPLICATIONS, body), name=name)
        LEDGER.write(number, answer.status_code, _received_at(answer) if answer.status_code == 202 else None)
        if answer.status_code == 202 and name == "intake":  # locust counts 4xx, 5xx and no answer as failures
            SENT.append(number)


def _received_at(answer: Any) -> str | None:
    try:
        found = json.loads(answer.content or b"null")
    except ValueError:
        return None
    return str(found["received_at"]) if isinstance(found, dict) and "received_at" in found else None


class StatusUser(FastHttpUser):
    """APP-07 under load: status queries of applications this process sent."""

    host = PLAN.base_url
    weight = int(SCENARIOS["status"]["weight"])
    wait_time = _rate("status")

    @task
    def status(self) -> None:
        if not SENT:
            return
        path = f"{APPLICATIONS}/{random.choice(SENT)}"
        self.client.get(path, headers=_signed("GET", path), name="status")


class GuideUser(FastHttpUser):
    """CAT-02 under load: people reading the item's public guide."""

    host = PLAN.base_url
    weight = int(SCENARIOS["guide"]["weight"])
    wait_time = _rate("guide")

    @task
    def guide(self) -> None:
        self.client.get(f"/yzw/v1/items/{PLAN.item['item_code']}", name="guide")


class SsoUser(FastHttpUser):
    """SSO-01 under load: the portal hands a person over with a fresh ticket; the system validates it."""

    host = PLAN.base_url
    weight = int(SCENARIOS["sso"]["weight"])
    wait_time = _rate("sso")

    @task
    def hand_off(self) -> None:
        user = {
            "user_id": f"U{random.randrange(10**12):012d}",
            "user_type": "person",
            "name": "李娜",
            "auth_level": 3,
            "id_type": "111",
            "id_number": "11010519491231002X",
        }
        ticket = self.client.post(
            f"{PLAN.province_url}/_mock/portal/login", json={"user": user, "app_id": PLAN.app_id}, name="portal login"
        )
        redirect = ticket.json().get("redirect") if ticket.status_code == 200 else None
        if redirect:
            with self.client.get(redirect, name="sso hand-off", allow_redirects=False, catch_response=True) as answer:
                if answer.status_code in (302, 303):
                    answer.success()
                else:
                    answer.failure(f"{answer.status_code}")


class DeskUser(FastHttpUser):
    """--with-checks: a clerk accepts applications through the driver, so events flow to the exchange under load."""

    host = PLAN.base_url
    weight = int(SCENARIOS["desk"]["weight"])
    wait_time = _rate("desk")

    @task
    def accept(self) -> None:
        if not SENT or not PLAN.driver_url:
            return
        number = SENT.popleft()
        if random.random() < float(SCENARIOS["desk"].get("double_click_share", 0)):
            # A double click: the same accept twice at once; one SL, and 409 STATE_INVALID for the other.
            gevent.joinall([gevent.spawn(self._accept, number, "driver accept (double click)") for _ in range(2)])
        else:
            self._accept(number, "driver accept")

    def _accept(self, number: str, name: str) -> None:
        url = f"{PLAN.driver_url}/actions"
        action = {"action": "accept", "application_no": number}
        body = json.dumps({**action, "params": {"calendar_date": DAY0.isoformat()}} if DAY0 else action).encode()
        headers = _signed("POST", urlsplit(url).path, body, (PLAN.app_id, PLAN.app_secret))
        with self.client.post(url, data=body, headers=headers, name=name, catch_response=True) as answer:
            if answer.status_code == 409:  # the other click was first: the answer a clerk should get
                answer.success()
