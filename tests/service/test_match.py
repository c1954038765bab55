"""Detection end to end: indicators in a node, real Zeek logs, sightings in the store."""

from __future__ import annotations

import gzip
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.patterns import Event, Hit, Matcher
from accord.service import ingest, match, query
from accord.service._match_indicators import IndicatorFeed
from accord.service._match_sightings import SightingBook
from accord.service.node import Node
from accord.store import Query
from tests.conftest import NodeFactory

TS = "2012-01-01T00:00:00.000Z"
C2 = "54.245.228.191"  # the web server of zat's conn/dns/http logs
PRODUCER = "identity--7d4f1c2e-8a3b-4c5d-9e6f-0a1b2c3d4e5f"


def _indicator(n: int, pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n + (11 << 80), version=4)}",
        "created": TS,
        "modified": TS,
        "name": f"test indicator {n}",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": TS,
        **extra,
    }


def _store(node: Node, objects: list[dict[str, Any]], source: str = "feed.json") -> None:
    outcomes = ingest.ingest_objects(
        node, list[object](objects), source=("file", source), collection_pks=[]
    )
    assert all(o.ok for o in outcomes), outcomes


def _sightings(node: Node) -> dict[str, dict[str, Any]]:
    found = node.store.query(Query(types=("sighting",)))
    return {orjson.loads(o.data)["sighting_of_ref"]: orjson.loads(o.data) for o in found}


def _lines_with(path: Path, value: str) -> int:
    return sum(
        1
        for line in path.read_text().splitlines()
        if not line.startswith("#") and value in {v for f in line.split("\t") for v in f.split(",")}
    )


def test_match_zeek_logs_stores_one_sighting_per_indicator_with_its_count(
    node: Node, shared_data: Path
) -> None:
    zat = shared_data / "zeek" / "zat"
    ip = _indicator(1, f"[ipv4-addr:value = '{C2}']", created_by_ref=PRODUCER)
    domain = _indicator(2, "[domain-name:value = 'guyspy.com']")
    expired = _indicator(3, f"[ipv4-addr:value = '{C2}']", valid_until="2012-06-01T00:00:00Z")
    revoked = _indicator(4, f"[ipv4-addr:value = '{C2}']", revoked=True)
    sigma = _indicator(5, "title: x", pattern_type="sigma")
    broken = _indicator(6, "[ipv4-addr:value = ")
    _store(node, [ip, domain, expired, revoked, sigma, broken])

    paths = [zat / "conn.log", zat / "dns.log", zat / "http.log"]
    report = match.match_paths(node, [str(p) for p in paths])

    assert report.indicators == 3  # ip, domain, expired; not revoked, sigma or broken
    assert set(report.pattern_errors) == {broken["id"]}
    expected_ip = sum(_lines_with(p, C2) for p in paths)
    assert expected_ip > 50
    assert report.hits[ip["id"]] == expected_ip
    assert expired["id"] not in report.hits  # the logs are from 2013, after its valid_until
    # guyspy.com: dns queries and answers, and http hosts.
    assert report.hits[domain["id"]] == sum(
        1
        for p in (zat / "dns.log", zat / "http.log")
        for line in p.read_text().splitlines()
        if not line.startswith("#")
        and {"guyspy.com"} & {v for f in line.split("\t") for v in f.split(",")}
    )
    assert report.stats.skipped_total == 0
    assert report.sightings_written == 2

    stored = _sightings(node)
    assert set(stored) == {ip["id"], domain["id"]}
    sighting = stored[ip["id"]]
    assert sighting["count"] == expected_ip
    assert sighting["where_sighted_refs"] == [node.info.id]
    assert sighting["created_by_ref"] == node.info.id
    assert sighting["id"] == match.sighting_id(node.info.id, ip["id"])
    assert sighting["first_seen"] == "2013-09-15T23:44:27.631940Z"  # the first dns answer
    assert sighting["first_seen"] <= sighting["last_seen"]
    assert "observed_data_refs" not in sighting
    sightings = node.store.collection(node.settings.sightings_collection)
    in_collection = list(node.store.query(Query(collection_pk=sightings.pk)))
    assert {o.id for o in in_collection} == {s["id"] for s in stored.values()}

    # A second run of the same logs: the same sighting, a new version, the count added.
    again = match.match_paths(node, [str(p) for p in paths])
    assert again.sightings_written == 2
    versions = list(
        node.store.query(Query(ids=(sighting["id"],), all_versions=True, include_revoked=True))
    )
    assert len(versions) == 2
    assert _sightings(node)[ip["id"]]["count"] == 2 * expected_ip
    assert _sightings(node)[ip["id"]]["modified"] > sighting["modified"]
    assert again.counts[ip["id"]] == 2 * expected_ip
    assert again.producers == {ip["id"]: PRODUCER, domain["id"]: "file:feed.json"}

    groups = match.sightings_by_producer(node)
    assert set(groups) == {PRODUCER, f"file:{'feed.json'}"}
    assert [s.id for s in groups[PRODUCER].sightings] == [sighting["id"]]
    assert [s.name for s in groups["file:feed.json"].sources] == ["feed.json"]


def test_keep_observed_stores_and_references_observed_data(
    make_node: NodeFactory, shared_data: Path
) -> None:
    node = make_node()
    ind = _indicator(1, f"[ipv4-addr:value = '{C2}']")
    _store(node, [ind])
    report = match.match_paths(
        node, [str(shared_data / "zeek" / "zat" / "conn.log")], keep_observed=2
    )
    assert report.hits[ind["id"]] > 2
    sighting = _sightings(node)[ind["id"]]
    refs = sighting["observed_data_refs"]
    assert len(refs) == 2
    kept = [orjson.loads(o.data) for o in node.store.query(Query(ids=tuple(refs)))]
    assert len(kept) == 2
    for sdo in kept:
        values = {o.get("value") for o in sdo["objects"].values()}
        assert C2 in values


def test_indicator_feed_follows_new_versions_and_revocations(make_node: NodeFactory) -> None:
    node = make_node()
    first = _indicator(1, "[domain-name:value = 'a.example']")
    _store(node, [first])
    matcher = Matcher()
    feed = IndicatorFeed(node, matcher)
    assert feed.load() == 1

    def hits(value: str) -> list[str]:
        keys = (("domain-name:value", value),)
        event = Event(1.7e9, keys, lambda: [], 1)
        return [h.indicator_id for h in matcher.feed(event)]

    assert hits("a.example") == [first["id"]]
    assert feed.poll() == 0

    # A new version changes the pattern; a new indicator arrives; an old version comes late.
    second = _indicator(2, "[domain-name:value = 'b.example']")
    changed = {**first, "modified": "2013-01-01T00:00:00.000Z", "pattern": second["pattern"]}
    late = {**first, "modified": "2012-06-01T00:00:00.000Z", "pattern": "[domain-name:value = 'z']"}
    _store(node, [changed, second])
    _store(node, [late])
    assert feed.poll() == 2
    assert sorted(hits("b.example")) == sorted([first["id"], second["id"]])
    assert hits("a.example") == [] and hits("z") == []
    assert len(matcher) == 2

    revoked = {**second, "modified": "2014-01-01T00:00:00.000Z", "revoked": True}
    _store(node, [revoked])
    assert feed.poll() == 1
    assert hits("b.example") == [first["id"]]
    assert len(matcher) == 1


def test_a_million_hits_are_one_sighting_with_that_count(make_node: NodeFactory) -> None:
    node = make_node()
    ind = _indicator(1, "[domain-name:value = 'a.example']")
    event = Event(1.7e9, (("domain-name:value", "a.example"),), lambda: [], 1)
    book = SightingBook(node, "sightings")
    hit = Hit(ind["id"], 1.7e9, 1.7e9, (event,))
    for _ in range(10):
        book.add([hit] * 100_000)
    assert book.flush() == 1
    [sighting] = _sightings(node).values()
    assert sighting["count"] == 1_000_000
    assert book.flush() == 0  # nothing changed since


def test_truncated_gzip_is_counted_and_the_rest_matched(
    make_node: NodeFactory, shared_data: Path
) -> None:
    node = make_node()
    _store(node, [_indicator(1, f"[ipv4-addr:value = '{C2}']")])
    report = match.match_paths(node, [str(shared_data / "zeek" / "zat" / "http.log.corrupt.gz")])
    assert report.stats.skipped["truncated"] == 1
    assert not report.failed_inputs
    assert "ends early" in report.stats.skips[-1].detail


def test_a_missing_file_fails_alone(
    make_node: NodeFactory, shared_data: Path, tmp_path: Path
) -> None:
    node = make_node()
    report = match.match_paths(
        node, [str(tmp_path / "nope.log"), str(shared_data / "zeek" / "zat" / "dns.log")]
    )
    assert len(report.failed_inputs) == 1 and "nope.log" in str(report.failed_inputs[0])
    assert report.stats.events > 0


def test_follow_reads_a_growing_rotated_file(make_node: NodeFactory, tmp_path: Path) -> None:
    node = make_node(match_flush_seconds=0.01)
    ind = _indicator(1, "[ipv4-addr:value = '198.51.100.7']")
    _store(node, [ind])
    log = tmp_path / "eve.json"
    log.write_bytes(b"")

    def line(n: int) -> bytes:
        record = {
            "timestamp": f"2024-03-01T10:00:{n:02d}.000000+0000",
            "event_type": "flow",
            "src_ip": "192.0.2.1",
            "dest_ip": "198.51.100.7",
            "proto": "TCP",
        }
        return orjson.dumps(record) + b"\n"

    done = threading.Event()

    def writer() -> None:
        with log.open("ab") as f:
            for n in range(5):
                f.write(line(n))
                f.flush()
                time.sleep(0.02)
            half = line(5)
            f.write(half[:20])  # a line written in two parts
            f.flush()
            time.sleep(0.1)
            f.write(half[20:])
        log.rename(tmp_path / "eve.json.1")  # rotation: a new file at the path
        with log.open("ab") as f:
            for n in range(6, 9):
                f.write(line(n))
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        report = match.match_paths(node, [str(log)], follow=True, stop=done.is_set)
    finally:
        thread.join()
    assert report.hits[ind["id"]] == 9
    assert report.stats.skipped_total == 0
    assert _sightings(node)[ind["id"]]["count"] == 9


def test_follow_takes_one_plain_file(make_node: NodeFactory, tmp_path: Path) -> None:
    node = make_node()
    gz = tmp_path / "a.log.gz"
    gz.write_bytes(gzip.compress(b"x\n"))
    with pytest.raises(ValueError, match="compressed"):
        match.match_paths(node, [str(gz)], follow=True, stop=lambda: True)
    with pytest.raises(ValueError, match="exactly one file"):
        match.match_paths(node, [str(gz), str(gz)], follow=True)


def test_parse_mapping() -> None:
    assert match.parse_mapping(["dst=ipv4-addr:value", " 2 = time "]) == [
        ("dst", "ipv4-addr:value"),
        ("2", "time"),
    ]
    with pytest.raises(ValueError, match="COLUMN=PATH"):
        match.parse_mapping(["ipv4-addr:value"])


def test_ctrl_c_ends_a_follow_and_keeps_the_hits(make_node: NodeFactory, tmp_path: Path) -> None:
    node = make_node(match_flush_seconds=3600)  # no flush before the end
    ind = _indicator(1, "[domain-name:value = 'c2.example']")
    _store(node, [ind])
    log = tmp_path / "dns.json"
    record = {"ts": 1.7e9, "query": "c2.example", "qtype_name": "A", "id.orig_h": "192.0.2.1"}
    log.write_bytes(b"".join(orjson.dumps(record) + b"\n" for _ in range(3)))

    def interrupt() -> bool:
        raise KeyboardInterrupt

    report = match.match_paths(node, [str(log)], follow=True, stop=interrupt)
    assert report.interrupted
    assert _sightings(node)[ind["id"]]["count"] == 3


def test_an_accord_jsonl_export_of_observed_data_is_matched(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    """SCOs and observed-data with object_refs, as `accord export --format jsonl` writes them."""
    source = make_node()
    ip = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--6e0ae5c6-1f0c-5b7c-9d2e-3f4a5b6c7d8e",
        "value": "198.51.100.7",
    }
    traffic = {
        "type": "network-traffic",
        "spec_version": "2.1",
        "id": "network-traffic--1c2d3e4f-5a6b-5c7d-8e9f-0a1b2c3d4e5f",
        "dst_ref": ip["id"],
        "dst_port": 8443,
        "protocols": ["tcp"],
    }
    observed = {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f",
        "created": "2024-03-01T10:00:00.000Z",
        "modified": "2024-03-01T10:00:00.000Z",
        "first_observed": "2024-03-01T10:00:00Z",
        "last_observed": "2024-03-01T10:00:00Z",
        "number_observed": 1,
        "object_refs": [ip["id"], traffic["id"]],
    }
    _store(source, [ip, traffic, observed])
    export = tmp_path / "export.jsonl"
    with export.open("wb") as f:
        assert query.export(query.search(source, query.build_query(source)), f, "jsonl") == 3

    node = make_node()
    # Not a lookup alone: AND of two comparisons needs the observation itself.
    both = _indicator(
        1, "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 8443]"
    )
    wrong_port = _indicator(
        2, "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]"
    )
    _store(node, [both, wrong_port])
    report = match.match_paths(node, [str(export)])
    assert report.stats.skipped_total == 0, report.stats.skips
    assert report.stats.events == 1
    assert dict(report.hits) == {both["id"]: 1}


def test_follow_of_a_missing_file_is_an_input_error(make_node: NodeFactory, tmp_path: Path) -> None:
    node = make_node()
    with pytest.raises(ValueError, match="cannot read"):
        match.match_paths(node, [str(tmp_path / "nope.log")], follow=True, stop=lambda: True)


def test_sightings_by_producer_names_the_peer_an_indicator_came_from(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    node = make_node()
    pulled = _indicator(1, "[domain-name:value = 'c2.example']")
    outcomes = ingest.ingest_objects(node, [pulled], source=("peer", "node-a"), collection_pks=[])
    assert outcomes[0].ok
    log = tmp_path / "dns.json"
    record = {"ts": 1.7e9, "query": "c2.example", "qtype_name": "A", "id.orig_h": "192.0.2.1"}
    log.write_bytes(orjson.dumps(record) + b"\n")
    report = match.match_paths(node, [str(log)])
    assert report.producers == {pulled["id"]: "peer:node-a"}
    groups = match.sightings_by_producer(node)
    assert list(groups) == ["peer:node-a"]
    [sighting] = groups["peer:node-a"].sightings
    assert orjson.loads(sighting.data)["sighting_of_ref"] == pulled["id"]
    assert [(s.kind, s.name) for s in groups["peer:node-a"].sources] == [("peer", "node-a")]
    assert match.sightings_by_producer(node, collection="no such collection") == {}
