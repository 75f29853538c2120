"""Rules of single sign-on seen from the browser and from the IdP (SSO-01, SSO-07)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from yzw.conformance.nodes import Nodes
from yzw.conformance.violations import Violation

VALIDATE_PATH = "/idp/v1/tickets/validate"


def validated_with_the_idp(nodes: Nodes) -> None:
    """SSO-01: the system asked the IdP to validate the ticket (server to server)."""
    calls = nodes.traffic("province", VALIDATE_PATH, "POST")
    for entry in calls:
        nodes.evidence.observed(entry, nodes.target.province_url)
    for entry in calls:  # SSO-01: the body names the system itself
        try:
            body = json.loads(str(entry.get("request") or "{}"))
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("app_id") != nodes.target.app_id:
            raise Violation(
                "the ticket validation does not name the system's own app_id",
                f'{{"ticket": "ST-…", "app_id": "{nodes.target.app_id}"}}',
                str(entry.get("request"))[:200],
                "send the ticket with the system's own registered app_id",
                f"POST {{province}}{VALIDATE_PATH}",
            )
    if not any(entry.get("status") == 200 for entry in calls):
        raise Violation(
            "the ticket was not validated with the IdP",
            f"POST {{province}}{VALIDATE_PATH} from the system, answered 200, before the session",
            f"{len(calls)} validation call(s), none accepted",
            "validate every ticket server-side with the province IdP before creating a session",
            "the province IdP's traffic",
        )


def session_cookie(set_cookies: list[str], planted: str, secure: bool, name: str | None = None) -> None:
    """SSO-07: a freshly generated session cookie with HttpOnly, SameSite Lax/Strict, and Secure over https
    (only the cookie called `name` when the session cookie is known: other cookies are the system's affair)."""
    if name is not None:
        set_cookies = [c for c in set_cookies if c.split(";", 1)[0].split("=", 1)[0].strip() == name]
    if not set_cookies:
        raise Violation(
            "the login sets no session cookie",
            "a Set-Cookie header",
            "none",
            "set the session cookie on login",
            "the login redirect",
        )
    for cookie in set_cookies:
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        value = cookie.split(";", 1)[0].split("=", 1)[-1]
        missing = [flag for flag in ("httponly",) if flag not in flags]
        if not flags & {"samesite=lax", "samesite=strict"}:
            missing.append("SameSite=Lax|Strict")
        if secure and "secure" not in flags:
            missing.append("Secure")
        problem = "keeps the session id the browser brought (session fixation)" if value == planted else None
        if missing or problem:
            raise Violation(
                f"the session cookie {problem or 'lacks ' + ', '.join(missing)}",
                "a new random session id; HttpOnly; SameSite=Lax or Strict; Secure over https",
                cookie.split(";", 1)[0].split("=", 1)[0] + "=***; " + "; ".join(sorted(flags)),
                "generate a new session id at login and set it HttpOnly, SameSite=Lax (Secure over https)",
                "Set-Cookie of the login redirect",
            )


def sign_on(nodes: Nodes, browser: httpx.Client, user: dict[str, Any], **options: Any) -> httpx.Response:
    """The portal hands the person to the system (SSO-01) and the browser follows: the system's answer.

    A login the system refuses (401, 403) although the IdP validated its ticket is the system refusing the IdP's
    valid identity record: SSO-02's check judges that; any other refusal of a fresh ticket SSO-01's. A check that
    needs a signed-on person does not apply then.
    """
    answer = browser.get(nodes.login(user), **options)
    if answer.status_code >= 400:
        last = nodes.traffic("province", VALIDATE_PATH, "POST")[-1:]
        if last and last[0].get("status") == 200 and answer.status_code in (401, 403):
            pytest.skip(
                "not-applicable: the system refused a login whose ticket the IdP validated (SSO-02 judges how it "
                "verifies the identity record)"
            )
        pytest.skip(
            f"not-applicable: the system answered {answer.status_code} to a person handed over with a fresh ticket "
            "(SSO-01 judges the hand-off and the validation)"
        )
    return answer
