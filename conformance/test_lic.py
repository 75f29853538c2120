"""Chapter 9 (e-licenses): issued before BJ, and non-valid licenses treated as missing (LIC-01, LIC-02)."""

from __future__ import annotations

import json

import pytest

from yzw.conformance.checks.answers import equal
from yzw.conformance.driver import Driver
from yzw.conformance.nodes import Nodes
from yzw.conformance.scenario import Scenario
from yzw.conformance.violations import Violation


@pytest.mark.requirement("LIC-01")
def test_the_e_license_is_issued_to_the_library_before_bj(scenario: Scenario, platform: Nodes, driver: Driver) -> None:
    if "license_type" not in scenario.item:
        pytest.skip(f"not-applicable: item {scenario.item['item_code']} issues no e-license")
    application, _, _ = scenario.case()
    number = application["application_no"]
    driver.act("complete", number, result="approved")
    bj = scenario.pushed(number, "BJ")
    licenses = (bj.event.get("payload") or {}).get("licenses", [])
    listed = [str(x.get("license_id") if isinstance(x, dict) else x) for x in licenses]
    entries = platform.issued_licenses()
    for entry in entries:
        platform.evidence.observed(entry, platform.target.province_url)
    issued = {
        str(json.loads(e["request"]).get("license_id"))
        for e in entries
        if e.get("status") in (200, 201) and e.get("request", "").startswith("{")
    }
    if not listed or not set(listed) <= issued:
        raise Violation(
            "BJ lists an e-license the library never issued",
            "each license in BJ issued to the library (POST /license/v1/licenses, 2xx) before BJ",
            f"BJ lists {listed}; the library issued {sorted(issued)}",
            "issue the e-license to the library first, then push BJ listing it; no BJ when the library refuses",
            f"BJ of {number}",
        )


@pytest.mark.requirement("LIC-02")
def test_a_revoked_license_is_listed_as_missing_with_its_status(scenario: Scenario) -> None:
    application, material, _ = scenario.accepted_with_revoked_license()
    bz = scenario.pushed(application["application_no"], "BZ")
    missing = {m.get("material_code"): m.get("reason") for m in (bz.event.get("payload") or {}).get("missing", [])}
    equal(
        "the reason BZ gives for the revoked license",
        missing.get(material["material_code"]),
        "revoked",
        fix="list a non-valid license as missing with its verification status as the reason",
        where=f"BZ of {application['application_no']}",
    )
