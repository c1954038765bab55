"""The database's own failures as Accord's: unavailable (try again) or full (free space).

One ``handle_error`` listener per engine turns the driver's errors that say "the server
is gone", "the connection was cut", "the file is locked" or "the disk is full" into
`StoreUnavailable` or `StoreFull`, for reads and writes alike, so that every edge can
answer them as what they are (TAXII: 503 and 507) instead of as a crash (500). The
transaction they interrupted is rolled back by SQLAlchemy before the error is raised,
and a cut connection is dropped from the pool (``is_disconnect``): the next checkout
opens a fresh one, so the node recovers by itself once the database is back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine, ExceptionContext

from accord.exceptions import StoreFull, StoreUnavailable

# SQLite result codes (https://sqlite.org/rescode.html), primary code in the low byte.
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14


def _sqlite(error: sqlite3.Error) -> StoreFull | StoreUnavailable | None:
    code = getattr(error, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    primary = code & 0xFF
    if primary == _SQLITE_FULL:
        return StoreFull(str(error))
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_IOERR, _SQLITE_CANTOPEN):
        # An I/O error is what a write past a file-size limit (EFBIG) gives, too.
        return StoreUnavailable(str(error))
    return None


def classify(error: BaseException | None) -> StoreFull | StoreUnavailable | None:
    """Accord's error for a driver error that is the database's state, not a bug; or None."""
    if isinstance(error, sqlite3.Error):
        return _sqlite(error)
    if isinstance(error, psycopg.errors.DiskFull):
        return StoreFull(str(error))
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        # Connection refused or cut (pg_terminate_backend: AdminShutdown), server
        # shutting down, too many connections: all are "try again later".
        lines = str(error).strip().splitlines()
        return StoreUnavailable(lines[0] if lines else type(error).__name__)
    return None


def install(engine: Engine) -> None:
    """Map the engine's unavailable/full failures to `StoreUnavailable` / `StoreFull`."""

    @event.listens_for(engine, "handle_error")
    def _handle(context: ExceptionContext) -> None:
        if context.is_pre_ping:
            return  # the pool's liveness check: a dead connection is replaced, not reported
        mapped = classify(context.original_exception)
        if mapped is not None:
            raise mapped from context.original_exception


@contextmanager
def driver_errors(conn: Connection) -> Iterator[None]:
    """The same mapping for statements run on the driver's own cursor (the hot paths),
    which no SQLAlchemy event sees; a cut PostgreSQL connection is dropped from the pool.
    """
    try:
        yield
    except (sqlite3.Error, psycopg.Error) as exc:
        mapped = classify(exc)
        if mapped is None:
            raise
        if isinstance(exc, psycopg.Error):
            conn.invalidate(exc)
        raise mapped from exc
