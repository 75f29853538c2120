"""CODE-03: division_code fields of this province's messages hold a current Zhejiang code."""

from __future__ import annotations

from yzw.codes.lists import national_divisions, zhejiang_divisions
from yzw.codes.problem import DIGITS, CodeProblem, charset_problem, length_problem

PROVINCE_PREFIX = "33"


def check_division(value: str, *, requirement: str = "CODE-03", what: str = "division code") -> CodeProblem | None:
    """A current Zhejiang code; names abolished and out-of-province codes for what they are."""
    if value in zhejiang_divisions():
        return None
    shape = length_problem(requirement, value, 6, what) or charset_problem(requirement, value, DIGITS, what)
    if shape:
        return shape
    known = national_divisions().get(value)
    expected = "a current Zhejiang code from specs/codes/zhejiang.csv, e.g. 330106 西湖区"
    if known is None:
        return CodeProblem(requirement, "unknown", f"{what} {value} is no GB/T 2260 code", value, expected=expected)
    if value.startswith(PROVINCE_PREFIX):
        until = f" (abolished {known.last_year})" if known.last_year else ""
        return CodeProblem(
            requirement,
            "retired",
            f"{what} {value} {known.name}{until} is no longer current",
            value,
            expected=expected,
            fix="use the code of the division that replaced it",
        )
    return CodeProblem(
        requirement,
        "outside_province",
        f"{what} {value} {known.name} is not a Zhejiang division",
        value,
        expected=expected,
    )
