"""The token bucket arithmetic (GCRA), the process-local buckets, and client addresses."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.limits import MemoryLimits, Rate, client_address, parse_networks, take
from accord.limits._bucket import US, remaining

T0 = 1_700_000_000 * US

rates = st.builds(
    Rate,
    per_second=st.floats(min_value=0.01, max_value=10_000, allow_nan=False),
    burst=st.integers(min_value=1, max_value=10_000),
)


def test_a_full_bucket_gives_its_burst_then_refuses() -> None:
    rate = Rate(10, 5)
    tat = None
    for n in range(5):
        d = take(rate, tat, T0)
        assert d.allowed, n
        assert d.remaining == 4 - n
        tat = d.tat
    d = take(rate, tat, T0)
    assert not d.allowed
    assert d.tat == tat  # a refusal spends nothing
    assert d.retry_after == 1  # 0.1 s to the next token, said as a whole second
    # A tenth of a second later one token is back, and only one.
    later = T0 + US // 10
    assert take(rate, tat, later).allowed
    assert not take(rate, take(rate, tat, later).tat, later).allowed


def test_retry_after_is_the_time_to_the_tokens_rounded_up() -> None:
    rate = Rate.per_day(86_400)  # one object a second, 86,400 at once
    spent = take(rate, None, T0, 86_400)
    assert spent.allowed and spent.remaining == 0
    d = take(rate, spent.tat, T0, 90)
    assert not d.allowed
    assert d.retry_after == 90
    assert take(rate, spent.tat, T0 + 90 * US, 90).allowed
    assert not take(rate, spent.tat, T0 + 89 * US, 90).allowed


def test_a_cost_over_the_whole_bucket_never_passes() -> None:
    rate = Rate(1, 10)
    d = take(rate, None, T0, 11)
    assert not d.allowed
    assert d.retry_after == 1
    assert take(rate, None, T0, 10).allowed


def test_rates_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        Rate(0, 1)
    with pytest.raises(ValueError, match="at least 1"):
        Rate(1, 0)
    with pytest.raises(ValueError, match="zero or more"):
        take(Rate(1, 1), None, T0, -1)


@given(
    rate=rates,
    costs=st.lists(st.integers(0, 50), max_size=40),
    gaps=st.lists(st.integers(0, 3 * US), max_size=40),
)
@settings(max_examples=100, deadline=None)
def test_never_more_than_burst_plus_refill(rate: Rate, costs: list[int], gaps: list[int]) -> None:
    """Over any run, what is spent is at most the burst plus what refilled meanwhile."""
    tat, now, spent = None, T0, 0
    for cost, gap in zip(costs, gaps + [0] * len(costs), strict=False):
        now += gap
        d = take(rate, tat, now, cost)
        if d.allowed:
            spent += cost
            tat = d.tat
        else:
            assert d.retry_after >= 1
            assert d.tat == (now if tat is None else tat)
    refilled = (now - T0) // rate.interval
    assert spent <= rate.burst + refilled


@given(rate=rates, cost=st.integers(1, 50), ahead=st.integers(0, 10**9))
@settings(max_examples=100, deadline=None)
def test_waiting_retry_after_is_enough(rate: Rate, cost: int, ahead: int) -> None:
    """A refused take succeeds once Retry-After has passed (unless it can never pass)."""
    tat = T0 + ahead
    d = take(rate, tat, T0, cost)
    if d.allowed or cost > rate.burst:
        return
    assert take(rate, tat, T0 + d.retry_after * US, cost).allowed
    # ...and not a whole second sooner, when the wait is over a second.
    if d.retry_after > 1:
        assert not take(rate, tat, T0 + (d.retry_after - 1) * US - 1, cost).allowed


@given(rate=rates, used=st.integers(0, 10**10))
def test_remaining_is_within_the_bucket(rate: Rate, used: int) -> None:
    left = remaining(rate, T0 + used, T0)
    assert 0 <= left <= rate.burst


def test_memory_buckets_and_leases() -> None:
    mem = MemoryLimits()
    rate = Rate(1, 2)
    assert [mem.take("a", rate, T0).allowed for _ in range(3)] == [True, True, False]
    assert mem.take("b", rate, T0).allowed  # keys are apart
    assert mem.lease("k", "one", 2, T0, T0 + 10)
    assert mem.lease("k", "two", 2, T0, T0 + 10)
    assert not mem.lease("k", "three", 2, T0, T0 + 10)
    mem.release("k", "one")
    assert mem.lease("k", "three", 2, T0, T0 + 10)
    # Leases lapse on their own: a holder that died never blocks the key for good.
    assert mem.lease("k", "four", 2, T0 + 10, T0 + 20)
    mem.sweep(T0 + 10**9)
    assert mem.take("a", rate, T0 + 10**9).remaining == 1


def test_client_address_ignores_forwarded_for_by_default() -> None:
    assert client_address("192.0.2.7", ["198.51.100.1"], ()) == "192.0.2.7"
    assert client_address(None, [], ()) == "unknown"
    assert client_address("not an address", [], ()) == "unknown"


def test_client_address_through_trusted_proxies() -> None:
    trusted = parse_networks("10.0.0.0/8, 127.0.0.1")
    # The client, then a trusted hop, seen from a trusted proxy: the client.
    assert client_address("127.0.0.1", ["203.0.113.9, 10.1.1.1"], trusted) == "203.0.113.9"
    # What the client wrote before its own address is ignored.
    forged = ["6.6.6.6, 203.0.113.9"]
    assert client_address("10.2.2.2", forged, trusted) == "203.0.113.9"
    # A peer that is no trusted proxy is the client, whatever it says.
    assert client_address("198.51.100.4", ["203.0.113.9"], trusted) == "198.51.100.4"
    # All hops trusted: the farthest one.
    assert client_address("10.0.0.1", ["10.0.0.2"], trusted) == "10.0.0.2"
    assert client_address("10.0.0.1", ["garbage, 203.0.113.9:4711"], trusted) == "203.0.113.9"


def test_ipv6_clients_are_keyed_by_their_64() -> None:
    a = client_address("2001:db8:1:2::1", [], ())
    b = client_address("2001:db8:1:2:ffff::9", [], ())
    assert a == b == str(ipaddress.ip_network("2001:db8:1:2::/64"))
    assert client_address("2001:db8:1:3::1", [], ()) != a
    assert client_address("::ffff:192.0.2.1", [], ()) == "192.0.2.1"


def test_parse_networks_refuses_garbage() -> None:
    assert parse_networks("") == ()
    with pytest.raises(ValueError, match=r"proxy\.example"):
        parse_networks("10.0.0.0/8, proxy.example")
