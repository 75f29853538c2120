"""SUP-03 monitoring KPIs against hand-computed values, through the mock platform's report."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.mock_helpers import DEPT_USCC, System, register

from yzw.mock.runner import RunningPlatform


@pytest.fixture
def system(platform_nodes: RunningPlatform) -> Iterator[System]:
    registered = register(platform_nodes, seed=21)
    yield registered
    registered.client.close()


def _push(system: System, steps: tuple[str, ...], channel: str, **payload_changes: object) -> None:
    _, events = system.factory.case_history(steps, channel=channel)
    for event in events:
        if event["step"] in ("BJ", "SD"):
            event["payload"].update({k: v for k, v in payload_changes.items() if k in event["payload"]})
        assert system.push(event).status_code == 200, event["step"]


def test_report_kpis_equal_hand_computed_values(system: System) -> None:
    full = ("SL", "CB", "SH", "PZ", "BJ", "SD")
    _push(system, full, "web")  # online, full process, licensed
    _push(system, full, "app", licenses=[], method="pickup")  # online, picked up, no e-license
    _push(system, ("SL", "CB"), "window")  # at the window (SB first), in progress
    _push(system, ("SL",), "web")  # online, accepted
    answer = httpx.get(system.urls["county"] + "/_mock/report", params={"dept_uscc": DEPT_USCC}).json()
    department = answer["departments"][DEPT_USCC]
    kpis = {k["name"]: (k["numerator"], k["denominator"], k["met"]) for k in department["kpis"]}
    assert department["applications"] == 4
    assert kpis == {
        "online_full_process_rate": (2, 4, False),  # 0.50 < county 60 %
        "online_application_rate": (3, 4, True),  # 0.75 ≥ 60 %
        "online_completion_rate": (2, 4, False),  # 0.50 < 55 %
        "at_most_one_visit_share": (3, 3, True),  # 食品经营许可 needs no visit
        "zero_visit_share": (3, 3, True),
        "e_license_rate": (1, 2, None),  # no county target
        "on_time_rate": (2, 2, None),
        "delivered_within_12h_share": (0, 16, False),  # the fixtures' events are months old
    }


def test_report_period_and_bad_dates(system: System) -> None:
    _push(system, ("SL",), "web")
    empty = httpx.get(system.urls["county"] + "/_mock/report", params={"from": "2000-01-01", "to": "2000-12-31"})
    assert empty.json()["departments"] == {}
    bad = httpx.get(system.urls["county"] + "/_mock/report", params={"from": "yesterday", "to": "2000-12-31"})
    assert (bad.status_code, bad.json()["code"]) == (400, "SCHEMA_INVALID")
