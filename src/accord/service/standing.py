"""Members speak on objects (notes, opinions, false positives); standings; producers hear back.

`note`, `opinion` and `false_positive` make a STIX 2.1 object created by this
node's identity and store it through ingest (`ingest_objects`, the TAXII
path) in the opinions collection (``ACCORD_OPINIONS_COLLECTION``), so that it
is served, pulled, pushed and shared under agreements like any object. The
store turns every opinion, sighting and note it writes into remarks and
standings (`accord.store._standing`), whatever path they came by; an opinion
on an object not held here is kept and counts when the object arrives.

`feedback` is the producer's view: for each indicator this node produced, what
the members sent back.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from accord.exceptions import InvalidObject
from accord.service import ingest
from accord.service.node import Node
from accord.standing import FP_REASONS, make_false_positive, make_note, make_opinion
from accord.stix import is_identifier
from accord.store import HeldStanding, Query, Remark, StoredObject

__all__ = [
    "Feedback",
    "Remark",
    "Said",
    "Voiced",
    "at_least",
    "false_positive",
    "feedback",
    "note",
    "opinion",
    "refresh",
    "remarks_on",
    "standings_of",
]

SOURCE = ("cli", "accord opinion")


@dataclass(frozen=True, slots=True)
class Said:
    """What `note`, `opinion` or `false_positive` stored."""

    object: dict[str, Any]
    collection: str
    held: bool  # the object spoken of is held here (else: kept, counts when it arrives)
    standing: HeldStanding | None


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def _check_target(object_id: str) -> None:
    if not is_identifier(object_id):
        raise ValueError(f"{object_id!r} is not a STIX id (type--UUID)")


def _store(node: Node, obj: dict[str, Any]) -> Said:
    target = obj["object_refs"][0]
    report = ingest.ImportReport()
    pks = ingest.resolve_collection(node, node.settings.opinions_collection, report)
    [outcome] = ingest.ingest_objects(node, [obj], source=SOURCE, collection_pks=pks)
    if not outcome.ok:
        raise InvalidObject(obj["id"], None, outcome.message)
    held = bool(list(node.store.query(Query(ids=(target,), include_revoked=True, limit=1))))
    return Said(
        obj,
        node.settings.opinions_collection,
        held,
        node.store.standings([target]).get(target),
    )


def note(node: Node, object_id: str, text: str) -> Said:
    """Store a note on an object, by this node.

    Raises:
        ValueError: not a STIX id, or no text.
    """
    _check_target(object_id)
    return _store(node, make_note(node.info.id, object_id, text, _now()))


def opinion(node: Node, object_id: str, value: str, reason: str | None = None) -> Said:
    """Store this node's opinion of an object (its latest opinion is the one that counts).

    Raises:
        ValueError: not a STIX id, or not one of the five opinion values.
    """
    _check_target(object_id)
    return _store(node, make_opinion(node.info.id, object_id, value, _now(), reason))


def false_positive(node: Node, object_id: str, reason: str, comment: str | None = None) -> Said:
    """Report an indicator as a false positive, with a reason from `FP_REASONS`.

    Raises:
        ValueError: not a STIX id, or a reason outside the vocabulary.
    """
    _check_target(object_id)
    return _store(node, make_false_positive(node.info.id, object_id, reason, _now(), comment))


def standings_of(node: Node, ids: Iterable[str]) -> dict[str, HeldStanding]:
    """The stored standings of these objects (absent: nobody spoke of it)."""
    return node.store.standings(ids)


def remarks_on(node: Node, object_id: str) -> list[Remark]:
    """The notes, latest opinions and sightings of each member on one object."""
    return node.store.remarks([object_id])


def refresh(node: Node) -> int:
    """Rebuild remarks from the stored objects and recompute every standing (decay to now)."""
    return node.store.refresh_standings()


# -- feedback -------------------------------------------------------------------


@dataclass(slots=True)
class Voiced:
    """What one member (or, unnamed, all others together) sent back on one indicator."""

    who: str  # a member or peer name, or "others"
    sightings: int = 0  # members' sighting objects
    sighted: int = 0  # their counts added up
    opinions: dict[str, int] = field(default_factory=dict)  # opinion value -> how many
    false_positives: dict[str, int] = field(default_factory=dict)  # reason -> how many
    notes: int = 0
    last: float = 0.0


@dataclass(slots=True)
class Feedback:
    """One indicator this node produced and what members sent back on it."""

    indicator_id: str
    name: str
    standing: HeldStanding | None
    by: list[Voiced]


def _value_name(value: float) -> str:
    names = {-1.0: "strongly-disagree", -0.5: "disagree", 0.0: "neutral", 0.5: "agree"}
    return names.get(value, "strongly-agree")


def _names(node: Node) -> dict[str, str]:
    """identity id -> the member or peer name it is known by here."""
    known = {p.identity_id: p.name for p in node.store.peers() if p.identity_id}
    known.update({m.identity_id: m.name for m in node.store.members()})
    return known


def feedback(node: Node, *, since: float | None = None) -> list[Feedback]:
    """For each indicator this node produced, the sightings, opinions and reports members sent.

    An indicator is this node's when its ``created_by_ref`` is the node's
    identity. A remark is counted under its author's name when the author is a
    member or a peer bound to that identity here (a party that agreed to be
    known); remarks of identities the node does not know (relayed under
    another node's name, or anonymised) are only counted together, as
    "others".

    Args:
        node: the open node.
        since: only remarks made at or after this time (seconds since the epoch).
    """
    remarks = [
        r
        for r in node.store.remarks()
        if r.author != node.info.id and (since is None or r.at >= since)
    ]
    ids = sorted({r.object_id for r in remarks})
    mine: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = tuple(ids[start : start + 500])
        for obj in node.store.query(Query(ids=chunk, types=("indicator",), include_revoked=True)):
            data = orjson.loads(obj.data)
            if data.get("created_by_ref") == node.info.id:
                mine[obj.id] = str(data.get("name") or "")
    counts = _sighting_counts(node, [r.source_id for r in remarks if r.kind == "sighting"])
    names = _names(node)
    standings = node.store.standings(mine)
    out: dict[str, Feedback] = {}
    for r in remarks:
        if r.object_id not in mine:
            continue
        fb = out.setdefault(
            r.object_id, Feedback(r.object_id, mine[r.object_id], standings.get(r.object_id), [])
        )
        who = names.get(r.author, "others")
        voiced = next((v for v in fb.by if v.who == who), None)
        if voiced is None:
            voiced = Voiced(who)
            fb.by.append(voiced)
        voiced.last = max(voiced.last, r.at)
        if r.kind == "sighting":
            voiced.sightings += 1
            voiced.sighted += counts.get(r.source_id, 0)
        elif r.kind == "note":
            voiced.notes += 1
        elif r.kind == "opinion":
            if r.reason in FP_REASONS:
                voiced.false_positives[str(r.reason)] = (
                    voiced.false_positives.get(str(r.reason), 0) + 1
                )
            else:
                name = _value_name(r.value)
                voiced.opinions[name] = voiced.opinions.get(name, 0) + 1
    for fb in out.values():
        fb.by.sort(key=lambda v: (v.who == "others", v.who))
    return [out[i] for i in sorted(out)]


def _sighting_counts(node: Node, ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), 500):
        chunk = tuple(unique[start : start + 500])
        for obj in node.store.query(Query(ids=chunk, types=("sighting",))):
            value = orjson.loads(obj.data).get("count", 1)
            counts[obj.id] = value if isinstance(value, int) else 1
    return counts


def at_least(
    node: Node, objects: Iterable[StoredObject], minimum: float, chunk: int = 1000
) -> Iterator[StoredObject]:
    """The objects, without the indicators whose standing is below ``minimum``.

    An indicator nobody spoke of stands at 0; other types pass as they are.
    """
    batch: list[StoredObject] = []

    def flush() -> Iterator[StoredObject]:
        held = node.store.standings(o.id for o in batch if o.type == "indicator")
        for o in batch:
            if (
                o.type != "indicator"
                or (held[o.id].standing.score if o.id in held else 0.0) >= minimum
            ):
                yield o

    for obj in objects:
        batch.append(obj)
        if len(batch) >= chunk:
            yield from flush()
            batch = []
    if batch:
        yield from flush()
