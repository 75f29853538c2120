"""gmssl's SM2 as an independent check of the kit's signatures."""

from __future__ import annotations

from gmssl import sm2 as gmssl_sm2


def independent_verifier(public_key_hex: str) -> gmssl_sm2.CryptSM2:
    """gmssl's verifier for an uncompressed public key (04 || x || y).

    Its constructor strips the 04 with `lstrip("04")`, which also eats an x that begins with 0 or 4 (or 04
    when the prefix is left off: 1 key in 256); the key is set after construction so every key works.
    """
    verifier = gmssl_sm2.CryptSM2(private_key="", public_key="")
    verifier.public_key = public_key_hex.removeprefix("04")
    return verifier
