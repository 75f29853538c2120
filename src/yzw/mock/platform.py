"""The state one mock platform shares across its nodes and their replicas.

What replicas must agree on lives in the store: registrations, tokens, nonces (PostgreSQL), the virtual
clock. Each process keeps short-lived caches of it, and keeps to itself what is only for inspection or
testing: the traffic log, injected faults and one-shot flags.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from yzw.codes import compose
from yzw.codes.calendar import default_calendar
from yzw.errors import SpecError
from yzw.mock.own_items import keep_own_items
from yzw.mock.topology import Topology
from yzw.serving.store import Store
from yzw.signing import NonceMemory, Nonces
from yzw.sm2 import SigningKey
from yzw.spec.limits import limits
from yzw.sut import Registration

PLATFORM_APP_ID = "yzw-platform"
TRAFFIC_KEPT = 20_000  # per node
CACHE_SECONDS = 1.0  # how long a replica trusts its copy of a token or of the clock

TOKEN_OWNERS_KEPT = 100_000  # tokens whose owner the traffic log can still name


def caller_of(entry: dict[str, Any]) -> str | None:
    """Which system a logged request came from: its X-Yzw-App-Id, or, unsigned, the app its bearer token was
    issued to (a system's own call even when it forgot to sign it, SIG-01)."""
    return entry.get("app_id") or entry.get("bearer_app")


@dataclass
class TokenRecord:
    app_id: str
    scopes: frozenset[str]
    expires_at: float
    revoked: bool = False
    read_at: float = 0.0


@dataclass
class Fault:
    """A misbehaviour injected at one node's paths (a path prefix; `*` for every path)."""

    fault_id: str
    node: str
    path: str
    status: int | None = None
    share: float = 1.0
    latency_ms: int = 0
    remaining: int | None = None
    drop: bool = False  # answer with a cut-off body: the client sees a dropped connection
    drop_after: bool = False  # do the request, then cut the answer off: done, but the client never hears so
    app_id: str | None = None  # only the calls this system makes (one run's fault spares the other systems)
    body: str | None = None  # answer this text (under `status`, default 200) in the node's place: not the norm's answer
    content_type: str = "application/json"  # the media type the `body` is answered with
    match: str | None = None  # only requests whose query or body holds this text (one scenario's number, case …)
    count: int | None = None  # how many requests it was given (`remaining` counts down): whether any met it yet

    def matches(self, node: str, path: str, app_id: str | None = None) -> bool:
        return (
            self.node in (node, "*")
            and (self.path == "*" or path.startswith(self.path))
            and self.app_id in (None, app_id)
        )


class RelayGate:
    """The relays in flight (each node's relay loop runs in its own thread) and a reset that waits for them.

    A reset that empties the tables while a relay is on its way lets the relayed events land after it: the
    parent then holds a history of the last run, and the next run's first event of that application number is
    refused on relay as out of order ("seq 1 does not follow 1"). A relay takes its turn with `enter`; `closed`
    holds new relays back and waits for those in flight (at most `wait` seconds: a target that hangs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flying = 0
        self._closed = 0

    def enter(self) -> bool:
        """Whether a relay may start now; one that may must `leave` when its answer came (or did not)."""
        with self._lock:
            if self._closed:
                return False
            self._flying += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._flying -= 1

    @contextlib.asynccontextmanager
    async def closed(self, wait: float = 15.0) -> AsyncIterator[None]:
        with self._lock:
            self._closed += 1
        try:
            deadline = time.monotonic() + wait
            while self._flying and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            yield
        finally:
            with self._lock:
                self._closed -= 1


class SharedNonces:
    """SIG-02 nonces of one node in the store, claimed atomically so replicas cannot both accept one."""

    def __init__(self, store: Store, node: str) -> None:
        self.store, self.node = store, node

    def claim(self, app_id: str, nonce: str) -> bool:
        now = time.time()
        with self.store.transaction() as db:
            db.execute(
                "DELETE FROM nonces WHERE node = ? AND app_id = ? AND nonce = ? AND seen_at < ?",
                (self.node, app_id, nonce, now - limits().nonce_window_seconds),
            )
            taken = db.execute(
                "INSERT INTO nonces (node, app_id, nonce, seen_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING RETURNING nonce",
                (self.node, app_id, nonce, now),
            ).fetchone()
        return taken is not None


def _platform_secret(store: Store) -> str:
    """One platform secret per database, so that replicas sign alike (created by the first)."""
    store.execute(
        "INSERT INTO settings (key, value) VALUES ('platform_secret', ?) ON CONFLICT (key) DO NOTHING",
        secrets.token_hex(24),
    )
    return store.setting("platform_secret")


@dataclass
class Platform:
    """Everything the nodes of one platform share. Nodes are Starlette apps over this object."""

    topology: Topology
    store: Store
    key: SigningKey = field(default_factory=lambda: SigningKey.generate("idp-2026"))
    next_key: SigningKey = field(default_factory=lambda: SigningKey.generate("idp-2027"))  # published ahead (SSO-02)
    later_keys: list[SigningKey] = field(default_factory=list)  # made and published during the run (SSO-02)
    platform_secret: str = ""
    urls: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, tuple[str, str]] = field(default_factory=dict)  # app_id → (secret, kind)
    tokens: dict[str, TokenRecord] = field(default_factory=dict)
    token_owners: dict[str, str] = field(default_factory=dict)  # every token this process issued: whose (traffic)
    nonces: dict[str, Nonces] = field(default_factory=dict)
    traffic: dict[str, deque[dict[str, Any]]] = field(default_factory=dict)
    traffic_lock: threading.Lock = field(default_factory=threading.Lock)  # one system's traffic is forgotten alone
    faults: list[Fault] = field(default_factory=list)
    flags: dict[str, int] = field(default_factory=dict)  # one-shot misbehaviours: forge_signature[@app_id] …
    pending_notices: deque[tuple[str, str, dict[str, Any]]] = field(default_factory=deque)  # (kind, to, body)
    delivered: list[dict[str, Any]] = field(default_factory=list)  # outbound calls to systems, for inspection
    relays: RelayGate = field(default_factory=RelayGate)  # a reset waits for the relays in flight
    _clocks: tuple[dict[str, float], float] = ({}, 0.0)  # (offset per department, "" for all; read at)

    def __post_init__(self) -> None:
        self.platform_secret = self.platform_secret or _platform_secret(self.store)
        _preload_calendar()
        shared = self.store.dialect != "sqlite"  # SQLite serves one process: memory is enough and faster
        for node in self.topology.nodes:
            self.nonces[node.name] = SharedNonces(self.store, node.name) if shared else NonceMemory()
            self.traffic[node.name] = deque(maxlen=TRAFFIC_KEPT)
            self.secrets[self.node_app_id(node.name)] = (self.node_secret(node.name), "node")

    # identities -------------------------------------------------------------------------------------------
    @staticmethod
    def node_app_id(node: str) -> str:
        return f"node-{node}"

    def node_secret(self, node: str) -> str:
        return f"{self.platform_secret}-{node}"

    def _identity(self, app_id: str) -> tuple[str, str] | None:
        if app_id not in self.secrets:
            row = self.store.one("SELECT secret, kind FROM systems WHERE app_id = ?", app_id)
            if row is None:
                return None
            self.secrets[app_id] = (row["secret"], row["kind"])
        return self.secrets[app_id]

    def secret_of(self, app_id: str) -> str | None:
        found = self._identity(app_id)
        return found[0] if found else None

    def kind_of(self, app_id: str | None) -> str | None:
        found = self._identity(app_id or "")
        return found[1] if found else None

    def register(self, registration: Registration) -> None:
        """A departmental system's registration (its sut.yaml): it may now sign calls to the platform."""
        self.secrets[registration.app_id] = (registration.app_secret, "system")
        self.store.execute(
            "INSERT INTO systems (app_id, secret, kind, record) VALUES (?, ?, 'system', ?) ON CONFLICT (app_id) "
            "DO UPDATE SET secret = excluded.secret, record = excluded.record",
            registration.app_id,
            registration.app_secret,
            json.dumps(registration.as_record(), ensure_ascii=False),
        )
        if registration.catalog:
            keep_own_items(self.store, list(registration.catalog))

    def systems(self) -> list[Registration]:
        rows = self.store.rows("SELECT record FROM systems WHERE kind = 'system'")
        return [Registration.from_checked(json.loads(row["record"])) for row in rows]

    def systems_of(self, dept_uscc: str) -> list[Registration]:
        return [system for system in self.systems() if system.dept_uscc == dept_uscc]

    # tokens -----------------------------------------------------------------------------------------------
    def issue_token(self, app_id: str, scopes: frozenset[str], lifetime: int | None = None) -> str:
        token, now = secrets.token_urlsafe(24), time.time()
        expires_at = now + (lifetime or limits().token_lifetime_seconds)  # SIG-03
        self.store.execute(
            "INSERT INTO tokens (token, app_id, scope, expires_at, issued_at) VALUES (?, ?, ?, ?, ?)",
            token,
            app_id,
            " ".join(sorted(scopes)),
            expires_at,
            now,
        )
        self.tokens[token] = TokenRecord(app_id, scopes, expires_at, read_at=now)
        if len(self.token_owners) > TOKEN_OWNERS_KEPT:
            self.token_owners.clear()
        self.token_owners[token] = app_id  # kept after a reset or a revocation: an old token still names its app
        return token

    def token(self, value: str) -> TokenRecord | None:
        """The token's record, re-read from the store when this replica's copy is older than a second."""
        cached = self.tokens.get(value)
        if cached is not None and time.time() - cached.read_at < CACHE_SECONDS:
            return cached
        row = self.store.one("SELECT app_id, scope, expires_at, revoked FROM tokens WHERE token = ?", value)
        if row is None:
            self.tokens.pop(value, None)
            return None
        record = TokenRecord(
            row["app_id"], frozenset(row["scope"].split()), row["expires_at"], bool(row["revoked"]), time.time()
        )
        self.tokens[value] = record
        return record

    def change_tokens(self, action: str, app_id: str | None) -> None:
        """Expire or revoke tokens (all, or one app's) for every replica."""
        column = "expires_at = 0" if action == "expire" else "revoked = 1"
        where = " WHERE app_id = ?" if app_id else ""
        self.store.execute(f"UPDATE tokens SET {column}{where}", *([app_id] if app_id else []))
        self.tokens.clear()

    def token_requests(self) -> dict[str, int]:
        """Tokens issued per app (SIG-04: a system should need one per lifetime)."""
        return {
            row["app_id"]: row["n"]
            for row in self.store.rows("SELECT app_id, COUNT(*) AS n FROM tokens GROUP BY app_id")
        }

    # clock ------------------------------------------------------------------------------------------------
    def clock_offsets(self) -> dict[str, float]:
        """The virtual clocks' offsets from real time (shared): one per department whose run set one, and the
        platform's own under "" (what a department without its own clock follows)."""
        offsets, read_at = self._clocks
        if time.time() - read_at >= CACHE_SECONDS:
            rows = self.store.rows("SELECT key, value FROM settings WHERE key LIKE ?", "clock_offset%")
            offsets = {str(key).partition(":")[2]: float(value or 0) for key, value in rows}
            self._clocks = (offsets, time.time())
        return offsets

    def clock_offset(self, dept_uscc: str = "") -> float:
        offsets = self.clock_offsets()
        return offsets.get(dept_uscc, offsets.get("", 0.0))

    def now(self, dept_uscc: str = "") -> float:
        """The supervision engine's notion of now for a department's cases: real time plus its clock's offset."""
        return time.time() + self.clock_offset(dept_uscc)

    def set_clock_offset(self, offset: float, dept_uscc: str = "") -> None:
        """Move a department's clock (or, with no department, the platform's and every department's)."""
        if dept_uscc:
            self.store.set_setting(f"clock_offset:{dept_uscc}", repr(offset))
        else:
            self.store.execute("DELETE FROM settings WHERE key LIKE ?", "clock_offset:%")
            self.store.set_setting("clock_offset", repr(offset))
        self.clocks_changed()

    def clocks_changed(self) -> None:
        """Read the clocks again at the next `now` (this replica changed one)."""
        self._clocks = ({}, 0.0)

    # numbers ------------------------------------------------------------------------------------------------
    def issue_application_no(self, division: str, channel_digit: str, day: dt.date) -> str:
        """CODE-05: the unified application system's next number for a division, channel and day. The serial
        counts on from a random start kept across resets, so no two systems (and no two runs against one
        system) are forwarded the same number."""
        key = f"serial:{division}{channel_digit}{day:%Y%m%d}"
        row = self.store.one(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) "
            "DO UPDATE SET value = CAST(CAST(settings.value AS INTEGER) + 1 AS TEXT) RETURNING value",
            key,
            str(secrets.randbelow(8_000_000) + 1),
        )
        return compose.application_no(division, channel_digit, day, int(row[0]))

    def url(self, node: str) -> str:
        return self.urls.get(node, "")

    def new_key(self) -> SigningKey:
        """SSO-02: a key made now under a new kid, published at /idp/v1/keys from this moment on (a system that
        read the keys once, at start-up, does not hold it)."""
        key = SigningKey.generate(f"idp-{secrets.token_hex(4)}")
        self.later_keys.append(key)
        return key

    def take_flag(self, name: str, app_id: str | None = None) -> bool:
        """Consume one occurrence of a one-shot misbehaviour meant for this system (or for any)."""
        for key in (f"{name}@{app_id}", name):
            if self.flags.get(key, 0) > 0:
                self.flags[key] -= 1
                return True
        return False


def _preload_calendar() -> None:
    """Read the working-day calendar before the first push: supervision needs it for the first case, and
    reading it then would stall the first pushes of a run by the time the YAML takes to load."""
    with contextlib.suppress(SpecError):  # a broken calendar is reported where it is used
        default_calendar()
