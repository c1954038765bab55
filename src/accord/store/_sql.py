"""The store on SQLAlchemy Core, shared by the SQLite and PostgreSQL backends.

Reads are built with SQLAlchemy Core. The ingest hot path sends driver-level
``executemany`` statements (one round per table per batch): the per-row cost of
SQLAlchemy's parameter processing would otherwise dominate a million-object
import. The backends supply the few statements that differ by dialect.
"""

from __future__ import annotations

import uuid
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from accord.exceptions import StoreError, UnknownCollection
from accord.standing import Rules
from accord.stix import Record
from accord.store import _schema as s
from accord.store._agreements import AgreementStore
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
from accord.store._console import ConsoleStore
from accord.store._drafts import DraftStore
from accord.store._feeds import FeedStore
from accord.store._ledger import LedgerStore
from accord.store._limits import LimitStore
from accord.store._lookup import LookupStore
from accord.store._members import Grant, MemberStore
from accord.store._pages import PageStore
from accord.store._peers import PeerStore
from accord.store._standing import REMARK_TYPES, Remark, StandingStore, apply_remarks, remarks_of
from accord.store._text import index_rows


class SqlWriter(Writer):
    """A write transaction; ``added`` values come from one strictly increasing clock."""

    def __init__(self, store: SqlStore, conn: Connection) -> None:
        self._store = store
        self._conn = conn
        self.stored = 0  # versions this transaction stored
        self.standings_computed = 0  # standings this transaction recomputed
        last_object = conn.execute(select(func.max(s.objects.c.added))).scalar()
        # The latest of each collection, one index lookup each: collection_objects'
        # key is (collection_pk, added), so a bare max(added) would scan the table.
        co, c = s.collection_objects, s.collections
        latest = (
            select(func.max(co.c.added))
            .where(co.c.collection_pk == c.c.pk)
            .correlate(c)
            .scalar_subquery()
        )
        last_member = conn.execute(select(func.max(latest)).select_from(c)).scalar()
        self._last = max(last_object or 0, last_member or 0)

    def _tick(self) -> int:
        # date_added: max(now, last + 1) keeps the order strict even when the
        # clock steps back or many versions arrive in one microsecond.
        now = now_us()
        self._last = now if now > self._last else self._last + 1
        return self._last

    def _reserve(self, n: int) -> int:
        """Reserve n consecutive date_added values; returns the one before the first."""
        first = self._tick()
        self._last = first + n - 1
        return first - 1

    def add(
        self, records: Sequence[Record], *, source_pk: int, collection_pks: Sequence[int] = ()
    ) -> BatchResult:
        result = BatchResult()
        if not records:
            return result
        store, conn = self._store, self._conn
        # Optimistic: insert every version not seen earlier in this batch with
        # "ignore on (id, version) conflict". New data, the common case, then
        # costs no lookup; only when some rows were ignored are they sorted
        # into duplicates and conflicts against what is stored.
        batch: dict[tuple[str, str], tuple[int, Record]] = {}
        rows: list[tuple[Any, ...]] = []
        repeats: list[Record] = []  # a version again with other bytes: decided last
        # One clock reading per batch: added = base, base + 1, ... stays unique,
        # increasing and not ahead of real time by more than the batch size in µs.
        added = self._reserve(len(records))
        for rec in records:
            # Unpacked, not read by attribute: batches from the parser process
            # arrive as plain tuples in Record's field order (see service/_prepare).
            rid, rtype, version, spec_version, revoked, data, _, _, tlp, created = rec
            key = (rid, version)
            first = batch.get(key)
            if first is not None:
                if first[1][5] == data:
                    result.duplicates += 1
                else:
                    repeats.append(rec)
                continue
            added += 1
            batch[key] = (added, rec)
            rows.append(
                (added, rid, rtype, version, spec_version, revoked, source_pk, data, tlp, created)
            )
        try:
            inserted = conn.exec_driver_sql(store._sql_insert_objects, rows).rowcount
            new = list(batch.values())
            if inserted != len(rows):
                new = self._sort_out(new, source_pk, collection_pks, result)
            result.stored = len(new)
            self.stored += len(new)
            store._mark_superseded(conn, list({rec[0] for _, rec in new}))
            obs_rows = [(value, added, kind) for added, rec in new for kind, value in rec[6]]
            if obs_rows:
                conn.exec_driver_sql(store._sql_insert_observables, obs_rows)
            # The console's free-text and reference indexes (migration 0008).
            texts, refs = index_rows((added, rec[5]) for added, rec in new)
            if texts:
                conn.exec_driver_sql(store._sql_insert_text, texts)
            if refs:
                conn.exec_driver_sql(store._sql_insert_refs, refs)
            members = [(cpk, added, added) for added, _ in new for cpk in collection_pks]
            if members:
                conn.exec_driver_sql(store._sql_insert_members, members)
            said = [(added, rec[5]) for added, rec in new if rec[1] in REMARK_TYPES]
            if said:
                self._remarks(said)
            if repeats:
                self._repeats(
                    repeats,
                    {(r[0], r[2]) for _, r in new},
                    batch,
                    result,
                    source_pk,
                    collection_pks,
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"writing a batch of {len(records)} objects failed: {exc}") from exc
        return result

    def _remarks(self, said: list[tuple[int, bytes]]) -> None:
        """Opinions, sightings and notes among the new versions: remarks and standings."""
        rules = self._store.standing_rules
        remarks: list[Remark] = []
        withdrawn: list[Remark] = []
        for added, data in said:
            got, gone = remarks_of(added, data, rules)
            remarks.extend(got)
            withdrawn.extend(gone)
        if remarks or withdrawn:
            self.standings_computed += apply_remarks(self._conn, remarks, withdrawn, rules)

    def _repeats(
        self,
        repeats: list[Record],
        stored: set[tuple[str, str]],
        batch: dict[tuple[str, str], tuple[int, Record]],
        result: BatchResult,
        source_pk: int,
        collection_pks: Sequence[int],
    ) -> None:
        """Versions a batch held twice with other bytes, once its first copies are decided.

        Where the first copy was stored, the repeat conflicts with it. Where the first
        was refused or was a duplicate, the stored version decides, as if the repeat
        had come alone: a peer's page of [other bytes, the bytes held here] stores
        the second as a duplicate, in the collection it was pulled into.
        """
        again: list[Record] = []
        for rec in repeats:
            key = (rec[0], rec[2])
            if key in stored:
                result.conflicts.append(Conflict(key[0], key[1], batch[key][0]))
            else:
                again.append(rec)
        if again:
            more = self.add(again, source_pk=source_pk, collection_pks=collection_pks)
            result.stored += more.stored
            result.duplicates += more.duplicates
            result.conflicts.extend(more.conflicts)

    def _sort_out(
        self,
        tried: list[tuple[int, Record]],
        source_pk: int,
        collection_pks: Sequence[int],
        result: BatchResult,
    ) -> list[tuple[int, Record]]:
        """Split the rows of an insert that ignored some: the new ones are returned."""
        store, conn, tick = self._store, self._conn, self._tick
        kept = store._present(conn, [added for added, _ in tried])
        new = [(added, rec) for added, rec in tried if added in kept]
        old = [Record._make(rec) for added, rec in tried if added not in kept]
        existing = store._existing(conn, {rec.id for rec in old})
        late_members: list[tuple[int, int, int]] = []
        extra_sources: list[tuple[int, int, int]] = []
        for rec in old:
            stored_added, stored_source, stored_data = existing[(rec.id, rec.version)]
            if stored_data != rec.data:
                result.conflicts.append(Conflict(rec.id, rec.version, stored_added))
                continue
            result.duplicates += 1
            if stored_source != source_pk:
                extra_sources.append((stored_added, source_pk, now_us()))
            for cpk in collection_pks:
                late_members.append((cpk, tick(), stored_added))
        if late_members:
            conn.exec_driver_sql(store._sql_insert_members_ignore, late_members)
        if extra_sources:
            conn.exec_driver_sql(store._sql_insert_provenance_ignore, extra_sources)
        return new


class SqlStore(
    LedgerStore,
    MemberStore,
    PageStore,
    PeerStore,
    AgreementStore,
    DraftStore,
    LookupStore,
    ConsoleStore,
    StandingStore,
    FeedStore,
    LimitStore,
    Store,
):
    """Shared SQLAlchemy implementation; subclasses give the dialect's statements."""

    _sql_insert_objects: str
    _sql_insert_observables: str
    _sql_insert_members: str
    _sql_insert_members_ignore: str
    _sql_insert_provenance_ignore: str
    _sql_insert_text: str
    _sql_insert_refs: str

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Reads of one statement each, on the hot paths of TAXII (who asks, what
        # they may see, a page): no transaction around them where the backend
        # would spend round trips on BEGIN and ROLLBACK (PostgreSQL sets it).
        self.reads: Engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self._written = 0
        self._analyze_at = 1_000
        # How standings weigh members (accord.standing.Rules); the node sets its own.
        self.standing_rules = Rules()

    # -- dialect hooks -------------------------------------------------------

    @abstractmethod
    def _write_connection(self) -> Iterator[Connection]:
        """Open a connection in a transaction that holds the single write lock."""

    @abstractmethod
    def _existing(
        self, conn: Connection, ids: set[str]
    ) -> dict[tuple[str, str], tuple[int, int, bytes]]:
        """Stored versions of these ids: (id, version) → (added, source_pk, data)."""

    @abstractmethod
    def _present(self, conn: Connection, added: list[int]) -> set[int]:
        """Which of these ``added`` keys exist in objects."""

    @abstractmethod
    def _versioned(self, conn: Connection, ids: list[str]) -> list[str]:
        """Which of these ids have more than one stored version."""

    def _mark_superseded(self, conn: Connection, ids: list[str]) -> None:
        """Set ``superseded`` on every version of these ids that a newer one follows.

        One index-only lookup per id finds the few with several versions;
        only those are updated (see migration 0004).
        """
        versioned = self._versioned(conn, ids)
        if not versioned:
            return
        o, newer = s.objects, s.objects.alias("newer")
        has_newer = exists().where(newer.c.id == o.c.id, newer.c.version > o.c.version)
        for start in range(0, len(versioned), 10_000):  # under every driver's parameter cap
            chunk = versioned[start : start + 10_000]
            conn.execute(
                update(o)
                .where(o.c.id.in_(chunk), o.c.superseded.is_(False), has_newer)
                .values(superseded=True)
            )

    @abstractmethod
    def _json_text(self, key: str) -> ColumnElement[Any]:
        """The top-level string property ``key`` of objects.data, as SQL text."""

    @abstractmethod
    def _has_label(self, label: str) -> ColumnElement[bool]:
        """objects.data carries ``label`` in its ``labels`` list."""

    def refresh_statistics(self) -> None:
        """Update the query planner's statistics after a bulk load.

        PostgreSQL plans TAXII pages from them: with the statistics of an empty
        table a page of a freshly imported collection took half a second instead
        of milliseconds (a hash join over the whole collection). SQLite's
        planner needs none for these queries.
        """

    @abstractmethod
    def database_bytes(self) -> int | None:
        """Size of the database on disk, where the backend can tell."""

    # -- writes --------------------------------------------------------------

    def _log_connection(self) -> Iterator[Connection]:
        # SQLite: the log shares the database's one write lock.
        return self._write_connection()

    def _limit_connection(self) -> Iterator[Connection]:
        # SQLite: a bucket's update takes the database's one write lock, briefly.
        return self._write_connection()

    def log_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the transparency log's append lock."""
        return contextmanager(self._log_connection)()

    def write_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the store's single write lock."""
        return contextmanager(self._write_connection)()

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        with contextmanager(self._write_connection)() as conn:
            writer = SqlWriter(self, conn)
            yield writer
        self._committed(writer.stored)

    def _committed(self, stored: int) -> None:
        """After a committed write of ``stored`` versions (every writer reports here).

        Refreshes the planner's statistics after 1k, 2k, 4k, ... versions
        written by this process: a handful of ANALYZEs however big the load,
        and never a plan made for an empty table. (At 10k, a collection of
        2,148 objects kept the empty table's plan until autovacuum came by:
        every page sorted the whole collection, 4.7 ms of the database's time
        against 0.3 ms.)
        """
        self._written += stored
        if self._written >= self._analyze_at:
            self.refresh_statistics()
            self._written = 0
            self._analyze_at *= 2

    def ensure_source(self, kind: str, name: str) -> int:
        t = s.sources
        with self.write_tx() as conn:
            pk = conn.execute(select(t.c.pk).where(t.c.kind == kind, t.c.name == name)).scalar()
            if pk is None:  # the write lock is held: nobody can make it meanwhile
                pk = conn.execute(
                    insert(t).values(kind=kind, name=name, created=now_us()).returning(t.c.pk)
                ).scalar_one()
            return int(pk)

    def create_collection(
        self, title: str, description: str = "", collection_id: str | None = None
    ) -> Collection:
        try:
            cid = str(uuid.UUID(collection_id)) if collection_id else str(uuid.uuid4())
        except ValueError as exc:
            raise StoreError(f"collection id {collection_id!r} is not a UUID") from exc
        t = s.collections
        created = now_us()
        with self.write_tx() as conn:
            clash = conn.execute(
                select(t.c.pk).where((t.c.id == cid) | (t.c.title == title))
            ).first()
            if clash is not None:
                raise StoreError(f"a collection with id {cid} or title {title!r} exists")
            pk = conn.execute(
                insert(t)
                .values(
                    id=cid,
                    title=title,
                    description=description,
                    created=created,
                    anonymous_read=False,
                )
                .returning(t.c.pk)
            ).scalar_one()
        return Collection(int(pk), cid, title, description, created, False)

    # -- reads ---------------------------------------------------------------

    def _collections(self, *where: ColumnElement[bool]) -> list[Collection]:
        t = s.collections
        with self.reads.connect() as conn:
            rows = conn.execute(select(t).where(*where).order_by(t.c.pk)).all()
        return [
            Collection(r.pk, r.id, r.title, r.description, r.created, bool(r.anonymous_read))
            for r in rows
        ]

    def collections(self) -> list[Collection]:
        return self._collections()

    def collection_grant(
        self, collection_id: str, member_pk: int | None
    ) -> tuple[Collection, Grant | None] | None:
        """One collection by id and the member's grant on it, in one query (the TAXII
        routes' first step); None when there is no such collection."""
        c, g = s.collections, s.grants
        stmt = select(c, g.c.can_read, g.c.can_write, g.c.can_lookup, g.c.member_pk)
        joined = c.outerjoin(g, and_(g.c.collection_pk == c.c.pk, g.c.member_pk == member_pk))
        with self.reads.connect() as conn:
            r = conn.execute(stmt.select_from(joined).where(c.c.id == collection_id)).first()
        if r is None:
            return None
        found = Collection(r.pk, r.id, r.title, r.description, r.created, bool(r.anonymous_read))
        if r.member_pk is None:
            return found, None
        grant = Grant(r.pk, r.member_pk, bool(r.can_read), bool(r.can_write), bool(r.can_lookup))
        return found, grant

    def collection(self, ref: str) -> Collection:
        t = s.collections
        # An id wins over a title that happens to equal another collection's id.
        found = sorted(
            self._collections((t.c.id == ref) | (t.c.title == ref)), key=lambda c: c.id != ref
        )
        if not found:
            raise UnknownCollection(ref)
        return found[0]

    def collection_sizes(self) -> dict[int, int]:
        t = s.collection_objects
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.collection_pk, func.count()).group_by(t.c.collection_pk)
            ).all()
        return {int(pk): int(n) for pk, n in rows}

    def _select(self, q: Query) -> Select[Any]:
        o = s.objects
        stmt = select(*s.stored_columns)
        if q.value is not None:
            ob = s.observables
            stmt = stmt.where(o.c.added.in_(select(ob.c.object_added).where(ob.c.value == q.value)))
        if q.collection_pk is not None:
            co = s.collection_objects
            stmt = stmt.where(
                o.c.added.in_(
                    select(co.c.object_added).where(co.c.collection_pk == q.collection_pk)
                )
            )
        if q.ids:
            stmt = stmt.where(o.c.id.in_(q.ids))
        if q.types:
            stmt = stmt.where(o.c.type.in_(q.types))
        if q.modified_since is not None:
            stmt = stmt.where(o.c.version >= q.modified_since)
        if q.modified_until is not None:
            stmt = stmt.where(o.c.version <= q.modified_until)
        if q.added_after is not None:
            stmt = stmt.where(o.c.added > q.added_after)
        if not q.all_versions:
            # "Current" is the latest version of each id (STIX 2.1 §3.6).
            newer = o.alias("newer")
            stmt = stmt.where(
                ~exists().where(and_(newer.c.id == o.c.id, newer.c.version > o.c.version))
            )
            if not q.include_revoked:
                stmt = stmt.where(o.c.revoked.is_(False))
        for label in q.labels:
            stmt = stmt.where(self._has_label(label))
        if q.text:
            needle = f"%{q.text.lower()}%"
            # Notes (content, abstract) and opinions (explanation) are found by their text too.
            stmt = stmt.where(
                or_(
                    *(
                        func.lower(self._json_text(key)).like(needle)
                        for key in ("name", "description", "content", "abstract", "explanation")
                    )
                )
            )
        stmt = stmt.order_by(o.c.added)
        if q.limit is not None:
            stmt = stmt.limit(q.limit)
        return stmt

    def query(self, query: Query) -> Iterator[StoredObject]:
        stmt = self._select(query)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=2000).execute(stmt)
            for r in result:
                yield StoredObject.from_row(r)

    def provenance(self, added: int) -> list[Provenance]:
        o, p, src = s.objects, s.provenance, s.sources
        with self.engine.connect() as conn:
            first = conn.execute(
                select(src.c.kind, src.c.name, o.c.added)
                .join(src, src.c.pk == o.c.source_pk)
                .where(o.c.added == added)
            ).all()
            more = conn.execute(
                select(src.c.kind, src.c.name, p.c.seen)
                .join(src, src.c.pk == p.c.source_pk)
                .where(p.c.object_added == added)
                .order_by(p.c.seen)
            ).all()
        return [Provenance(k, n, int(w)) for k, n, w in [*first, *more]]

    def stats(self) -> Stats:
        o = s.objects
        newer = o.alias("newer")
        current = ~exists().where(and_(newer.c.id == o.c.id, newer.c.version > o.c.version))
        with self.engine.connect() as conn:
            versions = conn.execute(select(func.count()).select_from(o)).scalar_one()
            by_type = conn.execute(
                select(o.c.type, func.count()).where(current).group_by(o.c.type)
            ).all()
            revoked = conn.execute(
                select(func.count()).select_from(o).where(current, o.c.revoked.is_(True))
            ).scalar_one()
            observables = conn.execute(select(func.count()).select_from(s.observables)).scalar_one()
            sources = conn.execute(select(func.count()).select_from(s.sources)).scalar_one()
        sizes = self.collection_sizes()
        counts = {c.title: sizes.get(c.pk, 0) for c in self.collections()}
        current_by_type = {str(t): int(n) for t, n in sorted(by_type)}
        return Stats(
            versions=int(versions),
            objects=sum(current_by_type.values()),
            current_by_type=current_by_type,
            revoked=int(revoked),
            observables=int(observables),
            sources=int(sources),
            collections=counts,
            database_bytes=self.database_bytes(),
        )

    def get_meta(self, key: str) -> str | None:
        t = s.node
        with self.engine.connect() as conn:
            value = conn.execute(select(t.c.value).where(t.c.key == key)).scalar()
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        t = s.node
        with self.write_tx() as conn:
            conn.execute(t.delete().where(t.c.key == key))
            conn.execute(insert(t).values(key=key, value=value))

    def close(self) -> None:
        self.engine.dispose()
