"""What the private lookup keeps: epoch keys, the filter offered to each member, quotas.

An epoch's seed is kept sealed with the node's key (as peer tokens are) and
set to NULL when the epoch ends; its filters go with it. What stays is the
public key and the answered batches, each with its count (never a value:
the holder never sees one).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, select, update

from accord.store import _schema as s
from accord.store._clock import now_us


@dataclass(frozen=True, slots=True)
class LookupEpoch:
    """One key of one collection's lookup (times in seconds since the Unix epoch)."""

    pk: int
    collection_pk: int
    epoch: int
    not_before: int
    not_after: int
    seed_sealed: bytes | None  # None: the epoch ended and its key is deleted
    public_key: bytes


@dataclass(frozen=True, slots=True)
class LookupOffer:
    """The filter made for one member in one epoch (without its bytes)."""

    epoch_pk: int
    member_pk: int
    filter_digest: str
    context_digest: str | None
    size_class: int
    fpr: float
    values: int
    log_index: int | None
    used: int
    salt: bytes | None = None  # of the member's commitment in the log entry


@dataclass(frozen=True, slots=True)
class LookupBatch:
    """One answered evaluation request: who, when, how many elements."""

    epoch_pk: int
    member_pk: int
    count: int
    at: int


def _epoch(r: Any) -> LookupEpoch:
    return LookupEpoch(
        r.pk,
        r.collection_pk,
        r.epoch,
        r.not_before,
        r.not_after,
        None if r.seed_sealed is None else bytes(r.seed_sealed),
        bytes(r.public_key),
    )


def _offer(r: Any) -> LookupOffer:
    return LookupOffer(
        r.epoch_pk,
        r.member_pk,
        r.filter_digest,
        r.context_digest,
        r.size_class,
        float(r.fpr),
        r.values,
        r.log_index,
        r.used,
        None if r.salt is None else bytes(r.salt),
    )


_OFFER_COLUMNS = [c for c in s.lookup_offers.c if c.name not in ("filter", "context", "created")]


class LookupStore(ABC):
    """Epoch keys, offers, quotas and answered batches (a mixin of SqlStore)."""

    engine: Engine

    @abstractmethod
    def write_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the store's single write lock (SqlStore gives it)."""

    def lookup_epoch(self, collection_pk: int, epoch: int) -> LookupEpoch | None:
        """The key of one collection's epoch, or None."""
        t = s.lookup_epochs
        with self.engine.connect() as conn:
            r = conn.execute(
                select(t).where(t.c.collection_pk == collection_pk, t.c.epoch == epoch)
            ).first()
        return None if r is None else _epoch(r)

    def lookup_epochs(self, collection_pk: int | None = None) -> list[LookupEpoch]:
        """Every epoch kept (ended ones too), newest first."""
        t = s.lookup_epochs
        stmt = select(t).order_by(t.c.epoch.desc(), t.c.pk)
        if collection_pk is not None:
            stmt = stmt.where(t.c.collection_pk == collection_pk)
        with self.engine.connect() as conn:
            return [_epoch(r) for r in conn.execute(stmt).all()]

    def create_lookup_epoch(
        self,
        collection_pk: int,
        epoch: int,
        not_before: int,
        not_after: int,
        seed_sealed: bytes,
        public_key: bytes,
    ) -> LookupEpoch:
        """Add an epoch's key; where one exists (another process made it), that one."""
        t = s.lookup_epochs
        with self.write_tx() as conn:
            r = conn.execute(
                select(t).where(t.c.collection_pk == collection_pk, t.c.epoch == epoch)
            ).first()
            if r is not None:
                return _epoch(r)
            conn.execute(
                insert(t).values(
                    collection_pk=collection_pk,
                    epoch=epoch,
                    not_before=not_before,
                    not_after=not_after,
                    seed_sealed=seed_sealed,
                    public_key=public_key,
                    created=now_us(),
                )
            )
            r = conn.execute(
                select(t).where(t.c.collection_pk == collection_pk, t.c.epoch == epoch)
            ).one()
        return _epoch(r)

    def save_lookup_offer(
        self,
        epoch_pk: int,
        member_pk: int,
        *,
        filter_bytes: bytes,
        filter_digest: str,
        context: bytes | None,
        context_digest: str | None,
        size_class: int,
        fpr: float,
        values: int,
    ) -> None:
        """Keep (or replace) the filter offered to a member; its quota used stays."""
        t = s.lookup_offers
        fields = {
            "filter": filter_bytes,
            "filter_digest": filter_digest,
            "context": context,
            "context_digest": context_digest,
            "size_class": size_class,
            "fpr": fpr,
            "values": values,
            "log_index": None,
            "created": now_us(),
        }
        key = and_(t.c.epoch_pk == epoch_pk, t.c.member_pk == member_pk)
        with self.write_tx() as conn:
            if conn.execute(update(t).where(key).values(**fields)).rowcount == 0:
                conn.execute(insert(t).values(epoch_pk=epoch_pk, member_pk=member_pk, **fields))

    def set_lookup_log_index(self, epoch_pk: int, member_pk: int, index: int, salt: bytes) -> None:
        """Record where the offer's announcement sits in the transparency log, and its salt."""
        t = s.lookup_offers
        with self.write_tx() as conn:
            conn.execute(
                update(t)
                .where(t.c.epoch_pk == epoch_pk, t.c.member_pk == member_pk)
                .values(log_index=index, salt=salt)
            )

    def lookup_log_entries(self, after: int = -1) -> list[tuple[int, bytes]]:
        """``(index, entry bytes)`` of every ``lookup-epoch`` entry of the transparency log."""
        t = s.log_entries
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.idx, t.c.entry)
                .where(t.c.type == "lookup-epoch", t.c.idx > after)
                .order_by(t.c.idx)
            ).all()
        return [(int(r.idx), bytes(r.entry)) for r in rows]

    def lookup_offer(self, epoch_pk: int, member_pk: int) -> LookupOffer | None:
        """The offer made to a member in an epoch, or None."""
        t = s.lookup_offers
        with self.engine.connect() as conn:
            r = conn.execute(
                select(*_OFFER_COLUMNS).where(t.c.epoch_pk == epoch_pk, t.c.member_pk == member_pk)
            ).first()
        return None if r is None else _offer(r)

    def lookup_offers(self, member_pk: int) -> list[tuple[LookupEpoch, LookupOffer]]:
        """A member's offers whose epoch still has its key, newest epoch first."""
        o, e = s.lookup_offers, s.lookup_epochs
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_OFFER_COLUMNS, *[c.label(f"e_{c.name}") for c in e.c])
                .join(e, e.c.pk == o.c.epoch_pk)
                .where(o.c.member_pk == member_pk, e.c.seed_sealed.is_not(None))
                .order_by(e.c.epoch.desc())
            ).all()
        out = []
        for r in rows:
            ep = LookupEpoch(
                r.e_pk,
                r.e_collection_pk,
                r.e_epoch,
                r.e_not_before,
                r.e_not_after,
                None if r.e_seed_sealed is None else bytes(r.e_seed_sealed),
                bytes(r.e_public_key),
            )
            out.append((ep, _offer(r)))
        return out

    def lookup_blob(self, epoch_pk: int, member_pk: int, which: str) -> bytes | None:
        """The bytes of an offer's ``filter`` or ``context``, or None."""
        t = s.lookup_offers
        column = t.c.filter if which == "filter" else t.c.context
        with self.engine.connect() as conn:
            r = conn.execute(
                select(column).where(t.c.epoch_pk == epoch_pk, t.c.member_pk == member_pk)
            ).first()
        return None if r is None or r[0] is None else bytes(r[0])

    def take_lookup_quota(
        self, epoch_pk: int, member_pk: int, count: int, quota: int
    ) -> int | None:
        """Count ``count`` evaluations against the quota, and log the batch, at once.

        One conditional UPDATE: concurrent batches (several API workers, one
        PostgreSQL) can never together go over the quota.

        Returns:
            The evaluations used after this batch, or None (over quota: nothing counted).
        """
        t = s.lookup_offers
        with self.write_tx() as conn:
            done = conn.execute(
                update(t)
                .where(
                    t.c.epoch_pk == epoch_pk,
                    t.c.member_pk == member_pk,
                    t.c.used + count <= quota,
                )
                .values(used=t.c.used + count)
            ).rowcount
            if done != 1:
                return None
            conn.execute(
                insert(s.lookup_batches).values(
                    epoch_pk=epoch_pk, member_pk=member_pk, count=count, at=now_us()
                )
            )
            used = conn.execute(
                select(t.c.used).where(t.c.epoch_pk == epoch_pk, t.c.member_pk == member_pk)
            ).scalar_one()
        return int(used)

    def lookup_batches(self, member_pk: int | None = None) -> list[LookupBatch]:
        """The answered batches, oldest first."""
        t = s.lookup_batches
        stmt = select(t).order_by(t.c.pk)
        if member_pk is not None:
            stmt = stmt.where(t.c.member_pk == member_pk)
        with self.engine.connect() as conn:
            return [
                LookupBatch(r.epoch_pk, r.member_pk, r._mapping["count"], r.at)
                for r in conn.execute(stmt).all()
            ]

    def end_lookup_epochs(self, now: int) -> list[LookupEpoch]:
        """Delete the keys and filters of every epoch whose ``not_after`` has passed.

        Returns:
            The epochs ended by this call.
        """
        t, o = s.lookup_epochs, s.lookup_offers
        with self.write_tx() as conn:
            rows = conn.execute(
                select(t).where(t.c.not_after <= now, t.c.seed_sealed.is_not(None))
            ).all()
            pks = [r.pk for r in rows]
            if pks:
                conn.execute(delete(o).where(o.c.epoch_pk.in_(pks)))
                conn.execute(update(t).where(t.c.pk.in_(pks)).values(seed_sealed=None))
        return [_epoch(r) for r in rows]
