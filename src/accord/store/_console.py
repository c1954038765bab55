"""The console's reads and its accounts: users, search with facets, dashboard counts, graph.

Every read here is bounded: search pages by offset up to a cap, facets count at
most ``cap`` matching versions (newest first) and say when they stopped, and
the graph reads the reference index (``object_refs``) one hop at a time.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    Select,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from accord.exceptions import StoreError, UnknownUser
from accord.store import _schema as s
from accord.store._base import StoredObject
from accord.store._clock import now_us

DAY_US = 86_400_000_000
# A type with at least this many stored versions is "common" (see ConsoleStore._types).
COMMON_TYPE = 5_000


@dataclass(frozen=True, slots=True)
class User:
    """A console account."""

    pk: int
    name: str
    role: str
    password_hash: str
    created: int
    epoch: int


@dataclass(frozen=True, slots=True)
class ConsoleQuery:
    """The console's search over current versions; empty fields do not filter.

    Attributes:
        value: a normalised observable value the object mentions.
        types: STIX types to keep.
        labels: labels the object must all carry.
        tlps: TLP levels to keep (`accord.stix.Tlp` values; -1: no TLP marking).
        text: free text, matched against the name and description index.
        modified_since / modified_until: version keys bounding ``modified``.
        collection_pk: only objects in this collection.
        include_revoked: keep revoked objects.
    """

    value: str | None = None
    types: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    tlps: tuple[int, ...] = ()
    text: str | None = None
    modified_since: str | None = None
    modified_until: str | None = None
    collection_pk: int | None = None
    include_revoked: bool = False


@dataclass(frozen=True, slots=True)
class Facets:
    """How many matching versions there are of each type and TLP level.

    ``capped``: more than ``cap`` matched; the counts are over the newest ``cap``.
    """

    total: int
    capped: bool
    by_type: dict[str, int] = field(default_factory=dict)
    by_tlp: dict[int, int] = field(default_factory=dict)


class ConsoleStore:
    """Mixed into `SqlStore`: the engine and the dialect's free-text match are its own."""

    engine: Engine

    @abstractmethod
    def _free_text(self, words: Sequence[str]) -> ColumnElement[bool]:
        """objects.added is in the free-text index's answer for all these words."""

    @abstractmethod
    def _has_label(self, label: str) -> ColumnElement[bool]: ...

    # -- users ----------------------------------------------------------------

    def create_user(self, name: str, role: str, password_hash: str) -> User:
        t = s.users
        created = now_us()
        try:
            with self.engine.begin() as conn:
                pk = conn.execute(
                    insert(t)
                    .values(
                        name=name, role=role, password_hash=password_hash, created=created, epoch=0
                    )
                    .returning(t.c.pk)
                ).scalar_one()
        except IntegrityError as exc:
            raise StoreError(f"a user named {name!r} exists") from exc
        return User(int(pk), name, role, password_hash, created, 0)

    def users(self) -> list[User]:
        t = s.users
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.name)).all()
        return [User(r.pk, r.name, r.role, r.password_hash, r.created, r.epoch) for r in rows]

    def user(self, name: str) -> User:
        t = s.users
        with self.engine.connect() as conn:
            r = conn.execute(select(t).where(t.c.name == name)).first()
        if r is None:
            raise UnknownUser(name)
        return User(r.pk, r.name, r.role, r.password_hash, r.created, r.epoch)

    def update_user(
        self, name: str, *, role: str | None = None, password_hash: str | None = None
    ) -> None:
        """Change a user's role or password; either one ends its sessions (epoch + 1)."""
        t = s.users
        values: dict[str, Any] = {"epoch": t.c.epoch + 1}
        if role is not None:
            values["role"] = role
        if password_hash is not None:
            values["password_hash"] = password_hash
        with self.engine.begin() as conn:
            if conn.execute(update(t).where(t.c.name == name).values(**values)).rowcount == 0:
                raise UnknownUser(name)

    def delete_user(self, name: str) -> None:
        t = s.users
        with self.engine.begin() as conn:
            if conn.execute(delete(t).where(t.c.name == name)).rowcount == 0:
                raise UnknownUser(name)

    # -- search ---------------------------------------------------------------

    def _where(self, q: ConsoleQuery) -> list[ColumnElement[bool]]:
        o = s.objects
        where: list[ColumnElement[bool]] = [o.c.superseded.is_(False)]
        if not q.include_revoked:
            where.append(o.c.revoked.is_(False))
        if q.value is not None:
            ob = s.observables
            where.append(o.c.added.in_(select(ob.c.object_added).where(ob.c.value == q.value)))
        if q.collection_pk is not None:
            co = s.collection_objects
            where.append(
                o.c.added.in_(
                    select(co.c.object_added).where(co.c.collection_pk == q.collection_pk)
                )
            )
        if q.types:
            where.append(self._types(q.types))
        if q.tlps:
            levels = [t for t in q.tlps if t >= 0]
            cond: ColumnElement[bool] = o.c.tlp.in_(levels)
            if -1 in q.tlps:
                cond = cond | o.c.tlp.is_(None)
            where.append(cond)
        if q.modified_since is not None:
            where.append(o.c.version >= q.modified_since)
        if q.modified_until is not None:
            where.append(o.c.version <= q.modified_until)
        where.extend(self._has_label(label) for label in q.labels)
        return where

    def _newest_first(self, stmt: Select[Any], q: ConsoleQuery) -> Select[Any]:
        """The statement with the free-text condition (if any), newest version first."""
        words = [w for w in (q.text or "").split() if w]
        if words:
            stmt = stmt.where(self._free_text(words))
        return stmt.order_by(s.objects.c.added.desc())

    def _types(self, types: tuple[str, ...]) -> ColumnElement[bool]:
        """The type filter, written so the planner picks the cheaper way to the newest rows.

        A rare type (malware among a million indicators) is best found by the type
        index; a common one by walking ``added`` backwards, which a type index lookup
        would turn into sorting every row of that type. One bounded index probe tells
        which: ``type || ''`` hides the index from the planner (SQLite and PostgreSQL).
        """
        o = s.objects
        probe = select(func.count()).select_from(
            select(o.c.added).where(o.c.type.in_(types)).limit(COMMON_TYPE).subquery()
        )
        with self.engine.connect() as conn:
            common = conn.execute(probe).scalar_one() >= COMMON_TYPE
        if common:
            return o.c.type.concat("").in_(types)
        return o.c.type.in_(types)

    def console_search(self, q: ConsoleQuery, *, offset: int, limit: int) -> list[StoredObject]:
        """One page of current versions that match, newest first."""
        base = select(*s.stored_columns).where(*self._where(q))
        stmt = self._newest_first(base, q).offset(offset).limit(limit)
        with self.engine.connect() as conn:
            return [StoredObject.from_row(r) for r in conn.execute(stmt)]

    def console_facets(self, q: ConsoleQuery, *, cap: int) -> Facets:
        """Counts by type and TLP of the (newest ``cap``) matching versions."""
        o = s.objects
        base = select(o.c.type, o.c.tlp).where(*self._where(q))
        sample = self._newest_first(base, q).limit(cap + 1).subquery()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(sample.c.type, sample.c.tlp, func.count()).group_by(
                    sample.c.type, sample.c.tlp
                )
            ).all()
        by_type: dict[str, int] = {}
        by_tlp: dict[int, int] = {}
        total = 0
        for otype, tlp, n in rows:
            by_type[otype] = by_type.get(otype, 0) + int(n)
            level = -1 if tlp is None else int(tlp)
            by_tlp[level] = by_tlp.get(level, 0) + int(n)
            total += int(n)
        return Facets(min(total, cap), total > cap, by_type, by_tlp)

    # -- dashboard ------------------------------------------------------------

    def current_counts(self) -> dict[str, int]:
        """Current, unrevoked objects by type (the covering index ix_objects_current_type)."""
        o = s.objects
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(o.c.type, func.count())
                .where(o.c.superseded.is_(False), o.c.revoked.is_(False))
                .group_by(o.c.type)
            ).all()
        return {str(t): int(n) for t, n in rows}

    def added_per_day(self, since: int, types: Sequence[str] = ()) -> dict[int, int]:
        """Versions stored per day (day number since the epoch) from ``since`` (µs)."""
        o = s.objects
        day = (o.c.added / DAY_US).cast(BigInteger)
        stmt = select(day, func.count()).where(o.c.added >= since).group_by(day)
        if types:
            stmt = stmt.where(o.c.type.in_(types))
        with self.engine.connect() as conn:
            return {int(d): int(n) for d, n in conn.execute(stmt)}

    def most_referenced(self, prop: str, limit: int) -> list[tuple[str, int]]:
        """The ids most often named by ``prop`` (sighting_of_ref: the most sighted)."""
        r = s.object_refs
        n = func.count().label("n")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(r.c.ref, n)
                .where(r.c.prop == prop)
                .group_by(r.c.ref)
                .order_by(n.desc(), r.c.ref)
                .limit(limit)
            ).all()
        return [(str(ref), int(c)) for ref, c in rows]

    # -- references -------------------------------------------------------------

    def referring(
        self, ids: Sequence[str], *, props: Sequence[str] = (), limit: int
    ) -> list[tuple[str, str, StoredObject]]:
        """Current versions that refer to these ids: (ref, prop, the referring version)."""
        if not ids:
            return []
        r, o = s.object_refs, s.objects
        stmt = (
            select(r.c.ref, r.c.prop, *s.stored_columns)
            .join(o, o.c.added == r.c.object_added)
            .where(r.c.ref.in_(list(ids)), o.c.superseded.is_(False))
            .order_by(o.c.added.desc())
            .limit(limit)
        )
        if props:
            stmt = stmt.where(r.c.prop.in_(list(props)))
        with self.engine.connect() as conn:
            return [
                (str(x[0]), str(x[1]), StoredObject.from_row(x[2:])) for x in conn.execute(stmt)
            ]

    def current_of(self, ids: Sequence[str]) -> dict[str, StoredObject]:
        """The current version of each of these ids that is stored."""
        if not ids:
            return {}
        o = s.objects
        out: dict[str, StoredObject] = {}
        chunk = list(dict.fromkeys(ids))
        with self.engine.connect() as conn:
            for start in range(0, len(chunk), 500):
                for row in conn.execute(
                    select(*s.stored_columns).where(
                        o.c.id.in_(chunk[start : start + 500]), o.c.superseded.is_(False)
                    )
                ):
                    obj = StoredObject.from_row(row)
                    out[obj.id] = obj
        return out

    def collections_of(self, added: int) -> list[str]:
        """Titles of the collections that hold this version."""
        co, c = s.collection_objects, s.collections
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.c.title)
                .join(co, co.c.collection_pk == c.c.pk)
                .where(co.c.object_added == added)
                .order_by(c.c.title)
            ).all()
        return [str(t) for (t,) in rows]
