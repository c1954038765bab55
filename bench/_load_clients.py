"""The load benchmark's clients: partners paging a collection, writers posting envelopes.

One asyncio loop, one ``httpx.AsyncClient`` (a connection per task at most), every
request bounded by a timeout, every loop by the stop event. What each request took is
recorded by kind (``page``, ``post``, ``status``) with its HTTP status, or the name of
the transport error when there was no answer. A 429 is counted as such and its
``Retry-After`` honoured before the same request is tried again.

Readers check the one thing a partner relies on: a pass that follows ``next`` from the
first page to the last sees every object the collection held at the start exactly once
(the collection they read takes no writes during the run). Writers keep every object a
status resource acknowledged, and check that the status resource, fetched again, says
the same.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

MEDIA = "application/taxii+json;version=2.1"
RETRIES = 5  # tries of one request that got no answer or a 5xx, before giving up on it
BACKOFF = 0.2
MAX_RETRY_AFTER = 30.0


@dataclass
class Kind:
    """The requests of one kind: seconds taken and outcomes."""

    seconds: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


@dataclass
class Recorder:
    """Every request's latency and outcome, by kind, and what the clients found."""

    kinds: dict[str, Kind] = field(default_factory=dict)
    passes: int = 0
    passes_abandoned: int = 0
    repeated: int = 0  # objects seen twice in one pass
    skipped: int = 0  # objects of the collection a pass never saw
    unexpected: int = 0  # objects a pass saw that the collection did not hold
    acked: set[str] = field(default_factory=set)
    unanswered_posts: int = 0  # POSTs that got no answer: their objects may or may not be stored
    status_mismatches: int = 0
    retry_after_waits: float = 0.0
    machine_load: float = 0.0  # the median 1-minute load average during the run

    def record(self, kind: str, seconds: float, outcome: str) -> None:
        self.kinds.setdefault(kind, Kind())
        k = self.kinds[kind]
        k.seconds.append(seconds)
        k.outcomes[outcome] += 1


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(response.headers.get("retry-after", "1"))))
    except ValueError:
        return 1.0


async def request(
    client: httpx.AsyncClient,
    rec: Recorder,
    kind: str,
    method: str,
    url: str,
    stop: asyncio.Event,
    **kwargs: Any,
) -> httpx.Response | None:
    """One request, tried again after a 429 (as told), a 5xx or no answer; None: given up."""
    tries = 0
    while not stop.is_set():
        start = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            rec.record(kind, time.perf_counter() - start, type(exc).__name__)
            tries += 1
            if tries >= RETRIES:
                return None
            await asyncio.sleep(BACKOFF * tries)
            continue
        rec.record(kind, time.perf_counter() - start, str(response.status_code))
        if response.status_code == 429:
            wait = _retry_after(response)
            rec.retry_after_waits += wait
            await asyncio.sleep(wait)
            continue
        if response.status_code >= 500:
            tries += 1
            if tries >= RETRIES:
                return None
            await asyncio.sleep(BACKOFF * tries)
            continue
        return response
    return None


async def reader(
    client: httpx.AsyncClient,
    rec: Recorder,
    stop: asyncio.Event,
    *,
    url: str,
    auth: dict[str, str],
    expected: frozenset[str],
    page: int,
) -> None:
    """Page through the collection with ``limit`` and ``next``, again and again."""
    while not stop.is_set():
        seen: list[str] = []
        after: str | None = None
        complete = True
        while True:
            params: dict[str, str | int] = {"limit": page}
            if after is not None:
                params["next"] = after
            response = await request(
                client, rec, "page", "GET", url, stop, params=params, headers=auth
            )
            if response is None or response.status_code != 200:
                complete = False
                break
            body = orjson.loads(response.content)
            seen.extend(str(o["id"]) for o in body.get("objects", ()))
            if not body.get("more"):
                break
            after = str(body["next"])
        if not complete:
            if not stop.is_set():
                rec.passes_abandoned += 1
            continue
        ids = set(seen)
        rec.passes += 1
        rec.repeated += len(seen) - len(ids)
        rec.skipped += len(expected - ids)
        rec.unexpected += len(ids - expected)


def indicator(writer: int) -> dict[str, Any]:
    """A new STIX 2.1 indicator (a fresh id) from writer number ``writer``."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    n = uuid.uuid4()
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{n}",
        "created": now,
        "modified": now,
        "name": f"load writer {writer}",
        "pattern": f"[domain-name:value = 'w{writer}-{n.hex[:12]}.example']",
        "pattern_type": "stix",
        "valid_from": now,
    }


async def writer(
    client: httpx.AsyncClient,
    rec: Recorder,
    stop: asyncio.Event,
    *,
    number: int,
    url: str,
    status_url: str,
    auth: dict[str, str],
    envelope: int,
    pause: float,
) -> None:
    """POST envelopes of new indicators; keep what the status acknowledges; check it."""
    headers = {**auth, "Content-Type": MEDIA}
    while not stop.is_set():
        body = orjson.dumps({"objects": [indicator(number) for _ in range(envelope)]})
        try:
            start = time.perf_counter()
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            rec.record("post", time.perf_counter() - start, type(exc).__name__)
            rec.unanswered_posts += 1
            await asyncio.sleep(pause)
            continue
        rec.record("post", time.perf_counter() - start, str(response.status_code))
        if response.status_code == 429:
            wait = _retry_after(response)
            rec.retry_after_waits += wait
            await asyncio.sleep(wait)
            continue
        if response.status_code == 202:
            status = orjson.loads(response.content)
            done = {str(s["id"]) for s in status.get("successes", ())}
            rec.acked |= done
            again = await request(
                client, rec, "status", "GET", status_url.format(status["id"]), stop, headers=auth
            )
            if again is not None and again.status_code == 200:
                kept = orjson.loads(again.content)
                if {str(s["id"]) for s in kept.get("successes", ())} != done:
                    rec.status_mismatches += 1
        await asyncio.sleep(pause)
