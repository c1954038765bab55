"""What the analyst's console shows: search with facets, an object's page, its graph.

The web edge (`accord.web`) renders these; nothing here knows HTML. Every read
is bounded (pages, facet caps, graph caps), so a page costs the same on a node
of a thousand objects and of millions.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from accord.exceptions import NotFound
from accord.service import egress, query
from accord.service.node import Node
from accord.stix import TLP_IDS, Tlp, normalize_query
from accord.store import Collection, ConsoleQuery, Facets, Provenance, StoredObject
from accord.store._text import REF_LIST_PROPS, REF_PROPS

PAGE_SIZE = 50
MAX_OFFSET = 10_000
FACET_CAP = 2_000
GRAPH_CAP = 150
SIGHTINGS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """What a user typed into the search form (all optional)."""

    value: str = ""
    types: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    tlps: tuple[str, ...] = ()
    text: str = ""
    since: str = ""
    until: str = ""
    collection: str = ""
    include_revoked: bool = False
    page: int = 1


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One page of results and the facets of the whole match (up to FACET_CAP)."""

    terms: SearchTerms
    objects: list[StoredObject]
    facets: Facets
    page: int
    more: bool


def tlp_name(level: int) -> str:
    """A facet's TLP level as shown: TLP:GREEN, or "none"."""
    return Tlp(level).label if level >= 0 else "none"


def _tlp_level(text: str) -> int:
    return -1 if text.strip().lower() == "none" else int(Tlp.parse(text))


def console_query(node: Node, terms: SearchTerms) -> ConsoleQuery:
    """The store query of a search form.

    Raises:
        ValueError: a timestamp or a TLP level does not parse.
        UnknownCollection: no collection has that id or title.
    """
    return ConsoleQuery(
        value=normalize_query(terms.value.strip()) if terms.value.strip() else None,
        types=tuple(t for t in terms.types if t),
        labels=tuple(label for label in terms.labels if label),
        tlps=tuple(_tlp_level(t) for t in terms.tlps if t),
        text=terms.text.strip() or None,
        modified_since=query._key(terms.since.strip() or None, "since"),
        modified_until=query._key(terms.until.strip() or None, "until"),
        collection_pk=(
            node.store.collection(terms.collection.strip()).pk if terms.collection.strip() else None
        ),
        include_revoked=terms.include_revoked,
    )


def search(node: Node, terms: SearchTerms, page_size: int = PAGE_SIZE) -> SearchResult:
    """A page of current objects matching the terms, newest first, with facet counts.

    Raises:
        ValueError: a bad timestamp, TLP level or page number.
        UnknownCollection: no such collection.
    """
    if terms.page < 1 or (terms.page - 1) * page_size > MAX_OFFSET:
        raise ValueError(f"page {terms.page}: pages go from 1 to {MAX_OFFSET // page_size + 1}")
    q = console_query(node, terms)
    offset = (terms.page - 1) * page_size
    found = node.store.console_search(q, offset=offset, limit=page_size + 1)
    return SearchResult(
        terms, found[:page_size], _facets(node, q), terms.page, len(found) > page_size
    )


_facet_cache: OrderedDict[tuple[str, ConsoleQuery], tuple[float, Facets]] = OrderedDict()
_facet_lock = threading.Lock()
FACETS_KEPT = 256


def _facets(node: Node, q: ConsoleQuery) -> Facets:
    """The facets of a query, reused for ACCORD_WEB_DASHBOARD_SECONDS (paging asks again)."""
    key, now = (node.store.url, q), time.monotonic()
    with _facet_lock:
        hit = _facet_cache.get(key)
        if hit is not None and now - hit[0] < node.settings.web_dashboard_seconds:
            _facet_cache.move_to_end(key)
            return hit[1]
    facets = node.store.console_facets(q, cap=FACET_CAP)
    with _facet_lock:
        _facet_cache[key] = (now, facets)
        while len(_facet_cache) > FACETS_KEPT:
            _facet_cache.popitem(last=False)
    return facets


def forget_facets() -> None:
    """Drop the reused facets (after an import from the console)."""
    with _facet_lock:
        _facet_cache.clear()


# -- one object ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Version:
    """One stored version of an object and where it came from."""

    obj: StoredObject
    sources: list[Provenance]


@dataclass(frozen=True, slots=True)
class Recipient:
    """What one member would receive of this object from one collection."""

    member: str
    collection: str
    agreement: str | None
    verdict: str
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class ObjectView:
    """Everything the object page shows."""

    current: StoredObject
    data: dict[str, Any]
    versions: list[Version]
    markings: list[str]
    collections: list[str]
    sightings: list[tuple[StoredObject, int, str]]  # (sighting, count, last_seen)
    references: list[tuple[str, StoredObject | None]]
    recipients: list[Recipient]
    unshared_members: list[str] = field(default_factory=list)


def parse(obj: StoredObject) -> dict[str, Any]:
    """A stored version's JSON as a dict."""
    data = orjson.loads(obj.data)
    return data if isinstance(data, dict) else {}


def markings_of(data: dict[str, Any], names: dict[str, str] | None = None) -> list[str]:
    """The object's markings as shown: TLP labels, other marking-definition ids."""
    out: list[str] = []
    refs = data.get("object_marking_refs")
    for ref in refs if isinstance(refs, list) else []:
        level = TLP_IDS.get(ref) if isinstance(ref, str) else None
        out.append(level.label if level is not None else (names or {}).get(str(ref), str(ref)))
    granular = data.get("granular_markings")
    for g in granular if isinstance(granular, list) else []:
        if isinstance(g, dict):
            what = g.get("marking_ref") or g.get("lang")
            out.append(f"{what} on {', '.join(map(str, g.get('selectors', [])))}")
    return out


def who_receives(
    node: Node, current: StoredObject, holders: Sequence[str]
) -> tuple[list[Recipient], list[str]]:
    """`policy explain` for every member, on the current version, in each collection holding it.

    The decision is `accord.service.egress`'s own (``open_gate(...).decide``, what
    ``accord policy explain`` runs); the object page already holds the version, so
    the per-collection lookup of ``egress.explain`` is skipped: on a node of
    millions of objects it costs more than the whole page may.

    Returns:
        The rows (member, collection, agreement, verdict, reasons) and the members
        that no collection holding the object lets read.
    """
    rows: list[Recipient] = []
    none: list[str] = []
    collections = [c for c in node.store.collections() if c.title in set(holders)]
    for m in node.store.members():
        readable = {c.pk for c in egress.readable_collections(node, m)}
        reached = [c for c in collections if c.pk in readable]
        if not reached:
            none.append(m.name)
            continue
        recipient = egress.recipient_for(node, m)
        for c in reached:
            gate = egress.open_gate(node, m, c, recipient=recipient)
            d = gate.decide(current)
            name = gate.agreement.name if gate.agreement else None
            rows.append(Recipient(m.name, c.title, name, str(d.verdict), list(d.reasons)))
    return rows, none


def object_view(node: Node, object_id: str) -> ObjectView:
    """The object page: current version, versions and sources, markings, sightings, recipients.

    Raises:
        NotFound: no version of that id is stored.
    """
    history = query.show(node, object_id)
    versions = [Version(o, p) for o, p in history.versions]
    current = versions[-1].obj
    data = parse(current)
    sightings = []
    for _, _, o in node.store.referring(
        [object_id], props=("sighting_of_ref",), limit=SIGHTINGS_SHOWN
    ):
        sd = parse(o)
        count = sd.get("count")
        sightings.append((o, count if isinstance(count, int) else 1, str(sd.get("last_seen", ""))))
    refs = [r for r in data.get("object_refs", []) if isinstance(r, str)][:200]
    stored = node.store.current_of(refs)
    holders = node.store.collections_of(current.added)
    recipients, unshared = who_receives(node, current, holders)
    return ObjectView(
        current=current,
        data=data,
        versions=list(reversed(versions)),
        markings=markings_of(data),
        collections=holders,
        sightings=sightings,
        references=[(r, stored.get(r)) for r in refs],
        recipients=recipients,
        unshared_members=unshared,
    )


def label_of(obj: StoredObject | None, data: dict[str, Any] | None = None) -> str:
    """A short human name for an object: name, value, pattern or id."""
    if obj is None:
        return "(not stored here)"
    d = parse(obj) if data is None else data
    for key in ("name", "value", "pattern", "relationship_type"):
        v = d.get(key)
        if isinstance(v, str) and v:
            return v if len(v) <= 80 else v[:77] + "..."
    return obj.id


# -- the graph -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Graph:
    """An object's neighbourhood: nodes (id, type, label), edges (source, target, label)."""

    root: str
    nodes: list[tuple[str, str, str]]
    edges: list[tuple[str, str, str]]
    capped: bool


def _outgoing(data: dict[str, Any]) -> list[tuple[str, str]]:
    out = [(data[p], p) for p in REF_PROPS if isinstance(data.get(p), str)]
    for p in REF_LIST_PROPS:
        values = data.get(p)
        if isinstance(values, list):
            out.extend((v, p) for v in values if isinstance(v, str))
    return out


def graph(node: Node, object_id: str, hops: int = 2, cap: int = GRAPH_CAP) -> Graph:
    """Relationships, sightings and report references around an object, ``hops`` deep.

    A relationship is drawn as an edge between its ends, not as a node. At most
    ``cap`` nodes; ``capped`` says some were left out.

    Raises:
        NotFound: the object is not stored.
    """
    start = node.store.current_of([object_id])
    if object_id not in start:
        raise NotFound(object_id)
    nodes: dict[str, tuple[StoredObject, dict[str, Any]]] = {
        object_id: (start[object_id], parse(start[object_id]))
    }
    edges: set[tuple[str, str, str]] = set()
    frontier = [object_id]
    capped = False

    def relationship(d: dict[str, Any], wanted: list[str]) -> None:
        src, tgt = d.get("source_ref"), d.get("target_ref")
        if isinstance(src, str) and isinstance(tgt, str):
            edges.add((src, tgt, str(d.get("relationship_type", "related-to"))))
            wanted.extend((src, tgt))

    for _ in range(hops):
        wanted: list[str] = []
        for oid in frontier:
            obj, d = nodes[oid]
            if obj.type == "relationship":
                relationship(d, wanted)
                continue
            for target, prop in _outgoing(d):
                edges.add((oid, target, prop.removesuffix("_refs").removesuffix("_ref")))
                wanted.append(target)
        for ref, prop, o in node.store.referring(frontier, limit=cap * 2):
            d = parse(o)
            if o.type == "relationship":
                relationship(d, wanted)
            else:
                edges.add((o.id, ref, prop.removesuffix("_refs").removesuffix("_ref")))
                if o.id not in nodes:
                    wanted.append(o.id)
        missing = [w for w in dict.fromkeys(wanted) if w not in nodes]
        room = cap - len(nodes)
        if len(missing) > room:
            capped, missing = True, missing[: max(room, 0)]
        fetched = node.store.current_of(missing)
        frontier = []
        for oid, o in fetched.items():
            nodes[oid] = (o, parse(o))
            frontier.append(oid)
        if not frontier:
            break
    shown = [
        (oid, o.type, label_of(o, d)) for oid, (o, d) in nodes.items() if o.type != "relationship"
    ]
    ids = {n[0] for n in shown}
    kept = sorted(e for e in edges if e[0] in ids and e[1] in ids and e[0] != e[1])
    return Graph(object_id, shown, kept, capped)


def graph_json(g: Graph) -> bytes:
    """The graph as cytoscape.js elements."""
    elements: list[dict[str, Any]] = [
        {"data": {"id": oid, "type": otype, "label": label, "root": oid == g.root}}
        for oid, otype, label in g.nodes
    ]
    elements += [
        {"data": {"id": f"e{i}", "source": s, "target": t, "label": lab}}
        for i, (s, t, lab) in enumerate(g.edges)
    ]
    return orjson.dumps({"elements": elements, "capped": g.capped})


def collection_choices(node: Node) -> list[Collection]:
    """The collections, for a form's choices (no counting: that reads every membership)."""
    return node.store.collections()


def names(node: Node, ids: Sequence[str]) -> dict[str, str]:
    """Short names of these objects, for lists."""
    return {oid: label_of(o) for oid, o in node.store.current_of(ids).items()}
