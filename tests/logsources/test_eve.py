"""Suricata eve.json: records written here, fictitious (documentation addresses and domains)."""

from __future__ import annotations

from typing import Any

import orjson

from tests.logsources.helpers import assert_consistent, assert_reference_finds_keys, parse_lines

TS = "2024-03-01T10:00:00.250000+0000"
FLOW = {
    "timestamp": TS,
    "flow_id": 1,
    "src_ip": "192.0.2.10",
    "src_port": 49152,
    "dest_ip": "198.51.100.7",
    "dest_port": 443,
    "proto": "TCP",
}


def _line(event_type: str, **extra: Any) -> bytes:
    return orjson.dumps({**FLOW, "event_type": event_type, **extra}) + b"\n"


def test_flow_gives_the_five_tuple() -> None:
    [event], stats = parse_lines([_line("flow", app_proto="tls")])
    assert event.time == 1709287200.25
    assert set(event.keys) == {
        ("ipv4-addr:value", "192.0.2.10"),
        ("ipv4-addr:value", "198.51.100.7"),
        ("network-traffic:src_ref.value", "192.0.2.10"),
        ("network-traffic:dst_ref.value", "198.51.100.7"),
        ("network-traffic:src_port", 49152),
        ("network-traffic:dst_port", 443),
        ("network-traffic:protocols[*]", "tcp"),
        ("network-traffic:protocols[*]", "tls"),
    }
    assert stats.formats == {"eve flow": 1}
    assert_consistent(event)


def test_dns_versions_1_2_and_3() -> None:
    v1 = _line(
        "dns", dns={"type": "answer", "rrname": "c2.example", "rrtype": "A", "rdata": "203.0.113.9"}
    )
    v2 = _line(
        "dns",
        dns={
            "type": "answer",
            "rrname": "c2.example",
            "grouped": {"A": ["203.0.113.9"], "CNAME": ["cdn.example"]},
        },
    )
    v3 = _line(
        "dns",
        dns={
            "queries": [{"rrname": "c2.example", "rrtype": "A"}],
            "answers": [{"rrname": "c2.example", "rrtype": "A", "rdata": "203.0.113.9"}],
        },
    )
    events, stats = parse_lines([v1, v2, v3])
    assert len(events) == 3 and not stats.skipped
    for event in events:
        keys = set(event.keys)
        assert ("domain-name:value", "c2.example") in keys
        assert ("ipv4-addr:value", "203.0.113.9") in keys
        assert ("domain-name:resolves_to_refs[*].value", "203.0.113.9") in keys
        assert_consistent(event)
    assert ("domain-name:value", "cdn.example") in events[1].keys


def test_http_tls_fileinfo_and_an_alert_with_its_http() -> None:
    http = {
        "hostname": "evil.example",
        "url": "/gate.php?id=1",
        "http_user_agent": "Bot/1.0",
        "http_method": "POST",
        "protocol": "HTTP/1.1",
        "http_refer": "http://a.example/",
    }
    tls = {
        "sni": "evil.example",
        "subject": "CN=evil.example",
        "issuerdn": "CN=Fake CA",
        "serial": "00:AB:CD",
        "fingerprint": "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd",
    }
    info = {
        "filename": "/payload.bin",
        "md5": "0123456789abcdef0123456789abcdef",
        "sha256": "ab" * 32,
        "size": 4096,
        "magic": "application/x-dosexec",
    }
    lines = [
        _line("http", http=http),
        _line("tls", tls=tls),
        _line("fileinfo", fileinfo=info, http=http),
        _line("alert", alert={"signature": "ET TEST"}, http=http),
    ]
    events, stats = parse_lines(lines)
    assert len(events) == 4 and not stats.skipped
    http_keys = dict(events[0].keys)
    assert http_keys["url:value"] == "http://evil.example/gate.php?id=1"
    ext = "network-traffic:extensions.http-request-ext."
    assert http_keys[ext + "request_method"] == "post"
    assert http_keys[ext + "request_header.User-Agent"] == "Bot/1.0"
    tls_keys = dict(events[1].keys)
    assert tls_keys["x509-certificate:hashes.SHA-1"] == "aabbccddeeff00112233445566778899aabbccdd"
    assert tls_keys["x509-certificate:issuer"] == "CN=Fake CA"
    file_keys = dict(events[2].keys)
    assert file_keys["file:hashes.SHA-256"] == "ab" * 32 and file_keys["file:size"] == 4096
    assert file_keys["file:name"] == "/payload.bin"
    assert ("url:value", "http://evil.example/gate.php?id=1") in events[3].keys
    for event in events:
        assert_consistent(event)
        assert assert_reference_finds_keys(event) > 5
    assert stats.formats == {"eve http": 1, "eve tls": 1, "eve fileinfo": 1, "eve alert": 1}


def test_eve_without_a_timestamp_is_malformed_and_other_json_unknown() -> None:
    bad = orjson.dumps({**FLOW, "event_type": "flow", "timestamp": "yesterday"})
    stats_lines = [bad + b"\n", b'{"hello": "world"}\n']
    events, stats = parse_lines(stats_lines)
    assert events == []
    assert stats.skipped == {"malformed": 1, "unknown format": 1}
    assert [s.line for s in stats.skips] == [1, 2]


def test_format_eve_refuses_zeek_json() -> None:
    zeek = b'{"ts": 1700000000.0, "id.orig_h": "192.0.2.1", "id.resp_h": "192.0.2.2"}\n'
    events, stats = parse_lines([zeek], fmt="eve")
    assert events == [] and stats.skipped == {"unknown format": 1}
    events, stats = parse_lines([zeek])
    assert len(events) == 1 and stats.formats == {"zeek other": 1}


def test_invented_event_types_share_one_label() -> None:
    lines = [_line(f"made-up-{n}") for n in range(50)]
    events, stats = parse_lines(lines)
    assert len(events) == 50 and stats.formats == {"eve other": 50}
