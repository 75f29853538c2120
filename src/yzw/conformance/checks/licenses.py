"""The e-licenses a system sends the library when it approves a case (LIC-01, CODE-07, CODE-08, MSG-03)."""

from __future__ import annotations

from typing import Any

from yzw.conformance.driver import Driver
from yzw.conformance.nodes import Nodes, request_body
from yzw.conformance.scenario import Scenario
from yzw.run.items import E_LICENSE


def licenses_sent_on_approval(scenario: Scenario, platform: Nodes, driver: Driver) -> list[dict[str, Any]]:
    """Approve a case of an item with an e-license; the licenses the system asked the library to issue (each
    call kept as evidence). When none was sent, the missing BJ is said first (`scenario.pushed`)."""
    scenario.use(E_LICENSE)
    application, _, _ = scenario.case()
    driver.act("complete", application["application_no"], result="approved")
    entries = platform.wait_for(platform.issued_licenses, bool)
    if not entries:
        scenario.pushed(application["application_no"], "BJ")  # nothing issued: say what did not happen
    for entry in entries:
        platform.evidence.observed(entry, platform.target.province_url)
    return [request_body(entry) for entry in entries]


def licenses_verified(platform: Nodes) -> set[tuple[Any, Any]]:
    """The (license_id, holder_id) pairs the system asked the library to verify (APP-05, LIC-02), each call
    kept as evidence."""
    calls = platform.traffic("province", "/license/v1/licenses/verify", "POST")
    for entry in calls:
        platform.evidence.observed(entry, platform.target.province_url)
    return {(sent.get("license_id"), sent.get("holder_id")) for sent in map(request_body, calls)}
