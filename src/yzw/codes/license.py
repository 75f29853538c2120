"""CODE-07: e-license identifiers of GB/T 36904-2018 with their MOD 37,36 check character."""

from __future__ import annotations

import re

from yzw.codes.checksums import LICENSE_ALPHABET, mod_37_36_check
from yzw.codes.identity import check_uscc
from yzw.codes.problem import CodeProblem, check_problem

PREFIX = "1.2.156.3005.2."
LAYOUT = f"{PREFIX}<type code: USCC(18)+3 digits>.<issuer USCC(18)>.<serial 1-32 of 0-9A-Z>.<version 3 digits>.<check>"
_SERIAL = re.compile(r"[0-9A-Z]{1,32}", re.ASCII)


def _part(value: str, defect: str, message: str, position: int | None = None) -> CodeProblem:
    return CodeProblem("CODE-07", defect, message, value, expected=LAYOUT, position=position)


def _embedded_uscc(value: str, uscc: str, defect: str, label: str, at: int) -> CodeProblem | None:
    inner = check_uscc(uscc, requirement="CODE-07", what=label)
    if inner is None:
        return None
    position = at + inner.position if inner.position is not None else at + 1
    return _part(value, defect, inner.message, position)


def check_license_type(value: str) -> CodeProblem | None:
    """A license type code: the defining body's USCC (18, CODE-02 valid) + a 3-digit number."""
    if len(value) != 21 or not _digits(value[18:]):
        return CodeProblem(
            "CODE-07",
            "type_code",
            "license type code must be a USCC (18) + 3 digits",
            value,
            expected="21 characters: USCC + 3 digits",
        )
    inner = check_uscc(value[:18], requirement="CODE-07", what="license type code's USCC")
    if inner is None:
        return None
    return CodeProblem(
        "CODE-07",
        "type_uscc",
        inner.message,
        value,
        expected=inner.expected,
        position=inner.position,
        fix=inner.fix,
    )


def check_license_id(value: str) -> CodeProblem | None:
    """Prefix, type code with a valid USCC, issuer USCC, serial, version, MOD 37,36 check character."""
    if not value.startswith(PREFIX):
        return _part(value, "prefix", f"license_id must start with {PREFIX}", 1)
    parts = value[len(PREFIX) :].split(".")
    if len(parts) != 5:
        return _part(value, "structure", f"license_id needs 5 dot-separated parts after the prefix, got {len(parts)}")
    type_code, issuer, serial, version, check = parts
    at = len(PREFIX)
    if len(type_code) != 21 or not _digits(type_code[18:]):
        return _part(value, "type_code", "license type code must be a USCC (18) + 3 digits", at + 1)
    problem = _embedded_uscc(value, type_code[:18], "type_uscc", "license type code's USCC", at)
    problem = problem or _embedded_uscc(value, issuer, "issuer_uscc", "issuer USCC", at + 22)
    if problem:
        return problem
    if not _SERIAL.fullmatch(serial):
        return _part(value, "serial", f"license serial {serial!r} must be 1-32 characters of 0-9A-Z")
    if not (len(version) == 3 and _digits(version) and version != "000"):
        return _part(value, "version", f"license version {version!r} must be 3 digits from 001")
    expected = mod_37_36_check(type_code + issuer + serial + version)
    if len(check) != 1 or check not in LICENSE_ALPHABET or check != expected:
        return check_problem("CODE-07", value, expected, "license_id", "ISO/IEC 7064 MOD 37,36")
    return None


def _digits(text: str) -> bool:
    """0-9 only: str.isdigit() also takes other scripts' digits (٠١٢), which no code of the norm holds."""
    return text.isascii() and text.isdigit()
