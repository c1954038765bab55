"""Three real nodes on loopback: members' judgement travels, counts once, and is acted on.

A publishes indicators. B and C pull them, match real Zeek logs and push their
sightings back to A. C reports one indicator as a false positive; A gets the
report by C's push, B by pulling C's opinions. A's and B's standings change,
B's matcher (ACCORD_FP_SUPPRESS_MEMBERS=1) suppresses the indicator and says
why, A's feedback shows what B and C sent, and an opinion C forges in B's name
is refused by A (pushed) and by B (pulled). Every node runs ``accord serve``,
whose background sync does the pulling and pushing, as in production.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.service import match, sync
from accord.service.ingest import ingest_objects
from accord.service.node import Node, read_info
from accord.standing import make_opinion
from accord.store import Collection, Query
from tests.federation.nodes import LiveNode, live_nodes, wait_for

C2 = "54.245.228.191"  # the web server of zat's conn/dns/http logs


def _indicators(author: str) -> list[dict[str, Any]]:
    stamp = "2012-01-01T00:00:00.000Z"
    base = {
        "type": "indicator",
        "spec_version": "2.1",
        "created": stamp,
        "modified": stamp,
        "pattern_type": "stix",
        "valid_from": stamp,
        "created_by_ref": author,
    }
    return [
        base
        | {
            "id": f"indicator--{uuid.uuid4()}",
            "name": "web server",
            "pattern": f"[ipv4-addr:value = '{C2}']",
        },
        base
        | {
            "id": f"indicator--{uuid.uuid4()}",
            "name": "dns",
            "pattern": "[domain-name:value = 'guyspy.com']",
        },
    ]


def _member(
    node: Node, name: str, identity: str, read: list[Collection], write: list[Collection]
) -> str:
    m = node.store.create_member(name, identity_id=identity)
    for c in {c.pk: c for c in [*read, *write]}.values():
        node.store.set_grant(c.pk, m.pk, c in read, c in write)
    return node.store.create_token(m.pk)[0]


def _held(live: LiveNode, object_id: str) -> bool:
    with live.open() as node:
        return bool(list(node.store.query(Query(ids=(object_id,), include_revoked=True))))


def _standing(live: LiveNode, object_id: str) -> tuple[float, int, int]:
    with live.open() as node:
        held = node.store.standings([object_id]).get(object_id)
    if held is None:
        return (0.0, 0, 0)
    return (held.standing.score, held.standing.members, held.standing.false_positives)


@pytest.fixture(params=["sqlite", "postgres"])
def a_database(request: pytest.FixtureRequest) -> str:
    """A's database: its own SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("postgres_url"))


def test_opinions_and_sightings_travel_count_once_and_are_acted_on(
    tmp_path: Path, a_database: str, shared_data: Path
) -> None:
    conn_log = shared_data / "zeek" / "zat" / "conn.log"
    with live_nodes(tmp_path) as make:
        a, b, c = make("a", a_database), make("b", ACCORD_FP_SUPPRESS_MEMBERS="1"), make("c")
        who = {n.name: read_info(n.home).id for n in (a, b, c)}
        web, dns = _indicators(who["a"])
        with a.open() as node:
            intel = node.store.create_collection("intel")
            inbox = node.store.create_collection("inbox")
            assert all(
                o.ok
                for o in ingest_objects(
                    node, [web, dns], source=("file", "seed"), collection_pks=[intel.pk]
                )
            )
            a_tokens = {m: _member(node, f"node-{m}", who[m], [intel], [inbox]) for m in ("b", "c")}
        with c.open() as node:
            opinions = node.store.create_collection("opinions")
            c_token = _member(node, "node-b", who["b"], [opinions], [])
        a.serve()
        c.serve()
        for live in (b, c):
            with live.open() as node:
                node.store.create_collection("sightings")
                if live is b:  # C made its own already
                    node.store.create_collection("opinions")
                sync.add_peer(
                    node,
                    "a",
                    url=a.url,
                    api_root="/api/v21/",
                    collection=intel.id,
                    token=a_tokens[live.name],
                    into="from-a",
                    push_collection=inbox.id,
                    push_from=["sightings", "opinions"],
                    interval=1,
                    identity_id=who["a"],
                )
        with b.open() as node:
            sync.add_peer(
                node,
                "c",
                url=c.url,
                api_root="/api/v21/",
                collection=opinions.id,
                token=c_token,
                into="from-c",
                interval=1,
                identity_id=who["c"],
            )
        b.serve()
        wait_for(
            "B and C to pull A's indicators",
            lambda: _held(b, web["id"]) and _held(c, web["id"]),
            60,
        )

        # B and C match real logs: their sightings go back to A.
        for live in (b, c):
            with live.open() as node:
                report = match.match_paths(node, [str(conn_log)])
            assert report.hits[web["id"]] > 0, report.summary()
        wait_for("A to receive both sightings", lambda: _standing(a, web["id"])[1] == 2, 60)
        score, members, fps = _standing(a, web["id"])
        assert score > 0.3 and fps == 0  # two members saw it fire: (0.5 + 0.5) / (1 + 2)

        # C reports it as a false positive, with the real CLI.
        done = c.cli("false-positive", web["id"], "--reason", "sinkholed", "--comment", "since May")
        assert done.returncode == 0, done.stderr
        assert "false positive: sinkholed" in done.stdout
        wait_for("A to count C's report", lambda: _standing(a, web["id"])[2] == 1, 60)
        wait_for("B to count C's report", lambda: _standing(b, web["id"])[2] == 1, 60)
        score, members, fps = _standing(a, web["id"])
        assert (
            members == 2 and score < 0
        )  # B's sighting +0.5, C's report -1 (its sighting no longer counts)
        score_b, members_b, _ = _standing(b, web["id"])
        assert members_b == 2 and score_b < 0  # B's own sighting and C's report
        assert _standing(b, dns["id"])[2] == 0

        # B's matcher suppresses it and says why; the other indicator is still matched.
        out = b.cli("match", str(conn_log))
        assert out.returncode == 0, out.stderr
        assert f"not sighted: {web['id']}" in out.stdout
        assert "false positive by 1 member(s) (sinkholed)" in out.stdout
        assert "suppressed by standing" in out.stdout

        # A, the producer, hears back: per member (both are members of A).
        fb = a.cli("feedback")
        assert fb.returncode == 0, fb.stderr
        block = fb.stdout.split(web["id"], 1)[1]
        assert "node-b: 1 sighting(s)" in block
        assert "node-c: 1 sighting(s)" in block and "1 false positive (sinkholed)" in block
        assert "others" not in block

        # C forges an opinion in B's name: A refuses it (pushed), B refuses it (pulled).
        forged = make_opinion(who["b"], web["id"], "strongly-agree", "2026-12-01T00:00:00.000Z")
        genuine = make_opinion(who["c"], dns["id"], "agree", "2026-12-01T00:00:00.000Z")
        with c.open() as node:
            pk = node.store.collection("opinions").pk
            ingest_objects(node, [forged, genuine], source=("file", "forged"), collection_pks=[pk])

        def refused_by_a() -> bool:
            with c.open() as node:
                failures = sync.push_failures(node, "a")
            return any(f.object_id == forged["id"] for f in failures)

        wait_for("A to refuse the forged opinion", refused_by_a, 60)
        with c.open() as node:
            [failure] = [f for f in sync.push_failures(node, "a") if f.object_id == forged["id"]]
        assert "is not member node-c's identity" in failure.message
        wait_for("B to pull C's genuine opinion", lambda: _held(b, genuine["id"]), 60)
        assert not _held(b, forged["id"]) and not _held(a, forged["id"])
        assert _standing(a, dns["id"])[1] == 1 and _standing(b, dns["id"])[1] == 1
        with a.open() as node:
            sent = {
                orjson.loads(o.data)["created_by_ref"]
                for o in node.store.query(Query(types=("opinion",)))
            }
        assert sent == {who["c"]}
