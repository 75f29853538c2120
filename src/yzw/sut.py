"""A departmental system's registration record (sut.yaml, norm §1): read and checked before anything uses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from yzw.errors import YzwError
from yzw.spec import validate


def load_record(path: Path) -> dict[str, Any]:
    """The record in `path`, or a YzwError naming the file, each bad field and its reason."""
    try:
        record = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise YzwError(f"cannot read {path}: {exc}") from None
    problems = validate("sut", record) if isinstance(record, dict) else []
    if not isinstance(record, dict) or problems:
        reasons = "; ".join(f"{p.path or '/'} {p.reason}" for p in problems) or "not a mapping"
        raise YzwError(f"[REG-01] {path} is not a valid registration record: {reasons} (see README, sut.yaml)")
    return record
