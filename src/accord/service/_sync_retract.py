"""Retraction: withdrawing an object shared by mistake, down the whole chain of nodes.

Wire format. A retraction is a new version of the object (STIX 2.1 §3.6), a
*tombstone*: ``modified`` set to the time of the retraction, ``revoked: true``,
and the property extension ``RETRACTION_EXTENSION_ID`` (§7.3) holding
``{"extension_type": "property-extension", "retracted": TIMESTAMP}``. The
tombstone keeps only the properties STIX requires for the object's type (plus
``created_by_ref`` and ``object_marking_refs``): the content shared by mistake
does not travel again. The extension is described by one
``extension-definition`` object with a stable id and fixed bytes, the same on
every Accord node, which travels in the collection beside the tombstone.

What a node does. ``accord retract ID`` writes the tombstone (and the
extension definition) into every collection that held the object, deletes
every earlier version from the node, and records the retraction. A node that
pulls a tombstone from a peer that delivered the object does the same, and
records the peer; its own pullers then receive the tombstone from it, and so
on down the chain. Versions older than a recorded tombstone are refused
afterwards, so a late copy from another peer cannot bring the object back.

What a non-Accord client sees: a new version of the object, revoked (§3.7:
"no longer considered valid by the object creator"), with an extension it may
ignore; the earlier versions are gone from the collection's versions list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from accord.exceptions import InvalidObject, NotFound
from accord.service.node import Node
from accord.stix import STIX_TYPES, Record, parse_timestamp, prepare
from accord.store import FederationTx, Query

# Stable ids, the same on every Accord node (UUIDv4 layout, drawn once).
RETRACTION_EXTENSION_ID = "extension-definition--5e0a8d6b-3c1f-4b7e-9a52-8f3d2c6b1a74"
ACCORD_IDENTITY_ID = "identity--0b8e7f4c-2d6a-4c1e-8f3b-7a9d5e2c4b10"

_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Accord retraction",
    "type": "object",
    "properties": {
        "extension_type": {"const": "property-extension"},
        "retracted": {"type": "string", "format": "date-time"},
    },
    "required": ["extension_type", "retracted"],
}

EXTENSION_DEFINITION: dict[str, Any] = {
    "type": "extension-definition",
    "spec_version": "2.1",
    "id": RETRACTION_EXTENSION_ID,
    "created_by_ref": ACCORD_IDENTITY_ID,
    "created": "2026-11-27T00:00:00.000Z",
    "modified": "2026-11-27T00:00:00.000Z",
    "name": "Accord retraction",
    "description": (
        "Marks a revoked version as a retraction: the producer withdrew an object shared by "
        "mistake. Accord nodes that hold the object delete its earlier versions and pass the "
        "retraction on; other consumers should treat the object as revoked and discard it."
    ),
    "schema": orjson.dumps(_SCHEMA).decode(),
    "version": "1.0.0",
    "extension_types": ["property-extension"],
}

# Kept in a tombstone beyond what the type requires: who made it, and how it is marked.
_KEPT = frozenset({"created_by_ref", "object_marking_refs"})


@dataclass(frozen=True, slots=True)
class RetractReport:
    """What one retraction did here."""

    object_id: str
    version: str  # the tombstone's modified
    purged: int  # earlier versions deleted from this node
    collections: int  # collections that now hold the tombstone
    already: bool = False  # it was retracted before: nothing changed


def is_retraction(obj: object) -> bool:
    """The object is an Accord tombstone: revoked, with the retraction extension."""
    if not isinstance(obj, dict) or obj.get("revoked") is not True:
        return False
    ext = obj.get("extensions")
    return isinstance(ext, dict) and isinstance(ext.get(RETRACTION_EXTENSION_ID), dict)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tombstone(current: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The retraction version of an object, from its current version.

    Raises:
        InvalidObject: the object has no ``modified`` (an SCO or a marking): it has
            no versions, so it cannot be superseded.
    """
    oid = str(current.get("id"))
    if "modified" not in current:
        raise InvalidObject(oid, "modified", "an object without versions cannot be retracted")
    rule = STIX_TYPES.get(str(current.get("type")))
    required = rule.required if rule is not None else frozenset()
    base = {"type", "spec_version", "id", "created", "modified"}
    keep = base | required | _KEPT
    out = {k: v for k, v in current.items() if k in keep}
    # Strictly later than the current version, at the millisecond precision of §3.2.
    now = now or datetime.now(UTC)
    moment = now.replace(microsecond=now.microsecond // 1000 * 1000)
    earliest = parse_timestamp(str(current["modified"])) + timedelta(milliseconds=1)
    moment = max(moment, earliest)
    stamp = _stamp(moment)
    out["modified"] = stamp
    out["revoked"] = True
    out["extensions"] = {
        RETRACTION_EXTENSION_ID: {"extension_type": "property-extension", "retracted": stamp}
    }
    return out


def extension_record() -> Record:
    """The extension definition as a record (the same bytes on every node)."""
    return prepare(EXTENSION_DEFINITION)


def retract(node: Node, object_id: str) -> RetractReport:
    """Retract an object here: tombstone in its collections, earlier versions deleted.

    Raises:
        NotFound: no object has that id.
        InvalidObject: the object has no versions (SCOs, marking definitions).
    """
    store = node.store
    versions = list(store.query(Query(ids=(object_id,), all_versions=True, include_revoked=True)))
    if not versions:
        raise NotFound(object_id)
    # The current version is the latest by `modified` (STIX 2.1 §3.6), not the one
    # stored last: an older version imported after a retraction must not hide it.
    current = orjson.loads(max(versions, key=lambda v: v.version).data)
    if is_retraction(current):
        return RetractReport(object_id, str(current["modified"]), 0, 0, already=True)
    record = prepare(tombstone(current))
    source_pk = store.ensure_source("local", "retract")
    with store.federation_tx() as ftx:
        collections = sorted(ftx.collections_of(object_id))
        ftx.writer.add(
            [extension_record(), record], source_pk=source_pk, collection_pks=collections
        )
        purged = ftx.purge(object_id, record.version)
        ftx.record_retraction(object_id, record.version, "local", node.info.name, purged)
    return RetractReport(
        object_id, str(orjson.loads(record.data)["modified"]), purged, len(collections)
    )


def apply_pulled(
    ftx: FederationTx,
    record: Record,
    *,
    peer_name: str,
    source_pk: int,
    into_pk: int | None,
) -> int | None:
    """Honour a tombstone pulled from a peer; returns the versions purged (None: not honoured).

    A retraction is honoured when the peer delivered some version of the object
    (or the object is not here at all): a peer cannot withdraw what others gave
    us. Otherwise the tombstone is kept as an ordinary revoked version.
    """
    sources = ftx.sources_of(record.id)
    into = [into_pk] if into_pk is not None else []
    if sources and ("peer", peer_name) not in sources:
        ftx.writer.add([record], source_pk=source_pk, collection_pks=into)
        return None
    collections = sorted(ftx.collections_of(record.id) | set(into))
    ftx.writer.add([record], source_pk=source_pk, collection_pks=collections)
    purged = ftx.purge(record.id, record.version)
    ftx.record_retraction(record.id, record.version, "peer", peer_name, purged)
    return purged
