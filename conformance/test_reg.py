"""Chapter 1: registration — the system answers at its base_url (REG-01)."""

from __future__ import annotations

import httpx
import pytest

from yzw.client import SignedClient
from yzw.conformance.checks.answers import answered, body_of, equal, where_of
from yzw.run.target import HEALTH, Target


@pytest.mark.requirement(
    "REG-01", clauses=["REG-01.1", "REG-01.2", "REG-01.3", "REG-01.4", "REG-01.5", "REG-01.6", "SIG-02.30"]
)
def test_health_answers_ok_and_names_the_norm(target: Target, raw: httpx.Client, sut: SignedClient) -> None:
    unsigned, signed = raw.get(target.base_url + HEALTH), sut.request("GET", target.base_url + HEALTH)
    for answer, how in ((unsigned, "unsigned"), (signed, "signed")):
        answered(answer, 200, fix=f"serve GET {HEALTH} at the registered base_url, {how} (a public endpoint)")
        body = body_of(answer) or {}
        shown = {k: body.get(k) for k in ("status", "norm")} if isinstance(body, dict) else body
        equal(
            "the health answer",
            shown,
            {"status": "ok", "norm": "YZW-NORM-2026"},
            fix='answer {"status":"ok","norm":"YZW-NORM-2026"}',
            where=f"{where_of(answer)} ({how})",
        )
