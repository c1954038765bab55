"""The filter a holder publishes: its OPRF outputs, truncated, in a Bloom filter.

A holder adds the first 16 bytes of the OPRF output of each of its values
(`tag`); a querier tests the tag of each output it unblinded. OPRF outputs
are uniformly random, so the tag is its own hash: the filter's hash function
is the tag read as a signed 128-bit little-endian integer, the same on every
machine (rbloom's default, Python's ``hash``, is randomised per process and
cannot be exported).

The set is padded with random tags up to a size class (the next power of two
from 1,024), and the filter is sized for the class at the configured false
positive rate, so its bytes and its fill tell the class, not the count.

The bytes are rbloom's ``save_bytes``: ``k`` (8 bytes, little-endian) and the
bit array; read them with ``rbloom.Bloom.load_bytes(data, hash_func)``.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable, Iterable

from rbloom import Bloom

from accord.exceptions import FilterMismatch

__all__ = [
    "MIN_CLASS",
    "TAG",
    "Filter",
    "build_filter",
    "digest",
    "expected_fpr",
    "filter_hash",
    "size_class",
    "tag",
]

TAG = 16
MIN_CLASS = 1024
_MAX_K = 64  # hash functions: 1e-19 needs 63


def tag(output: bytes) -> bytes:
    """The part of an OPRF output the filter holds: its first 16 bytes."""
    return output[:TAG]


def filter_hash(item: bytes) -> int:
    """The filter's hash: a tag as a signed 128-bit little-endian integer."""
    return int.from_bytes(item[:TAG], "little", signed=True)


def size_class(n: int) -> int:
    """The padded size of a set of ``n`` values: the next power of two, at least 1,024."""
    return max(MIN_CLASS, 1 << max(0, n - 1).bit_length())


def digest(data: bytes) -> str:
    """How a filter (or a context table) is named in the log: ``sha256:`` and hex."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_filter(
    tags: Iterable[bytes],
    capacity: int,
    fpr: float,
    random: Callable[[int], bytes] = secrets.token_bytes,
) -> bytes:
    """The filter's bytes: ``tags`` and random padding up to ``capacity``.

    Args:
        tags: 16-byte tags (at most ``capacity`` of them).
        capacity: the size class (`size_class`).
        fpr: the false-positive rate the filter is sized for.
        random: the source of padding tags.

    Raises:
        ValueError: more tags than ``capacity``, or an FPR outside (0, 1).
    """
    if not 0.0 < fpr < 1.0:
        raise ValueError(f"a false-positive rate is between 0 and 1, not {fpr}")
    bloom = Bloom(capacity, fpr, filter_hash)
    items = list(tags)
    if len(items) > capacity:
        raise ValueError(f"{len(items)} tags do not fit a size class of {capacity}")
    bloom.update(items)
    pad = capacity - len(items)
    if pad:
        bloom.update([random(TAG) for _ in range(pad)])
    data: bytes = bloom.save_bytes()
    return data


class Filter:
    """A downloaded filter, checked against the digest its holder announced.

    Raises:
        FilterMismatch: the bytes' digest is not ``announced``, or they are no filter.
    """

    __slots__ = ("_bloom", "size_bits")

    def __init__(self, data: bytes, announced: str) -> None:
        if digest(data) != announced:
            raise FilterMismatch(
                f"the filter's digest {digest(data)} is not the announced {announced}"
            )
        # Checked here: rbloom 1.5 panics on bytes shorter than its header.
        k = int.from_bytes(data[:8], "little") if len(data) >= 8 else 0
        if len(data) < 8 + MIN_CLASS // 8 or not 1 <= k <= _MAX_K:
            raise FilterMismatch("the filter's bytes are not a filter (header or size)")
        self._bloom = Bloom.load_bytes(data, filter_hash)
        self.size_bits = int(self._bloom.size_in_bits)

    def __contains__(self, output: bytes) -> bool:
        return tag(output) in self._bloom

    def hits(self, outputs: Iterable[bytes]) -> list[bool]:
        """Whether each output's tag is in the filter."""
        bloom = self._bloom
        return [tag(o) in bloom for o in outputs]


def expected_fpr(size_bits: int, k: int, n: int) -> float:
    """A Bloom filter's false-positive rate: ``(1 - e^(-k·n/m))^k``."""
    return float((1.0 - math.exp(-k * n / size_bits)) ** k)
