"""The system under test as the kit reaches it: its record, and what the mock platform gave it (norm §1)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from yzw.errors import YzwError
from yzw.signing import signed_headers
from yzw.sut import PlatformGrant, Registration

HEALTH = "/yzw/v1/health"
UNKNOWN_APPLICATION_NO = "33010612026092898579678"  # well formed, never submitted
SIGNATURE_CODES = ("SIGNATURE_MISSING", "SIGNATURE_INVALID", "APP_UNKNOWN", "TIMESTAMP_EXPIRED", "NONCE_REPLAYED")


@dataclass(frozen=True)
class Target:
    """A registered system: its checked record and what the platform granted it."""

    registration: Registration
    grant: PlatformGrant
    platform_url: str

    @property
    def base_url(self) -> str:
        return self.registration.base_url

    @property
    def app_id(self) -> str:
        return self.registration.app_id

    @property
    def sso_url(self) -> str:
        return self.registration.sso_url

    @property
    def driver_url(self) -> str | None:
        return self.registration.driver_url

    @property
    def formats(self) -> tuple[str, ...]:
        return self.registration.formats

    @property
    def province_url(self) -> str:
        return self.grant.province_url

    @property
    def exchange_url(self) -> str:
        """The exchange of the system's own tier (EVT-01)."""
        return self.grant.exchange_url


def connect(registration: Registration, platform_url: str, timeout: float = 10.0) -> Target:
    """Register the record at the mock platform and make sure the system answers; clear errors otherwise."""
    platform_url = platform_url.rstrip("/")
    try:
        answer = httpx.post(platform_url + "/_mock/systems", json=registration.as_record(), timeout=timeout)
    except httpx.HTTPError as exc:
        raise YzwError(
            f"no mock platform answers at {platform_url} ({type(exc).__name__}); start one with "
            "`yzw mock up --sut FILE` and give its province URL with --platform"
        ) from None
    if answer.status_code != 200:
        raise YzwError(f"the mock platform at {platform_url} refused the registration record: {answer.text[:300]}")
    target = Target(registration, PlatformGrant.from_answer(answer.json()), platform_url)
    _reachable(target, timeout)
    _keys_agree(target, timeout)
    return target


def _reachable(target: Target, timeout: float) -> None:
    try:
        httpx.get(target.base_url + HEALTH, timeout=timeout)
    except httpx.HTTPError as exc:
        raise YzwError(
            f"[REG-01] nothing answers at base_url {target.base_url} ({type(exc).__name__}); start the system, "
            "or correct base_url in the registration record"
        ) from None


def _keys_agree(target: Target, timeout: float) -> None:
    """The system and the kit sign with the same secrets: otherwise every check would fail for one reason."""
    try:
        _same_keys(target, timeout)
    except httpx.HTTPError as exc:
        where = target.driver_url or target.base_url
        raise YzwError(
            f"[REG-01] the system stopped answering while the kit checked its keys ({type(exc).__name__} at "
            f"{where}); check base_url and driver.url in the registration record"
        ) from None


def _same_keys(target: Target, timeout: float) -> None:
    path = f"/yzw/v1/applications/{UNKNOWN_APPLICATION_NO}"
    headers = signed_headers(target.grant.app_id, target.grant.secret, "GET", path)
    if _refused_signature(httpx.get(target.base_url + path, headers=headers, timeout=timeout)):
        raise YzwError(
            "[SIG-02] the system refused the mock platform's signature: configure it with the platform_secret "
            "that `yzw mock up` printed for this platform (it changes with each new platform database)"
        )
    if target.driver_url:
        body = json.dumps({"action": "accept", "application_no": UNKNOWN_APPLICATION_NO}).encode()
        url = target.driver_url + "/actions"
        driver_path = httpx.URL(url).raw_path.decode()
        signed = signed_headers(target.app_id, target.registration.app_secret, "POST", driver_path, body=body)
        answer = httpx.post(url, content=body, headers={**signed, "Content-Type": "application/json"}, timeout=timeout)
        if _refused_signature(answer):
            raise YzwError(
                "[SIG-02] the system's driver refused the kit's signature: app_secret in the registration record "
                "is not the secret the system uses; correct app_secret (or driver.url) in sut.yaml"
            )


def _refused_signature(answer: httpx.Response) -> bool:
    try:
        code = answer.json().get("code") if answer.status_code == 401 else None
    except ValueError:
        return answer.status_code == 401
    return code in SIGNATURE_CODES
