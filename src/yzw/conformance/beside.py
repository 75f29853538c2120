"""Checks that wait, run side by side once per chapter, so that their waits overlap: a deeper check shares the
run's time instead of adding its own wait (a back-off of seconds, an exchange that holds a push).

A check marked `side_by_side` is written like any other. With the system's driver, the first such check of a
module runs every selected one of that module at once, each in its own thread with its own fixtures (its own
applications; its faults scoped to them by `Nodes.scoped`), and each check then reports the outcome it had there.
Only a pass is kept, and only when every fault the check scoped fired. A check that failed, skipped or erred
beside the others runs again alone in its own turn (its platform reset, its faults still scoped: the system may
still be busy with the others' applications), and that run is its verdict: a system that handles one push at a
time, or spells a number otherwise, is never failed for another check's wait.

Neither may a wait make a check easier: a check that watches for something that must not happen (a resend, a
decision nobody took) would miss it if the system's pushes queued behind another check's held push. So a probe
applies and accepts an application of its own every half second while the checks run; when its SL reaches the
exchange later than QUEUED_SECONDS after the accept, the system queues, and no pass beside the others is kept.
Without a driver (a person acts, or the check is manual), or in an xdist worker, every check runs alone.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from yzw.conformance.evidence import Evidence

MARKER = "side_by_side"
KIT = frozenset({"target", "evidence", "platform", "sut", "raw", "driver", "scenario"})  # fixtures a kit holds
QUEUED_SECONDS = 0.3  # the probe's SL later than this after its accept: the system's pushes queue
PROBE_EVERY = 0.5  # seconds between two probes

Kit = Callable[[pytest.Function, ExitStack], dict[str, Any]]  # a check's fixtures, their closing on the stack
Probe = Callable[[], float]  # one application accepted: seconds until its SL reached the exchange (inf: never)


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
    if any(item.iter_markers("skip")) or any(item.iter_markers("skipif")) or any(item.iter_markers("usefixtures")):
        return False
    return not hasattr(item, "callspec") and set(inspect.signature(item.function).parameters) <= KIT


def run_together(items: list[pytest.Function], kit: Kit, probe: Probe | None = None) -> dict[str, Outcome]:
    """Every check at once, each with a kit of its own, the system's queue probed meanwhile: each check's
    outcome by node id (none kept when the probe found the system's pushes queued)."""
    started, finished, stop = time.monotonic(), threading.Event(), threading.Event()
    with ThreadPoolExecutor(len(items) + 1, thread_name_prefix="beside") as pool:
        running = {item.nodeid: pool.submit(_one, item, kit, stop) for item in items}
        watching = pool.submit(_watch, probe, finished, stop) if probe else None
        try:
            wait(running.values())
        except BaseException:  # Ctrl-C: the checks stop waiting, and the run ends with them
            stop.set()
            raise
        finally:
            finished.set()
    outcomes = {nodeid: future.result() for nodeid, future in running.items()}
    queued = watching.result() if watching else ""
    seconds = time.monotonic() - started
    for nodeid, outcome in outcomes.items():
        outcome.evidence.note(f"run side by side with {len(items) - 1} other check(s), {seconds:.1f} s in all")
        if queued:
            outcomes[nodeid] = Outcome(False, outcome.evidence, queued)
    return outcomes


def _watch(probe: Probe, finished: threading.Event, stop: threading.Event) -> str:
    """Probe until the checks finish: why no pass may be kept (the checks are then called off), or "" when the
    system's pushes never came late."""
    while not finished.is_set():
        try:
            seconds = probe()
        except BaseException as error:  # no probe, no proof: the checks are judged alone
            stop.set()
            return f"the probe of the system's outbox failed ({type(error).__name__}: {error})".splitlines()[0]
        if seconds > QUEUED_SECONDS:
            stop.set()
            return (
                f"an application no check hindered had its SL at the exchange {seconds:.1f} s after the accept "
                "(its pushes queue or are polled): a watch beside the others' waits could miss what it pushes"
            )
        finished.wait(PROBE_EVERY)
    return ""


def _one(item: pytest.Function, kit: Kit, stop: threading.Event) -> Outcome:
    evidence = Evidence()
    try:
        with ExitStack() as stack:
            fixtures = kit(item, stack)
            evidence = fixtures["evidence"]
            fixtures["platform"].stop = stop  # a probe that finds the pushes late calls every wait off
            item.function(**{name: fixtures[name] for name in inspect.signature(item.function).parameters})
            unfired = fixtures["platform"].unfired()
    except BaseException as outcome:  # a violation, a skip, the kit's own error: the check runs again alone
        return Outcome(False, evidence, f"{type(outcome).__name__}: {outcome}".splitlines()[0])
    if unfired:
        return Outcome(False, evidence, f"{len(unfired)} scoped fault(s) never fired: {unfired[0].get('path')}")
    return Outcome(True, evidence)
