"""Chapter 5: single sign-on for people — ticket hand-off, SM2-verified identity, sessions, logout (SSO-01…07)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from yzw.conformance.checks.answers import answered, body_of, equal
from yzw.conformance.checks.sso import session_cookie, validated_with_the_idp
from yzw.conformance.nodes import Nodes
from yzw.conformance.scenario import Scenario
from yzw.run.target import Target
from yzw.spec.limits import limits

SESSION = "/yzw/v1/session"
FORGED_TICKET = "ST-" + "0" * 40
PLANTED = "planted-by-an-attacker"


def person(scenario: Scenario, auth_level: int = 3) -> dict[str, Any]:
    """A user record as the IdP issues it (specs/schemas/user.schema.json)."""
    applicant = scenario.factory.fake.person()
    return {
        "user_id": f"U{scenario.factory.fake.numerify('############')}",
        "user_type": "person",
        "name": applicant["name"],
        "auth_level": auth_level,
        "id_type": "111",
        "id_number": applicant["id_number"],
    }


def _no_session(target: Target, browser: httpx.Client, fix: str) -> None:
    answered(browser.get(target.base_url + SESSION), 401, fix=fix)


@pytest.mark.requirement("SSO-01")
def test_the_ticket_is_validated_with_the_idp_before_any_session(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    raw.get(f"{target.sso_url}?ticket={FORGED_TICKET}")  # its status is SSO-03's to judge
    _no_session(target, raw, fix="create the session only after POST /idp/v1/tickets/validate confirmed the ticket")
    answered(raw.get(platform.login(person(scenario))), (302, 303), fix="sign the person on after a valid ticket")
    validated_with_the_idp(platform)


@pytest.mark.requirement("SSO-02")
def test_a_user_record_with_a_forged_sm2_signature_is_refused(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    platform.flag("forge_signature")
    answered(raw.get(platform.login(person(scenario))), 401, fix="verify the IdP's SM2 signature over the user record")
    _no_session(target, raw, fix="create no session when the SM2 signature fails")


@pytest.mark.requirement("SSO-03")
@pytest.mark.parametrize("ticket", ["used", "unknown", "missing"])
def test_bad_tickets_create_no_session(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario, ticket: str
) -> None:
    hand_off = platform.login(person(scenario))
    if ticket == "used":
        httpx.get(hand_off)  # someone else used it first
        answer = raw.get(hand_off)
    else:
        answer = raw.get(f"{target.sso_url}?ticket={FORGED_TICKET}" if ticket == "unknown" else target.sso_url)
    answered(answer, 400 if ticket == "missing" else 401, fix="answer 401 to refused tickets and 400 to a missing one")
    _no_session(target, raw, fix="create no session for a refused ticket")


@pytest.mark.requirement("SSO-04")
def test_the_session_answers_the_idps_user_record(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    _no_session(target, raw, fix="answer 401 without a session")
    user = person(scenario)
    raw.get(platform.login(user))
    answer = raw.get(target.base_url + SESSION)
    answered(answer, 200, fix="answer GET /yzw/v1/session with the signed-in person")
    equal(
        "the session's identity",
        body_of(answer),
        user,
        fix="answer the IdP's user record as it was validated",
        where="GET /yzw/v1/session",
    )


@pytest.mark.requirement("SSO-05")
def test_the_apply_entry_checks_the_authentication_level(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    entry = f"{target.base_url}/yzw/v1/items/{scenario.item['item_code']}/apply"
    answered(raw.get(entry), 401, fix="answer 401 at the apply entry without a session")
    unknown = f"{target.base_url}/yzw/v1/items/{str(scenario.item['item_code'])[:-3]}999/apply"
    answered(raw.get(unknown), 401, fix="without a session answer 401 first, before looking the item up (404)")
    needed = int(scenario.item["required_auth_level"])
    if needed > 1:
        with httpx.Client(timeout=10, event_hooks=platform.evidence.hooks()) as low:
            low.get(platform.login(person(scenario, auth_level=needed - 1)))
            answered(
                low.get(entry),
                403,
                "AUTH_LEVEL_INSUFFICIENT",
                fix="refuse sessions below the item's required_auth_level",
            )
    raw.get(platform.login(person(scenario, auth_level=needed)))
    answered(raw.get(entry), 200, fix="open the apply entry when the session's auth_level reaches the item's")


@pytest.mark.requirement("SSO-06")
def test_single_logout_ends_the_persons_sessions_within_5_s(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    user = person(scenario)
    raw.get(platform.login(user))
    answered(raw.get(target.base_url + SESSION), 200, fix="keep the session after a valid login")
    platform.logout(user["user_id"])
    ended = platform.wait_for(
        lambda: httpx.get(target.base_url + SESSION, cookies=raw.cookies).status_code,
        lambda s: s == 401,
        limits().logout_seconds + 1.0,  # the norm's time, and a second for the kit's own polling
    )
    equal(
        "the session after single logout",
        ended,
        401,
        fix="end every session of the person on the IdP's logout call",
        where="GET /yzw/v1/session",
    )


@pytest.mark.requirement("SSO-07")
def test_login_sets_a_fresh_protected_session_cookie(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    answer = raw.get(platform.login(person(scenario)), headers={"Cookie": f"sid={PLANTED}"})
    answered(answer, (302, 303), fix="redirect after a successful login")
    session_cookie(answer.headers.get_list("set-cookie"), PLANTED, secure=target.base_url.startswith("https"))
