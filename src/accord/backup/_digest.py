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
        self.add_all((row,))

    def add_all(self, rows: Iterable[Sequence[object]]) -> None:
        """Feed rows in order (a chunk at a time: one hash update per chunk)."""
        parts: list[bytes | memoryview] = []
        put = parts.append
        count = 0
        for row in rows:
            count += 1
            put(_ROW + len(row).to_bytes(2, "big"))
            for value in row:
                kind = type(value)
                if kind is int or kind is bool:  # SQLite's booleans are ints
                    put(_INT + int(value).to_bytes(8, "big", signed=True))  # type: ignore[call-overload]
                elif kind is str:
                    raw = value.encode()  # type: ignore[attr-defined]
                    put(_TEXT + len(raw).to_bytes(8, "big"))
                    put(raw)
                elif kind is bytes or kind is memoryview or kind is bytearray:
                    put(_BYTES + len(value).to_bytes(8, "big"))  # type: ignore[arg-type]
                    put(value)  # type: ignore[arg-type]
                elif value is None:
                    put(_NULL)
                else:
                    raise TypeError(f"cannot digest a {kind.__name__}")
        self._hash.update(b"".join(parts))
        self.rows += count

    def hexdigest(self) -> str:
        """``sha256:`` and the hex digest of everything fed so far."""
        return "sha256:" + self._hash.hexdigest()
