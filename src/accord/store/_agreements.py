"""What sharing agreements need from the store: members' jurisdictions, the
agreement log, and the origin (peer, member) of stored versions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, insert, select, update

from accord.exceptions import UnknownMember
from accord.store import _schema as s
from accord.store._clock import now_us
from accord.store._ledger import Append, event


@dataclass(frozen=True, slots=True)
class AgreementEvent:
    """One entry of the agreement log.

    Attributes:
        name: the agreement.
        source: the file it was read from.
        action: added, changed, removed or invalid.
        digest: SHA-256 of the file's bytes.
        body: the file's text (what was in force from ``recorded`` on).
        message: why an invalid version was refused.
        recorded: when, in microseconds since the epoch.
    """

    name: str
    source: str
    action: str
    digest: str
    body: str
    message: str
    recorded: int


class AgreementStore(ABC):
    """Jurisdictions, the agreement log and origins (a mixin of SqlStore)."""

    engine: Engine

    @abstractmethod
    def write_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the store's single write lock (SqlStore gives it)."""

    @abstractmethod
    def append_log_in(self, conn: Connection, items: Sequence[Append]) -> list[int]:
        """Append to the transparency log inside ``conn``'s transaction (LedgerStore gives it)."""

    def set_jurisdiction(self, member_name: str, jurisdiction: str | None) -> None:
        """Declare a member's jurisdiction (``None``: none declared).

        Raises:
            UnknownMember: no member has that name.
        """
        t = s.members
        with self.write_tx() as conn:
            done = conn.execute(
                update(t).where(t.c.name == member_name).values(jurisdiction=jurisdiction)
            ).rowcount
        if not done:
            raise UnknownMember(member_name)

    def jurisdictions(self) -> dict[str, str | None]:
        """Every member's declared jurisdiction, by member name."""
        t = s.members
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.name, t.c.jurisdiction)).all()
        return {str(n): (None if j is None else str(j)) for n, j in rows}

    def record_agreements(self, events: Sequence[AgreementEvent]) -> int:
        """Append events to the agreement log, in one transaction; how many were new.

        An event that repeats the last entry of its source (the same action and
        digest) is not appended: several processes serving one node (API workers)
        each notice a changed file, and the first to write records it. The check
        runs inside the write transaction, which one process holds at a time.
        """
        if not events:
            return 0
        t = s.agreement_log
        with self.write_tx() as conn:
            last = select(func.max(t.c.pk)).group_by(t.c.source).scalar_subquery()
            latest = {
                str(src): (str(action), str(digest))
                for src, action, digest in conn.execute(
                    select(t.c.source, t.c.action, t.c.digest).where(t.c.pk.in_(last))
                )
            }
            fresh = []
            for e in events:
                if latest.get(e.source) == (e.action, e.digest):
                    continue
                latest[e.source] = (e.action, e.digest)
                fresh.append(e)
            if fresh:
                conn.execute(
                    insert(t),
                    [
                        {
                            "name": e.name,
                            "source": e.source,
                            "action": e.action,
                            "digest": e.digest,
                            "body": e.body,
                            "message": e.message,
                            "recorded": e.recorded or now_us(),
                        }
                        for e in fresh
                    ],
                )
                # Each version put in force (or refused, or removed) by its hash; the
                # agreement's name stays out of the public log, like a member's.
                logged = [
                    event("agreement", {"action": e.action, "digest": e.digest}, e.name)
                    for e in fresh
                ]
                self.append_log_in(conn, logged)
        return len(fresh)

    def agreement_log(self, name: str | None = None) -> list[AgreementEvent]:
        """The log, oldest first (of one agreement, or of all)."""
        t = s.agreement_log
        stmt = select(
            t.c.name, t.c.source, t.c.action, t.c.digest, t.c.body, t.c.message, t.c.recorded
        ).order_by(t.c.pk)
        if name is not None:
            stmt = stmt.where(t.c.name == name)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [AgreementEvent(*r) for r in rows]

    def latest_agreements(self) -> dict[str, AgreementEvent]:
        """The last log entry of each agreement source (file), by source."""
        t = s.agreement_log
        last = select(func.max(t.c.pk)).group_by(t.c.source).scalar_subquery()
        stmt = select(
            t.c.name, t.c.source, t.c.action, t.c.digest, t.c.body, t.c.message, t.c.recorded
        ).where(t.c.pk.in_(last))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return {str(r[1]): AgreementEvent(*r) for r in rows}

    def origins(self, added: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
        """Every source (kind, name) of these versions: the first one, then later ones."""
        if not added:
            return {}
        o, p, src = s.objects, s.provenance, s.sources
        keys = list(set(added))
        out: dict[int, list[tuple[str, str]]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 900):  # stay under SQLite's parameter limit
                chunk = keys[i : i + 900]
                first = conn.execute(
                    select(o.c.added, src.c.kind, src.c.name)
                    .join(src, src.c.pk == o.c.source_pk)
                    .where(o.c.added.in_(chunk))
                ).all()
                more = conn.execute(
                    select(p.c.object_added, src.c.kind, src.c.name)
                    .join(src, src.c.pk == p.c.source_pk)
                    .where(p.c.object_added.in_(chunk))
                    .order_by(p.c.seen)
                ).all()
                for a, kind, name in [*first, *more]:
                    out.setdefault(int(a), []).append((str(kind), str(name)))
        return out

    def source_kinds(self) -> set[str]:
        """The kinds of source the store has (file, stdin, taxii, peer, ...)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.sources.c.kind).distinct()).all()
        return {str(k) for (k,) in rows}

    def marking_definitions(self) -> list[tuple[str, bytes]]:
        """(id, JSON bytes) of every stored marking-definition version."""
        o = s.objects
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(o.c.id, o.c.data).where(o.c.type == "marking-definition")
            ).all()
        return [(str(i), bytes(d)) for i, d in rows]
