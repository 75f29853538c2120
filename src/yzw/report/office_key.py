"""The office's SM2 key pair: it signs certificates and revocation lists; anyone verifies them offline.

Two JSON files: the private key (mode 0600, kept by the office) and the public key (published). Each names
the key with a `kid`, so a certificate says which key signed it and a rotated key never verifies old text.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yzw.errors import YzwError
from yzw.sm2 import SigningKey, verify_bytes

PRIVATE_FILE, PUBLIC_FILE = "office-key.json", "office-public.json"
ALGORITHM = "SM2"


@dataclass(frozen=True)
class PublicKey:
    """The published half: what `yzw report verify` checks a signature with."""

    kid: str
    public_key_hex: str

    def verifies(self, data: bytes, signature: object) -> bool:
        """Whether `signature` (a `{"algorithm", "kid", "value"}` member) is this key's over `data`."""
        return (
            isinstance(signature, dict)
            and signature.get("kid") == self.kid
            and isinstance(signature.get("value"), str)
            and verify_bytes(self.public_key_hex, data, signature["value"])
        )

    def as_record(self) -> dict[str, str]:
        return {"kid": self.kid, "algorithm": ALGORITHM, "public_key": self.public_key_hex}


def new_kid() -> str:
    return "office-" + dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")


def generate_keys(folder: Path, kid: str | None = None, replace: bool = False) -> tuple[Path, Path]:
    """Write a new key pair into `folder`; refuse to overwrite one unless `replace`."""
    private_path, public_path = folder / PRIVATE_FILE, folder / PUBLIC_FILE
    if not replace and private_path.exists():
        raise YzwError(f"{private_path} exists: certificates it signed would no longer verify; use --force")
    key = SigningKey.generate(kid or new_kid())
    public = PublicKey(key.kid, key.public_key_hex)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump({**public.as_record(), "private_key": key.private_key.hex()}, file, indent=2)
        public_path.write_text(json.dumps(public.as_record(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise YzwError(f"cannot write the office's keys into {folder}: {exc}") from None
    return private_path, public_path


def _record(path: Path, members: tuple[str, ...]) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise YzwError(f"cannot read {path} as an office key: {exc}") from None
    missing = [m for m in members if not isinstance(record, dict) or not isinstance(record.get(m), str)]
    if missing or record.get("algorithm") != ALGORITHM:
        raise YzwError(
            f"{path} is not an office key written by `yzw console keys`: it needs {', '.join(members)} and "
            f'"algorithm": "{ALGORITHM}"'
        )
    return dict(record)


def load_public_key(path: Path) -> PublicKey:
    """The public key in `path` (the private key file holds it too)."""
    record = _record(path, ("kid", "public_key"))
    return PublicKey(record["kid"], record["public_key"])


def load_signing_key(path: Path) -> SigningKey:
    """The office's private key in `path`."""
    record = _record(path, ("kid", "public_key", "private_key"))
    try:
        return SigningKey(record["kid"], bytes.fromhex(record["private_key"]), bytes.fromhex(record["public_key"]))
    except ValueError:
        raise YzwError(f"{path}: the keys are not hexadecimal; write a new pair with `yzw console keys`") from None


def sign(document: dict[str, Any], key: SigningKey, data: bytes) -> dict[str, Any]:
    """`document` with a `signature` member: the key's SM2 signature over `data` (its canonical form)."""
    return {**document, "signature": {"algorithm": "SM2-with-SM3", "kid": key.kid, "value": key.sign_bytes(data)}}
