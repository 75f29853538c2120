"""The norm's numbers live in specs/rules and are read through `yzw.spec.limits`; code never copies them."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml
from tests.conftest import NORM_FILE, REPO

from yzw import client, signing
from yzw.register import load_register
from yzw.spec.limits import Limits, as_dict, hours, limits

RULES = REPO / "specs" / "rules"
SCANNED = (REPO / "src" / "yzw", REPO / "loadtests", REPO / "conformance")
ACCESSOR = REPO / "src" / "yzw" / "spec" / "limits.py"
# Layers 0 and 1 cannot import yzw.spec (ARCHITECTURE.md): their constants stay, held equal to the norm here.
LOWER_LAYER = {
    ("signing.py", "TIMESTAMP_WINDOW"): "timestamp_window_seconds",
    ("signing.py", "NONCE_WINDOW"): "nonce_window_seconds",
    ("client.py", "REFRESH_MARGIN"): "token_refresh_margin_seconds",
}
UNITS = {"seconds", "second", "s", "bytes", "ms"}
FOLD: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Mult: operator.mul,
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Pow: operator.pow,
    ast.LShift: lambda a, b: int(a) << int(b),
}


def _value(node: ast.AST) -> float | None:
    """The value of a numeric constant expression (`12 * 3600`, `10 * 1024 * 1024`), else None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in FOLD:
        left, right = _value(node.left), _value(node.right)
        if left is not None and right is not None:
            return float(FOLD[type(node.op)](left, right))
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _text_patterns() -> dict[re.Pattern[str], str]:
    """How a message would spell a norm number out (`12 h`, `12 hours`, `43200 s`, `10 MiB`, `60 s`): the fields."""
    patterns: dict[str, list[str]] = {}
    for name, value in as_dict().items():
        forms = []
        if name.endswith("_seconds") and value >= 60:
            forms.append(rf"{value:.0f} s(econds)?")  # `60s` is a --duration (PERF-01, slo.yaml)
        if name.endswith("_seconds") and value >= 3600 and value % 3600 == 0:
            forms.append(rf"{value / 3600:.0f} ?(h|hours?)")
        if name.endswith("_bytes") and value % 2**20 == 0:
            forms += [rf"{value / 2**20:.0f} ?MiB", f"{value:.0f}", f"{value:,.0f}"]
        if forms:
            patterns.setdefault(r"(?<![\w.,])(" + "|".join(forms) + r")(?![\w,])", []).append(name)
    return {re.compile(pattern): " or ".join(names) for pattern, names in patterns.items()}


def _named_like(target: str, field: str) -> bool:
    """`DEADLINE_SECONDS` or `REAL_TIME_SECONDS` names the field `event_deadline_seconds` / `real_time_seconds`."""
    words = set(target.lower().split("_")) - UNITS
    return bool(words) and words <= set(field.split("_"))


def _copies(path: Path) -> Iterator[tuple[int, str]]:
    """(line, what) for each copy of a norm number in one Python file."""
    numbers, distinctive = as_dict(), {}
    for name, number in numbers.items():
        if number >= 1000:  # small numbers (2, 60, 300) are everywhere: only their named copies count
            distinctive[number] = f"{distinctive[number]} or {name}" if number in distinctive else name
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings, patterns = _docstrings(tree), _text_patterns()
    for node in ast.walk(tree):
        value = _value(node) if isinstance(node, ast.BinOp | ast.Constant) else None
        if value in distinctive:
            yield node.lineno, f"{ast.unparse(node)} is {distinctive[value]} of the norm"
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            assigned = _value(node.value) if node.value is not None else None
            for target in targets:
                if not isinstance(target, ast.Name) or (path.name, target.id) in LOWER_LAYER:
                    continue
                for field, number in numbers.items():
                    if assigned == number and _named_like(target.id, field):
                        yield node.lineno, f"{target.id} = {ast.unparse(node.value)} copies {field}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            for pattern, field in patterns.items():
                if match := pattern.search(node.value):
                    yield node.lineno, f"the text {match.group(0)!r} spells {field} out; format it from limits()"


def test_every_number_is_read_from_the_rules_files() -> None:
    given = yaml.safe_load((RULES / "limits.yaml").read_text(encoding="utf-8"))
    monitoring = yaml.safe_load((RULES / "monitoring.yaml").read_text(encoding="utf-8"))
    events = yaml.safe_load((RULES / "events.yaml").read_text(encoding="utf-8"))
    numbers = as_dict()
    assert {**given, "event_deadline_seconds": 0, "clock_skew_seconds": 0}.keys() == numbers.keys()
    assert all(numbers[name] == value for name, value in given.items())
    assert numbers["event_deadline_seconds"] == monitoring["twelve_hours"]
    assert numbers["clock_skew_seconds"] == events["timing"]["clock_skew_seconds"]
    assert isinstance(limits(), Limits)
    assert limits() is limits()


def test_each_number_in_limits_yaml_names_its_requirement_and_clause() -> None:
    register = load_register()
    norm = NORM_FILE.read_text(encoding="utf-8") if NORM_FILE.is_file() else ""
    for line in (RULES / "limits.yaml").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        found = re.match(r"(\w+): *([\d.]+) +# ([A-Z]+-\d\d) \(§(\d+)\): ", line)
        assert found, f"limits.yaml: {line!r} lacks '# REQ-ID (§N): the norm's words'"
        assert found.group(3) in register, f"limits.yaml: {found.group(3)} is not a requirement of the norm"
        if norm:  # the norm's text states the requirement
            assert f"**{found.group(3)}**" in norm


def test_the_lower_layers_constants_equal_the_norm() -> None:
    modules = {"signing.py": signing, "client.py": client}
    for (module, name), field in LOWER_LAYER.items():
        assert getattr(modules[module], name) == as_dict()[field], f"{module} {name} differs from limits().{field}"


def test_no_copy_of_a_norm_number_outside_the_accessor() -> None:
    copies = [
        f"{path.relative_to(REPO)}:{line}: {what}"
        for folder in SCANNED
        for path in sorted(folder.rglob("*.py"))
        if path != ACCESSOR
        for line, what in _copies(path)
    ]
    assert not copies, "read these from yzw.spec.limits.limits():\n" + "\n".join(copies)


def test_the_scan_finds_the_copies_it_was_written_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Within 12 h (a docstring may say it)."""\n'
        "TWELVE_HOURS = 12 * 3600\n"
        "MAX_BODY = 10 * 1024 * 1024  # MSG-04\n"
        "TOO_BIG = 10 * 1024 * 1024 + 1\n"
        "REAL_TIME_SECONDS = 60\n"
        "NOTICE_SECONDS = 60.0\n"
        "GRACE_SECONDS = 60\n"
        'REASON = "arrived late (the limit is 12 h)"\n'
        'LABEL = f"{x} 60 s 实时"\n'
        'FIX = "refuse bodies over 10 MiB"\n'
        "answer = text[:300]\n",
        encoding="utf-8",
    )
    assert sorted({line for line, _ in _copies(sample)}) == [2, 3, 4, 5, 6, 8, 9, 10]


def test_hours_are_written_as_the_messages_say_them() -> None:
    assert hours(limits().event_deadline_seconds) == "12 h"
    assert hours(5400) == "1.5 h"
