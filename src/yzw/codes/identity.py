"""CODE-01 citizen ID numbers, CODE-02 unified social credit codes, CODE-09 certificate types and kinds."""

from __future__ import annotations

import datetime as dt
import re

from yzw.codes.checksums import USCC_ALPHABET, mod_11_2_check, uscc_check
from yzw.codes.lists import code_list, national_divisions
from yzw.codes.problem import DIGITS, CodeProblem, charset_problem, check_problem, length_problem, not_in_list
from yzw.codes.times import today_cn, yyyymmdd

_ID_SHAPE = re.compile(r"\d{17}[\dX]", re.ASCII)
_USCC_SHAPE = re.compile(f"[{USCC_ALPHABET}]{{18}}", re.ASCII)
ID_CARD_TYPE = "111"


def check_id_number(value: str, *, today: dt.date | None = None) -> CodeProblem | None:
    """CODE-01: length, characters, division (current or historical), real past birth date, MOD 11-2."""
    if len(value) != 18 or not _ID_SHAPE.fullmatch(value):
        return (
            length_problem("CODE-01", value, 18, "ID number")
            or charset_problem("CODE-01", value, DIGITS, "ID number", stop=17)
            or charset_problem("CODE-01", value, DIGITS + "X", "ID number", start=17)
        )
    if value[:6] not in national_divisions():
        return CodeProblem(
            "CODE-01",
            "division",
            f"ID number starts with {value[:6]}, which is no GB/T 2260 division code",
            value,
            expected="a current or historical division code in positions 1-6",
            position=1,
        )
    birth = yyyymmdd(value[6:14])
    if birth is None:
        return CodeProblem(
            "CODE-01",
            "birth_date",
            f"ID number birth date {value[6:14]} is not a real day",
            value,
            expected="YYYYMMDD of a real day in positions 7-14",
            position=7,
        )
    if birth > (today or today_cn()):
        return CodeProblem(
            "CODE-01",
            "future_birth_date",
            f"ID number birth date {birth} is in the future",
            value,
            expected="a birth date not after today",
            position=7,
        )
    expected = mod_11_2_check(value[:17])
    if expected != value[17]:
        return check_problem("CODE-01", value, expected, "ID number", "ISO 7064 MOD 11-2")
    return None


def check_uscc(value: str, *, requirement: str = "CODE-02", what: str = "USCC") -> CodeProblem | None:
    """CODE-02: 18 characters of the 31-character set and a correct C18 (nothing else is judged)."""
    if len(value) != 18 or not _USCC_SHAPE.fullmatch(value):
        return length_problem(requirement, value, 18, what) or charset_problem(requirement, value, USCC_ALPHABET, what)
    expected = uscc_check(value[:17])
    if expected != value[17]:
        return check_problem(requirement, value, expected, what, "GB 32100 C18")
    return None


def check_certificate_type(value: str) -> CodeProblem | None:
    """CODE-09: a certificate type code of the norm's list (111 居民身份证 …)."""
    return not_in_list("CODE-09", code_list("certificate_types"), "certificate type", value)


def check_applicant_kind(value: str) -> CodeProblem | None:
    """CODE-09: a legal-person kind of the norm's list (2 企业法人 …)."""
    return not_in_list("CODE-09", code_list("applicant_kinds"), "applicant kind", value)


def check_identity_document(id_type: str, id_number: str, *, today: dt.date | None = None) -> CodeProblem | None:
    """CODE-09 then CODE-01: the type must be known; only type 111 numbers follow GB 11643."""
    problem = check_certificate_type(id_type)
    if problem is None and id_type == ID_CARD_TYPE:
        problem = check_id_number(id_number, today=today)
    return problem
