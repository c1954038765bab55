"""Rate limits and quotas of the TAXII server: who is counted, against what, and the 429.

Every TAXII request is counted against a key: the member for a request with
valid credentials, the client's address (`accord.limits.client_address`) for
one without. Each key has three limits (docs/limits.md), each a setting with
a per-member override (`accord member limits`), and 0 turns one off:

- requests a second, with a burst (``ACCORD_LIMIT_REQUESTS_PER_SECOND``,
  ``ACCORD_LIMIT_BURST``; anonymous: ``ACCORD_LIMIT_ANONYMOUS_*``);
- requests in progress at once (``ACCORD_LIMIT_CONCURRENT``), as leases that
  lapse after ``ACCORD_LIMIT_LEASE_SECONDS`` if their worker dies;
- STIX objects POSTed a day (``ACCORD_LIMIT_OBJECTS_PER_DAY``): an envelope
  that would go over is refused whole, nothing of it stored.

Over a limit: `TaxiiTooManyRequests` (429) with ``Retry-After`` in whole
seconds (RFC 9110 §10.2.3). The buckets live in the database, shared by every
worker (``ACCORD_LIMIT_STATE=database``, the default on PostgreSQL), or in
this process (``memory``, the default on SQLite, served by one process).
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from accord.exceptions import StoreError, TaxiiTooLarge, TaxiiTooManyRequests
from accord.limits import MemoryLimits, Rate, client_address, parse_networks, take
from accord.limits._bucket import US, seconds_until
from accord.service.node import Node
from accord.settings import Settings
from accord.store import Member, MemberLimits, SqlStore

log = logging.getLogger("accord.limits")

# Seconds between reads of the members' own limits (a change reaches every worker
# within this), and between sweeps of full buckets and lapsed leases.
OVERRIDES_SECONDS = 30.0
SWEEP_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits of one key: None where a limit is off."""

    requests: Rate | None
    objects: Rate | None
    concurrent: int | None


@dataclass(frozen=True, slots=True)
class Ticket:
    """A request let in: the lease to give back when it ends (None: no concurrency limit)."""

    key: str
    lease: str | None


def _rate(per_second: float, burst: int) -> Rate | None:
    if per_second <= 0:
        return None
    return Rate(per_second, burst or max(1, math.ceil(per_second)))


def member_limits(settings: Settings, own: MemberLimits | None) -> Limits:
    """A member's limits: its own where it has them, the node's settings elsewhere."""
    own = own or MemberLimits(0)
    rps = settings.limit_requests_per_second
    rps = own.requests_per_second if own.requests_per_second is not None else rps
    burst = own.burst if own.burst is not None else settings.limit_burst
    quota = settings.limit_objects_per_day
    quota = own.objects_per_day if own.objects_per_day is not None else quota
    concurrent = own.concurrent if own.concurrent is not None else settings.limit_concurrent
    return Limits(_rate(rps, burst), Rate.per_day(quota) if quota > 0 else None, concurrent or None)


def anonymous_limits(settings: Settings) -> Limits:
    """The limits of every anonymous address."""
    return Limits(
        _rate(settings.limit_anonymous_requests_per_second, settings.limit_anonymous_burst),
        None,  # anonymous clients cannot POST
        settings.limit_anonymous_concurrent or None,
    )


def shared_state(settings: Settings, store: SqlStore) -> bool:
    """Whether the buckets live in the database (ACCORD_LIMIT_STATE)."""
    if settings.limit_state == "auto":
        return store.engine.dialect.name == "postgresql"
    return settings.limit_state == "database"


class Limiter:
    """The limits of one server process, over the node's store or its own memory.

    Args:
        node: the node served.
        settings: the server's settings (default: the node's).
        clock: seconds since the epoch (tests move it).
    """

    def __init__(
        self,
        node: Node,
        settings: Settings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        s = settings or node.settings
        self.settings = s
        self._store = node.store
        self._clock = clock
        self._memory = None if shared_state(s, node.store) else MemoryLimits()
        self._trusted = parse_networks(s.limit_trusted_proxies)
        self._anonymous = anonymous_limits(s)
        self._own: dict[int, MemberLimits] = {}
        self._own_at = -math.inf
        self._swept_at = clock()
        self._lease_us = round(s.limit_lease_seconds * US)
        # Whether any limit is on: when none is (all settings 0, no member's own limits
        # when the server started), the edge skips the limiter entirely.
        self.enabled = bool(
            s.limit_requests_per_second > 0
            or s.limit_anonymous_requests_per_second > 0
            or s.limit_objects_per_day > 0
            or s.limit_concurrent
            or s.limit_anonymous_concurrent
            or node.store.member_limits()
        )

    @property
    def shared(self) -> bool:
        """Whether the buckets are the database's (shared by every worker)."""
        return self._memory is None

    def address(self, peer: str | None, forwarded: Sequence[str]) -> str:
        """The key of an anonymous client (see `accord.limits.client_address`)."""
        return client_address(peer, forwarded, self._trusted)

    def limits_of(self, member: Member | None) -> Limits:
        """The limits that apply to a member (None: an anonymous client)."""
        if member is None:
            return self._anonymous
        now = self._clock()
        if now - self._own_at >= OVERRIDES_SECONDS or now < self._own_at:
            self._own = self._store.member_limits()
            self._own_at = now
        return member_limits(self.settings, self._own.get(member.pk))

    # -- the buckets, in memory or in the store ---------------------------------

    def _spend(self, key: str, rate: Rate, now: int, cost: int) -> int:
        """Spend tokens: 0, or the seconds to wait."""
        if self._memory is not None:
            return self._memory.take(key, rate, now, cost).retry_after
        if self._store.take_tokens(key, now, cost, rate.interval, rate.tolerance) is not None:
            return 0
        return self._wait(key, rate, now, cost)

    def _wait(self, key: str, rate: Rate, now: int, cost: int) -> int:
        # Refused by the database: one more read says how long (the bucket may have
        # moved since: at least 1 s).
        return seconds_until(take(rate, self._store.bucket(key), now, cost).retry_after * US)

    def _lease_memory(self, key: str, lease: str | None, most: int, now: int) -> bool:
        assert self._memory is not None and lease is not None
        return self._memory.lease(key, lease, most, now, now + self._lease_us)

    def _sweep(self, now: float) -> None:
        if now - self._swept_at < SWEEP_SECONDS:
            return
        self._swept_at = now
        if self._memory is not None:
            self._memory.sweep(round(now * US))
        else:
            self._store.sweep_limits(round(now * US))

    # -- what the edge asks ------------------------------------------------------

    @staticmethod
    def key_of(member: Member | None, address: str) -> str:
        """The bucket key: ``m<pk>`` for a member, ``a<address>`` for anonymous clients."""
        return f"m{member.pk}" if member is not None else f"a{address}"

    def enter(self, member: Member | None, address: str) -> Ticket:
        """Let one request in, or refuse it; the ticket goes back to `leave` when it ends.

        Raises:
            TaxiiTooManyRequests: over the request rate, or too many in progress.
            StoreError: the shared buckets cannot be reached.
        """
        clock = self._clock()
        self._sweep(clock)
        now = round(clock * US)
        limits = self.limits_of(member)
        key = self.key_of(member, address)
        who = f"member {member.name}" if member is not None else f"address {address}"
        r, most = limits.requests, limits.concurrent
        lease = None if most is None else str(uuid.uuid4())
        if self._memory is not None:
            wait = 0 if r is None else self._memory.take(key + ":r", r, now).retry_after
            held = wait > 0 or most is None or self._lease_memory(key, lease, most, now)
        else:
            # One transaction for both: a request costs the database one round of writes.
            bucket = None if r is None else (key + ":r", r.interval, r.tolerance)
            leased = (
                None if most is None or lease is None else (key, lease, most, now + self._lease_us)
            )
            spent, held = self._store.admit(bucket, leased, now)
            wait = 0 if spent or r is None else self._wait(key + ":r", r, now, 1)
        if wait:
            assert r is not None
            raise TaxiiTooManyRequests(
                f"over {r.per_second:g} requests a second (burst {r.burst}) for {who}",
                details={"limit": "requests", "per_second": r.per_second, "burst": r.burst},
                headers={"Retry-After": str(wait)},
            )
        if not held:
            raise TaxiiTooManyRequests(
                f"over {most} requests in progress at once for {who}",
                details={"limit": "concurrent", "concurrent": most},
                headers={"Retry-After": "1"},
            )
        return Ticket(key, lease)

    def leave(self, ticket: Ticket) -> None:
        """A request ended: give its slot back.

        Never raises: the answer has gone by now. A slot the database cannot take
        back (the connection was cut) is freed when its lease expires.
        """
        if ticket.lease is None:
            return
        if self._memory is not None:
            self._memory.release(ticket.key, ticket.lease)
            return
        try:
            self._store.release_lease(ticket.lease)
        except StoreError as exc:
            log.warning("a request slot of %s waits for its lease to expire: %s", ticket.key, exc)

    def refused_credentials(self, address: str) -> None:
        """A request with wrong credentials costs its address a request token.

        Raises:
            TaxiiTooManyRequests: the address is over its rate: guessing tokens is slowed.
        """
        rate = self._anonymous.requests
        if rate is None:
            return
        wait = self._spend(self.key_of(None, address) + ":r", rate, round(self._clock() * US), 1)
        if wait:
            raise TaxiiTooManyRequests(
                f"over {rate.per_second:g} requests a second for address {address}",
                details={"limit": "requests", "per_second": rate.per_second, "burst": rate.burst},
                headers={"Retry-After": str(wait)},
            )

    def take_objects(self, member: Member, count: int) -> None:
        """Count an envelope's objects against the member's daily quota, all or none.

        Raises:
            TaxiiTooManyRequests: the envelope would go over the quota (nothing is spent).
            TaxiiTooLarge: the envelope holds more objects than the whole quota.
        """
        rate = self.limits_of(member).objects
        if rate is None or count == 0:
            return
        if count > rate.burst:
            raise TaxiiTooLarge(
                f"the envelope's {count} objects are more than the quota of {rate.burst} "
                f"objects a day of member {member.name}: send smaller envelopes",
                details={"limit": "objects", "objects_per_day": rate.burst, "objects": count},
            )
        wait = self._spend(f"m{member.pk}:o", rate, round(self._clock() * US), count)
        if wait:
            raise TaxiiTooManyRequests(
                f"the envelope's {count} objects would go over the quota of {rate.burst} "
                f"objects a day of member {member.name}; nothing was stored",
                details={"limit": "objects", "objects_per_day": rate.burst, "objects": count},
                headers={"Retry-After": str(wait)},
            )


# -- members' own limits (`accord member limits`) --------------------------------------


def set_member_limits(
    node: Node,
    name: str,
    *,
    requests_per_second: float | None = None,
    burst: int | None = None,
    objects_per_day: int | None = None,
    concurrent: int | None = None,
    reset: bool = False,
) -> tuple[MemberLimits, Limits]:
    """Change a member's own limits (the ones given; ``reset``: back to the node's first).

    Every worker sees the change within `OVERRIDES_SECONDS`. 0 turns a limit off
    for this member; a limit not given keeps its value.

    Returns:
        The member's own limits now, and the limits that apply to it.

    Raises:
        UnknownMember: no member with this name.
        ValueError: a negative value.
    """
    given = {
        "requests_per_second": requests_per_second,
        "burst": burst,
        "objects_per_day": objects_per_day,
        "concurrent": concurrent,
    }
    for what, value in given.items():
        if value is not None and value < 0:
            raise ValueError(f"{what} must be 0 (off) or more, not {value}")
    member = node.store.member(name)
    old = MemberLimits(member.pk) if reset else node.store.member_limits().get(member.pk)
    own = old or MemberLimits(member.pk)
    changed = {k: v for k, v in given.items() if v is not None}
    own = MemberLimits(
        member.pk,
        changed.get("requests_per_second", own.requests_per_second),
        _int(changed.get("burst", own.burst)),
        _int(changed.get("objects_per_day", own.objects_per_day)),
        _int(changed.get("concurrent", own.concurrent)),
    )
    node.store.set_member_limits(own)
    return own, member_limits(node.settings, own)


def _int(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def limits_for(node: Node, name: str) -> tuple[MemberLimits, Limits]:
    """A member's own limits, and the limits that apply to it.

    Raises:
        UnknownMember: no member with this name.
    """
    member = node.store.member(name)
    own = node.store.member_limits().get(member.pk) or MemberLimits(member.pk)
    return own, member_limits(node.settings, own)
