"""One measurement of the ledger benchmark, in a process of its own (its peak RSS is its own).

``python bench/_ledger_work.py '{"task": ..., ...}'`` runs one task and prints its result as
JSON on standard output. The tasks:

- ``append``: append ``n`` entries in batches of ``batch`` with one contender:
  ``floor`` (plain hashlib: leaf hash, then a stack of complete subtrees, nothing stored),
  ``accord-list`` (`hashes_to_store` over a `ListReader`, all hashes kept in memory),
  ``accord-appender`` (`Appender`, all hashes kept in a list), ``accord-sqlite``
  (`Appender`, each batch's hashes inserted into a SQLite file table and committed),
  ``accord-file`` (`Appender`, each batch's hashes written to a flat file of 32-byte
  hashes in stored order), ``pymerkle-memory`` and ``pymerkle-sqlite``;
- ``proofs``: inclusion and consistency proofs, made and verified, at tree size ``size``
  over a stored layout read through a ``file`` (``os.pread``), ``sqlite`` or ``memory``
  `HashReader`;
- pymerkle's proofs are measured in its ``append`` task, on the tree it just built.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from accord.ledger import (
    HASH_SIZE,
    Appender,
    ListReader,
    consistency_proof,
    hashes_to_store,
    inclusion_proof,
    leaf_hash,
    stored_count,
    stored_index,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)

# A share entry's canonical JSON is about 330 bytes; this one has the same length.
_TEMPLATE = (
    b'{"agreement":"%064d","channel":"taxii-objects","collection":"shared","count":1000,'
    b'"digest":"3f1c9a8e5b7d2c4f6a0e8b1d3c5f7a9e2b4d6f8a0c2e4b6d8f0a1c3e5b7d9f1a",'
    b'"recipient":"9b2e4d6f8a0c1e3b5d7f9a1c3e5b7d9f2a4c6e8b0d2f4a6c8e0b1d3f5a7c9e1b",'
    b'"time":"2026-12-06T20:00:00.000Z","type":"share","v":1}'
)
_SEED = 2026
PROOF_KINDS = (
    "inclusion make",
    "inclusion verify",
    "inclusion floor",
    "consistency make",
    "consistency verify",
)
CACHE = 1 << 16  # hashes a cached file reader keeps: 2 MiB of hashes


def entries(start: int, stop: int) -> list[bytes]:
    """The benchmark's entries ``start..stop-1`` (deterministic, ~330 bytes each)."""
    return [_TEMPLATE % i for i in range(start, stop)]


def batches(n: int, batch: int) -> Iterator[tuple[int, list[bytes]]]:
    for start in range(0, n, batch):
        yield start, entries(start, min(n, start + batch))


class Watch:
    """Wall-clock and CPU seconds of the blocks it times (``with watch: ...``), summed.

    The CPU seconds (the process's own, user and system) say what the work costs when the
    machine's cores are shared with other work; the wall seconds, what it took here.
    """

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def __enter__(self) -> Watch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


def rates(count: int, watches: dict[str, Watch]) -> dict[str, Any]:
    """Per wall-clock second and per CPU second."""
    return {
        "rates": {k: count / w.wall for k, w in watches.items()},
        "cpu_rates": {k: count / w.cpu if w.cpu else 0.0 for k, w in watches.items()},
    }


# -- HashReaders over stored layouts ---------------------------------------------------------


class FileReader:
    """Stored hashes in a flat file (hash i at byte 32*i), read with one pread each.

    With ``cache``, the first ``cache`` hashes read are kept (never evicted): the upper
    levels, which every proof reads, come in first. A fixed size, whatever the log's.
    """

    def __init__(self, path: Path, cache: int = 0) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._cache: dict[int, bytes] = {}
        self._room = cache

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        fd, pread, cache = self._fd, os.pread, self._cache
        if not self._room:
            if not cache:
                return [pread(fd, HASH_SIZE, i * HASH_SIZE) for i in indexes]
            return [cache.get(i) or pread(fd, HASH_SIZE, i * HASH_SIZE) for i in indexes]
        out = []
        for i in indexes:
            h = cache.get(i)
            if h is None:
                h = pread(fd, HASH_SIZE, i * HASH_SIZE)
                if self._room:
                    cache[i] = h
                    self._room -= 1
            out.append(h)
        return out


class MmapReader:
    """Stored hashes in a flat file, mapped: no system call per hash, but the pages read stay
    resident (and count in RSS) until the kernel wants them back."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        m = self._map
        return [m[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in indexes]


class SqliteReader:
    """Stored hashes in a SQLite table ``stored(idx INTEGER PRIMARY KEY, hash BLOB)``."""

    def __init__(self, path: Path) -> None:
        self._con = sqlite3.connect(path)

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        marks = ",".join("?" * len(indexes))
        found = dict(
            self._con.execute(f"SELECT idx, hash FROM stored WHERE idx IN ({marks})", indexes)
        )
        return [found[i] for i in indexes]


def _sqlite(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")  # as accord's store (store/_sqlite.py)
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE IF NOT EXISTS stored (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL)")
    return con


# -- appends ----------------------------------------------------------------------------------
#
# Each contender takes the batches one by one; only its own work is timed, not the making
# of the entries.

Feed = Callable[[int, list[bytes]], None]


def _floor() -> tuple[Feed, Callable[[], bytes]]:
    sha = hashlib.sha256
    stack: list[bytes] = []

    def feed(start: int, chunk: list[bytes]) -> None:
        for i, e in enumerate(chunk, start):
            h = sha(b"\x00" + e).digest()
            while i & 1:
                h = sha(b"\x01" + stack.pop() + h).digest()
                i >>= 1
            stack.append(h)

    def finish() -> bytes:
        root = stack[-1]
        for h in reversed(stack[:-1]):
            root = sha(b"\x01" + h + root).digest()
        return root

    return feed, finish


def _accord_list() -> tuple[Feed, Callable[[], bytes]]:
    store: list[bytes] = []
    reader = ListReader(store)
    size = [0]

    def feed(start: int, chunk: list[bytes]) -> None:
        for i, e in enumerate(chunk, start):
            store.extend(hashes_to_store(i, leaf_hash(e), reader))
        size[0] = start + len(chunk)

    return feed, lambda: tree_hash(size[0], reader)


def _accord_appender() -> tuple[Feed, Callable[[], bytes]]:
    appender = Appender(0, {})
    store: list[tuple[int, bytes]] = []

    def feed(start: int, chunk: list[bytes]) -> None:
        for e in chunk:
            store.extend(appender.append(leaf_hash(e)))

    return feed, appender.root


def _accord_sqlite(path: Path) -> tuple[Feed, Callable[[], bytes]]:
    con = _sqlite(path)
    appender = Appender(0, {})

    def feed(start: int, chunk: list[bytes]) -> None:
        rows: list[tuple[int, bytes]] = []
        for e in chunk:
            rows.extend(appender.append(leaf_hash(e)))
        con.execute("BEGIN")
        con.executemany("INSERT INTO stored (idx, hash) VALUES (?, ?)", rows)
        con.execute("COMMIT")

    def finish() -> bytes:
        con.close()
        return appender.root()

    return feed, finish


def _accord_file(path: Path) -> tuple[Feed, Callable[[], bytes]]:
    appender = Appender(0, {})
    out = path.open("wb")

    def feed(start: int, chunk: list[bytes]) -> None:
        rows: list[tuple[int, bytes]] = []
        for e in chunk:
            rows.extend(appender.append(leaf_hash(e)))
        out.write(b"".join(h for _, h in rows))  # stored indexes are consecutive
        out.flush()

    def finish() -> bytes:
        out.close()
        if path.stat().st_size != stored_count(appender.size) * HASH_SIZE:
            raise RuntimeError(f"{path} does not hold the stored hashes of the tree")
        return appender.root()

    return feed, finish


def _pymerkle(kind: str, n: int, batch: int, path: Path, count: int) -> dict[str, Any]:
    import pymerkle  # type: ignore[import-untyped]  # no type information shipped

    tree = pymerkle.SqliteTree(str(path)) if kind == "sqlite" else pymerkle.InmemoryTree()
    appending = Watch()
    for _, chunk in batches(n, batch):
        with appending:
            if kind == "sqlite":
                tree.append_entries(chunk)
            else:
                for e in chunk:
                    tree.append_entry(e)
    root: bytes = tree.get_root()
    rng = random.Random(_SEED)
    picks = [rng.randrange(n) for _ in range(count)]
    leaves = [tree.get_leaf(i + 1) for i in picks]  # pymerkle counts leaves from 1
    olds = [rng.randrange(1, n) for _ in range(count)]
    old_roots = [tree.get_root(old) for old in olds]
    w = {k: Watch() for k in PROOF_KINDS if k != "inclusion floor"}
    with w["inclusion make"]:
        proofs = [tree.prove_inclusion(i + 1, n) for i in picks]
    with w["inclusion verify"]:
        for leaf, proof in zip(leaves, proofs, strict=True):
            pymerkle.verify_inclusion(leaf, root, proof)
    with w["consistency make"]:
        proofs = [tree.prove_consistency(old, n) for old in olds]
    with w["consistency verify"]:
        for old_root, proof in zip(old_roots, proofs, strict=True):
            pymerkle.verify_consistency(old_root, root, proof)
    return {
        **rates(n, {"appends": appending}),
        "root": root.hex(),
        "proofs": rates(count, w),
    }


def append(task: dict[str, Any]) -> dict[str, Any]:
    n, batch, who = int(task["n"]), int(task["batch"]), str(task["who"])
    path = Path(task.get("path") or os.devnull)
    if who.startswith("pymerkle-"):
        return _pymerkle(who.removeprefix("pymerkle-"), n, batch, path, int(task["count"]))
    makers: dict[str, Callable[[], tuple[Feed, Callable[[], bytes]]]] = {
        "floor": _floor,
        "accord-list": _accord_list,
        "accord-appender": _accord_appender,
        "accord-sqlite": lambda: _accord_sqlite(path),
        "accord-file": lambda: _accord_file(path),
    }
    feed, finish = makers[who]()
    watch = Watch()
    for start, chunk in batches(n, batch):
        with watch:
            feed(start, chunk)
    with watch:
        root = finish()
    return {**rates(n, {"appends": watch}), "root": root.hex()}


# -- proofs -----------------------------------------------------------------------------------


def _reader(kind: str, path: Path, size: int) -> Any:
    if kind == "file":
        return FileReader(path)
    if kind == "file-cached":
        return FileReader(path, cache=CACHE)
    if kind == "mmap":
        return MmapReader(path)
    if kind == "sqlite":
        return SqliteReader(path)
    with path.open("rb") as f:
        data = f.read(stored_count(size) * HASH_SIZE)  # the whole layout in memory
    return ListReader([data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)])


def proofs(task: dict[str, Any]) -> dict[str, Any]:
    """Proofs made and verified in chunks of 1,000, so that what stays resident is the reader's."""
    size, count = int(task["size"]), int(task["count"])
    reader = _reader(str(task["reader"]), Path(task["path"]), size)
    root = tree_hash(size, reader)
    rng = random.Random(_SEED)
    w = {k: Watch() for k in PROOF_KINDS}
    sha = hashlib.sha256
    depth = 0
    for done in range(0, count, 1000):
        chunk = min(1000, count - done)
        picks = [rng.randrange(size) for _ in range(chunk)]
        leaves = reader.read_hashes([stored_index(0, i) for i in picks])
        with w["inclusion make"]:
            made = [inclusion_proof(size, i, reader) for i in picks]
        with w["inclusion verify"]:
            for i, leaf, proof in zip(picks, leaves, made, strict=True):
                verify_inclusion(i, size, leaf, proof, root)
        # The floor of verifying: the same number of node hashes, by hashlib alone.
        with w["inclusion floor"]:
            for leaf, proof in zip(leaves, made, strict=True):
                r = leaf
                for p in proof:
                    r = sha(b"\x01" + p + r).digest()
        depth += sum(len(p) for p in made)
        olds = [rng.randrange(1, size) for _ in range(chunk)]
        old_roots = [tree_hash(old, reader) for old in olds]
        with w["consistency make"]:
            made = [consistency_proof(old, size, reader) for old in olds]
        with w["consistency verify"]:
            for old, old_root, proof in zip(olds, old_roots, made, strict=True):
                verify_consistency(old, size, old_root, root, proof)
    return {**rates(count, w), "root": root.hex(), "depth": depth / count}


def main(argv: list[str]) -> int:
    task = json.loads(argv[1])
    result = append(task) if task["task"] == "append" else proofs(task)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
