"""The filter of truncated OPRF outputs: padding, digest, and its false-positive rate."""

from __future__ import annotations

import random

import pytest

from accord.exceptions import FilterMismatch
from accord.privacy import (
    ContextTable,
    Filter,
    build_filter,
    build_table,
    digest,
    seal,
    size_class,
)


def _outputs(rng: random.Random, n: int) -> list[bytes]:
    return [rng.randbytes(64) for _ in range(n)]


def test_size_classes() -> None:
    assert [size_class(n) for n in (0, 1, 1024, 1025, 5000)] == [1024, 1024, 1024, 2048, 8192]


def test_members_are_found_and_the_bytes_tell_the_class_not_the_count() -> None:
    rng = random.Random(7)
    few, many = _outputs(rng, 10), _outputs(rng, 900)
    small = build_filter([o[:16] for o in few], 1024, 1e-6)
    large = build_filter([o[:16] for o in many], 1024, 1e-6)
    assert len(small) == len(large)
    f = Filter(small, digest(small))
    assert all(f.hits(few))
    # the padding fills the filter as the real values would
    assert abs(small.count(0) - large.count(0)) < len(small) * 0.02


def test_a_filter_that_is_not_the_announced_one_is_refused() -> None:
    data = build_filter([], 1024, 1e-3)
    with pytest.raises(FilterMismatch, match="not the announced"):
        Filter(data, digest(data + b"x"))
    with pytest.raises(FilterMismatch, match="not a filter"):
        Filter(b"abc", digest(b"abc"))


def test_the_false_positive_rate_on_200_000_non_members() -> None:
    """Configured 1e-3 at a full class: measured within 2x (the bench does 1e6 at 1e-4)."""
    rng = random.Random(11)
    capacity, rate = 16384, 1e-3
    members = _outputs(rng, capacity)
    data = build_filter([o[:16] for o in members], capacity, rate, random=rng.randbytes)
    f = Filter(data, digest(data))
    assert all(f.hits(members[:1000]))
    n = 200_000
    false = sum(f.hits(_outputs(rng, n)))
    assert rate / 2 <= false / n <= rate * 2, false / n


def test_context_opens_only_for_the_value_s_output() -> None:
    rng = random.Random(3)
    a, b = rng.randbytes(64), rng.randbytes(64)
    ctx: list[dict[str, object]] = [{"id": "indicator--1", "name": "evil", "tlp": "red"}]
    table = build_table([seal(a, ctx)], 1024, random=rng.randbytes)
    t = ContextTable(table, digest(table))
    assert len(t) == 1024
    assert t.open(a) == ctx
    assert t.open(b) is None
    with pytest.raises(FilterMismatch):
        ContextTable(table[:-1], digest(table[:-1]))
