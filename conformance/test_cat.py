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


@pytest.mark.requirement("CAT-01", clauses=["CAT-01.1", "CODE-04.3", "SIG-01.2", "SIG-01.4", "SIG-03.2", "SIG-05.4"])
def test_a_new_catalogue_item_is_taken_without_reregistration(scenario: Scenario, platform: Nodes) -> None:
    item = platform.create_item(scenario.new_item())
    application = {**scenario.application(), "item_code": item["item_code"], "item_version": item["version"]}
    answer = scenario.submit(application)
    answered(
        answer, TAKEN, fix="look items up in the province catalogue (GET /catalog/v1/items/{code}), not in a local list"
    )


@pytest.mark.requirement("CAT-01", clauses=["CAT-01.2"])
def test_a_listed_item_the_catalogue_gives_another_department_is_refused(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    """An item the registration lists is moved by the catalogue to another department (a new version, the notice
    goes out): once the guide follows, an application for it is refused 422 ITEM_UNKNOWN; the item is given back
    afterwards."""
    catalogue = {str(i["item_code"]): i for i in platform.catalogue()}
    own = target.registration.dept_uscc
    other = next((i["dept"] for i in catalogue.values() if i["dept"]["uscc"] != own), None)
    listed = [
        code
        for code in target.registration.items
        if code != scenario.item["item_code"] and catalogue.get(code, {}).get("status") == "active"
    ]
    if other is None or not listed:
        pytest.skip("not-applicable: no other listed item, or no other department in the catalogue, to move it to")
    code = listed[-1]
    moved = platform.change_item(code, dept=other)
    try:
        platform.wait_for(lambda: _guide(raw, target, code), lambda a: a.status_code == 404, platform.notice_seconds)
        answered(
            scenario.submit(scenario.application(item=moved)),
            422,
            "ITEM_UNKNOWN",
            fix="take the catalogue as authoritative: an item it gives another department is ITEM_UNKNOWN here, "
            "whatever the registration's items list says",
        )
    finally:
        platform.change_item(code, dept=catalogue[code]["dept"])
        platform.wait_for(lambda: _guide(raw, target, code), lambda a: a.status_code == 200, platform.notice_seconds)


@pytest.mark.requirement("CAT-01", clauses=["CAT-01.3", "CODE-04.3"])
def test_the_catalogue_etag_is_echoed_unchanged(scenario: Scenario, platform: Nodes) -> None:
    item = platform.create_item(scenario.new_item())  # new: every ETag the system holds for it is seen here
    application = {**scenario.application(), "item_code": item["item_code"], "item_version": item["version"]}
    answered(scenario.submit(application), TAKEN, fix="look items up in the province catalogue")
    path = f"/catalog/v1/items/{item['item_code']}"
    before = len(platform.traffic("province", path, "GET"))
    platform.change_item(str(item["item_code"]), name=f"{item['name']}（修订）")  # the system fetches it again
    budget = platform.notice_seconds
    calls = platform.wait_for(lambda: platform.traffic("province", path, "GET"), lambda c: len(c) > before, budget)
    for entry in calls:
        platform.evidence.observed(entry, platform.urls["province"])
    etags_echoed(calls)


@pytest.mark.requirement(
    "CAT-02",
    clauses=[
        "CAT-02.1",
        "CAT-02.2",
        "CAT-02.3",
        "CAT-02.4",
        "CAT-02.5",
        "CAT-02.6",
        "CAT-02.7",
        "CAT-02.8",
        "CAT-02.10",
        "CAT-02.11",
        "SIG-02.33",
    ],
)
def test_the_item_guide_equals_the_catalogue(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    retired = platform.create_item(scenario.new_item())  # retired below: an item no other check uses
    code = str(retired["item_code"])
    answered(_guide(raw, target, code), 200, fix="serve the guide of every active item of the catalogue (CAT-01)")
    platform.change_item(code, retire=True)
    answer = _guide(raw, target, scenario.item["item_code"])
    answered(answer, 200, fix="serve GET /yzw/v1/items/{item_code} for the department's active items")
    guide = body_of(answer) or {}
    signed = scenario.portal.request("GET", f"{target.base_url}/yzw/v1/items/{scenario.item['item_code']}")
    answered(signed, 200, fix="serve the public guide to a signed request all the same (its headers change nothing)")
    equal(
        "the guide served to a signed request",
        body_of(signed),
        guide,
        fix="serve the public guide to a signed request all the same (its headers change nothing)",
        where=f"signed GET /yzw/v1/items/{scenario.item['item_code']}",
    )
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
    gone = platform.wait_for(lambda: _guide(raw, target, code), lambda a: a.status_code == 404, platform.notice_seconds)
    answered(gone, 404, "ITEM_UNKNOWN", fix="answer 404 ITEM_UNKNOWN for an item the catalogue has retired")


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
    budget = platform.notice_seconds
    shown = platform.wait_for(
        lambda: (body_of(_guide(raw, target, code)) or {}).get("promised_days"), lambda days: days == wanted, budget
    )
    return shown, budget


@pytest.mark.requirement("CAT-03", clauses=["CAT-02.9", "CAT-03.3"])
def test_a_change_notice_is_applied_to_the_guide(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    code = str(scenario.item["item_code"])
    before = _guide(raw, target, code)
    if before.status_code != 200 or (body_of(before) or {}).get("promised_days") != scenario.item["promised_days"]:
        pytest.skip("not-applicable: the guide does not show the catalogue's current promised_days (see CAT-02)")
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


@pytest.mark.requirement("CAT-03", clauses=["ACC-03.5", "CAT-03.4", "CAT-03.6"])
def test_an_application_filed_before_a_change_is_decided_on_its_version(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target, driver: Driver
) -> None:
    application, code = scenario.submitted(), str(scenario.item["item_code"])
    number, filed = application["application_no"], scenario.item["promised_days"]
    with _changed_days(platform, raw, target, scenario.item) as changed:
        _guide_days(platform, raw, target, code, changed)  # the system knows the new version before it decides
        driver.act("accept", number)
        sl = scenario.pushed(number, "SL")
        version = int(scenario.item["version"]) + 1
        later = {**scenario.application(), "item_version": version}
        answered(scenario.submit(later), TAKEN, fix="take applications under the item's current version (CAT-03)")
        driver.act("accept", later["application_no"])
        new_sl = scenario.pushed(later["application_no"], "SL")
    equal(
        "the SL's promised_days of an application filed before a change notice",
        (sl.event.get("payload") or {}).get("promised_days"),
        filed,
        fix="decide an application on the item version it was filed under (its item_version), not a later one",
        where=f"SL of {number} (filed under version {application['item_version']})",
    )
    equal(
        "the SL's promised_days of an application filed after a change notice",
        (new_sl.event.get("payload") or {}).get("promised_days"),
        changed,
        fix=f"decide new applications on the catalogue's new version within {limits().catalog_notice_seconds:g} s "
        "of its change notice",
        where=f"SL of {later['application_no']} (filed under version {version})",
    )


ADDED_MATERIAL = {"material_code": "M901", "name": "新增申请材料（场所平面图）", "required": True}


@pytest.mark.requirement("CAT-03", clauses=["CAT-02.9", "CAT-03.3", "CAT-03.4"])
def test_a_change_of_materials_is_applied_to_the_guide_and_new_applications(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target, driver: Driver
) -> None:
    """CAT-03 for the materials, not only the days: an item the system has served is changed to require one more
    file. Within the notice budget the guide lists the new version's materials (CAT-02), and a new application
    under the new version that lacks the added file is not accepted: accept pushes BZ listing it."""
    item = platform.create_item(scenario.new_item())  # changed below: an item no other check uses
    code = str(item["item_code"])
    answered(_guide(raw, target, code), 200, fix="serve the guide of every active item of the catalogue (CAT-01)")
    changed = platform.change_item(code, materials=[*item["materials"], ADDED_MATERIAL])
    budget = platform.notice_seconds
    shown = platform.wait_for(
        lambda: (body_of(_guide(raw, target, code)) or {}).get("materials"),
        lambda materials: materials == changed["materials"],
        budget,
    )
    equal(
        f"the guide's materials {budget:g} s after a change notice",
        shown,
        changed["materials"],
        fix="on a change notice fetch the item again and apply the whole new version, its materials included",
        where=f"GET /yzw/v1/items/{code} (version {changed['version']})",
    )
    later = scenario.application(omit=(ADDED_MATERIAL["material_code"],), item=changed)
    answered(scenario.submit(later), TAKEN, fix="take applications under the item's current version (CAT-03)")
    number = later["application_no"]
    accepted = driver.act("accept", number)
    if accepted is not None:
        equal(
            "the driver's answer to accept on an application lacking a material the new version requires",
            (accepted.status_code, (body_of(accepted) or {}).get("step")),
            (200, "BZ"),
            fix="judge a new application complete against the item's current version: push BZ listing the "
            "material the change added",
            where=f"the driver's accept of {number} (version {changed['version']})",
        )
    listed = [
        m.get("material_code") if isinstance(m, dict) else m
        for m in (scenario.came(number, "BZ").event.get("payload") or {}).get("missing", [])
    ]
    if ADDED_MATERIAL["material_code"] not in listed:
        raise Violation(
            "the BZ does not list the material the item's new version requires",
            f"payload.missing naming {ADDED_MATERIAL['material_code']}",
            listed,
            "judge a new application against the item's current version, its materials included",
            f"BZ of {number}",
        )


SLOW_CATALOGUE = 1.0  # seconds the catalogue takes to answer while a notice is delivered (CAT-03: answered at once)


@pytest.mark.requirement("CAT-03", clauses=["CAT-03.1", "CAT-03.2", "CAT-03.5", "CAT-03.7"])
def test_a_retirement_refuses_new_applications_and_keeps_those_filed(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target, driver: Driver
) -> None:
    item = platform.create_item(scenario.new_item())  # retired below: an item no other check uses
    code = str(item["item_code"])
    filed = {**scenario.application(), "item_code": code, "item_version": item["version"]}
    answered(scenario.submit(filed), TAKEN, fix="look items up in the province catalogue (CAT-01)")
    platform.slow_next(f"/catalog/v1/items/{code}", SLOW_CATALOGUE, count=1)
    platform.change_item(code, retire=True)
    notices = platform.wait_for(
        lambda: [
            d
            for d in platform.delivered()
            if d.get("kind") == "catalog"
            and d.get("to") == target.app_id
            and (d.get("body") or {}).get("item_code") == code
        ],
        bool,
        platform.notice_seconds + SLOW_CATALOGUE,
    )
    where = f"POST /yzw/v1/catalog/notifications (retired {code})"
    if not notices:
        raise Violation(
            "the change notice was not answered",
            "200 to the platform's signed notice",
            "no answer recorded by the platform",
            "serve POST /yzw/v1/catalog/notifications and answer 200 at once",
            where,
        )
    notice = notices[0]
    equal(
        "the change notice's answer status",
        notice.get("status"),
        200,
        fix="answer a change notice 200 (fetch the item again afterwards)",
        where=where,
    )
    if float(notice.get("seconds") or 0) >= SLOW_CATALOGUE:
        raise Violation(
            "the change notice was answered only after the item was fetched again",
            f"200 at once, before the catalogue answers (it took {SLOW_CATALOGUE:g} s)",
            f"answered after {notice['seconds']} s",
            "answer the notice at once and fetch the item in the background",
            where,
        )
    platform.wait_for(lambda: _guide(raw, target, code), lambda a: a.status_code == 404, platform.notice_seconds)
    for version in (item["version"] + 1, item["version"]):  # the retired version, and the one filed before
        later = {**scenario.application(), "item_code": code, "item_version": version}
        answered(
            scenario.submit(later),
            422,
            "ITEM_UNKNOWN",
            fix="on a `retired` notice fetch the item again and refuse every new application for it with "
            "ITEM_UNKNOWN, also one naming a version received before (only those filed before are decided on it)",
        )
    number = filed["application_no"]
    accept = driver.act("accept", number)
    if accept is not None:
        answered(accept, 200, fix="accept an application filed before its item was retired, on its filed version")
    sl = scenario.pushed(number, "SL")
    equal(
        "the SL's promised_days of an application filed before its item was retired",
        (sl.event.get("payload") or {}).get("promised_days"),
        item["promised_days"],
        fix="decide an application filed before a retirement on the version it was filed under",
        where=f"SL of {number}",
    )
