"""The clauses a load judgement observes, named in its source the way a conformance check names them.

PERF-01's tier rates and PERF-02 after a full load are judged by `yzw load`, not by a conformance check: a
certification run cannot hold a tier's rate for 60 s. `yzw spec coverage --clauses` reads these marks from
the source (as it reads the checks' `requirement` markers), so such clauses show the judgement that observes
them instead of "no check".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Judgement = TypeVar("Judgement", bound=Callable[..., object])


def judges(requirement: str, clauses: Sequence[str]) -> Callable[[Judgement], Judgement]:
    """Mark a load judgement with the requirement and clauses it observes (read, never evaluated)."""

    def mark(function: Judgement) -> Judgement:
        return function

    return mark
