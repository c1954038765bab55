"""What the transparency log needs from the store (a mixin of SqlStore).

Appends are serialised: on SQLite by the database's one write lock, on
PostgreSQL by an advisory lock of the log's own (so that a TAXII read
appending its entry never waits for an import holding the writers' lock). An
append inside another write transaction (a member created, an agreement put
in force) commits with it or not at all.

No statement here updates or deletes a row of ``log_entries`` or
``log_hashes``: the log is append-only by code, and a row changed by hand is
what ``accord log verify`` finds.
"""

from __future__ import annotations

import itertools
import secrets
import struct
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from accord.exceptions import LogTampered
from accord.ledger import Appender, Entry, HashReader, commitment, leaf_hash
from accord.store import _schema as s
from accord.store._clock import now_us


def pack_versions(added: Sequence[int]) -> bytes:
    """The ``added`` values of the versions an answer sent, as an opening keeps them.

    Deltas (the first from 0) as int64 big-endian, zlib-compressed: pages are read in
    ``date_added`` order, so the deltas repeat and a page of 1,000 versions takes a
    few hundred bytes instead of 8,000 (every TAXII page writes one).
    """
    deltas = [b - a for a, b in zip([0, *added], added, strict=False)]
    return zlib.compress(struct.pack(f">{len(deltas)}q", *deltas), 1)


def unpack_versions(data: bytes) -> tuple[int, ...]:
    """The inverse of `pack_versions`."""
    if not data:
        return ()
    raw = zlib.decompress(data)
    return tuple(itertools.accumulate(struct.unpack(f">{len(raw) // 8}q", raw)))


@dataclass(frozen=True, slots=True)
class Opening:
    """What the public log hides of a share entry."""

    recipient: str
    salt: bytes
    agreement: str | None
    versions: bytes  # the ``added`` values sent, `pack_versions`

    @property
    def added(self) -> tuple[int, ...]:
        """The ``added`` values of the versions sent."""
        return unpack_versions(self.versions)


@dataclass(frozen=True, slots=True)
class Append:
    """One entry to append: its canonical bytes, its type, its opening (shares only)."""

    entry: bytes
    type: str
    opening: Opening | None = None


@dataclass(frozen=True, slots=True)
class LoggedEntry:
    """A stored entry."""

    idx: int
    type: str
    entry: bytes
    recorded: int


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint this node signed: size, root and the signed note."""

    size: int
    root: bytes
    note: str
    signed: int


@dataclass(frozen=True, slots=True)
class Witnessed:
    """As a witness: the latest verified checkpoint of one log."""

    origin: str
    vkey: str
    peer: str | None
    size: int
    root: bytes
    note: str
    updated: int
    forked: bool


@dataclass(frozen=True, slots=True)
class Evidence:
    """Two signed checkpoints of one log that cannot both hold."""

    origin: str
    first: str
    second: str
    reason: str
    found: int


@dataclass(frozen=True, slots=True)
class Receipt:
    """A peer's log entry for something it sent us, and its check."""

    pk: int
    peer: str
    idx: int
    entry: bytes
    status: str
    message: str
    received: int
    checked: int | None


def event(type_: str, body: dict[str, Any], subject: str | None = None) -> Append:
    """A log entry for a change of the node's own state (members, tokens, peers, ...).

    Names of members and peers are confidential (who shares with whom): the entry
    carries a salted commitment to ``subject`` in its ``subject`` field, and the
    opening (name and salt) stays in ``log_openings`` for the owner and auditors.
    """
    fields = {"time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), **body}
    opening = None
    if subject is not None:
        salt = secrets.token_bytes(32)
        fields["subject"] = commitment(salt, subject)
        opening = Opening(subject, salt, None, b"")
    entry = Entry(type_, 1, fields)
    return Append(entry.canonical(), type_, opening)


class _ConnReader:
    """A HashReader on an open connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        if not indexes:
            return []
        t = s.log_hashes
        found: dict[int, bytes] = {}
        wanted = sorted(set(indexes))
        for start in range(0, len(wanted), 5000):
            chunk = wanted[start : start + 5000]
            rows = self._conn.execute(select(t.c.idx, t.c.hash).where(t.c.idx.in_(chunk)))
            found.update((int(i), bytes(h)) for i, h in rows)
        missing = [i for i in indexes if i not in found]
        if missing:
            raise LogTampered(None, f"stored hash {missing[0]} is missing")
        return [found[i] for i in indexes]


# Rows per INSERT of the log's tables (SQLite allows 32,766 parameters a statement).
_ROWS_PER_INSERT = 500


def _insert(conn: Connection, mark: str, into: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT rows with one multi-row VALUES a chunk: one round trip each.

    A TAXII page appends one entry (its leaf and the tree's new inner hashes, its
    opening): executemany would pipeline each row on PostgreSQL, a Python-side cost
    larger than the statement's.
    """
    for at in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[at : at + _ROWS_PER_INSERT]
        row = "(" + ", ".join([mark] * len(chunk[0])) + ")"
        params = tuple(value for r in chunk for value in r)
        conn.exec_driver_sql(f"INSERT INTO {into} VALUES {', '.join([row] * len(chunk))}", params)


class LedgerStore(ABC):
    """The log's tables on a SQLAlchemy engine."""

    engine: Engine

    @abstractmethod
    def write_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the store's single write lock (SqlStore gives it)."""

    @abstractmethod
    def log_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the log's append lock (SqlStore gives it)."""

    def lock_log(self, conn: Connection) -> None:  # noqa: B027 (a no-op unless overridden)
        """Take the log's append lock inside a transaction opened otherwise.

        A no-op on SQLite, whose write transactions hold the database's one lock.
        """

    # -- appending ---------------------------------------------------------------------

    # The driver's parameter mark ("?" on SQLite, "%s" on PostgreSQL): the append runs on
    # every TAXII page, where SQLAlchemy's statement handling cost more than the writes.
    _mark = "?"
    # After a committed append of this process: (size, the right edge's stored hashes).
    _log_edge: tuple[int, dict[int, bytes]] | None = None

    def append_log(self, items: Sequence[Append]) -> list[int]:
        """Append entries in one transaction of their own; their indexes."""
        with self.log_tx() as conn:
            indexes, edge = self._append(conn, items, locked=True)
        self._log_edge = edge  # committed: the next append may start from it
        return indexes

    def append_log_in(self, conn: Connection, items: Sequence[Append]) -> list[int]:
        """Append entries inside an open write transaction (it commits them, or nobody)."""
        self._log_edge = None  # the outer transaction may still roll back
        return self._append(conn, items)[0]

    def _edge(self, conn: Connection, size: int) -> dict[int, bytes]:
        """The stored hashes of the tree's right edge, from the cache when it still holds.

        The cache is set only after our own append committed, and dropped by an append
        inside a transaction that may roll back. Sizes only grow, so a log that still
        has the size of our last commit has had nothing appended since, by any process.
        """
        cached = self._log_edge
        if cached is not None and cached[0] == size:
            return dict(cached[1])
        indexes = Appender.edge_indexes(size)
        return dict(zip(indexes, _ConnReader(conn).read_hashes(indexes), strict=True))

    def _append(
        self, conn: Connection, items: Sequence[Append], *, locked: bool = False
    ) -> tuple[list[int], tuple[int, dict[int, bytes]] | None]:
        if not items:
            return [], self._log_edge
        if not locked:  # log_tx() holds the lock already; a writer's transaction does not
            self.lock_log(conn)
        row = conn.exec_driver_sql("SELECT max(idx) FROM log_entries").first()
        size = 0 if row is None or row[0] is None else int(row[0]) + 1
        appender = Appender(size, self._edge(conn, size))
        now = now_us()
        entries: list[tuple[Any, ...]] = []
        hashes: list[tuple[int, bytes]] = []
        openings: list[tuple[Any, ...]] = []
        for i, item in enumerate(items):
            idx = size + i
            entries.append((idx, item.type, item.entry, now))
            hashes += appender.append(leaf_hash(item.entry))
            o = item.opening
            if o is not None:
                openings.append((idx, o.recipient, o.salt, o.agreement, o.versions))
        m = self._mark
        _insert(conn, m, "log_entries (idx, type, entry, recorded)", entries)
        _insert(conn, m, "log_hashes (idx, hash)", hashes)
        _insert(conn, m, "log_openings (idx, recipient, salt, agreement, versions)", openings)
        return list(range(size, size + len(items))), (appender.size, appender.edge())

    # -- reading -----------------------------------------------------------------------

    def _log_size(self, conn: Connection) -> int:
        last = conn.execute(select(func.max(s.log_entries.c.idx))).scalar()
        return 0 if last is None else int(last) + 1

    def log_size(self) -> int:
        """How many entries the log holds."""
        with self.engine.connect() as conn:
            return self._log_size(conn)

    @contextmanager
    def log_reader(self) -> Iterator[HashReader]:
        """A HashReader on a connection of its own, for a ``with`` block."""
        with self.engine.connect() as conn:
            yield _ConnReader(conn)

    def read_log_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Stored hashes by stored index."""
        with self.engine.connect() as conn:
            return _ConnReader(conn).read_hashes(indexes)

    def log_entries(self, start: int, end: int) -> list[LoggedEntry]:
        """Entries [start, end), in order."""
        t = s.log_entries
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.idx, t.c.type, t.c.entry, t.c.recorded)
                .where(t.c.idx >= start, t.c.idx < end)
                .order_by(t.c.idx)
            ).all()
        return [LoggedEntry(int(i), str(ty), bytes(e), int(r)) for i, ty, e, r in rows]

    def iter_log(self, start: int = 0, chunk: int = 10_000) -> Iterator[LoggedEntry]:
        """Every entry from ``start`` on, read in chunks."""
        while True:
            rows = self.log_entries(start, start + chunk)
            yield from rows
            if len(rows) < chunk:
                return
            start += chunk

    def iter_log_hashes(self, start: int = 0, chunk: int = 20_000) -> Iterator[tuple[int, bytes]]:
        """Every stored hash from stored index ``start`` on, in order."""
        t = s.log_hashes
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(t.c.idx, t.c.hash).where(t.c.idx >= start).order_by(t.c.idx).limit(chunk)
                ).all()
            yield from ((int(i), bytes(h)) for i, h in rows)
            if len(rows) < chunk:
                return
            start = int(rows[-1][0]) + 1

    def log_openings(
        self, recipient: str | None = None, since: int | None = None
    ) -> list[tuple[LoggedEntry, Opening]]:
        """Share entries with their openings (of one recipient; recorded at or after ``since``)."""
        e, o = s.log_entries, s.log_openings
        q = (
            select(e.c.idx, e.c.type, e.c.entry, e.c.recorded, o)
            .join(o, o.c.idx == e.c.idx)
            .order_by(e.c.idx)
        )
        if recipient is not None:
            q = q.where(o.c.recipient == recipient)
        if since is not None:
            q = q.where(e.c.recorded >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            (
                LoggedEntry(int(r.idx), str(r.type), bytes(r.entry), int(r.recorded)),
                Opening(str(r.recipient), bytes(r.salt), r.agreement, bytes(r.versions)),
            )
            for r in rows
        ]

    # -- checkpoints and cosignatures --------------------------------------------------

    def save_checkpoint(self, size: int, root: bytes, note: str) -> None:
        """Keep a checkpoint this node signed (a second one of the same size is ignored)."""
        t = s.log_checkpoints
        with self.log_tx() as conn:
            if conn.execute(select(t.c.size).where(t.c.size == size)).first() is None:
                conn.execute(insert(t).values(size=size, root=root, note=note, signed=now_us()))

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        """The newest (largest) checkpoint this node signed."""
        t = s.log_checkpoints
        with self.engine.connect() as conn:
            r = conn.execute(select(t).order_by(t.c.size.desc()).limit(1)).first()
        return None if r is None else SignedCheckpoint(r.size, bytes(r.root), r.note, r.signed)

    def checkpoint_note(self, size: int) -> str | None:
        """The signed note of our checkpoint of ``size``, if we signed one."""
        t = s.log_checkpoints
        with self.engine.connect() as conn:
            note = conn.execute(select(t.c.note).where(t.c.size == size)).scalar()
        return None if note is None else str(note)

    def checkpoints(self) -> list[SignedCheckpoint]:
        """Every checkpoint this node signed, by size."""
        t = s.log_checkpoints
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.size)).all()
        return [SignedCheckpoint(r.size, bytes(r.root), r.note, r.signed) for r in rows]

    def add_cosignature(self, size: int, witness: str, line: str, timestamp: int) -> None:
        """Keep a witness's cosignature of our checkpoint of ``size`` (its latest replaces)."""
        t = s.log_cosignatures
        with self.log_tx() as conn:
            conn.execute(delete(t).where(t.c.size == size, t.c.witness == witness))
            conn.execute(
                insert(t).values(size=size, witness=witness, line=line, timestamp=timestamp)
            )

    def cosignatures(self, size: int) -> list[tuple[str, str, int]]:
        """(witness, line, timestamp) of the cosignatures of our checkpoint of ``size``."""
        t = s.log_cosignatures
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.witness, t.c.line, t.c.timestamp)
                .where(t.c.size == size)
                .order_by(t.c.witness)
            ).all()
        return [(str(w), str(line), int(ts)) for w, line, ts in rows]

    # -- as a witness ------------------------------------------------------------------

    def witnessed(self, origin: str | None = None) -> list[Witnessed]:
        """The logs this node witnesses (or the one of ``origin``)."""
        t = s.witnessed
        q = select(t).order_by(t.c.origin)
        if origin is not None:
            q = q.where(t.c.origin == origin)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            Witnessed(
                r.origin, r.vkey, r.peer, r.size, bytes(r.root), r.note, r.updated, bool(r.forked)
            )
            for r in rows
        ]

    def advance_witnessed(
        self, origin: str, vkey: str, peer: str | None, old: int, size: int, root: bytes, note: str
    ) -> int | None:
        """Record a newer verified checkpoint, if the one on record is still of size ``old``.

        The check and the update are one transaction under the log lock
        (tlog-witness: else two submissions could roll the witness back).

        Returns:
            None when recorded; else the size on record (the caller answers 409).
        """
        t = s.witnessed
        with self.log_tx() as conn:
            r = conn.execute(select(t.c.size, t.c.forked).where(t.c.origin == origin)).first()
            held = 0 if r is None else int(r.size)
            if held != old:
                return held
            values = {"vkey": vkey, "peer": peer, "size": size, "root": root, "note": note}
            values["updated"] = now_us()
            if r is None:
                conn.execute(insert(t).values(origin=origin, forked=False, **values))
            else:
                conn.execute(update(t).where(t.c.origin == origin).values(**values))
        return None

    def record_fork(self, origin: str, first: str, second: str, reason: str) -> None:
        """Keep two inconsistent signed checkpoints as evidence, and stop cosigning the log."""
        with self.log_tx() as conn:
            conn.execute(
                insert(s.witness_evidence).values(
                    origin=origin, first=first, second=second, reason=reason, found=now_us()
                )
            )
            conn.execute(
                update(s.witnessed).where(s.witnessed.c.origin == origin).values(forked=True)
            )

    def evidence(self, origin: str | None = None) -> list[Evidence]:
        """Forks seen, oldest first."""
        t = s.witness_evidence
        q = select(t).order_by(t.c.pk)
        if origin is not None:
            q = q.where(t.c.origin == origin)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [Evidence(r.origin, r.first, r.second, r.reason, r.found) for r in rows]

    # -- receipts ----------------------------------------------------------------------

    def add_receipts(self, peer: str, entries: Sequence[tuple[int, bytes]]) -> int:
        """Keep receipts of a peer (a receipt already held is not added again); how many new."""
        if not entries:
            return 0
        t = s.receipts
        now = now_us()
        with self.write_tx() as conn:
            held = {
                int(i)
                for (i,) in conn.execute(
                    select(t.c.idx).where(t.c.peer == peer, t.c.idx.in_([i for i, _ in entries]))
                )
            }
            fresh = [
                {
                    "peer": peer,
                    "idx": i,
                    "entry": e,
                    "status": "pending",
                    "message": "",
                    "received": now,
                    "checked": None,
                }
                for i, e in dict(entries).items()
                if i not in held
            ]
            if fresh:
                conn.execute(insert(t), fresh)
        return len(fresh)

    def receipts(self, peer: str | None = None, status: str | None = None) -> list[Receipt]:
        """Receipts, oldest first."""
        t = s.receipts
        q = select(t).order_by(t.c.pk)
        if peer is not None:
            q = q.where(t.c.peer == peer)
        if status is not None:
            q = q.where(t.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            Receipt(r.pk, r.peer, r.idx, bytes(r.entry), r.status, r.message, r.received, r.checked)
            for r in rows
        ]

    def set_receipts(self, results: Sequence[tuple[int, str, str]]) -> None:
        """Record checks: (receipt pk, status, message)."""
        if not results:
            return
        t = s.receipts
        now = now_us()
        with self.write_tx() as conn:
            for pk, status, message in results:
                conn.execute(
                    update(t)
                    .where(t.c.pk == pk)
                    .values(status=status, message=message, checked=now)
                )
