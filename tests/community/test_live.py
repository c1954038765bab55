"""Five real Accord nodes on loopback, in a chain and in a ring, governing one community.

Each node runs ``accord serve`` (its background sync pulls its neighbours'
``community`` collections into its ``community-inbox`` every second); the
test casts the votes on the nodes' own databases as a member's operator would.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import orjson
import pytest

from accord.community import View, vote
from accord.service import community, sync
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from accord.service.sharing import create_collection, grant
from accord.stix import prepare
from accord.store import Query
from tests.federation.nodes import LiveNode, free_port, indicator, live_nodes, wait_for

MALWARE_ID = f"malware--{uuid.UUID(int=77, version=4)}"
MALWARE = {
    "type": "malware",
    "spec_version": "2.1",
    "id": MALWARE_ID,
    "created": "2024-01-01T00:00:00.000Z",
    "modified": "2024-01-01T00:00:00.000Z",
    "name": "loader",
    "is_family": True,
}
N = 5
LIMIT = 40.0


def _edges(topology: str) -> list[tuple[int, int]]:
    chain = [(i, i + 1) for i in range(N - 1)]
    return [*chain, (N - 1, 0)] if topology == "ring" else chain


def _setup(make: object, tmp_path: Path, topology: str) -> list[LiveNode]:
    nodes = [make(f"n{i}") for i in range(N)]  # type: ignore[operator]
    for n in nodes:
        n.port = free_port()
    cards = []
    for i, n in enumerate(nodes):
        with n.open() as node:
            cards.append(community.card(node, "DE" if i % 2 else "FR"))
    genesis = tmp_path / "genesis.json"
    with nodes[0].open() as node:
        community.create(node, genesis, name="five", jurisdiction="FR", founders=cards[1:])
    for n in nodes[1:]:
        with n.open() as node:
            community.sign(node, genesis)
    for n in nodes:
        with n.open() as node:
            community.join(node, genesis)
            c = create_collection(node, "shared")
            ingest_objects(node, [indicator(1), MALWARE], source=("file", "seed"),
                           collection_pks=[c.pk])  # fmt: skip
            reader = node.store.create_member("reader")
            n.tokens["reader"] = node.store.create_token(reader.pk)[0]
            grant(node, "shared", "reader", read=True, write=False)
    for a, b in _edges(topology):
        for src, dst in ((nodes[a], nodes[b]), (nodes[b], nodes[a])):
            with src.open() as node:  # src serves dst
                m = node.store.create_member(dst.name, identity_id=_node_id(dst))
                token = node.store.create_token(m.pk)[0]
                grant(node, community.COLLECTION, dst.name, read=True, write=False)
                cid = node.store.collection(community.COLLECTION).id
            with dst.open() as node:
                sync.add_peer(
                    node,
                    src.name,
                    url=src.url,
                    api_root="/api/v21/",
                    collection=cid,
                    token=token,
                    into=community.INBOX,
                    interval=1,
                )
    for n in nodes:
        n.serve()
    return nodes


def _node_id(n: LiveNode) -> str:
    with n.open() as node:
        return node.info.id


def _views(nodes: list[LiveNode]) -> list[View]:
    out = []
    for n in nodes:
        with n.open() as node:
            out.append(community.view(node))
    return out


def _served(n: LiveNode) -> bytes:
    with n.open() as node:
        cid = node.store.collection("shared").id
    r = httpx.get(
        f"{n.url}/api/v21/collections/{cid}/objects/",
        headers={
            "Authorization": f"Bearer {n.tokens['reader']}",
            "Accept": "application/taxii+json;version=2.1",
        },
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.content


def _stored(n: LiveNode, object_id: str) -> bytes:
    with n.open() as node:
        return next(node.store.query(Query(ids=(object_id,)))).data


def _cast_when_seen(n: LiveNode, pid: str, choice: str = "yes") -> None:
    def seen() -> bool:
        with n.open() as node:
            return pid in community.view(node).proposals

    wait_for(f"{n.name} to receive proposal {pid[:12]}", seen, LIMIT)
    with n.open() as node:
        community.cast(node, pid, choice)


def _everywhere(nodes: list[LiveNode], what: str, check: object) -> None:
    for n in nodes:

        def holds(n: LiveNode = n) -> bool:
            with n.open() as node:
                return bool(check(node))  # type: ignore[operator]

        wait_for(f"{what} on {n.name}", holds, LIMIT)


@pytest.mark.parametrize("topology", ["chain", "ring"])
def test_five_nodes_govern_one_community(tmp_path: Path, topology: str) -> None:
    with live_nodes(tmp_path) as make:
        nodes = _setup(make, tmp_path, topology)
        ids = [_node_id(n) for n in nodes]
        before = [_served(n) for n in nodes]
        for body in before:
            assert MALWARE_ID.encode() in body

        # 1. A norm proposed at one end, adopted everywhere once the votes spread;
        #    n2 equivocates (yes and no), and is caught on every node.
        with nodes[0].open() as node:
            p1 = community.propose(
                node, {"type": "adopt-norm", "norm": {"name": "no-malware",
                                                      "rule": {"exclude_types": ["malware"]}}}
            ).id  # fmt: skip
            community.cast(node, p1, "yes")
        for i in (1, 3, 4):
            _cast_when_seen(nodes[i], p1)
        _cast_when_seen(nodes[2], p1, "yes")
        with nodes[2].open() as node:
            community.cast(node, p1, "no")
        _everywhere(nodes, "the norm adopted", lambda nd: community.view(nd).state.height == 1)
        _everywhere(
            nodes,
            "n2's equivocation",
            lambda nd: (
                [(f.member, f.kind) for f in community.view(nd).faults]
                == [(ids[2], "two votes on one proposal")]
            ),
        )
        indicator_bytes = _stored(nodes[0], indicator(1)["id"])
        for n in nodes:
            body = _served(n)
            assert MALWARE_ID.encode() not in body
            assert indicator_bytes in body  # the rest as stored, byte for byte
            assert orjson.loads(body)["objects"] == [orjson.loads(indicator_bytes)]

        # 2. n4 removed; its later vote counts nowhere.
        with nodes[0].open() as node:
            p2 = community.propose(node, {"type": "remove", "member": ids[4]}).id
            community.cast(node, p2, "yes")
        for i in (1, 2, 3):
            _cast_when_seen(nodes[i], p2)
        _everywhere(nodes, "n4 removed", lambda nd: community.view(nd).state.member(ids[4]) is None)

        # 3. n0 rotates its key; a vote with the new key counts everywhere, and n4's
        #    vote (signed with its own key, forced into its own collection) counts nowhere.
        with nodes[0].open() as node:
            p3 = community.propose(node, community.rotation(node)).id
            community.cast(node, p3, "yes")
        with nodes[4].open() as node:
            charter = community.require(node)
            forced = vote(community.signing_key(node), charter.id, ids[4],
                          community.now_stamp(), p3, "yes")  # fmt: skip
            _force(node, forced)
        for i in (1, 3):
            _cast_when_seen(nodes[i], p3)
        _everywhere(nodes, "n0's new key", lambda nd: community.view(nd).state.height == 3)
        with nodes[0].open() as node:
            new_key = community.view(node).state.member(ids[0])
            assert new_key is not None
            assert new_key.key not in {m.key for m in community.require(node).members}
            p4 = community.propose(node, {"type": "repeal-norm", "name": "no-malware"}).id
            community.cast(node, p4, "yes")  # signed with the new key
        for i in (1, 3):
            _cast_when_seen(nodes[i], p4)
        _everywhere(nodes, "the repeal", lambda nd: community.view(nd).state.height == 4)
        views = _views(nodes[:4])
        assert len({v.state.hash for v in views}) == 1
        for v in views:
            assert v.state.member(ids[0]) == new_key
            tally = v.proposals[p3].tally
            assert (tally.yes, tally.eligible) == (3, 4)  # n4's vote is not among them
        for n in nodes:
            assert MALWARE_ID.encode() in _served(n)  # the repeal reopened it


def _force(node: Node, data: bytes) -> None:
    """What a misbehaving node does: a record in its collection without the checks."""
    from accord.community import read_record
    from accord.service import _community_wire as wire

    charter = community.require(node)
    rec = prepare(wire.to_stix(read_record(data, charter.id), charter.id))
    source = node.store.ensure_source("local", "forced")
    with node.store.writer() as w:
        w.add([rec], source_pk=source, collection_pks=[node.store.collection("community").pk])
