"""MISP in: `accord import` of events, lists, the response envelope and feed directories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.service import feeds, query
from accord.service.node import Node
from accord.stix import TLP1_IDS, Tlp
from accord.store import Query
from tests.formats.misp_events import EVENT_UUID, attribute, event

TLP_ID = {level: mid for mid, level in TLP1_IDS.items()}


def _write(path: Path, doc: object) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def _current(node: Node, type_: str) -> list[dict[str, Any]]:
    return [orjson.loads(o.data) for o in node.store.query(Query(types=(type_,)))]


def test_an_event_becomes_a_report_indicators_observables_and_a_sighting(
    node: Node, tmp_path: Path
) -> None:
    path = _write(tmp_path / "event.json", {"Event": event()})
    assert feeds.classify(path) == "misp"
    report = feeds.import_foreign(node, [(path, "misp")])
    assert report.events == 1 and report.attributes == 3 and not report.failed_inputs
    reports = _current(node, "report")
    assert [r["id"] for r in reports] == [f"report--{EVENT_UUID}"]
    patterns = sorted(str(i["pattern"]) for i in _current(node, "indicator"))
    # to_ids: the domain and the hash are indicators; the ip-dst (to_ids false) is not.
    assert patterns == [
        "[domain-name:value = 'evil.example.com']",
        "[file:hashes.MD5 = '0123456789abcdef0123456789abcdef']",
    ]
    assert [o["value"] for o in _current(node, "ipv4-addr")] == ["198.51.100.7"]
    assert len(_current(node, "sighting")) == 1
    assert reports[0]["object_marking_refs"] == [TLP_ID[Tlp.GREEN]]


def test_unpublished_event_is_a_grouping_and_tags_come_across(node: Node, tmp_path: Path) -> None:
    ev = event(published=False, tags=["tlp:amber", "PAP:RED", 'misp-galaxy:threat-actor="APT28"'])
    path = _write(tmp_path / "e.json", ev)  # a bare event, without the Event wrapper
    feeds.import_foreign(node, [(path, "misp")])
    groupings = _current(node, "grouping")
    assert len(groupings) == 1 and not _current(node, "report")
    labels = groupings[0]["labels"]
    assert "PAP:RED" in labels and 'misp-galaxy:threat-actor="APT28"' in labels
    assert groupings[0]["object_marking_refs"] == [TLP_ID[Tlp.AMBER]]


@pytest.mark.parametrize(
    ("distribution", "level"),
    [("0", Tlp.RED), ("1", Tlp.AMBER), ("2", Tlp.GREEN), ("3", Tlp.CLEAR), ("4", Tlp.AMBER)],
)
def test_distribution_becomes_tlp_when_no_tlp_tag(
    make_node: object, tmp_path: Path, distribution: str, level: Tlp
) -> None:
    node = make_node()  # type: ignore[operator]
    path = _write(tmp_path / "e.json", {"Event": event(tags=[], distribution=distribution)})
    feeds.import_foreign(node, [(path, "misp")])
    (rep,) = _current(node, "report")
    assert rep["object_marking_refs"] == [TLP_ID[level]]


def test_a_tlp_tag_wins_over_distribution(node: Node, tmp_path: Path) -> None:
    path = _write(tmp_path / "e.json", {"Event": event(tags=["tlp:red"], distribution="3")})
    feeds.import_foreign(node, [(path, "misp")])
    (rep,) = _current(node, "report")
    assert rep["object_marking_refs"] == [TLP_ID[Tlp.RED]]


def test_lists_and_the_response_envelope(node: Node, tmp_path: Path) -> None:
    second = event(uuid="5f0c1a2e-1111-4a5b-9c3d-000000000099")
    for a in second["Attribute"]:
        a["uuid"] = a["uuid"][:-3] + "999"
    del second["Attribute"][0]["Sighting"]
    listing = _write(tmp_path / "list.json", [{"Event": event()}, {"Event": second}])
    envelope = _write(tmp_path / "resp.json", {"response": [{"Event": event()}]})
    report = feeds.import_foreign(node, [(listing, "misp"), (envelope, "misp")])
    assert report.events == 3
    assert len(_current(node, "report")) == 2
    assert report.duplicates > 0  # the envelope's event is the list's first one


def test_reimport_is_idempotent_and_an_update_makes_new_versions(
    node: Node, tmp_path: Path
) -> None:
    path = _write(tmp_path / "e.json", {"Event": event()})
    first = feeds.import_foreign(node, [(path, "misp")])
    again = feeds.import_foreign(node, [(path, "misp")])
    assert first.stored > 0 and again.stored == 0 and again.duplicates == first.stored
    updated = event(timestamp=1704300000)
    updated["Attribute"][0]["timestamp"] = "1704300000"
    updated["Attribute"][0]["comment"] = "now with a comment"
    _write(tmp_path / "e.json", {"Event": updated})
    third = feeds.import_foreign(node, [(path, "misp")])
    assert third.stored > 0
    history = query.show(node, f"report--{EVENT_UUID}")
    assert len(history.versions) == 2  # a new version, not a duplicate object
    ind = "indicator--5f0c1a2e-2222-4a5b-9c3d-000000000001"
    assert len(query.show(node, ind).versions) == 2
    # The unchanged attributes kept their one version.
    assert len(query.show(node, "indicator--5f0c1a2e-2222-4a5b-9c3d-000000000003").versions) == 1


def test_malformed_and_unknown_attributes_are_reported_one_by_one(
    node: Node, tmp_path: Path
) -> None:
    ev = event()
    ev["Attribute"] += [
        attribute(7, "no-such-type", "x", True),
        attribute(8, "md5", "not-a-hash", True),
    ]
    path = _write(tmp_path / "e.json", {"Event": ev})
    report = feeds.import_foreign(node, [(path, "misp")])
    bad = {p.attribute: p for p in report.attribute_problems if p.fatal}
    assert set(bad) == {
        "5f0c1a2e-2222-4a5b-9c3d-000000000007",
        "5f0c1a2e-2222-4a5b-9c3d-000000000008",
    }
    assert "unknown attribute type" in bad["5f0c1a2e-2222-4a5b-9c3d-000000000007"].message
    assert "not-a-hash" in bad["5f0c1a2e-2222-4a5b-9c3d-000000000008"].message
    # The rest of the event came in.
    assert len(_current(node, "indicator")) == 2


def test_a_broken_file_changes_nothing_and_the_others_are_imported(
    node: Node, tmp_path: Path
) -> None:
    good = _write(tmp_path / "good.json", {"Event": event()})
    (tmp_path / "broken.json").write_text('{"Event": {"info": "x", "Attribute": [')
    html = tmp_path / "html.json"
    html.write_text("<html><body>Login</body></html>")
    report = feeds.import_foreign(
        node, [(str(tmp_path / "broken.json"), "misp"), (str(html), "misp"), (good, "misp")]
    )
    reasons = [f.reason for f in report.failed_inputs]
    assert len(reasons) == 2 and "HTML" in reasons[1]
    assert len(_current(node, "report")) == 1


def test_an_event_the_converter_refuses_is_rolled_back_whole(node: Node, tmp_path: Path) -> None:
    ev = event()
    ev["timestamp"] = "yesterday"  # the converter gives up on the whole event
    other = event(uuid="5f0c1a2e-1111-4a5b-9c3d-000000000042", attributes=[])
    path = _write(tmp_path / "e.json", [{"Event": ev}, {"Event": other}])
    before = query.stats(node).versions
    report = feeds.import_foreign(node, [(path, "misp")])
    assert len(report.failed_inputs) == 1 and "000000000001" in str(report.failed_inputs[0])
    # Nothing of the refused event, all of the other.
    assert not list(
        node.store.query(Query(ids=("indicator--5f0c1a2e-2222-4a5b-9c3d-000000000001",)))
    )
    ids = {o["id"] for o in _current(node, "report")} | {
        o["id"] for o in _current(node, "grouping")
    }
    assert ids == {"report--5f0c1a2e-1111-4a5b-9c3d-000000000042"}
    assert query.stats(node).versions > before


# The converter takes about 1 ms an attribute here (4 ms on a shared machine): a
# 100,000-attribute event is bench/feeds.py's (--big-event: 82 s); the suite keeps 5,000.
BIG = 5_000


def test_a_big_event_with_one_bad_attribute(make_node: object, tmp_path: Path) -> None:
    node = make_node()  # type: ignore[operator]
    attrs = [
        attribute(i, "ip-dst", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", i % 2 == 0)
        for i in range(1, BIG + 1)
    ]
    attrs[500]["type"] = "bogus"  # attribute 501: to_ids false
    path = _write(tmp_path / "big.json", {"Event": event(attributes=attrs)})
    report = feeds.import_foreign(node, [(path, "misp")])
    assert report.attributes == BIG and not report.failed_inputs
    assert [p.attribute for p in report.attribute_problems if p.fatal] == [attrs[500]["uuid"]]
    assert query.stats(node).current_by_type["indicator"] == BIG // 2


def test_a_feed_directory_with_a_missing_event(node: Node, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    other = "5f0c1a2e-1111-4a5b-9c3d-0000000000aa"
    manifest = {EVENT_UUID: {"info": "x"}, other: {"info": "gone"}}
    _write(feed / "manifest.json", manifest)
    _write(feed / f"{EVENT_UUID}.json", {"Event": event()})
    (feed / "hashes.csv").write_text("")
    assert feeds.classify(str(feed)) == "misp-feed"
    report = feeds.import_foreign(node, [(str(feed), "misp-feed")])
    assert report.events == 1
    assert [f.reason for f in report.failed_inputs] == [
        "listed in manifest.json but missing from the feed"
    ]
    assert other in report.failed_inputs[0].source


def test_objects_come_across(node: Node, tmp_path: Path) -> None:
    obj = {
        "uuid": "5f0c1a2e-4444-4a5b-9c3d-000000000001",
        "name": "domain-ip",
        "meta-category": "network",
        "template_uuid": "43b3b146-77eb-4931-b4cc-b66c60f28734",
        "template_version": "9",
        "timestamp": "1704200000",
        "Attribute": [
            attribute(11, "domain", "c2.example.net", True, object_relation="domain"),
            attribute(12, "ip-dst", "203.0.113.9", True, object_relation="ip"),
        ],
    }
    path = _write(tmp_path / "e.json", {"Event": event(objects=[obj])})
    report = feeds.import_foreign(node, [(path, "misp")])
    assert report.attributes == 5
    patterns = [str(i["pattern"]) for i in _current(node, "indicator")]
    assert any("c2.example.net" in p and "203.0.113.9" in p for p in patterns)
