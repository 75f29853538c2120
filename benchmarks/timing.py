"""Shared timing for the benchmark scripts: best-of-N rate over a list of inputs."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def best_rate(work: Callable[[Any], object], inputs: Sequence[Any], rounds: int) -> float:
    """Inputs per second in the fastest of `rounds` passes (the least disturbed by the shared machine)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for item in inputs:
            work(item)
        best = min(best, time.perf_counter() - start)
    return len(inputs) / best
