"""Three real Accord nodes on loopback: A produces, B pulls from A, C pulls from B.

Each node has its own database and port and runs as an ``accord serve``
subprocess whose background sync does the pulling, as in production.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.service import sync
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from accord.store import Query
from tests.federation.nodes import CLI, indicator, live_nodes, stix_id, wait_for

N = 200


def _graph() -> list[dict[str, Any]]:
    """Indicators, a malware, relationships and a sighting between them, a report over them."""
    objs = [indicator(n) for n in range(N)]
    mal = {
        "type": "malware",
        "spec_version": "2.1",
        "id": stix_id("malware"),
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "loader",
        "is_family": True,
    }
    objs.append(mal)
    stamp = "2024-01-01T00:00:00.000Z"
    for n in range(5):
        objs.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": stix_id("relationship"),
                "created": stamp,
                "modified": stamp,
                "relationship_type": "indicates",
                "source_ref": objs[n]["id"],
                "target_ref": mal["id"],
            }
        )
    objs.append(
        {
            "type": "sighting",
            "spec_version": "2.1",
            "id": stix_id("sighting"),
            "created": stamp,
            "modified": stamp,
            "sighting_of_ref": objs[0]["id"],
        }
    )
    objs.append(
        {
            "type": "report",
            "spec_version": "2.1",
            "id": stix_id("report"),
            "created": stamp,
            "modified": stamp,
            "name": "campaign",
            "published": stamp,
            "object_refs": [o["id"] for o in objs[:10]] + [mal["id"]],
        }
    )
    return objs


def _current(node: Node, collection: str) -> dict[str, bytes]:
    pk = node.store.collection(collection).pk
    found = node.store.query(Query(collection_pk=pk, include_revoked=True))
    return {o.id: o.data for o in found}


def _all_versions(node: Node, object_id: str) -> list[str]:
    found = node.store.query(Query(ids=(object_id,), all_versions=True, include_revoked=True))
    return [o.version for o in found]


def _sources(node: Node, object_id: str) -> list[tuple[str, str]]:
    q = Query(ids=(object_id,), all_versions=True, include_revoked=True)
    out: list[tuple[str, str]] = []
    for o in node.store.query(q):
        out.extend((p.kind, p.name) for p in node.store.provenance(o.added))
    return out


@pytest.fixture(params=["sqlite", "postgres"])
def b_database(request: pytest.FixtureRequest) -> str:
    """B's database: its own SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("postgres_url"))


def test_a_to_b_to_c_with_provenance_relationships_and_retraction(
    tmp_path: Path, b_database: str
) -> None:
    with live_nodes(tmp_path) as make:
        a, b, c = make("a"), make("b", b_database), make("c")
        a.port = b.port = c.port = 0
        a_col, b_token = a.share("intel", "node-b")
        graph = _graph()
        with a.open() as node:
            outcomes = ingest_objects(
                node, list(graph), source=("file", "seed.json"), collection_pks=[a_col.pk]
            )
            assert all(o.ok for o in outcomes)
        a.serve()
        b_col, c_token = b.share("from-a", "node-c")
        b.pull_from(a, a_col, b_token, "from-a", interval=1)
        b.serve()
        c.pull_from(b, b_col, c_token, "from-b", username="node-c", interval=1)  # HTTP Basic
        c.serve()

        ids = {o["id"] for o in graph}

        def c_has_all() -> bool:
            with c.open() as node:
                try:
                    return set(_current(node, "from-b")) == ids
                except KeyError:
                    return False

        wait_for("C to hold everything A produced", c_has_all)
        with a.open() as na, b.open() as nb, c.open() as nc:
            at_a, at_b, at_c = _current(na, "intel"), _current(nb, "from-a"), _current(nc, "from-b")
            # The same bytes at every node: relationships, the sighting and the report
            # arrived with the objects they point at.
            assert at_a == at_b == at_c
            for obj in graph[N:]:
                assert obj["id"] in at_c, obj["type"]
            sample = graph[0]["id"]
            assert _sources(nb, sample) == [("peer", "a")]
            assert _sources(nc, sample) == [("peer", "b")]
            when = nc.store.provenance(next(nc.store.query(Query(ids=(sample,)))).added)[0].when
            assert when > 0
            views = {v.peer.name: v for v in sync.list_peers(nc)}
            assert views["b"].peer.last_error is None and views["b"].peer.last_pull

        # A revocation is an ordinary new version: it travels, nothing is purged.
        revoked = indicator(1, modified="2024-06-01T00:00:00.000Z", revoked=True)
        with a.open() as node:
            assert ingest_objects(
                node, [revoked], source=("file", "revoke.json"), collection_pks=[a_col.pk]
            )[0].ok

        def c_has_revocation() -> bool:
            with c.open() as node:
                return len(_all_versions(node, revoked["id"])) == 2

        wait_for("the revocation to reach C", c_has_revocation)

        # A retraction at A reaches C through B, and both purge the object.
        target = graph[2]["id"]
        done = a.cli("retract", target)
        assert done.returncode == 0, done.stderr
        assert "1 earlier version(s) deleted" in done.stdout

        def c_retracted() -> bool:
            with c.open() as node:
                return any(r.object_id == target for r in sync.retractions(node))

        wait_for("the retraction to reach C", c_retracted)
        for live, origin in ((b, "a"), (c, "b")):
            with live.open() as node:
                versions = list(
                    node.store.query(Query(ids=(target,), all_versions=True, include_revoked=True))
                )
                assert len(versions) == 1
                tomb = orjson.loads(versions[0].data)
                assert tomb["revoked"] is True
                assert sync.RETRACTION_EXTENSION_ID in tomb["extensions"]
                assert "name" not in tomb  # the content shared by mistake is gone
                record = next(r for r in sync.retractions(node) if r.object_id == target)
                assert (record.origin_kind, record.origin, record.purged) == ("peer", origin, 1)
                # The revoked indicator was not retracted: both its versions stay.
                assert len(_all_versions(node, revoked["id"])) == 2
        listed = c.cli("peer", "list")
        assert listed.returncode == 0, listed.stderr
        assert c_token not in listed.stdout and "ok" in listed.stdout


def test_sigkill_in_the_middle_of_a_pull_resumes_without_duplicate_or_gap(
    tmp_path: Path,
) -> None:
    total = 5000
    with live_nodes(tmp_path) as make:
        a = make("a")
        a_col, token = a.share("intel", "node-d")
        with a.open() as node:
            objs: list[object] = [indicator(n) for n in range(total)]
            assert all(
                o.ok
                for o in ingest_objects(
                    node, objs, source=("file", "big.json"), collection_pks=[a_col.pk]
                )
            )
        a.serve()
        d = make("d", ACCORD_SYNC_PAGE="100", ACCORD_BATCH_SIZE="300")
        d.pull_from(a, a_col, token, "from-a")
        proc = subprocess.Popen(
            [*CLI, "sync"], env=d.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                with d.open() as node:
                    if node.store.peer("a").pull_cursor is not None:
                        break
                assert proc.poll() is None, "the sync ended before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        with d.open() as node:
            before = len(_current(node, "from-a"))
            cursor = node.store.peer("a").pull_cursor
        assert 0 < before < total  # killed in the middle
        again = d.cli("sync")
        assert again.returncode == 0, again.stdout + again.stderr
        pulled = int(again.stdout.split("pulled ")[1].split(" ")[0].replace(",", ""))
        # It resumed from the cursor: at most the page in flight comes again.
        assert pulled <= total - before + 100, (pulled, before, cursor)
        with d.open() as node:
            held = node.store.query(
                Query(collection_pk=node.store.collection("from-a").pk, all_versions=True)
            )
            versions = [o.id for o in held]
            assert len(versions) == len(set(versions)) == total
            assert set(versions) == {indicator(n)["id"] for n in range(total)}
            assert node.store.stats().versions == total
