"""What the console reads from the mock platform for a system: its traffic at each node and its cases.

The console is given the province's URL; `/_mock/nodes` names the others. Each request and answer is shown
through `codes.masking.mask` (no whole ID number, phone, key or ticket on a reviewer's screen); a node that
does not answer is named, never a traceback.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from yzw.codes.masking import mask

TIMEOUT = 5.0
SHOWN = 100  # newest entries per node on the traffic page
PUSHES = "2000"  # a system's newest pushes per node read to tell its own applications
PER_PAGE = 50  # applications per page of the case list
NUMBER_IN_BODY = re.compile(r'"application_no"\s*:\s*"(\d{22}[\dX])"|<application_no>(\d{22}[\dX])</application_no>')
SECRET_HEADERS = ("authorization", "x-yzw-signature")


@dataclass
class Node:
    name: str
    tier: str
    url: str
    parent: str | None


@dataclass
class Case:
    """One application's events across the nodes: per step and seq, where and when it arrived."""

    application_no: str
    hops: dict[tuple[int, str], dict[str, dict[str, Any]]] = field(default_factory=dict)  # (seq, step) → node → event
    cards: list[dict[str, Any]] = field(default_factory=list)  # supervision cards (SUP-01), with their node


class PlatformView:
    def __init__(self, province_url: str) -> None:
        self.province_url = province_url.rstrip("/")

    def _get(self, url: str, **params: str) -> dict[str, Any]:
        try:
            answer = httpx.get(url, params=params, timeout=TIMEOUT)
            answer.raise_for_status()
            return dict(answer.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise PlatformUnavailable(f"the mock platform at {url} did not answer: {exc}") from None

    def nodes(self) -> list[Node]:
        listed = self._get(f"{self.province_url}/_mock/nodes")["nodes"]
        order = {"county": 0, "city": 1, "province": 2}  # county → city → province, as events travel
        found = [Node(n["name"], n["tier"], n["url"], n.get("parent")) for n in listed]
        return sorted(found, key=lambda n: (order.get(n.tier, 3), n.name))

    def traffic(self, app_id: str) -> list[tuple[Node, list[dict[str, Any]]]]:
        """Each node's newest requests of the system, masked, newest first."""
        shown = []
        for node in self.nodes():
            entries = self._get(f"{node.url}/_mock/traffic", app_id=app_id, limit=str(SHOWN))["entries"]
            shown.append((node, [_masked(entry) for entry in reversed(entries)]))
        return shown

    def cases(self, app_id: str, dept_uscc: str, own_only: bool, page: int = 1) -> CasePage:
        """One page of the system's applications, the latest first, each with every event's arrival and delay
        per node and its supervision cards; and the exchange's refusals of the system's pushes.

        Events and cards name a department, not a system. With `own_only` (another vendor has a system of the
        same department) only the applications found in this system's own pushes are shown."""
        nodes = self.nodes()
        numbers: dict[str, None] = {}
        for node in nodes:
            numbers.update(dict.fromkeys(self._get(f"{node.url}/_mock/events", app_id=app_id, numbers="1")["numbers"]))
        listed = list(numbers)
        if own_only:
            own = self._own_numbers(nodes, app_id)
            listed = [number for number in listed if number in own]
        pages = max(1, -(-len(listed) // PER_PAGE))
        page = min(max(page, 1), pages)
        chosen = listed[(page - 1) * PER_PAGE : page * PER_PAGE]
        cases = {number: Case(number) for number in chosen}
        refusals = []
        for node in nodes:
            if chosen:
                for event in self._get_many(f"{node.url}/_mock/events", chosen)["events"]:
                    hops = cases[event["application_no"]].hops
                    hops.setdefault((int(event["seq"]), str(event["step"])), {})[node.name] = event
            for card in self._get(f"{node.url}/_mock/cards", dept_uscc=dept_uscc)["cards"]:
                if card["application_no"] in cases:
                    cases[card["application_no"]].cards.append({**card, "node": node.name})
            pushes = self._get(
                f"{node.url}/_mock/traffic", app_id=app_id, path="/exchange/v1/events", min_status="400", limit="200"
            )["entries"]
            refusals += [_refusal(node, entry) for entry in reversed(pushes)]
        return CasePage(nodes, [cases[number] for number in chosen], refusals, page, pages, len(listed), own_only)

    def _get_many(self, url: str, numbers: list[str]) -> dict[str, Any]:
        try:
            answer = httpx.get(url, params=[("application_no", number) for number in numbers], timeout=TIMEOUT)
            answer.raise_for_status()
            return dict(answer.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise PlatformUnavailable(f"the mock platform at {url} did not answer: {exc}") from None

    def _own_numbers(self, nodes: list[Node], app_id: str) -> set[str]:
        """Application numbers in the system's own pushes (as far as their logged bodies go)."""
        found: set[str] = set()
        for node in nodes:
            for entry in self._get(f"{node.url}/_mock/traffic", app_id=app_id, path="/exchange/", limit=PUSHES)[
                "entries"
            ]:
                found.update(_pushed_numbers(entry))
        return found


@dataclass
class CasePage:
    nodes: list[Node]
    cases: list[Case]
    refusals: list[dict[str, Any]]
    page: int
    pages: int
    total: int
    own_only: bool


def _pushed_numbers(entry: dict[str, Any]) -> list[str]:
    """The application numbers in one logged push, JSON or XML, a single event or a batch (its logged part:
    the node keeps the first 4 KiB of a body)."""
    return [a or b for a, b in NUMBER_IN_BODY.findall(str(entry.get("request") or ""))]


class PlatformUnavailable(Exception):
    """The platform did not answer; the page says so."""


def _masked(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": entry.get("at"),
        "method": entry.get("method"),
        "path": str(entry.get("path", "")) + (f"?{mask(entry['query'])}" if entry.get("query") else ""),
        "status": entry.get("status"),
        "duration_ms": entry.get("duration_ms"),
        "request": mask(str(entry.get("request", ""))),
        "response": mask(str(entry.get("response", ""))),
    }


def _object(text: Any) -> dict[str, Any]:
    """A JSON object from a logged body; {} for anything else (a cut-off or XML body)."""
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _refusal(node: Node, entry: dict[str, Any]) -> dict[str, Any]:
    answer, event = _object(entry.get("response")), _object(entry.get("request"))
    return {
        "node": node.name,
        "at": entry.get("at"),
        "status": entry.get("status"),
        "code": answer.get("code", ""),
        "message": mask(str(answer.get("message", ""))),
        "application_no": event.get("application_no", ""),
        "step": event.get("step", ""),
    }
