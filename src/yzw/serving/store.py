"""Storage of the kit's servers: SQLite (WAL; a file or in memory) here, PostgreSQL in `serving.pgstore`.

Each server brings its schema (the platform: one database for all nodes, node-keyed tables). Code writes
SQL once, with `?` placeholders; rows answer both `row["name"]` and `row[0]`. SQLite access is serialised
by a lock (the nodes of one platform run in threads of one process); PostgreSQL serialises what must be
serialised with advisory locks (`lock`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from yzw.errors import YzwError


def tables_of(schema: str) -> tuple[str, ...]:
    """The tables a schema creates, in its order (what a reset may empty)."""
    return tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", schema))


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

    def __init__(self, path: str, schema: str) -> None:
        if path != ":memory:" and not Path(path).parent.is_dir():
            raise YzwError(f"database folder {Path(path).parent} does not exist; create it or choose another --db")
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(schema)
        except sqlite3.Error as exc:
            raise YzwError(f"cannot open the database {path}: {exc}") from exc
        self._lock = threading.RLock()
        self.path, self.tables = path, tables_of(schema)
        self._versions: dict[str, int] = {}
        self._db.create_function("yzw_changed", 1, self._changed)

    def watch(self, table: str) -> None:
        """Count the changes to `table` (`version`), so that this process may keep what it read of it."""
        with self._lock:
            self._versions.setdefault(table, 0)
            for action in ("INSERT", "UPDATE", "DELETE"):  # a trigger also stops DELETE's truncate shortcut
                self._db.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS yzw_{table}_{action.lower()} AFTER {action} ON {table} "
                    f"BEGIN SELECT yzw_changed('{table}'); END"
                )

    def version(self, table: str) -> int | None:
        """How often a watched table changed; None when it is not watched (or, with replicas, cannot be)."""
        return self._versions.get(table)

    def _changed(self, table: str) -> None:
        self._versions[table] = self._versions.get(table, 0) + 1

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

    def lock_all(self, db: Db, keys: Sequence[str]) -> None:
        """`lock` each key, in the order given (sorted, so that two writers never wait on each other)."""
        for key in keys:
            self.lock(db, key)

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
            for table in self.tables:
                if table not in keep:
                    db.execute(f"DELETE FROM {table}")


def open_store(url: str, schema: str) -> Store:
    """`:memory:`, a SQLite file path, or a `postgresql://` URL (shared by replicas)."""
    if url.startswith(("postgresql://", "postgres://")):
        from yzw.serving.pgstore import PgStore  # noqa: PLC0415 - psycopg loads only for a PostgreSQL database

        return PgStore(url, schema)
    if url != ":memory:" and not Path(url).parent.is_dir():
        raise YzwError(f"--db {url}: folder {Path(url).parent} does not exist")
    return Store(url, schema)
