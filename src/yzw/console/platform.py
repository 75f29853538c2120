"""What the console reads from the mock platform for a system: its traffic at each node and its cases.

The console is given the province's URL; `/_mock/nodes` names the others. Each request and answer is shown
through `codes.masking.mask` (no whole ID number, phone, key or ticket on a reviewer's screen); a node that
does not answer is named, never a traceback.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
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
    division_code: str = ""


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
        found = [Node(n["name"], n["tier"], n["url"], n.get("parent"), n.get("division_code", "")) for n in listed]
        return sorted(found, key=lambda n: (order.get(n.tier, 3), n.name))

    def traffic(self, app_id: str) -> list[tuple[Node, list[dict[str, Any]]]]:
        """Each node's newest requests of the system, masked, newest first."""
        nodes = self.nodes()
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:  # the nodes answer side by side
            asked = [pool.submit(self._get, f"{n.url}/_mock/traffic", app_id=app_id, limit=str(SHOWN)) for n in nodes]
            return [
                (node, [_masked(entry) for entry in reversed(answer.result()["entries"])])
                for node, answer in zip(nodes, asked, strict=True)
            ]

    def cases(self, registration: dict[str, Any], own_only: bool, page: int = 1) -> CasePage:
        """One page of the system's applications, the latest first, each with every event's arrival and delay
        per node and its supervision cards; and the exchange's refusals of the system's pushes.

        The system pushes to one node (its tier's, covering its division); its applications are listed there.
        Events and cards name a department, not a system: with `own_only` (another vendor has a system of the
        same department) only the applications found in this system's own pushes are shown."""
        app_id = str(registration["app_id"])
        nodes = self.nodes()
        home = exchange_node(nodes, str(registration["tier"]), str(registration["division_code"]))
        listed = self._get(f"{home.url}/_mock/events", app_id=app_id, numbers="1")["numbers"]
        if own_only:
            own = self._own_numbers(home, app_id)
            listed = [number for number in listed if number in own]
        pages = max(1, -(-len(listed) // PER_PAGE))
        page = min(max(page, 1), pages)
        chosen = listed[(page - 1) * PER_PAGE : page * PER_PAGE]
        cases = {number: Case(number) for number in chosen}
        asked = [("application_no", number) for number in chosen]
        with ThreadPoolExecutor(max_workers=2 * len(nodes) + 1) as pool:  # the nodes answer side by side
            events = {n.name: pool.submit(self._get_pairs, f"{n.url}/_mock/events", asked) for n in nodes if chosen}
            cards = {n.name: pool.submit(self._get_pairs, f"{n.url}/_mock/cards", asked) for n in nodes if chosen}
            pushes = pool.submit(
                self._get, f"{home.url}/_mock/traffic", app_id=app_id, path="/exchange/", min_status="400", limit="200"
            )
            for node in nodes:
                for event in events[node.name].result()["events"] if chosen else []:
                    hops = cases[event["application_no"]].hops
                    hops.setdefault((int(event["seq"]), str(event["step"])), {})[node.name] = event
                for card in cards[node.name].result()["cards"] if chosen else []:
                    cases[card["application_no"]].cards.append({**card, "node": node.name})
            refusals = [_refusal(home, entry) for entry in reversed(pushes.result()["entries"])]
        return CasePage(nodes, [cases[number] for number in chosen], refusals, page, pages, len(listed), own_only)

    def _get_pairs(self, url: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        try:
            answer = httpx.get(url, params=tuple(params), timeout=TIMEOUT)  # a tuple: one key, several values
            answer.raise_for_status()
            return dict(answer.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise PlatformUnavailable(f"the mock platform at {url} did not answer: {exc}") from None

    def _own_numbers(self, home: Node, app_id: str) -> set[str]:
        """Application numbers in the system's own pushes (as far as their logged bodies go)."""
        entries = self._get(f"{home.url}/_mock/traffic", app_id=app_id, path="/exchange/", limit=PUSHES)["entries"]
        return {number for entry in entries for number in _pushed_numbers(entry)}


def exchange_node(nodes: list[Node], tier: str, division: str) -> Node:
    """The node a system of `tier` in `division` pushes to (norm §1): its tier's node covering the division,
    else the province."""
    width = {"province": 2, "city": 4}  # a county node covers its own division only (as the mock's topology)
    for node in nodes:
        digits = width.get(node.tier, 6)
        if node.tier == tier and division[:digits] == node.division_code[:digits]:
            return node
    return next((node for node in nodes if node.tier == "province"), nodes[-1])


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
