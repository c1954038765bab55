"""Every egress path beside TAXII reads is logged with the exact bytes: pushes, sightings
sent back, ``accord export --for``; and the ``accord log`` commands over a real node."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.service import _sync_push, transparency
from accord.service._sync_wire import envelope_body
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from tests.cli_run import run
from tests.federation.nodes import indicator


class _Recorder:
    """A peer that records the envelopes it receives (and the log's size at that moment)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.bodies: list[tuple[bytes, int]] = []

    def add_objects(self, collection_id: str, objects: list[bytes]) -> dict[str, Any]:
        self.bodies.append((envelope_body(objects), self.node.store.log_size()))
        return {"id": "s", "status": "complete", "failures": []}

    def wait_status(self, status: dict[str, Any], **_: float) -> dict[str, Any]:
        return status

    def pages(self, *a: object, **k: object) -> Any:  # pragma: no cover - push only
        raise AssertionError("not pulled")

    def close(self) -> None:
        pass


def _sighting(n: int) -> dict[str, Any]:
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{n:08d}-0000-4000-8000-000000000000",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "sighting_of_ref": indicator(n)["id"],
        "count": 2,
    }


def test_a_push_is_logged_before_it_is_posted_and_sightings_have_their_channel(
    node: Node,
) -> None:
    out = node.store.create_collection("out")
    back = node.store.create_collection("back")
    objects: list[object] = [indicator(i) for i in range(5)]
    assert all(
        o.ok for o in ingest_objects(node, objects, source=("file", "x"), collection_pks=[out.pk])
    )
    sightings: list[object] = [_sighting(i) for i in range(3)]
    assert all(
        o.ok
        for o in ingest_objects(node, sightings, source=("file", "y"), collection_pks=[back.pk])
    )
    for name, collection in (("peer-out", out), ("peer-back", back)):
        node.store.add_peer(
            name,
            url="http://127.0.0.1:9",
            api_root="/api/v21/",
            collection=None,
            into_pk=None,
            push_collection="inbox",
            push_from=[collection.pk],
            username=None,
            token_sealed=None,
            interval=60,
        )
        peer = node.store.peer(name)
        client = _Recorder(node)
        _sync_push.push(node, peer, client, envelope=2)
        assert len(client.bodies) == (3 if collection is out else 2)
        logged = {e.entry: e for e in node.store.iter_log() if e.type == "share"}
        for body, size_when_posted in client.bodies:
            digest = hashlib.sha256(body).hexdigest()
            entries = [orjson.loads(e) for e in logged if orjson.loads(e)["digest"] == digest]
            assert len(entries) == 1
            entry = entries[0]
            assert entry["channel"] == ("push" if collection is out else "sighting")
            assert entry["collection"] == collection.id
            # Its entry was committed before the envelope left.
            index = next(e.idx for k, e in logged.items() if orjson.loads(k) == entry)
            assert index < size_when_posted
    openings = [o.recipient for e, o in node.store.log_openings() if e.type == "share"]
    assert openings.count("peer-out") == 3 and openings.count("peer-back") == 2


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    assert run(tmp_path, "init", str(h), "--name", "cert-log")[0] == 0
    return h


def test_export_for_a_member_is_logged_with_the_bytes_of_the_file(
    home: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "in.json"
    bundle.write_bytes(
        orjson.dumps(
            {
                "type": "bundle",
                "id": "bundle--5e2a2c6c-9f6c-4bb1-9e33-bf3f1e35a8f1",
                "objects": [indicator(i) for i in range(40)],
            }
        )
    )
    assert run(home, "collection", "create", "out")[0] == 0
    assert run(home, "import", str(bundle), "-c", "out")[0] == 0
    assert run(home, "member", "add", "cert-q")[0] == 0
    target = tmp_path / "export.json"
    code, _, err = run(home, "export", "--collection", "out", "--for", "cert-q", "-o", str(target))
    assert code == 0, err
    data = target.read_bytes()
    code, out, err = run(home, "audit", "--member", "cert-q", "--json")
    assert code == 0, err
    (share,) = orjson.loads(out)
    assert share["entry"]["channel"] == "export"
    assert share["entry"]["digest"] == hashlib.sha256(data).hexdigest()
    assert share["entry"]["count"] == 40 and len(share["versions"]) == 40
    assert share["recipient"] == "cert-q"
    # An export for nobody in particular leaves no share entry.
    assert run(home, "export", "--collection", "out", "-o", str(tmp_path / "plain.json"))[0] == 0
    assert len(orjson.loads(run(home, "audit", "--json")[1])) == 1


def test_the_log_commands_on_a_node(home: Path) -> None:
    assert run(home, "member", "add", "cert-r")[0] == 0
    code, out, err = run(home, "log", "status", "--json")
    assert code == 0, err
    status = orjson.loads(out)
    assert status["size"] >= 1 and status["origin"].startswith("accord/identity--")
    assert status["vkey"].startswith(status["origin"] + "+")
    code, out, _ = run(home, "log", "show", "0", "--json")
    assert code == 0
    shown = orjson.loads(out)
    assert shown["entry"]["type"] == "member" and shown["opening"]["recipient"] == "cert-r"
    assert shown["included_in"] >= 1
    assert run(home, "log", "show", "999")[0] == 1
    code, out, _ = run(home, "log", "verify")
    assert code == 0 and "ok:" in out
    code, _, err = run(home, "log", "receipts")
    assert code == 0 and "0 verified, 0 pending, 0 failed" in err
    assert run(home, "member", "auditor", "cert-r")[0] == 0
    assert run(home, "member", "auditor", "nobody")[0] == 1
    with transparency_node(home) as node:
        assert transparency.is_auditor(node, node.store.member("cert-r"))


def transparency_node(home: Path) -> Node:
    from accord.service.node import open_node
    from accord.settings import load_settings

    return open_node(load_settings({"ACCORD_HOME": str(home)}))
