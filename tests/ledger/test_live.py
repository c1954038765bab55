"""The transparency log between real nodes on loopback: receipts, witnesses, tampering, forks.

Node A serves a collection; B and C pull it with ``accord sync`` (real
subprocesses, real HTTP) and witness A's log. A runs on both store backends.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, text

from accord.ledger import cosignatures, entry_from_receipt, open_note, parse_note, parse_vkey
from accord.service import ledger
from accord.service.sharing import create_collection, grant
from accord.settings import load_settings
from tests.federation.nodes import LiveNode, NodeMaker, free_port, indicator, live_nodes

pytestmark = pytest.mark.slow


def _bundle(path: Path, objects: list[dict[str, object]]) -> Path:
    body = {"type": "bundle", "id": "bundle--6f0a8d76-2a4c-4c43-9d0e-0f3f8a0f6a11"}
    path.write_bytes(orjson.dumps({**body, "objects": objects}))
    return path


def _origin_node(make: NodeMaker, root: Path, database_url: str, count: int) -> LiveNode:
    a = make("a", database_url, ACCORD_LOG_CHECKPOINT_SECONDS="0")
    a.share("intel", "b")
    with a.open() as node:
        m = node.store.create_member("c")
        a.tokens["c"] = node.store.create_token(m.pk)[0]
        grant(node, "intel", "c", read=True, write=False)
    objects = [indicator(i) for i in range(count)]
    done = a.cli("import", str(_bundle(root / "intel.json", objects)), "-c", "intel")
    assert done.returncode == 0, done.stderr
    return a


def _puller(make: NodeMaker, name: str, a: LiveNode, page: int) -> LiveNode:
    x = make(name, ACCORD_SYNC_PAGE=str(page))
    with x.open() as node:
        create_collection(node, "from-a")
    with a.open() as node:
        coll = node.store.collection("intel")
    x.pull_from(a, coll, a.tokens[name], "from-a")
    return x


def _url(backend: str) -> str:
    """The database of node A: the backend's PostgreSQL schema, or A's own SQLite file."""
    return backend if backend.startswith("postgres") else ""


def _sync(x: LiveNode) -> str:
    done = x.cli("sync")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_pullers_verify_a_receipt_for_every_page_and_witness_the_log(
    tmp_path: Path, backend: str
) -> None:
    with live_nodes(tmp_path) as make:
        a = _origin_node(make, tmp_path, _url(backend), 2300)
        a.serve()
        b = _puller(make, "b", a, 500)
        c = _puller(make, "c", a, 1000)
        for x in (b, c):
            assert "cosigned" in _sync(x)
        with b.open() as node:
            receipts = node.store.receipts("a")
        # 2,300 objects in pages of 500: five pages, each with its verified receipt.
        assert [r.status for r in receipts] == ["verified"] * 5
        with c.open() as node:
            assert [r.status for r in node.store.receipts("a")] == ["verified"] * 3
        # A's own view: every share to b, opened and included in the signed tree.
        audit = a.cli("audit", "--member", "b", "--json")
        assert audit.returncode == 0, audit.stderr
        shares = orjson.loads(audit.stdout)
        assert [s["recipient"] for s in shares] == ["b"] * 5
        assert sum(len(s["versions"]) for s in shares) == 2300
        assert all(s["included"] and not s["problem"] for s in shares)
        # The published checkpoint carries the cosignature of the last witness.
        note = httpx.get(f"{a.url}/log/checkpoint", auth=("c", a.tokens["c"])).text
        with c.open() as node:
            witness = ledger.cosigner_verifier(node)
        assert witness.name in cosignatures(parse_note(note), [witness])
        # B's second sync extends its witnessed size consistently and cosigns again.
        out = _sync(b)
        assert "cosigned" in out and "FORK" not in out
        listed = b.cli("peer", "list").stdout
        assert "witnessed" in listed


def test_a_row_edited_or_deleted_in_the_log_database_is_named_by_verify(
    tmp_path: Path, backend: str
) -> None:
    with live_nodes(tmp_path) as make:
        a = _origin_node(make, tmp_path, _url(backend), 1200)
        a.serve()
        b = _puller(make, "b", a, 300)
        _sync(b)
        a.stop()
        assert a.cli("log", "verify").returncode == 0
        engine = create_engine(a.settings.effective_database_url)
        with engine.begin() as conn:
            row = conn.execute(text("SELECT entry FROM log_entries WHERE idx = 7")).scalar_one()
            forged = bytes(row).replace(b'"count":300', b'"count":299')
            assert forged != bytes(row)
            conn.execute(text("UPDATE log_entries SET entry = :e WHERE idx = 7"), {"e": forged})
        done = a.cli("log", "verify")
        assert done.returncode == 1
        assert "entry 7" in done.stderr
        with engine.begin() as conn:
            conn.execute(text("UPDATE log_entries SET entry = :e WHERE idx = 7"), {"e": row})
            conn.execute(text("DELETE FROM log_entries WHERE idx = 5"))
        done = a.cli("log", "verify")
        assert done.returncode == 1 and "entry 5" in done.stderr and "missing" in done.stderr
        engine.dispose()


def test_a_forked_log_is_caught_by_its_witness_with_both_checkpoints_kept(tmp_path: Path) -> None:
    with live_nodes(tmp_path) as make:
        a = _origin_node(make, tmp_path, "", 600)
        a.port = free_port()
        b = _puller(make, "b", a, 200)
        # A second database served under A's identity key: the same log, rewritten.
        twin_home = tmp_path / "a-twin"
        shutil.copytree(a.home, twin_home)
        twin_env = {**a.env, "ACCORD_HOME": str(twin_home)}
        a.serve()
        _sync(b)
        with b.open() as node:
            first = node.store.witnessed()[0]
        assert first.size > 0 and not first.forked
        port = a.port
        a.stop()
        twin = LiveNode("a", twin_home, load_settings(twin_env), twin_env, port=port)
        # The twin's history diverges: other entries where A logged B's pages.
        for name in ("x1", "x2", "x3", "x4", "x5", "x6"):
            assert twin.cli("member", "add", name).returncode == 0
        twin.serve()
        try:
            done = b.cli("sync")
            assert "FORKED" in done.stdout, done.stdout + done.stderr
            with b.open() as node:
                evidence = node.store.evidence()
                held = node.store.witnessed()[0]
            assert held.forked and held.size == first.size
            assert len(evidence) == 1
            # Both signed notes are kept, each verifiable under A's pinned key.
            key = parse_vkey(held.vkey)
            notes = (evidence[0].first, evidence[0].second)
            roots = {open_note(n, [key])[0].text for n in notes}
            assert len(roots) == 2
            assert b.cli("log", "verify").returncode == 1
            assert "FORK" in b.cli("log", "status").stdout
            assert "FORKED" in b.cli("peer", "list").stdout
            # And it never cosigns that log again.
            assert "not cosigned" in b.cli("sync").stdout
        finally:
            twin.stop()


def test_sigkill_mid_read_leaves_no_sent_page_without_its_entry(tmp_path: Path) -> None:
    with live_nodes(tmp_path) as make:
        a = _origin_node(make, tmp_path, "", 3000)
        a.serve()
        with a.open() as node:
            coll = node.store.collection("intel")
        url = f"{a.url}/api/v21/collections/{coll.id}/objects/"
        received: list[tuple[int, bytes, bytes]] = []
        stop = threading.Event()

        def read() -> None:
            headers = {"Accept": "application/taxii+json;version=2.1"}
            with httpx.Client(auth=("b", a.tokens["b"]), headers=headers, timeout=5) as http:
                while not stop.is_set():
                    try:
                        r = http.get(url, params={"limit": "50"})
                    except httpx.TransportError:
                        return
                    index, entry = entry_from_receipt(dict(r.headers), r.content)
                    received.append((index, entry.canonical(), r.content))

        reader = threading.Thread(target=read)
        reader.start()
        deadline = time.monotonic() + 20
        while len(received) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert a.proc is not None
        os.killpg(a.proc.pid, signal.SIGKILL)
        a.proc.wait(10)
        stop.set()
        reader.join(10)
        a.proc = None
        assert len(received) >= 20
        with a.open() as node:
            stored = {e.idx: e.entry for e in node.store.log_entries(0, 10**9)}
        # Every page that reached the client has its entry, byte for byte.
        for index, entry, _ in received:
            assert stored.get(index) == entry
        # And the log is whole after the crash.
        assert a.cli("log", "verify").returncode == 0
