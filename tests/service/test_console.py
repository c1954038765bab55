"""The console's services on both backends: free text, facets, references, graph, users."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from accord.exceptions import AgreementInvalid, NotFound, StoreError, UnknownUser
from accord.service import console, dashboard, ingest, ledger, users
from accord.service.node import Node
from accord.store import _migrate

MAL = "malware--1d6c8e6e-5c1f-4a66-8a3c-000000000001"
IND = "indicator--1d6c8e6e-5c1f-4a66-8a3c-000000000002"
REL = "relationship--1d6c8e6e-5c1f-4a66-8a3c-000000000003"
SIG = "sighting--1d6c8e6e-5c1f-4a66-8a3c-000000000004"
REP = "report--1d6c8e6e-5c1f-4a66-8a3c-000000000005"
TS = "2024-05-01T00:00:00.000Z"
GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"


def _objects() -> list[dict[str, object]]:
    base = {"spec_version": "2.1", "created": TS, "modified": TS}
    return [
        {
            **base,
            "type": "malware",
            "id": MAL,
            "name": "Emotet loader",
            "is_family": True,
            "description": "Banking trojan spread by spam",
            "object_marking_refs": [GREEN],
        },
        {
            **base,
            "type": "indicator",
            "id": IND,
            "name": "Emotet C2",
            "pattern": "[domain-name:value = 'evil.example']",
            "pattern_type": "stix",
            "valid_from": TS,
            "labels": ["c2"],
        },
        {
            **base,
            "type": "relationship",
            "id": REL,
            "relationship_type": "indicates",
            "source_ref": IND,
            "target_ref": MAL,
        },
        {**base, "type": "sighting", "id": SIG, "sighting_of_ref": IND, "count": 3},
        {
            **base,
            "type": "report",
            "id": REP,
            "name": "Spam wave",
            "published": TS,
            "object_refs": [MAL, IND],
        },
    ]


def _load(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(
        orjson.dumps(
            {
                "type": "bundle",
                "id": "bundle--1d6c8e6e-5c1f-4a66-8a3c-0000000000ff",
                "objects": _objects(),
            }
        )
    )
    report = ingest.import_paths(node, [str(path)], collection="shared")
    assert report.stored == 5, report.summary()


def test_free_text_search_and_facets(node: Node, tmp_path: Path) -> None:
    _load(node, tmp_path)
    found = console.search(node, console.SearchTerms(text="emotet"))
    assert {o.id for o in found.objects} == {MAL, IND}
    assert found.facets.by_type == {"malware": 1, "indicator": 1} and not found.facets.capped
    assert found.facets.by_tlp == {1: 1, -1: 1}
    # Words, not operators: FTS5 syntax in the input is searched for as text.
    assert console.search(node, console.SearchTerms(text='banking "OR" NEAR(')).objects == []
    assert [
        o.id for o in console.search(node, console.SearchTerms(text="trojan spam")).objects
    ] == [MAL]
    assert [o.id for o in console.search(node, console.SearchTerms(tlps=("green",))).objects] == [
        MAL
    ]
    assert [
        o.id for o in console.search(node, console.SearchTerms(value="EVIL.example")).objects
    ] == [IND]
    assert [o.id for o in console.search(node, console.SearchTerms(labels=("c2",))).objects] == [
        IND
    ]
    assert console.search(node, console.SearchTerms(since="2025-01-01")).objects == []
    paged = console.search(node, console.SearchTerms(), page_size=2)
    assert len(paged.objects) == 2 and paged.more and paged.facets.total == 5
    with pytest.raises(ValueError, match="page 0"):
        console.search(node, console.SearchTerms(page=0))


def test_object_view_graph_and_dashboard(node: Node, tmp_path: Path) -> None:
    _load(node, tmp_path)
    view = console.object_view(node, IND)
    assert [s.id for s, count, _ in view.sightings] == [SIG] and view.sightings[0][1] == 3
    assert view.collections == ["shared"] and len(view.versions) == 1
    assert console.object_view(node, MAL).markings == ["TLP:GREEN"]
    assert [r for r, o in console.object_view(node, REP).references if o] == [MAL, IND]
    g = console.graph(node, MAL)
    ids = {n[0] for n in g.nodes}
    assert ids == {MAL, IND, SIG, REP}  # the relationship is an edge, not a node
    assert (IND, MAL, "indicates") in g.edges and (SIG, IND, "sighting_of") in g.edges
    small = console.graph(node, MAL, cap=2)
    assert small.capped and len(small.nodes) == 2
    with pytest.raises(NotFound):
        console.graph(node, "malware--00000000-0000-4000-8000-000000000000")
    board = dashboard.dashboard(node, now=1e10)
    assert board.by_type["malware"] == 1 and board.most_sighted[0][0] == IND
    assert board.shared == {}  # the log holds no share yet
    shared = node.store.collection("shared")
    member = node.store.create_member("cert-w")
    for added in ([1, 2, 3], [4]):
        ledger.share(
            node,
            channel="taxii-objects",
            collection=shared,
            member=member,
            agreement=None,
            added=added,
            body=b"{}",
        )
    # Counted afresh (dashboard() answers from its cache): the shares of the last 7 days.
    assert dashboard._count(node, time.time()).shared == {"cert-w": 4}
    assert dashboard._count(node, time.time() + 8 * 86400).shared == {}


def test_users_and_passwords(node: Node) -> None:
    user = users.add_user(node, "ann", "analyst", "a long password!")
    assert user.password_hash.startswith("$argon2id$")
    assert users.authenticate(node, "ann", "a long password!") == user
    assert users.authenticate(node, "ann", "wrong password!!") is None
    assert users.authenticate(node, "bob", "a long password!") is None
    with pytest.raises(StoreError, match="exists"):
        users.add_user(node, "ann", "admin", "another long one")
    with pytest.raises(ValueError, match="role"):
        users.add_user(node, "cy", "root", "a long password!")
    users.set_role(node, "ann", "auditor")
    assert users.session_user(node, "ann", user.epoch) is None  # the old session ended
    users.remove_user(node, "ann")
    with pytest.raises(UnknownUser):
        users.remove_user(node, "ann")
    assert users.session_secret(node) == users.session_secret(node)


def test_agreement_edits_are_checked_before_they_are_written(node: Node) -> None:
    with pytest.raises(AgreementInvalid):
        dashboard.save_agreement(node, "partner", "this is = not [toml")
    assert dashboard.agreement_text(node, "partner") == ""


def test_migration_0008_indexes_what_was_stored_before(node: Node, tmp_path: Path) -> None:
    _load(node, tmp_path)
    engine = node.store.engine
    from alembic import command

    cfg = _migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert {o.id for o in console.search(node, console.SearchTerms(text="emotet")).objects} == {
        MAL,
        IND,
    }
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM object_refs")).scalar_one() == 5


def test_detection_lists_the_sightings_this_node_made(node: Node, tmp_path: Path) -> None:
    _load(node, tmp_path)
    mine = {
        "type": "sighting",
        "spec_version": "2.1",
        "created": TS,
        "modified": TS,
        "id": "sighting--1d6c8e6e-5c1f-4a66-8a3c-000000000009",
        "sighting_of_ref": IND,
        "where_sighted_refs": [node.info.id],
        "count": 7,
    }
    path = tmp_path / "mine.json"
    path.write_bytes(orjson.dumps(mine))
    assert ingest.import_paths(node, [str(path)]).stored == 1
    found = dashboard.detection(node)
    # Only this node's own sightings: SIG (a partner's) is not one of them.
    assert [(s.id, title) for s, _, title in found.sightings] == [(mine["id"], "Emotet C2")]


@pytest.mark.parametrize("common", [1, 5_000])
def test_type_filter_both_ways(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, common: int
) -> None:
    """A common type walks date_added (the index hidden), a rare one uses the index."""
    from accord.store import _console

    _load(node, tmp_path)
    monkeypatch.setattr(_console, "COMMON_TYPE", common)
    found = console.search(node, console.SearchTerms(types=("malware", "indicator")))
    assert [o.id for o in found.objects] == [IND, MAL]  # newest first
    assert found.facets.by_type == {"malware": 1, "indicator": 1}
