"""The layering of ARCHITECTURE.md: a module imports only from its own layer or the layers above."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from tests.conftest import REPO

LAYERS = {
    "content": 0,
    "errors": 0,
    "signing": 0,
    "sm2": 0,
    "register": 1,
    "codes": 1,
    "client": 1,
    "spec": 2,
    "fixtures": 2,
    "sut": 2,
    "mock": 3,
    "serving": 3,
    "reference": 3,
    "conformance": 3,
    "report": 3,
    "load": 3,
    "audit": 3,
    "cli": 4,
}
PACKAGE = REPO / "src" / "yzw"


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 and parts[0] == "yzw" else None


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_its_own_or_higher_layers(path: Path) -> None:
    module = "yzw." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    own = _layer(module)
    if own is None:
        return
    lower = [name for name in _imports(path) if (layer := _layer(name)) is not None and layer > own]
    assert not lower, f"{module} (layer {own}) imports from a lower layer: {lower}"


def test_every_module_belongs_to_a_layer() -> None:
    unplaced = [
        p.name
        for p in PACKAGE.iterdir()
        if p.name not in ("__init__.py", "__pycache__", "py.typed") and p.stem not in LAYERS
    ]
    assert not unplaced, f"add these to ARCHITECTURE.md and LAYERS: {unplaced}"
