"""SQLite backend: the embedded default, WAL journal, one writer at a time.

The driver's own transaction handling is switched off and Accord issues
``BEGIN`` itself: ``BEGIN IMMEDIATE`` for writers, so that two processes
importing at once queue on SQLite's write lock (with a busy timeout) instead of
failing half-way with "database is locked".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Text,
    cast,
    create_engine,
    event,
    func,
    literal,
    select,
)
from sqlalchemy import column as sql_column
from sqlalchemy import exists as sql_exists
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from accord.exceptions import StoreError
from accord.store import _failures
from accord.store import _schema as s
from accord.store._console import ConsoleQuery
from accord.store._sql import SqlStore

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # NORMAL in WAL mode: a power loss may lose the last commits, never corrupt.
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=60000",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)

# Maximum host parameters per statement in SQLite >= 3.32 is 32766.
_IN_CHUNK = 30000


def sqlite_engine(url: str) -> Engine:
    """An engine whose connections use WAL and let Accord issue BEGIN."""
    engine = create_engine(url)
    _failures.install(engine)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None
        for pragma in _PRAGMAS:
            dbapi_conn.execute(pragma)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("accord_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class SqliteStore(SqlStore):
    """The embedded store in one SQLite file."""

    _sql_insert_objects = (
        "INSERT OR IGNORE INTO objects"
        " (added, id, type, version, spec_version, revoked, source_pk, data, tlp, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    _sql_insert_observables = (
        "INSERT OR IGNORE INTO observables (value, object_added, kind) VALUES (?, ?, ?)"
    )
    _sql_insert_members = (
        "INSERT INTO collection_objects (collection_pk, added, object_added) VALUES (?, ?, ?)"
    )
    _sql_insert_members_ignore = (
        "INSERT OR IGNORE INTO collection_objects (collection_pk, added, object_added)"
        " VALUES (?, ?, ?)"
    )
    _sql_insert_provenance_ignore = (
        "INSERT OR IGNORE INTO provenance (object_added, source_pk, seen) VALUES (?, ?, ?)"
    )

    _sql_insert_text = "INSERT INTO object_text (rowid, name, description) VALUES (?, ?, ?)"
    _sql_insert_refs = (
        "INSERT OR IGNORE INTO object_refs (ref, object_added, prop) VALUES (?, ?, ?)"
    )

    def __init__(self, url: str) -> None:
        super().__init__(sqlite_engine(url))
        database = self.engine.url.database
        self.path = Path(database) if database and database != ":memory:" else None

    def _write_connection(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(accord_write=True)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"SQLite write failed: {exc}") from exc

    def _existing(
        self, conn: Connection, ids: set[str]
    ) -> dict[tuple[str, str], tuple[int, int, bytes]]:
        found: dict[tuple[str, str], tuple[int, int, bytes]] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), _IN_CHUNK):
            chunk = id_list[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.exec_driver_sql(
                f"SELECT id, version, added, source_pk, data FROM objects WHERE id IN ({marks})",
                tuple(chunk),
            )
            for oid, version, added, source_pk, data in rows:
                found[(oid, version)] = (added, source_pk, data)
        return found

    def _present(self, conn: Connection, added: list[int]) -> set[int]:
        found: set[int] = set()
        for start in range(0, len(added), _IN_CHUNK):
            chunk = added[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.exec_driver_sql(
                f"SELECT added FROM objects WHERE added IN ({marks})", tuple(chunk)
            )
            found.update(a for (a,) in rows)
        return found

    def _versioned(self, conn: Connection, ids: list[str]) -> list[str]:
        # Every write asks this of each id it stores: on the driver's cursor, since
        # the result rows of the SQL layer cost more than the lookups themselves.
        with _failures.driver_errors(conn):
            return self._versioned_on_cursor(conn, ids)

    def _versioned_on_cursor(self, conn: Connection, ids: list[str]) -> list[str]:
        found: list[str] = []
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start : start + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                # Counted here, not by GROUP BY: SQLite's grouping sorts the ids
                # in a temporary b-tree and costs several times the lookups.
                cursor.execute(f"SELECT id FROM objects WHERE id IN ({marks})", chunk)
                rows = cursor.fetchall()
                if len(rows) == len(chunk):
                    continue  # one version each: nothing to mark (ids are distinct)
                seen: set[str] = set()
                for (oid,) in rows:
                    if oid in seen:
                        found.append(oid)
                    seen.add(oid)
        finally:
            cursor.close()
        return list(dict.fromkeys(found))

    def _json_text(self, key: str) -> ColumnElement[Any]:
        # SQLite < 3.45 refuses BLOBs in json functions: read the bytes as text.
        return func.json_extract(cast(s.objects.c.data, Text), literal(f"$.{key}"))

    def _has_label(self, label: str) -> ColumnElement[bool]:
        each = func.json_each(cast(s.objects.c.data, Text), literal("$.labels")).table_valued(
            "value"
        )
        return sql_exists().select_from(each).where(sql_column("value") == label)

    def _free_text(self, words: Sequence[str]) -> ColumnElement[bool]:
        # FTS5 query syntax is a language of its own: each word goes in as a quoted
        # string (quotes doubled), so user input is never read as an operator.
        match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        found: Select[Any] = select(sql_column("rowid")).select_from(sql_table("object_text"))
        found = found.where(sql_column("object_text").op("MATCH")(match))
        return s.objects.c.added.in_(found)

    def _newest_first(self, stmt: Select[Any], q: ConsoleQuery) -> Select[Any]:
        # Driven by the FTS5 index in descending rowid (= added) order, so that a page
        # or a facet sample stops after its rows instead of collecting every match.
        words = [w for w in (q.text or "").split() if w]
        if not words:
            return stmt.order_by(s.objects.c.added.desc())
        match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        fts = sql_table("object_text", sql_column("rowid"), sql_column("object_text"))
        return (
            stmt.select_from(fts.join(s.objects, s.objects.c.added == fts.c.rowid))
            .where(fts.c.object_text.op("MATCH")(match))
            .order_by(fts.c.rowid.desc())
        )

    def database_bytes(self) -> int | None:
        if self.path is None or not self.path.exists():
            return None
        total = self.path.stat().st_size
        wal = self.path.with_name(self.path.name + "-wal")
        return total + (wal.stat().st_size if wal.exists() else 0)
