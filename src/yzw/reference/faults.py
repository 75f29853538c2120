"""The seeded faults of the reference system (mocks/faults.yaml): names, and the check that a name exists."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from yzw.content import content_path
from yzw.errors import YzwError
from yzw.reference.parts import assemble


@dataclass(frozen=True)
class Fault:
    name: str
    requirement: str
    does: str
    also: tuple[str, ...] = ()
    under_load: bool = False  # shows only under concurrency: `yzw load --with-checks` fails it, a run cannot
    part: tuple[str, ...] = ()  # the parts of the reference system it replaces (yzw.reference.parts)
    clauses: tuple[str, ...] = ()  # the clauses of its requirement it breaks (specs/requirements.yaml)
    runs_at: str | None = None  # "HH:MM" +08:00: it shows only at that hour, so the loop test runs it then


@cache
def catalogue() -> dict[str, Fault]:
    """Every seeded fault by name."""
    data = yaml.safe_load(content_path("mocks", "faults.yaml").read_text(encoding="utf-8"))
    return {f["name"]: _fault(f) for f in data["faults"]}


def _fault(entry: dict[str, Any]) -> Fault:
    part = entry.get("part", ())
    return Fault(
        entry["name"],
        entry["requirement"],
        entry["does"],
        tuple(entry.get("also", ())),
        bool(entry.get("under_load")),
        (part,) if isinstance(part, str) else tuple(part),
        tuple(entry.get("clauses", ())),
        entry.get("runs_at"),
    )


def chosen(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    """The faults to switch on; an unknown name is one clear error listing the known ones, and so are two
    faults replacing one part differently (found now, before anything starts)."""
    unknown = sorted(set(names) - set(catalogue()))
    if unknown:
        raise YzwError(f"unknown fault(s) {', '.join(unknown)}; see mocks/faults.yaml: {', '.join(catalogue())}")
    assemble(names)
    return frozenset(names)
