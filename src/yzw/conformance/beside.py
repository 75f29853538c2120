"""Checks that wait, run side by side once per chapter, so that their waits overlap: a deeper check shares the
run's time instead of adding its own wait (a back-off of seconds, an exchange that holds a push).

A check marked `side_by_side` is written like any other. With the system's driver, the first such check of a
module runs every selected one of that module at once, each in its own thread with its own fixtures (its own
applications; its faults scoped to them by `Nodes.scoped`), and each check then reports the outcome it had there.
Only a pass is kept, and only when every fault the check scoped fired. A check that failed, skipped or erred
beside the others runs again alone in its own turn (its platform reset, as always), and that run is its verdict:
a system that handles one push at a time, or spells a number otherwise, is never failed for another check's
wait. Without a driver (a person acts, or the check is manual) every check runs alone.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from yzw.conformance.evidence import Evidence

MARKER = "side_by_side"
KIT = frozenset({"target", "evidence", "platform", "sut", "raw", "driver", "scenario"})  # fixtures a kit holds

Kit = Callable[[pytest.Function, ExitStack], dict[str, Any]]  # a check's fixtures, their closing on the stack


@dataclass(frozen=True)
class Outcome:
    """How a check went beside the others: kept only when `passed`; its evidence, and why it is not kept."""

    passed: bool
    evidence: Evidence
    why: str = ""


def wants(item: pytest.Item) -> bool:
    """Whether the check is marked to run side by side and needs only fixtures a kit holds (a parametrised
    check, or one with other fixtures, runs alone)."""
    if not isinstance(item, pytest.Function) or item.get_closest_marker(MARKER) is None:
        return False
    return not hasattr(item, "callspec") and set(inspect.signature(item.function).parameters) <= KIT


def run_together(items: list[pytest.Function], kit: Kit) -> dict[str, Outcome]:
    """Every check at once, each with a kit of its own: its outcome by node id."""
    started = time.monotonic()
    with ThreadPoolExecutor(max(1, len(items)), thread_name_prefix="beside") as pool:
        running = {item.nodeid: pool.submit(_one, item, kit) for item in items}
    outcomes = {nodeid: future.result() for nodeid, future in running.items()}
    seconds = time.monotonic() - started
    for outcome in outcomes.values():
        outcome.evidence.note(f"run side by side with {len(items) - 1} other check(s), {seconds:.1f} s in all")
    return outcomes


def _one(item: pytest.Function, kit: Kit) -> Outcome:
    evidence = Evidence()
    try:
        with ExitStack() as stack:
            fixtures = kit(item, stack)
            evidence = fixtures["evidence"]
            item.function(**{name: fixtures[name] for name in inspect.signature(item.function).parameters})
            unfired = fixtures["platform"].unfired()
    except BaseException as outcome:  # a violation, a skip, the kit's own error: the check runs again alone
        return Outcome(False, evidence, f"{type(outcome).__name__}: {outcome}".splitlines()[0])
    if unfired:
        return Outcome(False, evidence, f"{len(unfired)} scoped fault(s) never fired: {unfired[0].get('path')}")
    return Outcome(True, evidence)
