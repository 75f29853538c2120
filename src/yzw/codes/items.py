"""CODE-04: power-item base codes (12 digits) and implementation codes (31 characters), case kinds."""

from __future__ import annotations

from dataclasses import replace

from yzw.codes.identity import check_uscc
from yzw.codes.lists import code_list
from yzw.codes.problem import DIGITS, CodeProblem, charset_problem, length_problem, not_in_list


def check_base_code(value: str, *, what: str = "base_code", offset: int = 0) -> CodeProblem | None:
    """12 digits: item type of the national list (2) + main item (7) + sub-item (3)."""
    problem = length_problem("CODE-04", value, 12, what) or charset_problem("CODE-04", value, DIGITS, what)
    if problem is None and value[:2] not in code_list("item_types"):
        problem = CodeProblem(
            "CODE-04",
            "item_type",
            f"{what} has unknown item type {value[:2]!r}",
            value,
            expected="an item type of specs/codes/lists.yaml (01 行政许可 … 10, 20)",
            position=1,
        )
    if problem is not None and offset and problem.position is not None:
        problem = replace(problem, position=problem.position + offset)
    return problem


def check_item_code(value: str) -> CodeProblem | None:
    """31 characters: implementing body's USCC (18) + exercise level (1) + base_code (12)."""
    problem = length_problem("CODE-04", value, 31, "item_code")
    if problem:
        return problem
    inner = check_uscc(value[:18], requirement="CODE-04", what="implementing body's USCC")
    if inner:
        return CodeProblem(
            "CODE-04",
            "uscc",
            f"item_code positions 1-18: {inner.message}",
            value,
            expected=inner.expected,
            position=inner.position,
            fix=inner.fix,
        )
    if value[18] not in code_list("exercise_levels"):
        return CodeProblem(
            "CODE-04",
            "level",
            f"item_code has unknown exercise level {value[18]!r}",
            value,
            expected="2 province, 3 city, 4 county, 5 township at position 19",
            position=19,
        )
    base = check_base_code(value[19:], what="item_code's base_code", offset=19)
    return replace(base, received=value) if base else None


def check_item_type(value: str) -> CodeProblem | None:
    """事项类型 of the national list (01 行政许可 … 10, 20 公共服务)."""
    return not_in_list("CODE-04", code_list("item_types"), "item type", value)


def check_case_kind(value: str) -> CodeProblem | None:
    """办件类型: 1 即办件 or 2 承诺件."""
    return not_in_list("CODE-04", code_list("case_kinds"), "case kind", value)
