"""Flavours of the reference system: the clean parts, or other choices the norm equally allows.

A check that passes only the reference's own choices would fail a vendor who chose otherwise (a false failure).
The `alternative` flavour takes other allowed readings wherever the norm leaves one: it registers JSON only
(XML is optional, MSG-01), names its session cookie otherwise (SSO-07), numbers from the middle of the daily
ranges (CODE-05, CODE-06), backs off more slowly (EVT-07: first retry ≥ 1 s, growing), polls its outbox
once a second (EVT-06: well within real time) and pushes one event at a time, whatever its application (EVT-07
orders an application's events only): the checks that run side by side must not fail it for each other's waits.
It must pass every check, as the clean flavour does (tests/test_reference_flavours.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from yzw.codes import compose
from yzw.codes.times import today_cn
from yzw.errors import YzwError
from yzw.reference.driver import next_window_serial
from yzw.reference.journal import push_one_at_a_time
from yzw.reference.system import ReferenceSystem
from yzw.sut import Registration

CASE_SERIALS_FROM = 100_000  # CODE-06: a daily serial of 6 digits that increases; where it starts is free
WINDOW_SERIALS_FROM = 5_000  # CODE-05: a daily sequence of 4 digits after the dept_seq; where it starts is free


def _case_no_from_the_middle(system: ReferenceSystem, params: dict[str, Any]) -> str:
    today = today_cn()
    serial = CASE_SERIALS_FROM + system.next_counter(f"case:{today.isoformat()}")
    return compose.case_no(system.registration.division_code, system.registration.dept_seq, today, serial)


def _window_serial_from_the_middle(system: ReferenceSystem) -> int:
    return WINDOW_SERIALS_FROM + next_window_serial(system)


def _slower_backoff(attempts: int) -> float:
    return float(min(300, 1.5 * 3**attempts))


def _json_only(registration: Registration) -> Registration:
    return registration.changed(formats=["json"])


@dataclasses.dataclass(frozen=True)
class Flavour:
    """Parts that replace the clean ones, and how the flavour registers."""

    parts: Mapping[str, Any]
    registers: Callable[[Registration], Registration] = lambda registration: registration


FLAVOURS: dict[str, Flavour] = {
    "clean": Flavour({}),
    "alternative": Flavour(
        {
            "session_cookie_name": "YZW_SESSION",
            "case_no": _case_no_from_the_middle,
            "window_serial": _window_serial_from_the_middle,
            "backoff": _slower_backoff,
            "outbox_idle_seconds": 1.0,
            "outbox_woken": False,
            "push_round": push_one_at_a_time,
        },
        _json_only,
    ),
}


def flavour(name: str) -> Flavour:
    """The named flavour; an unknown name is one clear error listing the known ones."""
    try:
        return FLAVOURS[name]
    except KeyError:
        raise YzwError(f"unknown flavour {name!r}; choose one of: {', '.join(FLAVOURS)}") from None
