"""medallion (the OASIS TAXII 2.1 reference server) as a peer: Accord pushes to it and pulls.

A TAXII server Accord did not write: the client speaks to it with HTTP Basic,
follows its ``next`` tokens and status resources, and reads its date headers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from accord.service import sync
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from accord.store import Query
from accord.taxii.client import connector
from tests.conftest import NodeFactory
from tests.federation.nodes import free_port, indicator

COLLECTION = "5f0f2f8e-0b5c-4d0b-9a55-0f6a4c1c6c11"
USER, PASSWORD = "accord", "medallion-pass"
MEDIA = "application/taxii+json;version=2.1"


@pytest.fixture
def medallion(tmp_path: Path) -> Iterator[str]:
    """A fresh medallion 3 (memory backend, one writable collection); its base URL."""
    exe = Path(sys.executable).with_name("medallion")
    if not exe.is_file():
        pytest.fail("medallion is not installed: it is in the dev extra (pip install -e '.[dev]')")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = {
        "/discovery": {"title": "m", "api_roots": [f"{base}/trustgroup/"]},
        "trustgroup": {
            "information": {"title": "m", "versions": [MEDIA], "max_content_length": 1 << 26},
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "shared",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (tmp_path / "data.json").write_bytes(orjson.dumps(data))
    config = {
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": 20},
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(tmp_path / "data.json"),
        },
    }
    (tmp_path / "config.json").write_bytes(orjson.dumps(config))
    with (tmp_path / "medallion.log").open("wb") as log:
        proc = subprocess.Popen(
            [exe, "--host", "127.0.0.1", "--port", str(port), str(tmp_path / "config.json")],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(
                    f"{base}/taxii2/", auth=(USER, PASSWORD), headers={"Accept": MEDIA}
                )
                if answer.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (tmp_path / "medallion.log").read_text()
            assert time.monotonic() < deadline, "medallion did not start"
            time.sleep(0.1)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def _held(node: Node, collection: str) -> set[str]:
    pk = node.store.collection(collection).pk
    return {o.id for o in node.store.query(Query(collection_pk=pk))}


def test_accord_pushes_to_and_pulls_from_medallion(make_node: NodeFactory, medallion: str) -> None:
    a = make_node(name="a")
    mine = a.store.create_collection("mine")
    ours = [indicator(n) for n in range(45)]
    assert all(
        o.ok
        for o in ingest_objects(a, list(ours), source=("file", "x.json"), collection_pks=[mine.pk])
    )
    sync.add_peer(
        a,
        "med",
        url=medallion,
        api_root="/trustgroup/",
        collection=None,
        push_collection=COLLECTION,
        push_from=["mine"],
        token=PASSWORD,
        username=USER,
    )
    (pushed,) = sync.sync(a, connector(a.settings))
    assert pushed.ok, pushed.error
    assert pushed.push is not None and pushed.push.accepted == 45 and pushed.push.refused == 0

    # Another node pulls the collection back from medallion, 20 objects a page.
    b = make_node(name="b", sync_page=20)
    sync.add_peer(
        b,
        "med",
        url=medallion,
        api_root="/trustgroup/",
        collection=COLLECTION,
        token=PASSWORD,
        username=USER,
        into="from-medallion",
    )
    (pulled,) = sync.sync(b, connector(b.settings))
    assert pulled.ok, pulled.error
    assert pulled.pull is not None and pulled.pull.pages >= 3
    assert _held(b, "from-medallion") == {o["id"] for o in ours}
    # The bytes are the same objects (medallion may reorder keys; compare parsed).
    for obj in ours[:5]:
        stored = next(b.store.query(Query(ids=(obj["id"],))))
        assert orjson.loads(stored.data) == obj
    assert b.store.peer("med").pull_cursor is not None
    # Incremental: a second pull stores nothing new.
    (again,) = sync.sync(b, connector(b.settings))
    assert again.pull is not None and again.pull.stored == 0 and again.ok
