"""The mock exchange (EVT-01 … EVT-09) and request signing at the nodes (SIG-02/03/05, MSG-04/05)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from tests.mock_helpers import System, mock_events, register, wait_until

from yzw.codes.times import CN_TZ
from yzw.conformance.evidence import Evidence
from yzw.conformance.nodes import Nodes
from yzw.mock.runner import RunningPlatform
from yzw.signing import signed_headers
from yzw.spec import validate
from yzw.spec.limits import limits
from yzw.spec.xml import to_xml


@pytest.fixture
def system(platform_nodes: RunningPlatform) -> Iterator[System]:
    registered = register(platform_nodes)
    yield registered
    registered.client.close()


def test_token_catalogue_events_and_relay_end_to_end(system: System, platform_nodes: RunningPlatform) -> None:
    items = system.client.request(
        "GET", system.urls["province"] + "/catalog/v1/items", params={"dept_uscc": system.record["dept_uscc"]}
    )
    assert items.status_code == 200
    assert validate("items", items.json()) == []
    application, events = system.factory.case_history()
    for event in events:
        answer = system.push(event)
        assert answer.status_code == 200, answer.text
        assert validate("receipt", answer.json()) == []
    assert wait_until(lambda: len(mock_events(platform_nodes, "province", application["application_no"])) == 8)
    for node in ("county", "city", "province"):
        recorded = mock_events(platform_nodes, node, application["application_no"])
        assert [e["event_id"] for e in recorded] == [e["event_id"] for e in events]
    assert system.client.token.requests == 1  # one token served every call


def test_parent_down_receives_everything_in_order_once_back(system: System, platform_nodes: RunningPlatform) -> None:
    application, events = system.factory.case_history()
    for event in events[:3]:
        assert system.push(event).status_code == 200
    assert wait_until(lambda: len(mock_events(platform_nodes, "province", application["application_no"])) == 3)
    platform_nodes.stop_node("city")
    try:
        for event in events[3:]:
            assert system.push(event).status_code == 200
        assert not wait_until(lambda: len(mock_events(platform_nodes, "province")) > 3, timeout=1.0)
    finally:
        platform_nodes.start_node("city")
    assert wait_until(lambda: len(mock_events(platform_nodes, "province", application["application_no"])) == 8)
    province = mock_events(platform_nodes, "province", application["application_no"])
    assert [e["seq"] for e in province] == list(range(1, 9))
    assert len({e["event_id"] for e in province}) == 8


def test_province_cases_are_forwarded_down_by_division(system: System, platform_nodes: RunningPlatform) -> None:
    _, events = system.factory.case_history(("SL", "CB"))
    for event in events:
        assert system.push(event, node="province").status_code == 200
    assert wait_until(lambda: len(mock_events(platform_nodes, "county")) == 2)
    assert len(mock_events(platform_nodes, "city")) == 2


def test_duplicates_are_acknowledged_and_conflicts_refused(system: System) -> None:
    _, events = system.factory.case_history(("SL",))
    first = system.push(events[0])
    again = system.push(events[0])
    assert again.json() == {**first.json(), "duplicate": True}
    changed = system.push({**events[0], "opinion": "changed"})
    assert (changed.status_code, changed.json()["code"]) == (409, "EVENT_CONFLICT")


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (lambda e: e.pop("handler"), 400, "SCHEMA_INVALID"),
        (lambda e: e.update(dept_uscc="11330106002482061X"), 422, "CODE_INVALID"),
        (lambda e: e.update(seq=2), 422, "SEQUENCE_INVALID"),
        (lambda e: e.update(step="CB", payload={}), 422, "SEQUENCE_INVALID"),
        (lambda e: e.update(occurred_at="2099-01-01T00:00:00+08:00"), 422, "TIME_INVALID"),
    ],
    ids=["schema", "code", "seq-gap", "order", "future-time"],
)
def test_refused_events_leave_no_trace(
    system: System, platform_nodes: RunningPlatform, change: Any, status: int, code: str
) -> None:
    _, events = system.factory.case_history(("SL", "CB"))
    event = dict(events[0])
    change(event)
    answer = system.push(event)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert validate("error", answer.json()) == []
    assert mock_events(platform_nodes, "county") == []
    assert system.push(events[0]).status_code == 200  # the history was left as it was


def test_batch_answers_one_result_per_event(system: System, platform_nodes: RunningPlatform) -> None:
    _, events = system.factory.case_history()
    broken = {**events[3], "seq": 9}
    answer = system.client.request(
        "POST", system.urls["county"] + "/exchange/v1/events:batch", json={"events": [*events[:3], broken, *events[3:]]}
    )
    assert answer.status_code == 200
    assert validate("batch-answer", answer.json()) == []
    statuses = [r["status"] for r in answer.json()["results"]]
    assert statuses == [200, 200, 200, 422, 200, 200, 200, 200, 200]
    assert len(mock_events(platform_nodes, "county")) == 8


def test_an_empty_batch_is_answered_with_no_results(system: System, platform_nodes: RunningPlatform) -> None:
    """MSG-03: an empty list is allowed where a list is required; a batch of no events records nothing."""
    answer = system.client.request("POST", system.urls["county"] + "/exchange/v1/events:batch", json={"events": []})
    assert (answer.status_code, answer.json()) == (200, {"results": []})
    assert mock_events(platform_nodes, "county") == []


def test_xml_events_are_taken_and_xml_attacks_refused(system: System) -> None:
    _, events = system.factory.case_history(("SL",))
    answer = system.client.request(
        "POST",
        system.urls["county"] + "/exchange/v1/events",
        content=to_xml("event", events[0]),
        headers={"Content-Type": "application/xml"},
    )
    assert answer.status_code == 200, answer.text
    attack = b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><event>&x;</event>'
    refused = system.client.request(
        "POST",
        system.urls["county"] + "/exchange/v1/events",
        content=attack,
        headers={"Content-Type": "application/xml"},
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "XML_FORBIDDEN_CONSTRUCT")


def test_size_and_media_type_come_first(system: System) -> None:
    url = system.urls["county"] + "/exchange/v1/events"
    big = httpx.post(url, content=b"x" * (10 * 1024 * 1024 + 1), headers={"Content-Type": "text/plain"})
    assert (big.status_code, big.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")
    wrong = httpx.post(url, content=b"{}", headers={"Content-Type": "text/plain"})
    assert (wrong.status_code, wrong.json()["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    malformed = system.client.request("POST", url, content=b"{", headers={"Content-Type": "application/json"})
    assert (malformed.status_code, malformed.json()["code"]) == (400, "MALFORMED_BODY")


def _signed(system: System, body: bytes, **changes: str) -> dict[str, str]:
    headers = signed_headers(
        system.record["app_id"], system.record["app_secret"], "POST", "/exchange/v1/events", "", body
    )
    return {**headers, **changes, "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"X-Yzw-Nonce": ""}, "SIGNATURE_MISSING"),
        ({"X-Yzw-App-Id": "stranger"}, "APP_UNKNOWN"),
        ({"X-Yzw-Timestamp": "1000000000"}, "TIMESTAMP_EXPIRED"),
        ({"X-Yzw-Signature": "0" * 64}, "SIGNATURE_INVALID"),
    ],
)
def test_each_signature_rejection_has_no_effect(
    system: System, platform_nodes: RunningPlatform, changes: dict[str, str], code: str
) -> None:
    _, events = system.factory.case_history(("SL",))
    body = httpx.Request("POST", "http://x", json=events[0]).content
    answer = httpx.post(
        system.urls["county"] + "/exchange/v1/events", content=body, headers=_signed(system, body, **changes)
    )
    assert (answer.status_code, answer.json()["code"]) == (401, code)
    assert mock_events(platform_nodes, "county") == []


def test_replayed_nonce_is_refused(system: System) -> None:
    system.client.request("GET", system.urls["province"] + "/idp/v1/keys")  # warm the token
    _, events = system.factory.case_history(("SL",))
    body = httpx.Request("POST", "http://x", json=events[0]).content
    headers = {**_signed(system, body), "Authorization": f"Bearer {system.client._bearer()['Authorization'][7:]}"}
    assert httpx.post(system.urls["county"] + "/exchange/v1/events", content=body, headers=headers).status_code == 200
    replay = httpx.post(system.urls["county"] + "/exchange/v1/events", content=body, headers=headers)
    assert (replay.status_code, replay.json()["code"]) == (401, "NONCE_REPLAYED")


def test_tokens_are_checked_for_validity_expiry_and_scope(system: System, platform_nodes: RunningPlatform) -> None:
    _, events = system.factory.case_history(("SL",))
    body = httpx.Request("POST", "http://x", json=events[0]).content
    bare = httpx.post(system.urls["county"] + "/exchange/v1/events", content=body, headers=_signed(system, body))
    assert (bare.status_code, bare.json()["code"]) == (401, "TOKEN_INVALID")
    system.client.request("GET", system.urls["province"] + "/idp/v1/keys")
    httpx.post(system.urls["province"] + "/_mock/tokens", json={"action": "expire"}).raise_for_status()
    assert system.push(events[0]).status_code == 200  # the client fetched a new token and retried once
    assert system.client.token.requests == 2
    narrow = register(platform_nodes, seed=2, app_id="narrow-app")
    narrow.client.credentials.scope = "catalog:read"
    refused = narrow.push(events[0])
    narrow.client.close()
    assert (refused.status_code, refused.json()["code"]) == (403, "SCOPE_MISSING")


def test_eight_parallel_writers_keep_each_applications_order(system: System, platform_nodes: RunningPlatform) -> None:
    histories = [system.factory.case_history() for _ in range(8)]
    failures: list[str] = []

    def writer(events: list[dict[str, Any]]) -> None:
        for event in events:
            answer = system.push(event)
            if answer.status_code != 200:
                failures.append(answer.text)

    threads = [threading.Thread(target=writer, args=(events,)) for _, events in histories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert wait_until(lambda: len(mock_events(platform_nodes, "province")) == 64)
    for application, _ in histories:
        seqs = [e["seq"] for e in mock_events(platform_nodes, "province", application["application_no"])]
        assert seqs == list(range(1, 9))


def test_unknown_routes_and_methods_answer_the_error_body(platform_nodes: RunningPlatform) -> None:
    for answer, status in (
        (httpx.get(platform_nodes.urls["city"] + "/nope"), 404),
        (httpx.delete(platform_nodes.urls["city"] + "/exchange/v1/events"), 405),
        (httpx.get(platform_nodes.urls["city"] + "/idp/v1/keys"), 404),
    ):
        assert answer.status_code == status
        assert validate("error", answer.json()) == []


def test_injected_faults_answer_in_the_apps_place(system: System) -> None:
    httpx.post(system.urls["county"] + "/_mock/faults", json={"path": "/exchange/", "status": 503, "count": 2})
    _, events = system.factory.case_history(("SL",))
    assert [system.push(events[0]).status_code for _ in range(3)] == [503, 503, 200]


def test_a_fault_with_a_match_takes_only_the_requests_that_hold_it(system: System) -> None:
    """Scenarios side by side (ROB-01's slow services) each scope their fault to their own number; clearing one
    match leaves the others'."""
    faults, own = system.urls["county"] + "/_mock/faults", {"app_id": system.record["app_id"]}
    _, first = system.factory.case_history(("SL",))
    _, second = system.factory.case_history(("SL",))
    for events in (first, second):
        fault = {"path": "/exchange/", "status": 503, "count": 5, "match": events[0]["application_no"]}
        httpx.post(faults, params=own, json=fault).raise_for_status()
    _, other = system.factory.case_history(("SL",))
    assert system.push(other[0]).status_code == 200
    assert system.push(first[0]).status_code == 503
    httpx.delete(faults, params={**own, "match": first[0]["application_no"]})
    assert system.push(first[0]).status_code == 200
    assert system.push(second[0]).status_code == 503
    assert [f["match"] for f in httpx.get(faults).json()["faults"]] == [second[0]["application_no"]]
    httpx.delete(faults)


def test_a_scoped_fault_that_no_request_met_is_unfired(system: System) -> None:
    """A check beside others keeps its pass only when its scoped faults fired (yzw.conformance.beside): a fault
    left over, or cleared before any request met it, is unfired; one met and then cleared is not."""
    target = SimpleNamespace(
        province_url=system.urls["province"], exchange_url=system.urls["county"], app_id=system.record["app_id"]
    )
    nodes = Nodes(target, Evidence(), 1.0, beside=True)  # type: ignore[arg-type]
    alone = Nodes(target, Evidence(), 1.0)  # type: ignore[arg-type]
    assert (alone.scoped("330100"), nodes.scoped("330100")) == (None, "330100")
    met, outage, missed = (system.factory.case_history(("SL",))[1][0] for _ in range(3))
    for event, count in ((met, 1), (outage, 10**6), (missed, 1)):
        nodes.fail_next("/exchange/", 503, count, match=nodes.scoped(event["application_no"]))
    assert system.push(met).status_code == 503
    assert system.push(outage).status_code == 503
    nodes.clear_faults("exchange", match=outage["application_no"])
    assert [f["match"] for f in nodes.unfired()] == [missed["application_no"]]
    nodes.clear_faults("exchange", match=missed["application_no"])
    assert [f["match"] for f in nodes.unfired()] == [missed["application_no"]]
    nodes.close()
    alone.close()


def test_traffic_log_keeps_requests_and_answers(system: System) -> None:
    _, events = system.factory.case_history(("SL",))
    system.push(events[0])
    log = httpx.get(system.urls["county"] + "/_mock/traffic", params={"path": "/exchange/v1/events"}).json()["entries"]
    assert log[-1]["status"] == 200
    assert events[0]["event_id"] in log[-1]["request"]
    assert "receipt_id" in log[-1]["response"]
    assert log[-1]["app_id"] == system.record["app_id"]


def test_a_dropped_connection_is_a_connection_failure_for_the_client(system: System) -> None:
    httpx.post(system.urls["county"] + "/_mock/faults", json={"path": "/exchange/", "drop": True, "count": 1})
    _, events = system.factory.case_history(("SL",))
    with pytest.raises(httpx.TransportError):  # a cut-off answer or a reset, depending on timing
        system.push(events[0])
    assert system.push(events[0]).status_code == 200


def test_the_signed_path_is_the_path_as_sent(system: System) -> None:
    """SIG-01 signs the raw path: a percent-encoded path verifies as encoded."""
    answer = system.client.request("GET", system.urls["county"] + "/exchange/v1/cases/%33%33" + "0" * 20)
    assert (answer.status_code, answer.json()["code"]) == (404, "CASE_UNKNOWN")


def test_evaluation_and_rectification_answers(system: System) -> None:
    """EVAL-01/02 (2026.2): receipts and duplicates, the conflict, unknown case or evaluation, and the times."""
    _, events = system.factory.case_history(("SL",))
    assert system.push(events[0]).status_code == 200
    case_no, exchange = events[0]["case_no"], system.urls["county"] + "/exchange/v1"

    def post(kind: str, body: dict[str, Any]) -> tuple[int, Any]:
        answer = system.client.request("POST", f"{exchange}/{kind}", json=body)
        return answer.status_code, answer.json().get("code") or answer.json().get("duplicate")

    evaluation = system.factory.evaluation(case_no, 1)
    assert post("evaluations", evaluation) == (200, False)
    assert post("evaluations", evaluation) == (200, True)
    assert post("evaluations", {**evaluation, "level": 2}) == (409, "EVALUATION_CONFLICT")
    other_case = system.factory.fake.case_no(system.record["division_code"], system.record["dept_seq"])
    assert post("evaluations", system.factory.evaluation(other_case)) == (422, "CASE_UNKNOWN")
    later = dt.datetime.now(CN_TZ) + dt.timedelta(seconds=limits().clock_skew_seconds + 60)
    future = {**system.factory.evaluation(case_no), "evaluated_at": later.replace(microsecond=0).isoformat()}
    assert post("evaluations", future) == (422, "TIME_INVALID")
    assert post("evaluations", {**system.factory.evaluation(case_no), "evaluation_id": "E-1"}) == (
        400,
        "SCHEMA_INVALID",
    )
    record = system.factory.rectification(case_no, evaluation["evaluation_id"])
    assert post("rectifications", record) == (200, False)
    assert post("rectifications", record) == (200, True)
    assert post("rectifications", {**record, "action": "再次回访"}) == (200, False)  # kept; the kit counts them
    unknown = system.factory.rectification(case_no, system.factory.evaluation(case_no)["evaluation_id"])
    assert post("rectifications", unknown) == (422, "EVALUATION_UNKNOWN")
    before = dt.datetime.fromisoformat(evaluation["evaluated_at"]) - dt.timedelta(hours=1)
    assert post("rectifications", {**record, "rectified_at": before.isoformat()}) == (422, "TIME_INVALID")
