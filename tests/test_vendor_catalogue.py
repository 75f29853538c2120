"""A vendor's own department and catalogue (issue 14): the reference system configured as another department of
西湖区, with items the test writes, is certified with no file of the kit edited; checks that need an item the
department lacks are not-applicable with the reason, never an error."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.certify import certify
from tests.conftest import RECORD

from yzw.mock.runner import RunningPlatform, start_platform
from yzw.register import load_register
from yzw.run.verdicts import NOT_APPLICABLE, PASS
from yzw.sut import load_registration

USCC = "113301060025003166"  # valid (CODE-02: `yzw codes check 113301060025003166`)
DEPT = {"name": "杭州市西湖区文化广电旅游体育局", "uscc": USCC, "dept_seq": "012"}
SYSTEM_IDS = {r.id for r in load_register().values() if r.applies_to == "system"}
LICENSE_TYPE = "11100000000013338W001"  # 营业执照, as a material
ISSUED_TYPE = "11330000002482000F012"


def _item(base: str, name: str, materials: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {
        "item_code": f"{USCC}4{base}",
        "base_code": base,
        "name": name,
        "type": "01",
        "dept": DEPT,
        "division_code": "330106",
        "legal_days": 20,
        "promised_days": 5,
        "required_auth_level": 2,
        "max_visits": 0,
        "online_depth": 4,
        "case_kind": "2",
        "materials": materials,
        "version": 1,
        "status": "active",
        **more,
    }


def _file(code: str, name: str) -> dict[str, Any]:
    return {"material_code": code, "name": name, "required": True}


def items(with_license_material: bool) -> list[dict[str, Any]]:
    """营业性演出许可 (results in an e-license; takes 营业执照 as a license material unless told not to) and a
    即办件 without any license."""
    show = [_file("W01", "营业性演出申请书"), _file("W02", "演出场所证明"), _file("W03", "演员名单")]
    if with_license_material:
        show.append({"material_code": "W04", "name": "营业执照", "required": True, "license_type": LICENSE_TYPE})
    return [
        _item("010000888000", "营业性演出许可", show, license_type=ISSUED_TYPE, license_name="营业性演出许可证"),
        _item("010000888001", "营业性演出变更备案", [_file("W11", "变更申请表")], case_kind="1", promised_days=0),
    ]


def vendor_record(folder: Path, with_license_material: bool = True) -> Path:
    """A sut.yaml of the other department beside its catalogue file (`catalog:` relative to the record)."""
    catalogue = items(with_license_material)
    (folder / "items.yaml").write_text(yaml.safe_dump({"items": catalogue}, allow_unicode=True), encoding="utf-8")
    record = copy.deepcopy(RECORD) | {
        "app_id": "vendor-xihu-wglt",
        "app_secret": "vendor-xihu-wglt-secret-0123456789abcdef",
        "dept_uscc": USCC,
        "dept_seq": "012",
        "division_code": "330106",
        "items": [item["item_code"] for item in catalogue],
        "catalog": "items.yaml",
    }
    path = folder / "vendor-sut.yaml"
    path.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def own_platform() -> Iterator[RunningPlatform]:
    """A platform of its own: the other department's items stay out of the session's platform."""
    running = start_platform()
    yield running
    running.stop()


def test_another_department_with_its_own_catalogue_passes_every_check(
    own_platform: RunningPlatform, tmp_path: Path
) -> None:
    registration = load_registration(vendor_record(tmp_path))
    assert {item["item_code"][:18] for item in registration.catalog} == {USCC}
    run = certify(own_platform, tmp_path, registration=registration)
    wrong = {f"{t.name}: {t.verdict} {t.message[:300]}" for t in run.results if t.verdict not in (PASS, NOT_APPLICABLE)}
    assert wrong == set()
    judged = {rid for t in run.results if t.verdict == PASS for rid in t.requirements}
    assert judged == SYSTEM_IDS


def test_without_license_materials_app_05_and_lic_02_do_not_apply(
    own_platform: RunningPlatform, tmp_path: Path
) -> None:
    registration = load_registration(vendor_record(tmp_path, with_license_material=False))
    run = certify(own_platform, tmp_path, chapters=frozenset({"APP", "LIC"}), registration=registration)
    wrong = {f"{t.name}: {t.verdict} {t.message[:300]}" for t in run.results if t.verdict not in (PASS, NOT_APPLICABLE)}
    assert wrong == set()
    reason = f"not-applicable: no item of {USCC} has a license-typed material"
    skipped = {
        rid for t in run.results if t.verdict == NOT_APPLICABLE and t.message == reason for rid in t.requirements
    }
    assert {"APP-05", "LIC-02"} <= skipped
    assert {"APP-05", "LIC-02"}.isdisjoint(rid for t in run.results if t.verdict == PASS for rid in t.requirements)
