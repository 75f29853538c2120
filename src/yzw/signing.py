"""SIG-01 request signing (HMAC-SM3 over the canonical string) and SIG-02 verification in order."""

from __future__ import annotations

import functools
import hmac as std_hmac
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote, unquote_to_bytes

from cryptography.hazmat.primitives import hashes, hmac

HEADER_APP_ID = "X-Yzw-App-Id"
HEADER_TIMESTAMP = "X-Yzw-Timestamp"
HEADER_NONCE = "X-Yzw-Nonce"
HEADER_SIGNATURE = "X-Yzw-Signature"
SIGNATURE_HEADERS = (HEADER_APP_ID, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)
TIMESTAMP_WINDOW = 300  # seconds, SIG-02
NONCE_WINDOW = 600  # seconds, SIG-02
NONCE_SYNTAX = re.compile(r"[A-Za-z0-9-]{16,64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DIGITS = re.compile(r"[0-9]+")
UNRESERVED = "-._~"  # RFC 3986 unreserved besides letters and digits: kept as they are (SIG-01)
EMPTY_SM3 = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"  # SIG-01: SM3 of an empty body


def sm3_hex(data: bytes) -> str:
    """Lowercase hex SM3 digest."""
    if not data:
        return EMPTY_SM3
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def canonical_query(raw_query: str | bytes) -> str:
    """SIG-01 CANONICAL_QUERY: form-decode each pair, sort by name then value, RFC 3986 re-encode.

    Works on the query's bytes as sent (a server passes them undecoded), so raw bytes that are not UTF-8
    become U+FFFD as the norm says; an empty pair (`a=1&&b=2`) is dropped, a pair without `=` has an empty
    value and an invalid escape (`%zz`) stays the literal characters.
    """
    return "&".join(
        f"{quote(n, safe=UNRESERVED)}={quote(v, safe=UNRESERVED)}" for n, v in sorted(query_pairs(raw_query))
    )


def query_pairs(raw_query: str | bytes) -> list[tuple[str, str]]:
    """The decoded `name=value` pairs of a raw query, in the order sent, empty pairs dropped (SIG-01)."""
    raw = raw_query.encode("utf-8") if isinstance(raw_query, str) else raw_query
    pairs = []
    for segment in raw.split(b"&"):
        if not segment:
            continue
        name, _, value = segment.partition(b"=")
        pairs.append((_form_decoded(name), _form_decoded(value)))
    return pairs


def _form_decoded(part: bytes) -> str:
    """Form rules: `+` is a space, `%XX` a byte (an invalid escape stays as it is), then UTF-8 with U+FFFD."""
    return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8", errors="replace")


def canonical_string(
    method: str,
    path: str,
    raw_query: str | bytes,
    timestamp: str,
    nonce: str,
    body: bytes,
    query_rule: Callable[[str | bytes], str] = canonical_query,
) -> str:
    """METHOD \\n PATH \\n CANONICAL_QUERY \\n TIMESTAMP \\n NONCE \\n hex(SM3(body))."""
    return "\n".join((method.upper(), path, query_rule(raw_query), timestamp, nonce, sm3_hex(body)))


def signature(secret: str, canonical: str) -> str:
    """Lowercase hex HMAC-SM3 of the canonical string, keyed with the secret's UTF-8 bytes."""
    mac = _keyed(secret).copy()  # the keyed state is computed once per secret (load generators sign a lot)
    mac.update(canonical.encode("utf-8"))
    return mac.finalize().hex()


@functools.lru_cache(maxsize=256)
def _keyed(secret: str) -> hmac.HMAC:
    return hmac.HMAC(secret.encode("utf-8"), hashes.SM3())


def new_nonce() -> str:
    return secrets.token_hex(16)


def signed_headers(
    app_id: str,
    secret: str,
    method: str,
    path: str,
    raw_query: str | bytes = "",
    body: bytes = b"",
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four SIG-01 headers for one request."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or new_nonce()
    canonical = canonical_string(method, path, raw_query, stamp, nonce, body)
    return {
        HEADER_APP_ID: app_id,
        HEADER_TIMESTAMP: stamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(secret, canonical),
    }


@dataclass(frozen=True)
class Rejection:
    """Why a signed request was refused (SIG-02): always `401` with one of the norm's codes."""

    code: str
    message: str


class NonceMemory:
    """Nonces seen per app in the last 600 s (SIG-02); remembered only once a signature verified.

    Nonces expire in the order they were remembered: a queue of (time, key) is trimmed from its old end on
    each claim, so a claim costs the same with ten or ten million nonces in the window (a full scan of the
    memory on every request made the platform slower the longer a load ran).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._order: deque[tuple[float, tuple[str, str]]] = deque()
        self._clock = clock

    def seen(self, app_id: str, nonce: str) -> bool:
        at = self._seen.get((app_id, nonce))
        return at is not None and self._clock() - at <= NONCE_WINDOW

    def claim(self, app_id: str, nonce: str) -> bool:
        """Record the nonce if it is fresh; False when it was seen in the window (a replay)."""
        if self.seen(app_id, nonce):
            return False
        self.remember(app_id, nonce)
        return True

    def remember(self, app_id: str, nonce: str) -> None:
        now = self._clock()
        self._forget_before(now - NONCE_WINDOW)
        self._seen[(app_id, nonce)] = now
        self._order.append((now, (app_id, nonce)))

    @property
    def size(self) -> int:
        """How many nonces are remembered (those still in the window, and some just past it)."""
        return len(self._seen)

    def _forget_before(self, oldest: float) -> None:
        order, seen = self._order, self._seen
        while order and order[0][0] < oldest:
            at, key = order.popleft()
            if seen.get(key) == at:  # not remembered again since
                del seen[key]


class Nonces(Protocol):
    """Where a receiver keeps the nonces it has seen (SIG-02): in memory, or shared by replicas."""

    def claim(self, app_id: str, nonce: str) -> bool: ...


@dataclass
class Presented:
    """One request as SIG-02 judges it: its four headers, what was signed, and where keys and nonces are kept."""

    headers: Mapping[str, str]
    method: str
    path: str
    raw_query: str | bytes
    body: bytes
    secret_of: Callable[[str], str | None]
    nonces: Nonces
    now: float
    query_rule: Callable[[str | bytes], str] = canonical_query  # SIG-01's, unless a server gets it wrong
    secret: str = ""  # the caller's, once its app is known
    _read: dict[str, str] = field(default_factory=dict)  # each header looked up once (the stages ask a dozen times)

    def header(self, name: str) -> str:
        found = self._read.get(name)
        if found is None:
            found = self._read[name] = str(self.headers.get(name) or "")
        return found


Stage = Callable[[Presented], Rejection | None]


def headers_present(request: Presented) -> Rejection | None:
    """SIG-02 first: all four headers, else SIGNATURE_MISSING (whoever the caller says it is)."""
    missing = [name for name in SIGNATURE_HEADERS if not request.header(name)]
    if missing:
        return Rejection("SIGNATURE_MISSING", f"missing signature header(s): {', '.join(missing)} (SIG-01)")
    return None


def app_known(request: Presented) -> Rejection | None:
    """SIG-02 second: the app id has a key here, else APP_UNKNOWN (before its other headers are read)."""
    app_id = request.header(HEADER_APP_ID)
    secret = request.secret_of(app_id)
    if secret is None:
        return Rejection("APP_UNKNOWN", f"app id {app_id!r} is not registered (SIG-02)")
    request.secret = secret
    return None


def header_syntax(request: Presented) -> Rejection | None:
    """SIG-02 third: Unix-second timestamp, 16-64 character nonce, hex signature, else SIGNATURE_INVALID."""
    stamp, nonce = request.header(HEADER_TIMESTAMP), request.header(HEADER_NONCE)
    if (
        not _DIGITS.fullmatch(stamp)
        or not NONCE_SYNTAX.fullmatch(nonce)
        or not _HEX64.fullmatch(request.header(HEADER_SIGNATURE))
    ):
        return Rejection(
            "SIGNATURE_INVALID",
            "timestamp must be Unix seconds, nonce 16-64 chars of "
            "[A-Za-z0-9-], signature 64 lowercase hex characters (SIG-01)",
        )
    return None


def timestamp_window(request: Presented) -> Rejection | None:
    """SIG-02 fourth: |now - timestamp| <= 300 s either way, else TIMESTAMP_EXPIRED."""
    stamp = request.header(HEADER_TIMESTAMP)
    if abs(request.now - int(stamp)) > TIMESTAMP_WINDOW:
        return Rejection("TIMESTAMP_EXPIRED", f"timestamp {stamp} is more than {TIMESTAMP_WINDOW} s from now")
    return None


def signature_matches(request: Presented) -> Rejection | None:
    """SIG-02 fifth: HMAC-SM3 of the canonical string with the caller's secret, else SIGNATURE_INVALID."""
    canonical = canonical_string(
        request.method,
        request.path,
        request.raw_query,
        request.header(HEADER_TIMESTAMP),
        request.header(HEADER_NONCE),
        request.body,
        request.query_rule,
    )
    if not std_hmac.compare_digest(signature(request.secret, canonical), request.header(HEADER_SIGNATURE)):
        return Rejection("SIGNATURE_INVALID", "signature does not match the canonical string (SIG-01)")
    return None


def nonce_fresh(request: Presented) -> Rejection | None:
    """SIG-02 last: a nonce not seen from this app in 600 s, remembered now that the signature verified."""
    app_id, nonce = request.header(HEADER_APP_ID), request.header(HEADER_NONCE)
    if not request.nonces.claim(app_id, nonce):
        return Rejection("NONCE_REPLAYED", f"nonce {nonce!r} was used by {app_id} in the last {NONCE_WINDOW} s")
    return None


SIG02_ORDER: tuple[Stage, ...] = (
    headers_present,
    app_known,
    header_syntax,
    timestamp_window,
    signature_matches,
    nonce_fresh,
)


def verify(
    headers: Mapping[str, str],
    method: str,
    path: str,
    raw_query: str | bytes,
    body: bytes,
    secret_of: Callable[[str], str | None],
    nonces: Nonces,
    now: float | None = None,
    *,
    stages: tuple[Stage, ...] = SIG02_ORDER,
    query_rule: Callable[[str | bytes], str] = canonical_query,
) -> Rejection | None:
    """SIG-02 in its order: headers, app, syntax, timestamp window, signature, nonce. None when accepted."""
    request = Presented(
        headers, method, path, raw_query, body, secret_of, nonces, time.time() if now is None else now, query_rule
    )
    for stage in stages:
        rejection = stage(request)
        if rejection is not None:
            return rejection
    return None
