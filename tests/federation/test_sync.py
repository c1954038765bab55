"""Pull, push, loops, duplicates, retraction rules and failing peers, against live TAXII servers.

The producing nodes are real Accord TAXII apps under uvicorn on loopback (in a
thread); the failing peers are small HTTP servers that answer 500 or never answer.
"""

from __future__ import annotations

import dataclasses
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from accord.service import sync
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from accord.store import Collection, Query
from accord.store import _schema as schema
from accord.taxii import create_app
from accord.taxii.client import connector
from tests.conftest import NodeFactory
from tests.federation.nodes import indicator, wait_for
from tests.taxii.live import running


@dataclasses.dataclass
class Producer:
    node: Node
    url: str
    collection: Collection
    token: str

    def add(self, objects: list[dict[str, Any]], source: str = "seed.json") -> None:
        outcomes = ingest_objects(
            self.node, list(objects), source=("file", source), collection_pks=[self.collection.pk]
        )
        assert all(o.ok for o in outcomes), outcomes


@contextmanager
def producer(make_node: NodeFactory, name: str) -> Iterator[Producer]:
    """A node with a collection 'intel' a member 'puller' may read and write, served."""
    node = make_node(name=name)
    col = node.store.create_collection("intel")
    member = node.store.create_member("puller")
    token = node.store.create_token(member.pk)[0]
    node.store.set_grant(col.pk, member.pk, True, True)
    with running(create_app(node.settings, node), node.settings) as url:
        yield Producer(node, url, col, token)


def _peer(node: Node, name: str, p: Producer, **extra: Any) -> None:
    args: dict[str, Any] = {
        "url": p.url,
        "api_root": "/api/v21/",
        "collection": p.collection.id,
        "token": p.token,
        "into": "pulled",
    }
    args.update(extra)
    sync.add_peer(node, name, **args)


def _connect(node: Node) -> sync.Connect:
    settings = dataclasses.replace(node.settings, peer_backoff=0.01, peer_timeout=2.0)
    return connector(settings)


def _versions(node: Node) -> int:
    return node.store.stats().versions


def test_pull_is_incremental_and_a_redelivered_page_changes_nothing(
    make_node: NodeFactory,
) -> None:
    with producer(make_node, "a") as a:
        a.add([indicator(n) for n in range(30)])
        b = make_node(name="b", sync_page=7)
        _peer(b, "a", a)
        first = sync.sync_peer(b, "a", _connect(b))
        assert first.ok, first.error
        assert first.pull is not None and first.pull.stored == 30 and first.pull.pages == 5
        assert _versions(b) == 30
        # Nothing new: one request, the last version again (the cursor overlaps by 1 µs).
        again = sync.sync_peer(b, "a", _connect(b))
        assert again.pull is not None and again.pull.stored == 0 and again.pull.pages == 1
        assert again.pull.received == 1
        a.add([indicator(n) for n in range(30, 40)])
        third = sync.sync_peer(b, "a", _connect(b))
        assert third.pull is not None and third.pull.stored == 10
        # The whole collection delivered again from the start: nothing changes.
        with b.store.write_tx() as conn:
            conn.execute(schema.peers.update().values(pull_cursor=None))
            provenance_before = conn.execute(select(schema.provenance)).all()
        redo = sync.sync_peer(b, "a", _connect(b))
        assert redo.pull is not None and redo.pull.stored == 0 and redo.pull.duplicates == 40
        assert _versions(b) == 40
        with b.store.engine.connect() as conn:
            assert conn.execute(select(schema.provenance)).all() == provenance_before
        pulled = b.store.collection("pulled")
        assert len(list(b.store.query(Query(collection_pk=pulled.pk)))) == 40
        sample = next(b.store.query(Query(ids=(indicator(3)["id"],))))
        assert [(p.kind, p.name) for p in b.store.provenance(sample.added)] == [("peer", "a")]


def test_an_object_from_two_peers_is_stored_once_with_both_provenances(
    make_node: NodeFactory,
) -> None:
    with producer(make_node, "a1") as a1, producer(make_node, "a2") as a2:
        shared = [indicator(n) for n in range(5)]
        a1.add(shared)
        a2.add([*shared, indicator(99)])
        b = make_node(name="b")
        _peer(b, "a1", a1)
        _peer(b, "a2", a2)
        reports = sync.sync(b, _connect(b))
        assert [r.ok for r in reports] == [True, True]
        assert _versions(b) == 6
        for obj in shared:
            stored = next(b.store.query(Query(ids=(obj["id"],))))
            sources = [(p.kind, p.name) for p in b.store.provenance(stored.added)]
            assert sources == [("peer", "a1"), ("peer", "a2")]


def test_push_sends_new_versions_keeps_refusals_and_never_returns_what_a_peer_gave(
    make_node: NodeFactory,
) -> None:
    with producer(make_node, "a") as a:
        from_a = [indicator(n) for n in range(3)]
        a.add(from_a)
        # A already holds another content under the version B will push: A refuses it.
        clash = indicator(50, name="what A has")
        a.add([clash])
        b = make_node(name="b")
        _peer(b, "a", a, into="mine", push_collection=a.collection.id, push_from=["mine"])
        ours = [indicator(n) for n in range(10, 14)]
        outcomes = ingest_objects(
            b,
            [*ours, indicator(50, name="what B has")],
            source=("file", "local.json"),
            collection_pks=[b.store.collection("mine").pk],
        )
        assert all(o.ok for o in outcomes)
        report = sync.sync_peer(b, "a", _connect(b))
        assert report.ok, report.error
        # A's clash conflicts with B's own version of it: B keeps its own.
        assert report.pull is not None and report.pull.stored == 3
        assert report.pull.conflicts == 1
        assert report.push is not None
        assert (report.push.sent, report.push.accepted, report.push.refused) == (5, 4, 1)
        assert report.push.skipped == 3  # what came from A is never sent back to A
        for obj in ours:
            held = next(a.node.store.query(Query(ids=(obj["id"],))))
            assert [p.kind for p in a.node.store.provenance(held.added)] == ["taxii"]
        # A's own objects did not come back: one source each at A.
        for obj in from_a:
            held = next(a.node.store.query(Query(ids=(obj["id"],))))
            assert len(a.node.store.provenance(held.added)) == 1
        failures = sync.push_failures(b, "a")
        assert [(f.object_id, f.version[:19]) for f in failures] == [
            (clash["id"], "2024-01-01T00:00:00")
        ]
        assert "already stored" in failures[0].message
        # The next push sends nothing again.
        again = sync.sync_peer(b, "a", _connect(b))
        assert again.push is not None and again.push.sent == 0
        assert [v.push_failures for v in sync.list_peers(b)] == [1]


def test_a_retraction_purges_and_a_late_older_copy_is_refused(make_node: NodeFactory) -> None:
    with producer(make_node, "a1") as a1, producer(make_node, "a2") as a2:
        target = indicator(7)
        a1.add([target, indicator(8)])
        a2.add([target])
        b = make_node(name="b")
        _peer(b, "a1", a1)
        assert sync.sync_peer(b, "a1", _connect(b)).ok
        retracted = sync.retract(a1.node, target["id"])
        assert retracted.purged == 1 and retracted.collections == 1
        report = sync.sync_peer(b, "a1", _connect(b))
        assert report.pull is not None and report.pull.retractions == 1
        assert report.pull.purged == 1
        versions = list(
            b.store.query(Query(ids=(target["id"],), all_versions=True, include_revoked=True))
        )
        assert len(versions) == 1 and sync.is_retraction(orjson.loads(versions[0].data))
        # A2 still serves the old version: it is refused, the object stays retracted.
        _peer(b, "a2", a2, into="pulled")
        late = sync.sync_peer(b, "a2", _connect(b))
        assert late.pull is not None and late.pull.refused_retracted == 1
        assert late.pull.stored == 0
        after = list(
            b.store.query(Query(ids=(target["id"],), all_versions=True, include_revoked=True))
        )
        assert [o.version for o in after] == [versions[0].version]
        # The extension definition travelled with it, the same bytes everywhere.
        ext = next(b.store.query(Query(ids=(sync.RETRACTION_EXTENSION_ID,))))
        assert orjson.loads(ext.data) == sync.EXTENSION_DEFINITION
        assert sync.retract(a1.node, target["id"]).already


def test_a_peer_cannot_retract_what_another_peer_gave(make_node: NodeFactory) -> None:
    with producer(make_node, "a1") as a1, producer(make_node, "rogue") as rogue:
        target = indicator(7)
        a1.add([target])
        rogue.add([target])
        sync.retract(rogue.node, target["id"])
        b = make_node(name="b")
        _peer(b, "a1", a1)
        assert sync.sync_peer(b, "a1", _connect(b)).ok
        _peer(b, "rogue", rogue, into="other")
        report = sync.sync_peer(b, "rogue", _connect(b))
        # The rogue's copy of the old version is a second provenance; its tombstone is
        # kept as an ordinary revoked version, but nothing is purged.
        assert report.pull is not None and report.pull.retractions == 0
        versions = list(
            b.store.query(Query(ids=(target["id"],), all_versions=True, include_revoked=True))
        )
        assert len(versions) == 2
        assert sync.retractions(b) == []


class _Bad(http.server.BaseHTTPRequestHandler):
    """Answers 500 to everything, or (``hang``) never answers."""

    hang = False
    calls = 0
    release = threading.Event()

    def do_GET(self) -> None:
        type(self).calls += 1
        if self.hang:
            self.release.wait(30)
            return
        body = b'{"title": "internal error"}'
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def _bad_server(hang: bool) -> Iterator[tuple[str, type[_Bad]]]:
    handler: type[_Bad] = type(
        "Handler", (_Bad,), {"hang": hang, "calls": 0, "release": threading.Event()}
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        handler.release.set()
        server.shutdown()
        server.server_close()


def test_failing_and_hanging_peers_are_retried_reported_and_do_not_stall_others(
    make_node: NodeFactory,
) -> None:
    with ExitStack() as stack:
        a = stack.enter_context(producer(make_node, "a"))
        broken_url, broken = stack.enter_context(_bad_server(hang=False))
        hung_url, _ = stack.enter_context(_bad_server(hang=True))
        a.add([indicator(n) for n in range(3)])
        b = make_node(name="b", peer_retries=3, peer_backoff=0.01, peer_timeout=1.0)
        for name, url in (("hung", hung_url), ("broken", broken_url)):
            sync.add_peer(
                b, name, url=url, api_root="/api/v21/", collection="c1", token="t", interval=60
            )
        _peer(b, "a", a, interval=1)
        scheduler = sync.SyncScheduler(b.settings, connector(b.settings), tick=0.05)
        scheduler.start()
        try:

            def a_pulled_twice() -> bool:
                return (b.store.peer("a").last_pull or 0) > 0 and _versions(b) == 3

            wait_for("the healthy peer to sync while another hangs", a_pulled_twice, 20)
            wait_for(
                "both failing peers to be reported",
                lambda: all(b.store.peer(n).last_error for n in ("hung", "broken")),
                20,
            )
        finally:
            scheduler.stop(timeout=5)
        broken_peer = b.store.peer("broken")
        assert broken.calls >= 3  # every try of the retry policy
        assert "HTTP 500" in (broken_peer.last_error or "") and broken_peer.failures >= 1
        assert "timed out" in (b.store.peer("hung").last_error or "")
        assert b.store.peer("a").last_error is None
        views = {v.peer.name: v for v in sync.list_peers(b)}
        assert views["broken"].peer.failures >= 1


def test_tokens_are_sealed_at_rest_and_never_listed(make_node: NodeFactory) -> None:
    node = make_node(name="b")
    secret = "acc_the-peer-token-4242"
    sync.add_peer(
        node, "p", url="http://127.0.0.1:9", api_root="/api/v21/", collection="c", token=secret
    )
    with node.store.engine.connect() as conn:
        stored = conn.execute(select(schema.peers.c.token_sealed)).scalar_one()
    assert secret.encode() not in bytes(stored)
    peer = node.store.peer("p")
    assert secret not in repr(peer) and peer.has_token
    ep = sync.endpoint(node, peer)
    assert ep.token == secret and secret not in repr(ep)
    other = make_node(name="other")
    # Another node's identity key cannot open it.
    from accord.service import _sync_secret
    from accord.service.node import load_private_key

    with pytest.raises(ValueError, match="cannot be opened"):
        _sync_secret.unseal(load_private_key(other.settings.home), bytes(stored), "p")


def test_a_peer_that_was_never_reachable_is_listed_with_its_error(
    make_node: NodeFactory,
) -> None:
    node = make_node(name="b", peer_retries=2, peer_backoff=0.01, peer_timeout=1.0)
    sync.add_peer(
        node, "gone", url="http://127.0.0.1:9", api_root="/api/v21/", collection="c", token="t"
    )
    started = time.monotonic()
    (report,) = sync.sync(node, connector(node.settings))
    assert not report.ok and "connection failed" in (report.error or "")
    assert time.monotonic() - started < 30
    peer = node.store.peer("gone")
    assert peer.failures == 1 and peer.last_error == report.error


OTHER_IDENTITY = "identity--7d4f1c2e-8a3b-4c5d-9e6f-0a1b2c3d4e5f"


def _sighting(node: Node, n: int, of: str) -> dict[str, Any]:
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{n:08x}-0000-4000-8000-000000000000",
        "created": "2024-02-01T00:00:00.000Z",
        "modified": "2024-02-01T00:00:00.000Z",
        "created_by_ref": node.info.id,
        "sighting_of_ref": of,
        "count": 3,
        "where_sighted_refs": [node.info.id],
    }


def test_sightings_of_a_peers_indicator_go_back_to_that_peer_only(
    make_node: NodeFactory,
) -> None:
    with producer(make_node, "a") as a, producer(make_node, "c") as c:
        a.add([indicator(1)])
        c.add([indicator(2)])
        b = make_node(name="b")
        sightings = b.store.create_collection("sightings")
        for name, p in (("a", a), ("c", c)):
            _peer(
                b,
                name,
                p,
                into=f"from-{name}",
                push_collection=p.collection.id,
                push_from=["sightings"],
            )
            assert sync.sync_peer(b, name, _connect(b)).ok
        local = indicator(3)
        seen = [
            _sighting(b, 1, indicator(1)["id"]),  # A's indicator
            _sighting(b, 2, indicator(2)["id"]),  # C's indicator
            _sighting(b, 3, local["id"]),  # B's own indicator
            {**_sighting(b, 4, indicator(2)["id"]), "created_by_ref": OTHER_IDENTITY},
        ]
        outcomes = ingest_objects(
            b, [local, *seen], source=("file", "local.json"), collection_pks=[sightings.pk]
        )
        assert all(o.ok for o in outcomes)
        for name in ("a", "c"):
            report = sync.sync_peer(b, name, _connect(b))
            assert report.ok and report.push is not None, report.error

        held_a = {o.id for o in a.node.store.query(Query(types=("sighting",)))}
        held_c = {o.id for o in c.node.store.query(Query(types=("sighting",)))}
        ids = [s["id"] for s in seen]
        # Not B's own sighting (created by someone else): the agreement's rules alone.
        assert held_a == {ids[0], ids[2], ids[3]}
        assert held_c == {ids[1], ids[2], ids[3]}
