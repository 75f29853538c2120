"""Making the system act (norm §11): its conformance driver, or a person at the window told what to do."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

import httpx
import pytest

from yzw.client import Credentials, SignedClient
from yzw.conformance.evidence import Evidence
from yzw.conformance.operator import Operator
from yzw.conformance.year_end import asked_again, refused_for_unheld_year
from yzw.run.target import Target


class Driver(Protocol):
    """Something that makes the system do one §11 action and tells what it answered."""

    def act(
        self, verb: str, application_no: str | None = None, case_no: str | None = None, **params: Any
    ) -> httpx.Response | None: ...

    def close(self) -> None: ...


class HttpDriver:
    """The system's own driver: POST {driver_url}/actions, signed with the system's own key. An acceptance
    refused for a year the kit's calendar lacks too is asked again with a held day 0 (`year_end`)."""

    def __init__(self, target: Target, evidence: Evidence, promised_days: Callable[[], list[int]]) -> None:
        self.url = f"{target.driver_url}/actions"
        self.client = SignedClient(Credentials(target.app_id, target.registration.app_secret), hooks=evidence.hooks())
        self.promised_days = promised_days  # of the department's items: the counts a day 0 must serve

    def act(
        self, verb: str, application_no: str | None = None, case_no: str | None = None, **params: Any
    ) -> httpx.Response:
        answer = self._send(verb, application_no, case_no, params)
        if verb != "accept" or "calendar_date" in params:
            return answer
        return asked_again(
            answer,
            lambda day0: self._send(verb, application_no, case_no, {**params, "calendar_date": day0}),
            self.promised_days,
        )

    def _send(
        self, verb: str, application_no: str | None, case_no: str | None, params: dict[str, Any]
    ) -> httpx.Response:
        body: dict[str, Any] = {"action": verb, "params": params}
        if application_no:
            body["application_no"] = application_no
        if case_no:
            body["case_no"] = case_no
        return self.client.request("POST", self.url, json=body)

    def close(self) -> None:
        self.client.close()


class OperatorDriver:
    """No driver: tell the operator what to do in the system; the check then waits for the result at the nodes
    (as long as a person needs: `Operator`)."""

    def __init__(self, operator: Operator) -> None:
        self.operator = operator

    def act(
        self, verb: str, application_no: str | None = None, case_no: str | None = None, **params: Any
    ) -> httpx.Response | None:
        subject = application_no or case_no or "a new application"
        detail = f" with {json.dumps(params, ensure_ascii=False)}" if params else ""
        if verb == "window_apply":
            number = self.operator.ask(
                f"Take this application at the window{detail}, then type the application_no it got.",
                "application_no: ",
            ).strip()
            return httpx.Response(200, json={"ok": True, "application_no": number})
        self.operator.instruct(f"In the system, do `{verb}` on {subject}{detail}; the kit waits for its events")
        return None

    def close(self) -> None:
        return None


class ManualDriver:
    """`--profile ci` with no driver: a step that needs a person makes the check `manual`."""

    def act(
        self, verb: str, application_no: str | None = None, case_no: str | None = None, **params: Any
    ) -> httpx.Response | None:
        pytest.skip(f"manual: needs a person to `{verb}` in the system (no driver registered; --profile ci)")

    def close(self) -> None:
        return None


def without_params(driver: Driver, verb: str, application_no: str) -> httpx.Response | None:
    """The action with no `params` member at all (§11: read as {}); a person is simply asked to do it."""
    if isinstance(driver, HttpDriver):
        answer = driver.client.request("POST", driver.url, json={"action": verb, "application_no": application_no})
        if verb == "accept" and refused_for_unheld_year(answer):  # read as {}: the refusal is the calendar's
            return driver.act(verb, application_no)  # asked again with a held day 0 (year_end)
        return answer
    return driver.act(verb, application_no)


def seen(answer: httpx.Response | None, what: str) -> httpx.Response:
    """The driver's answer; a check that needs it is `manual` when a person acted instead."""
    if answer is None:
        pytest.skip(f"manual: ask the operator whether the system {what}; no driver answer to judge")
    return answer
