"""The seeded faults of the reference system (mocks/faults.yaml): names, and the check that a name exists."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from yzw.content import content_path
from yzw.errors import YzwError


@dataclass(frozen=True)
class Fault:
    name: str
    requirement: str
    does: str
    also: tuple[str, ...] = ()
    under_load: bool = False  # shows only under concurrency: `yzw load --with-checks` fails it, a run cannot


@cache
def catalogue() -> dict[str, Fault]:
    """Every seeded fault by name."""
    data = yaml.safe_load(content_path("mocks", "faults.yaml").read_text(encoding="utf-8"))
    return {
        f["name"]: Fault(f["name"], f["requirement"], f["does"], tuple(f.get("also", ())), bool(f.get("under_load")))
        for f in data["faults"]
    }


def chosen(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    """The faults to switch on; an unknown name is one clear error listing the known ones."""
    unknown = sorted(set(names) - set(catalogue()))
    if unknown:
        raise YzwError(f"unknown fault(s) {', '.join(unknown)}; see mocks/faults.yaml: {', '.join(catalogue())}")
    return frozenset(names)
