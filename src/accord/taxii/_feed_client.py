"""Fetching a feed over HTTP: conditional requests, retries as peers, a size limit.

The feeds service asks for a URL with the validators of the last answer
(``If-None-Match``, ``If-Modified-Since``, RFC 9110 §13.1); a 304 is "nothing
changed". Timeouts, refused connections, 5xx and 429 are retried with the
peers' `RetryPolicy` (ACCORD_PEER_RETRIES, ACCORD_PEER_BACKOFF); any other
status is the server's final word. The body is read as it arrives and cut
off at ACCORD_FEED_MAX_BYTES: a 2 GB answer fails without being held.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from accord import __version__
from accord.exceptions import FeedError
from accord.service.feeds import FeedScheduler, Fetched
from accord.settings import Settings
from accord.taxii._client_retry import RETRY_STATUSES, RetryPolicy

log = logging.getLogger("accord.feeds")


@dataclass
class FeedFetcher:
    """`accord.service.feeds.Fetch` over httpx.

    Args:
        settings: ACCORD_PEER_TIMEOUT, _RETRIES, _BACKOFF and ACCORD_FEED_MAX_BYTES.
        transport: an httpx transport (tests); None: the network.
    """

    settings: Settings
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep

    def __call__(self, url: str, etag: str | None, last_modified: str | None) -> Fetched:
        s = self.settings
        retry = RetryPolicy(attempts=s.peer_retries, backoff=s.peer_backoff)
        headers = {"User-Agent": f"accord/{__version__}"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempts = max(1, retry.attempts)
        with httpx.Client(
            timeout=s.peer_timeout, transport=self.transport, follow_redirects=True
        ) as http:
            for attempt in range(1, attempts + 1):
                status: int | None = None
                retry_after: str | None = None
                try:
                    with http.stream("GET", url, headers=headers) as response:
                        status = response.status_code
                        if status == 304:
                            return Fetched(304, b"", etag, last_modified)
                        if status == 200:
                            body = self._read(url, response, s.feed_max_bytes)
                            return Fetched(
                                200,
                                body,
                                response.headers.get("ETag"),
                                response.headers.get("Last-Modified"),
                            )
                        reason = response.reason_phrase or "refused"
                        if status not in RETRY_STATUSES:
                            raise FeedError(url, reason, status)
                        retry_after = response.headers.get("Retry-After")
                except httpx.TimeoutException as exc:
                    reason = f"timed out ({type(exc).__name__})"
                except httpx.TransportError as exc:
                    reason = f"connection failed ({type(exc).__name__}: {exc})"
                if attempt == attempts:
                    raise FeedError(url, f"{reason} (after {attempts} tries)", status)
                wait = retry.wait(attempt, retry_after)
                log.info(
                    "GET %s: %s; try %d of %d in %.1f s", url, reason, attempt + 1, attempts, wait
                )
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _read(url: str, response: httpx.Response, limit: int) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FeedError(url, f"the answer is over {limit:,} bytes (ACCORD_FEED_MAX_BYTES)", 200)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise FeedError(
                    url, f"the answer is over {limit:,} bytes (ACCORD_FEED_MAX_BYTES)", 200
                )
            chunks.append(chunk)
        return b"".join(chunks)


def fetcher(settings: Settings, transport: httpx.BaseTransport | None = None) -> FeedFetcher:
    """The fetcher of a node's settings."""
    return FeedFetcher(settings, transport)


@contextmanager
def background_feeds(settings: Settings) -> Iterator[FeedScheduler]:
    """Sync the node's feeds in a background thread while the block runs."""
    scheduler = FeedScheduler(settings, fetcher(settings))
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()
