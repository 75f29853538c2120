"""Build valid coded values from their parts: the one place that appends check characters."""

from __future__ import annotations

import datetime as dt

from yzw.codes.checksums import mod_11_2_check, mod_37_36_check, uscc_check
from yzw.codes.license import PREFIX


def id_number(division: str, birth: dt.date, sequence: int) -> str:
    """CODE-01: division + YYYYMMDD + 3-digit sequence (odd male, even female) + check."""
    body = f"{division}{birth:%Y%m%d}{sequence:03d}"
    return body + mod_11_2_check(body)


def uscc(first17: str) -> str:
    """CODE-02: the 17 leading characters + C18."""
    return first17 + uscc_check(first17)


def application_no(division: str, channel_digit: str, day: dt.date, serial: int) -> str:
    """CODE-05: division + channel digit + YYYYMMDD + 7-digit serial + check."""
    body = f"{division}{channel_digit}{day:%Y%m%d}{serial:07d}"
    return body + mod_11_2_check(body)


def system_application_no(division: str, channel_digit: str, day: dt.date, dept_seq: str, daily: int) -> str:
    """CODE-05 for window/agent numbers a system issues: the serial is dept_seq + 4-digit daily sequence."""
    return application_no(division, channel_digit, day, int(f"{dept_seq}{daily:04d}"))


def case_no(division: str, dept_seq: str, day: dt.date, serial: int) -> str:
    """CODE-06: division + dept_seq + YYYYMMDD + 6-digit daily serial + check."""
    body = f"{division}{dept_seq}{day:%Y%m%d}{serial:06d}"
    return body + mod_11_2_check(body)


def license_id(type_code: str, issuer_uscc: str, serial: str, version: int = 1) -> str:
    """CODE-07: prefix + type code + issuer + serial + 3-digit version + MOD 37,36 check."""
    version_text = f"{version:03d}"
    check = mod_37_36_check(type_code + issuer_uscc + serial + version_text)
    return f"{PREFIX}{type_code}.{issuer_uscc}.{serial}.{version_text}.{check}"
