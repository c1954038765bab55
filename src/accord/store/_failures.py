"""The database's own failures as Accord's: unavailable (try again) or full (free space).

One ``handle_error`` listener per engine turns the driver's errors that say "the server
is gone", "the connection was cut", "the file is locked" or "the disk is full" into
`StoreUnavailable` or `StoreFull`, for reads and writes alike, so that every edge can
answer them as what they are (TAXII: 503 and 507) instead of as a crash (500). The
transaction they interrupted is rolled back by SQLAlchemy before the error is raised,
and a cut connection is dropped from the pool (``is_disconnect``): the next checkout
opens a fresh one, so the node recovers by itself once the database is back.

A pooled PostgreSQL connection is checked with a round trip (a ping) before it is
handed out only when it may have been cut unseen: it lay unused for more than a
second, or a cut connection was seen since it was last used. Under load connections
come back within milliseconds, and a ping on every checkout was seven of the 37
round trips of a TAXII page.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from accord.exceptions import StoreFull, StoreUnavailable

# SQLite result codes (https://sqlite.org/rescode.html), primary code in the low byte.
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14

# A pooled connection unused for longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 1.0
_USED = "accord_used"  # the connection record's info: when it was last checked in
_last_cut = [0.0]  # when a cut connection was last seen (time.monotonic)


def _cut_seen() -> None:
    _last_cut[0] = time.monotonic()


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
        if context.is_disconnect:
            _cut_seen()
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
            _cut_seen()
            conn.invalidate(exc)
        raise mapped from exc


def ping_when_unsure(engine: Engine, idle: float = IDLE_PING_SECONDS) -> None:
    """Ping a pooled connection at checkout when it may have been cut unseen (see above).

    A failed ping makes the pool replace the connection (`DisconnectionError`), as
    ``pool_pre_ping`` does; the request never sees it.
    """

    @event.listens_for(engine, "connect")
    def _opened(dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        record.info[_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        record.info[_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(
        dbapi_connection: object, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        used = float(record.info.get(_USED, 0.0))
        if time.monotonic() - used < idle and used > _last_cut[0]:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)  # type: ignore[arg-type]
        except psycopg.Error as exc:
            raise DisconnectionError(str(exc)) from exc
        if not alive:
            raise DisconnectionError("the connection failed its ping")
