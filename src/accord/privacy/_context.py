"""Hit context: what a holder lets a querier read about a value it holds too.

For each value, the holder seals the context of the indicators that hold it
(id, name, TLP) under a key only the OPRF output gives:

- ``okm = SHA-512("accord lookup context v1" || output)`` (64 bytes);
- ``label = okm[0:16]`` names the record, ``key = okm[16:48]``;
- ``ciphertext = ChaCha20-Poly1305(key).encrypt(nonce = 12 zero bytes,
  plaintext = the context's JSON, associated data = label)`` (RFC 8439). One
  key seals one message: the key is fresh per (value, epoch key).

The table is its records sorted by label, each ``label (16) || length (4,
big-endian) || ciphertext``, padded with random records to the size class.
A querier that unblinded ``output`` derives ``label``, finds the record and
opens it; it cannot open (nor find) the record of a value it did not query.
A record that opens also confirms a filter hit: a Bloom false positive has
no record.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from collections.abc import Callable, Iterable, Sequence

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from accord.exceptions import FilterMismatch

__all__ = ["ContextTable", "build_table", "context_keys", "seal"]

_INFO = b"accord lookup context v1"
_NONCE = bytes(12)
_LABEL = 16
_HEAD = struct.Struct(">16sI")
_MAX_RECORD = 1 << 20


def context_keys(output: bytes) -> tuple[bytes, bytes]:
    """``(label, key)`` of an OPRF output."""
    okm = hashlib.sha512(_INFO + output).digest()
    return okm[:_LABEL], okm[_LABEL:48]


def seal(output: bytes, context: Sequence[dict[str, object]]) -> tuple[bytes, bytes]:
    """One record: ``(label, ciphertext)`` of the contexts of one value."""
    label, key = context_keys(output)
    return label, ChaCha20Poly1305(key).encrypt(_NONCE, orjson.dumps(list(context)), label)


def build_table(
    records: Iterable[tuple[bytes, bytes]],
    capacity: int,
    random: Callable[[int], bytes] = secrets.token_bytes,
) -> bytes:
    """The table's bytes: records sorted by label, padded with random ones to ``capacity``."""
    rows = list(records)
    lengths = sorted(len(ct) for _, ct in rows)
    typical = lengths[len(lengths) // 2] if lengths else 96
    rows.extend((random(_LABEL), random(typical)) for _ in range(capacity - len(rows)))
    rows.sort()
    return b"".join(_HEAD.pack(label, len(ct)) + ct for label, ct in rows)


class ContextTable:
    """A downloaded context table, checked against its announced digest.

    Raises:
        FilterMismatch: wrong digest, or bytes that are not a table.
    """

    __slots__ = ("_records",)

    def __init__(self, data: bytes, announced: str) -> None:
        found = "sha256:" + hashlib.sha256(data).hexdigest()
        if found != announced:
            raise FilterMismatch(f"the context table's digest {found} is not the announced one")
        self._records: dict[bytes, bytes] = {}
        at = 0
        while at < len(data):
            if at + _HEAD.size > len(data):
                raise FilterMismatch(f"the context table is cut at byte {at}")
            label, length = _HEAD.unpack_from(data, at)
            at += _HEAD.size
            if length > _MAX_RECORD or at + length > len(data):
                raise FilterMismatch(f"a context record at byte {at} runs past the table")
            self._records[label] = data[at : at + length]
            at += length

    def __len__(self) -> int:
        return len(self._records)

    def open(self, output: bytes) -> list[dict[str, object]] | None:
        """The contexts sealed for ``output``, or None (no record: not held, or withheld)."""
        label, key = context_keys(output)
        ct = self._records.get(label)
        if ct is None:
            return None
        try:
            found = orjson.loads(ChaCha20Poly1305(key).decrypt(_NONCE, ct, label))
        except (InvalidTag, orjson.JSONDecodeError):
            return None
        return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else None
