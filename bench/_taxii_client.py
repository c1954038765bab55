"""The TAXII 2.1 client of the TAXII benchmark: POST every envelope, then read every page.

One ``httpx.Client`` per server, so one keep-alive connection, and one request at a time.
Each request is timed with ``perf_counter`` from its sending to the end of its answer's
body (the request latency); a direction's wall time runs from the first request's sending
to the last answer's end and includes the client's own work between requests (decoding
each answer with orjson and checking it), as any real client would do it.

What is checked, so that a fast wrong answer is never counted:

- POST (TAXII 2.1 §5.5): 202, and a status resource that is ``complete`` with every object
  of its envelope a success (none failed, none pending);
- GET (§5.4), with ``limit`` and ``next`` from the start until ``more`` is false: 200 each
  time, no object id served twice, and as many objects in the end as were stored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import orjson

from _ingest_medallion import MEDIA_TYPE

POST = "POST"
GET = "GET"


class TransferError(RuntimeError):
    """A server answered something other than what the benchmark asked of it."""


@dataclass(frozen=True)
class Transfer:
    """One direction against one server.

    Attributes:
        direction: ``POST`` (envelopes) or ``GET`` (pages).
        objects: the objects to send or to read back.
        done: the objects confirmed stored (POST) or read (GET) before the end or the limit.
        seconds: the wall time of the direction (the time limit, after a timeout).
        latencies: the seconds of each request answered.
        timed_out: True when the time limit came before the last object.
    """

    direction: str
    objects: int
    done: int
    seconds: float
    latencies: tuple[float, ...]
    timed_out: bool

    @property
    def rate(self) -> float | None:
        """Objects per second; after a timeout, an upper bound (all would take longer)."""
        return self.objects / self.seconds if self.seconds > 0 else None

    def percentile(self, fraction: float) -> float | None:
        """The nearest-rank percentile of the request latencies, in seconds."""
        return percentile(self.latencies, fraction)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile: the smallest value with ``fraction`` of all at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def client(base_url: str, user: str, password: str) -> httpx.Client:
    """A keep-alive client with Basic auth that accepts TAXII 2.1 only."""
    return httpx.Client(
        base_url=base_url,
        auth=(user, password),
        headers={"Accept": MEDIA_TYPE},
        timeout=httpx.Timeout(60.0),
    )


def _answer(response: httpx.Response, expected: int, what: str) -> dict[str, object]:
    if response.status_code != expected:
        raise TransferError(f"{what}: HTTP {response.status_code}: {response.text[:200]}")
    body = orjson.loads(response.content)
    if not isinstance(body, dict):
        raise TransferError(f"{what}: the answer is not a JSON object")
    return body


def _check_status(status: dict[str, object], expected: int) -> None:
    """TAXII 2.1 §4.3.1: the status resource of an envelope whose objects all succeeded."""
    if (
        status.get("status") != "complete"
        or status.get("success_count") != expected
        or status.get("failure_count", 0) != 0
        or status.get("pending_count", 0) != 0
    ):
        counts = {key: status.get(key) for key in ("status", "success_count", "failure_count")}
        raise TransferError(f"an envelope of {expected} objects was not all stored: {counts}")


def post_all(
    http: httpx.Client, path: str, envelopes: Sequence[tuple[bytes, int]], limit: float
) -> Transfer:
    """POST the envelopes in order, one at a time; stop at the time limit.

    Args:
        http: the server's client.
        path: the collection's objects URL path.
        envelopes: (body, object count) of each envelope, built beforehand.
        limit: seconds allowed for the whole direction.

    Raises:
        TransferError: an answer that is not 202 with every object stored.
    """
    total = sum(count for _, count in envelopes)
    headers = {"Content-Type": MEDIA_TYPE}
    latencies: list[float] = []
    done = 0
    start = time.perf_counter()
    for body, count in envelopes:
        left = limit - (time.perf_counter() - start)
        if left <= 0:
            break
        sent = time.perf_counter()
        try:
            response = http.post(path, content=body, headers=headers, timeout=left)
        except httpx.TimeoutException:
            break
        latencies.append(time.perf_counter() - sent)
        _check_status(_answer(response, 202, "POST"), count)
        done += count
    seconds = time.perf_counter() - start
    timed_out = done < total
    return Transfer(POST, total, done, limit if timed_out else seconds, tuple(latencies), timed_out)


def get_all(http: httpx.Client, path: str, expected: int, page: int, limit: float) -> Transfer:
    """Read the whole collection with pages of ``page`` objects, following ``next``.

    Args:
        http: the server's client.
        path: the collection's objects URL path.
        expected: the objects the collection holds.
        page: the ``limit`` asked of each page.
        limit: seconds allowed for the whole direction.

    Raises:
        TransferError: an answer that is not 200, an id served twice, ``more`` without
            ``next``, or another count than ``expected`` at the end.
    """
    seen: set[str] = set()
    params = {"limit": str(page)}
    latencies: list[float] = []
    finished = False
    start = time.perf_counter()
    while (left := limit - (time.perf_counter() - start)) > 0:
        sent = time.perf_counter()
        try:
            response = http.get(path, params=params, timeout=left)
        except httpx.TimeoutException:
            break
        latencies.append(time.perf_counter() - sent)
        envelope = _answer(response, 200, "GET")
        objects = envelope.get("objects", [])
        if not isinstance(objects, list):
            raise TransferError("GET: objects is not a list")
        for obj in objects:
            if obj["id"] in seen:
                raise TransferError(f"{obj['id']} was served twice")
            seen.add(obj["id"])
        if not envelope.get("more"):
            finished = True
            break
        params = {"limit": str(page), "next": str(envelope.get("next") or "")}
        if not params["next"]:
            raise TransferError("a page says more but gives no next")
    seconds = time.perf_counter() - start
    if finished and len(seen) != expected:
        raise TransferError(f"read {len(seen):,} objects back, {expected:,} were stored")
    return Transfer(
        GET,
        expected,
        len(seen),
        seconds if finished else limit,
        tuple(latencies),
        timed_out=not finished,
    )
