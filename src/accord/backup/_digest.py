"""A digest over stored rows that does not depend on the backend.

Each value is fed with a type tag and a length, so that no two different rows
(or row sequences) feed the same bytes: ``("ab", "c")`` and ``("a", "bc")``
differ. Integers are 8-byte signed big-endian; text is UTF-8; SQLite's
``bytes`` and PostgreSQL's ``memoryview`` (bytea) both feed their raw bytes.
The caller orders the rows by an integer key, never by text: PostgreSQL's
collation and SQLite's byte order sort text differently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

_INT, _TEXT, _BYTES, _NULL, _ROW = b"i", b"t", b"b", b"n", b"r"


class RowDigest:
    """SHA-256 over rows of ints, text, bytes and NULLs (bool counts as an int)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.rows = 0

    def add(self, row: Sequence[object]) -> None:
        """Feed one row."""
        update = self._hash.update
        update(_ROW + len(row).to_bytes(2, "big"))
        for value in row:
            if value is None:
                update(_NULL)
            elif isinstance(value, int):  # bool too: SQLite has no other
                update(_INT + int(value).to_bytes(8, "big", signed=True))
            elif isinstance(value, str):
                raw = value.encode()
                update(_TEXT + len(raw).to_bytes(8, "big") + raw)
            elif isinstance(value, bytes | bytearray | memoryview):
                update(_BYTES + len(value).to_bytes(8, "big"))
                update(value)
            else:
                raise TypeError(f"cannot digest a {type(value).__name__}")
        self.rows += 1

    def add_all(self, rows: Iterable[Sequence[object]]) -> None:
        """Feed rows in order."""
        for row in rows:
            self.add(row)

    def hexdigest(self) -> str:
        """``sha256:`` and the hex digest of everything fed so far."""
        return "sha256:" + self._hash.hexdigest()
