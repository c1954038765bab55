"""Sensor exports and MISP feeds over HTTP: a member's token, its grant and its agreement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pymisp import MISPEvent

from accord.service import egress, feeds
from accord.service.ingest import import_paths
from accord.service.node import Node
from accord.stix import TLP2_ID_OF, Tlp
from accord.store import Query
from tests.conftest import NodeFactory
from tests.policy.objects import indicator
from tests.taxii.helpers import Server, bearer

pytestmark = pytest.mark.anyio
ESET = Path("eset/stix21")


def _feed(server: Server, tail: str) -> str:
    return f"/feeds/{server.collections['shared'].id}/{tail}"


def _agree(server: Server, text: str) -> None:
    folder = egress.agreements_dir(server.node)
    folder.mkdir(exist_ok=True)
    (folder / "reader.toml").write_text(text)


def _marked(n: int, level: Tlp, value: str) -> dict[str, Any]:
    return indicator(n, level, pattern=f"[domain-name:value = '{value}']", name=value)


async def test_sensor_feeds_go_through_the_members_agreement(
    server: Server, client: httpx.AsyncClient
) -> None:
    server.add(
        "shared", [_marked(1, Tlp.GREEN, "green.example"), _marked(2, Tlp.RED, "red.example")]
    )
    _agree(server, 'members = ["reader"]\ncollections = ["shared"]\ntlp_ceiling = "green"\n')
    auth = bearer(server.tokens["reader"])
    for tail in ("zeek.intel", "suricata.rules", "indicators.csv"):
        r = await client.get(_feed(server, tail), headers=auth)
        assert r.status_code == 200, r.text
        assert b"green.example" in r.content and b"red.example" not in r.content, tail
    # The writer, whom no agreement covers, gets both (ACCORD_POLICY_UNCOVERED=share).
    r = await client.get(_feed(server, "zeek.intel"), headers=bearer(server.tokens["writer"]))
    assert b"red.example" in r.content
    r = await client.get(_feed(server, "suricata/accord-domains.lst"), headers=auth)
    assert r.status_code == 200 and r.text.strip()


async def test_sensor_feeds_need_a_token_and_a_grant(
    server: Server, client: httpx.AsyncClient
) -> None:
    r = await client.get(_feed(server, "zeek.intel"))
    assert r.status_code == 401
    r = await client.get(_feed(server, "zeek.intel"), headers=bearer(server.tokens["stranger"]))
    assert r.status_code == 404
    r = await client.get(_feed(server, "zeek.intel"), headers=bearer("acc_not-a-token"))
    assert r.status_code == 401
    r = await client.get(_feed(server, "suricata/passwd"), headers=bearer(server.tokens["reader"]))
    assert r.status_code == 404


async def _fetch_misp_feed(
    client: httpx.AsyncClient, server: Server, member: str, into: Path
) -> dict[str, Any]:
    auth = bearer(server.tokens[member])
    r = await client.get(_feed(server, "misp/manifest.json"), headers=auth)
    assert r.status_code == 200, r.text
    manifest = r.json()
    into.mkdir()
    (into / "manifest.json").write_bytes(r.content)
    for uuid in manifest:
        r = await client.get(_feed(server, f"misp/{uuid}.json"), headers=auth)
        assert r.status_code == 200, r.text
        (into / f"{uuid}.json").write_bytes(r.content)
    r = await client.get(_feed(server, "misp/hashes.csv"), headers=auth)
    assert r.status_code == 200
    (into / "hashes.csv").write_bytes(r.content)
    return dict(manifest)


def _patterns(node: Node) -> set[str]:
    return {
        str(orjson.loads(o.data)["pattern"]) for o in node.store.query(Query(types=("indicator",)))
    }


async def test_eset_stix_out_as_a_misp_feed_read_by_pymisp_and_back_in(
    server: Server,
    client: httpx.AsyncClient,
    shared_data: Path,
    tmp_path: Path,
    make_node: NodeFactory,
) -> None:
    files = sorted((shared_data / ESET).glob("*.json"))[:6]
    report = import_paths(server.node, [str(f) for f in files], collection="shared")
    assert report.stored > 0
    reports = [
        orjson.loads(o.data) for o in server.node.store.query(Query(types=("report", "grouping")))
    ]
    folder = tmp_path / "feed"
    manifest = await _fetch_misp_feed(client, server, "reader", folder)
    # One event per report or grouping, named by its uuid.
    assert set(manifest) == {r["id"].split("--")[1] for r in reports}
    hashes = (folder / "hashes.csv").read_text().splitlines()
    assert hashes and all(
        len(h.split(",")[0]) == 32 and h.split(",")[1] in manifest for h in hashes
    )
    attributes = 0
    for uuid in manifest:
        ev = MISPEvent()
        ev.load(json.loads((folder / f"{uuid}.json").read_text()))
        assert str(ev.uuid) == uuid and ev.info == manifest[uuid]["info"]
        attributes += len(ev.attributes) + sum(len(o.attributes) for o in ev.objects)
    assert attributes > 100
    # ... and back in, on another node, through `accord import`'s MISP feed path.
    other = make_node()
    back = feeds.import_foreign(other, [(str(folder), "misp-feed")])
    assert not back.failed_inputs and back.events == len(manifest)
    assert _patterns(server.node) and _patterns(other) == _patterns(server.node)


async def test_a_misp_feed_withholds_what_the_agreement_withholds(
    server: Server, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    red = TLP2_ID_OF[Tlp.RED]
    green = TLP2_ID_OF[Tlp.GREEN]
    ts = "2024-01-02T12:00:00.000Z"
    objs = [_marked(1, Tlp.GREEN, "green.example"), _marked(2, Tlp.RED, "red.example")]
    rep = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--5f0c1a2e-1111-4a5b-9c3d-0000000000b1",
        "created": ts,
        "modified": ts,
        "name": "two",
        "published": ts,
        "object_refs": [o["id"] for o in objs],
        "object_marking_refs": [green],
    }
    secret = {
        **rep,
        "id": "report--5f0c1a2e-1111-4a5b-9c3d-0000000000b2",
        "object_marking_refs": [red],
    }
    server.add("shared", [*objs, rep, secret])
    _agree(server, 'members = ["reader"]\ncollections = ["shared"]\ntlp_ceiling = "green"\n')
    manifest = await _fetch_misp_feed(client, server, "reader", tmp_path / "feed")
    assert list(manifest) == ["5f0c1a2e-1111-4a5b-9c3d-0000000000b1"]
    event = (tmp_path / "feed" / "5f0c1a2e-1111-4a5b-9c3d-0000000000b1.json").read_text()
    assert "green.example" in event and "red.example" not in event
    r = await client.get(
        _feed(server, "misp/5f0c1a2e-1111-4a5b-9c3d-0000000000b2.json"),
        headers=bearer(server.tokens["reader"]),
    )
    assert r.status_code == 404
