"""The reference system's state: its registration, the platform's credentials, storage and clients."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from yzw.client import AsyncSignedClient, Credentials, SignHeaders
from yzw.codes.times import CN_TZ
from yzw.serving.store import Store
from yzw.signing import signed_headers
from yzw.sut import PlatformGrant, Registration

if TYPE_CHECKING:
    from yzw.reference.parts import Parts

SCHEMA = """
CREATE TABLE IF NOT EXISTS applications (application_no TEXT PRIMARY KEY, body TEXT NOT NULL,
    received_at TEXT NOT NULL, answer TEXT NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0, last_step TEXT,
    case_no TEXT, updated_at TEXT NOT NULL, suspended_at TEXT, received_body TEXT);
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, application_no TEXT NOT NULL,
    body TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0, last_error TEXT, path TEXT NOT NULL DEFAULT '/exchange/v1/events');
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, application_no, id);
CREATE INDEX IF NOT EXISTS outbox_application ON outbox (application_no, id);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS notices (notice_id TEXT PRIMARY KEY, case_no TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, user_id TEXT NOT NULL, user_record TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviews (evaluation_id TEXT PRIMARY KEY, case_no TEXT NOT NULL,
    level INTEGER NOT NULL, rectified INTEGER NOT NULL DEFAULT 0);
"""
SCOPES = "exchange:write catalog:read license:read license:write idp:ticket"  # SIG-05: the union it needs


def _opened(db: str) -> Store:
    """The store, a database file of an earlier version given the column it lacks (received_body, APP-04)."""
    store = Store(db, SCHEMA)
    if store.one("SELECT name FROM pragma_table_info('applications') WHERE name = 'received_body'") is None:
        store.execute("ALTER TABLE applications ADD COLUMN received_body TEXT")
    return store


def own_signer(system: ReferenceSystem) -> SignHeaders:
    """SIG-01: the system signs its calls as the norm says, with its own app_id and app_secret."""
    return signed_headers


def now_text() -> str:
    return dt.datetime.now(CN_TZ).replace(microsecond=0).isoformat()


@dataclass
class ReferenceSystem:
    """One running reference system: its record (sut.yaml), what the platform gave it, and its store."""

    registration: Registration
    platform_app_id: str
    platform_secret: str
    province_url: str
    exchange_url: str
    store: Store = field(default_factory=lambda: Store(":memory:", SCHEMA))
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # catalogue cache, by item_code
    etags: dict[str, str] = field(default_factory=dict)  # the catalogue's ETag of each cached item (CAT-01)
    item_versions: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)  # each version seen (CAT-03)
    desks: dict[str, asyncio.Lock] = field(default_factory=dict)  # one driver action at a time per application
    push_lanes: dict[str, asyncio.Task[int]] = field(default_factory=dict)  # applications pushing now (EVT-07)
    _client: AsyncSignedClient | None = None
    _outbox_bell: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
    parts: Parts = field(kw_only=True)  # what it is built from (yzw.reference.parts), faulty ones included

    @classmethod
    def from_registration(
        cls,
        registration: Registration,
        grant: PlatformGrant,
        db: str = ":memory:",
        *,
        parts: Parts,
    ) -> ReferenceSystem:
        """Built from its registration, what the platform granted it, and its parts."""
        return cls(
            registration,
            grant.app_id,
            grant.secret,
            grant.province_url,
            grant.exchange_url,
            _opened(db),
            parts=parts,
        )

    @property
    def client(self) -> AsyncSignedClient:
        """One signed client for every call to the platform, holding one token (SIG-04, SIG-05)."""
        if self._client is None:
            token_path = self.parts.token_path
            self._client = AsyncSignedClient(
                Credentials(
                    self.registration.app_id,
                    self.registration.app_secret,
                    token_url=None if token_path is None else self.province_url + token_path,
                    scope=self.parts.token_scope,
                    renew_on=self.parts.token_renewed_on,
                    retries=self.parts.token_retries,
                ),
                timeout=self.parts.platform_timeout,  # ROB-01: no answer within it, the service is unreachable
            )
            self._client.reuse_token = self.parts.token_reuse
            self._client.read_token = self.parts.token_answer
            self._client.credentials.nonce_bytes = self.parts.nonce_bytes
            self._client.sign = self.parts.request_signer(self)
            self._client.token_form = self.parts.token_form
            self._client.refresh_margin = self.parts.token_margin
            self._client.retry_refused = self.parts.token_refused_retried
        return self._client

    def outbox_bell(self) -> asyncio.Event:
        """The pusher's bell, made in the pusher's own loop: it rings when an event is queued."""
        bell = asyncio.Event()
        self._outbox_bell = (asyncio.get_running_loop(), bell)
        return bell

    def ring_outbox(self) -> None:
        """Wake the pusher: an event was queued (from the loop or a worker thread alike). The outbox pushes an
        event when it is written, as EVT-06 expects; a system whose parts poll only (`outbox_woken` off) waits."""
        if self._outbox_bell is not None and self.parts.outbox_woken:
            loop, bell = self._outbox_bell
            if not loop.is_closed():  # a request finishing while the system stops: the pusher is gone
                loop.call_soon_threadsafe(bell.set)

    def next_counter(self, key: str) -> int:
        """The next value of a persistent counter (daily serials survive restarts, CODE-06)."""
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO counters (key, value) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1",
                (key,),
            )
            return int(db.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()[0])

    def application(self, number: str) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM applications WHERE application_no = ?", number)
        if row is None:
            return None
        found = dict(zip(row.keys(), tuple(row), strict=True))
        found["body"] = json.loads(found["body"])
        return found
