"""Checks run side by side (yzw.conformance.beside and the plugin's pytest_pyfunc_call): only a pass beside the
others is kept, anything else runs again alone; without a driver nothing runs beside."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Any

import pytest

from yzw.conformance import beside, plugin
from yzw.conformance.evidence import Evidence
from yzw.conformance.nodes import Nodes

CHECKS = """
import threading
import pytest
from yzw.conformance.violations import Violation

TOGETHER = threading.Barrier(4, timeout=2)  # breaks unless the four marked checks run at once


@pytest.mark.side_by_side
def test_passes(platform):
    TOGETHER.wait()
    platform.seen.append("passes")


@pytest.mark.side_by_side
def test_fails_beside(platform):
    TOGETHER.wait()
    raise Violation("a retry came too soon", "≥ 1 s", "0.2 s", "back off")


@pytest.mark.side_by_side
def test_skips_beside(scenario):
    TOGETHER.wait()
    pytest.skip("not-applicable: nothing to refuse")


@pytest.mark.side_by_side
def test_fault_never_fired(platform):
    TOGETHER.wait()
    platform.left = [{"path": "/exchange/v1/events", "match": "330100"}]


def test_not_marked(platform):
    pass


@pytest.mark.side_by_side
def test_needs_another_fixture(platform, clock):
    pass


@pytest.mark.side_by_side
@pytest.mark.parametrize("status", [500, 503])
def test_parametrised(platform, status):
    pass
"""


class _Platform:
    """The part of Nodes a check beside others uses here: what it saw, and the scoped faults left unfired."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.left: list[dict[str, str]] = []
        self.stop: threading.Event | None = None

    def unfired(self) -> list[dict[str, str]]:
        return self.left


def _kit(item: pytest.Function, stack: ExitStack) -> dict[str, Any]:
    evidence = Evidence()
    evidence.note(f"kit of {item.name}")
    return {"evidence": evidence, "platform": _Platform(), "scenario": object(), "target": object()}


@pytest.fixture
def checks(pytester: pytest.Pytester) -> dict[str, pytest.Function]:
    items = pytester.getitems(CHECKS)
    return {item.name: item for item in items if isinstance(item, pytest.Function)}


def test_a_check_runs_beside_only_when_marked_and_its_fixtures_are_a_kits(checks: dict[str, pytest.Function]) -> None:
    assert {name for name, item in checks.items() if beside.wants(item)} == {
        "test_passes",
        "test_fails_beside",
        "test_skips_beside",
        "test_fault_never_fired",
    }


def test_only_a_pass_with_every_scoped_fault_fired_is_kept(checks: dict[str, pytest.Function]) -> None:
    group = [item for item in checks.values() if beside.wants(item)]
    outcomes = {nodeid.rsplit("::", 1)[1]: o for nodeid, o in beside.run_together(group, _kit).items()}
    assert {name: o.passed for name, o in outcomes.items()} == {
        "test_passes": True,
        "test_fails_beside": False,
        "test_skips_beside": False,
        "test_fault_never_fired": False,
    }
    assert "a retry came too soon" in outcomes["test_fails_beside"].why
    assert "nothing to refuse" in outcomes["test_skips_beside"].why
    assert "1 scoped fault(s) never fired: /exchange/v1/events" in outcomes["test_fault_never_fired"].why
    assert "kit of test_passes" in outcomes["test_passes"].evidence.notes
    assert any("side by side with 3 other" in note for note in outcomes["test_passes"].evidence.notes)


class _Nodes(Nodes):
    """The check's own platform fixture, as far as a run again alone needs it: reset, and its faults scoped."""

    def __init__(self) -> None:
        self.beside = False
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1


def _conformance_run(
    checks: dict[str, pytest.Function],
    driver_url: str,
    monkeypatch: pytest.MonkeyPatch,
    queued_for: float = 0.02,
) -> list[str]:
    """The plugin's view of a run of these checks with (or without) the system's driver, its probe seeing an SL
    `queued_for` seconds after each accept; the kits made, by check ("#probe" for the probe's)."""
    made: list[str] = []
    item = checks["test_passes"]
    item.session.items = list(checks.values())

    def kit(run: Any, check: pytest.Function, stack: ExitStack, seeded: str) -> dict[str, Any]:
        made.append(check.name if seeded == "#beside" else seeded)
        return _kit(check, stack)

    monkeypatch.setattr(plugin, "_kit", kit)
    monkeypatch.setattr(plugin, "_queue_probe", lambda kit: lambda: queued_for)
    item.config.stash[plugin.RUN] = SimpleNamespace(target=SimpleNamespace(driver_url=driver_url))  # type: ignore[assignment]
    return made


def test_the_plugin_keeps_a_pass_and_runs_anything_else_again_alone(
    checks: dict[str, pytest.Function], monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _conformance_run(checks, "http://127.0.0.1:9/driver", monkeypatch)
    verdicts = {}
    for name in ("test_passes", "test_fails_beside", "test_skips_beside", "test_fault_never_fired", "test_not_marked"):
        checks[name].funcargs = {"evidence": Evidence(), "platform": _Nodes()}
        verdicts[name] = plugin.pytest_pyfunc_call(checks[name])
    assert verdicts == {
        "test_passes": True,  # reported from beside the others: the check's body is not run again
        "test_fails_beside": None,  # None: pytest runs the check now, alone, and that run is its verdict
        "test_skips_beside": None,
        "test_fault_never_fired": None,
        "test_not_marked": None,
    }
    assert sorted(made) == ["#probe", "test_fails_beside", "test_fault_never_fired", "test_passes", "test_skips_beside"]
    kept = checks["test_passes"].funcargs["evidence"]
    assert "kit of test_passes" in kept.notes
    again = checks["test_fails_beside"].funcargs["evidence"]
    assert any("run again alone" in note and "a retry came too soon" in note for note in again.notes)
    platforms = {name: checks[name].funcargs["platform"] for name in verdicts}
    assert {name: (p.beside, p.resets) for name, p in platforms.items()} == {
        "test_passes": (False, 0),  # kept: never run again
        "test_fails_beside": (True, 0),  # run again after its own fixtures' reset, its faults still scoped
        "test_skips_beside": (True, 0),
        "test_fault_never_fired": (True, 0),
        "test_not_marked": (False, 0),
    }


def test_a_first_check_run_again_gets_its_platform_reset(
    checks: dict[str, pytest.Function], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first marked check ran the others from within its own call, after its fixtures reset the platform."""
    _conformance_run(checks, "http://127.0.0.1:9/driver", monkeypatch)
    first = checks["test_fails_beside"]
    first.session.items = [first, checks["test_passes"], checks["test_skips_beside"], checks["test_fault_never_fired"]]
    first.funcargs = {"evidence": Evidence(), "platform": _Nodes()}
    assert plugin.pytest_pyfunc_call(first) is None
    assert (first.funcargs["platform"].beside, first.funcargs["platform"].resets) == (True, 1)


def test_no_pass_is_kept_when_the_systems_pushes_queue(
    checks: dict[str, pytest.Function], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A system whose pushes wait behind another check's held push could hide a resend until a watch ended."""
    _conformance_run(checks, "http://127.0.0.1:9/driver", monkeypatch, queued_for=2.0)
    passes = checks["test_passes"]
    passes.funcargs = {"evidence": Evidence(), "platform": _Nodes()}
    assert plugin.pytest_pyfunc_call(passes) is None
    assert any("could miss what it pushes" in note for note in passes.funcargs["evidence"].notes)


def test_without_a_driver_every_check_runs_alone(
    checks: dict[str, pytest.Function], monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _conformance_run(checks, "", monkeypatch)
    checks["test_passes"].funcargs = {"evidence": Evidence()}
    assert plugin.pytest_pyfunc_call(checks["test_passes"]) is None
    assert made == []


def test_the_barrier_proves_the_checks_run_at_once(checks: dict[str, pytest.Function]) -> None:
    """Run one by one, the first marked check would wait at the barrier until it breaks."""
    lone = beside.run_together([checks["test_passes"]], _kit)
    assert not next(iter(lone.values())).passed
    assert threading.BrokenBarrierError.__name__ in next(iter(lone.values())).why
