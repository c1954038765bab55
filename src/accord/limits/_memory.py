"""The buckets and leases of one process: the same arithmetic, kept in a dict.

For a node served by one process (SQLite's default), where sharing the
buckets through the database would only add a write per request. Thread-safe:
FastAPI runs the dependencies of a request in its thread pool.
"""

from __future__ import annotations

import threading

from accord.limits._bucket import Decision, Rate, take


class MemoryLimits:
    """Token buckets by key, and leases (concurrent requests) by key."""

    def __init__(self) -> None:
        self._tats: dict[str, int] = {}
        self._leases: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, rate: Rate, now: int, cost: int = 1) -> Decision:
        """Spend tokens of the bucket ``key`` (see `accord.limits.take`)."""
        with self._lock:
            decision = take(rate, self._tats.get(key), now, cost)
            if decision.allowed:
                self._tats[key] = decision.tat
            return decision

    def lease(self, key: str, lease: str, most: int, now: int, expires: int) -> bool:
        """Hold one of ``most`` slots of ``key`` until released or ``expires``."""
        with self._lock:
            held = self._leases.setdefault(key, {})
            for name in [n for n, until in held.items() if until <= now]:
                del held[name]
            if len(held) >= most:
                return False
            held[lease] = expires
            return True

    def release(self, key: str, lease: str) -> None:
        """Give a slot back (a lease already gone is no error)."""
        with self._lock:
            held = self._leases.get(key)
            if held is not None:
                held.pop(lease, None)
                if not held:
                    del self._leases[key]

    def sweep(self, now: int) -> None:
        """Forget full buckets and expired leases: they are the same as none."""
        with self._lock:
            self._tats = {k: t for k, t in self._tats.items() if t > now}
            for key in list(self._leases):
                held = {n: u for n, u in self._leases[key].items() if u > now}
                if held:
                    self._leases[key] = held
                else:
                    del self._leases[key]
