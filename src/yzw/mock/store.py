"""Platform storage: SQLite (WAL; a file or in memory) or PostgreSQL (shared by node replicas).

One database for all nodes, node-keyed tables. Code writes SQL once, with `?` placeholders; rows answer
both `row["name"]` and `row[0]`. SQLite access is serialised by a lock (the nodes of one platform run in
threads of one process); PostgreSQL serialises what must be serialised with advisory locks (`lock`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from yzw.errors import YzwError

SCHEMA = """
CREATE TABLE IF NOT EXISTS systems (app_id TEXT PRIMARY KEY, secret TEXT NOT NULL, kind TEXT NOT NULL,
    record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, app_id TEXT NOT NULL, scope TEXT NOT NULL,
    expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, issued_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (node TEXT NOT NULL, app_id TEXT NOT NULL, nonce TEXT NOT NULL,
    seen_at REAL NOT NULL, PRIMARY KEY (node, app_id, nonce));
CREATE TABLE IF NOT EXISTS tickets (ticket TEXT PRIMARY KEY, user_record TEXT NOT NULL, issued_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS items (item_code TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (item_code, version));
CREATE TABLE IF NOT EXISTS licenses (license_id TEXT PRIMARY KEY, body TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (node TEXT NOT NULL, event_id TEXT NOT NULL, application_no TEXT NOT NULL,
    case_no TEXT, seq INTEGER NOT NULL, step TEXT NOT NULL, dept_uscc TEXT NOT NULL, division_code TEXT NOT NULL,
    body TEXT NOT NULL, receipt_id TEXT NOT NULL, received_at TEXT NOT NULL, delay_seconds REAL NOT NULL,
    origin TEXT NOT NULL, PRIMARY KEY (node, event_id));
CREATE INDEX IF NOT EXISTS events_by_application ON events (node, application_no, seq);
CREATE INDEX IF NOT EXISTS events_by_case ON events (node, case_no);
CREATE TABLE IF NOT EXISTS histories (node TEXT NOT NULL, application_no TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (node, application_no));
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL, target TEXT NOT NULL,
    body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (node TEXT NOT NULL, application_no TEXT NOT NULL, next_check REAL,
    body TEXT NOT NULL, PRIMARY KEY (node, application_no));
CREATE INDEX IF NOT EXISTS cases_to_check ON cases (node, next_check);
CREATE TABLE IF NOT EXISTS cards (node TEXT NOT NULL, card_id TEXT NOT NULL, case_no TEXT, body TEXT NOT NULL,
    PRIMARY KEY (node, card_id));
CREATE TABLE IF NOT EXISTS records (node TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (node, kind, key));
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
TABLES = (
    "systems",
    "tokens",
    "nonces",
    "tickets",
    "items",
    "licenses",
    "events",
    "histories",
    "outbox",
    "cases",
    "cards",
    "records",
    "settings",
)


class Cursor(Protocol):
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Db(Protocol):
    """What a transaction offers: `?` placeholders on both dialects."""

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Cursor: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any: ...


class Store:
    """SQLite: a thin, locked wrapper over one database file (or memory)."""

    dialect = "sqlite"

    def __init__(self, path: str = ":memory:", schema: str = SCHEMA) -> None:
        if path != ":memory:" and not Path(path).parent.is_dir():
            raise YzwError(f"database folder {Path(path).parent} does not exist; create it or choose another --db")
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(schema)
        except sqlite3.Error as exc:
            raise YzwError(f"cannot open the platform database {path}: {exc}") from exc
        self._lock = threading.RLock()
        self.path = path

    @contextmanager
    def transaction(self) -> Iterator[Db]:
        """One atomic unit of work: everything in it lands, or nothing does."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def lock(self, db: Db, key: str) -> None:
        """Serialise work on `key` (e.g. one application) across writers; SQLite's transactions already do."""

    def rows(self, sql: str, *args: Any) -> list[Any]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def execute(self, sql: str, *args: Any) -> None:
        with self._lock:
            self._db.execute(sql, args)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # shared helpers --------------------------------------------------------------------------------------
    def one(self, sql: str, *args: Any) -> Any:
        found = self.rows(sql, *args)
        return found[0] if found else None

    def get_json(self, sql: str, *args: Any) -> Any:
        row = self.one(sql, *args)
        return json.loads(row[0]) if row else None

    def setting(self, key: str, default: str = "") -> str:
        row = self.one("SELECT value FROM settings WHERE key = ?", key)
        return str(row[0]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )

    def reset(self, keep: tuple[str, ...] = ("systems", "items", "settings")) -> None:
        """Forget all traffic-made state (tokens, events, cards …), keeping the named tables."""
        with self.transaction() as db:
            for table in TABLES:
                if table not in keep:
                    db.execute(f"DELETE FROM {table}")
