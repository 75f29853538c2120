"""The reference system's SSO (SSO-01…07), item guide (CAT-02/03), supervision notices (SUP-02), evaluations."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.conftest import RECORD
from tests.mock_helpers import FOOD_ITEM, mock_events, pushed_to, wait_until
from tests.test_reference import _act, _application, _plan

from yzw.client import SignedClient
from yzw.codes import compose
from yzw.codes.times import today_cn
from yzw.mock.runner import RunningPlatform
from yzw.reference.runner import RunningReference
from yzw.serving.http import prefers_html

USER = {
    "user_id": "U330106000009",
    "user_type": "person",
    "name": "李娜",
    "auth_level": 3,
    "id_type": "111",
    "id_number": "11010519491231002X",
}


def _login(platform: RunningPlatform, user: dict[str, Any] = USER) -> str:
    answer = httpx.post(
        platform.urls["province"] + "/_mock/portal/login", json={"user": user, "app_id": RECORD["app_id"]}
    )
    return str(answer.json()["redirect"])


def test_sign_on_creates_a_fresh_protected_session_with_the_idps_identity(
    platform_nodes: RunningPlatform, reference: RunningReference
) -> None:
    with httpx.Client() as browser:
        answer = browser.get(_login(platform_nodes), headers={"Cookie": "sid=planted-by-an-attacker"})
        assert answer.status_code == 302
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        assert browser.cookies["sid"] != "planted-by-an-attacker"  # SSO-07: no session fixation
        assert browser.get(reference.url + "/yzw/v1/session").json() == USER
        assert browser.get(f"{reference.url}/yzw/v1/items/{FOOD_ITEM}/apply").status_code == 200
        again = browser.get(_login(platform_nodes).replace("ticket=", "ticket=ST-x"))  # not the IdP's ticket
        assert again.status_code == 401


def test_sign_on_refusals(platform_nodes: RunningPlatform, reference: RunningReference) -> None:
    hand_off = _login(platform_nodes)
    assert httpx.get(hand_off).status_code == 302
    used = httpx.get(hand_off)
    assert (used.status_code, used.json()["code"]) == (401, "TICKET_USED")
    httpx.post(platform_nodes.urls["province"] + "/_mock/flags", json={"forge_signature": 1})
    forged = httpx.get(_login(platform_nodes))
    assert (forged.status_code, forged.json()["code"]) == (401, "SIGNATURE_INVALID")
    missing = httpx.get(reference.url + "/yzw/v1/sso", headers={"Accept": "text/html"})
    assert (missing.status_code, missing.headers["content-type"].split(";")[0]) == (400, "text/html")
    assert httpx.get(reference.url + "/yzw/v1/session").status_code == 401


def test_auth_level_gate_and_single_logout(platform_nodes: RunningPlatform, reference: RunningReference) -> None:
    with httpx.Client() as browser:
        browser.get(_login(platform_nodes, {**USER, "user_id": "U-low", "auth_level": 1}))
        refused = browser.get(f"{reference.url}/yzw/v1/items/{FOOD_ITEM}/apply")
        assert (refused.status_code, refused.json()["code"]) == (403, "AUTH_LEVEL_INSUFFICIENT")
        httpx.post(platform_nodes.urls["province"] + "/_mock/portal/logout", json={"user_id": "U-low"})
        assert wait_until(lambda: browser.get(reference.url + "/yzw/v1/session").status_code == 401, timeout=5)


def test_the_guide_follows_the_catalogue(platform_nodes: RunningPlatform, reference: RunningReference) -> None:
    guide = f"{reference.url}/yzw/v1/items/{FOOD_ITEM}"
    assert httpx.get(guide).json()["promised_days"] == 5
    httpx.post(f"{platform_nodes.urls['province']}/_mock/catalog/{FOOD_ITEM}", json={"promised_days": 4})
    assert wait_until(lambda: httpx.get(guide).json()["promised_days"] == 4)
    httpx.post(f"{platform_nodes.urls['province']}/_mock/catalog/{FOOD_ITEM}", json={"retire": True})
    assert wait_until(lambda: httpx.get(guide).status_code == 404)
    assert httpx.get(guide).json()["code"] == "ITEM_UNKNOWN"


def _accepted_case(
    platform: RunningPlatform, reference: RunningReference, portal: SignedClient, desk: SignedClient
) -> tuple[str, str]:
    application = _application(platform)
    application["materials"].append(_plan())
    portal.request("POST", reference.url + "/yzw/v1/applications", json=application)
    accepted = _act(desk, reference, "accept", application_no=application["application_no"]).json()
    return application["application_no"], accepted["case_no"]


def test_a_supervision_notice_gets_one_fk(
    platform_nodes: RunningPlatform, reference: RunningReference, portal: SignedClient, desk: SignedClient
) -> None:
    number, case_no = _accepted_case(platform_nodes, reference, portal, desk)
    notice = {
        "notice_id": "N-0001",
        "case_no": case_no,
        "card": "yellow",
        "issued_at": "2026-11-28T09:00:00+08:00",
        "respond_by": "2026-11-30T09:00:00+08:00",
    }
    url = reference.url + "/yzw/v1/supervision/notices"
    assert portal.request("POST", url, json=notice).status_code == 200
    assert portal.request("POST", url, json=notice).status_code == 200  # the same notice: no second FK
    stranger = compose.case_no("330106", "021", today_cn(), 999_999)  # well formed, but not a case of this system
    unknown = portal.request("POST", url, json={**notice, "notice_id": "N-0002", "case_no": stranger})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "CASE_UNKNOWN")
    assert wait_until(lambda: [e["step"] for e in mock_events(platform_nodes, "county", number)] == ["SL", "FK"])


def test_evaluations_and_rectifications_reach_the_exchange(
    platform_nodes: RunningPlatform, reference: RunningReference, portal: SignedClient, desk: SignedClient
) -> None:
    _, case_no = _accepted_case(platform_nodes, reference, portal, desk)
    assert wait_until(lambda: len(mock_events(platform_nodes, "county")) == 1)
    evaluated = _act(desk, reference, "evaluate", case_no=case_no, params={"level": 2, "comment": "等待时间长"}).json()
    assert evaluated["ok"] is True
    fixed = _act(
        desk,
        reference,
        "rectify",
        case_no=case_no,
        params={"evaluation_id": evaluated["evaluation_id"], "action": "增开窗口"},
    )
    assert fixed.status_code == 200, fixed.text
    bad = _act(desk, reference, "evaluate", case_no=case_no, params={"level": 9})
    assert (bad.status_code, bad.json()["code"]) == (422, "PARAMS_INVALID")


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("", False),
        ("*/*", False),
        ("text/html", True),
        ("text/html, application/json", False),  # a tie is JSON
        ("text/html;q=0.9, application/json;q=1", False),
        ("application/json;q=0.5, text/html", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # a browser
        ("text/*;q=0.7, application/*;q=0.6", True),
        ("TEXT/HTML;Q=0.4, */*;q=0.3", True),
        ("text/html;q=0", False),
    ],
)
def test_browser_facing_errors_follow_the_accept_q_values(accept: str, html: bool) -> None:
    """MSG-02 (2026.2): the highest q-value wins, the most specific range gives a type its q, a tie is JSON."""
    assert prefers_html(accept) is html


def test_rectify_takes_one_rectification_per_bad_review_and_evaluate_its_channel(
    platform_nodes: RunningPlatform, reference: RunningReference, portal: SignedClient, desk: SignedClient
) -> None:
    """§11 (2026.2): rectify's errors in the norm's order, evaluate's channel (window by default)."""
    _, case_no = _accepted_case(platform_nodes, reference, portal, desk)
    assert wait_until(lambda: len(mock_events(platform_nodes, "county")) == 1)

    def act(verb: str, **params: Any) -> tuple[int, Any]:
        answer = _act(desk, reference, verb, case_no=case_no, params=params).json()
        return answer.get("code", 200), answer.get("evaluation_id")

    _, good = act("evaluate", level=5, comment="", channel="terminal")
    _, bad = act("evaluate", level=1, comment="态度差")
    assert act("evaluate", level=3, channel="fax")[0] == "PARAMS_INVALID"
    assert act("rectify", evaluation_id="3f0a3d3e-2b1c-4a6e-9a57-0c1d2e3f4a5b", action="x")[0] == "EVALUATION_UNKNOWN"
    assert act("rectify", evaluation_id=good, action="回访")[0] == "STATE_INVALID"  # a level 5 review
    assert act("rectify", evaluation_id=bad, action="")[0] == "PARAMS_INVALID"
    assert act("rectify", evaluation_id=bad, action="回访并致歉") == (200, bad)
    assert act("rectify", evaluation_id=bad, action="再次回访")[0] == "STATE_INVALID"  # one per bad review
    pushed = pushed_to(platform_nodes, "/exchange/v1/evaluations", 2)
    assert [json.loads(e["request"])["channel"] for e in pushed] == ["terminal", "window"]
    assert len(pushed_to(platform_nodes, "/exchange/v1/rectifications", 1)) == 1
