"""Report drafts through the service, with a text-to-ATT&CK model trained from the node."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from accord.service import _report_attack, reports
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from accord.store import Query
from tests.conftest import NodeFactory

FAMILIES = ("T1059", "T1486", "T1566", "T1105")


def _attack_slice(shared_data: Path) -> list[object]:
    """The techniques of four families, their `uses` relationships, and the malware,
    tools and groups those relationships start from: enough to train in seconds."""
    bundle = shared_data / "attack" / "enterprise-attack-18.1-derived-stix21.json"
    objects = json.loads(bundle.read_text())["objects"]
    patterns = {
        o["id"]
        for o in objects
        if o["type"] == "attack-pattern"
        and any(
            r.get("external_id", "").startswith(FAMILIES) for r in o.get("external_references", [])
        )
    }
    uses = [
        o
        for o in objects
        if o["type"] == "relationship"
        and o["relationship_type"] == "uses"
        and o["target_ref"] in patterns
    ][:1500]
    sources = {o["source_ref"] for o in uses}
    keep = [o for o in objects if o["id"] in patterns or o["id"] in sources]
    return [*keep, *uses]


def _node_with_attack(make_node: NodeFactory, shared_data: Path) -> Node:
    node = make_node()
    outcomes = ingest_objects(
        node, _attack_slice(shared_data), source=("file", "attack"), collection_pks=[]
    )
    assert all(o.ok for o in outcomes)
    return node


def test_techniques_are_mapped_with_support_and_the_model_is_cached(
    make_node: NodeFactory, shared_data: Path, tmp_path: Path
) -> None:
    node = _node_with_attack(make_node, shared_data)
    doc = tmp_path / "report.txt"
    doc.write_text(
        "Operation Kettle\n\n"
        "The attackers sent spearphishing emails with a malicious Word attachment to staff.\n"
        "The macro launches PowerShell with an encoded command that downloads the next stage "
        "from hxxp://kettle-c2[.]org/a.ps1.\n"
        "Finally the ransomware encrypts the files on every share and drops a ransom note.\n"
    )
    told: list[str] = []
    draft = reports.import_report(node, str(doc), notify=told.append)
    assert len(told) == 1 and "training the text-to-ATT&CK model" in told[0]
    techniques = {t.attack_id: t for t in draft.extraction().techniques}
    families = {tid.split(".")[0] for tid in techniques}
    assert {"T1059", "T1486", "T1566"} <= families, techniques
    [powershell] = [t for tid, t in techniques.items() if tid.startswith("T1059")][:1]
    assert any("PowerShell" in s for s in powershell.sentences)
    assert -1.0 < powershell.score < 5.0 and not powershell.explicit
    cached = list((node.settings.home / "cache").glob("attack-model-*.pickle"))
    assert len(cached) == 1
    # Another report reuses the model: no training, same answer for the same sentences.
    _report_attack._loaded.clear()  # as a new process would start
    other = tmp_path / "other.txt"
    other.write_text(doc.read_text() + "\nNothing else happened.\n")
    again = reports.import_report(node, str(other), notify=told.append)
    assert len(told) == 1
    assert {t.attack_id for t in again.extraction().techniques} == set(techniques)
    # The STIX draft refers to the node's own attack-patterns.
    objects = draft.objects(node)
    report = objects[0]
    held = {o.id for o in node.store.query(Query(types=("attack-pattern",)))}
    refs = set(orjson.loads(orjson.dumps(report["object_refs"])))  # a list of ids
    assert refs & held
