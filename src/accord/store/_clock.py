"""The store's clock: integer microseconds since the Unix epoch."""

from __future__ import annotations

import time


def now_us() -> int:
    """Wall-clock time in microseconds since the epoch."""
    return time.time_ns() // 1000
