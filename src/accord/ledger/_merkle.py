"""RFC 9162 §2.1 Merkle tree: hashes, stored-hash layout, inclusion and consistency proofs.

Hashes are SHA-256 with the leaf prefix 0x00 and the node prefix 0x01
(RFC 9162 §2.1.1). The tree is never held whole: as in Go's checksum database
(golang.org/x/mod/sumdb/tlog), each append writes the leaf hash and the hashes
of the complete subtrees it closes, in one linear order (`stored_index`), and
every tree hash and proof reads the few stored hashes it needs through a
`HashReader`. A log of any size then costs O(log n) reads per proof and
constant memory.

Verification follows the RFC 9162 algorithms (§2.1.3.2 and §2.1.4.2) to the
letter, with the edge cases of transparency-dev/merkle: a consistency proof
from size 0 is refused, and equal sizes need an empty proof and equal roots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol

from accord.exceptions import ProofInvalid

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162 §2.1.1: MTH({}) = SHA-256()
_sha256 = hashlib.sha256


def leaf_hash(entry: bytes) -> bytes:
    """MTH of one entry: SHA-256(0x00 || entry)."""
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


class HashReader(Protocol):
    """Reads stored hashes by their `stored_index` (in the order asked)."""

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]: ...


class ListReader:
    """A `HashReader` over an in-memory list (tests, small logs, the benchmark)."""

    def __init__(self, hashes: list[bytes] | None = None) -> None:
        self.hashes: list[bytes] = hashes if hashes is not None else []

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        h = self.hashes
        return [h[i] for i in indexes]


# -- the stored-hash layout -------------------------------------------------------


def stored_index(level: int, n: int) -> int:
    """Where the ``n``-th hash of ``level`` sits in the stored order.

    A subtree's hash is written right after the leaf that completes it, so
    level L's n-th hash follows leaf (n+1)*2^L - 1; before that leaf's own hash
    come n + n/2 + n/4 + ... hashes.
    """
    # Go's loops (n = 2n+1 per level, then the sum of n >> k), in closed form: the leaf is
    # m = (n+1)·2^L - 1, and the sum over k of floor(m / 2^k) is 2m - popcount(m).
    m = ((n + 1) << level) - 1
    return 2 * m - m.bit_count() + level


def split_stored_index(index: int) -> tuple[int, int]:
    """The inverse of `stored_index`: (level, n)."""
    # stored_index(0, n) < 2n, so the leaf committed last before ``index`` is at least index/2;
    # each leaf n adds 1 + trailing_zeros(n + 1) hashes.
    n = index // 2
    at = stored_index(0, n)
    while True:
        nxt = at + 1 + ((n + 1) & -(n + 1)).bit_length() - 1
        if nxt > index:
            break
        n += 1
        at = nxt
    level = index - at
    return level, n >> level


def stored_count(size: int) -> int:
    """How many hashes a tree of ``size`` leaves has stored."""
    if size == 0:
        return 0
    count = stored_index(0, size - 1) + 1
    i = size - 1
    while i & 1:
        count += 1
        i >>= 1
    return count


def hashes_to_store(n: int, leaf: bytes, reader: HashReader) -> list[bytes]:
    """The hashes to append when leaf ``n`` (0-based) joins the tree.

    The leaf hash, then one node hash for each subtree the leaf completes
    (one per trailing 1-bit of n), each from a stored hash read back.
    """
    out = [leaf]
    m = ((n + 1) & -(n + 1)).bit_length() - 1  # trailing zeros of n+1
    if m:
        indexes = [stored_index(i, (n >> i) - 1) for i in range(m - 1, -1, -1)]
        old = reader.read_hashes(indexes)
        h = leaf
        for i in range(m):
            h = node_hash(old[m - 1 - i], h)
            out.append(h)
    return out


class Appender:
    """Appends leaves to a tree whose stored hashes it holds for the last path only.

    The hashes it returns are what the caller stores; it keeps just the stored
    hashes of the right edge (at most log2(size) of them) to make the next ones.
    """

    def __init__(self, size: int, edge: dict[int, bytes]) -> None:
        self.size = size
        # stored index -> hash, for the complete subtrees on the right edge (a copy: it changes)
        self._edge = dict(edge)

    @staticmethod
    def edge_indexes(size: int) -> list[int]:
        """The stored indexes of the complete subtrees that make up a tree of ``size``."""
        return _subtree_indexes(0, size, [])

    def append(self, leaf: bytes) -> list[tuple[int, bytes]]:
        """Add one leaf; returns (stored index, hash) pairs to store.

        What `hashes_to_store` gives, from the edge alone: each trailing 1-bit of n
        merges the edge's subtree of that level with the new one (and leaves the edge),
        and the last hash written joins it, so the edge costs O(m), not a rebuild.
        """
        n = self.size
        first = stored_index(0, n)
        out = [(first, leaf)]
        edge = self._edge
        h = leaf
        level = 0
        while (n >> level) & 1:
            h = node_hash(edge.pop(stored_index(level, (n >> level) - 1)), h)
            level += 1
            out.append((first + level, h))
        edge[first + level] = h
        self.size = n + 1
        return out

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return [self._edge[i] for i in indexes]

    def edge(self) -> dict[int, bytes]:
        """The stored hashes of the right edge (stored index -> hash), a copy."""
        return dict(self._edge)

    def root(self) -> bytes:
        return tree_hash(self.size, self)


# -- tree hashes and proofs from stored hashes ---------------------------------------


def _maxpow2(n: int) -> tuple[int, int]:
    """The largest power of two k < n, and log2(k) (n >= 2)."""
    level = (n - 1).bit_length() - 1
    return 1 << level, level


def _subtree_indexes(lo: int, hi: int, need: list[int]) -> list[int]:
    while lo < hi:
        level = (hi - lo).bit_length() - 1  # _maxpow2(hi - lo + 1), inline: the hot loop
        need.append(stored_index(level, lo >> level))
        lo += 1 << level
    return need


def _subtree_hash(lo: int, hi: int, hashes: list[bytes], at: int) -> tuple[bytes, int]:
    count = (hi - lo).bit_count() if lo < hi else 0  # one complete subtree per 1-bit of hi - lo
    h = hashes[at + count - 1]
    for i in range(count - 2, -1, -1):
        h = node_hash(hashes[at + i], h)
    return h, at + count


def tree_hash(size: int, reader: HashReader) -> bytes:
    """The root of the first ``size`` leaves."""
    if size == 0:
        return EMPTY_ROOT
    hashes = reader.read_hashes(_subtree_indexes(0, size, []))
    return _subtree_hash(0, size, hashes, 0)[0]


def inclusion_proof(size: int, index: int, reader: HashReader) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 §2.1.3.1).

    Raises:
        ProofInvalid: ``index`` is not a leaf of that tree.
    """
    if not 0 <= index < size:
        raise ProofInvalid("inclusion", f"leaf {index} is not in a tree of size {size}")
    # PATH walked top-down, without recursion. A sibling on the left is a complete
    # subtree: one stored hash. So is one on the right, except the first time the path
    # turns left: that sibling is the tree's ragged right part, several complete subtrees
    # hashed together. After that turn the path stays inside a complete subtree.
    lo, hi = 0, size
    need: list[int] = []
    ragged, count, span = -1, 0, (0, 0)  # the ragged sibling: where in ``need``, how many, leaves
    while hi - lo > 1:
        level = (hi - lo - 1).bit_length() - 1
        mid = lo + (1 << level)
        if index < mid:
            rest = hi - mid
            if rest & (rest - 1):
                ragged, span = len(need), (mid, hi)
                _subtree_indexes(mid, hi, need)
                count = len(need) - ragged
            else:
                top = rest.bit_length() - 1
                need.append(stored_index(top, mid >> top))
            hi = mid
        else:
            need.append(stored_index(level, lo >> level))
            lo = mid
    if not need:
        return []
    hashes = list(reader.read_hashes(need))
    if ragged >= 0:
        hashes[ragged : ragged + count] = [_subtree_hash(*span, hashes, ragged)[0]]
    hashes.reverse()  # the proof runs from the leaf up
    return hashes


def _consistency_indexes(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if n == hi:
        return need if lo == 0 else _subtree_indexes(lo, hi, need)
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        _consistency_indexes(lo, lo + k, n, need)
        _subtree_indexes(lo + k, hi, need)
    else:
        _subtree_indexes(lo, lo + k, need)
        _consistency_indexes(lo + k, hi, n, need)
    return need


def _consistency(lo: int, hi: int, n: int, h: list[bytes], at: int) -> tuple[list[bytes], int]:
    if n == hi:
        if lo == 0:
            return [], at
        th, at = _subtree_hash(lo, hi, h, at)
        return [th], at
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        proof, at = _consistency(lo, lo + k, n, h, at)
        th, at = _subtree_hash(lo + k, hi, h, at)
    else:
        th, at = _subtree_hash(lo, lo + k, h, at)
        proof, at = _consistency(lo + k, hi, n, h, at)
    proof.append(th)
    return proof, at


def consistency_proof(old: int, new: int, reader: HashReader) -> list[bytes]:
    """The proof that the tree of ``old`` leaves is a prefix of the one of ``new`` (§2.1.4.1).

    Raises:
        ProofInvalid: not 1 <= old <= new.
    """
    if not 1 <= old <= new:
        raise ProofInvalid("consistency", f"no proof from size {old} to size {new}")
    need = _consistency_indexes(0, new, old, [])
    if not need:
        return []
    return _consistency(0, new, old, reader.read_hashes(need), 0)[0]


# -- verification (RFC 9162 §2.1.3.2, §2.1.4.2) --------------------------------------


def _check_lengths(kind: str, hashes: Sequence[bytes], what: str) -> None:
    for i, h in enumerate(hashes):
        if len(h) != HASH_SIZE:
            raise ProofInvalid(kind, f"{what} {i} is {len(h)} bytes, not {HASH_SIZE}")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` gives leaf ``index`` of a tree of ``size`` (§2.1.3.2).

    Raises:
        ProofInvalid: the proof cannot belong to that position (length, sizes).
    """
    if not 0 <= index < size:
        raise ProofInvalid("inclusion", f"leaf {index} is not in a tree of size {size}")
    if len(leaf) != HASH_SIZE:
        raise ProofInvalid("inclusion", f"the leaf hash is {len(leaf)} bytes, not {HASH_SIZE}")
    _check_lengths("inclusion", proof, "proof hash")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofInvalid("inclusion", "the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofInvalid("inclusion", "the proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that leaf ``index`` is in the tree of ``size`` leaves with ``root``.

    Raises:
        ProofInvalid: it is not, with the reason.
    """
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofInvalid("inclusion", f"the proof of leaf {index} does not give the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (old, old_root) is a prefix of (new, new_root) (§2.1.4.2).

    Raises:
        ProofInvalid: it is not, or the proof is malformed, with the reason.
    """
    kind = "consistency"
    if old < 1:
        raise ProofInvalid(kind, f"no consistency proof from size {old}")
    if old > new:
        raise ProofInvalid(kind, f"size {old} is larger than size {new}")
    _check_lengths(kind, proof, "proof hash")
    if old == new:
        if proof:
            raise ProofInvalid(kind, "equal sizes need an empty proof")
        if old_root != new_root:
            raise ProofInvalid(kind, f"two different roots for size {old}")
        return
    _check_lengths(kind, [old_root, new_root], "root")
    if not proof:
        raise ProofInvalid(kind, "the proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:  # an exact power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofInvalid(kind, "the proof is longer than the trees are deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofInvalid(kind, "the proof is shorter than the trees are deep")
    if fr != old_root:
        raise ProofInvalid(kind, f"the proof does not give the root of size {old}")
    if sr != new_root:
        raise ProofInvalid(kind, f"the proof does not give the root of size {new}")


def root_of(leaves: Sequence[bytes], hasher: Callable[[bytes], bytes] = leaf_hash) -> bytes:
    """MTH computed directly by the RFC's recursion (tests and the benchmark's floor)."""
    hashes = [hasher(x) for x in leaves]
    if not hashes:
        return EMPTY_ROOT
    while len(hashes) > 1:
        nxt = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]
        if len(hashes) & 1:
            nxt.append(hashes[-1])
        hashes = nxt
    return hashes[0]
