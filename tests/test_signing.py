"""SIG-01 against the norm vectors, SIG-02 in its order, SSO-02 SM2 across two libraries."""

from __future__ import annotations

import gmalg
import pytest
from tests.independent_sm2 import independent_verifier

from yzw.signing import (
    NonceMemory,
    canonical_query,
    canonical_string,
    signature,
    signed_headers,
    sm3_hex,
    verify,
)
from yzw.sm2 import SigningKey, signed_bytes
from yzw.sm2 import verify as sm2_verify

SECRET = "yzw-demo-secret-0123456789abcdef"
QUERY = "page=2&dept_uscc=11330106002500287C&name=%E8%A5%BF%E6%B9%96+%E5%8C%BA"
BODY = b'{"application_no":"33010612026112700000421"}'


def test_norm_vector() -> None:
    assert canonical_query(QUERY) == "dept_uscc=11330106002500287C&name=%E8%A5%BF%E6%B9%96%20%E5%8C%BA&page=2"
    assert sm3_hex(BODY) == "d475e8e5cbf60a0cae1ac5402f47f5c0e9e932275444b19a2b54eaf16fc7c22d"
    assert sm3_hex(b"") == "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
    canonical = canonical_string("POST", "/yzw/v1/applications", QUERY, "1795829400", "0f3c2a9e6d1b4c8e", BODY)
    assert signature(SECRET, canonical) == "14fafbfd8c55ca06deb3a1c76dfe41dba6633bf55d2012eaef3f3b8073503425"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1", "a=1&a=2"),
        ("flag", "flag="),
        ("a=1&&b=2", "a=1&b=2"),
        ("q=a%2Fb~c", "q=a%2Fb~c"),
        ("q=a*b", "q=a%2Ab"),
        # 2026.2: empty pairs, invalid escapes, bytes that are not UTF-8
        ("a=&b", "a=&b="),
        ("&a=1&&", "a=1"),
        ("q=%zz&r=100%", "q=%25zz&r=100%25"),
        ("q=%E8%A5", "q=%EF%BF%BD"),
        ("q=%FF", "q=%EF%BF%BD"),
        (b"q=\xff", "q=%EF%BF%BD"),
        (b"name=\xe8\xa5\xbf", "name=%E8%A5%BF"),
        ("name=西", "name=%E8%A5%BF"),
        ("b=%41&a=%2B+", "a=%2B%20&b=A"),
    ],
)
def test_canonical_query_rules(raw: str | bytes, canonical: str) -> None:
    assert canonical_query(raw) == canonical


def _request(**changes: str) -> dict[str, str]:
    headers = signed_headers(
        "dept-021",
        SECRET,
        "POST",
        "/exchange/v1/events",
        "",
        BODY,
        timestamp=1_795_829_400,
        nonce="0f3c2a9e6d1b4c8e",
    )
    return {**headers, **changes}


def _verify(headers: dict[str, str], nonces: NonceMemory | None = None, body: bytes = BODY) -> str | None:
    rejection = verify(
        headers,
        "POST",
        "/exchange/v1/events",
        "",
        body,
        {"dept-021": SECRET}.get,
        nonces or NonceMemory(),
        now=1_795_829_400,
    )
    return rejection.code if rejection else None


def test_a_signed_request_verifies_once_and_its_nonce_is_then_replayed() -> None:
    nonces = NonceMemory(clock=lambda: 1_795_829_400)
    assert _verify(_request(), nonces) is None
    assert _verify(_request(), nonces) == "NONCE_REPLAYED"


@pytest.mark.parametrize(
    ("changes", "body", "code"),
    [
        ({"X-Yzw-Signature": ""}, BODY, "SIGNATURE_MISSING"),
        ({"X-Yzw-App-Id": "stranger"}, BODY, "APP_UNKNOWN"),
        ({"X-Yzw-Timestamp": "soon"}, BODY, "SIGNATURE_INVALID"),
        ({"X-Yzw-Nonce": "short"}, BODY, "SIGNATURE_INVALID"),
        ({"X-Yzw-Timestamp": "1795829000"}, BODY, "TIMESTAMP_EXPIRED"),
        ({}, BODY + b" ", "SIGNATURE_INVALID"),
    ],
    ids=["missing", "unknown-app", "bad-timestamp", "bad-nonce", "expired", "tampered-body"],
)
def test_each_rejection_reason(changes: dict[str, str], body: bytes, code: str) -> None:
    assert _verify(_request(**changes), body=body) == code


def test_a_rejected_request_does_not_burn_its_nonce() -> None:
    nonces = NonceMemory(clock=lambda: 1_795_829_400)
    assert _verify(_request(), nonces, body=b"tampered") == "SIGNATURE_INVALID"
    assert _verify(_request(), nonces) is None


def test_the_nonce_memory_keeps_the_600_s_window_and_forgets_what_left_it() -> None:
    now = [1_795_829_400.0]
    nonces = NonceMemory(clock=lambda: now[0])
    assert nonces.claim("app", "n-first")
    for second in range(1, 1_000):  # a long run: a nonce a second
        now[0] += 1
        assert nonces.claim("app", f"n-{second}")
        assert not nonces.claim("app", f"n-{second}")  # replayed at once
    assert nonces.size <= 601  # what left the window is forgotten (no unbounded growth)
    assert not nonces.claim("app", "n-500")  # 499 s ago: still a replay
    assert nonces.claim("app", "n-first")  # 999 s ago: outside the window, fresh again
    assert not nonces.claim("app", "n-first")


def test_sm2_signed_bytes_follow_the_norms_example() -> None:
    user = {"name": "张三", "user_id": "U1", "auth_level": 3}
    assert signed_bytes(user, "2026-11-28T09:30:00+08:00") == (
        '{"auth_level":3,"name":"张三","user_id":"U1"}2026-11-28T09:30:00+08:00'.encode()
    )


def test_sm2_signature_verifies_with_an_independent_implementation() -> None:
    key = SigningKey.generate("idp-test")
    user = {"user_id": "U1", "name": "张三", "auth_level": 3, "nested": {"b": 1, "a": [2, 1]}}
    issued_at = "2026-11-28T09:30:00+08:00"
    signature_hex = key.sign(user, issued_at)
    independent = independent_verifier(key.public_key_hex)
    assert independent.verify_with_sm3(signature_hex, signed_bytes(user, issued_at))
    assert sm2_verify(key.public_key_hex, user, issued_at, signature_hex)
    assert not sm2_verify(key.public_key_hex, {**user, "auth_level": 4}, issued_at, signature_hex)
    assert not sm2_verify(key.public_key_hex, user, "2026-11-28T09:30:01+08:00", signature_hex)
    assert not sm2_verify(key.public_key_hex, user, issued_at, "00" * 64)
    assert not sm2_verify("zz", user, issued_at, signature_hex)
    assert not sm2_verify("04" + "11" * 64, user, issued_at, signature_hex)  # not a point on the curve


def test_sm2_signature_keeps_its_fixed_width_when_s_is_short(monkeypatch: pytest.MonkeyPatch) -> None:
    """r and s are 32 bytes each in r||s even when one has a leading zero byte (about 1 signature in 128).

    The key and the ephemeral k = 41 were found to give a 31-byte s for this message.
    """
    private = bytes.fromhex("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8")
    key = SigningKey("idp-width", private, gmalg.SM2().generate_pk(private))
    real = gmalg.SM2
    monkeypatch.setattr(gmalg, "SM2", lambda *args, **kwargs: real(*args, **{**kwargs, "rnd_fn": lambda n: 41}))
    user, issued_at = {"user_id": "U1", "name": "张三", "auth_level": 3}, "2026-11-28T09:30:00+08:00"
    signature_hex = key.sign(user, issued_at)
    assert len(signature_hex) == 128
    assert signature_hex[64:66] == "00"
    assert sm2_verify(key.public_key_hex, user, issued_at, signature_hex)
    independent = independent_verifier(key.public_key_hex)
    assert independent.verify_with_sm3(signature_hex, signed_bytes(user, issued_at))


def test_sm2_signature_verifies_independently_when_the_key_begins_with_04() -> None:
    """x = 04b3…: the case that made gmssl's constructor eat the key's first byte (1 key in 256)."""
    private = (11).to_bytes(32, "big")
    key = SigningKey("idp-04", private, gmalg.SM2().generate_pk(private))
    assert key.public_key_hex.startswith("0404")
    user, issued_at = {"user_id": "U1", "name": "张三", "auth_level": 3}, "2026-11-28T09:30:00+08:00"
    signature_hex = key.sign(user, issued_at)
    assert sm2_verify(key.public_key_hex, user, issued_at, signature_hex)
    assert independent_verifier(key.public_key_hex).verify_with_sm3(signature_hex, signed_bytes(user, issued_at))
