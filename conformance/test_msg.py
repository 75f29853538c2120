"""Chapter 3: common message rules — JSON and XML bodies, error bodies, unknown fields, order of checks (MSG-01…05)."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from yzw.client import SignedClient
from yzw.codes.calendar import default_calendar
from yzw.conformance.checks.answers import answered, body_of, error_body, media, no_secrets, where_of, xml_error
from yzw.conformance.checks.events import attributed_to
from yzw.conformance.checks.licenses import licenses_sent_on_approval
from yzw.conformance.checks.sso import sign_on
from yzw.conformance.driver import Driver
from yzw.conformance.fuzz import ERROR_SHAPE, probed_once
from yzw.conformance.nodes import Nodes, distinct
from yzw.conformance.scenario import APPLICATIONS, TAKEN, Scenario
from yzw.conformance.violations import Violation
from yzw.fixtures.defects import invalid_value
from yzw.run.items import AUTH_ABOVE_ONE, FILE_MATERIAL
from yzw.run.target import SIGNATURE_CODES, UNKNOWN_APPLICATION_NO, Target
from yzw.signing import signed_headers
from yzw.spec.limits import limits
from yzw.spec.xml import NS as XML_NS
from yzw.spec.xml import parse_xml, to_xml, xsd_errors

XML = {"Content-Type": "application/xml", "Accept": "application/xml"}


def _needs_xml(target: Target) -> None:
    if "xml" not in target.formats:
        pytest.skip("not-applicable: the system registered json only (formats in sut.yaml)")


@pytest.mark.requirement(
    "MSG-01",
    clauses=["MSG-01.4", "MSG-01.5", "MSG-01.6", "MSG-01.10", "MSG-01.11", "MSG-01.13", "MSG-01.15", "MSG-03.6"],
)
def test_an_xml_application_is_taken_and_xml_errors_are_answered_in_xml(
    scenario: Scenario, target: Target, sut: SignedClient
) -> None:
    _needs_xml(target)
    url = target.base_url + APPLICATIONS
    taken = sut.request("POST", url, content=to_xml("application", scenario.application()), headers=XML)
    answered(taken, TAKEN, fix="accept the XML form (namespace urn:yzw:norm:2026) of a registered xml system")
    broken = scenario.application()
    del broken["delivery"]
    refused = sut.request("POST", url, content=to_xml("application", broken), headers=XML)
    answered(refused, 400, "SCHEMA_INVALID", fix="refuse the schema violation with 400 SCHEMA_INVALID")
    xml_error(refused)


@pytest.mark.requirement(
    "MSG-01",
    clauses=["MSG-01.5", "MSG-01.6", "MSG-01.7", "MSG-01.8", "MSG-01.11", "MSG-01.12", "MSG-01.14", "MSG-01.16"],
)
def test_xml_errors_follow_the_mapping_and_xml_supplements_are_taken(
    scenario: Scenario, driver: Driver, target: Target, sut: SignedClient
) -> None:
    """An XML application with two schema violations, one for an unknown item, supplements before they are asked
    for (an error without details): each error is an `error` root
    of the norm's namespace, valid against specs/xsd, its details one `item` per entry, no element written for
    nothing (empty or "null"); XML supplements to an application waiting for them are taken."""
    _needs_xml(target)
    url = target.base_url + APPLICATIONS
    broken = scenario.application()
    del broken["delivery"]
    del broken["applicant"]["name"]
    unknown = {**scenario.application(), "item_code": str(scenario.item["item_code"])[:-3] + "999"}
    for document, status in ((broken, 400), (unknown, 422)):
        answer = sut.request("POST", url, content=to_xml("application", document), headers=XML)
        answered(answer, status, fix="refuse the application (400 SCHEMA_INVALID, 422 ITEM_UNKNOWN) in the XML form")
        _xml_error_mapped(answer)
    scenario.use(FILE_MATERIAL)
    files = [m for m in scenario.application()["materials"] if m["kind"] == "file"]
    number = scenario.submitted(omit=(files[0]["material_code"],))["application_no"]
    supplements = to_xml("supplements", {"materials": files[:1]})
    early = sut.request("POST", f"{url}/{number}/supplements", content=supplements, headers=XML)
    answered(early, 409, "STATE_INVALID", fix="take supplements only while the application waits for them (BZ)")
    _xml_error_mapped(early)  # an error without details
    driver.act("accept", number)
    scenario.pushed(number, "BZ")
    more = sut.request("POST", f"{url}/{number}/supplements", content=supplements, headers=XML)
    answered(more, 200, fix="take supplements in the XML form (root supplements) from a registered xml system")
    bzj = scenario.pushed(number, "BZJ")  # what was read from the XML: the material of its one item element
    supplied = [m.get("material_code") for m in (bzj.event.get("payload") or {}).get("materials") or []]
    if files[0]["material_code"] not in supplied:
        raise Violation(
            "the materials of XML supplements were not read",
            f"the BZJ listing {files[0]['material_code']}, the material sent as one item element of materials",
            supplied,
            "read an XML array from its item elements, one per entry (materials/item)",
            f"the BZJ of {number} after XML supplements",
        )


def _xml_error_mapped(answer: httpx.Response) -> None:
    """MSG-01: an XML error is the `error` root of urn:yzw:norm:2026, valid against the XSD, details as `item`
    elements, no element for an absent member."""
    where = f"{where_of(answer)} (XML request)"
    fix = "write the XML error as specs/xsd declares it: <error xmlns='urn:yzw:norm:2026'> code, message, details"
    try:
        root = parse_xml(answer.content)
    except Exception as broken:
        raise Violation(
            "the XML error is not well-formed XML", "an <error> document", str(broken), fix, where
        ) from None
    if root.tag != f"{{{XML_NS}}}error":
        raise Violation("the XML error's root is not error", f"{{{XML_NS}}}error", root.tag, fix, where)
    empty = [
        element.tag.split("}")[-1]
        for element in root.iter()
        if (element.text or "").strip() in ("", "null") and not len(element) and element.tag != f"{{{XML_NS}}}details"
    ]
    details = root.find(f"{{{XML_NS}}}details")
    if empty or (details is not None and (details.text or "").strip()):
        raise Violation(
            "the XML error writes an element for a member without value",
            "no element for a null or absent member (MSG-01), details holding only item elements",
            empty or (details.text if details is not None else None),
            "leave a null or absent member out of the XML form (no empty or 'null' element)",
            where,
        )
    body = body_of(answer)
    entries = body.get("details") if isinstance(body, dict) else None
    items = [child for child in details if child.tag == f"{{{XML_NS}}}item"] if details is not None else []
    if details is not None and len(items) != len(details):
        raise Violation(
            "the XML error's details are not one item element per entry",
            "<details><item>…</item>…</details>",
            [child.tag.split("}")[-1] for child in details],
            "write an array as an element of its name holding one item element per entry",
            where,
        )
    if answer.status_code == 400 and not (isinstance(entries, list) and len(items) >= 1):
        raise Violation(
            "the XML schema error lists no detail items",
            "one details/item per schema finding",
            answer.text[:200],
            "write each finding as a details/item element",
            where,
        )
    problems = xsd_errors(answer.content)
    if problems:
        raise Violation(
            "the XML error is not valid against the normative XSD (specs/xsd)",
            "an error document valid against specs/xsd/yzw.xsd",
            "; ".join(f"{path}: {reason}" for path, reason in problems[:3]),
            fix,
            where,
        )


@pytest.mark.requirement(
    "MSG-02",
    clauses=[
        "MSG-02.1",
        "MSG-02.2",
        "MSG-02.3",
        "MSG-02.4",
        "MSG-02.5",
        "MSG-02.6",
        "MSG-02.7",
        "MSG-02.11",
        "MSG-02.13",
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/yzw/v1/no-such-route", None, 404),
        ("DELETE", "/yzw/v1/health", None, 405),
        ("POST", APPLICATIONS, b"{", (400, 401)),  # 401 first is MSG-04's order, judged there
    ],
    ids=["unknown-route", "unknown-method", "unsigned-malformed"],
)
def test_errors_have_the_norms_shape_and_show_no_internals(
    target: Target, raw: httpx.Client, method: str, path: str, body: bytes | None, status: int | tuple[int, ...]
) -> None:
    """An unknown route is 404, a known route called with a method it does not serve 405 (HTTP's statuses:
    specs/DECISIONS.md), an unsigned malformed body 401 or 400 (which comes first is MSG-04's): each with the
    error body."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    answer = raw.request(method, target.base_url + path, content=body, headers=headers)
    answered(answer, status, fix="answer an unknown route 404, a wrong method 405, unsigned 401")
    error_body(answer)


@pytest.mark.requirement(
    "MSG-02",
    clauses=[
        "APP-02.6",
        "MSG-02.1",
        "MSG-02.2",
        "MSG-02.3",
        "MSG-02.4",
        "MSG-02.5",
        "MSG-02.9",
        "MSG-02.10",
        "MSG-02.11",
        "MSG-03.7",
    ],
)
def test_a_schema_error_shows_no_internals(scenario: Scenario) -> None:
    broken = scenario.application()
    broken["materials"] = "not a list"
    answer = scenario.submit(broken)
    answered(answer, 400, "SCHEMA_INVALID", fix="refuse the schema violation with 400 SCHEMA_INVALID")
    error_body(answer)
    _details_point_at(answer, "/materials")


POINTER = re.compile(r"(/([^~/]|~[01])*)*")  # RFC 6901


def _details_point_at(answer: httpx.Response, member: str) -> None:
    """MSG-02: a schema error's details list {path: JSON pointer, reason} for each offending member."""
    details = (body_of(answer) or {}).get("details")
    entries = [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    paths = [d.get("path") for d in entries]
    wrong = [
        d
        for d in entries
        if not (isinstance(d.get("path"), str) and POINTER.fullmatch(d["path"]) and str(d.get("reason") or "").strip())
    ]
    named = any(p == member or str(p).startswith(member + "/") for p in paths)
    if not entries or wrong or not named:
        raise Violation(
            "the schema error does not list the offending member as {path, reason}",
            f'details with {{"path": "{member}", "reason": "…"}} (path a JSON pointer, RFC 6901)',
            json.dumps(details, ensure_ascii=False)[:300],
            "list each offending member in details as {path: its JSON pointer, reason: what is wrong}",
            where_of(answer),
        )


@pytest.mark.requirement("MSG-02", clauses=["MSG-02.5", "MSG-02.13", "MSG-02.22"])
def test_an_error_from_the_systems_own_data_shows_no_file_path(scenario: Scenario, driver: Driver) -> None:
    """A due date in a year no calendar holds (ACC-04): the 422 names the year, not where the calendar lies."""
    beyond = dt.date(default_calendar().years[-1] + 1, 6, 1)
    answer = driver.act("accept", scenario.submitted()["application_no"], calendar_date=beyond.isoformat())
    if answer is not None and answer.status_code >= 400:  # a system holding that year accepts: nothing to judge
        error_body(answer)


@pytest.mark.requirement("MSG-02", clauses=["MSG-02.1", "MSG-02.5", "MSG-02.12", "MSG-02.14", "MSG-02.22"])
def test_errors_show_no_sql_and_no_secret(scenario: Scenario, target: Target, raw: httpx.Client) -> None:
    """A conflict on a known number (409), a request with a wrong signature (401) from the platform and at the
    driver: the error bodies show no SQL or database message, and none of the secrets (the platform's secret, the
    system's app_secret), whole or in part."""
    secrets = {"platform secret": target.grant.secret, "app_secret": target.registration.app_secret}
    application = scenario.submitted()
    changed = {**application, "form": {**(application.get("form") or {}), "备注": "another body"}}
    conflict = scenario.submit(changed)
    if conflict.status_code >= HTTPStatus.BAD_REQUEST:  # a system taking it (202) is APP-04's finding, not MSG-02's
        error_body(conflict)
        no_secrets(conflict, secrets)
    path = f"{APPLICATIONS}/{UNKNOWN_APPLICATION_NO}"
    forged = signed_headers(target.grant.app_id, target.grant.secret + "-not-it", "GET", path)
    refused = raw.get(target.base_url + path, headers=forged)
    answered(refused, 401, "SIGNATURE_INVALID", fix="refuse a wrong signature 401 SIGNATURE_INVALID")
    error_body(refused)
    no_secrets(refused, secrets)
    if target.driver_url:
        url = target.driver_url + "/actions"
        body = json.dumps({"action": "accept", "application_no": UNKNOWN_APPLICATION_NO}).encode()
        own = signed_headers(
            target.app_id,
            target.registration.app_secret + "-not-it",
            "POST",
            httpx.URL(url).raw_path.decode(),
            body=body,
        )
        at_driver = raw.post(url, content=body, headers={**own, "Content-Type": "application/json"})
        answered(at_driver, 401, "SIGNATURE_INVALID", fix="refuse a wrong signature at the driver too")
        error_body(at_driver)
        no_secrets(at_driver, secrets)


# 2026.2: browser-facing endpoints render errors by the Accept q-values (the highest wins; a tie is JSON)
PREFERS_JSON = "text/html;q=0.9, application/json;q=1"
PREFERS_HTML = "application/json;q=0.5, text/html"
TIE = "text/html, application/json"


@pytest.mark.requirement(
    "MSG-02",
    clauses=[
        "MSG-01.2",
        "MSG-02.1",
        "MSG-02.2",
        "MSG-02.3",
        "MSG-02.15",
        "MSG-02.16",
        "MSG-02.17",
        "MSG-02.18",
        "MSG-02.19",
        "MSG-02.20",
        "MSG-02.21",
    ],
)
def test_browser_facing_errors_follow_the_accept_q_values(
    scenario: Scenario, target: Target, raw: httpx.Client
) -> None:
    unknown = str(scenario.item["item_code"])[:-3] + "999"
    urls = [
        target.sso_url,  # no ticket
        target.base_url + "/yzw/v1/session",  # no session
        f"{target.base_url}/yzw/v1/items/{unknown}",
        f"{target.base_url}/yzw/v1/items/{scenario.item['item_code']}/apply",  # no session
    ]
    for url in urls:
        answer = raw.get(url, headers={"Accept": PREFERS_JSON})
        media(answer, "application/json", fix=f"answer JSON when Accept ({PREFERS_JSON}) gives JSON the higher q")
        error_body(answer)
        page = raw.get(url, headers={"Accept": PREFERS_HTML})
        media(page, "text/html", fix=f"answer an HTML page when Accept ({PREFERS_HTML}) gives text/html the higher q")
        if page.status_code != answer.status_code:
            raise Violation(
                "the HTML error page does not keep the error's status",
                f"{answer.status_code}, the status of the same error answered as JSON",
                page.status_code,
                "serve the HTML page with the error's status (401, 400, 404 …); only the body changes",
                f"{where_of(page)} with Accept {PREFERS_HTML!r}",
            )
        tie = raw.get(url, headers={"Accept": TIE})
        media(tie, "application/json", fix=f"answer JSON when Accept ({TIE}) gives both the same q (a tie is JSON)")
        _wildcards_weighed(raw, url, answer.status_code)


# review round 2, a10: the ranges `*/*` and `text/*` give their q to the types they cover (RFC 9110: the most
# specific range naming a type gives its q); no Accept is `*/*`, a tie
JSON_BY_WILDCARD = (None, "*/*", "text/html;q=0.5, */*")
HTML_BY_WILDCARD = "text/*"


def _wildcards_weighed(raw: httpx.Client, url: str, status: int) -> None:
    """MSG-02: no Accept and `*/*` tie (JSON); `text/html;q=0.5, */*` gives JSON q=1 through `*/*` (JSON);
    `text/*` gives text/html q=1 by RFC 9110 (a page; JSON is taken too), with the error's status either way."""
    for accept in JSON_BY_WILDCARD:
        request = raw.build_request("GET", url)
        if accept is None:
            del request.headers["Accept"]
        else:
            request.headers["Accept"] = accept
        answer = raw.send(request)
        shown = "no Accept header" if accept is None else f"Accept ({accept})"
        media(
            answer,
            "application/json",
            fix=f"answer JSON to {shown}: a wildcard range gives its q to every type it covers (RFC 9110), "
            "so JSON has at least text/html's q (a tie is JSON); no Accept is */*",
        )
        error_body(answer)
    page = raw.get(url, headers={"Accept": HTML_BY_WILDCARD})  # HTML by RFC 9110's ranges; the norm names no
    # ranges, so a reader of the listed types only (text/html unlisted, a tie: JSON) answers JSON: both are taken
    label = page.headers.get("content-type", "").split(";")[0].strip()
    if label not in ("text/html", "application/json"):
        media(page, "text/html", fix=f"answer Accept ({HTML_BY_WILDCARD}) with an HTML page (or JSON, never else)")
    if page.status_code != status:
        raise Violation(
            "the error answered to another Accept does not keep the error's status",
            f"{status}, the status of the same error answered as JSON",
            page.status_code,
            "serve the HTML page with the error's status (401, 400, 404 …); only the body changes",
            f"{where_of(page)} with Accept {HTML_BY_WILDCARD!r}",
        )


@pytest.mark.requirement("MSG-02", clauses=["MSG-02.18", "MSG-02.19", "MSG-02.20"])
def test_the_apply_entrys_refusals_of_a_session_follow_the_accept_q_values(
    scenario: Scenario, target: Target, platform: Nodes, raw: httpx.Client
) -> None:
    """A signed-in person at the apply entry: an unknown item (404 ITEM_UNKNOWN) and, for an item above level 1, a
    session one level short (403 AUTH_LEVEL_INSUFFICIENT) are answered as pages with their status when Accept
    prefers text/html, as JSON when it prefers JSON."""
    scenario.prefer(AUTH_ABOVE_ONE)
    code, needed = str(scenario.item["item_code"]), int(scenario.item["required_auth_level"])
    fake = scenario.factory.fake
    applicant = fake.person()
    user = {
        "user_id": f"U{fake.numerify('############')}",
        "user_type": "person",
        "name": applicant["name"],
        "auth_level": max(needed - 1, 1),
        "id_type": "111",
        "id_number": applicant["id_number"],
    }
    sign_on(platform, raw, user)
    entries = {f"{target.base_url}/yzw/v1/items/{code[:-3]}999/apply": (404, "ITEM_UNKNOWN")}
    if needed > 1:
        entries[f"{target.base_url}/yzw/v1/items/{code}/apply"] = (403, "AUTH_LEVEL_INSUFFICIENT")
    for url, (status, error) in entries.items():
        answered(
            raw.get(url, headers={"Accept": PREFERS_JSON}),
            status,
            error,
            fix="answer the apply entry's refusal of a signed-in person with its status and code (SSO-05)",
        )
        page = raw.get(url, headers={"Accept": PREFERS_HTML})
        media(
            page,
            "text/html",
            fix=f"answer the apply entry's {status} {error} with an HTML page when Accept ({PREFERS_HTML}) "
            "prefers text/html, as its 401: every error of a browser-facing endpoint, not only the login page",
        )
        if page.status_code != status:
            raise Violation(
                "the HTML error page does not keep the error's status",
                f"{status} ({error}), the status of the same error answered as JSON",
                page.status_code,
                "serve the HTML page with the error's status (403, 404 …); only the body changes",
                f"{where_of(page)} with Accept {PREFERS_HTML!r}",
            )


@pytest.mark.requirement("MSG-02", clauses=["MSG-02.8"])
def test_other_endpoints_answer_json_errors_to_a_browser(target: Target, raw: httpx.Client) -> None:
    """Only the four browser-facing endpoints answer HTML: an API error stays JSON whatever Accept prefers."""
    for method, path in (("GET", "/yzw/v1/no-such-route"), ("POST", APPLICATIONS)):
        headers = {"Accept": "text/html", "Content-Type": "application/json"}
        answer = raw.request(
            method, target.base_url + path, content=b"{}" if method == "POST" else None, headers=headers
        )
        if answer.headers.get("content-type", "").split(";")[0].strip() == "text/html":  # the label is MSG-01's
            raise Violation(
                "an endpoint that is not browser-facing answers an HTML page",
                "the JSON error body (MSG-02), whatever Accept prefers",
                f"{answer.status_code} text/html {answer.text[:120]!r}",
                "answer the JSON error body on every endpoint that is not browser-facing",
                f"{where_of(answer)} with Accept 'text/html'",
            )
        error_body(answer)


@pytest.mark.requirement("MSG-01", clauses=["MSG-01.1", "MSG-01.2"])
def test_json_answers_are_labelled_application_json(
    scenario: Scenario, target: Target, sut: SignedClient, raw: httpx.Client
) -> None:
    """The system takes a UTF-8 JSON body labelled application/json (with or without its charset parameter) and
    labels its own JSON answers application/json: the 202, the status query, a schema error and a refused
    signature (an answer that is no JSON error body at all is MSG-02's)."""
    application = scenario.application()
    labelled = {"Content-Type": "application/json; charset=utf-8"}
    body = json.dumps(application, ensure_ascii=False).encode()
    taken = sut.request("POST", target.base_url + APPLICATIONS, content=body, headers=labelled)
    answered(taken, TAKEN, fix="take a UTF-8 JSON body labelled application/json; charset=utf-8 (MSG-01)")
    broken = {**scenario.application(), "materials": "not a list"}
    answers = {
        "the intake's 202": taken,
        "the status query": sut.request("GET", f"{target.base_url}{APPLICATIONS}/{application['application_no']}"),
        "a schema error": scenario.submit(broken),
        "a refused signature": raw.get(f"{target.base_url}{APPLICATIONS}/{application['application_no']}"),
    }
    for what, answer in answers.items():
        _label_is_json(answer, what, fix="label every JSON answer application/json, errors included")


@pytest.mark.requirement("MSG-03", clauses=["MSG-03.2", "MSG-03.3", "MSG-03.4", "MSG-03.6", "MSG-03.7", "MSG-03.10"])
def test_unknown_members_are_ignored_at_every_level(
    scenario: Scenario, driver: Driver, target: Target, sut: SignedClient
) -> None:
    """Unknown members are ignored in every request kind (application, catalogue notification, supplements,
    supervision notice, logout); a required member missing or mistyped in any of them is 400 SCHEMA_INVALID."""
    scenario.prefer(FILE_MATERIAL)  # supplements are judged on an application waiting for a file
    application = scenario.application()
    application["x_future_member"] = {"any": 1}
    application["applicant"]["x_nickname"] = "小李"
    answered(scenario.submit(application), TAKEN, fix="ignore members the norm does not define, at every level")
    notice = {"item_code": scenario.item["item_code"], "version": scenario.item["version"], "change": "updated"}
    answered(
        sut.request("POST", target.base_url + "/yzw/v1/catalog/notifications", json={**notice, "x_reason": "新版"}),
        200,
        fix="ignore unknown members in a catalogue change notice too (every request kind)",
    )
    _refused_for_schema(
        sut,
        target.base_url + "/yzw/v1/catalog/notifications",
        {"a catalogue change notice without change": {k: v for k, v in notice.items() if k != "change"}},
        {'a catalogue change notice with version "2"': {**notice, "version": str(notice["version"])}},
    )
    _notice_and_logout_judged_by_schema(scenario, sut, target)
    files = [m for m in application["materials"] if m["kind"] == "file"]
    if not files:
        return
    waiting = scenario.submitted(omit=(files[0]["material_code"],))
    number = waiting["application_no"]
    driver.act("accept", number)
    scenario.pushed(number, "BZ")
    file_less = {k: v for k, v in files[0].items() if k != "file"}
    _refused_for_schema(
        sut,
        f"{target.base_url}{APPLICATIONS}/{number}/supplements",
        {"supplements without materials": {}, "supplements whose materials is no list": {"materials": "x"}},
        {
            "supplements with a material of empty name": {"materials": [{**files[0], "name": ""}]},
            "supplements with a file material without file": {"materials": [file_less]},
        },
    )
    more = {"materials": [{**files[0], "x_scan_dpi": 300}], "x_note": "补交"}
    answered(
        sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json=more),
        200,
        fix="ignore unknown members in supplements too, at every level (every request kind)",
    )


def _refused_for_schema(sut: SignedClient, url: str, *cases: dict[str, Any]) -> None:
    """Each body (what it is: the body) POSTed signed as the platform is refused 400 SCHEMA_INVALID (MSG-03)."""
    for what, body in (pair for case in cases for pair in case.items()):
        answered(
            sut.request("POST", url, json=body),
            400,
            "SCHEMA_INVALID",
            fix=f"validate every request kind against its schema: refuse {what} with 400 SCHEMA_INVALID",
        )


def _notice_and_logout_judged_by_schema(scenario: Scenario, sut: SignedClient, target: Target) -> None:
    """MSG-03 on a supervision notice and a logout: a required member missing or mistyped is 400, an unknown one
    is ignored (the notice names a case of the system's, so it is answered 200 with its FK)."""
    logout = target.base_url + "/yzw/v1/sso/logout"
    _refused_for_schema(sut, logout, {"a logout without user_id": {}})
    answered(
        sut.request("POST", logout, json={"user_id": f"U-{uuid.uuid4().hex[:12]}", "x_session_index": "1"}),
        200,
        fix="ignore unknown members in a logout call too (every request kind)",
    )
    _, _, case_no = scenario.case()
    notice, url = scenario.factory.notice(case_no), target.base_url + "/yzw/v1/supervision/notices"
    _refused_for_schema(
        sut,
        url,
        {"a supervision notice without case_no": {k: v for k, v in notice.items() if k != "case_no"}},
    )
    answered(  # a string where a string goes: outside SUP-02's list, so 400 (schema) or 422 (a bad value) alike
        sut.request("POST", url, json={**notice, "card": "orange"}),
        (400, 422),
        fix='refuse a supervision notice of card "orange" (SUP-02: yellow or red) with 400 or 422',
    )
    answered(
        sut.request("POST", url, json={**notice, "x_tier": "市"}),
        200,
        fix="ignore unknown members in a supervision notice too (every request kind)",
    )


@pytest.mark.requirement("MSG-03", clauses=["MSG-03.9", "MSG-03.16"])
def test_empty_lists_and_empty_texts_other_than_names_are_taken(scenario: Scenario) -> None:
    application = scenario.application()
    application["materials"] = []
    answered(
        scenario.submit(application),
        TAKEN,
        fix="take an empty list where a list is required (materials: []); missing materials are ACC-05's BZ",
    )
    application = scenario.application()
    application["applicant"] |= {"phone": "", "address": ""}
    application["delivery"] = {"method": "pickup"}
    application["form"] = {"备注": ""}
    answered(
        scenario.submit(application),
        TAKEN,
        fix="take empty texts other than names (phone, address, form values): only name fields must be non-empty",
    )
    application = scenario.application(applicant="legal")
    application["applicant"]["contact"]["phone"] = ""
    answered(
        scenario.submit(application),
        TAKEN,
        fix="take a legal applicant whose contact's phone is empty: only name fields must be non-empty",
    )


def _without(member: str, material: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in material.items() if k != member}


# defect: (the applicant's type, how the application is broken); each is 400 SCHEMA_INVALID (MSG-03)
SCHEMA_DEFECTS: dict[str, tuple[str, Any]] = {
    "empty-applicant-name": ("person", lambda a, f: a["applicant"].update(name="")),
    "empty-legal-rep-name": ("legal", lambda a, f: a["applicant"]["legal_rep"].update(name="")),
    "empty-contact-name": ("legal", lambda a, f: a["applicant"]["contact"].update(name="")),
    "empty-material-name": ("person", lambda a, f: a["materials"].append({**f.material(), "name": ""})),
    "empty-file-name": ("person", lambda a, f: a["materials"].append(m := f.material()) or m["file"].update(name="")),
    "file-material-without-file": ("person", lambda a, f: a["materials"].append(_without("file", f.material()))),
    "license-material-without-license-id": (
        "person",
        lambda a, f: a["materials"].append(_without("license_id", f.material("license"))),
    ),
    "numeric-applicant-kind": ("legal", lambda a, f: a["applicant"].update(kind=2)),
    "numeric-id-type": ("person", lambda a, f: a["applicant"].update(id_type=111)),
    "numeric-division-code": ("person", lambda a, f: a.update(division_code=int(a["division_code"]))),
    "numeric-phone": ("person", lambda a, f: a["applicant"].update(phone=13800138000)),
}


@pytest.mark.requirement(
    "MSG-03", clauses=["MSG-03.7", "MSG-03.10", "MSG-03.17", "MSG-03.18", "MSG-03.19", "MSG-03.20"]
)
@pytest.mark.parametrize("defect", list(SCHEMA_DEFECTS))
def test_empty_names_incomplete_materials_and_numeric_codes_are_schema_errors(scenario: Scenario, defect: str) -> None:
    """An empty name received, a file material without file, a license material without license_id, a code
    value sent as a JSON number, a text member sent as a number (phone): 400 SCHEMA_INVALID (codes are strings:
    "2", "111")."""
    kind, breaks = SCHEMA_DEFECTS[defect]
    application = scenario.application(applicant=kind)
    breaks(application, scenario.factory)
    answered(
        scenario.submit(application),
        400,
        "SCHEMA_INVALID",
        fix=f"refuse {defect.replace('-', ' ')} with 400 SCHEMA_INVALID: names are non-empty, a file material needs "
        "file, a license material license_id, and codes are strings",
    )


@pytest.mark.requirement("MSG-03", clauses=["MSG-03.22"])
def test_kind_is_read_on_legal_applicants_only(scenario: Scenario) -> None:
    """A person applicant carrying a kind (even one no legal applicant may have) is taken: kind is not read there."""
    application = scenario.application()
    application["applicant"]["kind"] = 2
    answered(
        scenario.submit(application),
        TAKEN,
        fix="read applicant.kind on legal applicants only; on a person it is an unknown member, ignored",
    )


@pytest.mark.requirement("MSG-03", clauses=["MSG-03.5"])
def test_undeclared_xml_elements_are_ignored(scenario: Scenario, target: Target, sut: SignedClient) -> None:
    _needs_xml(target)
    plain = sut.request(
        "POST", target.base_url + APPLICATIONS, content=to_xml("application", scenario.application()), headers=XML
    )
    if plain.status_code not in TAKEN:
        pytest.skip("not-applicable: an XML application without undeclared elements is not taken (MSG-01's finding)")
    application = scenario.application()
    application["x_future_member"] = "未来字段"
    application["applicant"]["x_nickname"] = "小李"
    answer = sut.request(
        "POST", target.base_url + APPLICATIONS, content=to_xml("application", application), headers=XML
    )
    answered(
        answer,
        TAKEN,
        fix="ignore XML elements the norm does not declare, at every level (do not validate against the XSD as sent)",
    )


CODE_MEMBERS = frozenset(  # members whose values are codes (MSG-03: strings, "111", "2", never 111 or 2)
    {"application_no", "case_no", "division_code", "dept_uscc", "item_code", "id_type", "kind", "uscc", "channel"}
    | {"material_code", "license_id", "license_type", "dept_seq", "base_code"}
)


def _codes_not_strings(value: Any, path: str = "") -> list[str]:
    """The code members under `value` (a JSON value) sent as something other than a string (null aside)."""
    if isinstance(value, list):
        return [bad for index, item in enumerate(value) for bad in _codes_not_strings(item, f"{path}/{index}")]
    if not isinstance(value, dict):
        return []
    found = [
        f"{path}/{name}: {json.dumps(member, ensure_ascii=False)}"
        for name, member in value.items()
        if name in CODE_MEMBERS and member is not None and not isinstance(member, str | dict | list)
    ]
    return found + [bad for name, member in value.items() for bad in _codes_not_strings(member, f"{path}/{name}")]


@pytest.mark.requirement("MSG-03", clauses=["MSG-03.21"])
def test_code_values_the_system_sends_are_strings(scenario: Scenario, driver: Driver) -> None:
    """2026.2: a legal applicant taken at the window, then accepted: every code value of its SB and SL (the
    application's id_type, kind, uscc, division_code, item_code, material codes …) is a JSON string."""
    _, number = scenario.window_apply(scenario.window_params(applicant="legal"))
    if number is None:
        pytest.skip("not-applicable: no window application of a legal applicant was taken (APP-06 judges it)")
    pushes = [scenario.came(number, "SB")]
    driver.act("accept", number)
    pushes += [p for p in scenario.steps(number, "SL") if p.event.get("step") == "SL"][:1]
    for push in pushes:
        numbers = _codes_not_strings(push.event)
        if numbers:
            raise Violation(
                "code values sent as JSON numbers",
                'every code value a JSON string ("111", "2", "330106")',
                numbers,
                "send code values as strings, as the system receives them: never convert them to numbers",
                f"{push.event.get('step')} of {number}",
            )


@pytest.mark.requirement("MSG-03", clauses=["APP-06.7", "MSG-03.11", "MSG-03.12"])
def test_names_the_system_sends_are_non_empty(scenario: Scenario, driver: Driver) -> None:
    """2026.2: handler, applicant and material names in the events a system pushes (SB, SL, then every other step)
    are non-empty."""
    _, number = scenario.window_apply(scenario.window_params())
    if number is None:
        pytest.skip("not-applicable: no window application was taken (APP-06 judges window_apply)")
    sb = scenario.pushed(number, "SB")
    attributed_to([sb], "MSG-03")
    if sb.status in (400, 422):  # refused for another rule (EVT-02 …): the system holds the SL back, nothing more
        return  # to judge (a 401 or a 5xx is retried: not the last word on the SB)
    driver.act("accept", number)
    attributed_to([scenario.pushed(number, "SL")], "MSG-03")
    attributed_to(distinct(_every_other_step(scenario, driver, number)), "MSG-03")


def _every_other_step(scenario: Scenario, driver: Driver, number: str) -> list[Any]:
    """The pushes of every step after SL (GQ, HF, the review steps complete fills in, BJ, SD) of the accepted
    window application `number`, of a window application refused (BYSL) and of an online one withdrawn (CH)."""
    driver.act("suspend", number, reason="等待现场核查", kind="现场核查", expected_days=3)
    driver.act("resume", number)
    driver.act("complete", number, result="approved")
    driver.act("deliver", number)
    pushes = scenario.steps(number, "GQ", "HF", "BJ", "SD")
    _, refused = scenario.window_apply(scenario.window_params())
    if refused is not None:
        driver.act("refuse", refused, reason="申请事项不属于本机关职权范围")
        pushes += scenario.steps(refused, "BYSL")
    withdrawn = scenario.submitted()["application_no"]
    driver.act("withdraw", withdrawn, reason="申请人撤回")
    return pushes + scenario.steps(withdrawn, "CH")


@pytest.mark.requirement("MSG-01", clauses=["MSG-01.3", "MSG-01.6", "MSG-01.9", "MSG-01.16"])
def test_events_the_system_pushes_are_labelled_json_or_in_the_xml_form(scenario: Scenario, target: Target) -> None:
    """The SL the system pushes to the exchange is a UTF-8 JSON body labelled application/json, or (a system
    registered for xml) the XML form labelled application/xml: root event (batch for a batch) in the namespace
    urn:yzw:norm:2026, valid against specs/xsd. The exchange's traffic log keeps the label; judged whether the
    exchange took the push or not."""
    _, sl = scenario.accepted()
    label = str(sl.entry.get("content_type") or "")
    media_type = label.split(";", maxsplit=1)[0].strip().lower()
    if media_type == "application/xml" and "xml" in target.formats:
        _xml_push_mapped(sl)
        return
    charset = re.search(r"charset=([^;\s]+)", label, re.IGNORECASE)
    if media_type != "application/json" or (charset and charset.group(1).strip('"').lower() not in ("utf-8", "utf8")):
        raise Violation(
            "the event the system pushed is not labelled as UTF-8 JSON",
            "Content-Type application/json (or application/xml for a system registered for xml, MSG-01)",
            label or "no Content-Type",
            "send every body to the platform as UTF-8 JSON labelled application/json (or the registered XML form)",
            f"the SL of {sl.event.get('application_no')} pushed to the exchange",
        )


def _xml_push_mapped(push: Any) -> None:
    """MSG-01: an event pushed in the XML form: root event or batch of urn:yzw:norm:2026, valid against the XSD."""
    where = f"the {push.event.get('step')} of {push.event.get('application_no')} pushed as XML"
    fix = "write the XML form as specs/xsd declares it: <event xmlns='urn:yzw:norm:2026'> (or <batch>)"
    text = str(push.entry.get("request") or "").encode()
    try:
        root = parse_xml(text)
    except Exception as broken:
        raise Violation(
            "the XML event is not well-formed XML", "an <event> document", str(broken), fix, where
        ) from None
    if root.tag not in (f"{{{XML_NS}}}event", f"{{{XML_NS}}}batch"):
        raise Violation("the XML event's root is not event or batch", f"{{{XML_NS}}}event", root.tag, fix, where)
    problems = xsd_errors(text)
    if problems:
        raise Violation(
            "the XML event is not valid against the normative XSD (specs/xsd)",
            "an event document valid against specs/xsd/yzw.xsd",
            "; ".join(f"{path}: {reason}" for path, reason in problems[:3]),
            fix,
            where,
        )


@pytest.mark.requirement("MSG-03", clauses=["MSG-03.13", "MSG-03.14", "MSG-03.15"])
def test_names_in_the_licenses_the_system_issues_are_non_empty(
    scenario: Scenario, platform: Nodes, driver: Driver
) -> None:
    """2026.2: the e-license the system asks the library to issue carries a non-empty holder.name, issuer.name and
    name (judged on what the system sent, whether the library took it or not)."""
    for license_ in licenses_sent_on_approval(scenario, platform, driver):
        names = {
            "holder.name": (license_.get("holder") or {}).get("name"),
            "issuer.name": (license_.get("issuer") or {}).get("name"),
            "name": license_.get("name"),
        }
        for member, name in names.items():
            if not isinstance(name, str) or not name.strip():
                raise Violation(
                    f"the e-license the system issued has an empty {member}",
                    f"a non-empty {member} (MSG-03: names are non-empty in everything a system sends)",
                    name,
                    f"send the {member} with the license: the holder's, the department's and the license's name",
                    f"{member} of the license {license_.get('license_id')} sent to the library",
                )


@pytest.mark.requirement("MSG-04", clauses=["MSG-04.4", "MSG-04.5", "MSG-04.12"])
def test_wrong_media_type_comes_before_the_signature(target: Target, raw: httpx.Client) -> None:
    answer = raw.post(target.base_url + APPLICATIONS, content=b"x", headers={"Content-Type": "text/plain"})
    answered(
        answer,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        fix="check the size first, then the media type (415 UNSUPPORTED_MEDIA_TYPE), then the signature (401)",
    )
    error_body(answer)


@pytest.mark.requirement("MSG-04", clauses=["MSG-04.1", "MSG-04.2", "MSG-04.3", "MSG-04.11"])
def test_an_oversized_body_is_refused_first(scenario: Scenario, target: Target, raw: httpx.Client) -> None:
    limit = limits().max_body_bytes
    answer = raw.post(
        target.base_url + APPLICATIONS, content=b" " * (limit + 1), headers={"Content-Type": "text/plain"}
    )
    answered(
        answer,
        413,
        "PAYLOAD_TOO_LARGE",
        fix=f"refuse bodies over {limit / 2**20:g} MiB with 413 PAYLOAD_TOO_LARGE (MSG-02 body) before any other check",
    )
    error_body(answer)
    text = json.dumps(scenario.application(), ensure_ascii=False).encode()
    at_limit = scenario.portal.request(
        "POST",
        target.base_url + APPLICATIONS,
        content=text + b" " * (limit - len(text)),
        headers={"Content-Type": "application/json"},
    )
    if at_limit.status_code == 401 and (body_of(at_limit) or {}).get("code") in SIGNATURE_CODES:
        pytest.skip("not-applicable: the padded body was refused for its signature (SIG-01 judges the hash)")
    answered(at_limit, TAKEN, fix=f"take a body of exactly {limit} bytes: only a body over the limit is 413")


MIB = 2**20
LENGTH_REQUIRED = 411


def _over_the_limit_in_chunks() -> Iterator[bytes]:
    """10 MiB + 1 byte sent chunked (no Content-Length): the size is known only once the body is read."""
    for _ in range(limits().max_body_bytes // MIB):
        yield b" " * MIB
    yield b" " * (limits().max_body_bytes % MIB + 1)


@pytest.mark.requirement("MSG-04", clauses=["MSG-04.1", "MSG-04.2", "MSG-04.4", "MSG-04.5", "MSG-04.6", "MSG-04.8"])
def test_every_endpoint_refuses_malformed_and_mistyped_bodies(
    scenario: Scenario, target: Target, raw: httpx.Client, sut: SignedClient, driver: Driver
) -> None:
    """MSG-04 beyond the intake: supplements (to an application waiting for them, so nothing else competes), a
    catalogue change notice, a supervision notice and a logout, each signed as the platform: a JSON body labelled
    text/plain is 415, unreadable JSON and an empty body are 400 MALFORMED_BODY; and a body over 10 MiB sent
    chunked, without a Content-Length, is 413 at the intake (or 411: a server may ask for the length first)."""
    answer = raw.post(
        target.base_url + APPLICATIONS,
        content=_over_the_limit_in_chunks(),
        headers={"Content-Type": "application/json"},  # no 415 to compete with the 413
    )
    if answer.status_code != LENGTH_REQUIRED:  # RFC 9110: a server may refuse a body without a length; it reads none
        answered(
            answer,
            413,
            "PAYLOAD_TOO_LARGE",
            fix="count the bytes as they are read, not only the Content-Length: a chunked body over "
            f"{limits().max_body_bytes} bytes is 413",
        )
    endpoints = {
        "a catalogue change notice": "/yzw/v1/catalog/notifications",
        "a supervision notice": "/yzw/v1/supervision/notices",
        "a logout": "/yzw/v1/sso/logout",
    }
    scenario.prefer(FILE_MATERIAL)
    files = [m for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    if files:
        waiting = scenario.submitted(omit=(files[0]["material_code"],))["application_no"]
        decision = driver.act("accept", waiting)
        if decision is None:  # a person at the desk: the BZ tells
            asked = any(p.event.get("step") == "BZ" for p in scenario.steps(waiting, "BZ"))
        else:
            asked = decision.status_code == 200 and decision.json().get("step") == "BZ"
        if asked:  # else ACC-05 judges the missing file
            endpoints["supplements"] = f"{APPLICATIONS}/{waiting}/supplements"
    for what, path in endpoints.items():
        url = target.base_url + path
        mistyped = sut.request("POST", url, content=b'{"user_id": "U-1"}', headers={"Content-Type": "text/plain"})
        answered(
            mistyped,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            fix=f"refuse {what} labelled text/plain with 415 UNSUPPORTED_MEDIA_TYPE, as the intake does",
        )
        for body, kind in ((b"{", "unreadable JSON"), (b"", "an empty body")):
            answered(
                sut.request("POST", url, content=body, headers={"Content-Type": "application/json"}),
                400,
                "MALFORMED_BODY",
                fix=f"answer {what} with {kind} 400 MALFORMED_BODY, as the intake does (every endpoint)",
            )


def _signed_body(sut: SignedClient, target: Target, body: bytes, media_type: str) -> httpx.Response:
    return sut.request("POST", target.base_url + APPLICATIONS, content=body, headers={"Content-Type": media_type})


@pytest.mark.requirement(
    "MSG-04", clauses=["MSG-04.6", "MSG-04.7", "MSG-04.8", "MSG-04.9", "MSG-04.10", "MSG-04.13", "SIG-02.1"]
)
def test_malformed_json_is_refused_after_the_signature(
    scenario: Scenario, target: Target, raw: httpx.Client, sut: SignedClient
) -> None:
    unsigned = raw.post(target.base_url + APPLICATIONS, content=b"{", headers={"Content-Type": "application/json"})
    answered(unsigned, 401, fix="check the signature (401) before parsing the body")
    application: dict[str, Any] = scenario.application()
    application["applicant"]["address"] = "浙江省杭州市西湖区文三路"
    nan = json.dumps({**application, "item_version": float("nan")}, ensure_ascii=False).encode()
    malformed = {
        "unreadable JSON": (b"{", "application/json"),
        "an empty body": (b"", "application/json"),
        "NaN in JSON": (nan, "application/json"),
        "a body encoded in GBK, not UTF-8": (
            json.dumps(application, ensure_ascii=False).encode("gbk"),
            "application/json",
        ),
    }
    if "xml" in target.formats:
        malformed["unclosed XML"] = (b'<application xmlns="urn:yzw:norm:2026"><applicant>', "application/xml")
    for what, (body, media_type) in malformed.items():
        answered(
            _signed_body(sut, target, body, media_type),
            400,
            "MALFORMED_BODY",
            fix=f"answer {what} with 400 MALFORMED_BODY, before any schema check",
        )


@pytest.mark.requirement("APP-04", clauses=["APP-04.6", "APP-04.8", "MSG-04.14", "MSG-04.15"])
def test_a_known_number_is_judged_by_its_schema_then_its_body_then_its_codes(scenario: Scenario) -> None:
    """MSG-04's order after the parse: 400 SCHEMA_INVALID, then 409, then 422, for a number already received.
    The answers are the intake's, so a finding carries APP-04 (key words; APP-04: "checked before the 422 checks")."""
    application = scenario.submitted()
    broken = {k: v for k, v in application.items() if k != "delivery"}
    answered(
        scenario.submit(broken),
        400,
        "SCHEMA_INVALID",
        fix="check the schema (400 SCHEMA_INVALID) before the idempotency lookup (409)",
    )
    bad_id = invalid_value(scenario.factory.fake, "id_number", "check").value
    changed = {**application, "applicant": {**application["applicant"], "id_number": bad_id}}
    answered(
        scenario.submit(changed),
        409,
        "APPLICATION_CONFLICT",
        fix="look the application_no up (409 for another body) before the code checks (422)",
    )


PROBE_DTD = "/_probe/{}.dtd"  # a path no node serves: a request for it is a system fetching an external DTD


def _with_doctype(document: dict[str, Any], kind: str, doctype: str) -> bytes:
    """The XML form of `document` with `doctype` after the declaration and its address as the entity &where;."""
    text = to_xml(kind, document).decode().replace("ADDRESS", "&where;")
    return text.replace("?>", "?>" + doctype, 1).encode()


@pytest.mark.requirement("MSG-05", clauses=["MSG-05.1", "MSG-05.2", "MSG-05.3", "MSG-05.4", "MSG-05.5"])
def test_xml_with_a_doctype_is_refused_resolving_nothing(
    scenario: Scenario, target: Target, sut: SignedClient, platform: Nodes
) -> None:
    _needs_xml(target)
    application = scenario.application()
    application["applicant"]["address"] = "ADDRESS"
    plain = to_xml("application", {**application, "applicant": {**application["applicant"], "address": "西湖区"}})
    probe = PROBE_DTD.format(application["application_no"])  # this test's own: other runs' fetches are not ours
    doctypes = {
        "a DOCTYPE with an entity declaration": (
            _with_doctype(application, "application", '<!DOCTYPE application [<!ENTITY where "西湖区文三路">]>')
        ),
        "a bare DOCTYPE (no entity)": plain.decode().replace("?>", "?><!DOCTYPE application>", 1).encode(),
        "an external DTD (SYSTEM)": plain.decode()
        .replace("?>", f'?><!DOCTYPE application SYSTEM "{target.exchange_url}{probe}">', 1)
        .encode(),
    }
    for what, body in doctypes.items():
        answer = sut.request("POST", target.base_url + APPLICATIONS, content=body, headers=XML)
        answered(
            answer,
            400,
            "XML_FORBIDDEN_CONSTRUCT",
            fix=f"refuse XML with {what} before parsing (defusedxml with forbid_dtd=True), resolving nothing",
        )
    fetched = [e for node in platform.urls for e in platform.traffic(node, probe, own=False)]
    if fetched:
        raise Violation(
            "the system fetched the external DTD of a refused XML body",
            "no request for the DTD: nothing is resolved",
            f"{len(fetched)} request(s) for {probe}",
            "refuse a DOCTYPE before any parsing that resolves it (defusedxml, forbid_dtd and forbid_external)",
            f"the traffic of the mock nodes at {probe}",
        )


@pytest.mark.requirement("MSG-05", clauses=["MSG-05.6"])
def test_xml_supplements_with_a_doctype_are_refused(
    scenario: Scenario, driver: Driver, target: Target, sut: SignedClient
) -> None:
    _needs_xml(target)
    scenario.use(FILE_MATERIAL)
    application = scenario.application()
    files = [m for m in application["materials"] if m["kind"] == "file"]
    waiting = scenario.submitted(omit=(files[0]["material_code"],))
    number = waiting["application_no"]
    driver.act("accept", number)
    scenario.pushed(number, "BZ")
    more = {"materials": [{**files[0], "name": "ADDRESS"}]}
    body = _with_doctype(more, "supplements", '<!DOCTYPE supplements [<!ENTITY where "补正材料">]>')
    answer = sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", content=body, headers=XML)
    answered(
        answer,
        400,
        "XML_FORBIDDEN_CONSTRUCT",
        fix="parse XML supplements with the same hardened parser as applications (no DOCTYPE, no entities)",
    )


@pytest.mark.requirement("MSG-02", clauses=["MSG-02.1", "MSG-02.2", "MSG-02.3", "MSG-02.5"])
def test_generated_requests_get_the_norms_error_bodies(
    target: Target, sut: SignedClient, fuzz_memo: dict[str, Any]
) -> None:
    """The run's fuzz (ROB-01's: yzw.conformance.fuzz) on every endpoint of department.yaml: each error it provokes
    has the error body (a wrong shape of an error is MSG-02's, which states every error of every endpoint)."""
    problems = probed_once(fuzz_memo, target, sut).get(ERROR_SHAPE, [])
    if problems:
        raise Violation(
            f"{len(problems)} generated request(s) got an error outside the norm's error shape",
            '{"code": "<UPPER_SNAKE>", "message": "...", "details": [...]} for every error of every endpoint',
            "; ".join(problems[:5]),
            "answer every error, of every endpoint, with the MSG-02 body labelled application/json",
            "schemathesis over specs/openapi/department.yaml",
        )


def _labelled_json(answer: httpx.Response | None, what: str) -> None:
    """MSG-01: a 2xx JSON answer is labelled application/json (its body is its chapter's to judge)."""
    if answer is None or not 200 <= answer.status_code < 300 or not answer.content:
        return
    _label_is_json(
        answer,
        what,
        fix="label every JSON answer application/json: the health, session and guide answers, the supplements' "
        "and the driver's answers too (not a framework's own type such as an actuator's)",
    )


def _label_is_json(answer: httpx.Response, what: str, *, fix: str) -> None:
    received = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    if received != "application/json":
        raise Violation(
            f"a JSON answer ({what}) is not labelled application/json",
            "Content-Type application/json (MSG-01)",
            f"{answer.status_code} {received or 'no media type'} {answer.text[:120]!r}",
            fix,
            where_of(answer),
        )


@pytest.mark.requirement("MSG-01", clauses=["MSG-01.2"])
def test_the_other_json_answers_are_labelled_application_json(
    scenario: Scenario, platform: Nodes, driver: Driver, target: Target, sut: SignedClient, raw: httpx.Client
) -> None:
    """The health answer, the item guide, a driver action's answer, the supplements' 200 and the session: each JSON
    answer is labelled application/json (asked for with Accept application/json)."""
    wanted = {"Accept": "application/json"}
    _labelled_json(raw.get(target.base_url + "/yzw/v1/health", headers=wanted), "the health answer")
    scenario.use(FILE_MATERIAL)
    guide = raw.get(f"{target.base_url}/yzw/v1/items/{scenario.item['item_code']}", headers=wanted)
    _labelled_json(guide, "the item guide")
    files = [m for m in scenario.application()["materials"] if m["kind"] == "file"]
    if files:
        number = scenario.submitted(omit=(files[0]["material_code"],))["application_no"]
        accepted = driver.act("accept", number)
        _labelled_json(accepted if target.driver_url else None, "the driver's answer to accept")
        scenario.pushed(number, "BZ")
        supplied = sut.request(
            "POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json={"materials": files[:1]}
        )
        _labelled_json(supplied, "the supplements' 200")
    user = {
        "user_id": f"U{scenario.factory.fake.numerify('############')}",
        "user_type": "person",
        "auth_level": 3,
        "id_type": "111",
    }
    applicant = scenario.factory.fake.person()
    sign_on(platform, raw, {**user, "name": applicant["name"], "id_number": applicant["id_number"]})
    _labelled_json(raw.get(target.base_url + "/yzw/v1/session", headers=wanted), "the session")
