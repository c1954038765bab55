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
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    or_,
    select,
)

from accord.policy import Withholds
from accord.store import _failures
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
        withheld: rows a sharing agreement withholds for certain, left out of
            the page (by their type, tlp and created columns); the rest still
            go through the agreement's gate.
    """

    collection_pk: int
    after: int | None = None
    added_after: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    limit: int = 1000
    withheld: Withholds | None = None


class PageItem(NamedTuple):
    """One version in a page, with its date_added in the collection."""

    date_added: int
    obj: StoredObject


@dataclass(frozen=True, slots=True)
class Page:
    """A page and whether more follow it."""

    items: list[PageItem]
    more: bool


def _in(column: ColumnElement[str], name: str, values: tuple[str, ...]) -> ColumnElement[bool]:
    # One named parameter per value (id_0, id_1, ...): the statement's text
    # then depends only on how many values there are, never on which.
    return column.in_([bindparam(f"{name}_{i}", v) for i, v in enumerate(values)])


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
        other = [co2.c.collection_pk == bindparam("cpk", q.collection_pk), o2.c.id == o.c.id]
        other.append(beyond)
        if q.spec_versions:
            other.append(_in(o2.c.spec_version, "spec", q.spec_versions))
        no_other = ~exists().select_from(co2.join(o2, o2.c.added == co2.c.object_added)).where(
            *other
        )
        # A version nothing supersedes is the last anywhere: only the others
        # are looked up in the collection (SQL evaluates OR left to right).
        conds.append(or_(o.c.superseded.is_(False), no_other) if newer else no_other)
    keys = tuple(v for v in q.versions if v not in VERSION_WORDS)
    if keys:
        conds.append(_in(o.c.version, "key", keys))
    return or_(*conds)


def _kept(w: Withholds) -> ColumnElement[bool] | None:
    """The rows `Withholds.row` does not name, in SQL (every value a named parameter)."""
    o = s.objects
    conds: list[ColumnElement[bool]] = []
    if w.types_allowed:
        conds.append(_in(o.c.type, "allow", w.types_allowed))
    if w.types_excluded:
        conds.append(~_in(o.c.type, "exclude", w.types_excluded))
    rules: list[ColumnElement[bool]] = []
    if w.ceiling is not None:
        level = and_(o.c.tlp.is_not(None), o.c.tlp <= bindparam("ceiling", w.ceiling))
        rules.append(level if w.unmarked else or_(o.c.tlp.is_(None), level))
    if w.created_from is not None:
        rules.append(or_(o.c.created.is_(None), o.c.created < bindparam("cutoff", w.created_from)))
    if rules:
        conds.append(
            or_(_in(o.c.type, "exempt", w.exempt), and_(*rules)) if w.exempt else and_(*rules)
        )
    return and_(*conds) if conds else None


def page_select(q: PageQuery, *, columns: tuple[Any, ...] | None = None) -> Select[Any]:
    """The SELECT for one page (limit + 1 rows).

    Every value is a named parameter, so two queries of the same `_shape`
    have the same SQL text (see `_driver_statement`).
    """
    co, o = s.collection_objects, s.objects
    cols = columns or (co.c.added.label("date_added"), *s.stored_columns)
    stmt = (
        select(*cols)
        .select_from(co.join(o, o.c.added == co.c.object_added))
        .where(co.c.collection_pk == bindparam("cpk", q.collection_pk))
    )
    lower = max(q.after or 0, q.added_after or 0)
    if lower:
        stmt = stmt.where(co.c.added > bindparam("lower", lower))
    if q.ids:
        stmt = stmt.where(_in(o.c.id, "id", q.ids))
    if q.types:
        stmt = stmt.where(_in(o.c.type, "type", q.types))
    if q.spec_versions:
        stmt = stmt.where(_in(o.c.spec_version, "spec", q.spec_versions))
    versions = _version_filter(q)
    if versions is not None:
        stmt = stmt.where(versions)
    kept = _kept(q.withheld) if q.withheld is not None else None
    if kept is not None:
        stmt = stmt.where(kept)
    return stmt.order_by(co.c.added).limit(q.limit + 1)


def _shape(q: PageQuery) -> tuple[object, ...]:
    """What the SQL text of a page depends on: which filters, how many values, the limit."""
    lower = bool(q.after or q.added_after)
    words = tuple(v if v in VERSION_WORDS else "" for v in q.versions)
    w = q.withheld
    held = (
        (
            len(w.types_allowed),
            len(w.types_excluded),
            w.ceiling is not None,
            w.unmarked,
            w.created_from is not None,
            len(w.exempt),
        )
        if w is not None
        else None
    )
    return (lower, len(q.ids), len(q.types), len(q.spec_versions), words, q.limit, held)


def _values(q: PageQuery) -> dict[str, object]:
    values: dict[str, object] = {"cpk": q.collection_pk}
    if q.after or q.added_after:
        values["lower"] = max(q.after or 0, q.added_after or 0)
    for name, given in (("id", q.ids), ("type", q.types), ("spec", q.spec_versions)):
        values.update((f"{name}_{i}", v) for i, v in enumerate(given))
    keys = [v for v in q.versions if v not in VERSION_WORDS]
    values.update((f"key_{i}", v) for i, v in enumerate(keys))
    w = q.withheld
    if w is not None:
        for name, given in (
            ("allow", w.types_allowed),
            ("exclude", w.types_excluded),
            ("exempt", w.exempt),
        ):
            values.update((f"{name}_{i}", v) for i, v in enumerate(given))
        if w.ceiling is not None:
            values["ceiling"] = w.ceiling
        if w.created_from is not None:
            values["cutoff"] = w.created_from
    return values


# Compiled page statements by (dialect, paramstyle, shape): compiling costs more
# than running the query, and a client paging through a collection asks the
# same shape a thousand times.
_Compiled = tuple[str, list[str] | None, dict[str, Any]]
_COMPILED: dict[tuple[object, ...], _Compiled] = {}
_COMPILED_MAX = 512


def _driver_statement(conn: Connection, q: PageQuery) -> tuple[str, Any]:
    """The SQL text of the page and its parameters in the driver's own style."""
    dialect = conn.dialect
    key = (type(dialect).__name__, dialect.paramstyle, _shape(q))
    known = _COMPILED.get(key)
    if known is None:
        compiled = page_select(q).compile(
            dialect=dialect, compile_kwargs={"render_postcompile": True}
        )
        fresh: _Compiled = (str(compiled), compiled.positiontup, dict(compiled.params))
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        _COMPILED[key] = known = fresh
    sql, order, defaults = known
    params = {**defaults, **_values(q)}
    if order is not None:  # qmark (sqlite3): a tuple in the statement's order
        return sql, tuple(params[name] for name in order)
    return sql, params


class PageStore(ABC):
    """Collection pages and removals (a mixin of SqlStore)."""

    engine: Engine
    reads: Engine

    @abstractmethod
    def write_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the store's single write lock (SqlStore gives it)."""

    def collection_page(self, q: PageQuery) -> Page:
        """One page of a collection under TAXII filters.

        The hot path of every TAXII read: the statement is compiled once per
        shape and run on the driver's cursor, so that rows come back as the
        driver's tuples with no per-row result processing, and items are made
        with ``tuple.__new__`` (a NamedTuple's own constructor is a Python call).
        """
        with self.reads.connect() as conn:
            sql, params = _driver_statement(conn, q)
            with _failures.driver_errors(conn):
                cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                try:
                    cursor.execute(sql, params)
                    rows = cursor.fetchall()
                finally:
                    cursor.close()
        new, item, obj = tuple.__new__, PageItem, StoredObject
        items = [
            new(item, (r[0], new(obj, (r[1], r[2], r[3], r[4], r[5], bool(r[6]), bytes(r[7])))))
            for r in rows[: q.limit]
        ]
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
