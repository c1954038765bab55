"""Rate limits and quotas as token buckets: the arithmetic, with no I/O.

Nothing here reads a clock, a socket or a database: every function takes the
time (microseconds since the epoch) from its caller, so that the TAXII edge,
the store's shared buckets and the tests all run the same arithmetic.

- `Rate`: a bucket of ``burst`` tokens refilled at ``per_second``, kept as
  one number per key, its *theoretical arrival time* (GCRA, the token bucket
  written as a time: RFC 2697's meters and ATM's GCRA are the same machine).
  One number per key is what lets a database update it in one statement.
- `take`: spend tokens, or be told how many whole seconds until they exist
  (the ``Retry-After`` of RFC 9110 §10.2.3).
- `MemoryLimits`: the buckets and leases of one process, for a node whose
  limits need not be shared (one process over SQLite).
- `client_address`: who an anonymous request comes from, through the
  ``X-Forwarded-For`` hops of trusted proxies only.
"""

from __future__ import annotations

from accord.limits._address import client_address, parse_networks
from accord.limits._bucket import Decision, Rate, take
from accord.limits._memory import MemoryLimits

__all__ = ["Decision", "MemoryLimits", "Rate", "client_address", "parse_networks", "take"]
