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
    files = [shared_data / "attack" / f for f in (
        "enterprise-attack-18.1-derived-stix21.json", "ics-attack-18.1.json", "mobile-attack-17.1.json")]
    report = import_paths(node, [str(f) for f in files], collection="attack")
    assert report.read == _count_objects(files)
    assert report.invalid_count == 0, [str(r) for r in report.invalid[:5]]
    assert report.stored + report.duplicates == report.read
    assert report.stored == node.store.stats().versions
    again = import_paths(node, [str(f) for f in files], collection="attack")
    assert (again.stored, again.duplicates) == (0, report.stored + report.duplicates)
    # T1059 Command and Scripting Interpreter is an attack-pattern of Enterprise.
    found = list(search(node, build_query(node, types=["attack-pattern"], text="Command and Scripting Interpreter")))
    assert any(b"T1059" in o.data for o in found)
