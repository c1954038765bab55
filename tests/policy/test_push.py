"""Pushes to peers go through the same gate: objects_for_peer obeys the agreements."""

from __future__ import annotations

from accord.policy import Tlp
from accord.service import egress
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from accord.service.sync import objects_for_peer
from accord.store import PageQuery, Peer
from tests.policy.objects import indicator


def test_objects_for_peer_filter_and_redact_by_the_agreement(node: Node) -> None:
    c = node.store.create_collection("out")
    objs = [
        indicator(1, Tlp.CLEAR, description="contact +33 1 23 45 67 89"),
        indicator(2, Tlp.AMBER),
        indicator(3, Tlp.CLEAR),
    ]
    outcomes = ingest_objects(node, list(objs), source=("file", "x"), collection_pks=[c.pk])
    assert all(o.ok for o in outcomes)
    items = node.store.collection_page(PageQuery(c.pk, limit=100)).items
    candidates = [(i.date_added, i.obj, n == 2) for n, i in enumerate(items)]
    peer = Peer(
        1,
        "node-b",
        "http://127.0.0.1:9",
        "/api/v21/",
        None,
        None,
        "x",
        (c.pk,),
        None,
        True,
        60,
        0,
        None,
        None,
        None,
        None,
        None,
        0,
    )
    # Without an agreement: everything the peer did not send us.
    assert [o.id for o in objects_for_peer(node, peer, candidates, c.pk)] == [
        objs[0]["id"],
        objs[1]["id"],
    ]
    folder = egress.agreements_dir(node)
    folder.mkdir()
    (folder / "b.toml").write_text(
        'members = ["node-b"]\ntlp_ceiling = "green"\n[redact]\npersonal = ["phone"]\n'
    )
    chosen = objects_for_peer(node, peer, candidates, c.pk)
    assert [o.id for o in chosen] == [objs[0]["id"]]
    assert b"+33 1 23 45 67 89" not in chosen[0].data and b"[redacted-phone]" in chosen[0].data
