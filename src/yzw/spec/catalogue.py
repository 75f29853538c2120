"""A vendor's own catalogue file: the items of one department (CAT-01), read and checked with line numbers.

A real system is configured per item, so the kit cannot certify it against the demo catalogue: the vendor
writes the department's items (the shape of `GET /catalog/v1/items`, JSON or YAML) and the mock platform
serves them. Everything wrong in such a file is found here, before a platform or a run sees it, and named by
file, line, item and field — a vendor fixes a catalogue in an editor, not in a traceback.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from yzw.errors import YzwError
from yzw.spec.findings import pointer_of
from yzw.spec.validate import validate

Lines = dict[str, int]  # JSON pointer → 1-based line of the value in the file


@dataclass(frozen=True)
class CatalogueProblem:
    """One thing wrong in a catalogue file: where (line, item, field), what, the requirement, the fix."""

    source: str
    line: int | None
    item: str
    field: str
    reason: str
    requirement: str
    fix: str

    def render(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.item}: {self.field}: {self.reason} [{self.requirement}]; fix: {self.fix}"


class BadCatalogue(YzwError):
    """A catalogue file that cannot be used; the message is the first problem, on one line."""

    def __init__(self, problems: list[CatalogueProblem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more: `yzw catalog check` lists them)" if len(problems) > 1 else ""
        super().__init__(problems[0].render() + more)


@dataclass(frozen=True)
class Department:
    """What the items must belong to: the record's department (sut.yaml dept_uscc, dept_seq)."""

    uscc: str
    dept_seq: str
    source: str = "the registration record"


def load_catalogue(path: Path, department: Department | None = None) -> list[dict[str, Any]]:
    """The file's items, checked (schema, codes, one department); BadCatalogue naming the first problem."""
    items, problems = read_and_check(path, department)
    if problems:
        raise BadCatalogue(problems)
    return items


def read_and_check(
    path: Path, department: Department | None = None
) -> tuple[list[dict[str, Any]], list[CatalogueProblem]]:
    """The items of the file and every problem found in it (`yzw catalog check` shows them all)."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else exc.strerror or str(exc)
        return [], [_whole(source, f"cannot read the file: {reason}", "give the path of a JSON or YAML file")]
    try:
        document, lines = _parse(text, path.suffix.lower() == ".json")
    except ValueError as exc:
        return [], [_whole(source, str(exc), "write the file as JSON or YAML (see README, catalog:)")]
    items = document.get("items") if isinstance(document, dict) else document
    if not isinstance(items, list) or not items:
        fix = "write a mapping with an `items` list (or a list) of at least one item in the shape of CAT-01"
        return [], [_whole(source, "the file holds no list of items", fix)]
    prefix = "/items" if isinstance(document, dict) else ""
    return items, check_items(items, source, lines, prefix, department)


def check_items(
    items: list[Any],
    source: str = "the catalogue",
    lines: Lines | None = None,
    prefix: str = "",
    department: Department | None = None,
) -> list[CatalogueProblem]:
    """Every item against specs/schemas/item.schema.json, then the codes: each item_code is the department's
    (its USCC opens it, CODE-04), unique, its base_code closes it; every item is of the one department."""
    if not items:
        return []
    lines = lines or {}
    problems: list[CatalogueProblem] = []
    first = items[0] if isinstance(items[0], dict) else {}
    owner = department or _owner_of(first, source)
    counts = Counter(str(item.get("item_code")) for item in items if isinstance(item, dict))
    seen: set[str] = set()
    for index, item in enumerate(items):
        at = f"{prefix}/{index}"
        name = _name(index, item)

        def problem(member: str, reason: str, requirement: str, fix: str, _at: str = at, _name: str = name) -> None:
            pointer = f"{_at}/{member}" if member else _at
            line = lines.get(pointer) or lines.get(_at)
            problems.append(CatalogueProblem(source, line, _name, member or "(item)", reason, requirement, fix))

        if not isinstance(item, dict):
            problem("", "an item is a mapping of the CAT-01 members", "CAT-01", "write the item as a mapping")
            continue
        for finding in validate("item", item):
            member = finding.path.lstrip("/")
            line = lines.get(at + finding.path) or lines.get(at + _parent(finding.path)) or lines.get(at)
            fix = _fix_for(finding.field, finding.reason)
            field = member or "(item)"
            problems.append(CatalogueProblem(source, line, name, field, finding.reason, finding.requirement, fix))
        code = str(item.get("item_code", ""))
        dept: dict[str, Any] = item["dept"] if isinstance(item.get("dept"), dict) else {}
        if owner is not None and dept.get("uscc") not in (None, owner.uscc):
            problem(
                "dept/uscc",
                f"{dept.get('uscc')} is not the department {owner.uscc} of {owner.source}",
                "REG-01",
                f"list only items of department {owner.uscc} (one catalogue file per department)",
            )
        if owner is not None and dept.get("dept_seq") not in (None, owner.dept_seq):
            problem(
                "dept/dept_seq",
                f"{dept.get('dept_seq')!r} differs from dept_seq {owner.dept_seq!r} of {owner.source}",
                "REG-01",
                f"write dept_seq {owner.dept_seq!r}, as in {owner.source}",
            )
        if owner is not None and len(code) == 31 and code[:18] != owner.uscc:
            problem(
                "item_code",
                f"{code} opens with the USCC {code[:18]}, not the department's {owner.uscc}",
                "CODE-04",
                f"an implementation code starts with the implementing body's USCC: {owner.uscc}",
            )
        base = item.get("base_code")
        if len(code) == 31 and isinstance(base, str) and code[19:] != base:
            problem(
                "base_code",
                f"{base} is not the base code that closes item_code {code} ({code[19:]})",
                "CODE-04",
                "item_code = USCC (18) + exercise level (1) + base_code (12): make them agree",
            )
        if counts[code] > 1 and code in seen:
            problem("item_code", f"{code} is listed twice", "CAT-01", "give each item its own item_code, once")
        seen.add(code)
    return sorted(problems, key=lambda p: p.line or 0)


def _fix_for(member: str, reason: str) -> str:
    """What to change for a schema finding: the cross-field rule says it, a missing member is added."""
    if member == "promised_days":
        return "promise no more days than legal_days (a 即办件, case_kind 1, promises 0)"
    if reason == "required member is missing":
        return f"add `{member}` to the item (see specs/schemas/item.schema.json)"
    return f"write {member or 'the item'} as specs/schemas/item.schema.json asks"


def _owner_of(item: dict[str, Any], source: str) -> Department | None:
    """Without a record, the file's first item names the department every other item must belong to."""
    dept = item.get("dept")
    if isinstance(dept, dict) and isinstance(dept.get("uscc"), str) and isinstance(dept.get("dept_seq"), str):
        return Department(dept["uscc"], dept["dept_seq"], f"the first item of {source}")
    return None


def _name(index: int, item: Any) -> str:
    if isinstance(item, dict) and item.get("item_code"):
        title = f" {item['name']}" if isinstance(item.get("name"), str) else ""
        return f"item {index + 1} ({item['item_code']}{title})"
    return f"item {index + 1}"


def _parent(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0] if "/" in pointer.lstrip("/") else ""


def _whole(source: str, reason: str, fix: str) -> CatalogueProblem:
    return CatalogueProblem(source, None, "the file", "(document)", reason, "CAT-01", fix)


def _parse(text: str, as_json: bool) -> tuple[Any, Lines]:
    """The document and the line of each value; ValueError with the position when it is not JSON or YAML."""
    try:
        document = json.loads(text) if as_json else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {exc.lineno}: malformed JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ValueError(f"{where}malformed YAML: {getattr(exc, 'problem', None) or exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return document, {}  # JSON that YAML cannot read: the checks still run, without line numbers
    lines: Lines = {}
    _walk(node, [], lines)
    return document, lines


def _walk(node: yaml.Node | None, steps: list[str | int], lines: Lines) -> None:
    if node is None:
        return
    lines[pointer_of(steps)] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[pointer_of([*steps, str(key.value)])] = key.start_mark.line + 1
            _walk(value, [*steps, str(key.value)], lines)
            lines[pointer_of([*steps, str(key.value)])] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            _walk(value, [*steps, index], lines)
