"""Without a driver, `--profile acceptance` tells a person what to do; a simulated clerk follows the prompts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.certify import pointed_record, write_record
from tests.conftest import RECORD, REGISTRATION

from yzw.client import Credentials, SignedClient
from yzw.codes.times import today_cn
from yzw.conformance.run import run_suites
from yzw.conformance.session import Conformance
from yzw.conformance.year_end import latest_day0s
from yzw.mock.catalog import demo_items
from yzw.mock.runner import RunningPlatform
from yzw.reference.runner import start_reference
from yzw.run.options import RunOptions
from yzw.run.verdicts import MANUAL, PASS

ACTION = re.compile(r"do `(\w+)` on (\S+?)(?: with (\{.*\}))?; the kit waits")
WINDOW = re.compile(r"at the window with (\{.*\}), then type")


class Clerk:
    """A person at the window who does what the kit says, in the system's own back office (its driver)."""

    def __init__(self, driver_url: str) -> None:
        self.url = driver_url + "/actions"
        self.client = SignedClient(Credentials(RECORD["app_id"], RECORD["app_secret"]))
        self.heard: list[str] = []
        self.window_params: dict[str, object] = {}

    def say(self, text: str) -> None:
        self.heard.append(text)
        window = WINDOW.search(text)
        if window:  # an application to take at the window: the number is asked next
            self.window_params = json.loads(window.group(1))
            return
        verb, subject, params = ACTION.search(text).groups()  # type: ignore[union-attr]
        key = "case_no" if len(subject) == 24 else "application_no"
        body = {"action": verb, key: subject, "params": json.loads(params or "{}")}
        self.client.request("POST", self.url, json=body)

    def ask(self, prompt: str) -> str:
        self.heard.append(prompt)
        params = self.window_params
        answer = self.client.request("POST", self.url, json={"action": "window_apply", "params": params})
        return str(answer.json().get("application_no", "")) if answer.status_code == 200 else ""


def test_a_clerk_following_the_prompts_gets_the_same_verdicts(
    running_platform: RunningPlatform, tmp_path: Path
) -> None:
    own = [int(item["promised_days"]) for item in demo_items() if item["dept"]["uscc"] == REGISTRATION.dept_uscc]
    if latest_day0s(today_cn(), own):  # only the driver can be given a day 0 (specs/DECISIONS.md)
        pytest.skip("today's acceptances count into a year the kit's calendar lacks: the reference refuses them")
    reference = start_reference(running_platform, REGISTRATION)
    clerk = Clerk(pointed_record(reference)["driver"]["url"])
    try:
        record = {k: v for k, v in pointed_record(reference).items() if k != "driver"}
        options = RunOptions.checked(
            sut=write_record(tmp_path, record),
            platform=running_platform.urls["province"],
            chapters=frozenset({"ACC", "APP"}),
            operator_wait=3.0,  # the clerk acts as soon as told; a wait for events that never come ends here
        )
        conformance = Conformance.start(options)
        conformance.say, conformance.ask = clerk.say, clerk.ask
        results = run_suites(conformance).results
    finally:
        clerk.client.close()
        reference.stop()
    verdicts = {test.name: test.verdict for test in results}
    assert any("do `accept` on" in line for line in clerk.heard)
    assert any("at the window" in line for line in clerk.heard)
    assert verdicts["test_a_refusal_needs_a_reason_and_is_pushed_as_bysl"] == MANUAL  # needs the driver's own answer
    judged = {name: verdict for name, verdict in verdicts.items() if verdict != MANUAL}
    assert set(judged.values()) == {PASS}, {name: verdict for name, verdict in judged.items() if verdict != PASS}
    assert "test_the_promised_due_time_counts_working_days" in judged
