"""C2SP tlog-tiles: where each hash tile and entry bundle lives, and their bytes.

A tile at level L, index N holds up to 256 consecutive hashes of tree level
8·L (full tiles exactly 256; the rightmost may be partial, ``.p/W``). N is
written in 3-digit groups, all but the last prefixed with ``x``
(1234067 → ``x001/x234/067``). An entry bundle holds the entries of one
level-0 tile, each prefixed by its length as a big-endian uint16.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from accord.exceptions import LedgerError
from accord.ledger._merkle import stored_index

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
MAX_BUNDLED = 0xFFFF  # each entry is prefixed by its length, a big-endian uint16


def _index_path(n: int) -> str:
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def _decimal(text: str) -> bool:
    # str.isdigit() alone also takes "²" and "٣": ASCII digits only, as the paths are written.
    return text.isascii() and text.isdigit()


def tile_path(level: int | None, n: int, width: int = TILE_WIDTH) -> str:
    """The path of a hash tile (``level`` an int) or an entry bundle (``level`` None)."""
    head = "tile/entries" if level is None else f"tile/{level}"
    tail = "" if width == TILE_WIDTH else f".p/{width}"
    return f"{head}/{_index_path(n)}{tail}"


def parse_tile_path(path: str) -> tuple[int | None, int, int]:
    """Read a tile path back: (level or None for entries, index, width).

    Raises:
        LedgerError: not a tile path of the spec's form.
    """
    parts = path.strip("/").split("/")
    bad = LedgerError(f"{path[:100]!r} is not a tlog-tiles path")
    if len(parts) < 3 or parts[0] != "tile":
        raise bad
    level: int | None
    if parts[1] == "entries":
        level = None
    elif _decimal(parts[1]) and (parts[1] == "0" or not parts[1].startswith("0")):
        level = int(parts[1])
        if level > MAX_LEVEL:
            raise bad
    else:
        raise bad
    rest = parts[2:]
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        w = rest[-1]
        if not _decimal(w) or w.startswith("0") or not 1 <= int(w) < TILE_WIDTH:
            raise bad
        width = int(w)
        rest = [*rest[:-2], rest[-2][:-2]]
    if not rest:
        raise bad
    n = 0
    for i, group in enumerate(rest):
        last = i == len(rest) - 1
        digits = group if last else group[1:]
        if (not last and not group.startswith("x")) or len(digits) != 3 or not _decimal(digits):
            raise bad
        n = n * 1000 + int(digits)
    return level, n, width


def tile_hash_indexes(level: int, n: int, width: int) -> list[int]:
    """The stored indexes of the ``width`` hashes of tile (level, n)."""
    base = n * TILE_WIDTH
    tree_level = level * TILE_HEIGHT
    return [stored_index(tree_level, base + i) for i in range(width)]


def tile_width(level: int | None, n: int, size: int) -> int:
    """The width of tile (level, n) in a tree of ``size`` leaves (0: it does not exist)."""
    hashes_at_level = size >> (TILE_HEIGHT * (level or 0))
    return max(0, min(TILE_WIDTH, hashes_at_level - n * TILE_WIDTH))


def bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle's bytes.

    Raises:
        LedgerError: an entry is longer than a uint16 length can say.
    """
    for i, e in enumerate(entries):
        if len(e) > MAX_BUNDLED:
            raise LedgerError(f"entry {i} of the bundle is {len(e)} bytes, over {MAX_BUNDLED}")
    return b"".join(struct.pack(">H", len(e)) + e for e in entries)


def read_bundle(data: bytes) -> list[bytes]:
    """The entries of a bundle.

    Raises:
        LedgerError: a length runs past the end.
    """
    out: list[bytes] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise LedgerError(f"entry bundle truncated at byte {at}")
        (length,) = struct.unpack_from(">H", data, at)
        at += 2
        if at + length > len(data):
            raise LedgerError(f"entry bundle truncated in the entry at byte {at - 2}")
        out.append(data[at : at + length])
        at += length
    return out
