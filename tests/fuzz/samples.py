"""Small fixed things the fuzz targets work against: objects, a node, a matcher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accord.patterns import Matcher
from accord.service.ingest import ingest_objects
from accord.service.node import Node, init_node, open_node
from accord.service.sharing import create_collection
from accord.settings import load_settings
from accord.stix import TLP2_ID_OF, Tlp

NOW = "2026-12-01T00:00:00.000Z"
NODE_IDENTITY = "identity--6f1c0d3e-1b7a-4c55-9d0e-2a4b8c9e7f10"
_PARTNER = "identity--0d9b5c2a-7e41-4f3a-8b6c-1e2f3a4b5c6d"
_RESIDENCY = "marking-definition--3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98"

OBJECTS: list[dict[str, Any]] = [
    {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-11-01T10:00:00.000Z",
        "modified": "2026-11-02T10:00:00.000Z",
        "created_by_ref": _PARTNER,
        "name": "C2 of a phishing kit, reported by ops@partner.example",
        "description": "Seen from 10.1.2.3 by alice@victim.example.",
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-11-01T10:00:00.000Z",
        "confidence": 80,
        "labels": ["phishing"],
        "object_marking_refs": [TLP2_ID_OF[Tlp.AMBER]],
    },
    {
        "type": "sighting",
        "spec_version": "2.1",
        "id": "sighting--4f4a7b1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
        "created": "2026-11-20T08:00:00.000Z",
        "modified": "2026-11-20T08:00:00.000Z",
        "created_by_ref": NODE_IDENTITY,
        "sighting_of_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "where_sighted_refs": [_PARTNER],
        "count": 3,
    },
    {
        "type": "note",
        "spec_version": "2.1",
        "id": "note--a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "created": "2026-11-25T12:00:00.000Z",
        "modified": "2026-11-25T12:00:00.000Z",
        "content": "Call +33 1 23 45 67 89 or write to bob@cert.example; host 192.168.10.4.",
        "object_refs": ["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"],
        "object_marking_refs": [TLP2_ID_OF[Tlp.GREEN], _RESIDENCY],
    },
    {
        "type": "identity",
        "spec_version": "2.1",
        "id": _PARTNER,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Partner CERT",
        "identity_class": "organization",
    },
    {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": "domain-name--1c9f5e0a-2b3d-5c4e-9f6a-7b8c9d0e1f2a",
        "value": "login.bad.example",
    },
]

INDICATORS = (
    "[ipv4-addr:value = '198.51.100.7']",
    "[ipv4-addr:value ISSUBSET '203.0.113.0/24']",
    "[domain-name:value LIKE '%.bad.example']",
    "[url:value MATCHES '^https?://[a-z]+\\\\.example/(a|b)+$']",
    "[network-traffic:dst_port = 4444 AND network-traffic:dst_ref.value = '198.51.100.7']",
    "[domain-name:value = 'a.example'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.1'] "
    "WITHIN 60 SECONDS",
    "[file:hashes.'SHA-256' = "
    "'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb'] REPEATS 2 TIMES",
)


def matcher() -> Matcher:
    """A matcher with the sample indicators (a fresh one: its windows keep state)."""
    m = Matcher(regex_timeout=0.05)
    for n, pattern in enumerate(INDICATORS):
        m.add(f"indicator--00000000-0000-4000-8000-{n:012d}", pattern)
    return m


def make_node(home: Path) -> tuple[Node, int]:
    """A SQLite node in ``home`` holding `OBJECTS` in one collection; and the collection's pk."""
    settings = load_settings({"ACCORD_HOME": str(home), "ACCORD_DATABASE_URL": ""})
    init_node(settings, "fuzz")
    node = open_node(settings)
    collection = create_collection(node, "intel")
    outcomes = ingest_objects(
        node, list(OBJECTS), source=("local", "fuzz"), collection_pks=[collection.pk]
    )
    assert all(o.ok for o in outcomes), outcomes
    return node, collection.pk
