"""The code rules of norm §2 (CODE-01 … CODE-09): one checker per kind of value.

Every checker takes the value (and optional context) and returns None or the first `CodeProblem`.
`check(kind, value)` dispatches by kind name; `detect_kinds(value)` guesses the kinds a value could be.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yzw.codes.division import check_division
from yzw.codes.identity import (
    check_applicant_kind,
    check_certificate_type,
    check_id_number,
    check_identity_document,
    check_uscc,
)
from yzw.codes.items import check_base_code, check_case_kind, check_item_code, check_item_type
from yzw.codes.license import PREFIX as LICENSE_PREFIX
from yzw.codes.license import check_license_id, check_license_type
from yzw.codes.numbers import check_application_no, check_case_no
from yzw.codes.problem import CodeProblem
from yzw.codes.times import check_date, check_datetime
from yzw.errors import YzwError

__all__ = [
    "KINDS",
    "CodeKind",
    "CodeProblem",
    "check",
    "check_applicant_kind",
    "check_application_no",
    "check_base_code",
    "check_case_kind",
    "check_case_no",
    "check_certificate_type",
    "check_date",
    "check_datetime",
    "check_division",
    "check_id_number",
    "check_identity_document",
    "check_item_code",
    "check_item_type",
    "check_license_id",
    "check_license_type",
    "check_uscc",
    "detect_kinds",
]


@dataclass(frozen=True)
class CodeKind:
    """A kind of coded value: its name, rule, what it is, and its checker."""

    name: str
    requirement: str
    title: str
    checker: Callable[..., CodeProblem | None]


KINDS: dict[str, CodeKind] = {
    kind.name: kind
    for kind in (
        CodeKind("id_number", "CODE-01", "公民身份号码 citizen ID number", check_id_number),
        CodeKind("uscc", "CODE-02", "统一社会信用代码 unified social credit code", check_uscc),
        CodeKind("division", "CODE-03", "行政区划代码 Zhejiang division code", check_division),
        CodeKind("base_code", "CODE-04", "事项基本编码 item base code", check_base_code),
        CodeKind("item_code", "CODE-04", "事项实施编码 item implementation code", check_item_code),
        CodeKind("item_type", "CODE-04", "事项类型 item type", check_item_type),
        CodeKind("case_kind", "CODE-04", "办件类型 case kind", check_case_kind),
        CodeKind("application_no", "CODE-05", "申报编号 application number", check_application_no),
        CodeKind("case_no", "CODE-06", "受理编号 acceptance number", check_case_no),
        CodeKind("license_id", "CODE-07", "电子证照标识 e-license identifier", check_license_id),
        CodeKind("license_type", "CODE-07", "证照类型代码 license type code", check_license_type),
        CodeKind("datetime", "CODE-08", "time, RFC 3339 +08:00", check_datetime),
        CodeKind("date", "CODE-08", "date, YYYY-MM-DD", check_date),
        CodeKind("certificate_type", "CODE-09", "证件类型 certificate type", check_certificate_type),
        CodeKind("applicant_kind", "CODE-09", "申请人类型 legal-person kind", check_applicant_kind),
    )
}

# Shapes that suggest a kind; a value may fit several (an all-digit USCC looks like an ID number).
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("license_id", re.compile(re.escape(LICENSE_PREFIX) + ".*")),
    ("datetime", re.compile(r"\d{4}-\d{2}-\d{2}[T ].*", re.ASCII)),
    ("date", re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)),
    ("id_number", re.compile(r"\d{17}[\dXx]", re.ASCII)),
    ("uscc", re.compile(r"[0-9A-Z]{18}", re.ASCII)),
    ("item_code", re.compile(r"[0-9A-Z]{31}", re.ASCII)),
    ("case_no", re.compile(r"\d{23}[\dX]", re.ASCII)),
    ("application_no", re.compile(r"\d{22}[\dX]", re.ASCII)),
    ("base_code", re.compile(r"\d{12}", re.ASCII)),
    ("division", re.compile(r"\d{6}", re.ASCII)),
)


def check(kind: str, value: str, **context: Any) -> CodeProblem | None:
    """Check `value` as `kind` (a key of KINDS); context (today, channel, dept_seq …) goes to the checker."""
    try:
        checker = KINDS[kind].checker
    except KeyError:
        raise YzwError(f"unknown code kind {kind!r}; choose one of: {', '.join(KINDS)}") from None
    return checker(value, **context)


def detect_kinds(value: str) -> list[str]:
    """The kinds whose shape `value` has, most specific first; the first valid one is the best guess."""
    candidates = [name for name, shape in _SHAPES if shape.fullmatch(value)]
    valid = [name for name in candidates if KINDS[name].checker(value) is None]
    return valid + [name for name in candidates if name not in valid]
