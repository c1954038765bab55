"""A peer that misbehaves: answers too slowly, resets connections, sends a truncated page.

The peer is a real Accord node (served on loopback) behind a small real HTTP proxy in
the test that passes the first page of every pull through and spoils the later ones.
The sync must fail cleanly (the error is recorded on the peer, after the client's
retries), keep only whole pages (each page commits with its cursor), and the next sync,
once the peer behaves, must resume from the cursor and end with every object exactly
once.
"""

from __future__ import annotations

import http.server
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from accord.service import sync
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from accord.service.sharing import create_collection, grant
from accord.store import PageQuery
from accord.taxii import create_app
from accord.taxii.client import connector
from tests.conftest import NodeFactory
from tests.faults.served import indicator
from tests.taxii.live import running

PAGE = 10
OBJECTS = 35


class Spoiler(http.server.ThreadingHTTPServer):
    """Forwards to ``upstream``; from the second objects page of a pull on, misbehaves."""

    daemon_threads = True

    def __init__(self, upstream: str, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.mode = mode
        self.spoiled = 0


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Spoiler
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host",)}
        with httpx.Client(base_url=self.server.upstream, timeout=10) as up:
            answer = up.get(self.path, headers=headers)
        spoil = (
            self.server.mode != "ok" and "/objects/" in self.path and "next=" in self.path
        )  # a later page of a pull (the first page carries no `next`)
        if spoil:
            self.server.spoiled += 1
            if self.server.mode == "reset":
                # SO_LINGER 0: close sends RST, the client's read fails mid-request.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
                return
            if self.server.mode == "slow":
                time.sleep(1.5)  # three times the client's timeout
        body = answer.content
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if spoil and self.server.mode == "truncated":
            self.wfile.write(body[: len(body) // 2])  # half the page, then hang up
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@contextmanager
def spoiler(upstream: str, mode: str) -> Iterator[Spoiler]:
    server = Spoiler(upstream, mode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _held(node: Node, title: str) -> dict[str, int]:
    """Every version the collection holds, counted by object id."""
    query = PageQuery(node.store.collection(title).pk, versions=("all",), limit=10_000)
    counts: dict[str, int] = {}
    for item in node.store.collection_page(query).items:
        counts[item.obj.id] = counts.get(item.obj.id, 0) + 1
    return counts


@pytest.mark.parametrize("mode", ["slow", "reset", "truncated"])
def test_a_misbehaving_peer(make_node: NodeFactory, mode: str) -> None:
    source = make_node(name="source")
    shared = create_collection(source, "shared")
    member = source.store.create_member("puller")
    token = source.store.create_token(member.pk)[0]
    grant(source, "shared", "puller", read=True, write=False)
    objects: list[object] = [indicator("peer") for _ in range(OBJECTS)]
    for start in range(0, OBJECTS, 5):  # several POSTs: date_added values tie within one
        ingest_objects(
            source, objects[start : start + 5], source=("test", "t"), collection_pks=[shared.pk]
        )
    ids = {o["id"] for o in objects if isinstance(o, dict)}
    puller = make_node(
        name="puller", sync_page=PAGE, peer_timeout=0.5, peer_retries=2, peer_backoff=0.05
    )
    create_collection(puller, "mirror")
    with running(create_app(source.settings), source.settings) as url, spoiler(url, mode) as sp:
        sync.add_peer(
            puller,
            "flaky",
            url=f"http://127.0.0.1:{sp.server_address[1]}",
            api_root="/api/v21/",
            collection=shared.id,
            token=token,
            username="puller",
            into="mirror",
        )
        connect = connector(puller.settings)
        failed = sync.sync_peer(puller, "flaky", connect)
        assert sp.spoiled >= 2, "the client did not try the spoiled page again"
        assert failed.error is not None, failed.summary()
        kept = _held(puller, "mirror")
        # Whole pages only: the first page and nothing of the spoiled one.
        assert len(kept) == PAGE and set(kept) <= ids, (len(kept), failed.summary())
        assert all(n == 1 for n in kept.values())
        sp.mode = "ok"
        resumed = sync.sync_peer(puller, "flaky", connect)
    assert resumed.error is None, resumed.summary()
    held = _held(puller, "mirror")
    assert set(held) == ids
    assert all(n == 1 for n in held.values()), "an object was stored twice"
