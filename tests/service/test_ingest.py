"""Ingest from every kind of input, and every kind of bad input, on both backends."""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

import orjson
import pytest

from accord.exceptions import InputTooLarge, MalformedJSON, StrictImportFailed
from accord.service.ingest import import_paths
from accord.service.node import Node
from accord.store import Query
from tests.conftest import NodeFactory

TS = "2024-03-01T10:00:00.000Z"


def indicator(n: int, *, value: str | None = None, **extra: object) -> dict[str, object]:
    obj: dict[str, object] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n + (1 << 100), version=4)}",
        "created": TS,
        "modified": TS,
        "name": f"indicator {n}",
        "pattern": f"[ipv4-addr:value = '{value or f'198.51.100.{n % 250}'}']",
        "pattern_type": "stix",
        "valid_from": TS,
    }
    obj.update(extra)
    return obj


def bundle(objects: list[dict[str, object]]) -> bytes:
    return orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})


def count(node: Node) -> int:
    return sum(1 for _ in node.store.query(Query()))


def test_bundle_object_lines_list_gz_and_directory(node: Node, tmp_path: Path) -> None:
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    (d / "a.json").write_bytes(bundle([indicator(1), indicator(2)]))
    (d / "b.json").write_bytes(orjson.dumps(indicator(3)))
    (d / "c.jsonl").write_bytes(b"\n".join(orjson.dumps(indicator(i)) for i in (4, 5)) + b"\n")
    (d / "sub" / "d.json.gz").write_bytes(gzip.compress(bundle([indicator(6)])))
    (d / "e.json").write_bytes(orjson.dumps([indicator(7), indicator(8)]))
    (d / "notes.txt").write_text("not STIX, not read")
    report = import_paths(node, [str(d)])
    assert (report.inputs, report.read, report.stored) == (5, 8, 8)
    assert report.ok
    assert count(node) == 8


def test_json_lines_detected_by_content(node: Node, tmp_path: Path) -> None:
    f = tmp_path / "feed.json"
    f.write_bytes(orjson.dumps(indicator(1)) + b"\n" + orjson.dumps(indicator(2)) + b"\n")
    assert import_paths(node, [str(f)]).stored == 2


def test_invalid_object_is_reported_and_the_rest_stored(node: Node, tmp_path: Path) -> None:
    bad = indicator(2)
    del bad["pattern"]
    f = tmp_path / "b.json"
    f.write_bytes(bundle([indicator(1), bad, indicator(3)]))
    report = import_paths(node, [str(f)])
    assert report.stored == 2
    assert report.invalid_count == 1
    (rejected,) = report.invalid
    assert rejected.error.object_id == bad["id"]
    assert rejected.error.prop == "pattern"
    assert rejected.position == "object 2"
    assert count(node) == 2


def test_strict_rejects_the_whole_input(node: Node, tmp_path: Path) -> None:
    bad = indicator(9, modified="2020-01-01T00:00:00Z")  # modified before created
    (tmp_path / "a.json").write_bytes(bundle([indicator(1)]))
    (tmp_path / "b.json").write_bytes(bundle([indicator(2), bad]))
    with pytest.raises(StrictImportFailed) as caught:
        import_paths(node, [str(tmp_path / "a.json"), str(tmp_path / "b.json")], strict=True)
    assert [e.prop for e in caught.value.errors] == ["modified"]
    assert count(node) == 0


def test_rerun_is_idempotent(node: Node, tmp_path: Path) -> None:
    f = tmp_path / "a.json"
    f.write_bytes(bundle([indicator(i) for i in range(20)]))
    first = import_paths(node, [str(f)], collection="c")
    second = import_paths(node, [str(f)], collection="c")
    assert (first.stored, second.stored, second.duplicates) == (20, 0, 20)
    assert node.store.stats().versions == 20
    assert node.store.collection_sizes() == {node.store.collection("c").pk: 20}


def test_same_id_and_modified_with_other_content_keeps_the_first(
    node: Node, tmp_path: Path
) -> None:
    (tmp_path / "a.json").write_bytes(bundle([indicator(1, description="first")]))
    (tmp_path / "b.json").write_bytes(bundle([indicator(1, description="second")]))
    import_paths(node, [str(tmp_path / "a.json")])
    report = import_paths(node, [str(tmp_path / "b.json")])
    assert report.conflict_count == 1
    (obj,) = node.store.query(Query())
    assert orjson.loads(obj.data)["description"] == "first"


def test_malformed_json_names_the_file_and_byte_offset(node: Node, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_bytes(bundle([indicator(1)]))
    broken = tmp_path / "broken.json"
    data = bundle([indicator(2), indicator(3)])
    cut = data.index(b"},{") + 1  # just after the first object
    broken.write_bytes(data[:cut] + b"}}}" + data[cut:])
    report = import_paths(node, [str(good), str(broken)])
    (failed,) = report.failed_inputs
    assert isinstance(failed, MalformedJSON)
    assert failed.source == str(broken)
    assert failed.offset == cut
    assert f"byte {cut}" in str(failed)
    assert report.stored == 1
    assert count(node) == 1


def test_non_utf8_bytes_are_refused_with_their_offset(node: Node, tmp_path: Path) -> None:
    f = tmp_path / "latin1.json"
    data = bundle([indicator(1, description="caf\u00e9")]).replace("é".encode(), b"\xe9")
    f.write_bytes(data)
    (failed,) = import_paths(node, [str(f)]).failed_inputs
    assert "UTF-8" in failed.reason
    assert failed.offset == data.index(b"\xe9")
    assert count(node) == 0


def test_deeply_nested_json_is_refused(node: Node, tmp_path: Path) -> None:
    f = tmp_path / "deep.json"
    f.write_bytes(b'{"type": "bundle", "objects": [' + b"[" * 5000 + b"]" * 5000 + b"]}")
    (failed,) = import_paths(node, [str(f)]).failed_inputs
    assert isinstance(failed, InputTooLarge)
    assert "nested" in failed.reason


def test_malformed_json_lines_are_counted_not_fatal(node: Node, tmp_path: Path) -> None:
    f = tmp_path / "feed.jsonl"
    f.write_bytes(
        orjson.dumps(indicator(1)) + b"\n{not json\n" + orjson.dumps(indicator(2)) + b"\n"
    )
    report = import_paths(node, [str(f)])
    assert report.stored == 2
    (bad,) = report.bad_records
    assert bad.line == 2
    assert bad.offset is not None and bad.offset >= len(orjson.dumps(indicator(1))) + 1


def test_streamed_bundle_gives_the_same_store(make_node: object, tmp_path: Path) -> None:
    objects = [indicator(i, description="é" * (i % 7)) for i in range(300)]
    f = tmp_path / "big.json"
    f.write_bytes(
        orjson.dumps(
            {
                "type": "bundle",
                "id": f"bundle--{uuid.uuid4()}",
                "spec_version": "2.1",
                "objects": objects,
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    whole = make_node()  # type: ignore[operator]
    streamed = make_node(stream_threshold_bytes=1024)  # type: ignore[operator]
    a = import_paths(whole, [str(f)])
    b = import_paths(streamed, [str(f)])
    assert a.stored == b.stored == 300
    assert [o.data for o in whole.store.query(Query())] == [
        o.data for o in streamed.store.query(Query())
    ]


def test_streamed_bundle_reports_malformed_json_with_offset(
    make_node: object, tmp_path: Path
) -> None:
    data = bundle([indicator(i) for i in range(50)])
    cut = data.index(b'"indicator 30"')
    f = tmp_path / "broken.json"
    f.write_bytes(data[:cut] + b"@" + data[cut + 1 :])
    streamed = make_node(stream_threshold_bytes=1024)  # type: ignore[operator]
    (failed,) = import_paths(streamed, [str(f)]).failed_inputs
    assert failed.offset == cut
    assert count(streamed) == 0


def test_object_over_the_stream_limit_is_refused(make_node: object, tmp_path: Path) -> None:
    f = tmp_path / "huge.json"
    f.write_bytes(bundle([indicator(1, description="x" * 200_000)]))
    streamed = make_node(stream_threshold_bytes=1024, max_object_bytes=100_000)  # type: ignore[operator]
    (failed,) = import_paths(streamed, [str(f)]).failed_inputs
    assert isinstance(failed, InputTooLarge)
    assert "ACCORD_MAX_OBJECT_BYTES" in failed.reason


def test_an_object_of_50_mb(node: Node, tmp_path: Path) -> None:
    f = tmp_path / "fat.json"
    f.write_bytes(bundle([indicator(1, description="A" * (50 * 1024 * 1024))]))
    report = import_paths(node, [str(f)])
    assert report.stored == 1
    (obj,) = node.store.query(Query())
    assert len(obj.data) > 50 * 1024 * 1024


def test_lifted_stix20_counts(node: Node, tmp_path: Path) -> None:
    obj = indicator(1)
    del obj["spec_version"], obj["pattern_type"]
    obj["labels"] = ["malicious-activity"]
    f = tmp_path / "old.json"
    f.write_bytes(
        orjson.dumps(
            {
                "type": "bundle",
                "id": f"bundle--{uuid.uuid4()}",
                "spec_version": "2.0",
                "objects": [obj],
            }
        )
    )
    report = import_paths(node, [str(f)])
    assert (report.stored, report.lifted) == (1, 1)
    (stored,) = node.store.query(Query())
    data = orjson.loads(stored.data)
    assert data["spec_version"] == "2.1"
    assert data["indicator_types"] == ["malicious-activity"]
    assert data["pattern_type"] == "stix"


def test_parser_process_gives_the_same_report_and_store(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    bad = indicator(5)
    del bad["pattern"]
    f = tmp_path / "feed.jsonl"
    lines = [orjson.dumps(indicator(i)) for i in range(40)]
    lines[7] = b"{not json"
    lines[9] = orjson.dumps(bad)
    f.write_bytes(b"\n".join(lines) + b"\n")
    inline = make_node(parser_process_bytes=0, batch_size=8)
    parallel = make_node(parser_process_bytes=1, batch_size=8)
    a = import_paths(inline, [str(f)])
    b = import_paths(parallel, [str(f)])
    assert (a.read, a.stored, a.invalid_count, len(a.bad_records)) == (39, 38, 1, 1)
    assert (b.read, b.stored, b.invalid_count, len(b.bad_records)) == (39, 38, 1, 1)
    assert [str(r) for r in a.invalid] == [str(r) for r in b.invalid]
    assert [str(e) for e in a.bad_records] == [str(e) for e in b.bad_records]
    assert [o.data for o in inline.store.query(Query())] == [
        o.data for o in parallel.store.query(Query())
    ]


def test_parser_process_reports_a_malformed_file(make_node: NodeFactory, tmp_path: Path) -> None:
    f = tmp_path / "broken.json"
    f.write_bytes(bundle([indicator(1)])[:-3])
    parallel = make_node(parser_process_bytes=1)
    (failed,) = import_paths(parallel, [str(f)]).failed_inputs
    assert isinstance(failed, MalformedJSON)
    assert failed.offset is not None
    assert count(parallel) == 0


def test_ingest_objects_reports_each_object(node: Node) -> None:
    from accord.service.ingest import ingest_objects

    bad = indicator(3)
    del bad["valid_from"]
    first, clash = indicator(1, description="a"), indicator(1, description="b")
    outcomes = ingest_objects(
        node,
        [first, indicator(2), bad, clash, indicator(2)],
        source=("taxii", "m"),
        collection_pks=[],
    )
    assert [o.ok for o in outcomes] == [True, True, False, False, True]
    assert "valid_from" in outcomes[2].message
    assert "earlier in the envelope" in outcomes[3].message
    assert outcomes[0].version == TS
    again = ingest_objects(node, [clash], source=("taxii", "m"), collection_pks=[])
    assert not again[0].ok and "already stored" in again[0].message
    assert count(node) == 2


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("created", "2024-13-01T00:00:00.000Z"),
        ("modified", "2023-02-29T00:00:00.000Z"),
        ("valid_from", "2024-01-01T24:00:00Z"),
        ("created", "2024-01-01T12:60:00.000Z"),
    ],
)
def test_timestamps_out_of_range_are_rejected(
    node: Node, tmp_path: Path, prop: str, value: str
) -> None:
    f = tmp_path / "t.json"
    f.write_bytes(bundle([indicator(1, **{prop: value}), indicator(2)]))
    report = import_paths(node, [str(f)])
    (rejected,) = report.invalid
    assert rejected.error.prop == prop
    assert report.stored == 1
