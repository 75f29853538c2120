"""The mock nodes as a check sees them: reset, seed, provoke, and read what the system sent (the `/_mock` API)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest

from yzw.client import trusted
from yzw.conformance.evidence import Evidence
from yzw.conformance.operator import Operator
from yzw.run.target import Target
from yzw.spec.limits import limits
from yzw.spec.xml import from_xml, parse_xml

T = TypeVar("T")
POLL_SECONDS = 0.05  # the longest pause between two readings of a wait
FIRST_POLL_SECONDS = 0.01  # the first pause: most waits end within a few milliseconds (a push, a notice applied)


class CalledOff(Exception):
    """A check run beside others stops waiting: the others' run was called off (yzw.conformance.beside)."""


class Nodes:
    """The province node and the exchange of the system's tier, through their inspection API."""

    stop: threading.Event | None = None  # set: the checks run beside each other are called off (wait_for ends)

    def __init__(
        self, target: Target, evidence: Evidence, wait: float, operator: Operator | None = None, beside: bool = False
    ) -> None:
        self.target = target
        self.evidence = evidence
        self.wait_seconds = wait
        self.operator = operator  # a person acting in the system: waits last as long as they need
        self.http = httpx.Client(timeout=10, verify=trusted())
        self.beside = beside  # the check runs (or ran) beside others: its faults are scoped (see `scoped`)
        self.scoped_faults: dict[str, set[str]] = {}  # node → the ids of the faults this check scoped by a match
        self.never_fired: list[dict[str, Any]] = []  # scoped faults cleared before any request met them

    def close(self) -> None:
        self.http.close()

    @property
    def urls(self) -> dict[str, str]:
        """Node URLs to watch: the province and the system's own exchange (the same node at province tier)."""
        return {"province": self.target.province_url, "exchange": self.target.exchange_url}

    def _call(self, method: str, url: str, **options: Any) -> Any:
        answer = self.http.request(method, url, **options)
        answer.raise_for_status()
        return answer.json()

    @property
    def own(self) -> dict[str, str]:
        """The query that scopes a control call to this run's system: other runs on the platform are left alone."""
        return {"app_id": self.target.app_id}

    def reset(self) -> None:
        """The system's share of the platform back to the start: its department's catalogue, events, cases,
        cards and clock; its tokens, faults, flags and traffic. Other systems' runs go on undisturbed."""
        self._call("POST", self.target.province_url + "/_mock/reset", params=self.own)

    # waiting ------------------------------------------------------------------------------------------------
    @property
    def notice_seconds(self) -> float:
        """How long a change notice may take to be applied: CAT-03's 60 s, whatever --wait says (a system that
        applies it at second 59 is in time; a fast one costs nothing, `wait_for` returns when it holds)."""
        return limits().catalog_notice_seconds

    def wait_for(self, read: Callable[[], T], done: Callable[[T], bool], budget: float | None = None) -> T:
        """Read until `done` holds or the budget (default: --wait) runs out; the last reading either way.

        After an operator's instruction the budget is a person's (`--operator-wait`), and the operator may end
        the wait: done (judge after the check's own budget), skip (the check is manual) or give up (judge now).
        """
        own = self.wait_seconds if budget is None else budget
        deadline = time.monotonic() + (self.operator.budget(own) if self.operator else own)
        try:
            value = read()
            pause = FIRST_POLL_SECONDS
            while not done(value) and time.monotonic() < deadline:
                if self.stop is not None and self.stop.is_set():
                    raise CalledOff("the checks run side by side were called off; this one is judged alone")
                time.sleep(pause)
                pause = min(2 * pause, POLL_SECONDS)
                command = self.operator.heard() if self.operator and self.operator.pending else None
                if command == "skip":
                    pytest.skip("manual: the operator skipped this step; a person must judge it")
                if command == "give up":
                    break
                if command == "done":
                    deadline = min(deadline, time.monotonic() + own)
                value = read()
            return value
        finally:
            if self.operator:
                self.operator.settled()

    # what the system sent -------------------------------------------------------------------------------------
    def traffic(self, node: str, path: str, method: str | None = None, own: bool = True) -> list[dict[str, Any]]:
        """Requests a node received on `path` (from the system itself when `own`), oldest first."""
        params = {
            "path": path,
            **({"method": method} if method else {}),
            **({"app_id": self.target.app_id} if own else {}),
        }
        return list(self._call("GET", self.urls[node] + "/_mock/traffic", params=params)["entries"])

    def pushes(self, application_no: str, path: str = "/exchange/v1/events") -> list[Push]:
        """Every push of this application's events by the system, accepted or refused, at the own exchange first
        and then at the province (where a system pushing to the wrong tier sends them; EVT-01 judges that)."""
        found = []
        nodes = ["exchange"] + (["province"] if self.target.province_url != self.target.exchange_url else [])
        for node in nodes:
            for entry in self.traffic(node, path, "POST"):
                for event in _events_in(str(entry.get("request", ""))):
                    if event.get("application_no") in (application_no, None, ""):
                        found.append(Push(entry, event, self.urls[node]))
        cases = {p.event.get("case_no") for p in found if p.event.get("application_no") == application_no} - {None}
        # an event that names no application is this one's when it names its case (EVT-02 judges the member)
        return [p for p in found if p.event.get("application_no") or p.event.get("case_no") in cases]

    def observe(self, pushes: list[Push]) -> None:
        """Keep the pushes a check judged as its evidence (once each)."""
        for push in {id(p.entry): p for p in pushes}.values():
            self.evidence.observed(push.entry, push.node_url)

    def issued_licenses(self) -> list[dict[str, Any]]:
        """The system's calls to issue e-licenses (POST /license/v1/licenses), accepted or refused."""
        return [
            e for e in self.traffic("province", "/license/v1/licenses", "POST") if e["path"] == "/license/v1/licenses"
        ]

    def events(self, application_no: str) -> list[dict[str, Any]]:
        """The events the own exchange accepted for this application, with arrival and delay, in seq order."""
        url = self.target.exchange_url + "/_mock/events"
        return list(self._call("GET", url, params={"application_no": application_no, **self.own})["events"])

    def token_requests(self) -> int:
        return int(
            self._call("GET", self.target.province_url + "/_mock/tokens")["token_requests"].get(self.target.app_id, 0)
        )

    # seeding and provoking ------------------------------------------------------------------------------------
    def catalogue(self) -> list[dict[str, Any]]:
        return list(self._call("GET", self.target.province_url + "/_mock/catalog")["items"])

    def promised_days(self) -> list[int]:
        """The promised_days of every version of the department's items, retired ones too: the counts its
        acceptances make (an application is decided on the version it was filed under, CAT-03)."""
        dept = self.target.registration.dept_uscc
        versions = self._call("GET", self.target.province_url + "/_mock/catalog", params={"versions": "all"})
        return [int(item["promised_days"]) for item in versions["items"] if item["dept"]["uscc"] == dept]

    def change_item(self, item_code: str, **changes: Any) -> dict[str, Any]:
        return dict(self._call("POST", f"{self.target.province_url}/_mock/catalog/{item_code}", json=changes))

    def create_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """A new catalogue item (version 1) that no system has seen yet."""
        return dict(
            self._call("POST", f"{self.target.province_url}/_mock/catalog/{item['item_code']}", json={"create": item})
        )

    def expire_tokens(self) -> None:
        """The IdP expires the system's tokens (SIG-04)."""
        self._call(
            "POST", self.target.province_url + "/_mock/tokens", json={"action": "expire", "app_id": self.target.app_id}
        )

    def revoke_tokens(self) -> None:
        """The IdP revokes the system's tokens: the next call with one is refused TOKEN_INVALID (SIG-04)."""
        self._call(
            "POST", self.target.province_url + "/_mock/tokens", json={"action": "revoke", "app_id": self.target.app_id}
        )

    def seed_license(self, license_: dict[str, Any]) -> None:
        self._call(
            "POST", f"{self.target.province_url}/_mock/licenses/{license_['license_id']}", json={"license": license_}
        )

    def issue_number(self, division_code: str, channel: str, submitted_at: str) -> str:
        """The platform numbers an application it forwards (channels web, app, terminal; CODE-05) and its exchange
        knows `submitted_at` (EVT-04). The platform never forwards one number twice, to any system."""
        document = {"division_code": division_code, "channel": channel, "submitted_at": submitted_at}
        answer = self._call("POST", f"{self.target.exchange_url}/_mock/applications", json=document)
        return str(answer["application_no"])

    def forwarded(self, application_no: str, submitted_at: str) -> None:
        """The platform forwarded this application: its exchange knows `submitted_at` (EVT-04)."""
        self._call(
            "POST",
            f"{self.target.exchange_url}/_mock/applications/{application_no}",
            json={"submitted_at": submitted_at},
        )

    def set_license_status(self, license_id: str, status: str) -> None:
        self._call("POST", f"{self.target.province_url}/_mock/licenses/{license_id}", json={"status": status})

    def flag(self, name: str, count: int = 1) -> None:
        """A one-shot misbehaviour of the province (e.g. forge_signature on the next identity record)."""
        self._call("POST", self.target.province_url + "/_mock/flags", params=self.own, json={name: count})

    def fail_next(
        self, path: str, status: int, count: int = 1, node: str = "exchange", match: str | None = None
    ) -> None:
        """The own exchange (or `node`) answers `status` to the next `count` requests on `path` (that hold the
        text `match`, when given: one scenario's, so that scenarios side by side do not take each other's)."""
        self._fault(node, {"path": path, "status": status, "count": count}, match)

    def answer_next(self, path: str, status: int, count: int = 1, match: str | None = None) -> None:
        """The own exchange does the next `count` requests on `path` and answers them with the 2xx `status`."""
        self.fail_next(path, status, count, match=match)

    def drop_after_next(self, path: str, count: int = 1, match: str | None = None) -> None:
        """The own exchange does the next `count` requests on `path` (an event is recorded) and then drops the
        connection: the system never hears the answer and sends again (`duplicate` true)."""
        self._fault("exchange", {"path": path, "drop_after": True, "count": count}, match)

    def misanswer_next(
        self,
        path: str,
        body: str,
        count: int = 1,
        node: str = "province",
        content_type: str = "application/json",
        status: int = 200,
        match: str | None = None,
    ) -> None:
        """`node` answers the next `count` requests on `path` with `body` under `status` (200) instead of its own
        answer: an answer that is not the norm's (ROB-01), or a fixed refusal (SIG-04)."""
        fault = {"path": path, "body": body, "content_type": content_type, "count": count, "status": status}
        self._fault(node, fault, match)

    def clear_faults(self, node: str, match: str | None = None) -> None:
        """`node` answers normally again (the faults injected there are dropped; those of `match` only, when
        given). A scoped fault cleared before any request met it is remembered as unfired."""
        if match:
            self.never_fired += [f for f in self._scoped_left(node) if f.get("match") == match and _untouched(f)]
        self._call(
            "DELETE", self.urls[node] + "/_mock/faults", params={**self.own, **({"match": match} if match else {})}
        )

    def drop_next(self, path: str, count: int = 1, node: str = "exchange", match: str | None = None) -> None:
        """The own exchange (or `node`) drops the connection of the next `count` requests on `path`."""
        self._fault(node, {"path": path, "drop": True, "count": count}, match)

    def slow_next(
        self, path: str, seconds: float, count: int, node: str = "province", match: str | None = None
    ) -> None:
        """`node` answers the next `count` requests on `path` (a prefix) only after `seconds`."""
        self._fault(node, {"path": path, "latency_ms": round(seconds * 1000), "count": count}, match)

    def _fault(self, node: str, fault: dict[str, Any], match: str | None) -> None:
        """Inject a fault at `node`; one scoped by `match` is remembered, to tell whether it fired (`unfired`)."""
        injected = self._call(
            "POST", self.urls[node] + "/_mock/faults", params=self.own, json={**fault, "match": match}
        )
        if match:
            self.scoped_faults.setdefault(node, set()).add(str(injected["faults"][-1]["fault_id"]))

    # checks side by side --------------------------------------------------------------------------------------
    def scoped(self, text: str) -> str | None:
        """The match for a fault that concerns only `text` (an application, case or evaluation) when this check
        runs beside others, or again after them (their requests, and the system's retries of them, must not take
        it); None when it runs alone, where the fault takes the node's next request, as it always did."""
        return text if self.beside else None

    def unfired(self) -> list[dict[str, Any]]:
        """Faults this check scoped by a match that requests of the system did not use up, or cleared untouched:
        then the check did not see the trouble it provoked (its pass proves nothing), e.g. a body that spells the
        text otherwise."""
        return self.never_fired + [f for node in self.scoped_faults for f in self._scoped_left(node)]

    def _scoped_left(self, node: str) -> list[dict[str, Any]]:
        faults = self._call("GET", self.urls[node] + "/_mock/faults", params=self.own)["faults"]
        return [f for f in faults if f.get("fault_id") in self.scoped_faults.get(node, set())]

    def login(self, user: dict[str, Any]) -> str:
        """The portal signs the person on and hands them to the system: the hand-off URL with a fresh ticket."""
        answer = self._call(
            "POST", self.target.province_url + "/_mock/portal/login", json={"user": user, "app_id": self.target.app_id}
        )
        return str(answer["redirect"])

    def logout(self, user_id: str) -> None:
        self._call("POST", self.target.province_url + "/_mock/portal/logout", json={"user_id": user_id})

    def delivered(self) -> list[dict[str, Any]]:
        """The calls the platform made to systems (notices, logouts) and their answers."""
        delivered = self._call("GET", self.target.province_url + "/_mock/delivered")["delivered"]
        return [entry for entry in delivered if entry.get("to") == self.target.app_id]


class Push:
    """One event as the system pushed it, with the node's answer."""

    def __init__(self, entry: dict[str, Any], event: dict[str, Any], node_url: str) -> None:
        self.entry = entry
        self.event = event
        self.node_url = node_url

    @property
    def status(self) -> int:
        """The exchange's answer to this event: of the push, or in a batch the event's own result (EVT-01: a
        batch is answered 200 with one result per event, each accepted or refused on its own)."""
        result = self._result()
        if result is not None and isinstance(result.get("status"), int):
            return int(result["status"])
        return int(self.entry.get("status") or 0)

    @property
    def answer(self) -> str:
        result = self._result()
        if result is not None:
            return json.dumps(result, ensure_ascii=False)
        return str(self.entry.get("response", ""))

    def _result(self) -> dict[str, Any] | None:
        """This event's result in a batch answer `{"results": [{event_id, status, …}]}`, or None."""
        if not str(self.entry.get("path", "")).endswith(":batch"):
            return None
        try:
            results = json.loads(str(self.entry.get("response") or "")).get("results")
        except (ValueError, AttributeError):
            return None
        wanted = self.event.get("event_id")
        if not isinstance(results, list):
            return None
        return next((r for r in results if isinstance(r, dict) and r.get("event_id") == wanted), None)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


def distinct(pushes: list[Push]) -> list[Push]:
    """One push per event (its last attempt), in the order the events were first pushed."""
    last: dict[Any, Push] = {}
    for push in pushes:
        last[push.event.get("event_id") or id(push)] = push
    return list(last.values())


def _events_in(body: str) -> list[dict[str, Any]]:
    """The events in a pushed body: one event or a batch, in JSON or the XML form."""
    text = body.strip()
    try:
        document = from_xml(parse_xml(text))[1] if text.startswith("<") else json.loads(text)
    except Exception:
        return []
    if isinstance(document, dict) and isinstance(document.get("events"), list):
        return [e for e in document["events"] if isinstance(e, dict)]
    if isinstance(document, list):  # a batch not wrapped as {"events": [...]}: EVT-01 judges the form
        return [e for e in document if isinstance(e, dict)]
    return [document] if isinstance(document, dict) else []


def body_form(entry: dict[str, Any]) -> str:
    """What a push to the exchange holds (EVT-01): `event` (one event object), `batch` ({"events": [...]}),
    `array` (a bare list) or `other`; a body cut off in the log is read by its opening."""
    text = str(entry.get("request", "")).strip()
    try:
        if text.startswith("<"):
            kind, document = from_xml(parse_xml(text))
            return "batch" if isinstance(document.get("events"), list) or kind in ("events", "batch") else "event"
        document = json.loads(text)
    except Exception:
        return "array" if text.startswith("[") else "batch" if re.match(r'\{\s*"events"\s*:', text) else "event"
    if isinstance(document, list):
        return "array"
    if isinstance(document, dict):
        return "batch" if isinstance(document.get("events"), list) else "event"
    return "other"


class Clock:
    """The platform's virtual clock (supervision cards): read it, set it, move it on."""

    def __init__(self, nodes: Nodes) -> None:
        self.nodes = nodes

    def _url(self) -> str:
        return self.nodes.target.exchange_url + "/_mock/clock"

    def now(self) -> str:
        return str(self.nodes._call("GET", self._url(), params=self.nodes.own)["now"])

    def set(self, moment: str) -> str:
        return str(self.nodes._call("POST", self._url(), params=self.nodes.own, json={"set": moment})["now"])

    def advance(self, seconds: float) -> str:
        change = {"advance_seconds": seconds}
        return str(self.nodes._call("POST", self._url(), params=self.nodes.own, json=change)["now"])


def request_body(entry: dict[str, Any]) -> dict[str, Any]:
    """The JSON object a recorded request carried ({} when it carried none, or something else)."""
    try:
        body = json.loads(entry.get("request") or "{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _untouched(fault: dict[str, Any]) -> bool:
    """Whether no request met the fault yet: as many left as it was given (`count`)."""
    return fault.get("count") is not None and fault.get("remaining") == fault.get("count")
