"""Every seeded fault of the reference system (mocks/faults.yaml) has a test here that shows its effect."""

from __future__ import annotations

import ast
import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.certify import at_hour_today, certify, not_passed
from tests.conftest import RECORD, REGISTRATION
from tests.mock_helpers import FOOD_ITEM, mock_events, pushed_to, wait_until
from tests.test_reference import PLANNING_ITEM, _act, _application, _plan
from tests.test_reference_services import USER, _login

from yzw.client import Credentials, SignedClient
from yzw.codes import check
from yzw.codes.calendar import default_calendar
from yzw.codes.times import CN_TZ
from yzw.errors import YzwError
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.mock.runner import RunningPlatform
from yzw.reference import faulty
from yzw.reference.faults import catalogue, chosen
from yzw.reference.faulty import REGISTRY
from yzw.reference.parts import Parts, assemble
from yzw.reference.runner import RunningReference, start_reference
from yzw.signing import canonical_string, new_nonce, signature, signed_headers
from yzw.spec.limits import limits
from yzw.spec.xml import to_xml
from yzw.sut import Registration

Start = Callable[[str], RunningReference]


_OPEN: list[SignedClient] = []


@pytest.fixture
def with_fault(platform_nodes: RunningPlatform) -> Iterator[Start]:
    """Start the reference system with one fault; it, and the clients the test opened, stop afterwards."""
    started: list[RunningReference] = []

    def start(name: str) -> RunningReference:
        started.append(start_reference(platform_nodes, REGISTRATION, faults=chosen([name])))
        return started[-1]

    yield start
    for running in started:
        running.stop()
    while _OPEN:
        _OPEN.pop().close()


def _clients(reference: RunningReference) -> tuple[SignedClient, SignedClient]:
    """The platform's client (signs as the platform) and the driver's (signs as the system); closed at teardown."""
    portal = SignedClient(Credentials(reference.system.platform_app_id, reference.system.platform_secret))
    desk = SignedClient(Credentials(RECORD["app_id"], RECORD["app_secret"]))
    _OPEN.extend((portal, desk))
    return portal, desk


def _submitted(platform: RunningPlatform, reference: RunningReference, complete: bool = True) -> tuple[Any, ...]:
    portal, desk = _clients(reference)
    application = _application(platform)
    if complete:
        application["materials"].append(_plan())
    assert portal.request("POST", reference.url + "/yzw/v1/applications", json=application).status_code == 202
    return application, portal, desk


def test_fault_health_wrong_norm(with_fault: Start) -> None:
    assert httpx.get(with_fault("health-wrong-norm").url + "/yzw/v1/health").json()["norm"] == "YZW-NORM-2025"


def test_fault_stack_trace_in_errors(with_fault: Start) -> None:
    reference = with_fault("stack-trace-in-errors")
    answer = httpx.post(
        reference.url + "/yzw/v1/applications", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert "Traceback" in answer.json()["message"]


def test_fault_applicant_id_unchecked(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("applicant-id-unchecked")
    portal, _ = _clients(reference)
    application = _application(platform_nodes)
    application["applicant"]["id_number"] = "110105194912310021"  # wrong check character
    assert portal.request("POST", reference.url + "/yzw/v1/applications", json=application).status_code == 202


def test_fault_no_idempotency(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("no-idempotency")
    application, portal, _ = _submitted(platform_nodes, reference)
    first = portal.request("GET", f"{reference.url}/yzw/v1/applications/{application['application_no']}").json()
    time.sleep(1.1)
    again = portal.request("POST", reference.url + "/yzw/v1/applications", json=application).json()
    assert again["received_at"] != first["updated_at"]


def test_fault_status_stuck_received(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("status-stuck-received")
    application, portal, desk = _submitted(platform_nodes, reference)
    _act(desk, reference, "accept", application_no=application["application_no"])
    state = portal.request("GET", f"{reference.url}/yzw/v1/applications/{application['application_no']}").json()
    assert state["status"] == "received"


def test_fault_window_number_wrong_channel(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("window-number-wrong-channel")
    _, desk = _clients(reference)
    params = {k: v for k, v in _application(platform_nodes).items() if k != "application_no"} | {"channel": "window"}
    answer = _act(desk, reference, "window_apply", params=params).json()
    assert "application_no" in answer, answer
    number = answer["application_no"]
    assert check("application_no", number, channel="window").defect == "channel_mismatch"  # type: ignore[union-attr]


def test_fault_case_no_without_check(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("case-no-without-check")
    application, _, desk = _submitted(platform_nodes, reference)
    case_no = _act(desk, reference, "accept", application_no=application["application_no"]).json()["case_no"]
    assert len(case_no) == 23
    assert wait_until(lambda: _refused(reference), timeout=5)  # the exchange refuses the SL (422)


def test_fault_utc_timestamps(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("utc-timestamps")
    application, _, desk = _submitted(platform_nodes, reference)
    _act(desk, reference, "accept", application_no=application["application_no"])
    assert wait_until(lambda: _refused(reference), timeout=5)
    body = reference.system.store.one("SELECT body FROM outbox")["body"]
    assert '"occurred_at": "' in body
    assert 'Z"' in body


def test_fault_due_date_weekends_only(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("due-date-weekends-only")
    application, _, desk = _submitted(platform_nodes, reference)
    _act(
        desk, reference, "accept", application_no=application["application_no"], params={"calendar_date": "2026-09-29"}
    )
    # The due day is past by now, so the platform may also raise cards and the system answer them (FK): take the SL.
    assert wait_until(lambda: len(mock_events(platform_nodes, "county", application["application_no"], "SL")) == 1)
    event = mock_events(platform_nodes, "county", application["application_no"], "SL")[0]
    assert event["payload"]["promised_due_at"] == "2026-10-06T23:59:59+08:00"  # the holiday-true due day: 12 Oct


def test_fault_bz_first_material_only(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("bz-first-material-only")
    portal, desk = _clients(reference)
    application = _application(platform_nodes)
    application["materials"] = application["materials"][1:]  # M001 and M003 both missing
    portal.request("POST", reference.url + "/yzw/v1/applications", json=application)
    assert _act(desk, reference, "accept", application_no=application["application_no"]).json()["step"] == "BZ"
    assert wait_until(lambda: len(mock_events(platform_nodes, "county", application["application_no"])) == 1)
    assert len(mock_events(platform_nodes, "county", application["application_no"])[0]["payload"]["missing"]) == 1


def test_fault_no_retry_on_5xx(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("no-retry-on-5xx")
    _accepted_while_exchange_answers(platform_nodes, reference, 503)
    assert wait_until(lambda: _refused(reference), timeout=5)
    assert not wait_until(lambda: bool(mock_events(platform_nodes, "county")), timeout=1.5)


def test_fault_token_per_request(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("token-per-request")
    application, _, desk = _submitted(platform_nodes, reference)
    _act(desk, reference, "accept", application_no=application["application_no"])
    assert wait_until(lambda: len(mock_events(platform_nodes, "county")) == 1)
    requests = httpx.get(platform_nodes.urls["province"] + "/_mock/tokens").json()["token_requests"]
    assert requests[RECORD["app_id"]] >= 3  # catalogue, license check, event: one token each


def test_fault_nonce_not_remembered(with_fault: Start) -> None:
    reference = with_fault("nonce-not-remembered")
    path = "/yzw/v1/applications/33010612026092898579678"
    headers = signed_headers(reference.system.platform_app_id, reference.system.platform_secret, "GET", path)
    first = httpx.get(reference.url + path, headers=headers)
    replay = httpx.get(reference.url + path, headers=headers)
    assert (first.status_code, replay.status_code) == (404, 404)  # the replay was served, not refused (401)


def test_fault_cookie_not_httponly(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    with_fault("cookie-not-httponly")
    answer = httpx.get(_login(platform_nodes))
    assert answer.status_code == 302
    assert "httponly" not in answer.headers["set-cookie"].lower()


def test_fault_sm2_not_verified(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    with_fault("sm2-not-verified")
    httpx.post(platform_nodes.urls["province"] + "/_mock/flags", json={"forge_signature": 1})
    assert httpx.get(_login(platform_nodes)).status_code == 302  # a forged identity became a session


def test_fault_fk_twice(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("fk-twice")
    application, portal, desk = _submitted(platform_nodes, reference)
    case_no = _act(desk, reference, "accept", application_no=application["application_no"]).json()["case_no"]
    notice = {
        "notice_id": "N-1",
        "case_no": case_no,
        "card": "yellow",
        "issued_at": "2026-11-28T09:00:00+08:00",
        "respond_by": "2026-11-30T09:00:00+08:00",
    }
    for _ in range(2):
        portal.request("POST", reference.url + "/yzw/v1/supervision/notices", json=notice)
    number = application["application_no"]
    assert wait_until(lambda: [e["step"] for e in mock_events(platform_nodes, "county", number)] == ["SL", "FK", "FK"])


def test_fault_accepts_not_serialized(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("accepts-not-serialized")
    for _ in range(5):  # a race: on a loaded machine the four accepts may not overlap every time
        application, _, desk = _submitted(platform_nodes, reference)
        number = application["application_no"]
        with ThreadPoolExecutor(max_workers=4) as pool:  # the license check between "may I?" and "done" lets them in
            calls = [pool.submit(_act, desk, reference, "accept", application_no=number) for _ in range(4)]
            answers = [call.result() for call in calls]
        accepted = [a.json() for a in answers if a.status_code == 200]
        if len(accepted) > 1:
            break
    assert len(accepted) > 1, [a.text for a in answers]
    assert len({a["case_no"] for a in accepted}) == len(accepted)  # a case number each
    assert wait_until(lambda: _refused(reference))  # the exchange refused the second SL (EVT-03)


def _pushes(platform: RunningPlatform) -> list[dict[str, Any]]:
    answer = httpx.get(platform.urls["county"] + "/_mock/traffic", params={"path": "/exchange/v1/events"})
    return [entry for entry in answer.json()["entries"] if entry["method"] == "POST"]


def _accepted_while_exchange_answers(
    platform: RunningPlatform, reference: RunningReference, status: int, count: int = 1
) -> tuple[dict[str, Any], SignedClient, SignedClient, httpx.Response]:
    """An application submitted, the county exchange set to answer `status` to the next `count` pushes, then
    accepted at the desk: the application, the portal and desk clients, and the accept's answer."""
    application, portal, desk = _submitted(platform, reference)
    httpx.post(platform.urls["county"] + "/_mock/faults", json={"path": "/exchange/", "status": status, "count": count})
    return application, portal, desk, _act(desk, reference, "accept", application_no=application["application_no"])


def _answered_then_taken(
    platform: RunningPlatform, with_fault: Start, fault: str, status: int
) -> tuple[dict[str, Any], dict[str, Any], RunningReference]:
    """The exchange answers `status` to the SL push; that push and the one it took later, and the system."""
    reference = with_fault(fault)
    application, *_ = _accepted_while_exchange_answers(platform, reference, status)
    assert wait_until(lambda: len(mock_events(platform, "county", application["application_no"])) == 1)
    answered, taken = (entry for entry in _pushes(platform) if entry["status"] in (status, 200))
    return answered, taken, reference


def test_fault_retry_without_backoff(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    failed, retried, _ = _answered_then_taken(platform_nodes, with_fault, "retry-without-backoff", 503)
    assert retried["t"] - failed["t"] < 0.9  # the reference's own back-off waits 1 s


def test_fault_resends_refused(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    refused, resent, reference = _answered_then_taken(platform_nodes, with_fault, "resends-refused", 422)
    assert refused["request"] == resent["request"]  # the same body, unchanged
    assert not _refused(reference)


def _refused(reference: RunningReference) -> bool:
    return reference.system.store.one("SELECT 1 FROM outbox WHERE state = 'refused'") is not None


def test_every_fault_test_names_a_fault() -> None:
    """The tests here pin the reference's behaviour under some faults, fast and without the checks; every fault
    is proven through the checks by the loop test (tests/test_conformance_loop.py), which runs them all. A test
    left behind by a removed fault is an error."""
    module = sys.modules[__name__]
    named = {
        name.removeprefix("test_fault_").replace("_", "-") for name in dir(module) if name.startswith("test_fault_")
    }
    grouped = {fault for fault, _ in module.EXCHANGE_REFUSES} | set(module.PUSHES_NOTHING)
    grouped |= {fault for fault, _, _ in module.WINDOW_CODES}
    grouped |= {fault for fault, *_ in (*module.MESSAGE_FAULTS, *module.WINDOW_FORMS, *module.LICENSE_FAULTS)}
    assert (named | grouped) - set(catalogue()) == set()


def test_unknown_faults_are_named() -> None:
    with pytest.raises(YzwError, match="unknown fault"):
        chosen(["no-such-fault"])


REFERENCE = Path(__file__).parents[1] / "src" / "yzw" / "reference"
CLEAN_PARTS = Parts()


def test_the_registry_replaces_exactly_the_parts_the_catalogue_names() -> None:
    named = {fault.name: set(fault.part) for fault in catalogue().values()}
    assert {fault: set(replacements) for fault, replacements in REGISTRY.items()} == named


def test_every_replacement_is_a_different_part_of_the_same_kind() -> None:
    parts = {part.name for part in fields(Parts)}
    for fault, replacements in REGISTRY.items():
        assert set(replacements) <= parts, fault
        for part, replacement in replacements.items():
            clean = getattr(CLEAN_PARTS, part)
            assert replacement != clean, (fault, part)
            assert callable(replacement) == callable(clean), (fault, part)
            if not callable(clean) and replacement is not None:
                assert type(replacement) is type(clean), (fault, part)


def test_assemble_applies_each_faults_replacements_to_the_clean_parts() -> None:
    assert assemble([]) == CLEAN_PARTS
    both = assemble(["intake-200", "fk-twice"])
    assert (both.intake_status, both.repeat_fk, both.health_norm) == (200, True, CLEAN_PARTS.health_norm)


def test_faults_replacing_a_set_valued_part_join_their_sets() -> None:
    both = assemble(["applicant-id-unchecked", "item-unchecked"])
    assert both.unchecked_codes == {"APPLICANT_INVALID", "ITEM_UNKNOWN"}


def test_assemble_refuses_unknown_faults_empty_faults_and_conflicts(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(YzwError, match="unknown fault no-such-fault"):
        assemble(["no-such-fault"])
    with pytest.raises(YzwError, match="both replace the part event_clock_shift"):
        chosen(["future-timestamps", "nightly-batch-push"])
    monkeypatch.setitem(faulty.REGISTRY, "hollow", {})
    with pytest.raises(YzwError, match="hollow replaces no part"):
        assemble(["hollow"])


def test_the_clean_code_names_no_fault() -> None:
    """A fault lives in faulty.py only."""
    named = {}
    for path in sorted(REFERENCE.glob("*.py")):
        if path.name.startswith("faulty") or path.name == "faults.py":
            continue
        text = path.read_text(encoding="utf-8")
        named[path.name] = sorted(name for name in catalogue() if name in text)
    assert {module: names for module, names in named.items() if names} == {}


def test_no_reference_function_reaches_40_lines() -> None:
    """Small functions with one job each."""
    long = {}
    for path in sorted(REFERENCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length >= 40:
                    long[f"{path.name}:{node.name}"] = length
    assert long == {}


def _post(reference: RunningReference, body: Any, **headers: str) -> httpx.Response:
    portal, _ = _clients(reference)
    return portal.request("POST", reference.url + "/yzw/v1/applications", json=body, headers=headers or None)


def test_fault_unknown_fields_refused(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    answer = _post(with_fault("unknown-fields-refused"), {**_application(platform_nodes), "x_future": 1})
    assert (answer.status_code, answer.json()["code"]) == (400, "SCHEMA_INVALID")


def test_fault_wrong_error_order(with_fault: Start) -> None:
    reference = with_fault("wrong-error-order")
    answer = httpx.post(reference.url + "/yzw/v1/applications", content=b"x", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 401  # the norm's order answers 415 first


def test_fault_signature_unchecked(with_fault: Start) -> None:
    answer = httpx.get(with_fault("signature-unchecked").url + "/yzw/v1/applications/33010612026092898579678")
    assert (answer.status_code, answer.json()["code"]) == (404, "APPLICATION_UNKNOWN")  # served unsigned


def test_fault_no_token(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    answer = _post(with_fault("no-token"), _application(platform_nodes))
    assert (answer.status_code, answer.json()["code"]) == (503, "DEPENDENCY_UNAVAILABLE")  # the catalogue refused it


def test_fault_no_schema_check(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    application = {k: v for k, v in _application(platform_nodes).items() if k != "delivery"}
    assert _post(with_fault("no-schema-check"), application).status_code == 202


def test_fault_item_unchecked(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    application = {**_application(platform_nodes), "item_code": PLANNING_ITEM}
    assert _post(with_fault("item-unchecked"), application).status_code == 202


def test_fault_license_not_verified(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("license-not-verified")
    application, _, desk = _submitted(platform_nodes, reference)
    license_id = application["materials"][1]["license_id"]
    httpx.post(f"{platform_nodes.urls['province']}/_mock/licenses/{license_id}", json={"status": "revoked"})
    assert _act(desk, reference, "accept", application_no=application["application_no"]).json()["step"] == "SL"


def test_fault_sb_missing(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("sb-missing")
    _, desk = _clients(reference)
    params = {k: v for k, v in _application(platform_nodes).items() if k != "application_no"} | {"channel": "window"}
    number = _act(desk, reference, "window_apply", params=params).json()["application_no"]
    assert not wait_until(lambda: bool(mock_events(platform_nodes, "county", number)), timeout=1.5)


def test_fault_refusal_without_reason(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("refusal-without-reason")
    application, _, desk = _submitted(platform_nodes, reference)
    assert _act(desk, reference, "refuse", application_no=application["application_no"]).json()["step"] == "BYSL"


def test_fault_bysl_gets_case_no(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("bysl-gets-case-no")
    application, _, desk = _submitted(platform_nodes, reference)
    answer = _act(desk, reference, "refuse", application_no=application["application_no"], params={"reason": "不符"})
    assert "case_no" in answer.json()


def test_fault_legal_days_wrong(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("legal-days-wrong")
    application, _, desk = _submitted(platform_nodes, reference)
    _act(desk, reference, "accept", application_no=application["application_no"])
    assert wait_until(lambda: len(mock_events(platform_nodes, "county", application["application_no"])) == 1)
    assert mock_events(platform_nodes, "county", application["application_no"])[0]["payload"]["legal_days"] == 5


def test_fault_future_timestamps(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("future-timestamps")
    application, _, desk = _submitted(platform_nodes, reference)
    _act(desk, reference, "accept", application_no=application["application_no"])
    assert wait_until(lambda: _refused(reference), timeout=5)
    assert "TIME_INVALID" in reference.system.store.one("SELECT last_error FROM outbox")["last_error"]


def test_fault_nightly_batch_push(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("nightly-batch-push")
    application, _, desk = _submitted(platform_nodes, reference)
    _act(desk, reference, "accept", application_no=application["application_no"])
    assert wait_until(lambda: len(mock_events(platform_nodes, "county", application["application_no"])) == 1)
    assert mock_events(platform_nodes, "county", application["application_no"])[0]["delay_seconds"] > 12 * 3600


def test_fault_guide_kept_apart(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    guide = httpx.get(f"{with_fault('guide-kept-apart').url}/yzw/v1/items/{FOOD_ITEM}").json()
    catalogue_entry = httpx.get(platform_nodes.urls["province"] + "/_mock/catalog").json()["items"][0]
    assert guide["materials"] != catalogue_entry["materials"]


def test_fault_change_notice_ignored(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    guide = f"{with_fault('change-notice-ignored').url}/yzw/v1/items/{FOOD_ITEM}"
    assert httpx.get(guide).json()["promised_days"] == 5
    httpx.post(f"{platform_nodes.urls['province']}/_mock/catalog/{FOOD_ITEM}", json={"promised_days": 4})
    assert not wait_until(lambda: httpx.get(guide).json()["promised_days"] == 4, timeout=2)


def test_fault_auth_level_ignored(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("auth-level-ignored")
    with httpx.Client() as browser:
        browser.get(_login(platform_nodes, {**USER, "user_id": "U-low", "auth_level": 1}))
        assert browser.get(f"{reference.url}/yzw/v1/items/{FOOD_ITEM}/apply").status_code == 200


def test_fault_logout_ignored(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("logout-ignored")
    with httpx.Client() as browser:
        browser.get(_login(platform_nodes))
        httpx.post(platform_nodes.urls["province"] + "/_mock/portal/logout", json={"user_id": USER["user_id"]})
        assert not wait_until(lambda: browser.get(reference.url + "/yzw/v1/session").status_code == 401, timeout=2)


def test_fault_session_fixation(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    with_fault("session-fixation")
    answer = httpx.get(_login(platform_nodes), headers={"Cookie": "sid=planted-by-an-attacker"})
    assert "sid=planted-by-an-attacker" in answer.headers["set-cookie"]


def _accepted(platform: RunningPlatform, reference: RunningReference) -> tuple[dict[str, Any], str, SignedClient]:
    application, _, desk = _submitted(platform, reference)
    case_no = _act(desk, reference, "accept", application_no=application["application_no"]).json()["case_no"]
    return application, case_no, desk


def test_fault_intake_200(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    assert _post(with_fault("intake-200"), _application(platform_nodes)).status_code == 200


def test_fault_pushes_to_province(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("pushes-to-province")
    _accepted(platform_nodes, reference)
    query = {"path": "/exchange/v1/events", "app_id": RECORD["app_id"]}
    assert wait_until(
        lambda: bool(httpx.get(platform_nodes.urls["province"] + "/_mock/traffic", params=query).json()["entries"])
    )


EXCHANGE_REFUSES = [
    ("handler-missing-name", "SCHEMA_INVALID"),
    ("bj-without-documents", "SCHEMA_INVALID"),
    ("skips-review-steps", "SEQUENCE_INVALID"),
    ("handler-without-id", "SCHEMA_INVALID"),
]
PUSHES_NOTHING = ["evaluation-not-pushed", "rectification-not-pushed"]


@pytest.mark.parametrize(("fault", "code"), EXCHANGE_REFUSES)
def test_faults_the_exchange_refuses(platform_nodes: RunningPlatform, with_fault: Start, fault: str, code: str) -> None:
    reference = with_fault(fault)
    application, _, desk = _accepted(platform_nodes, reference)
    _act(desk, reference, "complete", application_no=application["application_no"])
    assert wait_until(lambda: _refused(reference), timeout=5)
    assert code in reference.system.store.one("SELECT last_error FROM outbox WHERE state = 'refused'")["last_error"]


def test_fault_license_id_bad_check(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("license-id-bad-check")
    application, _, desk = _accepted(platform_nodes, reference)
    answer = _act(desk, reference, "complete", application_no=application["application_no"])
    assert (answer.status_code, answer.json()["code"]) == (409, "LICENSE_REFUSED")  # the library checks CODE-07


def test_fault_bj_before_license(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("bj-before-license")
    application, _, desk = _accepted(platform_nodes, reference)
    assert _act(desk, reference, "complete", application_no=application["application_no"]).json()["step"] == "BJ"
    issued = httpx.get(
        platform_nodes.urls["province"] + "/_mock/traffic", params={"path": "/license/v1/licenses", "method": "POST"}
    ).json()["entries"]
    assert not [e for e in issued if e["path"] == "/license/v1/licenses"]


def test_fault_bz_reason_not_status(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("bz-reason-not-status")
    application, _, desk = _submitted(platform_nodes, reference)
    httpx.post(
        f"{platform_nodes.urls['province']}/_mock/licenses/{application['materials'][1]['license_id']}",
        json={"status": "revoked"},
    )
    _act(desk, reference, "accept", application_no=application["application_no"])
    assert wait_until(lambda: len(mock_events(platform_nodes, "county", application["application_no"])) == 1)
    missing = mock_events(platform_nodes, "county", application["application_no"])[0]["payload"]["missing"]
    assert [m["reason"] for m in missing] != ["revoked"]


@pytest.mark.parametrize("fault", PUSHES_NOTHING)
def test_faults_that_push_nothing(platform_nodes: RunningPlatform, with_fault: Start, fault: str) -> None:
    reference = with_fault(fault)
    _, case_no, desk = _accepted(platform_nodes, reference)
    assert wait_until(lambda: len(mock_events(platform_nodes, "county")) == 1)
    evaluated = _act(desk, reference, "evaluate", case_no=case_no, params={"level": 1}).json()
    _act(
        desk, reference, "rectify", case_no=case_no, params={"evaluation_id": evaluated["evaluation_id"], "action": "x"}
    )
    path = "/exchange/v1/evaluations" if fault == "evaluation-not-pushed" else "/exchange/v1/rectifications"
    pushed = httpx.get(platform_nodes.urls["county"] + "/_mock/traffic", params={"path": path}).json()["entries"]
    assert pushed == []


def test_fault_crash_on_empty_materials(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    answer = _post(with_fault("crash-on-empty-materials"), {**_application(platform_nodes), "materials": []})
    assert answer.status_code == 500


def test_fault_text_trimmed(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("text-trimmed")
    _, desk = _clients(reference)
    params = {k: v for k, v in _application(platform_nodes).items() if k != "application_no"} | {"channel": "window"}
    params["applicant"] = {**params["applicant"], "name": " 张 三 "}
    number = _act(desk, reference, "window_apply", params=params).json()["application_no"]
    assert wait_until(lambda: len(mock_events(platform_nodes, "county", number)) == 1)
    assert mock_events(platform_nodes, "county", number)[0]["payload"]["applicant"]["name"] == "张 三"


def test_fault_session_missing_fields(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("session-missing-fields")
    with httpx.Client() as browser:
        browser.get(_login(platform_nodes))
        assert browser.get(reference.url + "/yzw/v1/session").json() != USER


def test_fault_scope_too_broad(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    answer = _post(with_fault("scope-too-broad"), _application(platform_nodes))
    assert (answer.status_code, answer.json()["code"]) == (503, "DEPENDENCY_UNAVAILABLE")


WINDOW_CODES = [
    ("window-id-unchecked", ("applicant", "id_number"), "110105194912310021"),
    ("window-id-type-unchecked", ("applicant", "id_type"), "112"),
]


@pytest.mark.parametrize(("fault", "where", "bad"), WINDOW_CODES, ids=[w[0] for w in WINDOW_CODES])
def test_faults_window_codes_unchecked(
    platform_nodes: RunningPlatform, with_fault: Start, fault: str, where: tuple[str, str], bad: str
) -> None:
    reference = with_fault(fault)
    _, desk = _clients(reference)
    params = {k: v for k, v in _application(platform_nodes).items() if k != "application_no"} | {"channel": "window"}
    params[where[0]] = {**params[where[0]], where[1]: bad}
    assert _act(desk, reference, "window_apply", params=params).status_code == 200  # taken, unchecked
    assert wait_until(lambda: _refused(reference), timeout=5)
    assert "CODE_INVALID" in reference.system.store.one("SELECT last_error FROM outbox")["last_error"]


def test_fault_window_uscc_unchecked(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("window-uscc-unchecked")
    _, desk = _clients(reference)
    factory = MessageFactory(make_faker(8))
    params = {k: v for k, v in factory.application("legal", "window").items() if k not in ("application_no",)}
    params |= {"item_code": FOOD_ITEM, "applicant": {**params["applicant"], "uscc": "91350100M000100Y44"}}
    assert _act(desk, reference, "window_apply", params=params).status_code == 200
    assert wait_until(lambda: _refused(reference), timeout=5)


def test_fault_old_item_code(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("old-item-code")
    _accepted(platform_nodes, reference)
    assert wait_until(lambda: _refused(reference), timeout=5)
    assert "CODE_INVALID" in reference.system.store.one("SELECT last_error FROM outbox")["last_error"]


def test_fault_xml_refused(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("xml-refused")
    portal, _ = _clients(reference)
    answer = portal.request(
        "POST",
        reference.url + "/yzw/v1/applications",
        content=to_xml("application", _application(platform_nodes)),
        headers={"Content-Type": "application/xml"},
    )
    assert answer.status_code == 415


def test_fault_xml_doctype_resolved(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("xml-doctype-resolved")
    portal, _ = _clients(reference)
    application = _application(platform_nodes)
    application["applicant"]["address"] = "ADDRESS"
    text = to_xml("application", application).decode().replace("ADDRESS", "&where;")
    text = text.replace("?>", '?><!DOCTYPE application [<!ENTITY where "西湖区文三路">]>', 1)
    answer = portal.request(
        "POST",
        reference.url + "/yzw/v1/applications",
        content=text.encode(),
        headers={"Content-Type": "application/xml"},
    )
    assert answer.status_code == 202  # the norm asks for 400 XML_FORBIDDEN_CONSTRUCT


def test_fault_nonce_too_short(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    answer = _post(with_fault("nonce-too-short"), _application(platform_nodes))
    assert (answer.status_code, answer.json()["code"]) == (503, "DEPENDENCY_UNAVAILABLE")  # the IdP refused it


def test_fault_session_before_validation(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("session-before-validation")
    with httpx.Client() as browser:
        refused = browser.get(f"{reference.url}/yzw/v1/sso?ticket=ST-{'0' * 40}")
        assert refused.status_code == 401
        assert browser.get(reference.url + "/yzw/v1/session").status_code == 200  # a session all the same


def test_fault_ticket_refusal_200(with_fault: Start) -> None:
    reference = with_fault("ticket-refusal-200")
    assert httpx.get(f"{reference.url}/yzw/v1/sso?ticket=ST-{'0' * 40}").status_code == 200


def test_fault_case_no_after_acceptance(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("case-no-after-acceptance")
    application, _, desk = _submitted(platform_nodes, reference)
    answer = _act(desk, reference, "accept", application_no=application["application_no"]).json()
    assert answer["step"] == "SL"
    assert "case_no" not in answer
    assert wait_until(lambda: _refused(reference), timeout=5)


def test_fault_only_201_delivered(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("only-201-delivered")
    _accepted(platform_nodes, reference)
    assert wait_until(lambda: reference.system.store.one("SELECT attempts FROM outbox")["attempts"] >= 2, timeout=8)
    assert reference.system.store.one("SELECT state FROM outbox")["state"] == "pending"


def test_fault_items_from_own_list(platform_nodes: RunningPlatform) -> None:
    other_items = {**RECORD, "items": ["11330106002482061L4010000456000"]}  # the list omits 食品经营许可
    reference = start_reference(
        platform_nodes, Registration.from_mapping(other_items), faults=chosen(["items-from-own-list"])
    )
    try:
        portal, _ = _clients(reference)
        answer = portal.request("POST", reference.url + "/yzw/v1/applications", json=_application(platform_nodes))
        assert (answer.status_code, answer.json()["code"]) == (422, "ITEM_UNKNOWN")  # the catalogue says it is ours
    finally:
        reference.stop()
        while _OPEN:
            _OPEN.pop().close()


def test_fault_slow_intake(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("slow-intake")
    started = time.monotonic()
    assert _post(reference, _application(platform_nodes)).status_code == 202
    assert time.monotonic() - started >= 0.9


def test_fault_loses_applications(with_fault: Start) -> None:
    reference = with_fault("loses-applications")
    portal, _ = _clients(reference)
    factory = MessageFactory(make_faker(44))
    numbers = []
    for _ in range(5):
        application = {**factory.application(), "item_code": FOOD_ITEM}
        assert portal.request("POST", reference.url + "/yzw/v1/applications", json=application).status_code == 202
        numbers.append(application["application_no"])
    known = [portal.request("GET", f"{reference.url}/yzw/v1/applications/{n}").status_code for n in numbers]
    assert known.count(404) == 1


# 2026.2 messages, signing, SSO
def test_fault_query_blank_pairs_dropped(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("query-blank-pairs-dropped")
    application, portal, _ = _submitted(platform_nodes, reference)
    url = f"{reference.url}/yzw/v1/applications/{application['application_no']}"
    assert portal.request("GET", url, params={"view": "full"}).status_code == 200  # no empty value: verified
    assert (
        portal.request("GET", url, params={"view": ""}).status_code == 401
    )  # `view=` dropped from the canonical query


def test_fault_apply_entry_item_first(with_fault: Start) -> None:
    reference = with_fault("apply-entry-item-first")
    answer = httpx.get(f"{reference.url}/yzw/v1/items/{FOOD_ITEM[:-3]}999/apply")
    assert (answer.status_code, answer.json()["code"]) == (404, "ITEM_UNKNOWN")  # no session, yet not 401


def test_fault_accept_q_ignored(with_fault: Start) -> None:
    reference = with_fault("accept-q-ignored")
    answer = httpx.get(reference.url + "/yzw/v1/session", headers={"Accept": "text/html;q=0.9, application/json;q=1"})
    assert answer.headers["content-type"].startswith("text/html")


def test_fault_calendar_path_in_error(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("calendar-path-in-error")
    application, _, desk = _submitted(platform_nodes, reference)
    beyond = f"{default_calendar().years[-1] + 1}-06-01"
    answer = _act(
        desk, reference, "accept", application_no=application["application_no"], params={"calendar_date": beyond}
    )
    assert answer.status_code == 422
    assert "calendar.yaml" in answer.json()["message"]


def test_fault_sb_material_names_empty(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("sb-material-names-empty")
    _, desk = _clients(reference)
    params = {k: v for k, v in _application(platform_nodes).items() if k != "application_no"} | {"channel": "window"}
    assert _act(desk, reference, "window_apply", params=params).json()["step"] == "SB"
    assert wait_until(lambda: _refused(reference), timeout=5)
    assert (
        "/payload/materials/0/name"
        in reference.system.store.one("SELECT last_error FROM outbox WHERE state = 'refused'")["last_error"]
    )


def test_fault_etag_built_from_version(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    guide = f"{with_fault('etag-built-from-version').url}/yzw/v1/items/{FOOD_ITEM}"
    assert httpx.get(guide).json()["promised_days"] == 5
    httpx.post(f"{platform_nodes.urls['province']}/_mock/catalog/{FOOD_ITEM}", json={"promised_days": 4})
    assert wait_until(lambda: httpx.get(guide).json()["promised_days"] == 4)
    fetched = httpx.get(
        platform_nodes.urls["province"] + "/_mock/traffic", params={"path": f"/catalog/v1/items/{FOOD_ITEM}"}
    ).json()["entries"]
    assert fetched[-1]["if_none_match"] == '"v1"'
    assert fetched[0]["etag"] != '"v1"'


def _library_down(platform: RunningPlatform) -> None:
    fault = {"path": "/license/v1/licenses", "status": 503, "count": 5}
    httpx.post(platform.urls["province"] + "/_mock/faults", json=fault).raise_for_status()


def test_fault_library_outage_taken_as_refusal(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("library-outage-taken-as-refusal")
    application, _, desk = _accepted(platform_nodes, reference)
    _library_down(platform_nodes)
    answer = _act(desk, reference, "complete", application_no=application["application_no"])
    assert (answer.status_code, answer.json()["code"]) == (409, "LICENSE_REFUSED")
    assert _act(desk, reference, "advance", application_no=application["application_no"]).status_code == 409


def test_complete_without_the_library_answers_503_and_records_nothing(platform_nodes: RunningPlatform) -> None:
    reference = start_reference(platform_nodes, REGISTRATION)
    try:
        application, _, desk = _accepted(platform_nodes, reference)
        _library_down(platform_nodes)
        answer = _act(desk, reference, "complete", application_no=application["application_no"])
        assert (answer.status_code, answer.json()["code"]) == (503, "DEPENDENCY_UNAVAILABLE")
        assert _act(desk, reference, "advance", application_no=application["application_no"]).json()["step"] == "CB"
    finally:
        reference.stop()


def test_fault_evaluation_channel_ignored(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("evaluation-channel-ignored")
    _, case_no, desk = _accepted(platform_nodes, reference)
    assert wait_until(lambda: len(mock_events(platform_nodes, "county")) == 1)
    _act(desk, reference, "evaluate", case_no=case_no, params={"level": 4, "comment": "", "channel": "terminal"})
    pushed = pushed_to(platform_nodes, "/exchange/v1/evaluations", 1)
    assert '"channel":"window"' in pushed[0]["request"].replace(" ", "")


def test_fault_rectifies_every_review(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("rectifies-every-review")
    _, case_no, desk = _accepted(platform_nodes, reference)
    assert wait_until(lambda: len(mock_events(platform_nodes, "county")) == 1)
    good = _act(desk, reference, "evaluate", case_no=case_no, params={"level": 5, "comment": ""}).json()
    for action in ("回访", "再次回访"):
        params = {"evaluation_id": good["evaluation_id"], "action": action}
        assert _act(desk, reference, "rectify", case_no=case_no, params=params).status_code == 200


def _catalogue_slow(platform: RunningPlatform) -> None:
    """The catalogue answers only 1.5 s after the per-call budget (ROB-01)."""
    late = round((limits().platform_call_seconds + 1.5) * 1000)
    fault = {"path": "/catalog/v1/items", "latency_ms": late, "count": 3}
    httpx.post(platform.urls["province"] + "/_mock/faults", json=fault).raise_for_status()


def test_fault_waits_past_call_budget(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    guide = f"{with_fault('waits-past-call-budget').url}/yzw/v1/items/{FOOD_ITEM}"
    _catalogue_slow(platform_nodes)
    assert httpx.get(guide, timeout=10).status_code == 200


def test_a_platform_call_without_answer_in_its_budget_gives_503(platform_nodes: RunningPlatform) -> None:
    reference = start_reference(platform_nodes, REGISTRATION)
    try:
        _catalogue_slow(platform_nodes)
        started = time.monotonic()
        answer = httpx.get(f"{reference.url}/yzw/v1/items/{FOOD_ITEM}", timeout=10)
        assert (answer.status_code, answer.json()["code"]) == (503, "DEPENDENCY_UNAVAILABLE")
        assert time.monotonic() - started < limits().platform_call_seconds + 1
    finally:
        reference.stop()


def test_fault_decides_on_current_version(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("decides-on-current-version")
    application, _, desk = _submitted(platform_nodes, reference)
    httpx.post(f"{platform_nodes.urls['province']}/_mock/catalog/{FOOD_ITEM}", json={"promised_days": 4})
    guide = f"{reference.url}/yzw/v1/items/{FOOD_ITEM}"
    assert wait_until(lambda: httpx.get(guide).json()["promised_days"] == 4)
    answer = _act(desk, reference, "accept", application_no=application["application_no"])
    assert answer.json()["step"] == "SL"
    assert wait_until(lambda: len(mock_events(platform_nodes, "county", application["application_no"])) == 1)
    assert mock_events(platform_nodes, "county", application["application_no"])[0]["payload"]["promised_days"] == 4


# 2026.2 events
NEXT_DAY = "2026-11-30T09:00:00+08:00"


def test_fault_status_follows_delivered(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("status-follows-delivered")
    application, portal, _, _ = _accepted_while_exchange_answers(platform_nodes, reference, 422)
    assert wait_until(lambda: _refused(reference), timeout=5)
    state = portal.request("GET", f"{reference.url}/yzw/v1/applications/{application['application_no']}").json()
    assert state["status"] == "received"  # the clean system answers "accepted" (APP-07 follows refused events)


def test_fault_handler_generic_system(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("handler-generic-system")
    application, portal, desk = _submitted(platform_nodes, reference)
    case_no = _act(desk, reference, "accept", application_no=application["application_no"]).json()["case_no"]
    notice = {"notice_id": "N-2", "case_no": case_no, "card": "yellow", "issued_at": "2026-11-28T09:00:00+08:00"}
    portal.request("POST", reference.url + "/yzw/v1/supervision/notices", json={**notice, "respond_by": NEXT_DAY})
    number = application["application_no"]
    assert wait_until(lambda: len(mock_events(platform_nodes, "county", number)) == 2)
    assert mock_events(platform_nodes, "county", number)[1]["handler"]["id"] == "system"  # not RECORD["app_id"]


def test_fault_time_before_submission(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("time-before-submission")
    application = _ahead_of_the_system(platform_nodes, reference)
    assert wait_until(lambda: _refused(reference), timeout=5)
    assert "TIME_INVALID" in reference.system.store.one("SELECT last_error FROM outbox")["last_error"]
    assert mock_events(platform_nodes, "county", application["application_no"]) == []


def _ahead_of_the_system(platform: RunningPlatform, reference: RunningReference) -> dict[str, Any]:
    """An application the platform submitted up to two minutes ahead of the system's clock, accepted at once."""
    portal, desk = _clients(reference)
    now = dt.datetime.now(CN_TZ).replace(microsecond=0)
    ahead = min(now + dt.timedelta(minutes=2), now.replace(hour=23, minute=59, second=59))  # the same day
    application = {**_application(platform), "submitted_at": ahead.isoformat()}
    application["materials"].append(_plan())
    number = application["application_no"]
    httpx.post(f"{platform.urls['county']}/_mock/applications/{number}", json={"submitted_at": ahead.isoformat()})
    assert portal.request("POST", reference.url + "/yzw/v1/applications", json=application).status_code == 202
    _act(desk, reference, "accept", application_no=number)
    return application


def test_the_clean_system_takes_submitted_at_as_the_earliest_time(
    platform_nodes: RunningPlatform, reference: RunningReference
) -> None:
    application = _ahead_of_the_system(platform_nodes, reference)
    number = application["application_no"]
    _, desk = _clients(reference)
    _act(desk, reference, "advance", application_no=number)
    assert wait_until(lambda: len(mock_events(platform_nodes, "county", number)) == 2, timeout=5)
    times = [e["occurred_at"] for e in mock_events(platform_nodes, "county", number)]
    assert times == [application["submitted_at"]] * 2  # SL at submitted_at, CB not before it


def test_fault_evaluation_outside_outbox(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("evaluation-outside-outbox")
    _, case_no, desk = _accepted(platform_nodes, reference)
    assert wait_until(lambda: len(mock_events(platform_nodes, "county")) == 1)
    fault = {"path": "/exchange/v1/evaluations", "status": 503, "count": 1}
    httpx.post(platform_nodes.urls["county"] + "/_mock/faults", json=fault)
    answer = _act(desk, reference, "evaluate", case_no=case_no, params={"level": 1})
    assert (answer.status_code, answer.json()["code"]) == (409, "STATE_INVALID")  # ROB-01 would be 503; §11 200


def test_the_clean_system_queues_an_evaluation_behind_the_sl(
    platform_nodes: RunningPlatform, reference: RunningReference
) -> None:
    application, _, desk, accepted = _accepted_while_exchange_answers(platform_nodes, reference, 503, count=2)
    case_no = accepted.json()["case_no"]
    evaluated = _act(desk, reference, "evaluate", case_no=case_no, params={"level": 1})
    assert evaluated.status_code == 200, evaluated.text
    evaluation_id = evaluated.json()["evaluation_id"]
    rectified = _act(
        desk, reference, "rectify", case_no=case_no, params={"evaluation_id": evaluation_id, "action": "x"}
    )
    assert rectified.status_code == 200, rectified.text
    again = _act(desk, reference, "rectify", case_no=case_no, params={"evaluation_id": evaluation_id, "action": "x"})
    assert (again.status_code, again.json()["code"]) == (409, "STATE_INVALID")
    query = "SELECT COUNT(*) FROM outbox WHERE state = 'delivered' AND application_no = ?"
    assert wait_until(lambda: reference.system.store.one(query, application["application_no"])[0] == 3, timeout=8)


def test_fault_refused_reissued(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    refused, reissued, reference = _answered_then_taken(platform_nodes, with_fault, "refused-reissued", 422)
    assert refused["request"] != reissued["request"]  # the same step under a new event_id, nobody repaired it
    assert not _refused(reference)


def _status_of(portal: SignedClient, reference: RunningReference, number: str) -> dict[str, Any]:
    return dict(portal.request("GET", f"{reference.url}/yzw/v1/applications/{number}").json())


def test_fault_status_case_no_null(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("status-case-no-null")
    application, portal, _ = _submitted(platform_nodes, reference)
    state = _status_of(portal, reference, application["application_no"])
    assert "case_no" in state  # the clean system leaves it out before SL
    assert state["case_no"] is None


def test_fault_status_updated_at_now(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("status-updated-at-now")
    application, portal, _ = _submitted(platform_nodes, reference)
    first = _status_of(portal, reference, application["application_no"])
    time.sleep(1.1)
    assert _status_of(portal, reference, application["application_no"])["updated_at"] != first["updated_at"]


def test_fault_status_fk_counted(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("status-fk-counted")
    application, portal, desk = _submitted(platform_nodes, reference)
    case_no = _act(desk, reference, "accept", application_no=application["application_no"]).json()["case_no"]
    notice = {"notice_id": "N-7", "case_no": case_no, "card": "yellow", "issued_at": "2026-11-28T09:00:00+08:00"}
    notice["respond_by"] = NEXT_DAY
    assert portal.request("POST", reference.url + "/yzw/v1/supervision/notices", json=notice).status_code == 200
    assert wait_until(lambda: _status_of(portal, reference, application["application_no"])["status"] == "in_progress")


def test_fault_status_bzj_still_supplement(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("status-bzj-still-supplement")
    application, portal, desk = _submitted(platform_nodes, reference, complete=False)
    number = application["application_no"]
    assert _act(desk, reference, "accept", application_no=number).json()["step"] == "BZ"
    more = {"materials": [_plan()]}
    assert portal.request("POST", f"{reference.url}/yzw/v1/applications/{number}/supplements", json=more).is_success
    assert _status_of(portal, reference, number)["status"] == "supplement_required"  # clean: received


def _issued(platform: RunningPlatform) -> list[dict[str, Any]]:
    entries = httpx.get(
        platform.urls["province"] + "/_mock/traffic", params={"path": "/license/v1/licenses", "method": "POST"}
    ).json()["entries"]
    return [json.loads(e["request"]) for e in entries if e["path"] == "/license/v1/licenses" and e["status"] == 201]


def test_fault_license_named_after_item(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("license-named-after-item")
    application, _, desk = _accepted(platform_nodes, reference)
    assert _act(desk, reference, "complete", application_no=application["application_no"]).json()["step"] == "BJ"
    assert _issued(platform_nodes)[-1]["name"] == "食品经营许可"  # clean: its license_name, 食品经营许可证


def test_fault_license_holder_always_person(with_fault: Start) -> None:
    parts = chosen(["license-holder-always-person"])
    legal = {"type": "legal", "name": "某公司", "uscc": "91330106MA2B0000X0"}
    legal["legal_rep"] = {"name": "张三", "id_type": "111", "id_number": "110105194912310020"}
    assert assemble(parts).license_owner(legal)["type"] == "person"  # clean: legal, with the uscc


def test_fault_license_refusal_passed_on(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("license-refusal-passed-on")
    application, _, desk = _accepted(platform_nodes, reference)
    httpx.post(platform_nodes.urls["province"] + "/_mock/flags", json={"refuse_license": 1})
    answer = _act(desk, reference, "complete", application_no=application["application_no"])
    assert (answer.status_code, answer.json()["code"]) == (422, "LICENSE_CONFLICT")  # clean: 409 LICENSE_REFUSED


def _license_of_someone_else(platform: RunningPlatform, application: dict[str, Any], seeded: bool) -> None:
    other = MessageFactory(make_faker(7 if seeded else 8)).license()  # not_found: a license no test seeds
    if seeded:
        httpx.post(f"{platform.urls['province']}/_mock/licenses/{other['license_id']}", json={"license": other})
    application["materials"][1]["license_id"] = other["license_id"]


def test_fault_license_not_found_as_outage(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("license-not-found-as-outage")
    portal, desk = _clients(reference)
    application = _application(platform_nodes)
    application["materials"].append(_plan())
    _license_of_someone_else(platform_nodes, application, seeded=False)
    assert portal.request("POST", reference.url + "/yzw/v1/applications", json=application).status_code == 202
    assert _act(desk, reference, "accept", application_no=application["application_no"]).status_code == 503


def test_fault_license_holder_not_compared(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("license-holder-not-compared")
    portal, desk = _clients(reference)
    application = _application(platform_nodes)
    application["materials"].append(_plan())
    _license_of_someone_else(platform_nodes, application, seeded=True)
    assert portal.request("POST", reference.url + "/yzw/v1/applications", json=application).status_code == 202
    assert _act(desk, reference, "accept", application_no=application["application_no"]).json()["step"] == "SL"


# MSG-01 … MSG-05, REG-01 deepened: each fault through one request, its answer as the fault gives it
def _body(platform: RunningPlatform, kind: str) -> tuple[bytes, str]:
    """An application (or a broken body) as bytes and its media type, for the request a fault answers wrongly."""
    application = _application(platform)
    application["applicant"]["address"] = "浙江省杭州市西湖区文三路"
    if kind == "nan":
        return json.dumps({**application, "item_version": float("nan")}).encode(), "application/json"
    if kind == "empty":
        return b"", "application/json"
    if kind == "gbk":
        return json.dumps(application, ensure_ascii=False).encode("gbk"), "application/json"
    if kind == "unclosed-xml":
        return b'<application xmlns="urn:yzw:norm:2026"><applicant>', "application/xml"
    if kind == "bare-doctype":
        return to_xml("application", application).replace(b"?>", b"?><!DOCTYPE application>", 1), "application/xml"
    if kind == "extra-xml":
        return to_xml("application", {**application, "x_future": "1"}), "application/xml"
    if kind == "no-materials":
        return json.dumps({**application, "materials": []}).encode(), "application/json"
    if kind == "empty-phone":
        application["applicant"]["phone"] = ""
        return json.dumps(application).encode(), "application/json"
    if kind == "mistyped":
        return json.dumps({**application, "materials": "not a list"}).encode(), "application/json"
    raise AssertionError(kind)


MESSAGE_FAULTS = [  # (fault, the body sent, the status and code the fault answers; the clean system differs)
    ("nan-taken-as-number", "nan", 400, "SCHEMA_INVALID"),  # clean: MALFORMED_BODY
    ("empty-body-read-as-object", "empty", 400, "SCHEMA_INVALID"),
    ("body-decoded-leniently", "gbk", 202, None),
    ("xml-parse-error-as-schema", "unclosed-xml", 400, "SCHEMA_INVALID"),
    ("xml-dtd-allowed", "bare-doctype", 202, None),  # clean: XML_FORBIDDEN_CONSTRUCT
    ("xml-checked-by-xsd", "extra-xml", 400, "SCHEMA_INVALID"),  # clean: 202
    ("materials-at-least-one", "no-materials", 400, "SCHEMA_INVALID"),
    ("texts-never-empty", "empty-phone", 400, "SCHEMA_INVALID"),
]


@pytest.mark.parametrize(("fault", "kind", "status", "code"), MESSAGE_FAULTS, ids=[f[0] for f in MESSAGE_FAULTS])
def test_faults_of_message_reading(
    platform_nodes: RunningPlatform, with_fault: Start, fault: str, kind: str, status: int, code: str | None
) -> None:
    reference = with_fault(fault)
    portal, _ = _clients(reference)
    body, media = _body(platform_nodes, kind)
    answer = portal.request(
        "POST", reference.url + "/yzw/v1/applications", content=body, headers={"Content-Type": media}
    )
    assert answer.status_code == status, answer.text
    if code is not None:
        assert code in answer.text


def test_fault_body_limit_inclusive(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("body-limit-inclusive")
    portal, _ = _clients(reference)
    text = json.dumps(_application(platform_nodes)).encode()
    limit = limits().max_body_bytes
    body = text + b" " * (limit - len(text))
    answer = portal.request("POST", reference.url + "/yzw/v1/applications", content=body)
    assert answer.status_code == 413  # exactly the limit: the norm takes it


def test_fault_proxy_413_page(with_fault: Start) -> None:
    reference = with_fault("proxy-413-page")
    body = b" " * (limits().max_body_bytes + 1)
    answer = httpx.post(reference.url + "/yzw/v1/applications", content=body, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 413
    assert "nginx" in answer.text


def test_fault_framework_415_code(with_fault: Start) -> None:
    reference = with_fault("framework-415-code")
    answer = httpx.post(reference.url + "/yzw/v1/applications", content=b"x", headers={"Content-Type": "text/plain"})
    assert (answer.status_code, answer.json()["code"]) == (415, "MEDIA_TYPE_NOT_SUPPORTED")


def test_fault_conflict_before_schema(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("conflict-before-schema")
    application, *_ = _submitted(platform_nodes, reference)
    answer = _post(reference, {k: v for k, v in application.items() if k != "delivery"})
    assert (answer.status_code, answer.json()["code"]) == (409, "APPLICATION_CONFLICT")  # the norm: 400 first


def test_fault_codes_before_conflict(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("codes-before-conflict")
    application, *_ = _submitted(platform_nodes, reference)
    changed = {**application, "applicant": {**application["applicant"], "id_number": "110105194912310021"}}
    answer = _post(reference, changed)
    assert (answer.status_code, answer.json()["code"]) == (422, "APPLICANT_INVALID")  # the norm: 409 first


def _bz_waiting(platform: RunningPlatform, reference: RunningReference) -> tuple[str, SignedClient]:
    """An application missing M003, accepted into BZ: its number and the portal's client."""
    application, portal, desk = _submitted(platform, reference, complete=False)
    assert _act(desk, reference, "accept", application_no=application["application_no"]).json()["step"] == "BZ"
    return str(application["application_no"]), portal


def test_fault_supplements_xml_unhardened(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("supplements-xml-unhardened")
    number, portal = _bz_waiting(platform_nodes, reference)
    text = to_xml("supplements", {"materials": [{**_plan(), "name": "NAME"}]}).decode().replace("NAME", "&n;")
    body = text.replace("?>", '?><!DOCTYPE supplements [<!ENTITY n "平面图">]>', 1).encode()
    url = f"{reference.url}/yzw/v1/applications/{number}/supplements"
    answer = portal.request("POST", url, content=body, headers={"Content-Type": "application/xml"})
    assert answer.status_code == 200  # the entity was expanded; the norm asks for 400 XML_FORBIDDEN_CONSTRUCT


def test_fault_strict_request_models(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("strict-request-models")
    number, portal = _bz_waiting(platform_nodes, reference)
    url = f"{reference.url}/yzw/v1/applications/{number}/supplements"
    answer = portal.request("POST", url, json={"materials": [_plan()], "x_note": "补交"})
    assert (answer.status_code, answer.json()["code"]) == (400, "SCHEMA_INVALID")


def _schema_error(reference: RunningReference, platform: RunningPlatform) -> dict[str, Any]:
    answer = _post(reference, {**_application(platform), "materials": "not a list"})
    assert answer.status_code == 400
    return dict(answer.json())


def test_fault_schema_details_empty(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    assert _schema_error(with_fault("schema-details-empty"), platform_nodes)["details"] == []


def test_fault_dotted_detail_paths(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    details = _schema_error(with_fault("dotted-detail-paths"), platform_nodes)["details"]
    assert [d["path"] for d in details] == ["materials"]


def test_fault_html_errors_everywhere(with_fault: Start) -> None:
    reference = with_fault("html-errors-everywhere")
    headers = {"Accept": "text/html", "Content-Type": "application/json"}
    answer = httpx.post(reference.url + "/yzw/v1/applications", content=b"{}", headers=headers)
    assert (answer.status_code, answer.headers["content-type"].split(";")[0]) == (401, "text/html")


def test_fault_html_error_page_200(with_fault: Start) -> None:
    answer = httpx.get(with_fault("html-error-page-200").url + "/yzw/v1/session", headers={"Accept": "text/html"})
    assert (answer.status_code, answer.headers["content-type"].split(";")[0]) == (200, "text/html")


def test_fault_health_refuses_signed(with_fault: Start) -> None:
    reference = with_fault("health-refuses-signed")
    portal, _ = _clients(reference)
    assert httpx.get(reference.url + "/yzw/v1/health").status_code == 200
    assert portal.request("GET", reference.url + "/yzw/v1/health").status_code == 400


# CODE-01, CODE-07, CODE-08, CODE-09 deepened
WINDOW_FORMS = [  # (fault, applicant kind, the applicant's changed members, the status the fault answers)
    ("window-certificates-limited", "person", {"id_type": "513", "id_number": "C12345678"}, 422),
    ("window-kinds-limited", "legal", {"kind": "9"}, 422),
    ("window-kind-1-taken", "legal", {"kind": "1"}, 200),
    ("window-id-digits-only", "person", {"id_number": "11010519491231002X"}, 422),
]


@pytest.mark.parametrize(("fault", "applicant", "changes", "status"), WINDOW_FORMS, ids=[w[0] for w in WINDOW_FORMS])
def test_faults_of_the_window_form(
    with_fault: Start, fault: str, applicant: str, changes: dict[str, str], status: int
) -> None:
    reference = with_fault(fault)
    _, desk = _clients(reference)
    params = MessageFactory(make_faker(8)).application(applicant, "window")
    params.pop("application_no")
    params |= {"item_code": FOOD_ITEM, "applicant": {**params["applicant"], **changes}}
    assert _act(desk, reference, "window_apply", params=params).status_code == status


def _issued_license_id(platform: RunningPlatform, reference: RunningReference) -> list[str]:
    """The parts after the prefix of the license_id the system issued on approving a case."""
    application, _, desk = _accepted(platform, reference)
    number = application["application_no"]
    answer = _act(desk, reference, "complete", application_no=number, params={"result": "approved"})
    assert answer.status_code == 200, answer.text
    traffic = httpx.get(platform.urls["province"] + "/_mock/traffic", params={"path": "/license/v1/licenses"})
    issued = [e for e in traffic.json()["entries"] if e["method"] == "POST" and e["path"] == "/license/v1/licenses"]
    return str(json.loads(issued[-1]["request"])["license_id"])[len("1.2.156.3005.2.") :].split(".")


LICENSE_FAULTS = [("license-version-padded-right", 3, "100"), ("license-issuer-type-body", 1, None)]


@pytest.mark.parametrize(("fault", "index", "value"), LICENSE_FAULTS, ids=[f[0] for f in LICENSE_FAULTS])
def test_faults_of_the_license_id(
    platform_nodes: RunningPlatform, with_fault: Start, fault: str, index: int, value: str | None
) -> None:
    parts = _issued_license_id(platform_nodes, with_fault(fault))
    assert parts[index] == (value or parts[0][:18])  # the issuer: the type-defining body of the type code


def test_fault_license_type_of_department(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    parts = _issued_license_id(platform_nodes, with_fault("license-type-of-department"))
    assert parts[0] == parts[1] + "001"


def test_fault_calendar_of_acceptance_year_only(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("calendar-of-acceptance-year-only")
    application, _, desk = _submitted(platform_nodes, reference)
    number = application["application_no"]
    _act(desk, reference, "accept", application_no=number, params={"calendar_date": "2025-12-31"})
    assert wait_until(lambda: len(mock_events(platform_nodes, "county", number, "SL")) == 1)
    due = mock_events(platform_nodes, "county", number, "SL")[0]["payload"]["promised_due_at"]
    assert due == "2026-01-07T23:59:59+08:00"  # 1 and 2 January counted; the calendar's due day is 8 January


# SIG-02 refusals: their codes and their order
UNKNOWN_STATUS = "/yzw/v1/applications/33010612026092898579678"


def _asked(
    reference: RunningReference,
    *,
    app_id: str | None = None,
    secret: str | None = None,
    stamp: str | None = None,
    nonce: str | None = None,
    drop: str | None = None,
    path: str = UNKNOWN_STATUS,
) -> tuple[int, str]:
    """A status query signed as the platform, with the chosen header values; its status and code."""
    stamp = stamp or str(int(time.time()))
    nonce = nonce or new_nonce()
    canonical = canonical_string("GET", path, "", stamp, nonce, b"")
    headers = {
        "X-Yzw-App-Id": app_id or reference.system.platform_app_id,
        "X-Yzw-Timestamp": stamp,
        "X-Yzw-Nonce": nonce,
        "X-Yzw-Signature": signature(secret or reference.system.platform_secret, canonical),
    }
    answer = httpx.get(reference.url + path, headers={k: v for k, v in headers.items() if k != drop})
    return answer.status_code, answer.json()["code"]


def test_fault_signature_errors_one_code(with_fault: Start) -> None:
    reference = with_fault("signature-errors-one-code")
    assert _asked(reference, drop="X-Yzw-Nonce") == (401, "SIGNATURE_INVALID")
    assert _asked(reference, stamp=str(int(time.time()) - 900)) == (401, "SIGNATURE_INVALID")


def test_fault_future_timestamps_accepted(with_fault: Start) -> None:
    reference = with_fault("future-timestamps-accepted")
    assert _asked(reference, stamp=str(int(time.time()) + 900)) == (404, "APPLICATION_UNKNOWN")
    assert _asked(reference, stamp=str(int(time.time()) - 900)) == (401, "TIMESTAMP_EXPIRED")


def test_fault_timestamp_window_one_minute(with_fault: Start) -> None:
    reference = with_fault("timestamp-window-one-minute")
    assert _asked(reference, stamp=str(int(time.time()) - 240)) == (401, "TIMESTAMP_EXPIRED")


def test_fault_nonce_claimed_before_signature(with_fault: Start) -> None:
    reference = with_fault("nonce-claimed-before-signature")
    nonce = new_nonce()
    assert _asked(reference, nonce=nonce, secret="forged") == (401, "SIGNATURE_INVALID")
    assert _asked(reference, nonce=nonce) == (401, "NONCE_REPLAYED")  # the forgery burnt it


def test_fault_nonces_shared_by_apps(with_fault: Start) -> None:
    reference = with_fault("nonces-shared-by-apps")
    nonce = new_nonce()
    body = json.dumps({"action": "accept", "application_no": UNKNOWN_STATUS[-23:]}).encode()
    own = signed_headers(RECORD["app_id"], RECORD["app_secret"], "POST", "/_driver/actions", body=body, nonce=nonce)
    headers = {**own, "Content-Type": "application/json"}
    answer = httpx.post(reference.url + "/_driver/actions", content=body, headers=headers)
    assert answer.status_code == 404
    assert _asked(reference, nonce=nonce) == (401, "NONCE_REPLAYED")


def test_fault_app_looked_up_first(with_fault: Start) -> None:
    reference = with_fault("app-looked-up-first")
    answer = httpx.get(reference.url + UNKNOWN_STATUS, headers={"X-Yzw-App-Id": "yzw-nobody"})
    assert (answer.status_code, answer.json()["code"]) == (401, "APP_UNKNOWN")


def test_fault_header_syntax_before_app(with_fault: Start) -> None:
    reference = with_fault("header-syntax-before-app")
    assert _asked(reference, app_id="yzw-nobody", nonce="short") == (401, "SIGNATURE_INVALID")


def test_fault_timestamp_read_leniently(with_fault: Start) -> None:
    reference = with_fault("timestamp-read-leniently")
    assert _asked(reference, stamp="2026-11-28T09:30:00+08:00") == (401, "TIMESTAMP_EXPIRED")


def test_fault_nonce_syntax_unchecked(with_fault: Start) -> None:
    reference = with_fault("nonce-syntax-unchecked")
    assert _asked(reference, nonce="0f3c2a9e") == (404, "APPLICATION_UNKNOWN")


def test_fault_timestamp_window_before_syntax(with_fault: Start) -> None:
    reference = with_fault("timestamp-window-before-syntax")
    assert _asked(reference, nonce="0f3c2a9e", stamp=str(int(time.time()) - 900)) == (401, "TIMESTAMP_EXPIRED")


def test_fault_signature_before_timestamp_window(with_fault: Start) -> None:
    reference = with_fault("signature-before-timestamp-window")
    assert _asked(reference, secret="forged", stamp=str(int(time.time()) - 900)) == (401, "SIGNATURE_INVALID")


# signed endpoints and what a refusal leaves
def _unsigned_post(reference: RunningReference, path: str, document: dict[str, Any]) -> httpx.Response:
    return httpx.post(reference.url + path, json=document)


def test_fault_forged_application_kept(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("forged-application-kept")
    application = _application(platform_nodes)
    assert _unsigned_post(reference, "/yzw/v1/applications", application).status_code == 401
    portal, _ = _clients(reference)
    url = f"{reference.url}/yzw/v1/applications/{application['application_no']}"
    assert portal.request("GET", url).status_code == 200  # refused, and kept all the same


def test_fault_supplements_unsigned(with_fault: Start) -> None:
    reference = with_fault("supplements-unsigned")
    answer = _unsigned_post(reference, UNKNOWN_STATUS + "/supplements", {"materials": []})
    assert (answer.status_code, answer.json()["code"]) == (404, "APPLICATION_UNKNOWN")  # judged, not refused 401


def test_fault_catalog_notices_unsigned(with_fault: Start) -> None:
    reference = with_fault("catalog-notices-unsigned")
    notice = {"item_code": FOOD_ITEM, "version": 2, "change": "updated"}
    assert _unsigned_post(reference, "/yzw/v1/catalog/notifications", notice).status_code == 200


def test_fault_supervision_notices_unsigned(with_fault: Start) -> None:
    reference = with_fault("supervision-notices-unsigned")
    assert _unsigned_post(reference, "/yzw/v1/supervision/notices", {"case_no": "x"}).status_code == 400


def test_fault_driver_takes_platform_key(with_fault: Start) -> None:
    reference = with_fault("driver-takes-platform-key")
    portal, _ = _clients(reference)
    body = {"action": "accept", "application_no": UNKNOWN_STATUS[-23:]}
    assert portal.request("POST", reference.url + "/_driver/actions", json=body).status_code == 404


def test_fault_logout_unsigned(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("logout-unsigned")
    with httpx.Client() as browser:
        browser.get(_login(platform_nodes))
        assert _unsigned_post(reference, "/yzw/v1/sso/logout", {"user_id": USER["user_id"]}).status_code == 200
        assert browser.get(reference.url + "/yzw/v1/session").status_code == 401  # anyone ended the session


# the canonical query
ORDER_QUERY = b"a=2&a=10&a=1&b=1&B=2&_=3&k=a~b.c-d_e&s=*!'()"


def _with_query(reference: RunningReference, query: bytes) -> int:
    headers = signed_headers(
        reference.system.platform_app_id, reference.system.platform_secret, "GET", UNKNOWN_STATUS, query
    )
    return httpx.get(httpx.URL(reference.url + UNKNOWN_STATUS, query=query), headers=headers).status_code


def test_fault_query_sorted_by_name_only(with_fault: Start) -> None:
    reference = with_fault("query-sorted-by-name-only")
    assert (_with_query(reference, b"a=1&a=2"), _with_query(reference, b"a=2&a=1")) == (404, 401)


def test_fault_query_sorted_ignoring_case(with_fault: Start) -> None:
    reference = with_fault("query-sorted-ignoring-case")
    assert (_with_query(reference, b"a=1&c=2"), _with_query(reference, b"b=1&B=2&_=3")) == (404, 401)


def test_fault_query_encoded_like_javascript(with_fault: Start) -> None:
    reference = with_fault("query-encoded-like-javascript")
    assert (_with_query(reference, b"k=a~b"), _with_query(reference, b"s=*!'()")) == (404, 401)


# single sign-on
def test_fault_empty_ticket_sent_to_idp(with_fault: Start) -> None:
    reference = with_fault("empty-ticket-sent-to-idp")
    assert httpx.get(reference.url + "/yzw/v1/sso").status_code == 400
    assert httpx.get(reference.url + "/yzw/v1/sso?ticket=").status_code == 401  # the IdP was asked


def _two_sessions(platform: RunningPlatform, reference: RunningReference) -> list[httpx.Client]:
    browsers = [httpx.Client(), httpx.Client()]
    for browser in browsers:
        browser.get(_login(platform))
    portal, _ = _clients(reference)
    portal.request("POST", reference.url + "/yzw/v1/sso/logout", json={"user_id": USER["user_id"]})
    return browsers


def test_fault_logout_ends_latest_session_only(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("logout-ends-latest-session-only")
    browsers = _two_sessions(platform_nodes, reference)
    statuses = [browser.get(reference.url + "/yzw/v1/session").status_code for browser in browsers]
    for browser in browsers:
        browser.close()
    assert statuses == [200, 401]


def test_fault_logout_answers_204(with_fault: Start) -> None:
    reference = with_fault("logout-answers-204")
    portal, _ = _clients(reference)
    assert portal.request("POST", reference.url + "/yzw/v1/sso/logout", json={"user_id": "U1"}).status_code == 204


def _entry_status(platform: RunningPlatform, reference: RunningReference, item_code: str, level: int) -> int:
    with httpx.Client() as browser:
        browser.get(_login(platform, {**USER, "auth_level": level}))
        return browser.get(f"{reference.url}/yzw/v1/items/{item_code}/apply").status_code


def test_fault_auth_level_must_equal(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("auth-level-must-equal")
    assert _entry_status(platform_nodes, reference, FOOD_ITEM, 4) == 403  # the item needs 2


def test_fault_apply_entry_any_department(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("apply-entry-any-department")
    assert _entry_status(platform_nodes, reference, "11330100002489017X3010000789000", 4) == 200  # the city's


def test_fault_apply_entry_generic_form(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("apply-entry-generic-form")
    assert _entry_status(platform_nodes, reference, FOOD_ITEM[:-3] + "999", 4) == 200


# tokens
def test_fault_token_renewed_on_expiry_only(platform_nodes: RunningPlatform, with_fault: Start) -> None:
    reference = with_fault("token-renewed-on-expiry-only")
    _submitted(platform_nodes, reference)  # the system holds a token now
    tokens = platform_nodes.urls["province"] + "/_mock/tokens"
    httpx.post(tokens, json={"action": "revoke", "app_id": RECORD["app_id"]})
    fresh = {**MessageFactory(make_faker(45)).application(), "item_code": PLANNING_ITEM}  # not cached: the catalogue
    answer = _post(reference, fresh)
    assert (answer.status_code, answer.json()["code"]) == (503, "DEPENDENCY_UNAVAILABLE")
    assert httpx.get(tokens).json()["token_requests"][RECORD["app_id"]] == 1  # no new token was asked


def test_a_clean_run_at_half_past_midnight_passes_and_the_day_faults_fail(
    platform_nodes: RunningPlatform, tmp_path: Path
) -> None:
    """CODE-05.21, CODE-06.11: at 00:30 +08:00 the UTC day is still yesterday. A clean run at that hour passes
    (no false failure at night), and the faults that count days in UTC (declared `runs_at`) fail there."""
    with at_hour_today("00:30"):
        assert dt.datetime.now(CN_TZ).hour == 0
        assert not_passed(certify(platform_nodes, tmp_path, chapters=frozenset({"CODE"}))) == set()
    for name in ("case-day-in-utc", "window-day-in-utc"):
        fault = catalogue()[name]
        assert fault.runs_at == "00:30"
        assert fault.requirement in not_passed(certify(platform_nodes, tmp_path, (name,), frozenset({"CODE"})))
