"""Shared token buckets, request leases and members' own limits (migration 0014).

Every worker process of a node over PostgreSQL spends the same buckets: each
`take_tokens` is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING``
statement, which the database runs under the row's lock, so that two workers
can never both spend the last token. The statement is the comparison of
`accord.limits.take` written in SQL: a row comes back when the tokens were
spent, none when they were not (then one more read gives the Retry-After).

Concurrent requests are leases, one row each with an expiry: a worker killed
with kill -9 never releases its leases, and they lapse at ``expires``. Taking
one is counted and inserted under a lock on the key (a transaction-level
advisory lock on PostgreSQL; SQLite's write lock), so the count holds.

None of this takes the store's write lock on PostgreSQL: a request's limits
never wait for an import.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, insert, select

from accord.store import _schema as s


@dataclass(frozen=True, slots=True)
class MemberLimits:
    """One member's own limits; None: the node's setting."""

    member_pk: int
    requests_per_second: float | None = None
    burst: int | None = None
    objects_per_day: int | None = None
    concurrent: int | None = None


class LimitStore(ABC):
    """Token buckets, leases and members' limits on a SQLAlchemy engine (a mixin of SqlStore)."""

    engine: Engine
    _mark: str = "?"  # the driver's parameter marker
    _greatest: str = "max"  # SQLite's two-argument max; PostgreSQL's GREATEST

    @abstractmethod
    def _limit_connection(self) -> Iterator[Connection]:
        """A short transaction for a bucket or a lease (SQLite: its write lock).

        Raises:
            StoreError: the database failed.
        """

    def _lock_key(self, conn: Connection, key: str) -> None:
        """Serialise the lease takers of one key (SQLite: its write lock does)."""
        return None

    def _limit_tx(self) -> AbstractContextManager[Connection]:
        return contextmanager(self._limit_connection)()

    def take_tokens(
        self, key: str, now: int, cost: int, interval: int, tolerance: int
    ) -> int | None:
        """Spend ``cost`` tokens of bucket ``key``: its new tat, or None if refused.

        The caller has checked ``cost * interval <= tolerance`` (a fresh bucket
        always has room then). Arguments are microseconds, as `accord.limits.Rate`.

        Raises:
            StoreError: the database failed.
        """
        with self._limit_tx() as conn:
            return self._spend_in(conn, key, now, cost, interval, tolerance)

    def _spend_in(
        self, conn: Connection, key: str, now: int, cost: int, interval: int, tolerance: int
    ) -> int | None:
        m, g = self._mark, self._greatest
        sql = (
            f"INSERT INTO rate_buckets (name, tat) VALUES ({m}, {m})"
            f" ON CONFLICT (name) DO UPDATE SET tat = {g}(rate_buckets.tat, {m}) + {m}"
            f" WHERE {g}(rate_buckets.tat, {m}) + {m} - {m} <= {m}"
            " RETURNING tat"
        )
        spent = cost * interval
        params = (key, now + spent, now, spent, now, spent, now, tolerance)
        row = conn.exec_driver_sql(sql, params).first()
        return None if row is None else int(row[0])

    def _lease_in(
        self, conn: Connection, key: str, lease: str, most: int, now: int, expires: int
    ) -> bool:
        m = self._mark
        sql = (
            f"INSERT INTO rate_leases (lease, name, expires) SELECT {m}, {m}, {m}"
            f" WHERE (SELECT count(*) FROM rate_leases WHERE name = {m} AND expires > {m}) < {m}"
        )
        self._lock_key(conn, key)
        return bool(conn.exec_driver_sql(sql, (lease, key, expires, key, now, most)).rowcount)

    def admit(
        self,
        bucket: tuple[str, int, int] | None,
        lease: tuple[str, str, int, int] | None,
        now: int,
    ) -> tuple[bool, bool]:
        """One request's token and lease in one transaction: (token spent, lease held).

        Args:
            bucket: (key, interval, tolerance) of the request bucket, or None.
            lease: (key, lease, most, expires), or None; not taken when the token is refused.
            now: the time, microseconds.

        Raises:
            StoreError: the database failed.
        """
        with self._limit_tx() as conn:
            spent = (
                bucket is None or self._spend_in(conn, bucket[0], now, 1, *bucket[1:]) is not None
            )
            if not spent or lease is None:
                return spent, lease is None
            key, name, most, expires = lease
            return True, self._lease_in(conn, key, name, most, now, expires)

    def bucket(self, key: str) -> int | None:
        """The stored tat of a bucket (None: a full bucket)."""
        t = s.rate_buckets
        with self.engine.connect() as conn:
            tat = conn.execute(select(t.c.tat).where(t.c.name == key)).scalar()
        return None if tat is None else int(tat)

    def take_lease(self, key: str, lease: str, most: int, now: int, expires: int) -> bool:
        """Hold one of ``most`` slots of ``key`` (True), or none is free (False).

        Raises:
            StoreError: the database failed.
        """
        with self._limit_tx() as conn:
            return self._lease_in(conn, key, lease, most, now, expires)

    def release_lease(self, lease: str) -> None:
        """Give a slot back (a lease already gone is no error)."""
        with self._limit_tx() as conn:
            conn.exec_driver_sql(f"DELETE FROM rate_leases WHERE lease = {self._mark}", (lease,))

    def leases(self, key: str, now: int) -> int:
        """Leases of ``key`` alive at ``now``."""
        t = s.rate_leases
        with self.engine.connect() as conn:
            q = select(t.c.lease).where(t.c.name == key, t.c.expires > now)
            return len(conn.execute(q).all())

    def sweep_limits(self, now: int) -> int:
        """Forget full buckets and lapsed leases (both mean nothing); how many rows went."""
        with self._limit_tx() as conn:
            gone = conn.execute(delete(s.rate_buckets).where(s.rate_buckets.c.tat <= now)).rowcount
            gone += conn.execute(
                delete(s.rate_leases).where(s.rate_leases.c.expires <= now)
            ).rowcount
        return int(gone)

    def set_member_limits(self, limits: MemberLimits) -> None:
        """Replace one member's own limits (all None: back to the node's settings)."""
        t = s.member_limits
        with self._limit_tx() as conn:
            conn.execute(delete(t).where(t.c.member_pk == limits.member_pk))
            values = (
                limits.requests_per_second,
                limits.burst,
                limits.objects_per_day,
                limits.concurrent,
            )
            if any(v is not None for v in values):
                conn.execute(
                    insert(t).values(
                        member_pk=limits.member_pk,
                        requests_per_second=limits.requests_per_second,
                        burst=limits.burst,
                        objects_per_day=limits.objects_per_day,
                        concurrent=limits.concurrent,
                    )
                )

    def member_limits(self) -> dict[int, MemberLimits]:
        """Every member's own limits, by member pk."""
        t = s.member_limits
        with self.engine.connect() as conn:
            rows = conn.execute(select(*t.c)).all()
        return {
            r[0]: MemberLimits(
                r[0],
                None if r[1] is None else float(r[1]),
                r[2],
                None if r[3] is None else int(r[3]),
                r[4],
            )
            for r in rows
        }
