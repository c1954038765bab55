"""End to end with real nodes: A shares one collection with B under TLP:AMBER and with
C under TLP:CLEAR with anonymity and redaction; B and C pull over TAXII; each gets
exactly what its agreement says, byte for byte."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from stix2validator import ValidationOptions, validate_instance

from accord.policy import Tlp, neutral_identity
from accord.service import egress, sync
from accord.service.ingest import ingest_objects
from accord.store import PageQuery, Query
from accord.taxii import create_app
from accord.taxii.client import connector
from tests.conftest import NodeFactory
from tests.policy.objects import email_addr, indicator
from tests.taxii.live import running

SECRETS = ("dana@victim.example", "10.20.30.40", "+41 44 123 45 67", "evauser")


def test_three_nodes_each_get_what_their_agreement_says(make_node: NodeFactory) -> None:
    a = make_node(name="a")
    intel = a.store.create_collection("intel")
    tokens = {}
    for member in ("node-b", "node-c"):
        m = a.store.create_member(member)
        a.store.set_grant(intel.pk, m.pk, True, False)
        tokens[member] = a.store.create_token(m.pk)[0]
    text = (
        f"victim {SECRETS[0]} beaconed from {SECRETS[1]}, call {SECRETS[2]}, "
        f"dropped in C:\\Users\\{SECRETS[3]}\\AppData"
    )
    objs: list[dict[str, Any]] = [
        indicator(1, Tlp.CLEAR, description=text, created_by_ref=a.info.id),
        indicator(2, Tlp.CLEAR),
        indicator(3, Tlp.GREEN),
        indicator(4, Tlp.AMBER, description=text),
        indicator(5, Tlp.AMBER_STRICT),
        indicator(6, Tlp.RED),
        email_addr(SECRETS[0]) | {"object_marking_refs": [indicator(2)["object_marking_refs"][0]]},
    ]
    outcomes = ingest_objects(a, list(objs), source=("file", "seed"), collection_pks=[intel.pk])
    assert all(o.ok for o in outcomes)
    folder = egress.agreements_dir(a)
    folder.mkdir()
    (folder / "b.toml").write_text(
        'members = ["node-b"]\ncollections = ["intel"]\ntlp_ceiling = "amber"\n'
    )
    (folder / "c.toml").write_text(
        'members = ["node-c"]\ncollections = ["intel"]\ntlp_ceiling = "clear"\n'
        'attribution = "anonymous"\n[redact]\npersonal = ["all"]\n'
    )
    stored = {
        i.obj.id: i.obj.data for i in a.store.collection_page(PageQuery(intel.pk, limit=100)).items
    }
    with running(create_app(a.settings, a), a.settings) as url:
        received = {}
        for name, member in (("b", "node-b"), ("c", "node-c")):
            node = make_node(name=name, sync_page=2)
            sync.add_peer(
                node,
                "a",
                url=url,
                api_root="/api/v21/",
                collection=intel.id,
                token=tokens[member],
                into="from-a",
            )
            settings = dataclasses.replace(node.settings, peer_backoff=0.01, peer_timeout=5.0)
            report = sync.sync_peer(node, "a", connector(settings))
            assert report.ok, report.error
            pulled = node.store.collection("from-a")
            received[name] = {
                o.id: o.data for o in node.store.query(Query(collection_pk=pulled.pk))
            }
    ids = [o["id"] for o in objs]
    # B: TLP:AMBER and below, exactly the stored bytes (no redaction in its agreement).
    assert sorted(received["b"]) == sorted([*ids[:4], ids[6]])
    for oid, data in received["b"].items():
        assert data == stored[oid]
    # C: TLP:CLEAR only, redacted, anonymous; the e-mail address object stays home.
    assert sorted(received["c"]) == sorted(ids[:2])
    assert received["c"][ids[1]] == stored[ids[1]]
    copy = orjson.loads(received["c"][ids[0]])
    assert copy["created_by_ref"] == neutral_identity(a.info.id, "c")
    everything = b"".join(received["c"].values())
    for secret in SECRETS:
        assert secret.encode() not in everything, secret
    assert a.info.id.encode() not in everything
    expected = egress.open_gate(a, a.store.member("node-c"), intel).filter(
        a.store.collection_page(PageQuery(intel.pk, ids=(ids[0],))).items
    )
    assert received["c"][ids[0]] == expected[0].obj.data
    # What each received is valid STIX 2.1 (the OASIS validator).
    for data in [*received["b"].values(), *received["c"].values()]:
        result = validate_instance(orjson.loads(data), ValidationOptions(strict=False))
        assert result.is_valid, [str(e) for e in result.errors]
    # A still holds its own objects as they were.
    assert SECRETS[0].encode() in stored[ids[0]]
