"""Which requirements have a schema, an OpenAPI operation and a conformance check: read from the files."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from yzw.codes import KINDS as CODE_KINDS
from yzw.content import content_path
from yzw.register import Clause, load_register
from yzw.spec.schemas import FORMATS, schema_documents


@dataclass(frozen=True)
class Coverage:
    """Where one requirement is encoded."""

    requirement: str
    schemas: tuple[str, ...]
    operations: tuple[str, ...]
    checks: tuple[str, ...]


def _walk(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


@cache
def _schema_requirements() -> dict[str, set[str]]:
    """Requirement → schema files that state it (`x-requirement`, or a format checked under it)."""
    by_requirement: dict[str, set[str]] = {}
    for name, document in schema_documents().items():
        for node in _walk(document):
            ids = {node.get("x-requirement")}
            if isinstance(node.get("format"), str) and node["format"] in FORMATS:
                ids.add(CODE_KINDS[FORMATS[node["format"]]].requirement)
            for rid in ids - {None}:
                by_requirement.setdefault(str(rid), set()).add(name)
    return by_requirement


@cache
def _operation_requirements() -> dict[str, set[str]]:
    """Requirement → OpenAPI operations tagged with it (`x-requirements`)."""
    by_requirement: dict[str, set[str]] = {}
    for path in sorted(content_path("specs", "openapi").glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for route in document.get("paths", {}).values():
            for operation in route.values():
                for rid in operation.get("x-requirements", []):
                    by_requirement.setdefault(rid, set()).add(f"{path.stem}:{operation['operationId']}")
    return by_requirement


@dataclass(frozen=True)
class Marked:
    """One conformance test and what its `requirement` marker names."""

    module: str
    test: str
    requirements: tuple[str, ...]
    clauses: tuple[str, ...]


def _strings(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [s for element in node.elts for s in _strings(element)]
    return []


LOAD_JUDGEMENTS = Path(__file__).resolve().parent.parent / "load"  # yzw.load's source: read, never imported


@cache
def marked_tests() -> tuple[Marked, ...]:
    """Every conformance test with a `requirement(...)` marker, and every load judgement with a `judges(...)`
    mark (PERF's tier rates and full-load ledger, which `yzw load` observes), read from source (no import)."""
    found = []
    sources = [*sorted(content_path("conformance").rglob("*.py")), *sorted(LOAD_JUDGEMENTS.glob("*.py"))]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for mark in node.decorator_list:
                if isinstance(mark, ast.Call) and _mark_name(mark.func) in ("requirement", "judges"):
                    ids = tuple(s for arg in mark.args for s in _strings(arg))
                    clauses = tuple(s for kw in mark.keywords if kw.arg == "clauses" for s in _strings(kw.value))
                    found.append(Marked(path.name, node.name, ids, clauses))
    return tuple(found)


def _mark_name(func: ast.expr) -> str | None:
    """`pytest.mark.requirement` → requirement; `judges` → judges."""
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _check_requirements() -> dict[str, set[str]]:
    """Requirement → conformance test modules that carry its marker."""
    by_requirement: dict[str, set[str]] = {}
    for test in marked_tests():
        for rid in test.requirements:
            by_requirement.setdefault(rid, set()).add(test.module)
    return by_requirement


@dataclass(frozen=True)
class ClauseCoverage:
    """Where one clause is observed (conformance tests) and proven observable (seeded faults breaking it)."""

    clause: Clause
    checks: tuple[str, ...]
    faults: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """A clause is covered with a check and a fault, or left to a person with the reason why."""
        return bool(self.clause.manual) or bool(self.checks and self.faults)


def clause_coverage(faults: Mapping[str, Iterable[str]]) -> list[ClauseCoverage]:
    """One row per clause of a system requirement; `faults` maps each seeded fault to the clauses it breaks."""
    checks: dict[str, list[str]] = {}
    for test in marked_tests():
        for clause in test.clauses:
            checks.setdefault(clause, []).append(f"{test.module}::{test.test}")
    broken: dict[str, list[str]] = {}
    for fault, clauses in faults.items():
        for clause in clauses:
            broken.setdefault(clause, []).append(fault)
    return [
        ClauseCoverage(clause, tuple(checks.get(clause.id, ())), tuple(sorted(broken.get(clause.id, ()))))
        for req in load_register().values()
        if req.applies_to == "system"
        for clause in req.clauses
    ]


def coverage() -> list[Coverage]:
    """One row per requirement of the register, in its order."""
    schemas, operations, checks = _schema_requirements(), _operation_requirements(), _check_requirements()
    return [
        Coverage(
            rid,
            tuple(sorted(schemas.get(rid, ()))),
            tuple(sorted(operations.get(rid, ()))),
            tuple(sorted(checks.get(rid, ()))),
        )
        for rid in load_register()
    ]
