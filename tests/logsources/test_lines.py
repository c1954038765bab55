"""STIX observed-data lines, CSV with a mapping, and bad input of every kind."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.logsources import LogParser, SourceStats, objects_from_keys
from tests.logsources.helpers import assert_consistent, parse_lines, values_at

OBSERVED = {
    "type": "observed-data",
    "spec_version": "2.1",
    "id": "observed-data--6a8b7f3e-5b0f-4b0a-9d57-2f8e2c1c4b11",
    "created": "2024-03-01T10:00:00.000Z",
    "modified": "2024-03-01T10:00:00.000Z",
    "first_observed": "2024-03-01T10:00:00Z",
    "last_observed": "2024-03-01T10:05:00Z",
    "number_observed": 3,
    "objects": {
        "0": {"type": "ipv4-addr", "value": "198.51.100.7"},
        "1": {
            "type": "network-traffic",
            "dst_ref": "0",
            "dst_port": 8443,
            "protocols": ["ipv4", "tcp"],
        },
        "2": {"type": "file", "hashes": {"SHA-256": "cd" * 32}, "name": "a.exe"},
    },
}


def test_observed_data_line_is_matched_as_it_is() -> None:
    [event], stats = parse_lines([orjson.dumps(OBSERVED)])
    assert event.observed() == [OBSERVED]
    assert event.time == 1709287200.0
    assert set(event.keys) >= {
        ("ipv4-addr:value", "198.51.100.7"),
        ("network-traffic:dst_ref.value", "198.51.100.7"),
        ("network-traffic:dst_port", 8443),
        ("network-traffic:protocols[*]", "tcp"),
        ("file:hashes.SHA-256", "cd" * 32),
        ("file:name", "a.exe"),
    }
    for path, value in event.keys:
        assert value in values_at(OBSERVED, path), path
    assert stats.formats == {"stix observed-data": 1}


def test_observed_data_with_object_refs_takes_the_sco_lines_before_it() -> None:
    ip = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--a1b2c3d4-0000-5000-8000-000000000001",
        "value": "198.51.100.7",
    }
    traffic = {
        "type": "network-traffic",
        "spec_version": "2.1",
        "id": "network-traffic--a1b2c3d4-0000-5000-8000-000000000002",
        "dst_ref": ip["id"],
        "dst_port": 8443,
        "protocols": ["tcp"],
    }
    refs = {k: v for k, v in OBSERVED.items() if k != "objects"}
    refs["object_refs"] = [ip["id"], traffic["id"]]
    missing = {**refs, "object_refs": ["ipv4-addr--a1b2c3d4-0000-5000-8000-00000000ffff"]}
    lines = [orjson.dumps(o) for o in (ip, traffic, refs, missing)]
    events, stats = parse_lines(lines, fmt="jsonl")
    [event] = events
    assert set(event.keys) == {
        ("ipv4-addr:value", "198.51.100.7"),
        ("network-traffic:dst_ref.value", "198.51.100.7"),
        ("network-traffic:dst_port", 8443),
        ("network-traffic:protocols[*]", "tcp"),
    }
    [sdo] = event.observed()
    assert "object_refs" not in sdo and sdo["id"] == refs["id"]
    assert sdo["objects"] == {
        "0": {"type": "ipv4-addr", "value": "198.51.100.7"},
        "1": {"type": "network-traffic", "dst_ref": "0", "dst_port": 8443, "protocols": ["tcp"]},
    }
    for path, value in event.keys:
        assert value in values_at(sdo, path), path
    assert stats.skipped == {"malformed": 1} and stats.skips[0].line == 4
    assert "1 object_refs not in the lines before it" in stats.skips[0].detail
    assert stats.formats == {"stix sco": 2, "stix observed-data": 1}


def test_csv_by_header_names_with_a_time_column() -> None:
    lines = [
        b"when,client,server,port,site\n",
        b"2024-03-01T10:00:00Z,192.0.2.1,198.51.100.7,443,evil.example\n",
        b'1709287260,192.0.2.2,198.51.100.8,80,"quoted, with comma.example"\n',
        b"1709287260,192.0.2.2\n",
    ]
    mapping = [
        ("when", "time"),
        ("client", "network-traffic:src_ref.value"),
        ("server", "network-traffic:dst_ref.value"),
        ("port", "network-traffic:dst_port"),
        ("site", "domain-name:value"),
    ]
    events, stats = parse_lines(lines, mapping=mapping)
    assert [e.time for e in events] == [1709287200.0, 1709287260.0]
    assert ("network-traffic:dst_port", 443) in events[0].keys
    assert ("domain-name:value", "quoted, with comma.example") in events[1].keys
    assert stats.skipped == {"malformed": 1} and stats.skips[0].line == 4
    for event in events:
        assert_consistent(event)


def test_csv_by_position_without_a_header_uses_the_default_time() -> None:
    events, _ = parse_lines(
        [b"x,203.0.113.4\n"], mapping=[("2", "ipv4-addr:value")], default_time=1234.5
    )
    assert events[0].time == 1234.5
    assert events[0].keys == (("ipv4-addr:value", "203.0.113.4"),)


def test_csv_needs_a_mapping_and_object_paths() -> None:
    with pytest.raises(ValueError, match="column mapping"):
        LogParser("x", fmt="csv")
    with pytest.raises(ValueError, match="not an object path"):
        LogParser("x", mapping=[("a", "value")])


def test_csv_header_missing_a_mapped_column_is_reported() -> None:
    events, stats = parse_lines([b"a,b\n", b"1,2\n"], mapping=[("c", "ipv4-addr:value")])
    assert events == []
    assert "columns not in the header: c" in stats.skips[0].detail


def test_binary_truncated_and_unknown_lines_are_counted_with_line_numbers() -> None:
    lines = [
        b'{"ts": 1700000000.0, "id.orig_h": "192.0.2.1"}\n',
        b"\xff\xfe\x00\x01garbage\n",
        b"caf\xe9 latin-1\n",
        b'{"ts": 1700000000.0, "id.orig_h": "192.0\n',
        b"just some text\n",
        b"\n",
    ]
    events, stats = parse_lines(lines)
    assert len(events) == 1
    assert stats.skipped == {"binary": 2, "malformed": 1, "unknown format": 1}
    assert [(s.line, s.reason) for s in stats.skips] == [
        (2, "binary"),
        (3, "binary"),
        (4, "malformed"),
        (5, "unknown format"),
    ]
    assert stats.lines == 6


def test_objects_from_keys_reuses_objects_by_value() -> None:
    objects = objects_from_keys(
        [
            ("ipv4-addr:value", "192.0.2.1"),
            ("network-traffic:src_ref.value", "192.0.2.1"),
            ("network-traffic:dst_ref.value", "2001:db8::1"),
            ("network-traffic:protocols[*]", "tcp"),
            ("network-traffic:protocols[*]", "tcp"),
        ]
    )
    assert objects == {
        "0": {"type": "ipv4-addr", "value": "192.0.2.1"},
        "1": {"type": "network-traffic", "src_ref": "0", "dst_ref": "2", "protocols": ["tcp"]},
        "2": {"type": "ipv6-addr", "value": "2001:db8::1"},
    }


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.binary(max_size=200), max_size=20), st.sampled_from([None, "zeek", "eve", "jsonl"])
)
def test_any_bytes_are_counted_never_raised(lines: list[bytes], fmt: str | None) -> None:
    stats = SourceStats()
    parser = LogParser("fuzz", fmt=fmt, stats=stats)  # type: ignore[arg-type]
    events = [e for n, raw in enumerate(lines, 1) if (e := parser.feed(raw, n)) is not None]
    assert stats.lines == len(lines)
    assert stats.events == len(events)
    assert stats.events + stats.ignored + stats.skipped_total <= len(lines)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "ts": st.floats(0, 4e9),
                "id.orig_h": st.ip_addresses().map(str),
                "id.resp_p": st.integers(0, 65535),
                "query": st.from_regex(r"[a-z]{1,10}\.example", fullmatch=True),
            }
        ),
        min_size=1,
        max_size=5,
    )
)
def test_zeek_json_events_agree_with_their_observed_data(records: list[dict[str, object]]) -> None:
    events, stats = parse_lines([orjson.dumps(r) for r in records])
    assert len(events) == len(records), stats.skips
    for event in events:
        assert_consistent(event)
