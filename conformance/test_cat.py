"""Chapter 9 (catalogue): items come from the province catalogue, guides follow it, change notices apply (CAT-01…03)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from yzw.conformance.checks.answers import answered, body_of, equal
from yzw.conformance.checks.traffic import etags_echoed
from yzw.conformance.driver import Driver
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


@contextmanager
def _changed_days(platform: Nodes, raw: httpx.Client, target: Target, item: dict[str, object]) -> Iterator[int]:
    """A new version of the item with other promised_days (the notice goes out); the old days restored after."""
    code, before = str(item["item_code"]), int(str(item["promised_days"]))
    changed = before - 1 if before > 1 else before + 1
    platform.change_item(code, promised_days=changed)
    try:
        yield changed
    finally:
        platform.change_item(code, promised_days=before)
        platform.wait_for(
            lambda: (body_of(_guide(raw, target, code)) or {}).get("promised_days"), lambda days: days == before, 3.0
        )


def _guide_days(platform: Nodes, raw: httpx.Client, target: Target, code: str, wanted: int) -> tuple[object, float]:
    """The guide's promised_days once it shows `wanted` or the budget ran out; and the budget."""
    budget = min(limits().catalog_notice_seconds, max(platform.wait_seconds, 3.0))
    shown = platform.wait_for(
        lambda: (body_of(_guide(raw, target, code)) or {}).get("promised_days"), lambda days: days == wanted, budget
    )
    return shown, budget


@pytest.mark.requirement("CAT-03")
def test_a_change_notice_is_applied_to_the_guide(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    code = str(scenario.item["item_code"])
    with _changed_days(platform, raw, target, scenario.item) as changed:
        shown, budget = _guide_days(platform, raw, target, code, changed)
        if shown != changed:
            raise Violation(
                "the guide did not follow a catalogue change notice",
                f"promised_days {changed} (the new version) within {limits().catalog_notice_seconds:g} s",
                f"promised_days {shown} after {budget:g} s",
                "on a change notice, fetch the item again and apply the new version",
                f"GET /yzw/v1/items/{code}",
            )


@pytest.mark.requirement("CAT-03")
def test_an_application_filed_before_a_change_is_decided_on_its_version(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target, driver: Driver
) -> None:
    application, code = scenario.submitted(), str(scenario.item["item_code"])
    number, filed = application["application_no"], scenario.item["promised_days"]
    with _changed_days(platform, raw, target, scenario.item) as changed:
        _guide_days(platform, raw, target, code, changed)  # the system knows the new version before it decides
        driver.act("accept", number)
        sl = scenario.pushed(number, "SL")
    equal(
        "the SL's promised_days of an application filed before a change notice",
        (sl.event.get("payload") or {}).get("promised_days"),
        filed,
        fix="decide an application on the item version it was filed under (its item_version), not a later one",
        where=f"SL of {number} (filed under version {application['item_version']})",
    )
