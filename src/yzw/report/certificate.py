"""Certificates of conformance: what a passing run proves, signed with the office's SM2 key, with an expiry.

A certificate names the system and its department, the digest of its registration, the kit and norm
versions, the SM3 digest of the run's report and every requirement's verdict. The office signs it; anyone
holding the office's public key checks it offline (`yzw report verify`): valid, expired, revoked (the
office's signed revocation list) or invalid (changed after signing, or signed by another key).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yzw.errors import YzwError
from yzw.report.document import canonical, canonical_json
from yzw.report.office_key import PublicKey, sign
from yzw.signing import sm3_hex
from yzw.sm2 import SigningKey

CERTIFICATE = "yzw-conform certificate of conformance"
REVOCATIONS = "yzw-conform revocation list"
DEFAULT_VALID_DAYS = 365
VALID, EXPIRED, REVOKED, INVALID = "valid", "expired", "revoked", "invalid"


@dataclass(frozen=True)
class Status:
    """What a certificate is worth on a given day, and why."""

    state: str
    reason: str


def issue(report: dict[str, Any], key: SigningKey, issued_on: dt.date, valid_days: int) -> dict[str, Any]:
    """The signed certificate of a passing report (whose digest the caller has verified)."""
    if not report.get("summary", {}).get("passed"):
        failing = report.get("summary", {}).get("must_not_passed", [])
        raise YzwError(
            f"the run did not pass (MUST not passed: {', '.join(failing) or 'see the report'}); "
            "a certificate is issued only for a passing run"
        )
    if valid_days < 1:
        raise YzwError(f"--valid-days must be at least 1, not {valid_days}")
    missing = [m for m in ("system", "kit", "norm", "run", "digest", "requirements") if m not in report]
    if missing:
        raise YzwError(f"the report lacks {', '.join(missing)}: certify a report written by `yzw run` or `yzw demo`")
    system = report["system"]
    certificate = {
        "certificate": CERTIFICATE,
        "serial": uuid.uuid4().hex,
        "system": system,
        "registration_digest": {"algorithm": "SM3", "value": sm3_hex(canonical_json(system))},
        "kit": report["kit"],
        "norm": report["norm"],
        "scope": scope_of(report),
        "run": {
            "digest": report["digest"],
            "profile": report["run"]["profile"],
            "started_at": report["run"]["started_at"],
            "finished_at": report["run"]["finished_at"],
        },
        "verdicts": [
            {"id": r["id"], "level": r["level"], "verdict": r["verdict"], "waiver": r.get("waiver")}
            for r in report["requirements"]
        ],
        "issued_on": issued_on.isoformat(),
        "expires_on": (issued_on + dt.timedelta(days=valid_days)).isoformat(),
    }
    return sign(certificate, key, canonical(certificate, seal_member="signature"))


def scope_of(report: dict[str, Any]) -> dict[str, Any]:
    """What the run covered: every requirement, or only some chapters or IDs (a partial certificate says so)."""
    chapters, only = list(report["run"].get("chapters", [])), list(report["run"].get("only", []))
    return {"complete": not chapters and not only, "chapters": chapters, "only": only}


def scope_text(certificate: dict[str, Any]) -> str:
    scope = certificate.get("scope") or {}
    if scope.get("complete", False):
        return "complete: every requirement of the norm"
    parts = [f"chapters {', '.join(scope['chapters'])}" if scope.get("chapters") else ""]
    parts.append(f"requirements {', '.join(scope['only'])}" if scope.get("only") else "")
    return "PARTIAL: only " + " and ".join(p for p in parts if p)


def status(certificate: dict[str, Any], public: PublicKey, revocations: dict[str, Any] | None, on: dt.date) -> Status:
    """The certificate's state on day `on`: the signature first, then revocation, then the dates."""
    if not public.verifies(canonical(certificate, seal_member="signature"), certificate.get("signature")):
        signer = (certificate.get("signature") or {}).get("kid", "nobody")
        return Status(INVALID, f"the signature does not verify with key {public.kid} (signed by {signer}, or changed)")
    for entry in (revocations or {}).get("revoked", []):
        if entry.get("serial") == certificate["serial"]:
            return Status(REVOKED, f"revoked on {entry.get('revoked_on')}: {entry.get('reason')}")
    issued, expires = dt.date.fromisoformat(certificate["issued_on"]), dt.date.fromisoformat(certificate["expires_on"])
    if on < issued:
        return Status(INVALID, f"issued on {issued}, after the day checked ({on})")
    if on >= expires:
        return Status(EXPIRED, f"expired on {expires}")
    return Status(VALID, f"issued on {issued}, valid until {expires - dt.timedelta(days=1)}")


def revoke(
    revocations: dict[str, Any] | None, certificate: dict[str, Any], reason: str, key: SigningKey, on: dt.date
) -> dict[str, Any]:
    """The revocation list with `certificate` added, signed again."""
    if not reason.strip():
        raise YzwError("a revocation needs a reason (--reason), kept in the list for whoever verifies")
    if (certificate.get("signature") or {}).get("kid") != key.kid:
        raise YzwError(f"certificate {certificate.get('serial')} was not signed by key {key.kid}; revoke it there")
    entries = list((revocations or {}).get("revoked", []))
    for entry in entries:
        if entry["serial"] == certificate["serial"]:
            raise YzwError(f"certificate {certificate['serial']} was already revoked on {entry['revoked_on']}")
    entries.append(
        {
            "serial": certificate["serial"],
            "app_id": certificate["system"].get("app_id"),
            "reason": reason.strip(),
            "revoked_on": on.isoformat(),
        }
    )
    listing = {"list": REVOCATIONS, "kid": key.kid, "updated_on": on.isoformat(), "revoked": entries}
    return sign(listing, key, canonical(listing, seal_member="signature"))


def empty_revocations(key: SigningKey, on: dt.date) -> dict[str, Any]:
    """A signed list that revokes nothing yet: what the office publishes before its first revocation."""
    listing = {"list": REVOCATIONS, "kid": key.kid, "updated_on": on.isoformat(), "revoked": []}
    return sign(listing, key, canonical(listing, seal_member="signature"))


def read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise YzwError(f"cannot read {path} as {what}: {exc}") from None
    if not isinstance(document, dict):
        raise YzwError(f"{path} is not {what}: a JSON object is expected")
    return document


def is_certificate(document: dict[str, Any]) -> bool:
    return document.get("certificate") == CERTIFICATE


def read_certificate(path: Path) -> dict[str, Any]:
    document = read_json(path, "a certificate")
    members = ("serial", "system", "issued_on", "expires_on", "signature")
    if not is_certificate(document) or any(m not in document for m in members):
        raise YzwError(f"{path} is not a certificate written by `yzw console issue`")
    try:
        dt.date.fromisoformat(document["issued_on"]), dt.date.fromisoformat(document["expires_on"])
    except (TypeError, ValueError):
        raise YzwError(f"{path}: issued_on and expires_on must be dates (YYYY-MM-DD)") from None
    return document


def read_revocations(path: Path, public: PublicKey) -> dict[str, Any]:
    """The revocation list in `path`, refused unless the office's key signed it as it stands."""
    listing = read_json(path, "a revocation list")
    if listing.get("list") != REVOCATIONS or not isinstance(listing.get("revoked"), list):
        raise YzwError(f"{path} is not a revocation list written by `yzw console revoke`")
    if not public.verifies(canonical(listing, seal_member="signature"), listing.get("signature")):
        raise YzwError(f"{path}: the revocation list's signature does not verify with key {public.kid}")
    return listing
