"""The reference departmental system driven end to end against the mock platform."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest.mock import ANY

import httpx
from tests.mock_helpers import FOOD_ITEM, mock_events, wait_until

from yzw.client import SignedClient
from yzw.codes import check
from yzw.conformance.year_end import asked_again
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.mock.catalog import demo_items
from yzw.mock.runner import RunningPlatform
from yzw.reference.runner import RunningReference
from yzw.spec import validate
from yzw.spec.xml import from_xml, parse_xml, to_xml, xsd_errors

PLANNING_ITEM = "11330100002489017X3010000789000"


def _application(platform: RunningPlatform, with_license: bool = True) -> dict[str, Any]:
    factory = MessageFactory(make_faker(31))
    application = factory.application()
    application["item_code"] = FOOD_ITEM
    holder = application["applicant"]["id_number"]
    license_ = {
        **factory.license(),
        "holder": {"type": "person", "name": application["applicant"]["name"], "id_number": holder},
    }
    httpx.post(f"{platform.urls['province']}/_mock/licenses/{license_['license_id']}", json={"license": license_})
    application["materials"] = [
        {"material_code": "M001", "name": "食品经营许可申请书", "kind": "file", "file": _file("M001")},
        {
            "material_code": "M002",
            "name": "营业执照",
            "kind": "license",
            "license_id": license_["license_id"] if with_license else factory.fake.license_id(),
        },
    ]  # M003 (经营场所平面图) is missing on purpose
    return application


def _file(code: str) -> dict[str, Any]:
    return {"name": f"{code}.pdf", "size": 1024, "sm3": "0" * 64, "url": f"https://files.example/{code}.pdf"}


def _plan() -> dict[str, Any]:
    """M003 (经营场所平面图), the material `_application` leaves out."""
    return {"material_code": "M003", "name": "经营场所平面图", "kind": "file", "file": _file("M003")}


def _submitted_complete(platform: RunningPlatform, reference: RunningReference, portal: SignedClient) -> str:
    """A complete application (M003 added), taken by the reference system: its number."""
    application = _application(platform)
    application["materials"].append(_plan())
    portal.request("POST", reference.url + "/yzw/v1/applications", json=application)
    return str(application["application_no"])


def _act(desk: SignedClient, reference: RunningReference, action: str, **fields: Any) -> httpx.Response:
    """The reference's driver does `action`; an acceptance refused for the year after the kit's calendar is asked
    again with a held day 0, as the kit's driver does (conformance/year_end.py)."""

    def send(params: dict[str, Any]) -> httpx.Response:
        body = {"action": action, **fields} | ({"params": params} if params else {})
        return desk.request("POST", reference.url + "/_driver/actions", json=body)

    given = dict(fields.pop("params", None) or {})
    answer = send(given)
    if action != "accept" or "calendar_date" in given:
        return answer
    return asked_again(
        answer,
        lambda day0: send({**given, "calendar_date": day0}),
        lambda: [int(item["promised_days"]) for item in demo_items()],
    )


def test_an_online_application_from_intake_to_delivery(
    platform_nodes: RunningPlatform, reference: RunningReference, portal: SignedClient, desk: SignedClient
) -> None:
    application = _application(platform_nodes)
    number = application["application_no"]
    received = portal.request("POST", reference.url + "/yzw/v1/applications", json=application)
    assert received.status_code == 202, received.text
    assert validate("application-answer", received.json()) == []
    first = _act(desk, reference, "accept", application_no=number)
    assert first.json()["step"] == "BZ"  # M003 is missing: one notice (ACC-05)
    more = {"materials": [_plan()]}
    assert (
        portal.request("POST", f"{reference.url}/yzw/v1/applications/{number}/supplements", json=more).status_code
        == 200
    )
    accepted = _act(desk, reference, "accept", application_no=number).json()
    assert accepted["step"] == "SL"
    assert check("case_no", accepted["case_no"], division_code="330106", dept_seq="021") is None
    completed = _act(desk, reference, "complete", application_no=number).json()
    assert completed["step"] == "BJ"
    assert _act(desk, reference, "deliver", application_no=number).json()["step"] == "SD"
    steps = ["BZ", "BZJ", "SL", "CB", "SH", "PZ", "BJ", "SD"]
    assert wait_until(lambda: [e["step"] for e in mock_events(platform_nodes, "county", number)] == steps)
    state = portal.request("GET", f"{reference.url}/yzw/v1/applications/{number}").json()
    assert (state["status"], state["case_no"]) == ("completed", accepted["case_no"])
    bj = next(e for e in mock_events(platform_nodes, "county", number) if e["step"] == "BJ")
    verify = httpx.get(
        platform_nodes.urls["province"] + "/_mock/traffic", params={"path": "/license/v1/licenses", "method": "POST"}
    ).json()["entries"]
    assert any(bj["payload"]["licenses"][0] in entry["request"] for entry in verify)


def test_a_window_application_gets_its_own_number_and_an_sb_first(
    platform_nodes: RunningPlatform, reference: RunningReference, desk: SignedClient
) -> None:
    params = {k: v for k, v in _application(platform_nodes).items() if k != "application_no"} | {"channel": "window"}
    answer = _act(desk, reference, "window_apply", params=params).json()
    assert "application_no" in answer, answer
    number = answer["application_no"]
    assert (number[6], answer["step"]) == ("3", "SB")
    assert check("application_no", number, channel="window", dept_seq="021") is None
    assert wait_until(lambda: [e["step"] for e in mock_events(platform_nodes, "county", number)] == ["SB"])


def test_intake_answers_in_the_norms_order(
    platform_nodes: RunningPlatform, reference: RunningReference, portal: SignedClient
) -> None:
    url = reference.url + "/yzw/v1/applications"
    application = _application(platform_nodes)
    first = portal.request("POST", url, json=application)
    assert portal.request("POST", url, json=application).json() == first.json()  # APP-04: the same answer
    clash = portal.request("POST", url, json={**application, "form": {"changed": "yes"}})
    assert (clash.status_code, clash.json()["code"]) == (409, "APPLICATION_CONFLICT")
    other = _application(platform_nodes)
    other["application_no"] = MessageFactory(make_faker(77)).application()["application_no"]
    cases = [
        ({**other, "item_code": PLANNING_ITEM}, 422, "ITEM_UNKNOWN"),
        ({**other, "channel": "window"}, 422, "APPLICATION_NO_INVALID"),
        ({**other, "division_code": "110101"}, 422, "CODE_INVALID"),
        ({**other, "applicant": {**other["applicant"], "id_number": "110105194912310021"}}, 422, "APPLICANT_INVALID"),
        ({k: v for k, v in other.items() if k != "delivery"}, 400, "SCHEMA_INVALID"),
    ]
    for body, status, code in cases:
        answer = portal.request("POST", url, json=body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    unsigned = httpx.post(url, content=json.dumps(other).encode(), headers={"Content-Type": "application/json"})
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "SIGNATURE_MISSING")
    assert httpx.get(reference.url + "/yzw/v1/health").json() == {"status": "ok", "norm": "YZW-NORM-2026"}


def test_events_are_retried_through_exchange_failures_and_never_doubled(
    platform_nodes: RunningPlatform, reference: RunningReference, portal: SignedClient, desk: SignedClient
) -> None:
    application = _application(platform_nodes)
    application["materials"].append(_plan())
    portal.request("POST", reference.url + "/yzw/v1/applications", json=application)
    httpx.post(platform_nodes.urls["county"] + "/_mock/faults", json={"path": "/exchange/", "status": 503, "count": 2})
    assert _act(desk, reference, "accept", application_no=application["application_no"]).json()["step"] == "SL"
    number = application["application_no"]
    assert wait_until(lambda: len(mock_events(platform_nodes, "county", number)) == 1, timeout=15)

    def outbox() -> dict[str, Any]:
        return reference.system.store.one("SELECT state, attempts FROM outbox WHERE application_no = ?", number)

    assert wait_until(lambda: outbox()["state"] == "delivered", timeout=5)  # marked after the exchange's answer
    assert outbox()["attempts"] == 3


def test_a_suspension_and_resume_then_completion(
    platform_nodes: RunningPlatform, reference: RunningReference, portal: SignedClient, desk: SignedClient
) -> None:
    number = _submitted_complete(platform_nodes, reference, portal)
    for action in ("accept", "advance", "suspend"):
        assert _act(desk, reference, action, application_no=number).status_code == 200
    assert portal.request("GET", f"{reference.url}/yzw/v1/applications/{number}").json()["status"] == "suspended"
    blocked = _act(desk, reference, "complete", application_no=number)
    assert (blocked.status_code, blocked.json()["code"]) == (409, "STATE_INVALID")  # resume first (§11)
    assert _act(desk, reference, "resume", application_no=number).json()["step"] == "HF"
    assert _act(desk, reference, "complete", application_no=number).json()["step"] == "BJ"
    steps = ["SL", "CB", "GQ", "HF", "SH", "PZ", "BJ"]
    assert wait_until(lambda: [e["step"] for e in mock_events(platform_nodes, "county", number)] == steps)


def test_xml_applications_are_taken_like_json(
    platform_nodes: RunningPlatform, reference: RunningReference, portal: SignedClient
) -> None:
    application = _application(platform_nodes)
    answer = portal.request(
        "POST",
        reference.url + "/yzw/v1/applications",
        content=to_xml("application", application),
        headers={"Content-Type": "application/xml"},
    )
    assert answer.status_code == 202, answer.text
    doctype = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><application xmlns="urn:yzw:norm:2026"/>'
    refused = portal.request(
        "POST", reference.url + "/yzw/v1/applications", content=doctype, headers={"Content-Type": "application/xml"}
    )
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/xml")  # MSG-01: answered in the XML form
    assert not xsd_errors(refused.content)
    assert from_xml(parse_xml(refused.content)) == (
        "error",
        {"code": "XML_FORBIDDEN_CONSTRUCT", "message": ANY, "details": []},
    )


def test_the_same_application_sent_concurrently_is_taken_once(
    platform_nodes: RunningPlatform, reference: RunningReference, portal: SignedClient
) -> None:
    application = _application(platform_nodes)
    url = reference.url + "/yzw/v1/applications"
    with ThreadPoolExecutor(max_workers=8) as pool:  # a platform retrying on its own timeout (APP-04)
        answers = list(pool.map(lambda _: portal.request("POST", url, json=application), range(8)))
    assert [a.status_code for a in answers] == [202] * 8, [a.text for a in answers]
    assert len({a.json()["received_at"] for a in answers}) == 1


def test_two_clerks_accepting_at_once_give_one_acceptance(
    platform_nodes: RunningPlatform, reference: RunningReference, portal: SignedClient, desk: SignedClient
) -> None:
    number = _submitted_complete(platform_nodes, reference, portal)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: _act(desk, reference, "accept", application_no=number), range(4)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409], [a.text for a in answers]
    assert wait_until(lambda: [e["step"] for e in mock_events(platform_nodes, "county", number)] == ["SL"])
