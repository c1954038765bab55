"""PostgreSQL backend: many processes, one node.

Writers serialise on a transaction-level advisory lock, so ``date_added`` is
handed out in commit order and a reader paginating by it can never see a
smaller value commit after a larger one (which would make it skip objects).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    column,
    create_engine,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from accord.exceptions import StoreError
from accord.store import _failures
from accord.store import _schema as s
from accord.store._sql import SqlStore

# pg_advisory_xact_lock key: "ACCORDWR" as a 64-bit integer.
_WRITE_LOCK = 0x4143434F52445752
# The transparency log's append lock: "ACCORDLG". Apart from the writers' lock, so
# that a TAXII read logging its answer does not wait for an import's transaction.
_LOG_LOCK = 0x4143434F52444C47


class PostgresStore(SqlStore):
    """The store on a PostgreSQL server."""

    _mark = "%s"
    _greatest = "GREATEST"

    _sql_insert_objects = (
        "INSERT INTO objects"
        " (added, id, type, version, spec_version, revoked, source_pk, data, tlp, created)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id, version) DO NOTHING"
    )
    _sql_insert_observables = (
        "INSERT INTO observables (value, object_added, kind) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING"
    )
    _sql_insert_members = (
        "INSERT INTO collection_objects (collection_pk, added, object_added) VALUES (%s, %s, %s)"
    )
    _sql_insert_members_ignore = _sql_insert_members + " ON CONFLICT DO NOTHING"
    _sql_insert_provenance_ignore = (
        "INSERT INTO provenance (object_added, source_pk, seen) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING"
    )

    _sql_insert_text = (
        "INSERT INTO object_text (added, doc) VALUES (%s, to_tsvector('simple', %s || ' ' || %s))"
    )
    _sql_insert_refs = (
        "INSERT INTO object_refs (ref, object_added, prop) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING"
    )

    def __init__(self, url: str) -> None:
        engine = create_engine(url)
        _failures.install(engine)
        _failures.ping_when_unsure(engine)
        super().__init__(engine)
        # One statement needs no transaction: autocommit saves BEGIN and ROLLBACK.
        self.reads = engine.execution_options(isolation_level="AUTOCOMMIT")

    def _write_connection(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITE_LOCK})
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"PostgreSQL write failed: {exc}") from exc

    def _log_connection(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                self.lock_log(conn)
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"PostgreSQL log append failed: {exc}") from exc

    def _limit_connection(self) -> Iterator[Connection]:
        # Not under the writers' lock: a request's limits never wait for an import. And
        # no wait for the WAL's flush: a crash may forget the last bucket updates, which
        # only hands back a few tokens, and waiting for the disk is most of the cost.
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                yield conn
        except SQLAlchemyError as exc:
            # The database's own state (cut, gone, full) stays what it is: 503/507.
            failure = _failures.classify(exc.orig) if isinstance(exc, DBAPIError) else None
            if failure is not None:
                raise failure from exc
            raise StoreError(f"PostgreSQL rate limit update failed: {exc}") from exc

    def _lock_key(self, conn: Connection, key: str) -> None:
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))

    def lock_log(self, conn: Connection) -> None:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOG_LOCK})

    def _existing(
        self, conn: Connection, ids: set[str]
    ) -> dict[tuple[str, str], tuple[int, int, bytes]]:
        rows = conn.exec_driver_sql(
            "SELECT id, version, added, source_pk, data FROM objects WHERE id = ANY(%s)",
            (list(ids),),
        )
        return {(oid, v): (added, src, bytes(data)) for oid, v, added, src, data in rows}

    def _present(self, conn: Connection, added: list[int]) -> set[int]:
        rows = conn.exec_driver_sql("SELECT added FROM objects WHERE added = ANY(%s)", (added,))
        return {a for (a,) in rows}

    def _versioned(self, conn: Connection, ids: list[str]) -> list[str]:
        rows = conn.exec_driver_sql(
            "SELECT id FROM objects WHERE id = ANY(%s) GROUP BY id HAVING count(*) > 1", (ids,)
        )
        return [oid for (oid,) in rows]

    def _jsonb(self) -> ColumnElement[Any]:
        return func.convert_from(s.objects.c.data, literal("UTF8")).cast(JSONB)

    def _json_text(self, key: str) -> ColumnElement[Any]:
        text: ColumnElement[Any] = self._jsonb()[key].astext
        return text

    def _has_label(self, label: str) -> ColumnElement[bool]:
        return self._jsonb()["labels"].contains([label])

    def _free_text(self, words: Sequence[str]) -> ColumnElement[bool]:
        # plainto_tsquery reads plain words (no operators) and ANDs them.
        query = func.plainto_tsquery(literal_column("'simple'::regconfig"), " ".join(words))
        found: Select[Any] = select(column("added")).select_from(table("object_text"))
        found = found.where(column("doc").op("@@")(query))
        return s.objects.c.added.in_(found)

    def refresh_statistics(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("ANALYZE objects, collection_objects, observables, object_refs"))
            conn.commit()

    def database_bytes(self) -> int | None:
        with self.engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        return None if size is None else int(size)
