"""Code rules of norm §2 applied to values a system produced."""

from __future__ import annotations

from typing import Any

from yzw.codes import check
from yzw.conformance.violations import Violation


def code(kind: str, value: Any, where: str, **context: Any) -> None:
    """`value` follows the rule of `kind` (CODE-01…09); a missing value breaks it too."""
    if not isinstance(value, str) or not value:
        raise Violation(f"{kind} is missing", f"a {kind} following norm §2", value, f"send the {kind}", where)
    problem = check(kind, value, **context)
    if problem is not None:
        raise Violation.from_code(problem, where)
