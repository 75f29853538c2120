"""Chapter 9 (catalogue): items come from the province catalogue, guides follow it, change notices apply (CAT-01…03)."""

from __future__ import annotations

import httpx
import pytest

from yzw.conformance.checks.answers import answered, body_of, equal
from yzw.conformance.checks.traffic import etags_echoed
from yzw.conformance.nodes import Nodes
from yzw.conformance.scenario import TAKEN, Scenario
from yzw.conformance.violations import Violation
from yzw.run.target import Target
from yzw.spec.limits import limits

GUIDE_FIELDS = ("name", "legal_days", "promised_days", "required_auth_level", "max_visits", "materials")


def _guide(raw: httpx.Client, target: Target, item_code: str) -> httpx.Response:
    return raw.get(f"{target.base_url}/yzw/v1/items/{item_code}")


@pytest.mark.requirement("CAT-01")
def test_a_new_catalogue_item_is_taken_without_reregistration(scenario: Scenario, platform: Nodes) -> None:
    item = platform.create_item(scenario.new_item())
    application = {**scenario.application(), "item_code": item["item_code"], "item_version": item["version"]}
    answer = scenario.submit(application)
    answered(
        answer, TAKEN, fix="look items up in the province catalogue (GET /catalog/v1/items/{code}), not in a local list"
    )


@pytest.mark.requirement("CAT-01")
def test_the_catalogue_etag_is_echoed_unchanged(scenario: Scenario, platform: Nodes) -> None:
    item = platform.create_item(scenario.new_item())  # new: every ETag the system holds for it is seen here
    application = {**scenario.application(), "item_code": item["item_code"], "item_version": item["version"]}
    answered(scenario.submit(application), TAKEN, fix="look items up in the province catalogue")
    path = f"/catalog/v1/items/{item['item_code']}"
    before = len(platform.traffic("province", path, "GET"))
    platform.change_item(str(item["item_code"]), name=f"{item['name']}（修订）")  # the system fetches it again
    budget = min(limits().catalog_notice_seconds, max(platform.wait_seconds, 3.0))
    calls = platform.wait_for(lambda: platform.traffic("province", path, "GET"), lambda c: len(c) > before, budget)
    for entry in calls:
        platform.evidence.observed(entry, platform.urls["province"])
    etags_echoed(calls)


@pytest.mark.requirement("CAT-02")
def test_the_item_guide_equals_the_catalogue(scenario: Scenario, raw: httpx.Client, target: Target) -> None:
    answer = _guide(raw, target, scenario.item["item_code"])
    answered(answer, 200, fix="serve GET /yzw/v1/items/{item_code} for the department's active items")
    guide = body_of(answer) or {}
    for field in GUIDE_FIELDS:
        equal(
            f"the guide's {field}",
            guide.get(field),
            scenario.item[field],
            fix="serve the catalogue's current version, not a local copy",
            where=f"GET /yzw/v1/items/{scenario.item['item_code']}",
        )
    unknown = _guide(raw, target, str(scenario.item["item_code"])[:-3] + "999")
    answered(unknown, 404, "ITEM_UNKNOWN", fix="answer 404 ITEM_UNKNOWN for items the catalogue does not hold")


@pytest.mark.requirement("CAT-03")
def test_a_change_notice_is_applied_to_the_guide(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    code, before = scenario.item["item_code"], int(scenario.item["promised_days"])
    changed = before - 1 if before > 1 else before + 1
    platform.change_item(code, promised_days=changed)
    try:
        notice_seconds = limits().catalog_notice_seconds
        budget = min(notice_seconds, max(platform.wait_seconds, 3.0))
        shown = platform.wait_for(
            lambda: (body_of(_guide(raw, target, code)) or {}).get("promised_days"),
            lambda days: days == changed,
            budget,
        )
        if shown != changed:
            raise Violation(
                "the guide did not follow a catalogue change notice",
                f"promised_days {changed} (the new version) within {notice_seconds:g} s",
                f"promised_days {shown} after {budget:g} s",
                "on a change notice, fetch the item again and apply the new version",
                f"GET /yzw/v1/items/{code}",
            )
    finally:
        platform.change_item(code, promised_days=before)
        platform.wait_for(
            lambda: (body_of(_guide(raw, target, code)) or {}).get("promised_days"), lambda days: days == before, 3.0
        )
