"""Scheduled feeds: their settings, the validators of their last answer, their entries.

An entry is what a feed listed (an indicator id, or a MISP feed's event with
its timestamp) with its kind and when the feed last listed it; the feeds
service reads them to tell what vanished or aged out.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from accord.exceptions import StoreError, UnknownFeed
from accord.store import _schema as s
from accord.store._clock import now_us


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed pulled on a schedule."""

    pk: int
    name: str
    url: str
    format: str
    interval: int  # seconds between syncs
    tlp: str
    expire_after: int | None  # days; None: ACCORD_FEED_LIFETIMES
    collection_pk: int | None
    created: int
    etag: str | None
    last_modified: str | None
    last_sync: int | None
    last_error: str | None
    last_error_at: int | None
    failures: int


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One thing a feed listed."""

    object_id: str
    kind: str
    seen: int
    expired: bool


class FeedStore(ABC):
    """Feeds and their entries on a SQLAlchemy engine (a mixin of SqlStore)."""

    engine: Engine

    @abstractmethod
    def write_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the store's single write lock (SqlStore gives it)."""

    def add_feed(
        self,
        name: str,
        *,
        url: str,
        format: str,
        interval: int,
        tlp: str,
        expire_after: int | None,
        collection_pk: int | None,
    ) -> Feed:
        """Add a feed; its name must be unused."""
        t = s.feeds
        with self.write_tx() as conn:
            if conn.execute(select(t.c.pk).where(t.c.name == name)).first():
                raise StoreError(f"a feed named {name!r} exists")
            conn.execute(
                insert(t).values(
                    name=name,
                    url=url,
                    format=format,
                    interval=interval,
                    tlp=tlp,
                    expire_after=expire_after,
                    collection_pk=collection_pk,
                    created=now_us(),
                    failures=0,
                )
            )
        return self.feed(name)

    def _feeds(self, *where: Any) -> list[Feed]:
        t = s.feeds
        with self.engine.connect() as conn:
            rows = conn.execute(select(*t.c).where(*where).order_by(t.c.pk)).all()
        return [Feed(*r) for r in rows]

    def feeds(self) -> list[Feed]:
        """All feeds, oldest first."""
        return self._feeds()

    def feed(self, name: str) -> Feed:
        """The feed with this name (raises UnknownFeed)."""
        found = self._feeds(s.feeds.c.name == name)
        if not found:
            raise UnknownFeed(name)
        return found[0]

    def remove_feed(self, name: str) -> None:
        """Forget a feed and its entries (what it delivered stays, with provenance)."""
        feed = self.feed(name)
        with self.write_tx() as conn:
            conn.execute(delete(s.feed_entries).where(s.feed_entries.c.feed_pk == feed.pk))
            conn.execute(delete(s.feeds).where(s.feeds.c.pk == feed.pk))

    def note_feed_sync(
        self,
        feed_pk: int,
        *,
        error: str | None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Record a sync: an error (the validators stay), or success with the new validators."""
        t = s.feeds
        now = now_us()
        values: dict[str, Any]
        if error is not None:
            values = {"last_error": error, "last_error_at": now, "failures": t.c.failures + 1}
        else:
            values = {
                "last_error": None,
                "failures": 0,
                "last_sync": now,
                "etag": etag,
                "last_modified": last_modified,
            }
        with self.write_tx() as conn:
            conn.execute(update(t).where(t.c.pk == feed_pk).values(**values))

    def feed_entries(self, feed_pk: int) -> dict[str, FeedEntry]:
        """Every entry of a feed, by object id."""
        e = s.feed_entries
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(e.c.object_id, e.c.kind, e.c.seen, e.c.expired).where(e.c.feed_pk == feed_pk)
            ).all()
        return {r[0]: FeedEntry(r[0], r[1], int(r[2]), bool(r[3])) for r in rows}

    def put_feed_entries(self, feed_pk: int, entries: Iterable[FeedEntry]) -> None:
        """Insert or replace these entries of a feed (one transaction)."""
        e = s.feed_entries
        rows = [
            {
                "feed_pk": feed_pk,
                "object_id": x.object_id,
                "kind": x.kind,
                "seen": x.seen,
                "expired": int(x.expired),
            }
            for x in entries
        ]
        if not rows:
            return
        with self.write_tx() as conn:
            for start in range(0, len(rows), 5000):
                chunk = rows[start : start + 5000]
                ids = [r["object_id"] for r in chunk]
                conn.execute(delete(e).where(e.c.feed_pk == feed_pk, e.c.object_id.in_(ids)))
                conn.execute(insert(e), chunk)
