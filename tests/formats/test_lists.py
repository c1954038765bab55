"""Lists in: text and CSV IOC lists (maltrail's layout), type detection, producer and TLP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from accord import formats
from accord.service import feeds
from accord.service.node import Node
from accord.stix import TLP1_IDS, Tlp
from accord.store import Query

MALWARE = Path("maltrail/trails/static/malware")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("198.51.100.7", ("ipv4", "198.51.100.7")),
        ("2001:db8::1", ("ipv6", "2001:db8::1")),
        ("5.63.151.0/24", ("cidr4", "5.63.151.0/24")),
        ("Evil.Example.COM", ("domain", "evil.example.com")),
        ("http://147.78.103.91/img/a.jpg", ("url", "http://147.78.103.91/img/a.jpg")),
        ("evil.example/path.php", ("url", "http://evil.example/path.php")),
        ("194.45.8.41:443", ("ipv4", "194.45.8.41")),
        ("0123456789abcdef0123456789ABCDEF", ("md5", "0123456789abcdef0123456789abcdef")),
        ("a" * 64, ("sha256", "a" * 64)),
        ("bad@evil.example", ("email", "bad@evil.example")),
        ("not a value", None),
        ("<html>", None),
        ("-----", None),
    ],
)
def test_detect(value: str, expected: tuple[str, str] | None) -> None:
    assert formats.detect(value) == expected


def test_text_layout_comments_and_references() -> None:
    lines = [
        "# Copyright (c) 2014-2026 Maltrail developers",
        "# Reference: https://example.org/report-1",
        "",
        "evil.example.com # the C2",
        "194.45.8.41:443",
        "garbage line with spaces",
        "# Reference: https://example.org/report-2",
    ]
    parsed = formats.parse_text(lines)
    assert parsed.references == ["https://example.org/report-1", "https://example.org/report-2"]
    assert [(e.kind, e.value, e.line) for e in parsed.entries] == [
        ("domain", "evil.example.com", 4),
        ("ipv4", "194.45.8.41", 5),
    ]
    assert parsed.entries[0].comment == "the C2" and parsed.entries[1].comment == "port 443"
    assert [(p.line, p.text) for p in parsed.problems] == [(6, "garbage line with spaces")]


def test_csv_by_header_and_type_column() -> None:
    lines = ["ioc;kind;note", "evil.example.com;domain;x", "1.2.3.4;domain;wrong type", "abc;;"]
    parsed = feeds.parse_list(
        lines, "csv", feeds.ListOptions(value_column="ioc", type_column="kind")
    )
    assert [(e.kind, e.value) for e in parsed.entries] == [("domain", "evil.example.com")]
    assert [(p.line, p.reason) for p in parsed.problems] == [
        (3, "not a domain"),
        (4, "not a value of a known type"),
    ]


def _indicators(node: Node) -> list[dict[str, Any]]:
    return [orjson.loads(o.data) for o in node.store.query(Query(types=("indicator",)))]


def test_maltrail_lists_become_indicators_of_their_producer(
    node: Node, shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    names = sorted(p.name for p in (shared_data / MALWARE).glob("*.txt"))[:5]
    for name in names:
        (folder / name).write_bytes((shared_data / MALWARE / name).read_bytes())
    assert feeds.classify(str(folder)) == "txt"
    options = feeds.ListOptions(producer="maltrail", tlp=Tlp.GREEN)
    report = feeds.import_foreign(
        node, [(str(folder), "txt")], collection="maltrail", lists=options
    )
    assert report.lists == 5 and report.entries > 0 and not report.failed_inputs
    found = _indicators(node)
    # Duplicates across the lists are one indicator (same producer, same pattern).
    assert 0 < len(found) <= report.entries
    producer = formats.producer_identity("maltrail", "x")["id"]
    assert {i["created_by_ref"] for i in found} == {producer}
    green = next(mid for mid, level in TLP1_IDS.items() if level is Tlp.GREEN)
    assert {tuple(i["object_marking_refs"]) for i in found} == {(green,)}
    assert {i["labels"][0] for i in found} <= {Path(n).stem for n in names}
    assert all(len(i.get("external_references", [])) <= 3 for i in found)
    again = feeds.import_foreign(node, [(str(folder), "txt")], lists=options)
    assert again.stored == 0  # nothing new: every entry is stored and valid


def test_another_encoding_and_garbage_lines(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(
        "# Référence interne\névil.example.com\nbad.example.org\n\x00\x01junk\n".encode("latin-1")
    )
    report = feeds.import_foreign(node, [(str(path), "txt")])
    assert any("not UTF-8" in n and "Latin-1" in n for n in report.notes)
    assert [p.line for _, p in report.line_problems] == [2, 4]  # é is no domain; junk
    assert [i["name"] for i in _indicators(node)] == ["bad.example.org"]


def test_an_expired_entry_listed_again_gets_a_new_version(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "l.txt"
    path.write_text("evil.example.com\n")
    feeds.import_foreign(node, [(str(path), "txt")])
    (ind,) = _indicators(node)
    # The version a feed's lifecycle writes: valid_until passed (1 ms after valid_from).
    later = _plus_ms(ind["modified"])
    expired = {**ind, "modified": later, "valid_until": _plus_ms(ind["valid_from"])}
    from accord.service.ingest import ingest_objects

    ingest_objects(node, [expired], source=("file", "t"), collection_pks=[])
    feeds.import_foreign(node, [(str(path), "txt")])
    (current,) = _indicators(node)
    assert "valid_until" not in current and current["modified"] > ind["modified"]


def _plus_ms(ts: str) -> str:
    from datetime import datetime, timedelta

    t = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ") + timedelta(milliseconds=1)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
