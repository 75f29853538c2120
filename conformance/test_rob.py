"""Chapter 12 (robustness): no 5xx or hang for any request, text kept verbatim (ROB-01, ROB-02)."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from yzw.client import Credentials, SignedClient, trusted
from yzw.conformance.checks.answers import answered, body_of, equal, error_body
from yzw.conformance.checks.events import case_steps
from yzw.conformance.checks.side_by_side import Action, side_by_side
from yzw.conformance.driver import Driver, HttpDriver, seen
from yzw.conformance.fuzz import ROBUSTNESS, probed_once
from yzw.conformance.nodes import Nodes, distinct
from yzw.conformance.scenario import TAKEN, WINDOW_SYSTEM_MEMBERS, Scenario
from yzw.conformance.violations import Violation
from yzw.run.items import E_LICENSE, LICENSE_MATERIAL, Need
from yzw.run.target import Target
from yzw.spec.limits import limits

LIBRARY_DOWN_CALLS = 50  # the library stays down for the whole action, retries included
SLOW_CALLS = 5  # the catalogue stays slow for a retry or two as well
SLOW_BEYOND_SECONDS = 1.5  # how much later than the per-call budget the slow catalogue answers
VERIFY = "/license/v1/licenses/verify"
DROPS = "drops the connection"
SLOW = "answers only after the call budget"
GARBLED = "answers 200 with what is not the norm's answer"
FAILS = "answers 5xx"
FIVE_XX = (500, 502, 503, 504)  # ROB-01: "a 5xx", the server's own error and a gateway's, not the 503 alone
OUTAGES = (FAILS, DROPS)  # a 5xx, and a connection that fails (ROB-01: both mean unreachable)
EVERY_WAY = (*OUTAGES, SLOW, GARBLED)  # ROB-01: refused, no answer within 3 s, a 5xx, an answer not the norm's
# Each service's slow answer is waited for once for all, side by side (test_platform_services_unanswered_…)
ANSWERED = (*OUTAGES, GARBLED)
WAY_IDS = {FAILS: "5xx", DROPS: "dropped", SLOW: "slow", GARBLED: "not-the-norms"}
GATEWAY_ENVELOPE = '{"code":0,"msg":"success","data":null}'  # an API gateway's own answer, none of the norm's
GATEWAY_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"  # a proxy's page, not even JSON, under a 200
GARBLED_FORMS = {  # ROB-01: "an answer that is not the norm's", JSON or not
    f"{GARBLED} (a gateway's JSON envelope)": (GATEWAY_ENVELOPE, "application/json"),
    f"{GARBLED} (a proxy's HTML page)": (GATEWAY_PAGE, "text/html"),
}
LOOKALIKE = "answers 500 with a body that reads like a valid status"  # ROB-01: a 5xx, whatever its body says
LOOKALIKE_STATUS = '{"status":"valid"}'  # the library's answer in shape (LIC-02), under a 500: still unreachable
TOKEN = "/idp/v1/oauth/token"
OUTAGE_FIX = (
    "when a platform service the request needs fails (5xx, no answer within the call budget, an answer that is not "
    "the norm's), answer 503 DEPENDENCY_UNAVAILABLE and change nothing"
)
DENIAL = "申请材料与实际情况不符，依法不予许可"  # a clerk's reason for a denial (EVT-05)
VERBATIM = ' 张 三 "O\'Brien" 😀 <script>1</script>; DROP TABLE x;-- '


ABSENT = object()  # a member left out of the application


@pytest.mark.requirement("ROB-01", clauses=["ROB-01.1"])
@pytest.mark.parametrize(
    "change",
    [
        {"materials": []},
        {"form": {"备注": "\u0000\u001f" * 50}},
        {"applicant": {"name": "名" * 5000}},
        *({"application_no": number} for number in (ABSENT, None, 123, [], {}, "3" * 10_000)),
    ],
    ids=[
        "no-materials",
        "control-characters",
        "very-long-name",
        *(f"application-no-{how}" for how in ("absent", "null", "a-number", "a-list", "an-object", "10000-chars")),
    ],
)
def test_edge_cases_never_give_5xx(scenario: Scenario, change: dict[str, object]) -> None:
    """Bodies at the edge of the schema or past it (the number idempotency hangs on absent, null, not a string, far
    too long): answered 2xx or 4xx, never 5xx (whether a 4xx is the right one is APP-02's to judge)."""
    application = scenario.application()
    for key, value in change.items():
        current = application.get(key)
        if value is ABSENT:
            application.pop(key, None)
            continue
        application[key] = {**current, **value} if isinstance(current, dict) and isinstance(value, dict) else value
    answer = scenario.submit(application)
    if answer.status_code >= 500:
        answered(answer, (202, 400, 422), fix="answer every request 2xx or 4xx; never fail with 5xx")


@pytest.mark.requirement("ROB-01", clauses=["ROB-01.1", "ROB-01.2", "ROB-01.3"])
def test_generated_requests_never_give_5xx_or_answers_outside_their_schemas(
    target: Target, sut: SignedClient, fuzz_memo: dict[str, Any]
) -> None:
    """5xx, hangs and answers no chapter states (an error outside its shape is MSG-02's: test_msg.py)."""
    problems = probed_once(fuzz_memo, target, sut).get(ROBUSTNESS, [])
    if problems:
        raise Violation(
            f"{len(problems)} generated request(s) broke the system",
            f"2xx/4xx answers (the driver's within department.yaml's schemas), none slower than "
            f"{limits().answer_seconds:g} s",
            "; ".join(problems[:5]),
            "handle every input the OpenAPI allows or refuses with a 4xx error body",
            "schemathesis over specs/openapi/department.yaml",
        )


ODD_BODIES = {  # ROB-01 "however malformed": bodies a parser or a schema validator may choke on
    "50000 nested arrays": b"[" * 50_000 + b"]" * 50_000,
    "50000 nested objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "300 nested objects": b'{"form":' * 300 + b"{}" + b"}" * 300,  # past a validator's depth, within a parser's
    "a string": b'"application"',
    "null": b"null",
    "a number": b"0",
    "an array": b"[]",
}


@pytest.mark.requirement("ROB-01", clauses=["ROB-01.1", "ROB-01.3"])
def test_odd_bodies_never_give_5xx(target: Target, sut: SignedClient) -> None:
    """Deeply nested JSON (a recursive parser or validator overflows) and roots that are no object, signed, to the
    intake and the driver: answered 4xx with an error body, never 5xx (which 4xx is MSG-04's and APP-02's to judge;
    JSON allows any nesting, so 400 MALFORMED_BODY and 400 SCHEMA_INVALID are both the norm's)."""
    desk = SignedClient(Credentials(target.app_id, target.registration.app_secret)) if target.driver_url else None
    calls = [(sut, target.base_url + "/yzw/v1/applications")]
    if desk is not None:
        calls.append((desk, f"{target.driver_url}/actions"))
    try:
        for client, url in calls:
            for name, body in ODD_BODIES.items():
                answer = client.request("POST", url, content=body, headers={"Content-Type": "application/json"})
                if answer.status_code >= 500:
                    answered(answer, (400, 422), fix=f"refuse a body of {name} with a 4xx; never fail with 5xx")
                if answer.status_code >= 400:
                    error_body(answer)
    finally:
        if desk is not None:
            desk.close()


@pytest.mark.requirement(
    "ROB-02",
    clauses=[
        "EVT-01.1",
        "ROB-02.1",
        "ROB-02.2",
        "ROB-02.3",
        "ROB-02.4",
        "ROB-02.5",
        "ROB-02.6",
        "ROB-02.8",
        "ROB-02.10",
    ],
)
def test_text_is_kept_verbatim(
    scenario: Scenario, driver: Driver, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    """An applicant's name at the window (SB), the clerk's refusal, suspension and withdrawal reasons (BYSL, GQ,
    CH) and the IdP's name of a person (the session) come back exactly as they were written."""
    params = scenario.window_params()
    params["applicant"]["name"] = VERBATIM
    answer, number = scenario.window_apply(params)
    if answer is not None:
        answered(answer, 200, fix="take a window application whatever its text")
    sb = scenario.pushed(str(number), "SB")
    equal(
        "the applicant's name as pushed",
        (sb.event.get("payload") or {}).get("applicant", {}).get("name"),
        VERBATIM,
        fix="store and send text unchanged: no trimming, escaping or re-encoding",
        where=f"SB of {number}",
    )
    driver.act("refuse", str(number), reason=VERBATIM)
    other = scenario.submitted()["application_no"]
    driver.act("accept", other)
    driver.act("suspend", other, reason=VERBATIM, kind=VERBATIM, expected_days=5)
    driver.act("withdraw", other, reason=VERBATIM)
    for subject, step in ((str(number), "BYSL"), (other, "GQ"), (other, "CH")):
        found = [p for p in distinct(scenario.steps(subject, step)) if p.event.get("step") == step]
        if not found:
            continue  # a step never pushed is EVT-01's finding; its texts cannot be judged
        equal(
            f"the clerk's reason in {step}",
            (found[0].event.get("payload") or {}).get("reason"),
            VERBATIM,
            fix="push the clerk's texts unchanged: no trimming, escaping or re-encoding",
            where=f"{step} of {subject}",
        )
    user = {"user_id": "U-ROB-02", "user_type": "person", "name": VERBATIM, "auth_level": 3, "id_type": "111"}
    user["id_number"] = scenario.factory.fake.person()["id_number"]
    raw.get(platform.login(user))
    session = raw.get(target.base_url + "/yzw/v1/session")
    answered(session, 200, fix="open a session for the person the IdP validated, whatever the name's characters")
    equal(
        "the person's name in the session",
        (body_of(session) or {}).get("name"),
        VERBATIM,
        fix="answer the IdP's identity unchanged: no trimming, escaping or re-encoding",
        where="GET /yzw/v1/session",
    )


@pytest.mark.requirement(
    "ROB-01",
    clauses=[
        "LIC-01.16",
        "LIC-01.17",
        "ROB-01.4",
        "ROB-01.5",
        "ROB-01.6",
        "ROB-01.7",
        "ROB-01.9",
        "ROB-01.26",
        "ROB-01.28",
        "ROB-01.29",
    ],
)
def test_complete_without_the_license_library_answers_503_and_records_nothing(
    scenario: Scenario, platform: Nodes, driver: Driver
) -> None:
    """The library answers 5xx (500, 502, 503, 504 in turn on one case), drops every connection, then answers 200 with a
    gateway's envelope instead of the license: each time `complete` answers 503 and records nothing. A denial, which
    needs no e-license, is completed while the library drops every connection. (A library that answers only after the
    call budget is waited for side by side with the other services: test_platform_services_unanswered_….)"""
    scenario.use(E_LICENSE)
    for family in ANSWERED:
        application, _, _ = scenario.case()  # one case for each family: 500, 502, 503 and 504 share theirs
        number = application["application_no"]
        for outage in _each(family):
            _down(platform, "/license/v1/licenses", outage)
            fix = f"obtain the e-license before recording any step; when the library {outage}: 503, record nothing"
            answer = seen(driver.act("complete", number, result="approved"), "answered complete")
            platform.clear_faults("province")
            answered(answer, 503, "DEPENDENCY_UNAVAILABLE", fix=fix)
        after = seen(driver.act("advance", number), "advanced the case")
        step = (body_of(after) or {}).get("step")
        if after.status_code != 200 or step != "CB":
            raise Violation(
                "complete recorded steps although the license library could not be reached",
                "nothing recorded: the next advance takes CB",
                f"advance answered {after.status_code} {after.text[:200]}",
                f"obtain the e-license before recording any step; when the library {family}: 503, record nothing",
                f"the driver's complete, then advance, on {number} while the library {family}",
            )
    _down(platform, "/license/v1/licenses", DROPS)  # the last case, at CB: now denied, which needs no e-license
    denial = seen(driver.act("complete", number, result="denied", reason=DENIAL), "answered complete")
    platform.clear_faults("province")
    answered(
        denial,
        200,
        fix="a denial issues no e-license: complete it (BJ denied) whether the library answers or not; answer 503 only "
        "when a service the request needs cannot be reached",
    )


def _each(family: str) -> tuple[str, ...]:
    """The outages of one family, in the order tried: each 5xx status of FIVE_XX ("answers 500" …), each garbled
    form, else itself."""
    if family == GARBLED:
        return tuple(GARBLED_FORMS)
    return tuple(f"answers {status}" for status in FIVE_XX) if family == FAILS else (family,)


def _down(platform: Nodes, path: str, outage: str) -> None:
    """The province fails every call on `path` for the whole action: a 5xx ("answers 502"), a dropped connection,
    an answer only after the call budget, or a 200 that is not the norm's answer."""
    if outage == DROPS:
        platform.drop_next(path, LIBRARY_DOWN_CALLS, node="province")
    elif outage == SLOW:
        platform.slow_next(path, limits().platform_call_seconds + SLOW_BEYOND_SECONDS, LIBRARY_DOWN_CALLS)
    elif outage in GARBLED_FORMS:
        body, media = GARBLED_FORMS[outage]
        platform.misanswer_next(path, body, LIBRARY_DOWN_CALLS, content_type=media)
    elif outage == LOOKALIKE:
        platform.misanswer_next(path, LOOKALIKE_STATUS, LIBRARY_DOWN_CALLS, status=500)
    else:
        platform.fail_next(path, int(outage.removeprefix("answers ")), LIBRARY_DOWN_CALLS, node="province")


@pytest.mark.requirement(
    "ROB-01",
    clauses=["ROB-01.5", "ROB-01.6", "ROB-01.8", "ROB-01.9", "ROB-01.15", "ROB-01.19", "ROB-01.23", "ROB-01.27"],
)
def test_platform_services_unanswered_within_the_call_budget_give_503(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, sut: SignedClient, target: Target, driver: Driver
) -> None:
    """Four platform services answer only after the call budget, side by side (one wait for all four; each fault on
    its own item, license, case or ticket): the catalogue (the guide of an item the system has not seen, and an
    application for it), the license verification (accept of an application with a license material), the
    license issuing (complete of a case whose item has an e-license) and the ticket validation (the SSO hand-off).
    Each is answered 503 DEPENDENCY_UNAVAILABLE and leaves nothing behind: no application, no decision, no step,
    no session. An action answered late while the others waited is asked again alone before it is judged."""
    budget = limits().platform_call_seconds
    fix = f"give each call to the platform {budget:g} s; with no answer by then, answer 503 DEPENDENCY_UNAVAILABLE"
    driven = isinstance(driver, HttpDriver)  # a person cannot act side by side: those parts are then manual
    with httpx.Client(
        timeout=limits().answer_seconds, event_hooks=platform.evidence.hooks(), verify=trusted()
    ) as browser:
        parts = [_catalogue_part(scenario, platform, raw, sut, target, fix), _sso_part(scenario, platform, browser)]
        if driven and _has(scenario, E_LICENSE):
            parts.append(_complete_part(scenario, platform, driver))
        if driven and _has(scenario, LICENSE_MATERIAL):
            parts.append(_accept_part(scenario, platform, driver))
        seconds = budget + SLOW_BEYOND_SECONDS
        try:  # every case prepared first: a fault set earlier would slow another part's preparation
            for part in parts:
                for path, match in part.slowed:
                    platform.slow_next(path, seconds, LIBRARY_DOWN_CALLS, match=match)
            answers = side_by_side({name: action for part in parts for name, action in part.actions.items()})
        finally:
            platform.clear_faults("province")
        for name, answer in answers.items():
            answered(answer, 503, "DEPENDENCY_UNAVAILABLE", fix=f"{fix} ({name})")
        for part in parts:
            part.then()
    if not driven:
        pytest.skip("manual: accept and complete while the license library is slow need the system's driver")


@dataclass
class _SlowPart:
    """One service answering only after the call budget: the (path, match) of its fault, the actions that need
    it (each must be answered 503), and what must hold afterwards (nothing left behind)."""

    slowed: list[tuple[str, str | None]]
    actions: dict[str, Action]
    then: Callable[[], None]


def _has(scenario: Scenario, need: Need) -> bool:
    """Whether the department has an item with what a part needs (the scenario applies for it from now on)."""
    try:
        scenario.use(need)
    except pytest.skip.Exception:
        return False
    return True


def _catalogue_part(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, sut: SignedClient, target: Target, fix: str
) -> _SlowPart:
    """An item no system has seen: its guide and an application for it are answered 503, and nothing is kept."""
    item = platform.create_item(scenario.new_item())
    code = str(item["item_code"])
    application = {**scenario.application(), "item_code": code, "item_version": item["version"]}

    def then() -> None:
        status = sut.request("GET", f"{target.base_url}/yzw/v1/applications/{application['application_no']}")
        answered(status, 404, "APPLICATION_UNKNOWN", fix=f"{fix}, and keep nothing")

    return _SlowPart(
        [(f"/catalog/v1/items/{code}", None)],
        {
            "the guide of an item not seen (the catalogue slow)": lambda: raw.get(
                f"{target.base_url}/yzw/v1/items/{code}"
            ),
            "an application for it (the catalogue slow)": lambda: scenario.submit(application),
        },
        then,
    )


def _sso_part(scenario: Scenario, platform: Nodes, browser: httpx.Client) -> _SlowPart:
    """A person handed over while the ticket validation is slow: 503, and no session."""
    user = {"user_id": "U-ROB-01-SLOW", "user_type": "person", "name": "张三", "auth_level": 3, "id_type": "111"}
    hand_off = platform.login({**user, "id_number": scenario.factory.fake.person()["id_number"]})
    ticket = parse_qs(urlsplit(hand_off).query).get("ticket", [""])[0]

    def then() -> None:
        session = browser.get(scenario.target.base_url + "/yzw/v1/session")
        answered(session, 401, fix="create no session when the IdP cannot answer within the call budget")

    return _SlowPart(
        [("/idp/v1/tickets/validate", ticket or None)],
        {"the SSO hand-off (the ticket validation slow)": lambda: browser.get(hand_off)},
        then,
    )


def _accept_part(scenario: Scenario, platform: Nodes, driver: Driver) -> _SlowPart:
    """An application with license materials, taken; its verifications slow: accept answers 503 and decides
    nothing, and accepts once the library answers again."""
    application = scenario.application()
    answered(scenario.submit(application), TAKEN, fix="take a valid application")
    number = application["application_no"]

    def then() -> None:
        _no_decision(platform, number, 0.5, SLOW)
        driver.act("accept", number)
        scenario.pushed(number, "SL")

    return _SlowPart(
        [(VERIFY, str(m["license_id"])) for m in scenario.license_materials(application)],
        {
            "accept with a license material (its verification slow)": lambda: seen(
                driver.act("accept", number), "answered accept"
            )
        },
        then,
    )


def _complete_part(scenario: Scenario, platform: Nodes, driver: Driver) -> _SlowPart:
    """An accepted case of an item with an e-license; the issuing of its license slow: complete answers 503 and
    records nothing (the next advance takes CB)."""
    application, _, case_no = scenario.case()
    number = application["application_no"]

    def then() -> None:
        after = seen(driver.act("advance", number), "advanced the case")
        if after.status_code != 200 or (body_of(after) or {}).get("step") != "CB":
            raise Violation(
                "complete recorded steps although the license library did not answer within the call budget",
                "nothing recorded: the next advance takes CB",
                f"advance answered {after.status_code} {after.text[:200]}",
                "obtain the e-license before recording any step; with no answer within the call budget: 503, "
                "record nothing",
                f"the driver's complete, then advance, on {number} while the library answers only after the budget",
            )

    return _SlowPart(
        [("/license/v1/licenses", case_no)],  # the license issued names its case (LIC-01); a verification does not
        {
            "complete of a case with an e-license (its issuing slow)": lambda: seen(
                driver.act("complete", number, result="approved"), "answered complete"
            )
        },
        then,
    )


@pytest.mark.requirement(
    "ROB-01",
    clauses=[
        "ROB-01.4",
        "ROB-01.5",
        "ROB-01.8",
        "ROB-01.10",
        "ROB-01.11",
        "ROB-01.12",
        "ROB-01.13",
        "ROB-01.18",
        "ROB-01.20",
        "ROB-01.21",
    ],
)
@pytest.mark.parametrize(
    ("service", "outage"),
    [
        pytest.param(service, way, id=f"{service.split()[0]}-{WAY_IDS[way]}")
        for service, ways in (("catalogue", ANSWERED), ("token endpoint", EVERY_WAY))
        for way in ways
    ],
)
def test_a_catalogue_outage_gives_503_and_keeps_nothing(
    scenario: Scenario,
    platform: Nodes,
    raw: httpx.Client,
    sut: SignedClient,
    target: Target,
    service: str,
    outage: str,
) -> None:
    """For an item the system has not seen, the catalogue answers 5xx (500, 502, 503, 504 in turn), drops the connection
    or answers 200 with what is not an item; or the system's token is refused as expired and the IdP's token endpoint
    answers 5xx, drops the connection, answers only after the call budget or answers what is not a token: the item's
    guide and an application for it are answered 503 DEPENDENCY_UNAVAILABLE (never ITEM_UNKNOWN, never another 5xx), and
    the application is not kept (the status query answers 404); a person signed on (before the catalogue fails) is
    answered 503 at the item's apply entry too, not 404 ITEM_UNKNOWN."""
    item = platform.create_item(scenario.new_item())  # new: no system has it cached
    signed_on = service == "catalogue"  # the hand-off needs the system's token: only a catalogue outage spares it
    if signed_on:
        user = {"user_id": "U-ROB-01-APPLY", "user_type": "person", "name": "张三", "auth_level": 4, "id_type": "111"}
        raw.get(platform.login({**user, "id_number": scenario.factory.fake.person()["id_number"]}))
        # a sign-on that failed (the first call after a token expiry, say) is SSO's or SIG-04's to judge, not ROB-01's
        signed_on = raw.get(f"{target.base_url}/yzw/v1/session").status_code == 200
    for way in _each(outage):  # a 5xx: 500, 502, 503 and 504 in turn, the item still unseen after each
        if service == "catalogue":
            _down(platform, f"/catalog/v1/items/{item['item_code']}", way)
        else:  # the system's token is refused as expired, and no new one can be had
            platform.expire_tokens()
            _down(platform, TOKEN, way)
        fix = f"when the {service} {way}, answer 503 DEPENDENCY_UNAVAILABLE (not ITEM_UNKNOWN), keep nothing"
        application = {**scenario.application(), "item_code": item["item_code"], "item_version": item["version"]}
        try:  # side by side: a slow service costs the run one call budget, not two
            with ThreadPoolExecutor(2) as calls:
                guide = calls.submit(raw.get, f"{target.base_url}/yzw/v1/items/{item['item_code']}")
                intake = calls.submit(scenario.submit, application)
            answered(guide.result(), 503, "DEPENDENCY_UNAVAILABLE", fix=fix)
            answered(intake.result(), 503, "DEPENDENCY_UNAVAILABLE", fix=fix)
            if signed_on:
                entry = raw.get(f"{target.base_url}/yzw/v1/items/{item['item_code']}/apply")
                answered(entry, 503, "DEPENDENCY_UNAVAILABLE", fix=f"{fix}; the apply entry too")
        finally:
            platform.clear_faults("province")
        status = sut.request("GET", f"{target.base_url}/yzw/v1/applications/{application['application_no']}")
        answered(status, 404, "APPLICATION_UNKNOWN", fix=fix)


@pytest.mark.requirement("ROB-01", clauses=["ROB-01.5", "ROB-01.8", "ROB-01.9", "ROB-01.22", "ROB-01.24", "ROB-01.25"])
def test_accept_while_the_license_check_fails_answers_503_and_decides_nothing(
    scenario: Scenario, platform: Nodes, driver: Driver
) -> None:
    """The library answers 5xx (500, 502, 503, 504 in turn, and a 500 whose body reads like a `valid` status) to every
    verification, drops every connection, then answers 200 with a gateway's envelope instead of a status (a slow
    library: test_platform_services_unanswered_…): each time `accept` answers 503 DEPENDENCY_UNAVAILABLE and decides
    nothing (no BZ: the license is not missing, the library is; a 5xx is not an answer, whatever its body); once it
    answers again, the case is accepted."""
    scenario.use(LICENSE_MATERIAL)
    application = scenario.application()
    answered(scenario.submit(application), TAKEN, fix="take a valid application")
    number = application["application_no"]
    ways = [way for family in ANSWERED for way in _each(family)]
    ways.insert(len(FIVE_XX), LOOKALIKE)  # after the plain 5xx: a body is no answer under a 5xx (ROB-01)
    for outage in ways:
        _down(platform, VERIFY, outage)
        answer = seen(driver.act("accept", number), "answered accept")
        answered(answer, 503, "DEPENDENCY_UNAVAILABLE", fix=OUTAGE_FIX)
        last = outage == ways[-1]  # a push is looked for after each outage, and waited for after the last
        try:
            _no_decision(platform, number, last * 0.5, outage)
        finally:
            platform.clear_faults("province")
    driver.act("accept", number)
    scenario.pushed(number, "SL")


def _no_decision(platform: Nodes, number: str, seconds: float, outage: str) -> None:
    """No step of a decision was pushed for the application while its license verification `outage`."""
    early = platform.wait_for(lambda: [p for p in platform.pushes(number) if case_steps([p])], bool, seconds)
    if early:
        platform.observe(early)
        raise Violation(
            "a decision was pushed while the license library could not answer",
            "no event: the license is not missing, the library is (503, nothing changed)",
            case_steps(early),
            OUTAGE_FIX,
            f"accept on {number} while {VERIFY} {outage}",
        )


@pytest.mark.requirement(
    "ROB-01",
    clauses=["ROB-01.5", "ROB-01.8", "ROB-01.9", "ROB-01.14", "ROB-01.16", "ROB-01.17", "ROB-01.30"],
)
def test_a_login_while_the_idp_fails_answers_503_without_a_session(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    """Ticket validation answered 5xx (500, 502, 503, 504 in turn), dropped its connection, answered 200 with what is
    not a validation (a slow one: test_platform_services_unanswered_…); then the IdP's public keys answered 5xx,
    dropped or answered 200 with a gateway's envelope: the IdP cannot answer, the ticket was not refused (503, not
    SSO-03's 401, not SSO-02's), and no session is made."""
    ways = [
        (path, way)
        for path, families in (("/idp/v1/tickets/validate", ANSWERED), ("/idp/v1/keys", ANSWERED))
        for family in families
        for way in _each(family)
    ]
    for path, outage in ways:
        user = {"user_id": "U-ROB-01", "user_type": "person", "name": "张三", "auth_level": 3, "id_type": "111"}
        user["id_number"] = scenario.factory.fake.person()["id_number"]
        hand_off = platform.login(user)
        _down(platform, path, outage)
        raw.cookies.clear()
        answer = raw.get(hand_off)
        platform.clear_faults("province")
        answered(answer, 503, "DEPENDENCY_UNAVAILABLE", fix=f"when the IdP's {path} {outage}: {OUTAGE_FIX}")
        answered(raw.get(target.base_url + "/yzw/v1/session"), 401, fix="create no session when the IdP cannot answer")


@pytest.mark.requirement("ROB-02", clauses=["ROB-02.1", "ROB-02.5", "ROB-02.6", "ROB-02.7", "ROB-02.9", "ROB-02.11"])
def test_window_texts_evaluation_comments_and_rectifications_are_kept_verbatim(
    scenario: Scenario, driver: Driver, platform: Nodes, sut: SignedClient, target: Target
) -> None:
    """A window application whose every text (form values, the applicant's and the delivery's addresses, material
    names) is a hard string is pushed in its SB exactly as typed, every other member untouched, and an application
    taken before it is still held as it was; a level 1 evaluation's comment and its rectification's action are
    pushed exactly as written."""
    _, earlier = scenario.window_apply(scenario.window_params())
    before = _status_of(sut, target, earlier)
    answered(before[0], 200, fix="answer the status query of a window application taken (APP-07)")
    params = scenario.window_params()
    params["form"] = {key: f"{VERBATIM}{index}" for index, key in enumerate(params["form"])}
    params["applicant"]["address"] = VERBATIM
    params["delivery"]["address"] = f"{VERBATIM}送达"
    for index, material in enumerate(params["materials"]):
        material["name"] = f"{VERBATIM}材料{index}"
    answer, number = scenario.window_apply(params)
    if answer is not None:
        answered(answer, 200, fix="take a window application whatever its text")
    payload = scenario.pushed(str(number), "SB").event.get("payload") or {}
    fix = "store and send every text of the application unchanged: no trimming, escaping or re-encoding"
    for member in ("form", "applicant", "delivery", "materials"):
        equal(
            f"the application's {member} as pushed",
            payload.get(member),
            params[member],
            fix=fix,
            where=f"SB of {number}",
        )
    equal(
        "the application as pushed, less the members the system adds",
        {k: v for k, v in payload.items() if k not in WINDOW_SYSTEM_MEMBERS},
        {k: v for k, v in params.items() if k not in WINDOW_SYSTEM_MEMBERS},
        fix="store such text as data: nothing else of the application changes (ROB-02)",
        where=f"SB of {number}",
    )
    equal(
        f"the status query of {earlier}, taken before",
        _status_of(sut, target, earlier)[1],
        before[1],
        fix="store such text as data: no other application changes, none is lost (ROB-02)",
        where=f"GET /yzw/v1/applications/{earlier} after {number} was taken",
    )
    _, _, case_no = scenario.case()
    evaluated = seen(driver.act("evaluate", case_no=case_no, level=1, comment=VERBATIM), "took the evaluation")
    answered(evaluated, 200, fix="take a window evaluation whatever its comment")
    evaluation_id = str((body_of(evaluated) or {}).get("evaluation_id"))
    rectified = seen(
        driver.act("rectify", case_no=case_no, evaluation_id=evaluation_id, action=VERBATIM), "took the rectification"
    )
    answered(rectified, 200, fix="take a rectification whatever its action's text")
    for path, member in (("/exchange/v1/evaluations", "comment"), ("/exchange/v1/rectifications", "action")):
        sent = platform.wait_for(lambda path=path: _sent(platform, path, evaluation_id), bool)
        equal(
            f"the {member} as pushed",
            sent[-1].get(member) if sent else None,
            VERBATIM,
            fix=f"push the {member} unchanged: no trimming, escaping or re-encoding",
            where=f"POST {path} for evaluation {evaluation_id}",
        )


def _status_of(sut: SignedClient, target: Target, number: str | None) -> tuple[httpx.Response, object]:
    answer = sut.request("GET", f"{target.base_url}/yzw/v1/applications/{number}")
    return answer, body_of(answer)


def _sent(platform: Nodes, path: str, evaluation_id: str) -> list[dict[str, object]]:
    """The bodies the exchange took on `path` for one evaluation, in order."""
    bodies = []
    for entry in platform.traffic("exchange", path, "POST"):
        try:
            body = json.loads(str(entry.get("request")))
        except ValueError:
            continue
        if isinstance(body, dict) and body.get("evaluation_id") == evaluation_id:
            platform.evidence.observed(entry, platform.target.exchange_url)
            bodies.append(body)
    return bodies


# review 1 item 12: §11 `params` of another type than an object. `null` may be read as absent (MSG-01 takes a null
# member as an absent one), so served or refused; a list or a string is no object: 4xx (400 or 422).
WRONG_PARAMS = {"an empty list": [], "a list": ["calendar_date"], "a string": "calendar_date"}


@pytest.mark.requirement("ROB-01", clauses=["ROB-01.1"])
def test_driver_params_that_are_no_object_give_4xx_never_5xx(scenario: Scenario, driver: Driver) -> None:
    """`window_apply` and `accept` (on an application it may accept) with params a list or a string: 4xx with an
    error body; with params null: 2xx or 4xx (null read as absent), never 5xx. The null comes last: taken, it
    accepts the application."""
    if not isinstance(driver, HttpDriver):
        pytest.skip("not-applicable: params of another type can only be sent to a driver")
    number = scenario.submitted()["application_no"]
    sends = [
        *(
            (f"window_apply with params {what}", {"action": "window_apply", "params": v})
            for what, v in WRONG_PARAMS.items()
        ),
        ("window_apply with params null", {"action": "window_apply", "params": None}),
        *(
            (f"accept with params {what}", {"action": "accept", "application_no": number, "params": v})
            for what, v in WRONG_PARAMS.items()
        ),
        ("accept with params null", {"action": "accept", "application_no": number, "params": None}),
    ]
    for what, body in sends:
        answer = driver.client.request("POST", driver.url, json=body)
        served = body["params"] is None and body["action"] == "accept" and answer.status_code == 200
        if served:
            continue
        if not 400 <= answer.status_code < 500:
            raise Violation(
                f"{what} was answered {answer.status_code}",
                "a 4xx with an error body (params is an object: 400 SCHEMA_INVALID or 422)",
                f"{answer.status_code} {answer.text[:200]!r}",
                f"refuse {what} with a 4xx; read params only once it is an object; never fail with 5xx",
                f"POST {driver.url}",
            )
        error_body(answer)
