"""Trees the ledger tests share: one stored-hash layout of 4,096 leaves, built once."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from accord.ledger import ListReader, hashes_to_store, leaf_hash
from tests.conftest import SHARED_DATA

MAX_LEAVES = 4096
VECTORS = SHARED_DATA / "vectors"


def entry(i: int) -> bytes:
    """The entry of leaf ``i`` in the shared tree."""
    return b"accord test entry %d" % i


@functools.cache
def tree() -> tuple[list[bytes], ListReader, list[int]]:
    """The leaves' entries, a reader over their stored hashes, and the stored count per size.

    The layout only ever appends, so the tree of any size up to `MAX_LEAVES` is the
    first ``counts[size]`` hashes of this one.
    """
    entries = [entry(i) for i in range(MAX_LEAVES)]
    store: list[bytes] = []
    reader = ListReader(store)
    counts = [0]
    for n, data in enumerate(entries):
        store.extend(hashes_to_store(n, leaf_hash(data), reader))
        counts.append(len(store))
    return entries, reader, counts


def vector_files(folder: str) -> list[str]:
    """The JSON files under vectors/FOLDER, relative to it (a placeholder when absent).

    Parametrised tests take these names at collection; the ``shared_data`` fixture then
    skips them with a clear message where ../shared/data is not there.
    """
    base = VECTORS / folder
    if not base.is_dir():
        return ["(vectors absent)"]
    return sorted(str(p.relative_to(base)) for p in base.rglob("*.json"))


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def kat_count(section: str) -> int:
    """How many cases a section of signed-note/kats.json has (1 placeholder when absent)."""
    path = VECTORS / "signed-note" / "kats.json"
    if not path.is_file():
        return 1
    return len(load_json(path)[section])
