"""Hits aggregated into STIX 2.1 sightings: one per (indicator, this node), a count.

A million hits of one indicator are one ``sighting`` with ``count: 1000000``,
not a million objects. The sighting's id is a UUIDv5 of (node id, indicator
id), so every run of ``accord match`` on the node updates the same object: each
flush in which its count changed stores a new version (a new ``modified``,
STIX 2.1 §3.6) with the counts of earlier runs added, ``first_seen`` the
earliest and ``last_seen`` the latest hit. Versions go through the normal
ingest path (`accord.service.ingest.ingest_objects`) into the sightings
collection, so they are served over TAXII and pushed by federation like any
other object.

STIX 2.1 §5.6 (sighting): ``where_sighted_refs`` is this node's identity;
``observed_data_refs`` lists the observed-data kept (``keep_observed`` per
indicator, 0 by default: the events of the first hits, stored beside the
sighting in the same collection); ``count`` is capped at 999,999,999 (its
range in the specification).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from accord.logsources import stix_time
from accord.patterns import Hit
from accord.service import ingest
from accord.service.node import Node
from accord.store import Query

__all__ = ["MAX_COUNT", "SightingBook", "sighting_id"]

MAX_COUNT = 999_999_999  # STIX 2.1 §5.6: count is 0..999,999,999
_NS = uuid.UUID("0b1d5e4c-6a43-4c8e-9b43-5c1f8b9f6a2e")
SOURCE = ("match", "accord match")


def sighting_id(node_id: str, indicator_id: str) -> str:
    """The one sighting of an indicator by a node."""
    return f"sighting--{uuid.uuid5(_NS, f'{node_id}|{indicator_id}')}"


def _ms(epoch: float) -> str:
    """A STIX timestamp with millisecond precision (what `modified` needs, §3.2)."""
    full = stix_time(epoch)
    return full[:23] + "Z"


@dataclass(slots=True)
class _Tally:
    indicator_id: str
    sighting_id: str
    created: str | None = None  # of the stored sighting, when there is one
    modified: str | None = None
    stored_count: int = 0
    run_count: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    stored_first: str | None = None
    stored_last: str | None = None
    observed_refs: list[str] = field(default_factory=list)
    pending_observed: list[dict[str, Any]] = field(default_factory=list)
    dirty: bool = False


class SightingBook:
    """Counts hits per indicator in memory; `flush` writes the changed sightings."""

    def __init__(self, node: Node, collection: str, keep_observed: int = 0) -> None:
        self.node = node
        self.node_id = node.info.id
        self.collection = collection
        self.keep_observed = keep_observed
        self.tallies: dict[str, _Tally] = {}
        self.written = 0
        self.errors: list[str] = []
        self._collection_pks: list[int] | None = None

    def _tally(self, indicator_id: str) -> _Tally:
        sid = sighting_id(self.node_id, indicator_id)
        tally = _Tally(indicator_id, sid)
        for stored in self.node.store.query(Query(types=("sighting",), ids=(sid,))):
            data = orjson.loads(stored.data)
            tally.created = data.get("created")
            tally.modified = data.get("modified")
            tally.stored_count = int(data.get("count", 0))
            tally.stored_first = data.get("first_seen")
            tally.stored_last = data.get("last_seen")
            tally.observed_refs = list(data.get("observed_data_refs", []))
        self.tallies[indicator_id] = tally
        return tally

    def add(self, hits: list[Hit]) -> None:
        """Count hits (the hot path: no database unless an indicator is hit the first time)."""
        for hit in hits:
            tally = self.tallies.get(hit.indicator_id)
            if tally is None:
                tally = self._tally(hit.indicator_id)
            tally.run_count += 1
            tally.dirty = True
            if tally.first_seen is None or hit.first_seen < tally.first_seen:
                tally.first_seen = hit.first_seen
            if tally.last_seen is None or hit.last_seen > tally.last_seen:
                tally.last_seen = hit.last_seen
            room = self.keep_observed - len(tally.observed_refs) - len(tally.pending_observed)
            if room > 0:
                for event in hit.events[:room]:
                    tally.pending_observed.extend(event.observed())

    def count(self, indicator_id: str) -> int:
        """The sighting's count with this run's hits (stored or not)."""
        tally = self.tallies.get(indicator_id)
        return min(tally.stored_count + tally.run_count, MAX_COUNT) if tally else 0

    def _pks(self) -> list[int]:
        if self._collection_pks is None:
            self._collection_pks = ingest.resolve_collection(
                self.node, self.collection, ingest.ImportReport()
            )
        return self._collection_pks

    def _sighting(self, tally: _Tally, now: float) -> dict[str, Any]:
        modified = _ms(now)
        if tally.modified is not None and modified <= tally.modified:
            # Two flushes in one millisecond: modified must still move forward.
            modified = _ms(max(now, time.time()) + 0.001)
            while modified <= tally.modified:
                now += 0.001
                modified = _ms(now)
        first = stix_time(tally.first_seen) if tally.first_seen is not None else None
        last = stix_time(tally.last_seen) if tally.last_seen is not None else None
        if tally.stored_first and (first is None or tally.stored_first < first):
            first = tally.stored_first
        if tally.stored_last and (last is None or tally.stored_last > last):
            last = tally.stored_last
        obj: dict[str, Any] = {
            "type": "sighting",
            "spec_version": "2.1",
            "id": tally.sighting_id,
            "created": tally.created or modified,
            "modified": modified,
            "created_by_ref": self.node_id,
            "sighting_of_ref": tally.indicator_id,
            "where_sighted_refs": [self.node_id],
            "count": min(tally.stored_count + tally.run_count, MAX_COUNT),
        }
        if first is not None:
            obj["first_seen"] = first
        if last is not None:
            obj["last_seen"] = last
        if tally.observed_refs:
            obj["observed_data_refs"] = list(tally.observed_refs)
        return obj

    def flush(self) -> int:
        """Store a new version of every sighting whose count changed; how many were stored."""
        dirty = [t for t in self.tallies.values() if t.dirty]
        if not dirty:
            return 0
        pks = self._pks()
        observed = [o for t in dirty for o in t.pending_observed]
        if observed:
            outcomes = ingest.ingest_objects(
                self.node, list(observed), source=SOURCE, collection_pks=pks
            )
            ok = {o.id for o in outcomes if o.ok}
            for o in outcomes:
                if not o.ok:
                    self.errors.append(f"observed-data {o.id}: {o.message}")
            for t in dirty:
                for sdo in t.pending_observed:
                    if sdo["id"] in ok and sdo["id"] not in t.observed_refs:
                        t.observed_refs.append(sdo["id"])
                t.pending_observed.clear()
        now = time.time()
        objects = [self._sighting(t, now) for t in dirty]
        outcomes = ingest.ingest_objects(
            self.node, list[object](objects), source=SOURCE, collection_pks=pks
        )
        stored = 0
        for tally, obj, outcome in zip(dirty, objects, outcomes, strict=True):
            if not outcome.ok:
                self.errors.append(f"{obj['id']}: {outcome.message}")
                continue
            stored += 1
            tally.created = obj["created"]
            tally.modified = obj["modified"]
            tally.stored_count = obj["count"]
            tally.run_count = 0
            tally.stored_first = obj.get("first_seen")
            tally.stored_last = obj.get("last_seen")
            tally.dirty = False
        self.written += stored
        return stored
