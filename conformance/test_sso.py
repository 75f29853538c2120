"""Chapter 5: single sign-on for people — ticket hand-off, SM2-verified identity, sessions, logout (SSO-01…07)."""

from __future__ import annotations

import base64
import json
import time
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from yzw.client import SignedClient
from yzw.conformance.checks.answers import answered, body_of, equal, media
from yzw.conformance.checks.sso import VALIDATE_PATH, session_cookie, sign_on, validated_with_the_idp
from yzw.conformance.nodes import Nodes
from yzw.conformance.scenario import Scenario
from yzw.conformance.violations import Violation
from yzw.run.items import AUTH_ABOVE_ONE
from yzw.run.target import Target
from yzw.signing import signed_headers
from yzw.spec.limits import limits

SESSION = "/yzw/v1/session"
LOGOUT = "/yzw/v1/sso/logout"
MAX_LEVEL = 4  # in person (SSO-05)
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
    answer = browser.get(target.base_url + SESSION)
    if answer.status_code != 401:
        _session_endpoint_tells(target)
    answered(answer, 401, fix=fix)


def _session_endpoint_tells(target: Target) -> None:
    """`not-applicable` when GET /yzw/v1/session answers a browser with no cookie at all other than 401: it cannot
    show whether a session was made (SSO-04 judges that answer)."""
    if httpx.get(target.base_url + SESSION, timeout=10).status_code != 401:
        pytest.skip("not-applicable: the session endpoint does not answer 401 without a session (SSO-04 says why)")


def _hand_off_works(platform: Nodes, raw: httpx.Client, scenario: Scenario) -> None:
    """A person with a fresh ticket signs on (else `not-applicable`: SSO-01 and SSO-02 judge the hand-off), and the
    browser forgets the session again."""
    sign_on(platform, raw, person(scenario))
    raw.cookies.clear()


@pytest.mark.requirement(
    "SSO-01",
    clauses=[
        "SIG-01.5",
        "SIG-02.31",
        "SIG-03.4",
        "SIG-05.7",
        "SSO-01.1",
        "SSO-01.2",
        "SSO-01.3",
        "SSO-01.4",
        "SSO-01.5",
        "SSO-02.3",
        "SSO-02.5",
        "SSO-02.6",
        "SSO-02.7",
        "SSO-02.8",
        "SSO-02.10",
        "SSO-02.11",
        "SSO-02.12",
        "SSO-03.4",
        "SSO-04.10",
        "SSO-07.1",
    ],
)
def test_the_ticket_is_validated_with_the_idp_before_any_session(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    raw.get(f"{target.sso_url}?ticket={FORGED_TICKET}")  # its status is SSO-03's to judge
    _no_session(target, raw, fix="create the session only after POST /idp/v1/tickets/validate confirmed the ticket")
    answer = raw.get(platform.login(person(scenario)))
    validated_with_the_idp(platform)
    if answer.status_code in (401, 403):
        pytest.skip("not-applicable: the IdP validated the ticket and the system refused the record (SSO-02 says why)")
    if answer.status_code >= 400:
        answered(answer, (302, 303), fix="take the portal's hand-off at the registered sso_url and sign the person on")


@pytest.mark.requirement("SSO-02", clauses=["SSO-02.1", "SSO-02.2", "SSO-04.10"])
def test_a_user_record_with_a_forged_sm2_signature_is_refused(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    _hand_off_works(platform, raw, scenario)
    platform.flag("forge_signature")
    answered(raw.get(platform.login(person(scenario))), 401, fix="verify the IdP's SM2 signature over the user record")
    _no_session(target, raw, fix="create no session when the SM2 signature fails")


@pytest.mark.requirement(
    "SSO-02",
    clauses=[
        "SSO-02.3",
        "SSO-02.4",
        "SSO-02.5",
        "SSO-02.6",
        "SSO-02.7",
        "SSO-02.8",
        "SSO-02.9",
        "SSO-02.10",
        "SSO-02.11",
        "SSO-02.12",
    ],
)
def test_a_valid_identity_record_signs_the_person_on(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    """Valid records as the IdP signs them: a Chinese name, a nested object whose keys come unsorted (the canonical
    JSON sorts them at every level, without spaces or \\u escapes), issued_at right after it; then one signed with the
    IdP's next key, published ahead at /idp/v1/keys (listed first) and named by the answer's kid; then one signed
    with a key the IdP makes and publishes only now, under a new kid (keys read once at start-up lack it). Each
    signs on."""
    user = {
        **person(scenario),
        "address": {"zone": "西湖区", "city": "杭州市", "lines": [{"street": "文三路", "no": "90"}]},
    }
    for rotated in ("", "rotate_key", "new_key"):
        if rotated:
            platform.flag(rotated)
        raw.cookies.clear()
        answer = raw.get(platform.login({**user, "user_id": f"{user['user_id']}{len(rotated)}"}))
        if rotated == "new_key" and answer.status_code >= HTTPStatus.BAD_REQUEST:
            time.sleep(KEY_FETCH_COOL_DOWN)  # a system may throttle its key fetches (a common guard against
            platform.flag("latest_key")  # kid floods): once it may fetch again, the same new key must pass
            raw.cookies.clear()
            answer = raw.get(platform.login({**user, "user_id": f"{user['user_id']}-again"}))
        validated = platform.traffic("province", VALIDATE_PATH, "POST")[-1:]
        if answer.status_code >= HTTPStatus.BAD_REQUEST and not (validated and validated[0].get("status") == 200):
            pytest.skip("not-applicable: the IdP validated no ticket of this login (SSO-01 says why)")
        if answer.status_code >= HTTPStatus.BAD_REQUEST:
            raise Violation(
                "the system refused a valid identity record of the IdP",
                "the person signed on (302/303): the SM2 signature (SM3 digest, user id 1234567812345678, hex r||s) "
                "verified with the public key of GET {province}/idp/v1/keys the answer's kid names, over the "
                "user's canonical JSON (keys "
                "sorted at every level, `,` and `:` without spaces, UTF-8 without \\u escapes) followed by issued_at"
                + {
                    "": "",
                    "rotate_key": " — here signed with the IdP's next key, kid idp-2027, published ahead",
                    "new_key": " — here signed with a key the IdP published only now, under a kid new to the system",
                }[rotated],
                f"{answer.status_code} {answer.text[:200]}",
                "verify exactly the bytes SSO-02 names, with the key the kid names, fetched from the IdP (not stored; "
                "fetch the keys again when the kid is one the system does not hold)",
                "the hand-off after a valid ticket",
            )


@pytest.mark.requirement(
    "SSO-03",
    clauses=["SSO-03.1", "SSO-03.2", "SSO-03.3", "SSO-03.4", "SSO-03.6", "SSO-03.7", "SSO-03.8", "SSO-04.10"],
)
@pytest.mark.parametrize("ticket", ["used", "expired", "unknown-or-malformed", "missing-or-empty"])
def test_bad_tickets_create_no_session(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario, ticket: str
) -> None:
    """The IdP refuses a used, unknown or expired ticket: 401; a malformed ticket is present, so 401 too;
    no ticket parameter, or an empty one, is 400."""
    _hand_off_works(platform, raw, scenario)
    hand_off = platform.login(person(scenario))
    if ticket == "used":
        httpx.get(hand_off)  # someone else used it first
    elif ticket == "expired":
        platform.flag("expire_ticket")  # the IdP answers TICKET_EXPIRED to the next validation
    urls = {
        "unknown-or-malformed": [f"{target.sso_url}?ticket={FORGED_TICKET}", f"{target.sso_url}?ticket=not-a-ticket"],
        "missing-or-empty": [target.sso_url, f"{target.sso_url}?ticket=&state=x"],
    }
    for url in urls.get(ticket, [hand_off]):
        answered(
            raw.get(url),
            400 if ticket == "missing-or-empty" else 401,
            fix="answer 401 to a ticket the IdP refuses (TICKET_INVALID, TICKET_EXPIRED, TICKET_USED) or a "
            "malformed one, and 400 when the ticket parameter is missing or empty",
        )
        _no_session(target, raw, fix="create no session for a refused ticket")


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what a browser sends


@pytest.mark.requirement("SSO-03", clauses=["SSO-03.3", "SSO-03.4", "SSO-03.5"])
def test_a_refused_ticket_is_an_error_page_for_the_browser(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    """The person's browser follows a hand-off whose ticket was already used: 401, an HTML page, no session."""
    _hand_off_works(platform, raw, scenario)
    hand_off = platform.login(person(scenario))
    httpx.get(hand_off)  # someone else used it first
    page = raw.get(hand_off, headers={"Accept": BROWSER_ACCEPT})
    answered(page, 401, fix="answer 401 to a ticket the IdP refused (TICKET_USED)")
    media(page, "text/html", fix="answer a browser's refused hand-off with an error page (text/html), status 401")
    _no_session(target, raw, fix="create no session for a refused ticket")


@pytest.mark.requirement(
    "SSO-04",
    clauses=[
        "SIG-02.31",
        "SIG-02.32",
        "SIG-05.7",
        "SSO-01.1",
        "SSO-01.3",
        "SSO-02.3",
        "SSO-02.5",
        "SSO-02.6",
        "SSO-02.7",
        "SSO-02.8",
        "SSO-02.10",
        "SSO-02.11",
        "SSO-02.12",
        "SSO-04.1",
        "SSO-04.2",
        "SSO-04.3",
        "SSO-04.4",
        "SSO-04.5",
        "SSO-04.6",
        "SSO-04.7",
        "SSO-04.8",
        "SSO-04.9",
        "SSO-04.10",
    ],
)
def test_the_session_answers_the_idps_user_record(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    answered(raw.get(target.base_url + SESSION), 401, fix="answer GET /yzw/v1/session 401 without a session")
    user = person(scenario)
    sign_on(platform, raw, user)
    answer = raw.get(target.base_url + SESSION)
    answered(answer, 200, fix="answer GET /yzw/v1/session with the signed-in person")
    equal(
        "the session's identity",
        body_of(answer),
        user,
        fix="answer the IdP's user record as it was validated",
        where="GET /yzw/v1/session",
    )
    legal = scenario.factory.fake.legal_person()
    company = {
        "user_id": f"U{scenario.factory.fake.numerify('############')}",
        "user_type": "legal",
        "name": legal["name"],
        "auth_level": 3,
        "uscc": legal["uscc"],
    }
    raw.cookies.clear()
    sign_on(platform, raw, company)
    answer = raw.get(target.base_url + SESSION)
    answered(answer, 200, fix="answer GET /yzw/v1/session with the signed-in legal person")
    equal(
        "the legal person's identity in the session",
        body_of(answer),
        company,
        fix="answer the IdP's user record of a legal person as validated: its uscc, no id_number",
        where="GET /yzw/v1/session",
    )


@pytest.mark.requirement(
    "SSO-05",
    clauses=["SIG-02.34", "SSO-05.1", "SSO-05.2", "SSO-05.3", "SSO-05.5", "SSO-05.6", "SSO-05.7", "SSO-05.8"],
)
def test_the_apply_entry_checks_the_authentication_level(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    scenario.prefer(AUTH_ABOVE_ONE)  # one level below the item's is refused: only an item above level 1 shows it
    entry = _entry(target, str(scenario.item["item_code"]))
    answered(raw.get(entry), 401, fix="answer 401 at the apply entry without a session")
    unknown = _entry(target, f"{str(scenario.item['item_code'])[:-3]}999")
    answered(raw.get(unknown), 401, fix="without a session answer 401 first, before looking the item up (404)")
    needed = int(scenario.item["required_auth_level"])
    if needed > 1:
        with httpx.Client(timeout=10, event_hooks=platform.evidence.hooks()) as low:
            sign_on(platform, low, person(scenario, auth_level=needed - 1))
            answered(
                low.get(entry),
                403,
                "AUTH_LEVEL_INSUFFICIENT",
                fix="refuse sessions below the item's required_auth_level",
            )
    sign_on(platform, raw, person(scenario, auth_level=needed))
    answered(raw.get(entry), 200, fix="open the apply entry when the session's auth_level reaches the item's")
    with httpx.Client(timeout=10, event_hooks=platform.evidence.hooks()) as top:  # in person: above any item's level
        sign_on(platform, top, person(scenario, auth_level=MAX_LEVEL))
        if needed < MAX_LEVEL:
            answered(top.get(entry), 200, fix="open the apply entry for every level at or above the item's (>=)")
        answered(
            top.get(unknown),
            404,
            "ITEM_UNKNOWN",
            fix="answer 404 ITEM_UNKNOWN for an item the catalogue does not hold, also to a signed-in person",
        )
        other = _other_departments_item(platform, target)
        if other is not None:
            answered(
                top.get(_entry(target, other)),
                404,
                "ITEM_UNKNOWN",
                fix=f"answer 404 ITEM_UNKNOWN for {other}: it is active, but not an item of department "
                f"{target.registration.dept_uscc}",
            )


@pytest.mark.requirement("SSO-05", clauses=["SSO-05.1", "SSO-05.3", "SSO-05.4", "SSO-05.6"])
def test_the_apply_entry_follows_the_catalogues_current_level(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    """A new item needing level 2 opens for a level 2 session; the catalogue then raises it to 3 in a new version
    (the change notice goes out): within the notice's time the same session is refused 403; lowered to 2 again,
    it opens again; retired, the same session gets 404 ITEM_UNKNOWN."""
    item = platform.create_item({**scenario.new_item(), "required_auth_level": 2})
    code = str(item["item_code"])
    entry = _entry(target, code)
    sign_on(platform, raw, person(scenario, auth_level=2))
    answered(raw.get(entry), 200, fix="open the apply entry when the session's auth_level reaches the item's")
    budget = platform.notice_seconds
    for level, status in ((3, 403), (2, 200)):
        platform.change_item(code, required_auth_level=level)
        answer = platform.wait_for(lambda: raw.get(entry), lambda a, status=status: a.status_code == status, budget)
        answered(
            answer,
            status,
            "AUTH_LEVEL_INSUFFICIENT" if status == 403 else None,
            fix=f"compare the session's level with the item's current required_auth_level (now "
            f"{level}); fetch the item again on the catalogue's change notice (CAT-03)",
        )
    platform.change_item(code, retire=True)
    answer = platform.wait_for(lambda: raw.get(entry), lambda a: a.status_code == 404, budget)
    answered(
        answer,
        404,
        "ITEM_UNKNOWN",
        fix="answer 404 ITEM_UNKNOWN at the apply entry for an item the catalogue retired (its status is no longer "
        "active), also to a signed-in person; fetch the item again on the retired change notice (CAT-03)",
    )


def _entry(target: Target, item_code: str) -> str:
    return f"{target.base_url}/yzw/v1/items/{item_code}/apply"


def _other_departments_item(platform: Nodes, target: Target) -> str | None:
    """An active catalogue item of another department, if the catalogue holds one."""
    return next(
        (
            str(item["item_code"])
            for item in platform.catalogue()
            if item.get("status") == "active" and item["dept"]["uscc"] != target.registration.dept_uscc
        ),
        None,
    )


def _forged_logout(target: Target, raw: httpx.Client, user_id: str) -> None:
    """A logout carrying all four signature headers, signed with a wrong secret: 401 SIGNATURE_INVALID."""
    body = json.dumps({"user_id": user_id}).encode()
    forged = signed_headers(target.grant.app_id, target.grant.secret + "x", "POST", LOGOUT, body=body)
    answered(
        raw.post(target.base_url + LOGOUT, content=body, headers={**forged, "Content-Type": "application/json"}),
        401,
        "SIGNATURE_INVALID",
        fix="verify the logout call's HMAC-SM3 signature with the platform_secret, not only that the headers are "
        "there (SIG-02)",
    )


@pytest.mark.requirement(
    "SSO-06",
    clauses=["SSO-04.1", "SSO-04.2", "SSO-04.10", "SSO-06.1", "SSO-06.2", "SSO-06.3", "SSO-06.4", "SSO-06.5"],
)
def test_single_logout_ends_the_persons_sessions_within_5_s(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    """The person signed in from two browsers; an unsigned logout call ends nothing; the IdP's signed one is
    answered 200 and ends both sessions within the norm's time."""
    user = person(scenario)
    with httpx.Client(timeout=10, event_hooks=platform.evidence.hooks()) as other:
        for browser in (raw, other):
            sign_on(platform, browser, user)
            answered(browser.get(target.base_url + SESSION), 200, fix="keep the session after a valid login")
        answered(
            raw.post(target.base_url + LOGOUT, json={"user_id": user["user_id"]}),
            401,
            "SIGNATURE_MISSING",
            fix="serve POST /yzw/v1/sso/logout only to the platform's signed calls (SIG-02)",
        )
        _forged_logout(target, raw, user["user_id"])
        answered(raw.get(target.base_url + SESSION), 200, fix="an unsigned logout call must end no session")
        answered(other.get(target.base_url + SESSION), 200, fix="a logout call refused 401 must end no session")
        platform.logout(user["user_id"])
        sessions = [browser.cookies for browser in (raw, other)]
        _session_endpoint_tells(target)
        ended = platform.wait_for(
            lambda: [httpx.get(target.base_url + SESSION, cookies=jar).status_code for jar in sessions],
            lambda statuses: statuses == [401, 401],
            limits().logout_seconds + 1.0,  # the norm's time, and a second for the kit's own polling
        )
    equal(
        "the person's two sessions after single logout",
        ended,
        [401, 401],
        fix="end every session of the person on the IdP's logout call, not only the last one",
        where="GET /yzw/v1/session with each browser's cookie",
    )
    answers = platform.wait_for(
        lambda: [
            d.get("status")
            for d in platform.delivered()  # this system's; another run's logouts reach it too, for other people
            if d["kind"] == "logout" and (d.get("body") or {}).get("user_id") == user["user_id"]
        ],
        bool,
        limits().logout_seconds,
    )
    equal(
        "the answer to the IdP's logout call",
        answers,
        [200],
        fix="answer the logout call 200",
        where="POST /yzw/v1/sso/logout from the IdP",
    )


@pytest.mark.requirement(
    "SSO-07",
    clauses=[
        "SSO-02.3",
        "SSO-02.5",
        "SSO-02.6",
        "SSO-02.7",
        "SSO-02.8",
        "SSO-02.10",
        "SSO-02.11",
        "SSO-02.12",
        "SSO-07.1",
        "SSO-07.2",
        "SSO-07.3",
        "SSO-07.4",
        "SSO-07.5",
        "SSO-07.6",
        "SSO-07.7",
    ],
)
def test_login_sets_a_fresh_protected_session_cookie(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    """A login redirects (302/303 with a Location) and sets a new HttpOnly, SameSite session cookie; the
    session id the browser held before — unknown to the system, or one of the system's own sessions — never
    becomes the new person's session (session fixation), whatever the system names its cookie."""
    someone = person(scenario)
    first = _login(raw, platform, someone, {})
    name, value = _session_cookie_of(first, target, raw)
    for held_by, brought in (("no cookie", {}), ("the person's own live session", {name: value})):
        again = _cookie_value(_login(raw, platform, someone, brought), name)
        if again == value:
            raise Violation(
                "two logins of one person set the same session id",
                "a freshly generated session id at every login",
                f"{name}=<the same value> after a second login of {someone['user_id']} bringing {held_by}",
                "generate the session id at random at every login, also for a person already signed in; never "
                "derive it from the person",
                "Set-Cookie of the login redirect",
            )
    for held in (PLANTED, value, *_cookies_before_login(target, raw, scenario, name)):
        user = person(scenario)
        answer = _login(raw, platform, user, {name: held})
        session_cookie(answer.headers.get_list("set-cookie"), held, target.base_url.startswith("https"), name)
        raw.cookies.clear()
        who = raw.get(target.base_url + SESSION, headers={"Cookie": f"{name}={held}"})
        if who.status_code == 200 and isinstance(body := body_of(who), dict) and body.get("user_id") == user["user_id"]:
            raise Violation(
                "the session id the browser held before the login became the new person's session",
                f"{name}={'<an unknown id>' if held == PLANTED else '<a session id the system set earlier>'} "
                "still unauthenticated for the new person after the login",
                f"GET {SESSION} with it answers {user['user_id']}",
                "generate a new session id at every login and never adopt the one the browser brings",
                "the session cookie after a login",
            )


def _login(raw: httpx.Client, platform: Nodes, user: dict[str, Any], held: dict[str, str]) -> httpx.Response:
    raw.cookies.clear()
    cookie = "; ".join(f"{name}={value}" for name, value in held.items())
    answer = sign_on(platform, raw, user, headers={"Cookie": cookie} if cookie else {})
    answered(answer, (302, 303), fix="redirect after a successful login")
    if not answer.headers.get("location"):
        raise Violation(
            "the login redirect names no page",
            "a Location header: the page of the system's choosing",
            f"{answer.status_code} without Location",
            "answer 302 or 303 with Location",
            "the login redirect",
        )
    return answer


def _cookie_value(answer: httpx.Response, name: str) -> str | None:
    for cookie in answer.headers.get_list("set-cookie"):
        pair = cookie.split(";", 1)[0].strip().split("=", 1)
        if len(pair) == 2 and pair[0] == name:
            return pair[1]
    return None


def _cookies_before_login(target: Target, raw: httpx.Client, scenario: Scenario, name: str) -> list[str]:
    """The values of the session cookie the system sets before anyone signs on: to a refused hand-off, at the apply
    entry without a session (a system may keep an anonymous session, e.g. for the page to go back to)."""
    raw.cookies.clear()
    visits = (f"{target.sso_url}?ticket={FORGED_TICKET}", _entry(target, str(scenario.item["item_code"])))
    values = {_cookie_value(raw.get(url), name) for url in visits}
    raw.cookies.clear()
    return sorted(v for v in values if v)


def _session_cookie_of(answer: httpx.Response, target: Target, raw: httpx.Client) -> tuple[str, str]:
    """The cookie the login set that opens the session (the system names it as it likes); every cookie that opens
    it alone is a session cookie, and each must carry the flags."""
    set_cookies = answer.headers.get_list("set-cookie")
    pairs = [c.split(";", 1)[0].strip().split("=", 1) for c in set_cookies]
    openers = []
    for name, value in (p for p in pairs if len(p) == 2):
        raw.cookies.clear()
        if raw.get(target.base_url + SESSION, headers={"Cookie": f"{name}={value}"}).status_code == 200:
            session_cookie(set_cookies, PLANTED, target.base_url.startswith("https"), name)
            openers.append((name, value))
    raw.cookies.clear()
    if openers:
        return openers[0]
    session_cookie(set_cookies, PLANTED, target.base_url.startswith("https"))
    raise Violation(
        "no cookie the login set opens the session",
        f"GET {SESSION} answers 200 with the cookie set at login",
        ", ".join(name for name, *_ in pairs) or "no cookie",
        "set the session cookie the session endpoint reads (SSO-04)",
        "the login redirect",
    )


@pytest.mark.requirement("SSO-06", clauses=["SSO-06.1", "SSO-06.3", "SSO-06.5", "MSG-03.4"])
def test_single_logout_of_anyone_is_answered_200_and_more_members_are_ignored(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario, sut: SignedClient
) -> None:
    """The IdP fans every logout out to every system: the logout of a person who never signed on here is answered
    200 too; a logout carrying a member the norm does not define (MSG-03: ignored) is answered 200 and still ends
    the person's session."""
    stranger = f"U{scenario.factory.fake.numerify('############')}"
    answered(
        sut.request("POST", target.base_url + LOGOUT, json={"user_id": stranger}),
        200,
        fix="answer the IdP's logout 200 whether or not the person has a session here (nothing to end is no error)",
    )
    user = person(scenario)
    sign_on(platform, raw, user)
    answered(raw.get(target.base_url + SESSION), 200, fix="keep the session after a valid login")
    answered(
        sut.request("POST", target.base_url + LOGOUT, json={"user_id": user["user_id"], "x_session_index": "1"}),
        200,
        fix="ignore members the norm does not define in the logout call (MSG-03) and end the person's sessions",
    )
    _session_endpoint_tells(target)
    ended = platform.wait_for(
        lambda: httpx.get(target.base_url + SESSION, cookies=raw.cookies).status_code,
        lambda status: status == 401,
        limits().logout_seconds + 1.0,
    )
    equal(
        "the session after a logout with a member more",
        ended,
        401,
        fix="end every session of the person on the IdP's logout call, whatever other members it carries",
        where="GET /yzw/v1/session with the browser's cookie",
    )


# review 1 item 12: a session cookie under the system's own name that opens no session (garbage, a quote for a
# lookup that pastes it into SQL, a long value, the real cookie truncated, an unsigned JWT): 401, never a session,
# never a 5xx.
KEY_FETCH_COOL_DOWN = 31.0  # s: jose's createRemoteJWKSet waits 30 s between fetches of the keys
GARBAGE_SESSIONS = ("x'OR'1'='1", "%ff%00{}<>'", "A" * 4096)  # cookie-octets only (RFC 6265): no HTTP layer refuses


def _b64url(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document, separators=(",", ":")).encode()).rstrip(b"=").decode()


def _unsigned_jwts(value: str, user: dict[str, Any]) -> list[str]:
    """`alg: none` tokens: the system's own cookie re-headed `none` with its signature dropped when it is a JWT, and
    one claiming the person (under the usual claim names) in any case."""
    now = int(time.time())
    claims = {**user, "sub": user["user_id"], "iat": now, "exp": now + 3600}
    tokens = [f"{_b64url({'alg': 'none', 'typ': 'JWT'})}.{_b64url(claims)}."]
    parts = value.split(".")
    if len(parts) == 3:
        try:
            header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
        except ValueError:
            header = None
        if isinstance(header, dict) and "alg" in header:
            tokens.append(f"{_b64url({**header, 'alg': 'none'})}.{parts[1]}.")
    return tokens


def _cookies_opening_nothing(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> tuple[str, list[tuple[str, str]]]:
    """The system's session cookie name (a login shows it) and the values under it that open no session."""
    someone = person(scenario)
    raw.cookies.clear()
    name, value = _opener(sign_on(platform, raw, someone), target, raw)
    forged = [
        *((f"garbage {v[:12]!r}", v) for v in GARBAGE_SESSIONS),
        ("the session cookie truncated by half", value[: len(value) // 2]),
        ("the session cookie without its first character", value[1:]),  # the last may be base64 padding
        *(("an unsigned JWT (alg none)", token) for token in _unsigned_jwts(value, someone)),
    ]
    return name, [(what, v) for what, v in forged if v != value]


def _opener(answer: httpx.Response, target: Target, raw: httpx.Client) -> tuple[str, str]:
    """The cookie the login set that opens the session, found without judging its flags or the redirect (SSO-07's);
    `not-applicable` when none does (SSO-04 and SSO-07 judge that)."""
    for cookie in answer.headers.get_list("set-cookie"):
        pair = cookie.split(";", 1)[0].strip().split("=", 1)
        raw.cookies.clear()
        if len(pair) == 2 and raw.get(target.base_url + SESSION, headers={"Cookie": "=".join(pair)}).status_code == 200:
            raw.cookies.clear()
            return pair[0], pair[1]
    raw.cookies.clear()
    pytest.skip("not-applicable: no cookie the login set opens the session (SSO-04 and SSO-07 judge the login)")


@pytest.mark.requirement("SSO-04", clauses=["SSO-04.10"])
def test_a_session_cookie_that_opens_no_session_answers_401(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    """GET /yzw/v1/session with the system's own cookie name holding garbage, a truncated session id or an unsigned
    JWT: 401 (no session), never 200 and never a 5xx."""
    name, forged = _cookies_opening_nothing(target, platform, raw, scenario)
    for what, value in forged:
        raw.cookies.clear()
        answer = raw.get(target.base_url + SESSION, headers={"Cookie": f"{name}={value}"})
        answered(
            answer,
            401,
            fix=f"answer GET {SESSION} 401 when the {name} cookie is {what}: it opens no session; never fail with 5xx",
        )


@pytest.mark.requirement("SSO-05", clauses=["SSO-05.5"])
def test_the_apply_entry_answers_401_to_a_cookie_that_opens_no_session(
    target: Target, platform: Nodes, raw: httpx.Client, scenario: Scenario
) -> None:
    """The apply entry with the system's own cookie name holding garbage, a truncated session id or an unsigned
    JWT: 401 (no session), never 200 or 403 and never a 5xx."""
    name, forged = _cookies_opening_nothing(target, platform, raw, scenario)
    entry = _entry(target, str(scenario.item["item_code"]))
    for what, value in forged:
        raw.cookies.clear()
        answered(
            raw.get(entry, headers={"Cookie": f"{name}={value}"}),
            401,
            fix=f"answer the apply entry 401 when the {name} cookie is {what}: it opens no session; never fail "
            "with 5xx",
        )
