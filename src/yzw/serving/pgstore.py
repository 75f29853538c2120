"""The PostgreSQL store: state shared by server replicas (`yzw mock up --db postgresql://…`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from yzw.errors import YzwError
from yzw.serving.store import Db, Store, tables_of

RESET_GATE = 7302027  # advisory lock: every transaction holds it shared, a reset holds it alone


def postgresql(schema: str) -> str:
    """A SQLite schema in PostgreSQL's words."""
    return schema.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY").replace(
        " REAL", " DOUBLE PRECISION"
    )


class Row(tuple[Any, ...]):
    """A result row answering both row[0] and row["column"], as sqlite3.Row does."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self.names[key] if isinstance(key, str) else key)


def _row_factory(cursor: Any) -> Any:
    names = {column.name: index for index, column in enumerate(cursor.description or [])}

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row.names = names
        return row

    return make


def _sql(text: str) -> str:
    """`?` placeholders as psycopg's `%s`; a literal `%` (LIKE 'clock_offset%') doubled, as psycopg wants."""
    return text.replace("%", "%%").replace("?", "%s")


class _Connection:
    """A psycopg connection that takes `?` placeholders."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._connection.execute(_sql(sql), tuple(params))

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any:
        with self._connection.cursor() as cursor:
            cursor.executemany(_sql(sql), [tuple(p) for p in params])


class PgStore(Store):
    dialect = "postgresql"

    def __init__(self, url: str, schema: str) -> None:
        try:
            self._pool = ConnectionPool(
                url,
                min_size=1,
                max_size=8,
                open=True,
                timeout=10,
                kwargs={"row_factory": _row_factory, "autocommit": True},
            )
            with self._pool.connection() as connection:
                connection.execute("SELECT pg_advisory_lock(7302026)")  # one schema creator at a time
                try:
                    connection.execute(postgresql(schema))
                finally:
                    connection.execute("SELECT pg_advisory_unlock(7302026)")
        except (psycopg.Error, OSError) as exc:
            raise YzwError(f"cannot open the database {url.rsplit('@', maxsplit=1)[-1]}: {exc}") from None
        self._lock = threading.RLock()
        self.path, self.tables = url, tables_of(schema)

    @contextmanager
    def transaction(self) -> Iterator[Db]:
        """A transaction that a reset cannot cut in two (it holds the reset gate shared)."""
        with self._pool.connection() as connection, connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock_shared(%s)", (RESET_GATE,))
            yield _Connection(connection)

    def reset(self, keep: tuple[str, ...] = ("systems", "items", "settings")) -> None:
        """Forget all traffic-made state, alone: a replica's ingest or relay in flight finishes before it or waits.

        Without the gate a reset's DELETEs could fall on either side of another replica's transaction, leaving
        an application's history without its events, and that application's relay refused for good.
        """
        with self._pool.connection() as connection, connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (RESET_GATE,))
            for table in self.tables:
                if table not in keep:
                    connection.execute(f"DELETE FROM {table}")

    def watch(self, table: str) -> None:
        """Nothing: another replica's change would not be seen here, so nothing read is kept (`version` None)."""

    def version(self, table: str) -> int | None:
        return None

    def lock(self, db: Db, key: str) -> None:
        db.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (key,))

    def lock_all(self, db: Db, keys: Sequence[str]) -> None:
        """Every key's lock in one statement, in the order given."""
        if keys:
            db.execute(
                "SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest(?::text[]) WITH ORDINALITY AS t(k, n) "
                "ORDER BY n",
                (list(keys),),
            )

    def rows(self, sql: str, *args: Any) -> list[Any]:
        with self._pool.connection() as connection:
            return list(connection.execute(_sql(sql), args).fetchall())

    def execute(self, sql: str, *args: Any) -> None:
        with self._pool.connection() as connection:
            connection.execute(_sql(sql), args)

    def close(self) -> None:
        self._pool.close()
