"""SM2 signatures (gmalg): SSO-02's over the canonical user record followed by issued_at, and the office's
over the certificates and revocation lists it issues (any bytes, SM3 digest with Z of the default user id)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gmalg

DEFAULT_UID = b"1234567812345678"  # GB/T 32918 default user identity


def signed_bytes(user: dict[str, Any], issued_at: str) -> bytes:
    """Canonical JSON of `user` (keys sorted at every level, no spaces, no \\u escapes) + issued_at."""
    return (json.dumps(user, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + issued_at).encode()


@dataclass(frozen=True)
class SigningKey:
    """An SM2 key pair of the IdP: `kid` names it in /idp/v1/keys."""

    kid: str
    private_key: bytes
    public_key: bytes  # uncompressed point, 0x04 || x || y

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        private_key, public_key = gmalg.SM2().generate_keypair()
        return cls(kid, private_key, public_key)

    @property
    def public_key_hex(self) -> str:
        return self.public_key.hex()

    def sign(self, user: dict[str, Any], issued_at: str) -> str:
        """Hex r||s over the SSO-02 bytes."""
        return self.sign_bytes(signed_bytes(user, issued_at))

    def sign_bytes(self, data: bytes) -> str:
        """Hex r||s over `data` (SM3 digest with Z of the default user id)."""
        signer = gmalg.SM2(sk=self.private_key, uid=DEFAULT_UID, pk=self.public_key)
        r, s = signer.sign(data)
        return (bytes(r).rjust(32, b"\0") + bytes(s).rjust(32, b"\0")).hex()  # fixed width: r, s may be short


def verify(public_key_hex: str, user: dict[str, Any], issued_at: str, signature_hex: str) -> bool:
    """True when `signature_hex` (r||s) is the key's SM2 signature over the SSO-02 bytes."""
    return verify_bytes(public_key_hex, signed_bytes(user, issued_at), signature_hex)


def verify_bytes(public_key_hex: str, data: bytes, signature_hex: str) -> bool:
    """True when `signature_hex` (r||s) is the key's SM2 signature over `data`."""
    try:
        public_key, signature = bytes.fromhex(public_key_hex), bytes.fromhex(signature_hex)
    except ValueError:
        return False
    if len(signature) != 64 or len(public_key) != 65:
        return False
    try:
        return bool(gmalg.SM2(pk=public_key, uid=DEFAULT_UID).verify(data, signature[:32], signature[32:]))
    except (ValueError, gmalg.errors.GMError):
        return False
