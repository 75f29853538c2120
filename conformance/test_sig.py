"""Chapter 4: request signing and tokens, both ways between platform and system (SIG-01…05)."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus

import httpx
import pytest

from yzw.conformance.checks.answers import answered, body_of
from yzw.conformance.checks.traffic import (
    TOKEN_PATH,
    bearer_on_every_call,
    no_refusal,
    one_token,
    own_calls,
    stray_calls,
    token_requests_are_forms,
    token_requests_valid,
    tokens_reused,
)
from yzw.conformance.driver import Driver
from yzw.conformance.nodes import Nodes
from yzw.conformance.scenario import APPLICATIONS, Scenario
from yzw.conformance.violations import Violation
from yzw.run.items import E_LICENSE, LICENSE_MATERIAL
from yzw.run.target import SIGNATURE_CODES, UNKNOWN_APPLICATION_NO, Target
from yzw.signing import (
    HEADER_APP_ID,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    canonical_string,
    new_nonce,
    signature,
    signed_headers,
)
from yzw.spec.limits import limits

TOKEN_CODES = ("TOKEN_MISSING", "TOKEN_INVALID", "TOKEN_EXPIRED", "TOKEN_REVOKED", "SCOPE_INSUFFICIENT")


def _case_through_the_platform(scenario: Scenario, driver: Driver) -> None:
    """An application taken and accepted: the system calls the catalogue, the library and the exchange."""
    application = scenario.application()
    if scenario.submit(application).status_code == 202:
        driver.act("accept", application["application_no"])
        scenario.steps(application["application_no"], "SL")


@pytest.mark.requirement(
    "SIG-01",
    clauses=[
        "EVT-01.16",
        "SIG-01.1",
        "SIG-01.2",
        "SIG-01.3",
        "SIG-01.4",
        "SIG-01.7",
        "SIG-01.8",
        "SIG-01.9",
        "SIG-01.10",
        "SIG-01.11",
        "SIG-01.12",
        "SIG-01.13",
        "SIG-01.14",
        "SIG-01.15",
        "SIG-01.16",
        "SIG-01.29",
        "SIG-01.30",
        "SIG-01.31",
        "SIG-01.32",
        "SIG-01.33",
        "SIG-02.28",
    ],
)
def test_the_systems_calls_to_the_platform_are_signed(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    started = time.time() - 1
    _case_through_the_platform(scenario, driver)
    calls = own_calls(platform)
    strays = [] if calls else stray_calls(platform, started)
    if strays:
        raise Violation(
            "the system's calls do not name its registered app_id",
            f"X-Yzw-App-Id: {platform.target.app_id} with the other SIG-01 headers on every call to the platform",
            "; ".join(
                f"{e.get('method')} {e.get('path')} with X-Yzw-App-Id {e.get('app_id') or '(none)'}, answered "
                f"{e.get('status')}"
                for e in strays[:3]
            ),
            "sign every call to the platform (token request, catalogue, library, exchange, IdP) with the four "
            "X-Yzw headers, X-Yzw-App-Id being the app_id the system was registered with",
            "the mock nodes' traffic while the system handled an application",
        )
    no_refusal(
        calls,
        SIGNATURE_CODES,
        fix="sign every call as SIG-01 says: 16–64 character nonce, Unix-second timestamp, HMAC-SM3 signature",
    )


# 2026.2: empty values, a pair without `=`, an empty pair, an invalid escape, a byte that is not UTF-8
EDGE_QUERY = b"view=&full&&note=%zz&x=%FF+y&c=1;d=2"
# one name several times (sorted by value: 1 < 10 < 2), names by code point (B < _ < b), `~` kept, `*!'()` escaped
ORDER_QUERY = b"a=2&a=10&a=1&b=1&B=2&_=3&k=a~b.c-d_e&s=*!'()&n=%E8%A5%BF+%E6%B9%96"
QUERY_FIXES = {
    EDGE_QUERY: "build CANONICAL_QUERY from the raw query bytes: split on `&` only (`c=1;d=2` is one pair), drop "
    "empty pairs only, `b` is `b=`, `a=` keeps its empty value, `+` is a space, `%zz` stays literal (%25zz), "
    "non-UTF-8 bytes become U+FFFD (%EF%BF%BD)",
    ORDER_QUERY: "sort the decoded pairs by name, then by value, both by code point (B=2&_=3&a=1&a=10&a=2&b=1), read "
    "the decoded bytes as UTF-8 and re-encode with RFC 3986: keep exactly A-Z a-z 0-9 - . _ ~, escape every other "
    "byte in upper-case hex (* as %2A, ' as %27, a space as %20, 西 as %E8%A5%BF)",
}


@pytest.mark.requirement(
    "SIG-01",
    clauses=[
        "APP-07.23",
        "SIG-01.11",
        "SIG-01.13",
        "SIG-01.14",
        "SIG-01.15",
        "SIG-01.17",
        "SIG-01.18",
        "SIG-01.19",
        "SIG-01.20",
        "SIG-01.21",
        "SIG-01.22",
        "SIG-01.23",
        "SIG-01.24",
        "SIG-01.25",
        "SIG-01.26",
        "SIG-01.27",
        "SIG-01.28",
        "SIG-01.32",
        "SIG-02.24",
    ],
)
@pytest.mark.parametrize("query", [EDGE_QUERY, ORDER_QUERY], ids=["empty-pairs-and-bad-escapes", "order-and-escaping"])
def test_a_query_with_empty_pairs_and_bad_escapes_verifies_as_the_norm_says(
    target: Target, raw: httpx.Client, query: bytes
) -> None:
    path = f"{APPLICATIONS}/{UNKNOWN_APPLICATION_NO}"  # needs no platform call: only the signature is at stake
    headers = signed_headers(target.grant.app_id, target.grant.secret, "GET", path, query)
    answer = raw.get(httpx.URL(target.base_url + path, query=query), headers=headers)
    answered(answer, 404, "APPLICATION_UNKNOWN", fix=QUERY_FIXES[query])


STATUS = f"{APPLICATIONS}/{UNKNOWN_APPLICATION_NO}"  # served without any platform call: only signing is at stake
OTHER_STATUS = f"{APPLICATIONS}/{UNKNOWN_APPLICATION_NO[:-1]}{(int(UNKNOWN_APPLICATION_NO[-1]) + 1) % 10}"
NOBODY = "yzw-nobody"  # an app id no system knows
JSON = "application/json"
WINDOW = limits().timestamp_window_seconds  # either way of now (SIG-02)
CLOCKS_APART = 60  # seconds the kit allows between its clock and the system's when a timestamp must be served
ORDER = "headers present, app known, header syntax, timestamp window, signature, nonce"


def _headers(
    target: Target,
    path: str = STATUS,
    *,
    app_id: str | None = None,
    secret: str | None = None,
    stamp: str | None = None,
    nonce: str | None = None,
    method: str = "GET",
    body: bytes = b"",
) -> dict[str, str]:
    """The four headers of a request to the system signed as the platform, any part of them chosen (a timestamp
    that is no number, a nonce outside the norm's syntax), the signature computed over exactly those values."""
    stamp = str(int(time.time())) if stamp is None else stamp
    nonce = new_nonce() if nonce is None else nonce
    canonical = canonical_string(method, path, "", stamp, nonce, body)
    return {
        HEADER_APP_ID: app_id or target.grant.app_id,
        HEADER_TIMESTAMP: stamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(secret or target.grant.secret, canonical),
    }


def _ago(seconds: int) -> str:
    return str(int(time.time()) - seconds)


def _get(target: Target, raw: httpx.Client, headers: dict[str, str], path: str = STATUS) -> httpx.Response:
    return raw.get(target.base_url + path, headers=headers)


def _replayed(target: Target, raw: httpx.Client) -> httpx.Response:
    headers = _headers(target)
    _get(target, raw, headers)
    return _get(target, raw, headers)


def _replayed_elsewhere(target: Target, raw: httpx.Client) -> httpx.Response:
    """A served request's headers on another path: the signature fails before the nonce is looked at."""
    headers = _headers(target)
    _get(target, raw, headers)
    return _get(target, raw, headers, OTHER_STATUS)


def _replayed_with_a_new_timestamp(target: Target, raw: httpx.Client) -> httpx.Response:
    """A served request's nonce again, with a new timestamp and a valid signature over both, on another path: the
    nonce alone was seen (a replay store keyed by the signature or by nonce and timestamp misses it)."""
    nonce = new_nonce()
    _get(target, raw, _headers(target, nonce=nonce, stamp=_ago(5)))
    return _get(target, raw, _headers(target, OTHER_STATUS, nonce=nonce, stamp=_ago(1)), OTHER_STATUS)


def _forged_then_genuine(target: Target, raw: httpx.Client) -> httpx.Response:
    """A forged request must not burn its nonce: the genuine one with the same nonce is served."""
    nonce = new_nonce()
    _get(target, raw, _headers(target, secret=target.grant.secret + "x", nonce=nonce))
    return _get(target, raw, _headers(target, nonce=nonce))


def _nonce_of_the_driver(target: Target, raw: httpx.Client) -> httpx.Response:
    """A nonce the system's own key used at the driver is not a replay for the platform's app id."""
    if not target.driver_url:
        pytest.skip("not-applicable: no driver, so no other app signs requests to the system")
    nonce, url = new_nonce(), target.driver_url + "/actions"
    body = json.dumps({"action": "accept", "application_no": UNKNOWN_APPLICATION_NO}).encode()
    own = signed_headers(
        target.app_id, target.registration.app_secret, "POST", httpx.URL(url).raw_path.decode(), body=body, nonce=nonce
    )
    raw.post(url, content=body, headers={**own, "Content-Type": "application/json"})
    return _get(target, raw, _headers(target, nonce=nonce))


def _within_window(target: Target, raw: httpx.Client) -> httpx.Response:
    """Timestamps inside the window both ways are served (the kit keeps a minute for clocks apart)."""
    earlier = _get(target, raw, _headers(target, stamp=_ago(WINDOW - CLOCKS_APART)))
    if earlier.status_code == 401:
        return earlier
    return _get(target, raw, _headers(target, stamp=_ago(CLOCKS_APART - WINDOW)))


def _nonces_of_every_valid_form(target: Target, raw: httpx.Client) -> httpx.Response:
    """Nonces the norm allows that the kit's own traffic never shows (it sends 32 lower-case hex characters): 16 and
    64 characters, a UUID in upper case with its dashes; each fresh, each must be served."""
    for nonce in (secrets.token_hex(8), secrets.token_hex(32)):
        answer = _get(target, raw, _headers(target, nonce=nonce))
        if answer.status_code != SERVED[0]:
            return answer
    return _get(target, raw, _headers(target, nonce=str(uuid.uuid4()).upper()))


Send = Callable[[Target, httpx.Client], httpx.Response]
SERVED = (404, "APPLICATION_UNKNOWN")
# defect: how the request is sent, the status and code the norm asks, the fix
SIGNING_DEFECTS: dict[str, tuple[Send, tuple[int, str], str]] = {
    "unsigned": (lambda t, r: _get(t, r, {}), (401, "SIGNATURE_MISSING"), "refuse a request without the headers"),
    "nonce-missing": (
        lambda t, r: _get(t, r, {k: v for k, v in _headers(t).items() if k != HEADER_NONCE}),
        (401, "SIGNATURE_MISSING"),
        "refuse a request missing any one of the four X-Yzw headers with SIGNATURE_MISSING",
    ),
    "unknown-app-alone": (
        lambda t, r: _get(t, r, {HEADER_APP_ID: NOBODY}),
        (401, "SIGNATURE_MISSING"),
        f"check that all four headers are present before looking the app up ({ORDER})",
    ),
    "unknown-app": (
        lambda t, r: _get(t, r, _headers(t, app_id=NOBODY)),
        (401, "APP_UNKNOWN"),
        "refuse an app id the system was not given with APP_UNKNOWN",
    ),
    "unknown-app-malformed": (
        lambda t, r: _get(t, r, _headers(t, app_id=NOBODY, stamp="soon", nonce="n0nce")),
        (401, "APP_UNKNOWN"),
        f"look the app up before the headers' syntax ({ORDER})",
    ),
    "text-timestamp": (
        lambda t, r: _get(t, r, _headers(t, stamp="2026-11-28T09:30:00+08:00")),
        (401, "SIGNATURE_INVALID"),
        "refuse a timestamp that is not Unix seconds as SIGNATURE_INVALID",
    ),
    "short-nonce": (
        lambda t, r: _get(t, r, _headers(t, nonce="0f3c2a9e")),
        (401, "SIGNATURE_INVALID"),
        "refuse a nonce outside [A-Za-z0-9-]{16,64} as SIGNATURE_INVALID",
    ),
    "nonce-of-15-characters": (
        lambda t, r: _get(t, r, _headers(t, nonce=secrets.token_hex(8)[:15])),
        (401, "SIGNATURE_INVALID"),
        "refuse a nonce outside [A-Za-z0-9-]{16,64} as SIGNATURE_INVALID: 15 characters are one too few",
    ),
    "nonce-of-65-characters": (
        lambda t, r: _get(t, r, _headers(t, nonce=secrets.token_hex(33)[:65])),
        (401, "SIGNATURE_INVALID"),
        "refuse a nonce outside [A-Za-z0-9-]{16,64} as SIGNATURE_INVALID: 65 characters are one too many",
    ),
    "nonces-of-every-valid-form": (
        _nonces_of_every_valid_form,
        SERVED,
        "take every nonce of 16-64 characters of [A-Za-z0-9-] (upper case and `-` included), not only the 32 "
        "lower-case hex characters the kit usually sends",
    ),
    "nonce-with-underscore": (
        lambda t, r: _get(t, r, _headers(t, nonce="0f3c2a9e_6d1b4c8e")),
        (401, "SIGNATURE_INVALID"),
        "refuse a nonce outside [A-Za-z0-9-]{16,64} as SIGNATURE_INVALID",
    ),
    "short-nonce-stale": (
        lambda t, r: _get(t, r, _headers(t, nonce="0f3c2a9e", stamp=_ago(3 * WINDOW))),
        (401, "SIGNATURE_INVALID"),
        f"check the headers' syntax before the timestamp window ({ORDER})",
    ),
    "own-secret-as-platform": (
        lambda t, r: _get(t, r, _headers(t, secret=t.registration.app_secret)),
        (401, "SIGNATURE_INVALID"),
        "verify the platform's requests with the platform_secret only: a request under the platform's app id signed "
        "with the system's own app_secret is SIGNATURE_INVALID",
    ),
    "bad-signature": (
        lambda t, r: _get(t, r, _headers(t, secret=t.grant.secret + "x")),
        (401, "SIGNATURE_INVALID"),
        "verify the HMAC-SM3 signature with the platform_secret; refuse a mismatch with SIGNATURE_INVALID",
    ),
    "stale-timestamp": (
        lambda t, r: _get(t, r, _headers(t, stamp=_ago(3 * WINDOW))),
        (401, "TIMESTAMP_EXPIRED"),
        f"refuse a timestamp more than {WINDOW} s before now with TIMESTAMP_EXPIRED",
    ),
    "future-timestamp": (
        lambda t, r: _get(t, r, _headers(t, stamp=_ago(-3 * WINDOW))),
        (401, "TIMESTAMP_EXPIRED"),
        f"refuse a timestamp more than {WINDOW} s after now too: |now - timestamp| > {WINDOW} s is TIMESTAMP_EXPIRED",
    ),
    "stale-bad-signature": (
        lambda t, r: _get(t, r, _headers(t, stamp=_ago(3 * WINDOW), secret=t.grant.secret + "x")),
        (401, "TIMESTAMP_EXPIRED"),
        f"check the timestamp window before the signature ({ORDER})",
    ),
    "timestamps-within-window": (
        _within_window,
        SERVED,
        f"serve requests whose timestamp is within {WINDOW} s of now, before or after",
    ),
    "replayed-nonce": (
        _replayed,
        (401, "NONCE_REPLAYED"),
        f"refuse a nonce seen from the app in the last {limits().nonce_window_seconds} s",
    ),
    "replayed-nonce-new-timestamp": (
        _replayed_with_a_new_timestamp,
        (401, "NONCE_REPLAYED"),
        f"remember the nonce itself per app id for {limits().nonce_window_seconds} s: the same nonce with another "
        "timestamp (or path, or signature) is a replay",
    ),
    "replayed-elsewhere": (
        _replayed_elsewhere,
        (401, "SIGNATURE_INVALID"),
        f"verify the signature before looking the nonce up ({ORDER})",
    ),
    "forged-then-genuine": (
        _forged_then_genuine,
        SERVED,
        "remember a nonce only once its request's signature verified: a forged request must not burn it",
    ),
    "nonce-of-another-app": (
        _nonce_of_the_driver,
        SERVED,
        "keep nonces per app id: a nonce another app used is no replay",
    ),
}


@pytest.mark.requirement(
    "SIG-02",
    clauses=[
        "SIG-02.1",
        "SIG-02.2",
        "SIG-02.3",
        "SIG-02.4",
        "SIG-02.5",
        "SIG-02.6",
        "SIG-02.7",
        "SIG-02.8",
        "SIG-02.9",
        "SIG-02.10",
        "SIG-02.12",
        "SIG-02.13",
        "SIG-02.14",
        "SIG-02.15",
        "SIG-02.16",
        "SIG-02.17",
        "SIG-01.9",
        "SIG-02.18",
        "SIG-02.19",
        "SIG-02.20",
        "SIG-02.21",
        "SIG-02.22",
        "SIG-02.24",
    ],
)
@pytest.mark.parametrize("defect", list(SIGNING_DEFECTS))
def test_requests_that_break_signing_are_refused(target: Target, raw: httpx.Client, defect: str) -> None:
    """Each defect alone, or two at once where SIG-02's order decides which code is answered."""
    send, (status, code), fix = SIGNING_DEFECTS[defect]
    answered(send(target, raw), status, code, fix=fix)


# review 1 item 12: timestamps no clock gives (a vendor parsing them into a 64-bit integer or a date overflows, one
# reading them as a JavaScript Number takes a fraction); each is refused 401, never served and never a 5xx. Whether
# it is refused for its syntax or for its distance from now is the system's reading: both codes are taken.
ABSURD_TIMESTAMPS: dict[str, tuple[Callable[[], str], str]] = {
    "25-digits": (
        lambda: "9" * 25,
        "refuse a timestamp of 25 digits with 401 TIMESTAMP_EXPIRED (or SIGNATURE_INVALID); never parse it into a "
        "64-bit integer or a date that overflows",
    ),
    "negative": (
        lambda: f"-{int(time.time())}",
        "refuse a negative timestamp with 401 SIGNATURE_INVALID (Unix seconds are digits only)",
    ),
    "with-a-decimal-point": (
        lambda: f"{int(time.time())}.5",
        "refuse a timestamp with a decimal point with 401 SIGNATURE_INVALID, or read it as the number it is; "
        "never fail on it",
    ),
}
ABSURD_TIMESTAMP_CODES = ("SIGNATURE_INVALID", "TIMESTAMP_EXPIRED")
NUMERIC_IN_WINDOW = ("with-a-decimal-point",)  # numeric and now: the norm refuses only a non-numeric timestamp


@pytest.mark.requirement("SIG-02", clauses=["SIG-02.6", "SIG-02.7", "SIG-02.17"])
@pytest.mark.parametrize("stamp", list(ABSURD_TIMESTAMPS))
def test_absurd_timestamps_are_refused_never_served_or_failed(target: Target, raw: httpx.Client, stamp: str) -> None:
    """A request otherwise well signed (the signature covers the timestamp as sent) whose timestamp is no Unix
    second a clock gives: 401 with SIGNATURE_INVALID or TIMESTAMP_EXPIRED; another code or a 5xx fails, and so
    does serving it, except a number with a fraction within the window (numeric: the norm refuses non-numeric)."""
    make, fix = ABSURD_TIMESTAMPS[stamp]
    value = make()
    answer = _get(target, raw, _headers(target, stamp=value))
    body = body_of(answer)
    code = body.get("code") if isinstance(body, dict) else None
    if answer.status_code == 401 and code in ABSURD_TIMESTAMP_CODES:
        return
    if stamp in NUMERIC_IN_WINDOW and (answer.status_code, code) == (404, "APPLICATION_UNKNOWN"):
        return  # served: a reader of "Unix seconds" as a number is the norm's too
    raise Violation(
        f"a request with X-Yzw-Timestamp {value[:30]!r} was answered {answer.status_code} {code or ''}".rstrip(),
        f"401 with code {' or '.join(ABSURD_TIMESTAMP_CODES)}",
        f"{answer.status_code} {answer.text[:200]!r}",
        fix,
        f"GET {STATUS} signed with that timestamp",
    )


def _unsigned(raw: httpx.Client, url: str, document: dict[str, object]) -> httpx.Response:
    return raw.post(url, json=document)


@pytest.mark.requirement(
    "SIG-02",
    clauses=["SIG-02.1", "SIG-02.2", "SIG-02.9", "SIG-02.10", "SIG-02.23", "SIG-02.25", "SIG-02.26", "SIG-02.27"],
)
def test_every_signed_endpoint_refuses_unsigned_calls_and_a_refusal_changes_nothing(
    target: Target, raw: httpx.Client, scenario: Scenario
) -> None:
    """A forged application is not kept; supplements, catalogue change notices and supervision notices sent
    without signature headers are refused before anything else (SIG-02, MSG-04's order)."""
    application = scenario.application()
    number, body = application["application_no"], json.dumps(application, ensure_ascii=False).encode()
    forged = _headers(target, APPLICATIONS, secret=target.grant.secret + "x", method="POST", body=body)
    answer = raw.post(target.base_url + APPLICATIONS, content=body, headers={**forged, "Content-Type": JSON})
    answered(answer, 401, "SIGNATURE_INVALID", fix="verify the signature of POST /yzw/v1/applications")
    answered(
        scenario.portal.request("GET", f"{target.base_url}{APPLICATIONS}/{number}"),
        404,
        "APPLICATION_UNKNOWN",
        fix="a request refused with 401 must have no effect: keep nothing of a forged application",
    )
    _replayed_application(target, raw, body)
    item = {"item_code": scenario.item["item_code"], "version": int(scenario.item["version"]) + 1, "change": "updated"}
    notice = {"notice_id": f"N-{number}", "case_no": "0" * 22, "card": "yellow"}
    calls = (
        (f"{APPLICATIONS}/{number}/supplements", {"materials": []}, "supplements"),
        ("/yzw/v1/catalog/notifications", item, "catalogue change notices"),
        ("/yzw/v1/supervision/notices", notice, "supervision notices"),
    )
    for path, document, what in calls:
        answered(
            _unsigned(raw, target.base_url + path, document),
            401,
            "SIGNATURE_MISSING",
            fix=f"serve {what} ({path}) only to requests signed by the platform; refuse unsigned ones first",
        )
        _forged_post(target, raw, path, document, what)


def _replayed_application(target: Target, raw: httpx.Client, body: bytes) -> None:
    """The platform's signed application, then the very same bytes and headers again (captured and replayed): the
    second is refused NONCE_REPLAYED, whatever the first was answered (intake's idempotency is no replay check)."""
    headers = {**_headers(target, APPLICATIONS, method="POST", body=body), "Content-Type": JSON}
    first = raw.post(target.base_url + APPLICATIONS, content=body, headers=headers)
    if first.status_code == HTTPStatus.UNAUTHORIZED:
        answered(first, 202, fix="verify the platform's signed POST /yzw/v1/applications and serve it (SIG-02)")
    answered(
        raw.post(target.base_url + APPLICATIONS, content=body, headers=headers),
        401,
        "NONCE_REPLAYED",
        fix="check the nonce on every signed route, POST /yzw/v1/applications included: a signed request sent again "
        "byte for byte is a replay (401 NONCE_REPLAYED), not a resend for APP-04",
    )


def _forged_post(target: Target, raw: httpx.Client, path: str, document: dict[str, object], what: str) -> None:
    """A call carrying all four headers, signed with a wrong secret: refused SIGNATURE_INVALID (not only checked for
    the headers' presence)."""
    body = json.dumps(document, ensure_ascii=False).encode()
    forged = _headers(target, path, secret=target.grant.secret + "x", method="POST", body=body)
    answered(
        raw.post(target.base_url + path, content=body, headers={**forged, "Content-Type": JSON}),
        401,
        "SIGNATURE_INVALID",
        fix=f"verify the HMAC-SM3 signature of {what} ({path}) with the platform_secret, not only that the headers "
        "are there",
    )


def _reversed_keys(value: object) -> object:
    """The same JSON value, each object's members in reverse order."""
    if isinstance(value, dict):
        return {key: _reversed_keys(member) for key, member in reversed(list(value.items()))}
    if isinstance(value, list):
        return [_reversed_keys(member) for member in value]
    return value


@pytest.mark.requirement("SIG-01", clauses=["SIG-01.31", "SIG-01.32"])
def test_a_body_is_verified_over_its_raw_bytes_whatever_its_layout(
    target: Target, raw: httpx.Client, scenario: Scenario
) -> None:
    """The platform's serialiser is not the kit's: an application signed as sent, compact, its members in reverse
    order and every non-ASCII character escaped (`\\u8425`), is the same JSON value and verifies over those raw
    bytes. How intake then answers is APP's to judge; a 401 is SIG-01's."""
    body = json.dumps(_reversed_keys(scenario.application()), separators=(",", ":"), ensure_ascii=True).encode()
    headers = {**_headers(target, APPLICATIONS, method="POST", body=body), "Content-Type": JSON}
    answer = raw.post(target.base_url + APPLICATIONS, content=body, headers=headers)
    if answer.status_code == HTTPStatus.UNAUTHORIZED:
        answered(
            answer,
            202,
            fix="hash the raw body bytes as received (hex(SM3(raw body bytes))), before any JSON parsing: a compact "
            "body, other key order or \\uXXXX escapes are the bytes the platform signed",
        )


@pytest.mark.requirement("SIG-02", clauses=["SIG-02.30", "SIG-02.31", "SIG-02.32", "SIG-02.33", "SIG-02.34"])
def test_the_public_endpoints_are_served_without_signature_headers(
    scenario: Scenario, target: Target, raw: httpx.Client
) -> None:
    """Health, the item guide, the hand-off, the session and the apply entry, called by a browser with no signature
    headers: none is refused for its signature (the hand-off without a ticket is 400, the session and the apply
    entry without a session 401 for that reason, whatever else the system answers)."""
    item_code = scenario.item["item_code"]
    raw.cookies.clear()
    calls = {
        "GET /yzw/v1/health": target.base_url + "/yzw/v1/health",
        f"GET /yzw/v1/items/{item_code}": f"{target.base_url}/yzw/v1/items/{item_code}",
        "GET {sso_url}": target.sso_url,
        "GET /yzw/v1/session": target.base_url + "/yzw/v1/session",
        f"GET /yzw/v1/items/{item_code}/apply": f"{target.base_url}/yzw/v1/items/{item_code}/apply",
    }
    for what, url in calls.items():
        answer = raw.get(url)
        code = (body_of(answer) or {}).get("code")
        if answer.status_code in (401, 403) and (code in SIGNATURE_CODES or what.endswith("health")):
            raise Violation(
                "a public endpoint refused a call for lacking signature headers",
                f"{what} served without X-Yzw headers (SIG-02 applies to the platform's calls only)",
                f"{answer.status_code} {answer.text[:200]}",
                "leave the health check, the item guide, the sso_url hand-off, the session and the apply entry outside "
                "the signature filter",
                what,
            )


@pytest.mark.requirement("SIG-02", clauses=["SIG-02.28", "SIG-02.29"])
def test_the_driver_refuses_calls_not_signed_with_the_systems_own_key(target: Target, raw: httpx.Client) -> None:
    """§11: the driver is signed with the system's own app_id and app_secret; unsigned calls, calls signed
    with the platform's key and calls signed with the system's secret under another app_id (the platform's) are
    refused (401, whichever code of SIG-02 the system's order gives)."""
    if not target.driver_url:
        pytest.skip("not-applicable: the system registered no driver (norm §11)")
    url = target.driver_url + "/actions"
    body = json.dumps({"action": "accept", "application_no": UNKNOWN_APPLICATION_NO}).encode()
    path = httpx.URL(url).raw_path.decode()
    platform_signed = signed_headers(target.grant.app_id, target.grant.secret, "POST", path, body=body)
    other_app_id = signed_headers(target.grant.app_id, target.registration.app_secret, "POST", path, body=body)
    for headers, what in (
        ({}, "an unsigned call"),
        (platform_signed, "a call signed with the platform's key"),
        (other_app_id, f"a call signed with the system's app_secret under the app_id {target.grant.app_id}"),
    ):
        answer = raw.post(url, content=body, headers={**headers, "Content-Type": JSON})
        if answer.status_code != 401 or (body_of(answer) or {}).get("code") not in SIGNATURE_CODES:
            answered(
                answer,
                401,
                "APP_UNKNOWN" if headers else "SIGNATURE_MISSING",
                fix=f"the driver verifies with the system's own app_id and app_secret only: refuse {what} (SIG-02)",
            )


@pytest.mark.requirement("SIG-03", clauses=["EVT-01.17", "SIG-03.1", "SIG-03.2", "SIG-03.3", "SIG-03.6"])
def test_the_systems_calls_to_the_platform_carry_a_token(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    _case_through_the_platform(scenario, driver)
    bearer_on_every_call(_own_calls_or_skip(platform))


def _own_calls_or_skip(platform: Nodes) -> list[dict[str, object]]:
    """The system's calls; `not-applicable` when none came under its app_id (SIG-01 judges how it signed)."""
    calls = own_calls(platform)
    if not calls:
        pytest.skip("not-applicable: no call of the system's app_id reached the platform (SIG-01 says why)")
    return calls


@pytest.mark.requirement("SIG-04", clauses=["SIG-03.6", "SIG-04.1", "SIG-04.3", "SIG-04.4", "SIG-04.5", "SIG-05.2"])
def test_the_token_is_reused_and_refreshed_once_when_it_expires(
    scenario: Scenario, driver: Driver, platform: Nodes, raw: httpx.Client
) -> None:
    """One token; after the IdP expires it (401 TOKEN_EXPIRED) and after it revokes it (401 TOKEN_INVALID), a new
    token and the refused call once more. The first call to meet the refusal is in turn the catalogue's or the
    exchange's, the ticket validation (a person signing on) and the e-license issue (a case completed): each
    module renews the one token and retries."""
    _case_through_the_platform(scenario, driver)
    platform.expire_tokens()
    _case_through_the_platform(scenario, driver)
    platform.revoke_tokens()
    _case_through_the_platform(scenario, driver)
    platform.expire_tokens()
    _login(platform, raw, scenario)
    _licensed_case_completed_after_expiry(scenario, driver, platform)
    tokens_reused(
        [call for call in own_calls(platform) if call.get("bearer") or call["path"] == TOKEN_PATH], TOKEN_CODES
    )


@pytest.mark.requirement("SIG-02", clauses=["SIG-02.32", "SIG-02.34", "SIG-02.35"])
def test_signed_calls_to_the_browser_endpoints_are_served_all_the_same(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    """A person signed on (level 4): the session and the apply entry answer 200 unsigned, and 200 again when the
    same call carries valid signature headers (a portal's proxy signs everything it forwards)."""
    user = {"user_id": "U-SIG-02-35", "user_type": "person", "name": "张三", "auth_level": 4, "id_type": "111"}
    user["id_number"] = scenario.factory.fake.person()["id_number"]
    raw.cookies.clear()
    raw.get(platform.login(user))
    if raw.get(target.base_url + "/yzw/v1/session").status_code != HTTPStatus.OK:
        pytest.skip("not-applicable: no person could sign on (the SSO and token checks say why)")
    for path in ("/yzw/v1/session", f"/yzw/v1/items/{scenario.item['item_code']}/apply"):
        unsigned = raw.get(target.base_url + path)
        if unsigned.status_code == HTTPStatus.SERVICE_UNAVAILABLE:
            pytest.skip(f"not-applicable: {path} could not reach the platform (503; SIG-01 and ROB-01 say why)")
        answered(unsigned, 200, fix="serve the browser endpoint to a signed-on person")
        signed = signed_headers(target.grant.app_id, target.grant.secret, "GET", path)
        answered(
            raw.get(target.base_url + path, headers=signed),
            200,
            fix="serve a public or browser endpoint all the same when the call carries signature headers (SIG-02)",
        )


def _licensed_case_completed_after_expiry(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    """A case of an item that ends in an e-license, accepted and pushed; the token expires just before `complete`,
    whose first platform call is then (for most systems) the library's license issue."""
    scenario.prefer(E_LICENSE)
    application = scenario.application()
    number = application["application_no"]
    if scenario.submit(application).status_code == HTTPStatus.ACCEPTED:
        driver.act("accept", number)
        scenario.steps(number, "SL")  # the outbox is idle: the next refusal is met by complete's own calls
        platform.expire_tokens()
        driver.act("complete", number, result="approved")
        scenario.steps(number, "BJ")


SHORT_TOKENS = 5  # every token of the check is short-lived: one renewed too early is short again


@pytest.mark.requirement("SIG-04", clauses=["SIG-04.1", "SIG-04.2"])
def test_a_short_lived_token_is_kept_until_its_last_minute(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    """The IdP expires the system's token and issues the next one for 150 s: the system keeps that one for its
    first 90 s (renewing within the last 60 s is fine), so two cases in a row need one token request after the
    expiry, not one per call."""
    platform.flag("short_token", SHORT_TOKENS)
    try:
        platform.expire_tokens()
        _case_through_the_platform(scenario, driver)
        _case_through_the_platform(scenario, driver)
    finally:
        platform.flag("short_token", 0)
    tokens_reused(
        [call for call in own_calls(platform) if call.get("bearer") or call["path"] == TOKEN_PATH], TOKEN_CODES
    )


@pytest.mark.requirement("SIG-05", clauses=["SIG-05.2", "SIG-05.3", "SIG-05.4", "SIG-05.5", "SIG-05.6", "SIG-05.7"])
def test_the_token_covers_every_call_the_system_makes(
    scenario: Scenario, driver: Driver, platform: Nodes, raw: httpx.Client
) -> None:
    """A case with a license material completed (the exchange, the catalogue, the library's verify and issue) and a
    person signed on (the ticket validation): no call is refused 403 SCOPE_MISSING, and every token the system
    asked for (the reset forgot the one it held) asked for the same scope: one token, not one per scope."""
    scenario.prefer(E_LICENSE, LICENSE_MATERIAL)
    application = scenario.application()
    number = application["application_no"]
    if scenario.submit(application).status_code == 202:
        driver.act("accept", number)
        driver.act("complete", number, result="approved")
        scenario.steps(number, "SL", "BJ")
    _login(platform, raw, scenario)
    calls = own_calls(platform)
    for entry in calls:
        if entry.get("status") == HTTPStatus.FORBIDDEN and '"SCOPE_MISSING"' in str(entry.get("response")):
            raise Violation(
                "a call of the system is outside its token's scope",
                "a token whose scope holds every scope of the calls the system makes: exchange:write, catalog:read, "
                "license:read, license:write, idp:ticket as needed",
                f"403 {str(entry.get('response'))[:200]}",
                "ask for the union of the scopes of every call the system makes, in the one token request",
                f"{entry.get('method')} {entry.get('path')} at {entry.get('node')}",
            )
    one_token(calls)


def _signature_refusal(entry: dict[str, object]) -> bool:
    return any(f'"{code}"' in str(entry.get("response")) for code in SIGNATURE_CODES)


REFUSED_CALLS = 40  # the catalogue refuses the item's path this often: more than any loop needs to show
ATTEMPTS = 2  # the refused call and its one retry with a new token (SIG-04)


@pytest.mark.requirement("SIG-04", clauses=["SIG-04.4", "SIG-04.6"])
def test_a_call_refused_again_after_a_new_token_is_not_retried_in_a_loop(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    """The catalogue answers 401 TOKEN_INVALID to every call for a new item, whatever the token: the system fetches
    a new token and retries the call once, then gives up (two calls on the item's path, not a loop)."""
    item = platform.create_item(scenario.new_item())  # new: the system must ask the catalogue for it
    path = f"/catalog/v1/items/{item['item_code']}"
    refusal = json.dumps({"code": "TOKEN_INVALID", "message": "the token is not valid", "request_id": "r-sig-04"})
    platform.misanswer_next(path, refusal, REFUSED_CALLS, status=401)
    try:
        raw.get(f"{target.base_url}/yzw/v1/items/{item['item_code']}")
    finally:
        platform.clear_faults("province")
    calls = [e for e in own_calls(platform) if e["path"] == path]
    if not calls:  # the system never reached the catalogue (no token at all): the token checks say why
        pytest.skip(f"not-applicable: the system made no call on {path} to judge its retries")
    if any(e.get("status") == HTTPStatus.UNAUTHORIZED and _signature_refusal(e) for e in calls):
        pytest.skip(f"not-applicable: the catalogue refused the system's call on {path} for its signature (SIG-01)")
    if len(calls) != ATTEMPTS:
        raise Violation(
            "a call refused 401 TOKEN_INVALID was not retried exactly once with a new token",
            "2 calls on the item's path: the refused call and one retry after a new token (SIG-04)",
            f"{len(calls)} call(s) on {path}",
            "on 401 TOKEN_EXPIRED or TOKEN_INVALID fetch a new token and retry the call once; refused again, give up "
            "(503 DEPENDENCY_UNAVAILABLE, ROB-01), never retry in a loop",
            f"GET {path} at the province while every call was refused TOKEN_INVALID",
        )


@pytest.mark.requirement("SIG-05", clauses=["SIG-03.9", "SIG-05.1"])
def test_token_requests_ask_only_for_the_norms_scopes(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    _case_through_the_platform(scenario, driver)
    token_requests_valid(own_calls(platform))


@pytest.mark.requirement("SIG-03", clauses=["SIG-03.7", "SIG-03.8"])
def test_the_token_request_is_a_client_credentials_form(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    """The token request is `application/x-www-form-urlencoded` with `grant_type=client_credentials`."""
    _case_through_the_platform(scenario, driver)
    token_requests_are_forms(own_calls(platform))


KEYS_PATH = "/idp/v1/keys"


def _login(platform: Nodes, raw: httpx.Client, scenario: Scenario) -> None:
    """A person signs on through the portal: the system validates the ticket and fetches the IdP's keys (SSO-02)."""
    user = {"user_id": "U-SIG-KEYS", "user_type": "person", "name": "张三", "auth_level": 3, "id_type": "111"}
    user["id_number"] = scenario.factory.fake.person()["id_number"]
    raw.cookies.clear()
    raw.get(platform.login(user))


@pytest.mark.requirement("SIG-01", clauses=["SIG-01.5", "SIG-01.6"])
def test_the_fetch_of_the_idps_keys_is_signed(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    """The keys endpoint is the platform's, not one of the system's public endpoints: the system signs its fetch,
    and the ticket validation before it. A fetch without X-Yzw-App-Id while the system signs a person on is the
    system's unsigned fetch."""
    started = time.time() - 1
    _login(platform, raw, scenario)
    fetches = [e for e in platform.traffic("province", KEYS_PATH, "GET", own=False) if float(e.get("t", 0)) >= started]
    fetches = [e for e in fetches if e.get("app_id") in (None, "", target.app_id)]  # its own, or anonymous
    unsigned = [e for e in fetches if not e.get("app_id")]
    for entry in fetches:
        platform.evidence.observed(entry, target.province_url)
    if unsigned:
        raise Violation(
            "the system fetched the IdP's public keys unsigned",
            f"GET {{province}}{KEYS_PATH} signed as SIG-01 (X-Yzw-App-Id {target.app_id} …) with the bearer token",
            f"{len(unsigned)} fetch(es) without X-Yzw-App-Id while the system signed a person on",
            "send every call to the platform through the signed client, the keys fetch included",
            "the province IdP's traffic",
        )
    no_refusal(  # the ticket validation before it is signed too (when the login reached the platform at all)
        own_calls(platform) or [{}],
        SIGNATURE_CODES,
        fix="sign the ticket validation (POST /idp/v1/tickets/validate) and the keys fetch as SIG-01 says",
    )


@pytest.mark.requirement("SIG-03", clauses=["SIG-03.5", "SIG-03.10"])
def test_the_keys_fetch_carries_a_token_and_the_token_request_none(
    scenario: Scenario, driver: Driver, platform: Nodes, raw: httpx.Client
) -> None:
    """The system's fetch of the IdP's keys carries its bearer token like every platform call; the token request
    itself is signed and carries none."""
    platform.expire_tokens()  # the next call is refused TOKEN_EXPIRED: a token request follows
    _case_through_the_platform(scenario, driver)
    _login(platform, raw, scenario)
    calls = _own_calls_or_skip(platform)
    bearer_on_every_call([e for e in calls if e["path"] == KEYS_PATH] or calls)
    for entry in (e for e in calls if e["path"] == TOKEN_PATH):
        if entry.get("bearer"):
            raise Violation(
                "the token request carries a bearer token",
                "POST /idp/v1/oauth/token signed as SIG-01, without Authorization",
                "Authorization: Bearer … on the token request",
                "send the client-credentials form signed only; the bearer belongs to the calls made with the token",
                f"POST {TOKEN_PATH} at {entry.get('node')}",
            )
