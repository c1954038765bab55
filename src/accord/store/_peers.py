"""Peers of the federation: their settings, pull cursors, push state and retractions.

A peer's token must be usable to call the peer, so it is stored; it is kept
sealed (the service seals it with a key derived from the node's identity key)
and the store never returns it with a peer's listing.

A pulled page is written in one `FederationTx`: the objects, the retractions
they carry and the peer's new cursor commit together, so a cursor never
covers a page that is not stored.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, or_, select, update

from accord.exceptions import StoreError, UnknownPeer
from accord.store import _schema as s
from accord.store._base import StoredObject, Writer
from accord.store._clock import now_us
from accord.store._ledger import Append, LedgerStore, event


@dataclass(frozen=True, slots=True)
class Peer:
    """A TAXII 2.1 server this node pulls from and/or pushes to (never its token)."""

    pk: int
    name: str
    url: str
    api_root: str
    collection: str | None  # the peer's collection pulled from
    into_pk: int | None  # our collection it lands in
    push_collection: str | None  # the peer's collection pushed to
    push_from: tuple[int, ...]  # our collections pushed
    username: str | None
    has_token: bool
    interval: int  # seconds between background syncs
    created: int
    pull_cursor: str | None
    last_pull: int | None
    last_push: int | None
    last_error: str | None
    last_error_at: int | None
    failures: int
    identity_id: str | None = None  # the STIX identity its opinions must carry


@dataclass(frozen=True, slots=True)
class PushFailure:
    """An object version a peer refused, and why."""

    object_id: str
    version: str
    message: str
    at: int


@dataclass(frozen=True, slots=True)
class Retraction:
    """An object retracted on this node (``local``) or by a peer, and what was purged."""

    object_id: str
    version: str
    origin_kind: str
    origin: str
    at: int
    purged: int


_PEER_COLUMNS = [c for c in s.peers.c if c.name != "token_sealed"]


class FederationTx:
    """One write transaction of a sync: objects, purges, cursors commit together."""

    def __init__(self, conn: Connection, writer: Writer, log: LedgerStore) -> None:
        self.conn = conn
        self.writer = writer
        self._log = log

    def append_log(self, items: Sequence[Append]) -> list[int]:
        """Append transparency-log entries in this transaction (they commit with it, or not)."""
        return self._log.append_log_in(self.conn, items)

    def add_receipt(self, peer: str, index: int, entry: bytes) -> None:
        """Keep the receipt of a page pulled (a page pulled again keeps its first receipt)."""
        t = s.receipts
        held = self.conn.execute(select(t.c.pk).where(t.c.peer == peer, t.c.idx == index))
        if held.first() is None:
            self.conn.execute(
                insert(t).values(
                    peer=peer,
                    idx=index,
                    entry=entry,
                    status="pending",
                    message="",
                    received=now_us(),
                    checked=None,
                )
            )

    def set_pull_cursor(self, peer_pk: int, cursor: str) -> None:
        """Save the peer's cursor (it commits with the page it covers)."""
        t = s.peers
        self.conn.execute(update(t).where(t.c.pk == peer_pk).values(pull_cursor=cursor))

    def sources_of(self, object_id: str) -> set[tuple[str, str]]:
        """Every (kind, name) source of any stored version of an object."""
        o, p, src = s.objects, s.provenance, s.sources
        first = select(src.c.kind, src.c.name).join(o, o.c.source_pk == src.c.pk)
        more = (
            select(src.c.kind, src.c.name)
            .join(p, p.c.source_pk == src.c.pk)
            .join(o, o.c.added == p.c.object_added)
        )
        rows = self.conn.execute(
            first.where(o.c.id == object_id).union(more.where(o.c.id == object_id))
        )
        return {(str(k), str(n)) for k, n in rows}

    def collections_of(self, object_id: str) -> set[int]:
        """The collections holding any version of an object."""
        o, co = s.objects, s.collection_objects
        rows = self.conn.execute(
            select(co.c.collection_pk)
            .distinct()
            .join(o, o.c.added == co.c.object_added)
            .where(o.c.id == object_id)
        )
        return {int(r[0]) for r in rows}

    def purge(self, object_id: str, keep_version: str) -> int:
        """Delete every version of an object but ``keep_version``; returns how many went."""
        o = s.objects
        gone = [
            int(a)
            for (a,) in self.conn.execute(
                select(o.c.added).where(o.c.id == object_id, o.c.version != keep_version)
            )
        ]
        if not gone:
            return 0
        for table, column in (
            (s.observables, s.observables.c.object_added),
            (s.object_refs, s.object_refs.c.object_added),
            (s.provenance, s.provenance.c.object_added),
            (s.collection_objects, s.collection_objects.c.object_added),
            (o, o.c.added),
        ):
            self.conn.execute(delete(table).where(column.in_(gone)))
        return len(gone)

    def any_retractions(self) -> bool:
        """Whether this node ever retracted anything (most never do: pages skip the check)."""
        return self.conn.execute(select(s.retractions.c.object_id).limit(1)).first() is not None

    def retracted_versions(self, ids: set[str]) -> dict[str, str]:
        """Of these object ids, those retracted here: id → the tombstone's version key."""
        t = s.retractions
        out: dict[str, str] = {}
        chunk = list(ids)
        for start in range(0, len(chunk), 500):
            rows = self.conn.execute(
                select(t.c.object_id, t.c.version).where(
                    t.c.object_id.in_(chunk[start : start + 500])
                )
            )
            out.update({str(i): str(v) for i, v in rows})
        return out

    def record_retraction(
        self, object_id: str, version: str, origin_kind: str, origin: str, purged: int
    ) -> None:
        """Remember that an object was retracted here (replacing an earlier record)."""
        t = s.retractions
        # The log names the object by the SHA-256 of its id (who holds the id can check).
        fields = {
            "object": hashlib.sha256(object_id.encode()).hexdigest(),
            "version": version,
            "origin": origin_kind,
        }
        self._log.append_log_in(self.conn, [event("retraction", fields)])
        self.conn.execute(delete(t).where(t.c.object_id == object_id))
        self.conn.execute(
            insert(t).values(
                object_id=object_id,
                version=version,
                origin_kind=origin_kind,
                origin=origin,
                at=now_us(),
                purged=purged,
            )
        )


def _peer(r: Any, push_from: tuple[int, ...]) -> Peer:
    return Peer(
        pk=r.pk,
        name=r.name,
        url=r.url,
        api_root=r.api_root,
        collection=r.collection,
        into_pk=r.into_pk,
        push_collection=r.push_collection,
        push_from=push_from,
        username=r.username,
        has_token=bool(r.has_token),
        interval=r.interval,
        created=r.created,
        pull_cursor=r.pull_cursor,
        last_pull=r.last_pull,
        last_push=r.last_push,
        last_error=r.last_error,
        last_error_at=r.last_error_at,
        failures=r.failures,
        identity_id=r.identity_id,
    )


class PeerStore(ABC):
    """Peers and their sync state on a SQLAlchemy engine (a mixin of SqlStore)."""

    engine: Engine
    _written: int
    _analyze_at: int

    @abstractmethod
    def write_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the store's single write lock (SqlStore gives it)."""

    @abstractmethod
    def append_log_in(self, conn: Connection, items: Sequence[Append]) -> list[int]:
        """Append to the transparency log inside ``conn``'s transaction (LedgerStore gives it)."""

    @abstractmethod
    def refresh_statistics(self) -> None:
        """Update the planner's statistics (SqlStore gives it)."""

    # -- peers ---------------------------------------------------------------

    def add_peer(
        self,
        name: str,
        *,
        url: str,
        api_root: str,
        collection: str | None,
        into_pk: int | None,
        push_collection: str | None,
        push_from: Sequence[int],
        username: str | None,
        token_sealed: bytes | None,
        interval: int,
        identity_id: str | None = None,
    ) -> Peer:
        """Add a peer; its name must be unused."""
        t = s.peers
        with self.write_tx() as conn:
            if conn.execute(select(t.c.pk).where(t.c.name == name)).first():
                raise StoreError(f"a peer named {name!r} exists")
            pk = conn.execute(
                insert(t)
                .values(
                    name=name,
                    url=url,
                    api_root=api_root,
                    collection=collection,
                    into_pk=into_pk,
                    push_collection=push_collection,
                    username=username,
                    token_sealed=token_sealed,
                    interval=interval,
                    created=now_us(),
                    failures=0,
                    identity_id=identity_id,
                )
                .returning(t.c.pk)
            ).scalar_one()
            for cpk in dict.fromkeys(push_from):
                conn.execute(insert(s.peer_push).values(peer_pk=pk, collection_pk=cpk, cursor=0))
            self.append_log_in(conn, [event("peer", {"action": "added"}, name)])
        return self.peer(name)

    def _peers(self, *where: Any) -> list[Peer]:
        t, pp = s.peers, s.peer_push
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_PEER_COLUMNS, t.c.token_sealed.is_not(None).label("has_token"))
                .where(*where)
                .order_by(t.c.pk)
            ).all()
            pushes = conn.execute(
                select(pp.c.peer_pk, pp.c.collection_pk).order_by(pp.c.collection_pk)
            ).all()
        by_peer: dict[int, list[int]] = {}
        for ppk, cpk in pushes:
            by_peer.setdefault(int(ppk), []).append(int(cpk))
        return [_peer(r, tuple(by_peer.get(r.pk, ()))) for r in rows]

    def peers(self) -> list[Peer]:
        """All peers, oldest first."""
        return self._peers()

    def peer(self, name: str) -> Peer:
        """The peer with this name (raises UnknownPeer)."""
        found = self._peers(s.peers.c.name == name)
        if not found:
            raise UnknownPeer(name)
        return found[0]

    def set_peer_identity(self, name: str, identity_id: str | None) -> Peer:
        """Bind a peer to the STIX identity its opinions must carry (None: unbind)."""
        peer = self.peer(name)
        with self.write_tx() as conn:
            conn.execute(
                update(s.peers).where(s.peers.c.pk == peer.pk).values(identity_id=identity_id)
            )
        return self.peer(name)

    def peer_token_sealed(self, peer_pk: int) -> bytes | None:
        """The sealed token of a peer, for the sync service only."""
        t = s.peers
        with self.engine.connect() as conn:
            value = conn.execute(select(t.c.token_sealed).where(t.c.pk == peer_pk)).scalar()
        return None if value is None else bytes(value)

    def remove_peer(self, name: str) -> None:
        """Forget a peer, its cursors and failures (what it delivered stays, with provenance)."""
        peer = self.peer(name)
        with self.write_tx() as conn:
            for table in (s.peer_push, s.push_failures):
                conn.execute(delete(table).where(table.c.peer_pk == peer.pk))
            conn.execute(delete(s.peers).where(s.peers.c.pk == peer.pk))
            self.append_log_in(conn, [event("peer", {"action": "removed"}, name)])

    def note_sync(
        self,
        peer_pk: int,
        *,
        error: str | None,
        pulled: bool = False,
        pushed: bool = False,
    ) -> None:
        """Record how a sync of the peer went: an error, or success (clears the error)."""
        t = s.peers
        now = now_us()
        values: dict[str, Any]
        if error is not None:
            values = {"last_error": error, "last_error_at": now, "failures": t.c.failures + 1}
        else:
            values = {"last_error": None, "failures": 0}
            if pulled:
                values["last_pull"] = now
            if pushed:
                values["last_push"] = now
        with self.write_tx() as conn:
            conn.execute(update(t).where(t.c.pk == peer_pk).values(**values))

    # -- pull ----------------------------------------------------------------

    @contextmanager
    def federation_tx(self) -> Iterator[FederationTx]:
        """A write transaction with the store's writer and the sync's own statements."""
        # Imported here: _sql imports this module to build SqlStore.
        from accord.store._sql import SqlStore, SqlWriter

        assert isinstance(self, SqlStore)
        with self.write_tx() as conn:
            writer = SqlWriter(self, conn)
            yield FederationTx(conn, writer, self)
        self._committed(writer.stored)

    # -- push ----------------------------------------------------------------

    def push_cursor(self, peer_pk: int, collection_pk: int) -> int:
        """collection_objects.added of the last version pushed from a collection."""
        pp = s.peer_push
        with self.engine.connect() as conn:
            value = conn.execute(
                select(pp.c.cursor).where(
                    pp.c.peer_pk == peer_pk, pp.c.collection_pk == collection_pk
                )
            ).scalar()
        return int(value or 0)

    def push_candidates(
        self, collection_pk: int, after: int, limit: int, peer_source_pk: int
    ) -> list[tuple[int, StoredObject, bool]]:
        """Versions that joined a collection after ``after``, in that order.

        Each comes as (membership added, version, delivered by the peer): the
        last flag says that ``peer_source_pk`` delivered this version, first or
        again, so the caller never sends an object back where it came from.
        """
        o, co, p = s.objects, s.collection_objects, s.provenance
        from_peer = (o.c.source_pk == peer_source_pk) | (
            select(p.c.object_added)
            .where(p.c.object_added == o.c.added, p.c.source_pk == peer_source_pk)
            .exists()
        )
        stmt = (
            select(co.c.added, *s.stored_columns, from_peer.label("from_peer"))
            .join(o, o.c.added == co.c.object_added)
            .where(co.c.collection_pk == collection_pk, co.c.added > after)
            .order_by(co.c.added)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [(int(r[0]), StoredObject.from_row(r[1:8]), bool(r[8])) for r in rows]

    def last_membership(self, collection_pk: int) -> int:
        """The latest collection_objects.added of a collection (0 when empty)."""
        co = s.collection_objects
        with self.engine.connect() as conn:
            value = conn.execute(
                select(co.c.added)
                .where(co.c.collection_pk == collection_pk)
                .order_by(co.c.added.desc())
                .limit(1)
            ).scalar()
        return int(value or 0)

    def save_push(
        self,
        peer_pk: int,
        collection_pk: int,
        cursor: int,
        failures: Sequence[tuple[str, str, str]],
        succeeded: Sequence[tuple[str, str]],
    ) -> None:
        """Advance a push cursor, keep the refused versions and forget the ones now accepted."""
        pp, pf = s.peer_push, s.push_failures
        now = now_us()
        with self.write_tx() as conn:
            conn.execute(
                update(pp)
                .where(pp.c.peer_pk == peer_pk, pp.c.collection_pk == collection_pk)
                .values(cursor=cursor)
            )
            keys = [*((i, v) for i, v, _ in failures), *succeeded]
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                conn.execute(
                    delete(pf).where(
                        pf.c.peer_pk == peer_pk,
                        or_(*((pf.c.object_id == i) & (pf.c.version == v) for i, v in chunk)),
                    )
                )
            if failures:
                conn.execute(
                    insert(pf),
                    [
                        {"peer_pk": peer_pk, "object_id": i, "version": v, "message": m, "at": now}
                        for i, v, m in failures
                    ],
                )

    def push_failures(self, peer_pk: int) -> list[PushFailure]:
        """The versions a peer refused, oldest first."""
        pf = s.push_failures
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(pf.c.object_id, pf.c.version, pf.c.message, pf.c.at)
                .where(pf.c.peer_pk == peer_pk)
                .order_by(pf.c.at, pf.c.object_id)
            ).all()
        return [PushFailure(str(i), str(v), str(m), int(a)) for i, v, m, a in rows]

    # -- retractions ---------------------------------------------------------

    def retractions(self) -> list[Retraction]:
        """Every retraction this node carried out, oldest first."""
        t = s.retractions
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.at)).all()
        return [
            Retraction(r.object_id, r.version, r.origin_kind, r.origin, r.at, r.purged)
            for r in rows
        ]
