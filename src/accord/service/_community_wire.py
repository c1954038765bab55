"""Community records on the wire: STIX 2.1 objects of Accord's own type.

A record travels as a new STIX Domain Object (STIX 2.1 §7.3, ``new-sdo``) of
type ``accord-community-record``, described by one ``extension-definition``
with a stable id and fixed bytes, the same on every Accord node, which travels
in the community collection beside the records::

    {"type": "accord-community-record", "spec_version": "2.1",
     "id": "accord-community-record--<UUIDv5 of the record id and signature>",
     "created": <the record's created>, "modified": <the same>,
     "community": <the charter id>, "record_id": <the record id>,
     "record": <the record's canonical JSON, as a string>,
     "extensions": {EXTENSION_ID: {"extension_type": "new-sdo"}}}

The record is carried as a string so that its signed bytes arrive exactly as
signed, whatever a TAXII server in between does to JSON whitespace or key order.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from accord.community import Record
from accord.service._sync_retract import ACCORD_IDENTITY_ID
from accord.stix import Record as StixRecord
from accord.stix import prepare

RECORD_TYPE = "accord-community-record"
COMMUNITY_EXTENSION_ID = "extension-definition--9c4f2a71-6b3e-4d85-a0f7-3e21b5c8d946"
_NS = uuid.UUID("4b1d6e2a-93c7-4f05-8e6a-d27c51f0b3a8")

_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Accord community record",
    "type": "object",
    "properties": {
        "type": {"const": RECORD_TYPE},
        "community": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "record_id": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "record": {"type": "string"},
    },
    "required": ["community", "record_id", "record"],
}

EXTENSION_DEFINITION: dict[str, Any] = {
    "type": "extension-definition",
    "spec_version": "2.1",
    "id": COMMUNITY_EXTENSION_ID,
    "created_by_ref": ACCORD_IDENTITY_ID,
    "created": "2026-12-06T00:00:00.000Z",
    "modified": "2026-12-06T00:00:00.000Z",
    "name": "Accord community record",
    "description": (
        "A signed record of an Accord community's governance: a proposal, a vote or a "
        "withdrawal (RFC 8785 canonical JSON signed with Ed25519, carried as the string "
        "`record`). Accord nodes verify it against the community's charter and state; "
        "other consumers may ignore it."
    ),
    "schema": orjson.dumps(_SCHEMA).decode(),
    "version": "1.0.0",
    "extension_types": ["new-sdo"],
}


def extension_record() -> StixRecord:
    """The extension definition, as stored (the same bytes on every node)."""
    return prepare(EXTENSION_DEFINITION)


def to_stix(record: Record, community: str) -> dict[str, Any]:
    """The STIX object carrying a record."""
    return {
        "type": RECORD_TYPE,
        "spec_version": "2.1",
        "id": stix_id(record),
        "created": record.created,
        "modified": record.created,
        "community": community,
        "record_id": record.id,
        "record": record.data.decode(),
        "extensions": {COMMUNITY_EXTENSION_ID: {"extension_type": "new-sdo"}},
    }


def stix_id(record: Record) -> str:
    """The STIX id of a record's object: one per record id *and* signature, so that a
    forged copy of a record (same body, another signature) never takes its place."""
    return f"{RECORD_TYPE}--{uuid.uuid5(_NS, record.id + record.sig)}"


def from_stix(data: bytes) -> tuple[str, bytes] | None:
    """The STIX id and the record bytes a stored object carries (None: not a record)."""
    if b'"accord-community-record"' not in data:
        return None
    obj = orjson.loads(data)
    if not isinstance(obj, dict) or obj.get("type") != RECORD_TYPE:
        return None
    record = obj.get("record")
    return (str(obj.get("id")), record.encode()) if isinstance(record, str) else None
