"""The kit's signed HTTP client (SIG-01) with a cached bearer token (SIG-03/04): sync and async.

Both clients sign exactly the bytes they send, reuse one token until 60 s before it expires, and on
`401 TOKEN_EXPIRED` or `TOKEN_INVALID` fetch a new token and retry the request once.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from yzw.signing import signed_headers

SignHeaders = Callable[..., dict[str, str]]  # signing.signed_headers' signature: the four SIG-01 headers

TOKEN_PATH = "/idp/v1/oauth/token"
RENEW_ON = ("TOKEN_EXPIRED", "TOKEN_INVALID")  # SIG-04


@cache
def trusted() -> ssl.SSLContext:
    """One TLS context for every client of this process: httpx would load the CA bundle again for each client
    (≈ 10–30 ms), and a conformance run opens several clients per check. Same trust as httpx's default
    (SSL_CERT_FILE / SSL_CERT_DIR, else certifi)."""
    return httpx.create_ssl_context()


REFRESH_MARGIN = 60  # seconds before expiry when a token is renewed (SIG-04 allows the last 60 s)


@dataclass
class Credentials:
    """Who signs: app id and secret; where tokens come from, and which scopes to ask (None: no bearer)."""

    app_id: str
    secret: str
    token_url: str | None = None
    scope: str = "exchange:write"
    nonce_bytes: int = 16  # SIG-01: 32 hex characters, inside the 16-64 the norm allows
    renew_on: tuple[str, ...] = RENEW_ON  # SIG-04: the refusals after which a new token is fetched and the call retried
    retries: int = 1  # SIG-04: how often a refused call is retried with a new token (once)


@dataclass
class Token:
    value: str = ""
    expires_at: float = 0.0
    requests: int = field(default=0)

    def fresh(self, margin: float = REFRESH_MARGIN) -> bool:
        return bool(self.value) and time.time() < self.expires_at - margin


def _prepare(
    credentials: Credentials,
    method: str,
    url: str,
    params: dict[str, Any] | None,
    json: Any,
    content: bytes | None,
    headers: dict[str, str] | None,
    sign: SignHeaders = signed_headers,
) -> tuple[str, bytes, dict[str, str]]:
    """The final URL, body bytes and headers (signed over the path and raw query actually sent)."""
    query = urlencode(params or {}, doseq=True)
    full = f"{url}?{query}" if query else url
    body = (
        content
        if content is not None
        else (jsonlib.dumps(json, ensure_ascii=False).encode() if json is not None else b"")
    )
    parts = urlsplit(full)
    out = dict(headers or {})
    if json is not None and content is None:
        out.setdefault("Content-Type", "application/json")
    nonce = secrets.token_hex(credentials.nonce_bytes)
    out.update(sign(credentials.app_id, credentials.secret, method, parts.path or "/", parts.query, body, nonce=nonce))
    return full, body, out


def token_form(credentials: Credentials, token: Token) -> tuple[bytes, dict[str, str]]:
    """SIG-03: the token request's body and headers: a form with `grant_type=client_credentials` and the
    scopes, no bearer (the token in hand, stale or not, stays out of it)."""
    form = urlencode({"grant_type": "client_credentials", "scope": credentials.scope}).encode()
    return form, {"Content-Type": "application/x-www-form-urlencoded"}


class TokenUnavailable(httpx.HTTPError):
    """The IdP gave no token: an answer that is not SIG-03's token answer (ROB-01: no token to be had)."""


def read_token(response: httpx.Response, token: Token) -> None:
    """SIG-03: the token of the IdP's answer; a refusal, a 5xx or an answer that is not the norm's
    (`{"access_token","token_type":"Bearer","expires_in"}`) is no token (ROB-01), raised as an HTTP error."""
    response.raise_for_status()
    try:
        data = response.json()
    except ValueError:
        data = None
    if not (
        isinstance(data, dict)
        and isinstance(data.get("access_token"), str)
        and data["access_token"]
        and data.get("token_type") == "Bearer"
        and isinstance(data.get("expires_in"), int)
        and not isinstance(data["expires_in"], bool)
        and data["expires_in"] > 0
    ):
        raise TokenUnavailable(f"the IdP answered {response.status_code} without a token (SIG-03)")
    token.value, token.expires_at = data["access_token"], time.time() + data["expires_in"]
    token.requests += 1


def _needs_new_token(response: httpx.Response, renew_on: tuple[str, ...]) -> bool:
    if response.status_code != 401:
        return False
    try:
        return response.json().get("code") in renew_on
    except ValueError:
        return False


class _Signer:
    """What both clients share: the token cache, and the signed form of each request. No I/O here."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.token = Token()
        self.reuse_token = True  # SIG-04; the reference system's fault token-per-request turns it off
        self.read_token: Callable[[httpx.Response, Token], None] = read_token  # SIG-03, ROB-01
        self.sign: SignHeaders = signed_headers  # SIG-01
        self.refresh_margin: float = REFRESH_MARGIN  # SIG-04: renewed no earlier than the token's last 60 s
        self.retry_refused = True  # SIG-04: a call refused for its token is retried (once) with a new one
        self.token_form: Callable[[Credentials, Token], tuple[bytes, dict[str, str]]] = token_form  # SIG-03

    def _token_request(self, force: bool) -> tuple[str, bytes, dict[str, str]] | None:
        """The token request to send first, or None when no token is needed or the cached one is fresh."""
        if self.credentials.token_url is None or (
            not force and self.reuse_token and self.token.fresh(self.refresh_margin)
        ):
            return None
        form, form_headers = self.token_form(self.credentials, self.token)
        return _prepare(self.credentials, "POST", self.credentials.token_url, None, None, form, form_headers, self.sign)

    def _authorization(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token.value}"} if self.credentials.token_url else {}

    def _signed(self, method: str, url: str, options: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
        extra = {**(options.get("headers") or {}), **self._authorization()}
        return _prepare(
            self.credentials,
            method,
            url,
            options.get("params"),
            options.get("json"),
            options.get("content"),
            extra,
            self.sign,
        )


class SignedClient(_Signer):
    """Synchronous signed client (tests, CLI)."""

    def __init__(
        self, credentials: Credentials, timeout: float = 10.0, hooks: dict[str, list[Any]] | None = None
    ) -> None:
        super().__init__(credentials)
        self._http = httpx.Client(timeout=timeout, event_hooks=hooks, verify=trusted())

    def close(self) -> None:
        self._http.close()

    def _bearer(self, force: bool = False) -> dict[str, str]:
        """The Authorization header, fetching a token first when needed."""
        pending = self._token_request(force)
        if pending is not None:
            url, body, headers = pending
            self.read_token(self._http.post(url, content=body, headers=headers), self.token)
        return self._authorization()

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        """Send a signed request (options: params, json, content, headers); refresh the token once on 401."""
        response = self._send(method, url, options, force=False)
        for _ in range(self.credentials.retries):
            if not _needs_new_token(response, self.credentials.renew_on):
                break
            if not self.retry_refused:
                self.token = Token()  # the next call fetches a new one; this one stays refused
                break
            response = self._send(method, url, options, force=True)
        return response

    def _send(self, method: str, url: str, options: dict[str, Any], force: bool) -> httpx.Response:
        self._bearer(force)
        full, body, headers = self._signed(method, url, options)
        return self._http.request(method, full, content=body, headers=headers)


class AsyncSignedClient(_Signer):
    """Asynchronous signed client (the mock nodes' relay and notices)."""

    def __init__(self, credentials: Credentials, timeout: float = 5.0) -> None:
        super().__init__(credentials)
        self._http = httpx.AsyncClient(timeout=timeout, verify=trusted())
        self._fetching: asyncio.Future[None] | None = None  # the token request under way, shared by every call

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        """Send a signed request (options: params, json, content, headers); refresh the token once on 401."""
        response, used = await self._send(method, url, options, refused=None)
        for _ in range(self.credentials.retries):
            if not _needs_new_token(response, self.credentials.renew_on):
                break
            if not self.retry_refused:
                self.token = Token()  # the next call fetches a new one; this one stays refused
                break
            response, used = await self._send(method, url, options, refused=used)
        return response

    async def _send(
        self, method: str, url: str, options: dict[str, Any], refused: str | None
    ) -> tuple[httpx.Response, str | None]:
        """The answer, and the token it was sent with. `refused`: the token a first try was refused for; it is
        renewed unless another call renewed it meanwhile."""
        if self._token_request(refused is not None) is not None:
            await self._shared_token(refused)
        used = self.token.value
        full, body, headers = self._signed(method, url, options)
        return await self._http.request(method, full, content=body, headers=headers), used

    async def _shared_token(self, refused: str | None) -> None:
        """Fetch the token a call needs. Calls side by side share one token request and its outcome: one
        renewal, not one per call (SIG-04), and an IdP that does not answer is waited for once (ROB-01)."""
        if self._fetching is None or self._fetching.done():
            pending = self._token_request(refused is not None and refused == self.token.value)
            if pending is None:
                return
            self._fetching = asyncio.ensure_future(self._fetch_token(*pending))
        await asyncio.shield(self._fetching)

    async def _fetch_token(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        self.read_token(await self._http.post(url, content=body, headers=headers), self.token)
