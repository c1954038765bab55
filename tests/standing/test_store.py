"""Remarks and standings in the store, on both backends: every path that writes them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.service import egress, ingest, match, query
from accord.service import standing as standing_service
from accord.service.node import Node
from accord.standing import make_false_positive, make_opinion
from accord.store import Query, StoredObject
from tests.conftest import NodeFactory

C2 = "54.245.228.191"  # the web server of zat's conn/dns/http logs
B = "identity--0b1d5e4c-6a43-4c8e-9b43-5c1f8b9f6a2e"
C = "identity--1c2e6f5d-7b54-4d9f-8c54-6d2a9cab7b3f"


def _indicator(
    n: int, pattern: str = f"[ipv4-addr:value = '{C2}']", **extra: Any
) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n + (12 << 80), version=4)}",
        "created": "2012-01-01T00:00:00.000Z",
        "modified": "2012-01-01T00:00:00.000Z",
        "name": f"indicator {n}",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2012-01-01T00:00:00.000Z",
        **extra,
    }


def _put(node: Node, objs: list[dict[str, Any]], **kw: Any) -> list[ingest.Outcome]:
    return ingest.ingest_objects(
        node, list[object](objs), source=("file", "t"), collection_pks=[], **kw
    )


def _t(minute: int) -> str:
    return f"2026-12-01T10:{minute:02d}:00.000Z"


def test_an_opinion_before_its_indicator_counts_when_it_arrives(node: Node) -> None:
    ind = _indicator(1)
    said = standing_service.opinion(node, ind["id"], "agree", "seen in an incident")
    assert not said.held and said.collection == "opinions"
    assert said.standing is not None and said.standing.standing.score == pytest.approx(0.25)
    assert not list(node.store.query(Query(ids=(ind["id"],))))
    assert all(o.ok for o in _put(node, [ind]))
    held = standing_service.standings_of(node, [ind["id"]])[ind["id"]]
    assert held.standing.members == 1 and held.standing.agree == 1
    # The opinion is an ordinary object in the opinions collection.
    pk = node.store.collection("opinions").pk
    [stored] = list(node.store.query(Query(collection_pk=pk)))
    assert orjson.loads(stored.data)["created_by_ref"] == node.info.id


def test_each_member_counts_once_with_its_latest_opinion_in_any_order(node: Node) -> None:
    ind = _indicator(2)
    flood = [make_opinion(B, ind["id"], "strongly-agree", _t(m)) for m in range(1, 40)]
    latest = make_false_positive(B, ind["id"], "sinkholed", _t(50))
    other = make_opinion(C, ind["id"], "agree", _t(5))
    # The latest first, the flood after it: the latest still counts.
    assert all(o.ok for o in _put(node, [ind, latest]))
    assert all(o.ok for o in _put(node, [*flood, other]))
    s = node.store.standings([ind["id"]])[ind["id"]].standing
    assert (s.members, s.false_positives, s.reasons, s.agree) == (2, 1, ("sinkholed",), 1)
    remarks = [r for r in node.store.remarks([ind["id"]]) if r.author == B]
    assert len(remarks) == 1 and remarks[0].source_id == latest["id"]
    # Rebuilding from the stored objects gives the same standing.
    before = node.store.standings([ind["id"]])[ind["id"]].standing
    assert node.store.refresh_standings() >= 1
    assert node.store.standings([ind["id"]])[ind["id"]].standing.score == pytest.approx(
        before.score
    )


def test_revoking_withdraws_an_opinion_and_a_sighting(node: Node) -> None:
    ind = _indicator(3)
    fp = make_false_positive(B, ind["id"], "expired", _t(1))
    sighting = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": _t(1),
        "modified": _t(1),
        "created_by_ref": C,
        "sighting_of_ref": ind["id"],
        "count": 7,
    }
    assert all(o.ok for o in _put(node, [ind, fp, sighting]))
    s = node.store.standings([ind["id"]])[ind["id"]].standing
    assert (s.members, s.false_positives, s.sightings) == (2, 1, 1)
    assert all(o.ok for o in _put(node, [fp | {"modified": _t(2), "revoked": True}]))
    assert all(o.ok for o in _put(node, [sighting | {"modified": _t(2), "revoked": True}]))
    assert ind["id"] not in node.store.standings([ind["id"]])


def test_forged_and_invalid_opinions_are_refused_with_the_reason(node: Node) -> None:
    ind = _indicator(4)
    forged = make_opinion(C, ind["id"], "disagree", _t(1))
    note = {**forged, "type": "note", "id": f"note--{uuid.uuid4()}", "content": "x"}
    del note["opinion"]
    own = make_opinion(B, ind["id"], "agree", _t(1))
    bad = make_opinion(B, ind["id"], "agree", _t(2)) | {"opinion": "maybe"}
    out = _put(node, [ind, forged, note, own, bad], speaker=("member node-b", B))
    assert [o.ok for o in out] == [True, False, True, True, False]  # a note has no weight
    assert "is not member node-b's identity" in out[1].message
    assert "'maybe' is not one of" in out[4].message
    s = node.store.standings([ind["id"]])[ind["id"]].standing
    assert (s.members, s.agree) == (1, 1)
    # No identity bound: every opinion and note is refused.
    out = _put(node, [own], speaker=("peer x", None))
    assert not out[0].ok and "not bound here" in out[0].message


def test_notes_are_found_by_their_text_and_shown_with_the_object(node: Node) -> None:
    ind = _indicator(5)
    assert all(o.ok for o in _put(node, [ind]))
    standing_service.note(node, ind["id"], "Resolves to a Sinkhole since Monday")
    found = list(query.search(node, query.build_query(node, text="sinkhole")))
    assert [o.type for o in found] == ["note"]
    [remark] = standing_service.remarks_on(node, ind["id"])
    assert remark.kind == "note" and remark.author == node.info.id
    assert ind["id"] not in node.store.standings([ind["id"]])  # a note has no weight


def test_export_and_agreements_keep_only_indicators_at_or_above_a_standing(node: Node) -> None:
    good, bad, silent = _indicator(6), _indicator(7), _indicator(8)
    intel = node.store.create_collection("intel")
    ingest.ingest_objects(
        node, [good, bad, silent], source=("file", "t"), collection_pks=[intel.pk]
    )
    _put(node, [make_opinion(B, good["id"], "agree", _t(1))])
    _put(node, [make_false_positive(B, bad["id"], "test value", _t(1))])
    q = query.build_query(node, collection="intel")

    def ids(objs: Iterable[StoredObject]) -> list[str]:
        return sorted(o.id for o in objs)

    assert ids(standing_service.at_least(node, query.search(node, q), 0.0)) == sorted(
        [good["id"], silent["id"]]
    )
    assert ids(standing_service.at_least(node, query.search(node, q), 0.1)) == [good["id"]]
    node.store.create_member("node-b", identity_id=B)
    folder = egress.agreements_dir(node)
    folder.mkdir()
    (folder / "b.toml").write_text(
        'members = ["node-b"]\ncollections = ["intel"]\ntlp_ceiling = "red"\nmin_standing = 0.0\n'
    )
    shared = ids(egress.for_member(node, "node-b", "intel", query.search(node, q)))
    assert shared == sorted([good["id"], silent["id"]])
    [why] = [
        e.decision.reasons
        for e in egress.explain(node, bad["id"], "node-b")
        if e.collection.title == "intel"
    ]
    assert any(r.startswith("standing -0.") and r.endswith("below the minimum +0.00") for r in why)


def test_the_matcher_suppresses_false_positives_and_says_why(
    make_node: NodeFactory, backend: str, shared_data: Path
) -> None:
    url = "" if backend.startswith("sqlite") else backend
    node = make_node(url, fp_suppress_members=2)
    ind, other = _indicator(9), _indicator(10, "[domain-name:value = 'guyspy.com']")
    _put(node, [ind, other])
    _put(node, [make_false_positive(B, ind["id"], "shared hosting", _t(1))])
    conn = shared_data / "zeek" / "zat" / "conn.log"
    first = match.match_paths(node, [str(conn)])
    assert first.hits[ind["id"]] > 0 and not first.suppressed  # one member is not several
    _put(node, [make_false_positive(C, ind["id"], "benign infrastructure", _t(2))])
    report = match.match_paths(node, [str(conn)])
    assert ind["id"] not in report.hits and report.suppressed[ind["id"]] == first.hits[ind["id"]]
    why = report.suppressed_why[ind["id"]]
    assert "2 member(s)" in why and "benign-infrastructure, shared-hosting" in why
    assert "suppressed by standing" in report.summary()
    assert report.standings[ind["id"]] < 0
    # --min-standing: an indicator nobody spoke of stands at 0.
    dns = shared_data / "zeek" / "zat" / "dns.log"
    kept = match.match_paths(node, [str(dns)], min_standing=0.0)
    dropped = match.match_paths(node, [str(dns)], min_standing=0.5)
    assert kept.hits[other["id"]] > 0 and other["id"] not in dropped.hits
    assert "below --min-standing +0.50" in dropped.suppressed_why[other["id"]]
    # Two members strongly agree: (1 + 1) / (1 + 2) stands above 0.5, its hits count.
    _put(node, [make_opinion(m, other["id"], "strongly-agree", _t(3)) for m in (B, C)])
    raised = match.match_paths(node, [str(dns)], min_standing=0.5)
    assert raised.hits[other["id"]] == kept.hits[other["id"]]
    assert other["id"] not in raised.suppressed and ind["id"] in raised.suppressed
    assert raised.standings[other["id"]] > 0.5
