"""Chapter 9 (e-licenses): issued before BJ, and non-valid licenses treated as missing (LIC-01, LIC-02)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from yzw.conformance.checks.answers import answered, body_of, equal
from yzw.conformance.checks.events import first_step
from yzw.conformance.driver import Driver
from yzw.conformance.nodes import Nodes, request_body
from yzw.conformance.scenario import Scenario
from yzw.conformance.violations import Violation
from yzw.run.items import E_LICENSE, LICENSE_MATERIAL


@pytest.mark.requirement(
    "LIC-01",
    clauses=[
        "CODE-07.1",
        "CODE-07.2",
        "CODE-07.4",
        "CODE-07.6",
        "CODE-07.7",
        "CODE-07.9",
        "CODE-07.10",
        "CODE-07.11",
        "CODE-08.5",
        "CODE-08.6",
        "LIC-01.1",
        "LIC-01.2",
        "LIC-01.3",
        "LIC-01.4",
        "LIC-01.5",
        "LIC-01.6",
        "LIC-01.7",
        "LIC-01.8",
        "LIC-01.9",
        "LIC-01.11",
        "LIC-01.10",
        "LIC-01.12",
        "LIC-01.13",
        "LIC-01.14",
        "LIC-01.15",
        "MSG-03.13",
        "MSG-03.14",
        "MSG-03.15",
        "SIG-01.3",
        "SIG-03.3",
        "SIG-05.6",
    ],
)
def test_the_e_license_is_issued_to_the_library_before_bj(scenario: Scenario, platform: Nodes, driver: Driver) -> None:
    """A person's case completed while the library refuses every license (409 LICENSE_REFUSED naming the library's
    code, no BJ), then again: the license issued before BJ, with the item's license_type and license_name, the
    applicant as holder and the case's case_no; a legal applicant's case: the legal person as holder."""
    scenario.use(E_LICENSE)
    application, _, case_no = scenario.case()
    number = application["application_no"]
    platform.flag("refuse_license", REFUSALS)
    try:
        refused = driver.act("complete", number, result="approved")
    finally:
        platform.flag("refuse_license", 0)
    _refused_without_bj(platform, refused, number)
    driver.act("complete", number, result="approved")
    license_ = _issued_before_bj(scenario, platform, number)
    _license_names_the_case(scenario, license_, application["applicant"], case_no)
    legal = scenario.submitted(applicant="legal")
    legal_no = legal["application_no"]
    driver.act("accept", legal_no)
    sl = scenario.pushed(legal_no, "SL")
    driver.act("complete", legal_no, result="approved")
    _license_names_the_case(
        scenario, _issued_before_bj(scenario, platform, legal_no), legal["applicant"], sl.event.get("case_no")
    )


REFUSALS = 20  # the library refuses this many issues: a system that tries again is still refused


def _refused_without_bj(platform: Nodes, refused: httpx.Response | None, number: str) -> None:
    """§11, LIC-01: a refused license: 409 LICENSE_REFUSED with the library's code in details, and no BJ."""
    if refused is not None:
        answered(refused, 409, "LICENSE_REFUSED", fix="answer complete 409 LICENSE_REFUSED when the library refuses")
        details = json.dumps((body_of(refused) or {}).get("details"), ensure_ascii=False)
        content = [code for code in CONTENT_REFUSALS if code in details]
        if LIBRARY_CODE not in details and content:
            raise Violation(
                "the library refused the e-license the system sent for its content",
                "an e-license as LIC-01 gives it: license_type, name, holder {type person|legal, name, "
                "id_number|uscc}, issuer {name, uscc}, issued_at (RFC 3339), valid_from (a date), case_no, "
                "file {format ofd|pdf, size, sm3}",
                details,
                "send the e-license with the members, types and codes LIC-01 gives",
                f"the driver's complete of {number}",
            )
        if LIBRARY_CODE not in details:
            raise Violation(
                "the 409 LICENSE_REFUSED does not name the library's code",
                f"details naming the library's error code {LIBRARY_CODE}",
                details,
                "put the code the license library answered in the error's details",
                f"the driver's complete of {number}",
            )
    early = [p for p in platform.pushes(number) if p.event.get("step") == "BJ"]
    if early:
        platform.observe(early)
        raise Violation(
            "BJ was pushed although the library refused the e-license",
            "no BJ until the library has issued the license",
            early[0].event.get("payload"),
            "push BJ only after the library issued the e-license; on a refusal answer 409 and record nothing",
            f"BJ of {number}",
        )


LIBRARY_CODE = "LICENSE_CONFLICT"  # what the mock library answers to a license it refuses
CONTENT_REFUSALS = ("SCHEMA_INVALID", "CODE_INVALID")  # the library refuses the license sent, not the issue


def _issued_before_bj(scenario: Scenario, platform: Nodes, number: str) -> dict[str, Any]:
    """The license BJ lists, as the library issued it (2xx) no later than the BJ push."""
    bj = scenario.came(number, "BJ")  # a BJ not pushed (or held behind a refused step) is EVT-01's
    licenses = (bj.event.get("payload") or {}).get("licenses", [])
    listed = [str(x.get("license_id") if isinstance(x, dict) else x) for x in licenses]
    entries = platform.issued_licenses()
    for entry in entries:
        platform.evidence.observed(entry, platform.target.province_url)
    issued = {
        str(body.get("license_id")): (entry, body)
        for entry in entries
        if entry.get("status") in (200, 201) and (body := request_body(entry))
    }
    if not listed or not set(listed) <= set(issued):
        raise Violation(
            "BJ lists an e-license the library never issued",
            "each license in BJ issued to the library (POST /license/v1/licenses, 2xx) before BJ",
            f"BJ lists {listed}; the library issued {sorted(issued)}",
            "issue the e-license to the library first, then push BJ listing it; no BJ when the library refuses",
            f"BJ of {number}",
        )
    entry, license_ = issued[listed[0]]
    if str(entry.get("at")) > str(bj.entry.get("at")):
        raise Violation(
            "the e-license was issued after the BJ that lists it",
            "the library's 2xx for the license no later than the BJ push (同步签发)",
            f"license issued at {entry.get('at')}, BJ pushed at {bj.entry.get('at')}",
            "issue the e-license first and push BJ once the library answered 2xx",
            f"BJ of {number}",
        )
    return license_


def _license_names_the_case(
    scenario: Scenario, license_: dict[str, Any], applicant: dict[str, Any], case_no: object
) -> None:
    """LIC-01: the item's license_type and license_name, the applicant as holder, the department as issuer (its
    uscc; the name is free), the case's case_no."""
    code = "id_number" if applicant["type"] == "person" else "uscc"
    wanted = {
        "license_type": scenario.item["license_type"],
        "name": scenario.item.get("license_name"),
        "holder": {"type": applicant["type"], "name": applicant["name"], code: applicant[code]},
        "issuer": {"uscc": scenario.target.registration.dept_uscc},
        "case_no": case_no,
    }
    for member, value in wanted.items():
        if value is None:
            continue  # an item without license_name: the catalogue names nothing to compare with
        received = license_.get(member)
        if isinstance(value, dict) and isinstance(received, dict):
            received = {k: received.get(k) for k in value}  # more members are allowed
        equal(
            f"the e-license's {member}",
            received,
            value,
            fix={
                "license_type": "issue the license_type of the item's catalogue entry",
                "name": "name the license with the item's license_name",
                "holder": f"issue the license to the applicant: type {applicant['type']}, its name and {code}",
                "issuer": "name the issuing department (the system's registered dept_uscc) as issuer.uscc, as in the "
                "license_id's issuer part (CODE-07)",
                "case_no": "name the case the license results from (its case_no)",
            }[member],
            where=f"POST /license/v1/licenses {license_.get('license_id')}",
        )


LICENSE_STATES = ("revoked", "expired", "not_found", "holder_mismatch")  # LIC-02: every status but valid


@pytest.mark.requirement(
    "LIC-02",
    clauses=[
        "APP-05.1",
        "EVT-01.2",
        "EVT-02.18",
        "LIC-02.1",
        "LIC-02.4",
        "LIC-02.5",
        "LIC-02.6",
        "LIC-02.7",
        "LIC-02.8",
        "SIG-01.3",
        "SIG-05.5",
    ],
)
def test_a_revoked_license_is_listed_as_missing_with_its_status(scenario: Scenario) -> None:
    """A license material the library verifies revoked, expired, not_found or holder_mismatch: accept pushes BZ
    listing it with the status as the reason, and the driver answers {ok: true, step: BZ}."""
    for status in LICENSE_STATES:
        application, material, _, decision = scenario.accepted_with_license(status)
        number = application["application_no"]
        if decision is not None:
            answer = body_of(decision)
            equal(
                f"the driver's answer to accept with a license verified {status}",
                (decision.status_code, *((answer.get("ok"), answer.get("step")) if isinstance(answer, dict) else ())),
                (200, True, "BZ"),
                fix="treat a non-valid license as missing: accept pushes BZ and answers 200 {ok: true, step: BZ}",
                where=f"the driver's accept of {number}",
            )
        bz = scenario.came(number, "BZ")  # a BZ not pushed is ACC-01's
        listed = (bz.event.get("payload") or {}).get("missing", [])
        missing = {m.get("material_code"): m.get("reason") for m in listed if isinstance(m, dict)}  # else ACC-05's
        equal(
            f"the reason BZ gives for a license the library verifies {status}",
            missing.get(material["material_code"]),
            status,
            fix="list a non-valid license as missing with its verification status as the reason",
            where=f"BZ of {number}",
        )


@pytest.mark.requirement("LIC-02", clauses=["LIC-02.2"])
def test_a_valid_license_is_not_missing_however_often_it_is_presented(scenario: Scenario) -> None:
    """One person presents the same valid license on two applications: the library verifies it valid each time, so
    neither lists it missing and both are accepted (SL); a license is not used up by an application."""
    scenario.use(LICENSE_MATERIAL)
    first = scenario.application()
    second = scenario.application()
    second["applicant"] = first["applicant"]
    presented = {m["material_code"]: m for m in first["materials"] if m["kind"] == "license"}
    second["materials"] = [presented.get(m["material_code"], m) for m in second["materials"]]
    for application in (first, second):
        number = application["application_no"]
        answered(scenario.submit(application), (200, 202), fix="take the application; verify licenses before deciding")
        scenario.driver.act("accept", number)
        equal(
            "the first decision on an application whose licenses the library verifies valid",
            first_step(scenario.steps(number, "SL"), ("SL", "BZ", "BYSL")),
            "SL",
            fix="treat a license the library verifies valid as present, on every application that presents it",
            where=f"application {number}" + (" (the license's second application)" if application is second else ""),
        )
