"""The requirement register (specs/requirements.yaml): every norm ID as data, validated on load."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
import yaml

from yzw.content import content_path
from yzw.errors import SpecError, UnknownRequirement

REGISTER_FILE = ("specs", "requirements.yaml")
REGISTER_SCHEMA = ("specs", "schemas", "register.schema.json")


@dataclass(frozen=True)
class Clause:
    """One atomic obligation of a requirement (`APP-03.4`): one thing a system could get wrong on its own."""

    id: str
    says: str
    source: str  # verbatim excerpt of the norm; tests/test_register.py finds it in the norm text
    manual: str | None = None  # why no automated check can observe it (a person judges it)

    @property
    def requirement(self) -> str:
        """The requirement the clause belongs to, e.g. `APP-03` for APP-03.4."""
        return self.id.split(".", 1)[0]


@dataclass(frozen=True)
class Requirement:
    """One numbered requirement of the norm."""

    id: str
    level: str
    chapter: int
    title_zh: str
    title_en: str
    statement: str
    clause: str
    seed: str | None
    applies_to: str
    verification: str
    reason: str | None = None
    clauses: tuple[Clause, ...] = ()

    @property
    def area(self) -> str:
        """The ID's area prefix, e.g. `CODE` for CODE-05."""
        return self.id.split("-", 1)[0]


def _read_yaml(parts: tuple[str, ...]) -> Any:
    path = content_path(*parts)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read {path}: {exc}") from exc


def _check_register(data: Any) -> None:
    schema = json.loads(content_path(*REGISTER_SCHEMA).read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: e.json_path)
    if errors:
        first = errors[0]
        raise SpecError(f"specs/requirements.yaml is invalid at {first.json_path}: {first.message}")


@cache
def load_register() -> dict[str, Requirement]:
    """All requirements keyed by ID, in the register's order; the file is schema-checked first."""
    data = _read_yaml(REGISTER_FILE)
    _check_register(data)
    register: dict[str, Requirement] = {}
    for entry in data["requirements"]:
        if entry["id"] in register:
            raise SpecError(f"specs/requirements.yaml lists {entry['id']} twice; IDs are unique")
        register[entry["id"]] = Requirement(
            id=entry["id"],
            level=entry["level"],
            chapter=entry["chapter"],
            title_zh=entry["title_zh"],
            title_en=entry["title_en"],
            statement=entry["statement"],
            clause=entry["source"]["clause"],
            seed=entry["source"].get("seed"),
            applies_to=entry["applies_to"],
            verification=entry["verification"],
            reason=entry.get("reason"),
            clauses=tuple(_clauses(entry)),
        )
    return register


def _clauses(entry: dict[str, Any]) -> list[Clause]:
    clauses = [Clause(c["id"], c["says"], c["source"], c.get("manual")) for c in entry.get("clauses", ())]
    numbers = [int(c.id.rsplit(".", 1)[1]) for c in clauses if c.requirement == entry["id"]]
    if len(numbers) != len(clauses) or numbers != sorted(set(numbers)):
        raise SpecError(
            f"specs/requirements.yaml: the clauses of {entry['id']} are numbered {entry['id']}.1, .2, … in "
            "increasing order (a removed clause leaves its number unused)"
        )
    return clauses


def clauses() -> dict[str, Clause]:
    """Every clause of the register by ID, in the register's order."""
    return {c.id: c for req in load_register().values() for c in req.clauses}


def requirement(req_id: str) -> Requirement:
    """The requirement with this ID; an unknown ID is a user error naming the closest IDs."""
    register = load_register()
    key = req_id.strip().upper()
    if key in register:
        return register[key]
    area = key.split("-", 1)[0]
    near = [rid for rid in register if rid.startswith(area + "-")] or list(register)[:5]
    raise UnknownRequirement(
        f"unknown requirement ID {req_id!r}; IDs look like {', '.join(near[:6])} (see `yzw spec list`)"
    )
