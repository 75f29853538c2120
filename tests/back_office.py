"""A person at the system's back office, for the operator-flow tests (terminal and browser): the instructions
they read, the pace at which they act, and the back office they act in (the reference system's driver)."""

from __future__ import annotations

import re

from tests.conftest import RECORD

from yzw.client import Credentials, SignedClient

INSTRUCTION = re.compile(r"do `(\w+)` on ([0-9X]+)(?: with (\{[^\n]*?\}))?; the kit waits")
WINDOW = re.compile(r"at the window with (\{[^\n]*?\}), then type the application_no it got\.\s+application_no: ")
PACE = 1.0  # seconds a person takes to read an instruction and act


class BackOffice:
    """The system's own back office, where the person does what the kit says (its driver, here)."""

    def __init__(self, driver_url: str) -> None:
        self.url = driver_url + "/actions"
        self.client = SignedClient(Credentials(RECORD["app_id"], RECORD["app_secret"]))

    def do(self, verb: str, subject: str, params: dict[str, object]) -> int:
        key = "case_no" if len(subject) == 24 else "application_no"
        body = {"action": verb, key: subject, "params": params}
        return self.client.request("POST", self.url, json=body).status_code

    def window_apply(self, params: dict[str, object]) -> str:
        """Take an application at the window; the number the system gave it ("" when it refused)."""
        answer = self.client.request("POST", self.url, json={"action": "window_apply", "params": params})
        return str(answer.json().get("application_no", "")) if answer.status_code == 200 else ""
