"""People and secrets out of what the kit shows: ID numbers and phones masked, secrets and tickets redacted.

The report's evidence and the console's traffic pages show requests and answers through `mask`, so an
archived report or a reviewer's screen never holds a whole ID number, a phone number, a key or a ticket.
"""

from __future__ import annotations

import re

SECRETS = r"app_secret|platform_secret|client_secret|access_token|refresh_token|ticket|secret"
SECRET_FIELDS = re.compile(rf'("(?:{SECRETS})"\s*:\s*)"[^"]*"')
SECRET_ELEMENTS = re.compile(rf"<({SECRETS})>[^<]*</\1>", re.ASCII)
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[0-9Xx])(?![0-9A-Za-z])", re.ASCII)
PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)", re.ASCII)
SECRET_QUERY = re.compile(rf"((?:{SECRETS}|token)=)[^&\s\"]+")


def mask(text: str) -> str:
    """ID numbers as 3301**********002X, phones as 138****1234, secrets and tickets as ***."""
    text = SECRET_FIELDS.sub(r'\1"***"', text)
    text = SECRET_ELEMENTS.sub(r"<\1>***</\1>", text)
    text = SECRET_QUERY.sub(r"\1***", text)
    text = ID_NUMBER.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    return PHONE.sub(r"\1****\2", text)
