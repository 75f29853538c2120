"""Chapter 3: common message rules — JSON and XML bodies, error bodies, unknown fields, order of checks (MSG-01…05)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from yzw.client import SignedClient
from yzw.codes.calendar import default_calendar
from yzw.conformance.checks.answers import answered, error_body, media, xml_error
from yzw.conformance.checks.events import attributed_to
from yzw.conformance.driver import Driver
from yzw.conformance.scenario import APPLICATIONS, TAKEN, Scenario
from yzw.run.target import Target
from yzw.spec.limits import limits
from yzw.spec.xml import to_xml

XML = {"Content-Type": "application/xml", "Accept": "application/xml"}


def _needs_xml(target: Target) -> None:
    if "xml" not in target.formats:
        pytest.skip("not-applicable: the system registered json only (formats in sut.yaml)")


@pytest.mark.requirement("MSG-01")
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


@pytest.mark.requirement("MSG-02")
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/yzw/v1/no-such-route", None), ("DELETE", "/yzw/v1/health", None), ("POST", APPLICATIONS, b"{")],
    ids=["unknown-route", "unknown-method", "unsigned-malformed"],
)
def test_errors_have_the_norms_shape_and_show_no_internals(
    target: Target, raw: httpx.Client, method: str, path: str, body: bytes | None
) -> None:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    answer = raw.request(method, target.base_url + path, content=body, headers=headers)
    answered(answer, (400, 401, 404, 405), fix="answer an unknown route 404, a wrong method 405, unsigned 401")
    error_body(answer)


@pytest.mark.requirement("MSG-02")
def test_a_schema_error_shows_no_internals(scenario: Scenario) -> None:
    broken = scenario.application()
    broken["materials"] = "not a list"
    answer = scenario.submit(broken)
    answered(answer, 400, "SCHEMA_INVALID", fix="refuse the schema violation with 400 SCHEMA_INVALID")
    error_body(answer)


@pytest.mark.requirement("MSG-02")
def test_an_error_from_the_systems_own_data_shows_no_file_path(scenario: Scenario, driver: Driver) -> None:
    """A due date in a year no calendar holds (ACC-04): the 422 names the year, not where the calendar lies."""
    beyond = dt.date(default_calendar().years[-1] + 1, 6, 1)
    answer = driver.act("accept", scenario.submitted()["application_no"], calendar_date=beyond.isoformat())
    if answer is not None and answer.status_code >= 400:  # a system holding that year accepts: nothing to judge
        error_body(answer)


# 2026.2: browser-facing endpoints render errors by the Accept q-values (the highest wins; a tie is JSON)
PREFERS_JSON = "text/html;q=0.9, application/json;q=1"
PREFERS_HTML = "application/json;q=0.5, text/html"


@pytest.mark.requirement("MSG-02")
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


@pytest.mark.requirement("MSG-03")
def test_unknown_members_are_ignored_at_every_level(scenario: Scenario) -> None:
    application = scenario.application()
    application["x_future_member"] = {"any": 1}
    application["applicant"]["x_nickname"] = "小李"
    answered(scenario.submit(application), TAKEN, fix="ignore members the norm does not define, at every level")


@pytest.mark.requirement("MSG-03")
def test_names_the_system_sends_are_non_empty(scenario: Scenario, driver: Driver) -> None:
    """2026.2: handler, applicant and material names in the events a system pushes (SB, then SL) are non-empty."""
    _, number = scenario.window_apply(scenario.window_params())
    if number is None:
        pytest.skip("not-applicable: no window application was taken (APP-06 judges window_apply)")
    sb = scenario.pushed(number, "SB")
    attributed_to([sb], "MSG-03")
    if not sb.accepted:  # refused for another rule (EVT-02 …): the system holds the SL back, nothing more to judge
        return
    driver.act("accept", number)
    attributed_to([scenario.pushed(number, "SL")], "MSG-03")


@pytest.mark.requirement("MSG-04")
def test_wrong_media_type_comes_before_the_signature(target: Target, raw: httpx.Client) -> None:
    answer = raw.post(target.base_url + APPLICATIONS, content=b"x", headers={"Content-Type": "text/plain"})
    answered(answer, 415, fix="check the size first, then the media type (415), then the signature (401)")


@pytest.mark.requirement("MSG-04")
def test_an_oversized_body_is_refused_first(target: Target, raw: httpx.Client) -> None:
    limit = limits().max_body_bytes
    answer = raw.post(
        target.base_url + APPLICATIONS, content=b" " * (limit + 1), headers={"Content-Type": "text/plain"}
    )
    answered(answer, 413, fix=f"refuse bodies over {limit / 2**20:g} MiB with 413 before any other check")


@pytest.mark.requirement("MSG-04")
def test_malformed_json_is_refused_after_the_signature(target: Target, raw: httpx.Client, sut: SignedClient) -> None:
    unsigned = raw.post(target.base_url + APPLICATIONS, content=b"{", headers={"Content-Type": "application/json"})
    answered(unsigned, 401, fix="check the signature (401) before parsing the body")
    signed = sut.request(
        "POST", target.base_url + APPLICATIONS, content=b"{", headers={"Content-Type": "application/json"}
    )
    answered(signed, 400, "MALFORMED_BODY", fix="answer unreadable JSON with 400 MALFORMED_BODY")


@pytest.mark.requirement("MSG-05")
def test_xml_with_a_doctype_is_refused_resolving_nothing(scenario: Scenario, target: Target, sut: SignedClient) -> None:
    _needs_xml(target)
    application = scenario.application()
    application["applicant"]["address"] = "ADDRESS"
    text = to_xml("application", application).decode().replace("ADDRESS", "&where;")
    text = text.replace("?>", '?><!DOCTYPE application [<!ENTITY where "西湖区文三路">]>', 1)
    answer = sut.request("POST", target.base_url + APPLICATIONS, content=text.encode(), headers=XML)
    answered(
        answer, 400, "XML_FORBIDDEN_CONSTRUCT", fix="refuse DOCTYPE and entity declarations before parsing (defusedxml)"
    )
