"""Zeek logs, TSV and JSON, on the real logs of ../shared/data/zeek."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.logsources import stix_time
from accord.logsources._zeek import kind_of, record_keys
from accord.logsources._zeek_fast import ZeekHeader, extractor, json_extractor
from tests.logsources.helpers import (
    assert_consistent,
    assert_reference_finds_keys,
    parse_file,
    parse_lines,
)

KINDS = ("conn", "dns", "http", "ssl", "files", "x509")


def _data_lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line and not line.startswith("#"))


@pytest.mark.parametrize("kind", KINDS)
def test_every_tsv_line_of_the_zat_logs_is_an_event(shared_data: Path, kind: str) -> None:
    path = shared_data / "zeek" / "zat" / f"{kind}.log"
    events, stats = parse_file(path)
    assert not stats.skipped, stats.skips
    # Lines without any observable (files.log records of timed-out transfers) are ignored.
    assert len(events) + stats.ignored == _data_lines(path)
    assert stats.ignored == (6 if kind == "files" else 0)
    assert stats.formats == {f"zeek {kind}": _data_lines(path)}
    for event in events:
        assert_consistent(event)
        assert event.line > 8  # after the header


@pytest.mark.parametrize("kind", KINDS)
def test_every_json_line_of_the_zat_logs_is_an_event_of_its_log(
    shared_data: Path, kind: str
) -> None:
    path = shared_data / "zeek" / "zat" / "json" / f"{kind}.log"
    events, stats = parse_file(path)
    assert not stats.skipped, stats.skips
    assert stats.formats == {f"zeek {kind}": _data_lines(path)}
    assert len(events) + stats.ignored == _data_lines(path)
    for event in events:
        assert_consistent(event)


def test_conn_line_keys(shared_data: Path) -> None:
    events, _ = parse_file(shared_data / "zeek" / "zat" / "conn.log")
    first = events[0]
    # 1379288667.706265 CoyZrY2g74UvMMgp4a 192.168.33.10 1032 54.245.228.191 80 tcp http
    assert first.time == pytest.approx(1379288667.706265)
    assert set(first.keys) == {
        ("ipv4-addr:value", "192.168.33.10"),
        ("ipv4-addr:value", "54.245.228.191"),
        ("network-traffic:src_ref.value", "192.168.33.10"),
        ("network-traffic:dst_ref.value", "54.245.228.191"),
        ("network-traffic:src_port", 1032),
        ("network-traffic:dst_port", 80),
        ("network-traffic:protocols[*]", "tcp"),
        ("network-traffic:protocols[*]", "http"),
    }
    [sdo] = first.observed()
    assert sdo["first_observed"] == "2013-09-15T23:44:27.706265Z"
    traffic = [o for o in sdo["objects"].values() if o["type"] == "network-traffic"]
    assert traffic[0]["src_port"] == 1032 and traffic[0]["protocols"] == ["tcp", "http"]
    assert sdo["objects"][traffic[0]["dst_ref"]]["value"] == "54.245.228.191"


def test_dns_answers_resolve_the_query(shared_data: Path) -> None:
    events, _ = parse_file(shared_data / "zeek" / "zat" / "dns.log")
    second = events[1]  # www.guyspy.com -> guyspy.com (CNAME), 54.245.228.191
    keys = set(second.keys)
    assert ("domain-name:value", "www.guyspy.com") in keys
    assert ("domain-name:value", "guyspy.com") in keys
    assert ("ipv4-addr:value", "54.245.228.191") in keys
    assert ("domain-name:resolves_to_refs[*].value", "54.245.228.191") in keys
    [sdo] = second.observed()
    query = next(o for o in sdo["objects"].values() if o.get("value") == "www.guyspy.com")
    assert {sdo["objects"][r]["value"] for r in query["resolves_to_refs"]} == {
        "guyspy.com",
        "54.245.228.191",
    }


def test_http_gives_url_domain_and_request_extension(shared_data: Path) -> None:
    events, _ = parse_file(shared_data / "zeek" / "zat" / "http.log")
    keys = dict(events[0].keys)
    assert keys["url:value"] == "http://guyspy.com/"
    assert keys["domain-name:value"] == "guyspy.com"
    ext = "network-traffic:extensions.http-request-ext."
    assert keys[ext + "request_method"] == "get"
    assert keys[ext + "request_value"] == "/"
    assert str(keys[ext + "request_header.User-Agent"]).startswith(
        "Mozilla/4.0 (compatible; MSIE 8.0"
    )


def test_files_hashes_and_x509(shared_data: Path) -> None:
    events, _ = parse_file(shared_data / "zeek" / "zat" / "files.log")
    keys = dict(events[0].keys)
    assert keys["file:hashes.MD5"] == "92bf83360b8ed10d82e38bcdcfcfa4a7"
    assert keys["file:hashes.SHA-1"] == "2c3a961bb8ff1b1647f22249c25e8cf1df9031e0"
    assert keys["file:mime_type"] == "text/html" and keys["file:size"] == 184
    events, _ = parse_file(shared_data / "zeek" / "zat" / "x509.log")
    keys = dict(events[0].keys)
    assert keys["x509-certificate:serial_number"] == "5A0002053AC4098AA23DBFFD5E00010002053A"
    assert keys["x509-certificate:subject"] == "CN=*.pipe.skype.com"
    assert keys["x509-certificate:validity_not_before"] == stix_time(1444159886.0)


def test_zeek_6_ssl_and_x509_give_sha256_fingerprints(shared_data: Path) -> None:
    base = shared_data / "zeek" / "brimdata" / "zeek-default"
    events, stats = parse_file(base / "ssl.log.gz")
    assert not stats.skipped and len(events) == 49_474
    fp = "b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe"
    assert ("x509-certificate:hashes.SHA-256", fp) in events[0].keys
    events, stats = parse_file(base / "x509.log.gz")
    assert not stats.skipped and events
    assert ("x509-certificate:hashes.SHA-256", fp) in events[0].keys
    for event in events[:200]:
        assert_consistent(event)


def test_other_zeek_logs_give_their_addresses(shared_data: Path) -> None:
    events, stats = parse_file(shared_data / "zeek" / "zat" / "smtp.log")
    assert events and not stats.skipped
    assert {p for e in events for p, _ in e.keys} <= {
        "ipv4-addr:value",
        "ipv6-addr:value",
        "network-traffic:src_ref.value",
        "network-traffic:dst_ref.value",
        "network-traffic:src_port",
        "network-traffic:dst_port",
        "network-traffic:protocols[*]",
    }


def test_every_zeek_log_of_the_data_is_read_without_an_exception(shared_data: Path) -> None:
    """All 600 logs, baselines included: lines are events, ignored, or skipped with a reason."""
    paths = sorted(p for p in (shared_data / "zeek").rglob("*") if p.is_file())
    assert len(paths) > 500
    reasons: set[str] = set()
    for path in paths:
        if path.name == "http.log.corrupt.gz" or path.suffix not in (".log", ".gz"):
            continue
        events, stats = parse_file(path)
        reasons.update(stats.skipped)
        assert stats.events == len(events)
        for event in events[:5]:
            assert_consistent(event)
    # The btest baselines start with a "### BTest" line and write XXXXXXXXXX.XXXXXX for times.
    assert {"unknown format", "malformed"} <= reasons


def test_baseline_times_are_malformed_with_their_line_numbers(shared_data: Path) -> None:
    path = shared_data / "zeek" / "zeek-baselines" / "testing" / "btest" / "Baseline"
    conn = next(p for p in sorted(path.rglob("conn.log")) if "XXXXXXXXXX" in p.read_text())
    _, stats = parse_file(conn)
    assert stats.skipped["unknown format"] == 1  # the "### BTest" line
    assert stats.skips[0].line == 1
    malformed = [s for s in stats.skips if s.reason == "malformed"]
    assert malformed and all("XXXXXXXXXX" in s.detail for s in malformed)
    lines = conn.read_text().splitlines()
    assert all(lines[s.line - 1].startswith("XXXXXXXXXX") for s in malformed)


def test_tsv_with_a_line_of_the_wrong_width_and_an_escaped_tab() -> None:
    header = [
        b"#separator \\x09\n",
        b"#set_separator\t,\n",
        b"#path\thttp\n",
        b"#fields\tts\tid.orig_h\tid.resp_h\thost\turi\tuser_agent\n",
    ]
    good = b"1700000000.5\t192.0.2.1\t198.51.100.7\tevil.example\t/a\tx\\x09y\n"
    short = b"1700000001.0\t192.0.2.1\n"
    events, stats = parse_lines([*header, good, short])
    assert len(events) == 1 and stats.skipped == {"malformed": 1}
    assert stats.skips[0].line == 6
    ua = "network-traffic:extensions.http-request-ext.request_header.User-Agent"
    assert dict(events[0].keys)[ua] == "x\ty"
    assert ("url:value", "http://evil.example/a") in events[0].keys


def test_fast_tsv_readers_give_the_keys_of_the_dictionary_mapping(shared_data: Path) -> None:
    """The position-bound readers (with their memos) and the plain mapping agree on every line."""
    paths = [shared_data / "zeek" / "zat" / f"{kind}.log" for kind in KINDS]
    paths += [
        shared_data / "zeek" / "zat" / "smtp.log",
        shared_data / "zeek" / "zat" / "tor_ssl.log",
    ]
    checked = 0
    for path in paths:
        header = ZeekHeader()
        for line in path.read_text().splitlines():
            if line.startswith("#"):
                header.directive(line)
                continue
            parts = line.split(header.separator)
            fast = tuple(header.extract(parts))
            plain = tuple(record_keys(header.path, dict(zip(header.fields, parts, strict=True))))
            assert fast == plain, (path.name, line)
            # Twice: the second answer comes from the memo.
            assert tuple(header.extract(parts)) == plain
            checked += 1
    assert checked > 1000


def test_fast_readers_cover_zeek_6_logs(shared_data: Path) -> None:
    """Zeek 6 ssl.log has no proto field: the fast reader must still apply, and agree."""
    import gzip

    base = shared_data / "zeek" / "brimdata" / "zeek-default"
    for name in ("ssl.log.gz", "dns.log.gz", "x509.log.gz"):
        header = ZeekHeader()
        lines = gzip.decompress((base / name).read_bytes()).decode().splitlines()
        for line in lines[:3000]:
            if line.startswith("#"):
                header.directive(line)
                continue
            parts = line.split(header.separator)
            plain = tuple(record_keys(header.path, dict(zip(header.fields, parts, strict=True))))
            assert tuple(header.extract(parts)) == plain
        assert extractor(header.path, header.fields, ",").__name__ != "extract_by_dict"


@pytest.mark.parametrize("kind", KINDS)
def test_the_reference_matcher_finds_every_key_in_the_observed_data(
    shared_data: Path, kind: str
) -> None:
    """The oracle: for each key, ``[path = value]`` matches the event's observed-data in
    stix2-matcher (STIX 2.0 mode reads the embedded ``objects`` form)."""
    events, _ = parse_file(shared_data / "zeek" / "zat" / f"{kind}.log")
    assert sum(assert_reference_finds_keys(event) for event in events[:15]) >= 15


def test_fast_json_readers_give_the_keys_of_the_dictionary_mapping(shared_data: Path) -> None:
    paths = sorted((shared_data / "zeek" / "zat" / "json").glob("*.log"))
    checked = 0
    for path in paths:
        extractors: dict[str, Any] = {}
        for line in path.read_bytes().splitlines():
            rec = orjson.loads(line)
            kind = kind_of(rec)
            extract = extractors.setdefault(kind, json_extractor(kind))
            plain = tuple(record_keys(kind, rec))
            assert tuple(extract(rec)) == plain, (path.name, rec)
            assert tuple(extract(rec)) == plain  # from the memos
            checked += 1
    assert checked > 300


_JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 70000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["192.0.2.1", "2001:db8::1", "-", "(empty)", "", "tcp", "a.example", "80"]),
    st.lists(st.sampled_from(["192.0.2.9", "b.example", "-", "TXT x"]), max_size=3),
    st.lists(st.integers(0, 3), max_size=2),
)
_FIELDS = (
    "id.orig_h",
    "id.resp_h",
    "id.orig_p",
    "id.resp_p",
    "proto",
    "service",
    "query",
    "answers",
    "host",
    "uri",
    "method",
    "user_agent",
    "server_name",
    "subject",
    "cert_chain_fps",
    "md5",
    "tx_hosts",
    "total_bytes",
    "certificate.serial",
    "certificate.version",
)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["conn", "dns", "http", "ssl", "files", "x509", "other"]),
    st.lists(st.dictionaries(st.sampled_from(_FIELDS), _JSON_VALUES), min_size=1, max_size=6),
)
def test_fast_json_readers_agree_on_any_values(kind: str, records: list[dict[str, Any]]) -> None:
    """Memos must not confuse 1 with True or 3 with 3.0: any JSON values, the same keys."""
    extract = json_extractor(kind)
    for rec in records * 2:
        assert tuple(extract(rec)) == tuple(record_keys(kind, rec)), rec
