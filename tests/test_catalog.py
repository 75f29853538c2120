"""A vendor's own catalogue file: `yzw catalog check`, `catalog:` / `--catalog`, and the platform keeping the
department's items across resets (issue 14)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.test_vendor_catalogue import USCC, items, vendor_record

from yzw.mock.runner import start_platform
from yzw.sut import load_registration

Items = list[dict[str, Any]]


def yzw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from yzw.cli import main; main()", *args], capture_output=True, text=True, check=False
    )


def test_catalog_check_accepts_the_departments_items(tmp_path: Path) -> None:
    sut = vendor_record(tmp_path)
    result = yzw("catalog", "check", str(tmp_path / "items.yaml"), "--sut", str(sut))
    assert result.returncode == 0, result.stderr
    assert f"dept_uscc {USCC}, dept_seq 012" in result.stdout


def _other_department(found: Items) -> None:
    found[1]["item_code"] = "11330106002482061L4" + found[1]["base_code"]


def _duplicate(found: Items) -> None:
    found[1]["item_code"], found[1]["base_code"] = found[0]["item_code"], found[0]["base_code"]


def _promised_above_legal(found: Items) -> None:
    found[0]["promised_days"] = 30


def _no_name(found: Items) -> None:
    del found[1]["name"]


@pytest.mark.parametrize(
    ("spoil", "line", "says"),
    [
        (_other_department, ":2", "item 2 (11330106002482061L4010000888001 营业性演出变更备案): item_code: "),
        (_duplicate, ":2", "item 2 (113301060025003166401000088800"),
        (_promised_above_legal, ":", "item 1 (113301060025003166401000088800"),
        (_no_name, ":", "item 2 (113301060025003166401000088800"),
    ],
    ids=["another-department", "duplicate", "promised-above-legal", "wrong-shape"],
)
def test_a_bad_catalog_file_is_one_clear_line_and_exit_2(
    tmp_path: Path, spoil: Callable[[Items], None], line: str, says: str
) -> None:
    found = items(True)
    spoil(found)
    path = tmp_path / "items.json"
    path.write_text(json.dumps({"items": found}, ensure_ascii=False, indent=2), encoding="utf-8")
    result = yzw("catalog", "check", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}:")
    assert says in lines[0]
    assert "fix:" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("content", "says"),
    [("items: 3\n", "the file holds no list of items"), ("items: [\n", "malformed YAML"), (b"\xff", "not UTF-8")],
)
def test_a_catalog_file_of_the_wrong_shape_is_named(tmp_path: Path, content: str | bytes, says: str) -> None:
    path = tmp_path / "items.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = yzw("catalog", "check", str(path))
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_items_of_another_dept_seq_than_the_record_are_refused_by_run(tmp_path: Path) -> None:
    sut = vendor_record(tmp_path)
    record = yaml.safe_load(sut.read_text(encoding="utf-8"))
    sut.write_text(yaml.safe_dump({**record, "dept_seq": "013"}, allow_unicode=True), encoding="utf-8")
    result = yzw("run", "--sut", str(sut), "--platform", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "dept/dept_seq: '012' differs from dept_seq '013'" in result.stderr
    assert "items.yaml:" in result.stderr  # the line of the catalogue file


def test_the_platform_serves_the_departments_items_and_restores_them_on_every_reset(tmp_path: Path) -> None:
    registration = load_registration(vendor_record(tmp_path))
    running = start_platform()
    try:
        province = running.urls["province"]
        answer = httpx.post(province + "/_mock/systems", json=registration.as_record(), timeout=10)
        assert answer.status_code == 200, answer.text
        own = {i["item_code"] for i in httpx.get(province + "/_mock/catalog").json()["items"] if USCC in i["item_code"]}
        assert own == set(registration.items)
        code = registration.items[0]
        httpx.post(f"{province}/_mock/catalog/{code}", json={"retire": True}).raise_for_status()
        httpx.post(province + "/_mock/reset").raise_for_status()
        after = {i["item_code"]: i for i in httpx.get(province + "/_mock/catalog").json()["items"]}
        assert after[code]["status"] == "active"
        assert after[code]["version"] == 1
        assert "11330106002482061L4010000123000" in after  # the demo catalogue is back too
        path = copy.deepcopy(registration.as_record()) | {"catalog": "items.yaml"}
        refused = httpx.post(province + "/_mock/systems", json=path, timeout=10)
        assert refused.status_code == 400
        assert "catalog must carry the items themselves" in refused.text
    finally:
        running.stop()
