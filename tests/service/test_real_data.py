"""Real third-party data through the whole import path, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import orjson

from accord.service.ingest import import_paths
from accord.service.node import Node
from accord.service.query import build_query, search


def _count_objects(paths: list[Path]) -> int:
    return sum(len(orjson.loads(p.read_bytes())["objects"]) for p in paths)


def test_attack_enterprise_ics_mobile(node: Node, shared_data: Path) -> None:
    files = [
        shared_data / "attack" / f
        for f in (
            "enterprise-attack-18.1-derived-stix21.json",
            "ics-attack-18.1.json",
            "mobile-attack-17.1.json",
        )
    ]
    report = import_paths(node, [str(f) for f in files], collection="attack")
    assert report.read == _count_objects(files)
    assert report.invalid_count == 0, [str(r) for r in report.invalid[:5]]
    # Enterprise and ICS/Mobile ship a few objects under the same (id, modified)
    # with different content: the first stays, the others are reported.
    assert report.stored + report.duplicates + report.conflict_count == report.read
    assert 0 < report.conflict_count < 10
    assert report.stored == node.store.stats().versions
    again = import_paths(node, [str(f) for f in files], collection="attack")
    assert (again.stored, again.conflict_count) == (0, report.conflict_count)
    assert again.duplicates == report.stored + report.duplicates
    # T1059 Command and Scripting Interpreter is an attack-pattern of Enterprise.
    found = list(
        search(
            node,
            build_query(node, types=["attack-pattern"], text="Command and Scripting Interpreter"),
        )
    )
    assert any(b"T1059" in o.data for o in found)


def test_unit42_eset_oasis(node: Node, shared_data: Path) -> None:
    unit42 = shared_data / "unit42" / "playbook_json"
    eset = shared_data / "eset" / "stix21"
    oasis = shared_data / "oasis"
    report = import_paths(node, [str(unit42), str(eset), str(oasis)], collection="vendors")
    assert report.invalid_count == 0, [str(r) for r in report.invalid[:5]]
    assert not report.failed_inputs, [str(f) for f in report.failed_inputs]
    # Every Unit 42 object is STIX 2.0, lifted on the way in.
    assert report.lifted >= 51_920
    assert report.stored + report.duplicates + report.conflict_count == report.read
    # A domain from the IcedID playbook's patterns is found by value.
    hits = list(search(node, build_query(node, value="WAAFEFUVUKO.com")))
    assert {o.type for o in hits} == {"indicator"}
    data = orjson.loads(hits[0].data)
    assert data["spec_version"] == "2.1" and data["pattern_type"] == "stix"
    assert "labels" not in data and data["indicator_types"]
