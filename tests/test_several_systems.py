"""Several systems on one platform (issue 14): what a run creates, provokes and resets is its system's share.

The office certifies many vendors on one staging platform at the same time. A reset of one system
(`/_mock/reset?app_id=`) leaves the others' events, tokens, faults, flags, clocks and traffic alone; the
numbers the platform forwards never repeat; and two `yzw run`s at once each pass or fail on their own system,
each report holding only its own system's evidence.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.certify import pointed_record
from tests.conftest import REGISTRATION
from tests.mock_helpers import YZW, register
from tests.test_vendor_catalogue import vendor_record

from yzw.client import Credentials, SignedClient
from yzw.mock.runner import RunningPlatform, start_platform
from yzw.reference.faults import catalogue, chosen
from yzw.reference.runner import RunningReference, start_reference
from yzw.register import load_register
from yzw.sut import Registration, load_registration

FAULT = "no-idempotency"  # APP-04 (and its declared collaterals; the loop test's full-run sample)
# Every chapter but PERF: two runs, two systems and the platform share two cores here, and the intake SLO's p95
# is judged by `yzw load` and by a run of its own, not beside another system's whole certification.
CHAPTERS = ",".join(sorted({r.area for r in load_register().values() if r.applies_to == "system"} - {"PERF"}))


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningPlatform]:
    """One platform for every system of this module, as `yzw mock up` is for the office."""
    running = start_platform()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def vendor(shared: RunningPlatform, tmp_path_factory: pytest.TempPathFactory) -> Registration:
    """A system of another department (西湖区文广旅体局, its own catalogue), registered on the shared platform."""
    registration = load_registration(vendor_record(tmp_path_factory.mktemp("vendor")))
    shared.register(registration)
    return registration


def _control(platform: RunningPlatform, method: str, path: str, node: str = "province", **options: Any) -> Any:
    answer = httpx.request(method, platform.urls[node] + path, timeout=10, **options)
    answer.raise_for_status()
    return answer.json()


def _forward(platform: RunningPlatform, channel: str = "web") -> str:
    document = {"division_code": "330106", "channel": channel, "submitted_at": "2026-11-02T09:30:00+08:00"}
    return str(_control(platform, "POST", "/_mock/applications", "county", json=document)["application_no"])


def test_forwarded_numbers_never_repeat_and_survive_resets(shared: RunningPlatform) -> None:
    first = [_forward(shared) for _ in range(50)]
    _control(shared, "POST", "/_mock/reset")
    second = [_forward(shared) for _ in range(50)]
    assert len(set(first + second)) == 100
    assert all(number[6] == "1" and number[7:15] == "20261102" for number in first + second)  # CODE-05 parts
    assert (
        httpx.post(shared.urls["county"] + "/_mock/applications", json={"division_code": "330106", "channel": "window"})
        .json()["message"]
        .startswith("post {")
    )  # no submitted_at: what to send is said
    refused = httpx.post(
        shared.urls["county"] + "/_mock/applications",
        json={"division_code": "330106", "channel": "window", "submitted_at": "2026-11-02T09:30:00+08:00"},
    )
    assert refused.status_code == 400
    assert "web, app, terminal" in refused.json()["message"]  # window numbers are the system's own (CODE-05)


def test_a_reset_of_one_system_leaves_the_others_share_alone(shared: RunningPlatform, vendor: Registration) -> None:
    demo = REGISTRATION
    shared.register(demo)
    own = {"app_id": vendor.app_id}
    for app_id in (demo.app_id, vendor.app_id):  # each run injects a fault of its own, and moves its clock
        _control(shared, "POST", "/_mock/faults", params={"app_id": app_id}, json={"path": "/license/", "status": 503})
        _control(shared, "POST", "/_mock/flags", params={"app_id": app_id}, json={"refuse_license": 1})
        _control(shared, "POST", "/_mock/clock", "county", params={"app_id": app_id}, json={"advance_seconds": 86400})
    _control(shared, "POST", "/_mock/reset", params=own)
    faults = _control(shared, "GET", "/_mock/faults")["faults"]
    assert [f["app_id"] for f in faults] == [demo.app_id]
    assert shared.platform.flags == {f"refuse_license@{demo.app_id}": 1}
    vendor_clock = _control(shared, "GET", "/_mock/clock", "county", params=own)["offset_seconds"]
    demo_clock = _control(shared, "GET", "/_mock/clock", "county", params={"app_id": demo.app_id})["offset_seconds"]
    assert (vendor_clock, round(demo_clock)) == (0.0, 86400)
    unknown = httpx.post(shared.urls["province"] + "/_mock/reset", params={"app_id": "nobody"})
    assert unknown.status_code == 404
    assert "POST /_mock/systems" in unknown.json()["message"]
    _control(shared, "POST", "/_mock/reset")  # the whole platform, as the demo does
    assert _control(shared, "GET", "/_mock/faults")["faults"] == []
    assert shared.platform.flags == {}


def test_a_reset_forgets_every_license_its_system_issued_whatever_issuer_it_names(shared: RunningPlatform) -> None:
    """A faulty system's license naming another issuer (its county government) is still its own: a reset forgets
    it, or the restarted system's next license under the same license_id (the same case number) meets a
    conflict."""
    system = register(shared, seed=5)
    try:
        library = shared.urls["province"] + "/license/v1/licenses"
        county = {"name": "杭州市西湖区人民政府", "uscc": "11330106002482000B"}
        license_ = system.factory.license() | {"issuer": county}  # its license_id names the department
        others = system.factory.license() | {"license_id": system.factory.fake.license_id()}  # another issuer's
        others["issuer"] = {"name": "某局", "uscc": others["license_id"].split(".")[6]}
        for issued in (license_, others):
            assert system.client.request("POST", library, json=issued).status_code == 201
        _control(shared, "POST", "/_mock/reset", params={"app_id": system.record["app_id"]})
        again = system.client.request("POST", library, json=license_ | {"name": "另一个证照"})
        assert again.status_code == 201, again.text
        kept = system.client.request("POST", library, json=others)
        assert kept.status_code == 200, kept.text  # the same content again: still held
    finally:
        system.client.close()


def test_a_fault_for_one_system_spares_the_others_calls(shared: RunningPlatform, vendor: Registration) -> None:
    _control(shared, "POST", "/_mock/reset")
    fault = {"path": "/catalog/", "status": 503}
    _control(shared, "POST", "/_mock/faults", params={"app_id": vendor.app_id}, json=fault)

    def catalogue_answer(registration: Registration) -> int:
        client = SignedClient(Credentials(registration.app_id, registration.app_secret), timeout=10)
        try:
            return client.request("GET", shared.urls["province"] + "/catalog/v1/items/unknown").status_code
        finally:
            client.close()

    assert catalogue_answer(vendor) == 503
    assert catalogue_answer(REGISTRATION) != 503
    _control(shared, "POST", "/_mock/reset")


def _run(record: dict[str, Any], folder: Path, platform: RunningPlatform) -> subprocess.Popen[str]:
    folder.mkdir()
    sut = folder / "sut.yaml"
    sut.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    command = [*YZW, "run", "--sut", str(sut), "--platform", platform.urls["province"], "--chapter", CHAPTERS]
    command += ["--profile", "ci", "--wait", "3", "--report-dir", str(folder / "report")]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _verdicts(folder: Path) -> tuple[dict[str, str], str]:
    text = (folder / "report" / "report.json").read_text(encoding="utf-8")
    return {r["id"]: r["verdict"] for r in json.loads(text)["requirements"]}, text


def test_two_systems_certified_at_once_each_answer_for_their_own(
    shared: RunningPlatform, vendor: Registration, tmp_path: Path
) -> None:
    """The demo department's system (clean) and the vendor's (with a fault) fully certified at the same time on
    one platform, each run resetting, provoking (faults, flags, clocks) and reading its own share: the clean
    one passes every requirement, the faulty one fails only its fault's requirement (and the fault's declared
    collaterals), and neither report holds the other's traffic."""
    _control(shared, "POST", "/_mock/reset")
    clean: RunningReference = start_reference(shared, REGISTRATION)
    faulty: RunningReference = start_reference(shared, vendor, faults=chosen([FAULT]))
    try:
        runs = {
            "clean": _run(pointed_record(clean), tmp_path / "clean", shared),
            "faulty": _run(pointed_record(faulty), tmp_path / "faulty", shared),
        }
        outputs = {name: process.communicate(timeout=600)[0] for name, process in runs.items()}
    finally:
        clean.stop()
        faulty.stop()
    fault = catalogue()[FAULT]
    clean_verdicts, clean_report = _verdicts(tmp_path / "clean")
    faulty_verdicts, faulty_report = _verdicts(tmp_path / "faulty")
    assert runs["clean"].returncode == 0, outputs["clean"][-3000:]
    assert set(clean_verdicts.values()) == {"pass"}, outputs["clean"][-3000:]
    assert runs["faulty"].returncode == 1, outputs["faulty"][-3000:]
    failed = {rid for rid, v in faulty_verdicts.items() if v not in ("pass", "not-run")}
    assert fault.requirement in failed, outputs["faulty"][-3000:]
    assert failed <= {fault.requirement, *fault.also}, outputs["faulty"][-3000:]  # its declared collaterals
    for report, other in ((clean_report, faulty.registration), (faulty_report, clean.registration)):
        assert other.app_id not in report
        assert f"{other.base_url}/" not in report
