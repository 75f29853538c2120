"""Chapter 4: request signing and tokens, both ways between platform and system (SIG-01…05)."""

from __future__ import annotations

import time

import httpx
import pytest

from yzw.conformance.checks.answers import answered
from yzw.conformance.checks.traffic import (
    TOKEN_PATH,
    bearer_on_every_call,
    no_refusal,
    own_calls,
    token_requests_valid,
    tokens_reused,
)
from yzw.conformance.driver import Driver
from yzw.conformance.nodes import Nodes
from yzw.conformance.scenario import APPLICATIONS, Scenario
from yzw.run.target import SIGNATURE_CODES, UNKNOWN_APPLICATION_NO, Target
from yzw.signing import signed_headers

TOKEN_CODES = ("TOKEN_MISSING", "TOKEN_INVALID", "TOKEN_EXPIRED", "TOKEN_REVOKED", "SCOPE_INSUFFICIENT")


def _case_through_the_platform(scenario: Scenario, driver: Driver) -> None:
    """An application taken and accepted: the system calls the catalogue, the library and the exchange."""
    application = scenario.application()
    if scenario.submit(application).status_code == 202:
        driver.act("accept", application["application_no"])
        scenario.steps(application["application_no"], "SL")


@pytest.mark.requirement("SIG-01")
def test_the_systems_calls_to_the_platform_are_signed(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    _case_through_the_platform(scenario, driver)
    no_refusal(
        own_calls(platform),
        SIGNATURE_CODES,
        fix="sign every call as SIG-01 says: 16–64 character nonce, Unix-second timestamp, HMAC-SM3 signature",
    )


# 2026.2: empty values, a pair without `=`, an empty pair, an invalid escape, a byte that is not UTF-8
EDGE_QUERY = b"view=&full&&note=%zz&x=%FF+y"


@pytest.mark.requirement("SIG-01")
def test_a_query_with_empty_pairs_and_bad_escapes_verifies_as_the_norm_says(target: Target, raw: httpx.Client) -> None:
    path = f"{APPLICATIONS}/{UNKNOWN_APPLICATION_NO}"  # needs no platform call: only the signature is at stake
    headers = signed_headers(target.grant.app_id, target.grant.secret, "GET", path, EDGE_QUERY)
    answer = raw.get(httpx.URL(target.base_url + path, query=EDGE_QUERY), headers=headers)
    answered(
        answer,
        404,
        "APPLICATION_UNKNOWN",
        fix="build CANONICAL_QUERY from the raw query bytes: drop empty pairs only, `b` is `b=`, `a=` keeps its "
        "empty value, `%zz` stays literal, non-UTF-8 bytes become U+FFFD (%EF%BF%BD)",
    )


@pytest.mark.requirement("SIG-02")
@pytest.mark.parametrize("defect", ["unsigned", "bad-signature", "stale-timestamp", "replayed-nonce", "unknown-app"])
def test_requests_that_break_signing_are_refused(target: Target, raw: httpx.Client, defect: str) -> None:
    path = f"{APPLICATIONS}/{UNKNOWN_APPLICATION_NO}"
    app_id, secret = target.grant.app_id, target.grant.secret
    headers = signed_headers(
        "yzw-nobody" if defect == "unknown-app" else app_id,
        secret + ("x" if defect == "bad-signature" else ""),
        "GET",
        path,
        timestamp=int(time.time()) - 900 if defect == "stale-timestamp" else None,
    )
    if defect == "replayed-nonce":
        raw.get(target.base_url + path, headers=headers)
    answer = raw.get(target.base_url + path, headers={} if defect == "unsigned" else headers)
    answered(answer, 401, fix="verify every platform request as SIG-02 orders it, before doing anything")


@pytest.mark.requirement("SIG-03")
def test_the_systems_calls_to_the_platform_carry_a_token(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    _case_through_the_platform(scenario, driver)
    bearer_on_every_call(own_calls(platform))


@pytest.mark.requirement("SIG-04")
def test_the_token_is_reused_and_refreshed_once_when_it_expires(
    scenario: Scenario, driver: Driver, platform: Nodes
) -> None:
    _case_through_the_platform(scenario, driver)
    platform.expire_tokens()
    _case_through_the_platform(scenario, driver)
    tokens_reused(
        [call for call in own_calls(platform) if call.get("bearer") or call["path"] == TOKEN_PATH], TOKEN_CODES
    )


@pytest.mark.requirement("SIG-05")
def test_token_requests_ask_only_for_the_norms_scopes(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    _case_through_the_platform(scenario, driver)
    token_requests_valid(own_calls(platform))
