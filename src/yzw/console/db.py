"""The console's database: versioned migrations over the kit's store (SQLite file or PostgreSQL).

Each migration is applied once, in order, and recorded in `console_schema_migrations`, so a console started on an
older database brings it up to date and never applies a step twice (the role alembic plays elsewhere).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from yzw.serving.store import Store, open_store

BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS console_schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS console_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE console_accounts (
        name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, vendor TEXT NOT NULL,
        created_at TEXT NOT NULL);
    CREATE TABLE console_systems (
        app_id TEXT PRIMARY KEY, vendor TEXT NOT NULL, record TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE console_runs (
        id TEXT PRIMARY KEY, app_id TEXT NOT NULL, started_by TEXT NOT NULL, profile TEXT NOT NULL,
        chapters TEXT NOT NULL, only_ids TEXT NOT NULL, status TEXT NOT NULL, exit_code INTEGER,
        folder TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT);
    CREATE TABLE console_run_tests (
        run_id TEXT NOT NULL, position INTEGER NOT NULL, total INTEGER NOT NULL, verdict TEXT NOT NULL,
        requirement TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (run_id, position));
    CREATE TABLE console_cards (
        run_id TEXT NOT NULL, position INTEGER NOT NULL, text TEXT NOT NULL, asks TEXT NOT NULL, answer TEXT,
        PRIMARY KEY (run_id, position));
    CREATE TABLE console_certificates (
        serial TEXT PRIMARY KEY, app_id TEXT NOT NULL, run_id TEXT NOT NULL, document TEXT NOT NULL,
        issued_on TEXT NOT NULL, expires_on TEXT NOT NULL, revoked_on TEXT, revoke_reason TEXT);
    CREATE TABLE console_waivers (
        id TEXT PRIMARY KEY, app_id TEXT NOT NULL, requirement TEXT NOT NULL, reason TEXT NOT NULL,
        approvers TEXT NOT NULL, expires_on TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE console_audit_log (
        at TEXT NOT NULL, account TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
    """,
    # 2: signing out ends every session of the account (the cookie names the epoch it was issued in)
    """
    ALTER TABLE console_accounts ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
    """,
)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_id() -> str:
    return secrets.token_hex(8)


class ConsoleDb:
    """The console's tables, and the few queries every page shares."""

    def __init__(self, url: str) -> None:
        self.store: Store = open_store(url, BOOTSTRAP)
        self.migrate()

    def migrate(self) -> int:
        """Apply the migrations not yet applied; the database's version afterwards."""
        with self.store.transaction() as db:
            self.store.lock(db, "console-migrations")
            done = {int(row[0]) for row in db.execute("SELECT version FROM console_schema_migrations").fetchall()}
            for version, script in enumerate(MIGRATIONS, 1):
                if version in done:
                    continue
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        db.execute(statement)
                db.execute(
                    "INSERT INTO console_schema_migrations (version, applied_at) VALUES (?, ?)", (version, now())
                )
        return len(MIGRATIONS)

    def setting(self, key: str) -> str:
        row = self.one("SELECT value FROM console_settings WHERE key = ?", key)
        return str(row["value"]) if row else ""

    def set_setting(self, key: str, value: str) -> None:
        self.store.execute(
            "INSERT INTO console_settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )

    def secret(self, name: str) -> str:
        """A random secret kept in the database (the session-signing key), made on first use."""
        if not self.setting(name):
            with self.store.transaction() as db:  # two consoles starting at once agree on one secret
                db.execute(
                    "INSERT INTO console_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                    (name, secrets.token_urlsafe(32)),
                )
        return self.setting(name)

    def audit(self, account: str, action: str, detail: Any) -> None:
        text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, sort_keys=True)
        self.store.execute(
            "INSERT INTO console_audit_log (at, account, action, detail) VALUES (?, ?, ?, ?)",
            now(),
            account,
            action,
            text,
        )

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Rows as dicts, from either dialect (sqlite3.Row has keys(); the PostgreSQL row has `names`)."""
        found = []
        for row in self.store.rows(sql, *args):
            names = row.keys() if hasattr(row, "keys") else sorted(row.names, key=row.names.__getitem__)
            found.append(dict(zip(names, tuple(row), strict=True)))
        return found

    def one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        found = self.rows(sql, *args)
        return found[0] if found else None
