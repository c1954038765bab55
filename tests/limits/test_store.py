"""The shared buckets and leases in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from accord.limits import Rate, take
from accord.limits._bucket import US
from accord.store import MemberLimits, SqlStore, open_store

T0 = 1_700_000_000 * US


@pytest.fixture
def store(backend: str) -> Iterator[SqlStore]:
    opened = open_store(backend)
    yield opened
    opened.close()


def test_the_store_spends_as_the_arithmetic_does(store: SqlStore) -> None:
    """The SQL statement is `accord.limits.take`: same answers on a random run."""
    rng = random.Random(17)
    rate = Rate(5, 4)
    tat, now = None, T0
    for step in range(60):
        now += rng.choice((0, 0, 50_000, 200_000, 1_000_000))
        cost = rng.choice((1, 1, 2, 3))
        expected = take(rate, tat, now, cost)
        got = store.take_tokens("m1:r", now, cost, rate.interval, rate.tolerance)
        assert (got is not None) == expected.allowed, step
        if expected.allowed:
            assert got == expected.tat
            tat = expected.tat
        assert store.bucket("m1:r") == tat
    assert store.take_tokens("m2:r", now, 1, rate.interval, rate.tolerance) is not None


def test_concurrent_spenders_never_overspend(store: SqlStore) -> None:
    """Eight threads at once (each its own connection): never more tokens or leases than
    there are."""
    rate = Rate(1, 25)  # 25 tokens, and time stands still

    def spend(_: int) -> bool:
        return store.take_tokens("hot", T0, 1, rate.interval, rate.tolerance) is not None

    def grab(_: int) -> bool:
        return store.take_lease("busy", str(uuid.uuid4()), 5, T0, T0 + US)

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(spend, range(60))).count(True) == 25
        assert list(pool.map(grab, range(40))).count(True) == 5


def test_leases_count_across_holders_and_lapse(store: SqlStore) -> None:
    def lease(now: int) -> str | None:
        name = str(uuid.uuid4())
        return name if store.take_lease("m1", name, 3, now, now + 10 * US) else None

    held = [lease(T0) for _ in range(4)]
    assert [h is not None for h in held] == [True, True, True, False]
    assert store.leases("m1", T0) == 3
    assert store.take_lease("m2", str(uuid.uuid4()), 3, T0, T0 + 10 * US)  # keys apart
    first = held[0]
    assert first is not None
    store.release_lease(first)
    store.release_lease(first)  # twice is no error
    assert lease(T0) is not None
    # The holders died without releasing (kill -9): at expiry the slots are free again.
    assert lease(T0 + 9 * US) is None
    assert all(lease(T0 + 10 * US) for _ in range(3))
    assert store.sweep_limits(T0 + 10**9) >= 4
    assert store.leases("m1", T0 + 10 * US) == 0


def test_sweep_forgets_full_buckets_only_and_member_limits_round_trip(store: SqlStore) -> None:
    rate = Rate(1, 10)
    assert store.take_tokens("old", T0, 1, rate.interval, rate.tolerance)
    assert store.take_tokens("new", T0 + 100 * US, 5, rate.interval, rate.tolerance)
    assert store.sweep_limits(T0 + 50 * US) == 1
    assert store.bucket("old") is None
    assert store.bucket("new") == T0 + 105 * US
    # Members' own limits, on the same store.
    m = store.create_member("cert-x")
    assert store.member_limits() == {}
    own = MemberLimits(m.pk, 2.5, 10, 1_000, None)
    store.set_member_limits(own)
    assert store.member_limits() == {m.pk: own}
    store.set_member_limits(MemberLimits(m.pk))
    assert store.member_limits() == {}


def test_admit_spends_and_leases_in_one_transaction(store: SqlStore) -> None:
    rate = Rate(1, 2)
    bucket = ("m9:r", rate.interval, rate.tolerance)

    def admit(name: str) -> tuple[bool, bool]:
        return store.admit(bucket, ("m9", name, 1, T0 + US), T0)

    assert admit("a") == (True, True)
    assert admit("b") == (True, False)  # a token spent, but the one slot is held
    assert admit("c") == (False, False)  # no token: no lease is even tried
    assert store.leases("m9", T0) == 1
    assert store.admit(None, None, T0) == (True, True)
