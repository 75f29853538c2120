"""The layering of ARCHITECTURE.md: which package of `yzw` may import which, as named pairs.

Any import between two packages that is not listed here fails, and ARCHITECTURE.md's diagram must show
exactly these pairs. Every package may import the base `yzw` module itself (its version and norm name),
`yzw.errors` and `yzw.content`; those are left out of the pairs and the diagram.
"""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest
from tests.conftest import REPO

BASE = frozenset({"errors", "content"})
ALLOWED: dict[str, frozenset[str]] = {
    "content": frozenset(),
    "errors": frozenset(),
    "signing": frozenset(),
    "sm2": frozenset(),
    "register": frozenset(),
    "codes": frozenset(),
    "client": frozenset({"signing"}),
    "spec": frozenset({"codes", "register"}),
    "fixtures": frozenset({"codes"}),
    "sut": frozenset({"spec"}),
    "serving": frozenset({"signing", "spec"}),
    "run": frozenset({"register", "signing", "sut"}),
    "mock": frozenset({"client", "codes", "serving", "signing", "sm2", "spec", "sut"}),
    "reference": frozenset({"client", "codes", "serving", "signing", "sm2", "spec", "sut"}),
    "report": frozenset({"codes", "register", "run", "signing", "sm2", "spec"}),
    "conformance": frozenset({"client", "codes", "fixtures", "register", "report", "run", "spec", "sut"}),
    "load": frozenset({"client", "run", "spec"}),
    "audit": frozenset({"codes", "spec"}),
    "console": frozenset({"codes", "report", "run", "serving", "sut"}),
    "cli": frozenset(
        {
            "audit",
            "codes",
            "conformance",
            "console",
            "fixtures",
            "load",
            "mock",
            "reference",
            "register",
            "report",
            "run",
            "serving",
            "spec",
            "sut",
        }
    ),
}
PACKAGE = REPO / "src" / "yzw"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _package(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return None if parts == ("__init__",) else parts[0]


def _imported_packages(path: Path) -> set[str]:
    """The `yzw` packages a module imports (`from yzw import x` names x)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "yzw":
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("yzw."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("yzw."))
    return {name for name in found if name in ALLOWED}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_the_packages_its_own_may(path: Path) -> None:
    own = _package(path)
    if own is None:
        return
    assert own in ALLOWED, f"yzw.{own} is no package of ARCHITECTURE.md; add it there and to ALLOWED"
    stray = _imported_packages(path) - ALLOWED[own] - BASE - {own}
    assert not stray, f"{path.relative_to(PACKAGE)} (yzw.{own}) imports {sorted(stray)}; not allowed by ARCHITECTURE.md"


def test_conformance_never_imports_the_mock_platform_or_the_reference_system() -> None:
    """The suites judge any system over HTTP: nothing of our own platform or system may leak into a verdict."""
    assert not ALLOWED["conformance"] & {"mock", "reference"}
    for path in (PACKAGE / "conformance").rglob("*.py"):
        assert not _imported_packages(path) & {"mock", "reference"}, path


def test_the_allowed_imports_have_no_cycle() -> None:
    try:
        tuple(TopologicalSorter(ALLOWED).static_order())
    except CycleError as cycle:
        pytest.fail(f"the allowed imports go round: {cycle.args[1]}")


def test_every_package_is_placed() -> None:
    present = {_package(path) for path in MODULES} - {None}
    assert present == set(ALLOWED), f"packages without a place: {present - set(ALLOWED)}"


def test_the_diagram_of_architecture_md_shows_exactly_the_allowed_pairs() -> None:
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    diagram = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert diagram, "ARCHITECTURE.md has no mermaid diagram"
    drawn = set(re.findall(r"^\s*(\w+)\s*-->\s*(\w+)\s*$", diagram.group(1), re.M))
    allowed = {(own, other) for own, others in ALLOWED.items() for other in others}
    assert drawn == allowed, f"only drawn: {sorted(drawn - allowed)}; only allowed: {sorted(allowed - drawn)}"
