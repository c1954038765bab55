"""Report drafts in the store: one row per document (by SHA-256), never served."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from accord.exceptions import UnknownDraft
from accord.store import _schema as s
from accord.store._clock import now_us


@dataclass(frozen=True, slots=True)
class DraftRow:
    """One stored draft; ``body`` is the service's JSON."""

    sha256: str
    name: str
    title: str
    status: str
    body: str
    created: int
    updated: int
    published: int | None
    collection: str | None

    @property
    def id(self) -> str:
        """The draft's short id: the first 12 hex digits of the document's SHA-256."""
        return self.sha256[:12]


def _row(r: Any) -> DraftRow:
    sha, name, title, status, body, created, updated, published, collection = tuple(r)
    pub = None if published is None else int(published)
    where = None if collection is None else str(collection)
    return DraftRow(
        str(sha),
        str(name),
        str(title),
        str(status),
        str(body),
        int(created),
        int(updated),
        pub,
        where,
    )


class DraftStore(ABC):
    """Drafts of imported reports (a mixin of SqlStore)."""

    engine: Engine

    @abstractmethod
    def write_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the store's single write lock (SqlStore gives it)."""

    def _columns(self) -> tuple[Any, ...]:
        t = s.report_drafts
        return (
            t.c.sha256,
            t.c.name,
            t.c.title,
            t.c.status,
            t.c.body,
            t.c.created,
            t.c.updated,
            t.c.published,
            t.c.collection,
        )

    def put_draft(self, sha256: str, name: str, title: str, body: str) -> tuple[DraftRow, bool]:
        """Store a new draft; a document already imported keeps its draft.

        Returns:
            The stored draft, and whether it was new.
        """
        t = s.report_drafts
        with self.write_tx() as conn:
            row = conn.execute(select(*self._columns()).where(t.c.sha256 == sha256)).first()
            if row is not None:
                return _row(row), False
            now = now_us()
            conn.execute(
                insert(t).values(
                    sha256=sha256,
                    name=name,
                    title=title,
                    status="draft",
                    body=body,
                    created=now,
                    updated=now,
                )
            )
            row = conn.execute(select(*self._columns()).where(t.c.sha256 == sha256)).one()
        return _row(row), True

    def drafts(self) -> list[DraftRow]:
        """Every draft, oldest first."""
        t = s.report_drafts
        with self.engine.connect() as conn:
            rows = conn.execute(select(*self._columns()).order_by(t.c.pk)).all()
        return [_row(r) for r in rows]

    def draft(self, ref: str) -> DraftRow:
        """The draft whose SHA-256 starts with ``ref`` (at least 6 hex digits, unique).

        Raises:
            UnknownDraft: none, or more than one, matches.
        """
        ref = ref.strip().lower()
        if len(ref) < 6 or any(c not in "0123456789abcdef" for c in ref):
            raise UnknownDraft(ref)
        t = s.report_drafts
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*self._columns()).where(t.c.sha256.like(ref + "%")).limit(2)
            ).all()
        if len(rows) != 1:
            raise UnknownDraft(ref)
        return _row(rows[0])

    def update_draft(self, sha256: str, body: str, *, published_to: str | None = None) -> DraftRow:
        """Replace a draft's body; with ``published_to``, mark it published there."""
        t = s.report_drafts
        now = now_us()
        values: dict[str, object] = {"body": body, "updated": now}
        if published_to is not None:
            values |= {"status": "published", "published": now, "collection": published_to}
        with self.write_tx() as conn:
            done = conn.execute(update(t).where(t.c.sha256 == sha256).values(**values)).rowcount
            if not done:
                raise UnknownDraft(sha256[:12])
            row = conn.execute(select(*self._columns()).where(t.c.sha256 == sha256)).one()
        return _row(row)
