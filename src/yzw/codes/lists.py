"""The code lists of specs/codes, loaded once: divisions, certificate types, channels, steps …"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from yzw.content import content_path
from yzw.errors import SpecError


@dataclass(frozen=True)
class Division:
    """One GB/T 2260 code with its name; `last_year` set for an abolished code."""

    code: str
    name: str
    first_year: int | None
    last_year: int | None


def _csv_rows(*parts: str) -> Iterator[dict[str, str]]:
    path = content_path(*parts)
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(line for line in fh if not line.startswith("#"))
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc}") from exc


def _year(text: str) -> int | None:
    return int(text) if text else None


@cache
def national_divisions() -> dict[str, Division]:
    """Every GB/T 2260 code ever in use, current and historical (ID numbers carry abolished ones)."""
    return {
        row["code"]: Division(row["code"], row["name"], _year(row["first_year"]), _year(row["last_year"]))
        for row in _csv_rows("specs", "codes", "divisions.csv")
    }


@cache
def zhejiang_divisions() -> dict[str, str]:
    """The current Zhejiang codes (CODE-03) with their names."""
    return {row["code"]: row["name"] for row in _csv_rows("specs", "codes", "zhejiang.csv")}


@cache
def _lists() -> dict[str, Any]:
    path = content_path("specs", "codes", "lists.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SpecError(f"{path} must be a mapping of code lists")
    return data


def code_list(name: str) -> dict[str, Any]:
    """One list of specs/codes/lists.yaml (`certificate_types`, `channels`, `steps` …) as value → entry."""
    try:
        values = _lists()[name]["values"]
    except KeyError as exc:
        raise SpecError(f"specs/codes/lists.yaml has no list {name!r}") from exc
    return dict(values)


@cache
def channel_digits() -> dict[str, str]:
    """Channel name → the digit it puts in application_no (CODE-05)."""
    return {name: entry["digit"] for name, entry in code_list("channels").items()}


def platform_channels() -> tuple[str, ...]:
    """The channels whose application_no the unified application system issues (CODE-05); a departmental
    system issues the others' (window, agent point) itself."""
    return tuple(name for name, entry in code_list("channels").items() if entry["issued_by"] == "platform")
