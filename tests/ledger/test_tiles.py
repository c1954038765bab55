"""C2SP tlog-tiles: paths both ways, the hashes a tile holds, entry bundles."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.exceptions import LedgerError
from accord.ledger import (
    TILE_WIDTH,
    bundle,
    leaf_hash,
    parse_tile_path,
    read_bundle,
    root_of,
    tile_hash_indexes,
    tile_path,
    tile_width,
)
from tests.ledger.trees import tree


def test_the_spec_examples() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(0, 1234067, 5) == "tile/0/x001/x234/067.p/5"
    assert tile_path(None, 1234067) == "tile/entries/x001/x234/067"
    assert tile_path(None, 3, 128) == "tile/entries/003.p/128"
    assert tile_path(2, 0) == "tile/2/000"
    assert parse_tile_path("tile/0/x001/x234/067") == (0, 1234067, TILE_WIDTH)
    assert parse_tile_path("tile/0/x001/x234/067.p/5") == (0, 1234067, 5)
    assert parse_tile_path("/tile/entries/x001/x234/067.p/255/") == (None, 1234067, 255)


@given(st.one_of(st.none(), st.integers(0, 63)), st.integers(0, 10**15), st.integers(1, 256))
def test_tile_paths_round_trip(level: int | None, n: int, width: int) -> None:
    path = tile_path(level, n, width)
    assert parse_tile_path(path) == (level, n, width)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "tile",
        "tile/0",
        "tiles/0/000",
        "tile/00/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/x/000",
        "tile/0/1234",
        "tile/0/01",
        "tile/0/x1/000",
        "tile/0/001/000",
        "tile/0/xx01/000",
        "tile/0/000.p",
        "tile/0/000.p/",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/05",
        "tile/0/.p/5",
        "tile/\u00b2/000",  # regression: "²".isdigit(), and int() raised a bare ValueError
        "tile/\u0663/000",  # regression: "٣" was read as level 3
        "tile/0/x\u0660\u0660\u0661/000",
        "tile/0/000.p/\u0665",
    ],
)
def test_bad_tile_paths_are_refused(path: str) -> None:
    with pytest.raises(LedgerError, match="not a tlog-tiles path"):
        parse_tile_path(path)


@given(st.text(max_size=40))
def test_parse_tile_path_of_anything(path: str) -> None:
    try:
        level, n, width = parse_tile_path(path)
    except LedgerError:
        return
    assert tile_path(level, n, width) == path.strip("/")  # only the canonical form is read


@given(st.lists(st.sampled_from(["tile", "0", "1", "entries", "x001", "000", "067.p", "5", ""])))
def test_near_tile_paths(parts: list[str]) -> None:
    path = "/".join(parts)
    try:
        level, n, width = parse_tile_path(path)
    except LedgerError:
        return
    assert tile_path(level, n, width) == path.strip("/")


def test_tiles_hold_the_tree_levels() -> None:
    entries, reader, _ = tree()
    size = 3 * TILE_WIDTH + 5
    assert [tile_width(0, n, size) for n in range(5)] == [256, 256, 256, 5, 0]
    assert [tile_width(None, n, size) for n in range(5)] == [256, 256, 256, 5, 0]
    assert [tile_width(1, n, size) for n in range(2)] == [3, 0]
    assert tile_width(2, 0, size) == 0
    for n in range(4):
        width = tile_width(0, n, size)
        got = reader.read_hashes(tile_hash_indexes(0, n, width))
        assert got == [leaf_hash(e) for e in entries[n * 256 : n * 256 + width]]
    level1 = reader.read_hashes(tile_hash_indexes(1, 0, 3))
    assert level1 == [root_of(entries[i * 256 : (i + 1) * 256]) for i in range(3)]
    assert tile_width(1, 0, 65536) == 256 and tile_width(2, 0, 65536) == 1


@given(st.lists(st.binary(max_size=300), max_size=20))
def test_bundles_round_trip(entries: list[bytes]) -> None:
    data = bundle(entries)
    assert read_bundle(data) == entries
    boundaries = {0}
    at = 0
    for e in entries:
        at += 2 + len(e)
        boundaries.add(at)
    for cut in range(len(data)):
        if cut in boundaries:
            got = read_bundle(data[:cut])
            assert got == entries[: len(got)]
        else:
            with pytest.raises(LedgerError, match="truncated"):
                read_bundle(data[:cut])


def test_bundle_edges() -> None:
    assert bundle([]) == b"" and read_bundle(b"") == []
    assert read_bundle(bundle([b"x" * 65535])) == [b"x" * 65535]
    with pytest.raises(LedgerError, match="over 65535"):  # regression: a bare struct.error
        bundle([b"ok", b"x" * 65536])
    with pytest.raises(LedgerError, match="truncated at byte 0"):
        read_bundle(b"\x00")
    with pytest.raises(LedgerError, match="truncated in the entry at byte 0"):
        read_bundle(b"\x00\x05abcd")
