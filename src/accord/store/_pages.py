"""Pages of one collection, as TAXII 2.1 reads them.

A page is ordered by the version's ``date_added`` *in that collection*
(``collection_objects.added``), which is unique and handed out in commit order;
the cursor of the next page is the last ``date_added`` served. So a client that
follows ``next`` never sees an object twice and never misses one, even while
new versions arrive: they all sort after the cursor.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, delete, exists, or_, select

from accord.store import _schema as s
from accord.store._base import StoredObject

VERSION_WORDS = ("last", "first", "all")


@dataclass(frozen=True, slots=True)
class PageQuery:
    """TAXII 2.1 filters over one collection (§3.5).

    Attributes:
        collection_pk: the collection.
        after: cursor: only versions added to the collection after this (exclusive).
        added_after: the client's ``added_after``, in microseconds (exclusive).
        ids / types / spec_versions: ``match[id]``, ``match[type]``, ``match[spec_version]``.
        versions: ``match[version]``: any of "last", "first", "all" and version keys.
        limit: page size; one more row is read to tell whether there is more.
    """

    collection_pk: int
    after: int | None = None
    added_after: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    limit: int = 1000


@dataclass(frozen=True, slots=True)
class PageItem:
    """One version in a page, with its date_added in the collection."""

    date_added: int
    obj: StoredObject


@dataclass(frozen=True, slots=True)
class Page:
    """A page and whether more follow it."""

    items: list[PageItem]
    more: bool


def _version_filter(q: PageQuery) -> ColumnElement[bool] | None:
    if "all" in q.versions or not q.versions:
        return None
    co, o = s.collection_objects, s.objects
    conds: list[ColumnElement[bool]] = []
    for word, newer in (("last", True), ("first", False)):
        if word not in q.versions:
            continue
        co2, o2 = co.alias(f"co_{word}"), o.alias(f"o_{word}")
        beyond = o2.c.version > o.c.version if newer else o2.c.version < o.c.version
        other = [co2.c.collection_pk == q.collection_pk, o2.c.id == o.c.id, beyond]
        if q.spec_versions:
            other.append(o2.c.spec_version.in_(q.spec_versions))
        conds.append(
            ~exists().select_from(co2.join(o2, o2.c.added == co2.c.object_added)).where(*other)
        )
    keys = [v for v in q.versions if v not in VERSION_WORDS]
    if keys:
        conds.append(o.c.version.in_(keys))
    return or_(*conds)


def page_select(q: PageQuery, *, columns: tuple[Any, ...] | None = None) -> Select[Any]:
    """The SELECT for one page (limit + 1 rows)."""
    co, o = s.collection_objects, s.objects
    cols = columns or (
        co.c.added.label("date_added"),
        o.c.added,
        o.c.id,
        o.c.type,
        o.c.version,
        o.c.spec_version,
        o.c.revoked,
        o.c.data,
    )
    stmt = (
        select(*cols)
        .select_from(co.join(o, o.c.added == co.c.object_added))
        .where(co.c.collection_pk == q.collection_pk)
    )
    lower = max(q.after or 0, q.added_after or 0)
    if lower:
        stmt = stmt.where(co.c.added > lower)
    if q.ids:
        stmt = stmt.where(o.c.id.in_(q.ids))
    if q.types:
        stmt = stmt.where(o.c.type.in_(q.types))
    if q.spec_versions:
        stmt = stmt.where(o.c.spec_version.in_(q.spec_versions))
    versions = _version_filter(q)
    if versions is not None:
        stmt = stmt.where(versions)
    return stmt.order_by(co.c.added).limit(q.limit + 1)


class PageStore(ABC):
    """Collection pages and removals (a mixin of SqlStore)."""

    engine: Engine

    @abstractmethod
    def write_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the store's single write lock (SqlStore gives it)."""

    def collection_page(self, q: PageQuery) -> Page:
        """One page of a collection under TAXII filters."""
        with self.engine.connect() as conn:
            rows = conn.execute(page_select(q)).all()
        items = [PageItem(r[0], StoredObject.from_row(r[1:])) for r in rows[: q.limit]]
        return Page(items, more=len(rows) > q.limit)

    def remove_from_collection(self, q: PageQuery) -> int:
        """Take the versions the query selects out of the collection; returns how many.

        The versions stay stored (other collections may hold them).
        """
        co, o = s.collection_objects, s.objects
        chosen = page_select(q, columns=(o.c.added,)).limit(None).order_by(None)
        with self.write_tx() as conn:
            added = [a for (a,) in conn.execute(chosen)]
            if not added:
                return 0
            conn.execute(
                delete(co).where(
                    and_(co.c.collection_pk == q.collection_pk, co.c.object_added.in_(added))
                )
            )
        return len(added)
