"""The pure core: the row digest, the manifest's JSON form, and the comparison."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from accord.backup import (
    Contents,
    FileEntry,
    LogState,
    Manifest,
    RowDigest,
    differences,
    parse_manifest,
)
from accord.exceptions import BackupInvalid


def _digest(*rows: tuple[object, ...]) -> str:
    d = RowDigest()
    d.add_all(rows)
    return d.hexdigest()


def test_the_digest_tells_rows_apart_that_concatenate_alike() -> None:
    assert _digest(("ab", "c")) != _digest(("a", "bc"))
    assert _digest(("ab",), ("c",)) != _digest(("ab", "c"))
    assert _digest((1,)) != _digest(("1",)) != _digest((b"1",))
    assert _digest((None,)) != _digest((0,))


def test_the_digest_is_the_same_for_sqlite_and_postgresql_values() -> None:
    # SQLite hands back bytes and 0/1, psycopg memoryview and bool.
    assert _digest((7, "x", b"data", 1)) == _digest((7, "x", memoryview(b"data"), True))
    one = RowDigest()
    for row in [(1, b"a"), (2, b"b")]:
        one.add(row)
    assert one.hexdigest() == _digest((1, b"a"), (2, b"b"))
    assert one.rows == 2
    with pytest.raises(TypeError):
        _digest((1.5,))


CONTENTS = Contents(
    revision="0009",
    versions=3,
    ids=2,
    tables={"objects": 3, "log_entries": 1},
    digests={"objects": "sha256:aa", "log_entries": "sha256:bb"},
    log=LogState(1, "cc", 1, "cc"),
)
MANIFEST = Manifest(
    accord_version="0.1.0",
    created="2026-01-01T00:00:00Z",
    backend="sqlite",
    node_id="identity--x",
    node_name="n",
    database=FileEntry("accord.db", 10, "dd", 0o600),
    contents=CONTENTS,
    files=(FileEntry("node/identity.key", 5, "ee", 0o600),),
)


def test_the_manifest_reads_back_as_written() -> None:
    assert parse_manifest(MANIFEST.to_json(), "m") == MANIFEST


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="accord-backup/9"), "format"),
        (lambda d: d["contents"].update(versions="3"), "'versions'"),
        (lambda d: d["contents"].update(tables={"objects": "3"}), "'tables'"),
        (lambda d: d.update(backend="mysql"), "backend"),
        (lambda d: d["files"].append(3), "file entry"),
    ],
)
def test_a_malformed_manifest_is_refused_with_what_is_wrong(change: object, message: str) -> None:
    data = orjson.loads(MANIFEST.to_json())
    change(data)  # type: ignore[operator]
    with pytest.raises(BackupInvalid, match=message) as caught:
        parse_manifest(orjson.dumps(data), "b/manifest.json")
    assert caught.value.where == "b/manifest.json"
    with pytest.raises(BackupInvalid, match="not JSON"):
        parse_manifest(b"{", "m")


def test_differences_name_each_disagreement() -> None:
    assert differences(CONTENTS, CONTENTS) == []
    found = dataclasses.replace(
        CONTENTS,
        versions=4,
        tables={"objects": 4, "log_entries": 1},
        log=LogState(1, "ff", 1, "cc"),
    )
    assert differences(CONTENTS, found) == [
        "object versions: the manifest says 3, the database holds 4",
        "rows of objects: the manifest says 3, the database holds 4",
        "log root: the manifest says cc, the database holds ff",
    ]
