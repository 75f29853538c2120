"""Which requirements have a schema, an OpenAPI operation and a conformance check: read from the files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from yzw.codes import KINDS as CODE_KINDS
from yzw.content import content_path
from yzw.register import load_register
from yzw.spec.schemas import FORMATS, schema_documents

_MARKER = re.compile(r"""requirement\(\s*((?:["'][A-Z]+-\d{2}["']\s*,?\s*)+)\)""")


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


def _check_requirements() -> dict[str, set[str]]:
    """Requirement → conformance test modules that carry its marker."""
    by_requirement: dict[str, set[str]] = {}
    for path in sorted(content_path("conformance").rglob("*.py")):
        for match in _MARKER.finditer(path.read_text(encoding="utf-8")):
            for rid in re.findall(r"[A-Z]+-\d{2}", match.group(1)):
                by_requirement.setdefault(rid, set()).add(path.name)
    return by_requirement


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
