"""The raw floor of ingest: what parsing and storing cost with nothing else on top.

Run as its own process by ``bench/ingest.py``::

    python bench/_ingest_floor.py DB_PATH FILE...

Each ``.jsonl`` file is parsed one line at a time, any other file as one STIX bundle, both
with ``orjson``. For each object it keeps ``id``, ``type``, the version (``modified``, else
``created``) and ``orjson.dumps`` of the object, and inserts them with a bare ``sqlite3``
``executemany`` in batches of 10,000, one transaction per file, into a table with the same
keys and indexes as Accord's object table, under the pragmas Accord uses. A version already
stored is skipped, as Accord stores each (id, version) once. It prints the number of rows
stored, for the caller to check.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

BATCH = 10_000
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
SCHEMA = (
    "CREATE TABLE objects ("
    " added INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " version TEXT NOT NULL,"
    " data BLOB NOT NULL,"
    " UNIQUE (id, version))",
    "CREATE INDEX objects_type ON objects (type)",
)
INSERT = "INSERT OR IGNORE INTO objects (id, type, version, data) VALUES (?, ?, ?, ?)"

Row = tuple[str, str, str, bytes]


def iter_objects(path: Path) -> Iterator[dict[str, Any]]:
    """The STIX objects of one JSON-lines file or one bundle file."""
    if path.suffix == ".jsonl":
        with path.open("rb") as handle:
            for line in handle:
                if line.strip():
                    yield orjson.loads(line)
    else:
        yield from orjson.loads(path.read_bytes()).get("objects", [])


def to_row(obj: dict[str, Any]) -> Row:
    """The stored fields of one object."""
    version = obj.get("modified") or obj.get("created") or ""
    return (obj["id"], obj["type"], version, orjson.dumps(obj))


def batches(rows: Iterable[Row]) -> Iterator[list[Row]]:
    """Rows in lists of ``BATCH``."""
    it = iter(rows)
    while batch := list(islice(it, BATCH)):
        yield batch


def open_db(path: Path) -> sqlite3.Connection:
    """A fresh database with Accord's pragmas and the object table."""
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in (*PRAGMAS, *SCHEMA):
        conn.execute(statement)
    return conn


def load_file(conn: sqlite3.Connection, path: Path) -> None:
    """Store one file's objects in one transaction."""
    conn.execute("BEGIN")
    for batch in batches(map(to_row, iter_objects(path))):
        conn.executemany(INSERT, batch)
    conn.execute("COMMIT")


def main(argv: list[str]) -> int:
    """Load the files given after the database path; print the rows stored."""
    if len(argv) < 2:
        print("usage: _ingest_floor.py DB_PATH FILE...", file=sys.stderr)
        return 2
    conn = open_db(Path(argv[0]))
    for name in argv[1:]:
        load_file(conn, Path(name))
    print(conn.total_changes)  # rows inserted; the ignored duplicates do not count
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
