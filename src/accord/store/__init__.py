"""Persistence: one `Store` interface, SQLite and PostgreSQL backends beside it."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from accord.exceptions import ConfigError, SchemaOutOfDate, StoreError
from accord.store import _migrate
from accord.store._agreements import AgreementEvent
from accord.store._base import (
    BatchResult,
    Collection,
    Conflict,
    Provenance,
    Query,
    Stats,
    Store,
    StoredObject,
    Writer,
)
from accord.store._clock import now_us
from accord.store._console import ConsoleQuery, Facets, User
from accord.store._drafts import DraftRow
from accord.store._feeds import Feed, FeedEntry
from accord.store._limits import MemberLimits
from accord.store._lookup import LookupBatch, LookupEpoch, LookupOffer
from accord.store._members import Grant, Member, TokenInfo
from accord.store._pages import Page, PageItem, PageQuery
from accord.store._peers import FederationTx, Peer, PushFailure, Retraction
from accord.store._postgres import PostgresStore
from accord.store._sql import SqlStore
from accord.store._sqlite import SqliteStore
from accord.store._standing import HeldStanding, Remark

__all__ = [
    "AgreementEvent",
    "BatchResult",
    "Collection",
    "Conflict",
    "ConsoleQuery",
    "DraftRow",
    "Facets",
    "FederationTx",
    "Feed",
    "FeedEntry",
    "Grant",
    "HeldStanding",
    "LookupBatch",
    "LookupEpoch",
    "LookupOffer",
    "Member",
    "MemberLimits",
    "Page",
    "PageItem",
    "PageQuery",
    "Peer",
    "PostgresStore",
    "Provenance",
    "PushFailure",
    "Query",
    "Remark",
    "Retraction",
    "SqlStore",
    "SqliteStore",
    "Stats",
    "Store",
    "StoredObject",
    "TokenInfo",
    "User",
    "Writer",
    "now_us",
    "open_store",
]


def open_store(url: str, *, migrate: bool = True) -> SqlStore:
    """Open the store at a SQLAlchemy URL, bringing its schema to the head migration.

    Args:
        url: ``sqlite:///PATH`` or ``postgresql+psycopg://...``.
        migrate: run pending migrations; when False, refuse a database not at head.

    Raises:
        ConfigError: the URL names no backend Accord has.
        StoreError: the database cannot be reached or migrated.
    """
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError as exc:
        raise ConfigError("ACCORD_DATABASE_URL", f"{url!r} is not a database URL") from exc
    store: SqlStore
    if backend == "sqlite":
        store = SqliteStore(url)
    elif backend == "postgresql":
        store = PostgresStore(url)
    else:
        raise ConfigError("ACCORD_DATABASE_URL", f"backend {backend!r}: use sqlite or postgresql")
    try:
        if migrate:
            _migrate.upgrade(store.engine)
        else:
            _migrate.check(store.engine)
    except SchemaOutOfDate:
        store.close()
        raise
    except SQLAlchemyError as exc:
        store.close()
        raise StoreError(f"cannot open the store at {store.url}: {exc}") from exc
    return store
