"""The token bucket as a theoretical arrival time (GCRA), in integer microseconds.

A bucket of ``burst`` tokens that refills one token every ``interval`` is one
number per key, ``tat``: the time at which the bucket would be full again.
At ``now`` the bucket holds ``burst - (tat - now) / interval`` tokens (all of
them when ``tat <= now``). Spending ``cost`` tokens moves ``tat`` to
``max(tat, now) + cost * interval``, allowed while that stays within
``burst * interval`` of ``now``. The store's SQL (`accord.store._limits`) is
this same comparison, so both give the same answers (tests check it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

US = 1_000_000  # microseconds in a second


@dataclass(frozen=True, slots=True)
class Rate:
    """A bucket: ``burst`` tokens, refilled at ``per_second`` tokens a second.

    Args:
        per_second: tokens added each second (> 0).
        burst: the bucket's size, the most tokens spent at once (>= 1).
    """

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not self.per_second > 0:
            raise ValueError(f"a rate must be positive, not {self.per_second!r}")
        if self.burst < 1:
            raise ValueError(f"a burst must be at least 1, not {self.burst!r}")

    @classmethod
    def per_day(cls, quota: int) -> Rate:
        """A quota of ``quota`` tokens a day, all of them spendable at once, refilled evenly."""
        return cls(quota / 86_400, quota)

    @property
    def interval(self) -> int:
        """Microseconds to refill one token (at least 1)."""
        return max(1, round(US / self.per_second))

    @property
    def tolerance(self) -> int:
        """How far ahead of now ``tat`` may go: the whole bucket, in microseconds."""
        return self.burst * self.interval


class Decision(NamedTuple):
    """What one `take` decided."""

    allowed: bool
    tat: int  # the bucket's state afterwards (unchanged when refused)
    retry_after: int  # whole seconds until the tokens exist (0 when allowed)
    remaining: int  # whole tokens left in the bucket afterwards


def remaining(rate: Rate, tat: int, now: int) -> int:
    """Whole tokens in the bucket at ``now``."""
    used = max(0, tat - now)
    return max(0, (rate.tolerance - used) // rate.interval)


def seconds_until(us: int) -> int:
    """Whole seconds, rounded up, at least 1: a Retry-After never says 0 to a refusal."""
    return max(1, -(-us // US))


def take(rate: Rate, tat: int | None, now: int, cost: int = 1) -> Decision:
    """Spend ``cost`` tokens of a bucket whose state is ``tat`` (None: a fresh, full bucket).

    Args:
        rate: the bucket.
        tat: its theoretical arrival time, microseconds; None for a key never seen.
        now: the time, microseconds since the epoch.
        cost: tokens to spend (a request: 1; an envelope: its objects).

    Returns:
        Allowed, with the new state; or refused, the state unchanged, with the
        seconds until ``cost`` tokens will be in the bucket. A ``cost`` over
        the whole bucket is refused with the seconds until it is full (it can
        never pass: the caller says so).
    """
    if cost < 0:
        raise ValueError("a cost is zero or more tokens")
    base = now if tat is None or tat < now else tat
    after = base + cost * rate.interval
    if after - now <= rate.tolerance:
        return Decision(True, after, 0, remaining(rate, after, now))
    kept = now if tat is None else tat
    if cost > rate.burst:
        return Decision(False, kept, seconds_until(base - now), remaining(rate, kept, now))
    wait = after - rate.tolerance - now
    return Decision(False, kept, seconds_until(wait), remaining(rate, kept, now))
