"""Push: new and changed versions of our chosen collections to a peer that accepts writes.

Each collection pushed to a peer has a cursor: the ``date_added`` of the last
version of that collection handled (sent, or left out on purpose). Versions
after it go out in envelopes of ``ACCORD_SYNC_PAGE`` objects; the status each
POST returns is followed until it is complete, the versions the peer refused
are kept with its message (`accord peer list` shows them), and only then does
the cursor move. A crash before that sends the envelope again: a STIX version
posted twice is stored once (TAXII 2.1 §5.4).

`objects_for_peer` is the one place that decides which versions go to a peer;
sharing agreements filter there, and so does the rule of sightings: this node's
sighting of an indicator that peers delivered goes back to those peers only
(the producer learns its indicator was seen; no other peer learns that the
indicator exists). Sightings of indicators no peer delivered (our own, from
files) go as the agreement allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from accord.exceptions import PeerError
from accord.service import egress, ledger
from accord.service._sync_wire import PeerClient, envelope_body
from accord.service.node import Node
from accord.stix import version_key
from accord.store import Peer, Query, StoredObject


@dataclass(slots=True)
class PushReport:
    """What one push did."""

    envelopes: int = 0
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    skipped: int = 0  # versions the peer gave us: never sent back


def objects_for_peer(
    node: Node,
    peer: Peer,
    candidates: Sequence[tuple[int, StoredObject, bool]],
    collection_pk: int | None = None,
) -> list[StoredObject]:
    """The versions, of those that joined a pushed collection, that may go to this peer.

    Args:
        node: the node.
        peer: the peer pushed to.
        candidates: (membership date_added, version, delivered by this peer).
        collection_pk: the collection pushed from: its sharing agreements decide
            (`accord.service.egress`); a redacted version goes as its redacted copy.

    A version the peer delivered (first, or again) is never sent back to it, and
    this node's sightings of indicators other peers delivered are not sent to it.
    """
    own = [obj for _, obj, from_peer in candidates if not from_peer]
    if any(obj.type == "sighting" for obj in own):
        own = _due_to(node, peer, own)
    if collection_pk is None or not own:
        return own
    return egress.for_peer(node, peer.name, collection_pk, own)


def _due_to(node: Node, peer: Peer, objs: list[StoredObject]) -> list[StoredObject]:
    """``objs`` without this node's sightings of indicators only other peers delivered."""
    refs: dict[str, str] = {}  # sighting version key -> the indicator it sights
    for obj in objs:
        if obj.type != "sighting":
            continue
        data = orjson.loads(obj.data)
        ref = data.get("sighting_of_ref")
        if data.get("created_by_ref") == node.info.id and isinstance(ref, str):
            refs[obj.id + obj.version] = ref
    if not refs:
        return objs
    delivered = indicator_peers(node, sorted(set(refs.values())))
    kept = []
    for obj in objs:
        ref = refs.get(obj.id + obj.version)
        peers = delivered.get(ref, set()) if ref is not None else set()
        if not peers or peer.name in peers:
            kept.append(obj)
    return kept


def indicator_peers(node: Node, ids: Sequence[str]) -> dict[str, set[str]]:
    """The peers that delivered some version of each of these objects (absent: none did).

    Args:
        node: the node.
        ids: object ids.
    """
    store = node.store
    found: dict[str, set[str]] = {}
    for start in range(0, len(ids), 500):
        chunk = tuple(ids[start : start + 500])
        versions = list(store.query(Query(ids=chunk, all_versions=True, include_revoked=True)))
        origins = store.origins([v.added for v in versions])
        for version in versions:
            for kind, name in origins.get(version.added, []):
                if kind == "peer":
                    found.setdefault(version.id, set()).add(name)
    return found


def _version_of(entry: dict[str, Any]) -> str | None:
    given = entry.get("version")
    if not isinstance(given, str):
        return None
    try:
        return version_key(given)
    except ValueError:
        return None


def _outcome(
    sent: list[StoredObject], status: dict[str, Any]
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Split what was sent into (refused: id, version, message) and accepted (id, version)."""
    refused: dict[tuple[str, str], str] = {}
    by_id: dict[str, list[StoredObject]] = {}
    for obj in sent:
        by_id.setdefault(obj.id, []).append(obj)
    for entry in status.get("failures") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        version = _version_of(entry)
        message = str(entry.get("message") or "refused")
        for obj in by_id.get(entry["id"], []):
            if version is None or version == obj.version:
                refused[(obj.id, obj.version)] = message
    failures = [(i, v, m) for (i, v), m in refused.items()]
    accepted = [(o.id, o.version) for o in sent if (o.id, o.version) not in refused]
    return failures, accepted


def _log_push(node: Node, peer: Peer, collection_pk: int, chosen: list[StoredObject]) -> None:
    """Log an envelope before it is POSTed (sightings sent back have a channel of their own)."""
    collection = next(c for c in node.store.collections() if c.pk == collection_pk)
    agreement = egress.load_book(node).covering(peer.name, collection)
    channel = "sighting" if all(o.type == "sighting" for o in chosen) else "push"
    ledger.share(
        node,
        channel=channel,
        collection=collection,
        member=peer.name,
        agreement=agreement,
        added=[o.added for o in chosen],
        body=envelope_body([o.data for o in chosen]),
    )


def push(node: Node, peer: Peer, client: PeerClient, *, envelope: int) -> PushReport:
    """Push what joined the peer's chosen collections since the last push."""
    report = PushReport()
    if peer.push_collection is None:
        return report
    store = node.store
    source_pk = store.ensure_source("peer", peer.name)
    for collection_pk in peer.push_from:
        cursor = store.push_cursor(peer.pk, collection_pk)
        while True:
            candidates = store.push_candidates(collection_pk, cursor, envelope, source_pk)
            if not candidates:
                break
            chosen = objects_for_peer(node, peer, candidates, collection_pk)
            report.skipped += len(candidates) - len(chosen)
            failures: list[tuple[str, str, str]] = []
            accepted: list[tuple[str, str]] = []
            if chosen:
                _log_push(node, peer, collection_pk, chosen)
                status = client.add_objects(peer.push_collection, [o.data for o in chosen])
                status = client.wait_status(status)
                if status.get("status") != "complete":
                    raise PeerError(peer.url, f"status {status.get('id')} did not complete")
                failures, accepted = _outcome(chosen, status)
                report.envelopes += 1
                report.sent += len(chosen)
                report.accepted += len(accepted)
                report.refused += len(failures)
            cursor = candidates[-1][0]
            store.save_push(peer.pk, collection_pk, cursor, failures, accepted)
    return report
