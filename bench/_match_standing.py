"""The standings of the match benchmark: a store with many opinions, and their recompute.

`build` writes ``n`` STIX opinions by 40 members through the store's writer (the
path every opinion takes: its remarks and standings are updated as it is
stored) into a SQLite store: half the indicators the plain run hit get two
false-positive reports (so the matcher suppresses them), the other half one
agreeing opinion, and the rest of the ``n`` go to indicators drawn at random
from the whole set (a member's repeats on one indicator count once, as a
flood would). `recompute` then stores 10,000 new opinions the same way and
times, apart, recomputing the standings they touch.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from accord.standing import FP_REASONS, OPINION_VALUES
from accord.stix import prepare
from accord.store import SqlStore, open_store
from accord.store._standing import recompute

MEMBERS = [f"identity--{uuid.UUID(int=(77 << 96) + i, version=4)}" for i in range(40)]
BATCH = 5000


@dataclass(frozen=True, slots=True)
class Built:
    opinions: int
    standings: int
    seconds: float


def _opinion(rnd: random.Random, member: str, target: str, value: str, at: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "opinion",
        "spec_version": "2.1",
        "id": f"opinion--{uuid.UUID(int=rnd.getrandbits(128), version=4)}",
        "created": at,
        "modified": at,
        "created_by_ref": member,
        "object_refs": [target],
        "opinion": value,
    }
    if value == "strongly-disagree":
        obj["labels"] = ["false-positive"]
        obj["x_accord_false_positive"] = rnd.choice(list(FP_REASONS))
    return obj


def _opinions(
    rnd: random.Random, n: int, hit: Sequence[str], every: Sequence[str]
) -> Iterator[dict[str, Any]]:
    at = "2026-12-01T00:00:00.000Z"
    made = 0
    for i, target in enumerate(hit):
        if made >= n:
            return
        if i % 2 == 0:  # suppressed: two members report it
            for member in MEMBERS[:2]:
                yield _opinion(rnd, member, target, "strongly-disagree", at)
                made += 1
        else:
            yield _opinion(rnd, MEMBERS[2], target, "agree", at)
            made += 1
    values = list(OPINION_VALUES)
    while made < n:
        stamp = f"2026-11-{rnd.randint(1, 30):02d}T{rnd.randint(0, 23):02d}:00:00.000Z"
        yield _opinion(rnd, rnd.choice(MEMBERS), rnd.choice(every), rnd.choice(values), stamp)
        made += 1


def _write(store: SqlStore, objs: Iterator[dict[str, Any]]) -> int:
    source = store.ensure_source("file", "bench-opinions")
    done = 0
    batch = []
    for obj in objs:
        batch.append(prepare(obj))
        if len(batch) >= BATCH:
            with store.writer() as w:
                w.add(batch, source_pk=source)
            done += len(batch)
            batch = []
    if batch:
        with store.writer() as w:
            w.add(batch, source_pk=source)
        done += len(batch)
    return done


def build(url: str, hit: Sequence[str], every: Sequence[str], n: int, seed: int = 7) -> Built:
    """Write ``n`` opinions into the store at ``url`` (made if new)."""
    rnd = random.Random(seed)
    store = open_store(url)
    try:
        started = time.perf_counter()
        done = _write(store, _opinions(rnd, n, hit, every))
        seconds = time.perf_counter() - started
        standings = sum(1 for _ in store.standing_scores())
    finally:
        store.close()
    return Built(done, standings, seconds)


def held(url: str) -> Built:
    """What a store built earlier holds (``seconds`` -1: not built by this run)."""
    store = open_store(url)
    try:
        opinions = store.stats().current_by_type.get("opinion", 0)
        standings = sum(1 for _ in store.standing_scores())
    finally:
        store.close()
    return Built(opinions, standings, -1.0)


@dataclass(frozen=True, slots=True)
class Recomputed:
    opinions: int
    touched: int
    ingest_seconds: float  # storing them: objects, remarks and standings, as any write does
    recompute_seconds: float  # recomputing the standings they touch, alone


def recompute_after(url: str, every: Sequence[str], n: int = 10_000, seed: int = 8) -> Recomputed:
    """Store ``n`` new opinions on random indicators; time that, and their recompute alone."""
    rnd = random.Random(seed)
    values = list(OPINION_VALUES)
    at = "2026-12-05T00:00:00.000Z"
    objs = [
        _opinion(rnd, rnd.choice(MEMBERS), rnd.choice(every), rnd.choice(values), at)
        for _ in range(n)
    ]
    touched = sorted({o["object_refs"][0] for o in objs})
    store = open_store(url)
    try:
        records = [prepare(o) for o in objs]
        source = store.ensure_source("file", "bench-new-opinions")
        started = time.perf_counter()
        with store.writer() as w:
            w.add(records, source_pk=source)
        ingest_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with store.write_tx() as conn:
            recompute(conn, touched, store.standing_rules)
        recompute_seconds = time.perf_counter() - started
    finally:
        store.close()
    return Recomputed(n, len(touched), ingest_seconds, recompute_seconds)
