"""When a TAXII client retries, and how long it waits.

Transient failures are retried with exponential backoff and jitter: a
timeout, a connection refused or reset, a 5xx answer. A 429 waits what its
``Retry-After`` says (RFC 9110 §10.2.3: seconds, or an HTTP date), capped so a
peer cannot park the sync for hours. Anything else (4xx) is the peer's final
word and is not retried.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# 500 Internal Server Error, 502 Bad Gateway, 503 Service Unavailable, 504 Gateway Timeout,
# and 429 Too Many Requests: worth another try.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many tries a request gets, and how long to wait between them.

    Attributes:
        attempts: tries in all (1: never retry).
        backoff: seconds before the second try; doubled for each further one.
        max_wait: longest wait between two tries (Retry-After included).
    """

    attempts: int = 4
    backoff: float = 0.5
    max_wait: float = 30.0

    def wait(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after the failed try number ``attempt`` (1-based)."""
        if retry_after is not None:
            given = parse_retry_after(retry_after)
            if given is not None:
                return min(max(given, 0.0), self.max_wait)
        base = self.backoff * (2 ** (attempt - 1))
        # Full jitter keeps many nodes that failed together from retrying together.
        return float(min(self.max_wait, base * (0.5 + random.random() / 2)))


def parse_retry_after(value: str, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value (delay-seconds or an HTTP date); None if invalid."""
    text = value.strip()
    if text.isascii() and text.isdigit():  # RFC 9110 §10.2.3: DIGIT is ASCII ("1²0" is not)
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
