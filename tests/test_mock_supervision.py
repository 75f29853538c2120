"""SUP-01 cards against hand-computed vectors across the 2026 National Day holiday and a suspension; SUP-02."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from tests.mock_helpers import StubSystem, System, wait_until

from yzw.codes.times import CN_TZ
from yzw.spec import validate

# 2026: 1-7 October off (weekdays 1, 2, 5, 6, 7 are holidays), Saturday 10 October is a working day.
ACCEPTED = "2026-09-29T10:00:00+08:00"  # Tuesday; 3 working days → 30 Sep, 8 Oct, 9 Oct: due 9 Oct


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def system(notified_system: System) -> System:
    return notified_system


def _history(
    system: System,
    steps: list[tuple[str, str]],
    promised_days: int = 3,
    application: dict[str, Any] | None = None,
    case_no: str | None = None,
) -> list[dict[str, Any]]:
    factory = system.factory
    application = application or factory.application(submitted=_at("2026-09-28T09:00:00+08:00"))
    case_no = case_no or factory.fake.case_no(
        factory.dept["division_code"], factory.dept["dept_seq"], _at(ACCEPTED).date()
    )
    events = []
    for seq, (step, moment) in enumerate(steps, start=1):
        current = case_no if step not in ("BZ", "BZJ", "BYSL") else None
        payload = factory.payload(step, application, current, _at(moment), promised_days)
        events.append(factory.event(application, seq, step, _at(moment), current, payload))
    return events


def _application_of(event: dict[str, Any]) -> dict[str, Any]:
    """Enough of an event's application for more events of it."""
    return {
        "application_no": event["application_no"],
        "division_code": event["division_code"],
        "item_code": event["item_code"],
    }


def _set_clock(system: System, moment: str) -> None:
    httpx.post(system.urls["county"] + "/_mock/clock", json={"set": moment}).raise_for_status()


def _cards(system: System) -> dict[str, dict[str, Any]]:
    cards = httpx.get(system.urls["county"] + "/_mock/cards").json()["cards"]
    return {card["level"]: card for card in cards}


def _push_all(system: System, events: list[dict[str, Any]]) -> None:
    for event in events:
        answer = system.push(event)
        assert answer.status_code == 200, (event["step"], answer.text)


def test_cards_across_the_national_day_holiday(system: System) -> None:
    _set_clock(system, "2026-09-29T12:00:00+08:00")
    events = _history(system, [("SL", ACCEPTED)])
    assert events[0]["payload"]["promised_due_at"] == "2026-10-09T23:59:59+08:00"
    _push_all(system, events)
    assert _cards(system) == {}
    _set_clock(system, "2026-10-08T12:00:00+08:00")  # one working day left: 9 Oct
    assert set(_cards(system)) == {"warning"}
    _set_clock(system, "2026-10-10T12:00:00+08:00")  # Saturday, a working day: past due, not yet a full day
    assert set(_cards(system)) == {"warning", "yellow"}
    _set_clock(system, "2026-10-12T09:00:00+08:00")  # one full working day (10 Oct) past due
    cards = _cards(system)
    assert set(cards) == {"warning", "yellow", "red"}
    assert all(validate("card", card) == [] for card in cards.values())


def test_a_suspension_moves_the_due_day_and_a_late_bj_revokes_the_card(system: System, stub: StubSystem) -> None:
    _set_clock(system, "2026-09-29T12:00:00+08:00")
    steps = [
        ("SL", ACCEPTED),
        ("CB", "2026-09-29T11:00:00+08:00"),
        ("GQ", "2026-09-30T10:00:00+08:00"),
        ("HF", "2026-10-09T10:00:00+08:00"),
    ]  # suspended over 8 and 9 Oct: due 9 Oct + 2 → 12 Oct
    events = _history(system, steps)
    _push_all(system, events)
    _set_clock(system, "2026-10-12T12:00:00+08:00")
    assert set(_cards(system)) == {"warning"}
    _set_clock(system, "2026-10-13T12:00:00+08:00")
    assert set(_cards(system)) == {"warning", "yellow"}
    assert wait_until(lambda: any(r["path"] == "/yzw/v1/supervision/notices" for r in stub.received))
    notice = next(r for r in stub.received if r["path"] == "/yzw/v1/supervision/notices")
    assert (notice["signature"], notice["body"]["card"]) == ("ok", "yellow")
    assert validate("notice", notice["body"]) == []
    finish = [
        ("SH", "2026-10-12T14:00:00+08:00"),
        ("PZ", "2026-10-12T15:00:00+08:00"),
        ("BJ", "2026-10-12T16:00:00+08:00"),
    ]  # BJ on the due day, pushed late
    late = _history(system, [*steps, *finish], application=_application_of(events[0]), case_no=events[0]["case_no"])
    _push_all(system, late[4:])
    yellow = _cards(system)["yellow"]
    assert yellow["revoked"] is True
    assert "on time" in yellow["revoked_reason"]


def test_a_refusal_without_reason_is_a_red_card_without_notice(system: System, stub: StubSystem) -> None:
    _set_clock(system, "2026-09-29T12:00:00+08:00")
    events = _history(system, [("BZ", "2026-09-28T15:00:00+08:00"), ("BYSL", "2026-09-29T10:00:00+08:00")])
    events[1]["payload"]["reason"] = ""
    _push_all(system, events)
    assert set(_cards(system)) == {"red"}
    red = _cards(system)["red"]  # 2026.2: identified by its application_no, a refused application has no case_no
    assert (red["application_no"], red["case_no"]) == (events[1]["application_no"], None)
    assert not wait_until(lambda: any(r["path"] == "/yzw/v1/supervision/notices" for r in stub.received), timeout=1.5)


def test_the_clock_moves_only_supervision(system: System) -> None:
    _set_clock(system, "2030-01-01T00:00:00+08:00")
    clock = httpx.get(system.urls["county"] + "/_mock/clock").json()
    assert clock["now"].startswith("2030-01-01")
    _, events = system.factory.case_history(("SL",))
    assert system.push(events[0]).status_code == 200  # wire times are still judged against real time
    now = dt.datetime.now(CN_TZ)
    assert _at(events[0]["occurred_at"]) < now
