"""The RFC 9162 Merkle tree: known answers, the stored-hash layout, proofs and their mutations.

Known answers: transparency-dev/merkle's inclusion and consistency cases (valid and
must-fail) and the RFC 6962 / Certificate Transparency reference tree, from
../shared/data/vectors/merkle. Properties: over trees of up to 4,096 leaves, the stored
layout gives the RFC's tree hash, every proof verifies, and every mutation of a proof,
its leaf, its roots or its position is refused with ProofInvalid (never another error).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.exceptions import ProofInvalid
from accord.ledger import (
    EMPTY_ROOT,
    HASH_SIZE,
    Appender,
    ListReader,
    consistency_proof,
    hashes_to_store,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    root_of,
    split_stored_index,
    stored_count,
    stored_index,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.ledger.trees import MAX_LEAVES, load_json, tree, vector_files

sizes = st.integers(1, MAX_LEAVES)


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _b64_list(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


def _leaf_of(i: int) -> bytes:
    reader = tree()[1]
    return reader.hashes[stored_index(0, i)]


def _root(size: int) -> bytes:
    return tree_hash(size, tree()[1])


def _flip(h: bytes, bit: int) -> bytes:
    out = bytearray(h)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# -- transparency-dev/merkle testdata -------------------------------------------------------


@pytest.mark.parametrize("name", vector_files("merkle/testdata/inclusion"))
def test_inclusion_vectors(shared_data: Path, name: str) -> None:
    case = load_json(shared_data / "vectors/merkle/testdata/inclusion" / name)
    args = (
        case["leafIdx"],
        case["treeSize"],
        _b64(case["leafHash"]),
        _b64_list(case["proof"]),
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofInvalid) as caught:
            verify_inclusion(*args)
        assert caught.value.kind == "inclusion"
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("name", vector_files("merkle/testdata/consistency"))
def test_consistency_vectors(shared_data: Path, name: str) -> None:
    case = load_json(shared_data / "vectors/merkle/testdata/consistency" / name)
    args = (
        case["size1"],
        case["size2"],
        _b64(case["root1"]),
        _b64(case["root2"]),
        _b64_list(case["proof"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofInvalid) as caught:
            verify_consistency(*args)
        assert caught.value.kind == "consistency"
    else:
        verify_consistency(*args)


@pytest.mark.parametrize(
    ("kind", "valid", "invalid"), [("inclusion", 6, 92), ("consistency", 6, 92)]
)
def test_every_vector_is_read(shared_data: Path, kind: str, valid: int, invalid: int) -> None:
    """The README's counts: no case silently missing from the parametrised tests."""
    base = shared_data / "vectors/merkle/testdata" / kind
    wants = [load_json(p)["wantErr"] for p in base.rglob("*.json")]
    assert (wants.count(False), wants.count(True)) == (valid, invalid)


# -- the RFC 6962 reference tree ---------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(shared_data: Path) -> dict[str, Any]:
    data: dict[str, Any] = load_json(shared_data / "vectors/merkle/rfc6962_reference.json")
    return data


def _reference_reader(reference: dict[str, Any]) -> ListReader:
    store: list[bytes] = []
    reader = ListReader(store)
    for n, leaf in enumerate(reference["leaves_hex"]):
        store.extend(hashes_to_store(n, leaf_hash(bytes.fromhex(leaf)), reader))
    return reader


def test_reference_leaf_hashes(reference: dict[str, Any]) -> None:
    got = [leaf_hash(bytes.fromhex(x)).hex() for x in reference["leaves_hex"]]
    assert got == reference["leaf_hashes_hex"]


def test_reference_roots_for_sizes_0_to_8(reference: dict[str, Any]) -> None:
    leaves = [bytes.fromhex(x) for x in reference["leaves_hex"]]
    reader = _reference_reader(reference)
    roots = reference["roots_by_size_hex"]
    assert sorted(map(int, roots)) == list(range(9))
    for size_text, want in roots.items():
        size = int(size_text)
        assert root_of(leaves[:size]).hex() == want, size
        assert tree_hash(size, reader).hex() == want, size
    assert EMPTY_ROOT.hex() == roots["0"]


def test_reference_hasher_kats(reference: dict[str, Any]) -> None:
    empty, empty_leaf, leaf, node = reference["hasher_kats"]
    assert EMPTY_ROOT.hex() == empty["want"]
    assert leaf_hash(bytes.fromhex(empty_leaf["input_hex"])).hex() == empty_leaf["want"]
    assert leaf_hash(bytes.fromhex(leaf["input_hex"])).hex() == leaf["want"]
    got = node_hash(bytes.fromhex(node["left_hex"]), bytes.fromhex(node["right_hex"]))
    assert got.hex() == node["want"]


def test_reference_inclusion_proofs(reference: dict[str, Any]) -> None:
    reader = _reference_reader(reference)
    assert len(reference["inclusion_proofs"]) == 5
    for case in reference["inclusion_proofs"]:
        index, size = case["leaf_index"], case["tree_size"]
        want = [bytes.fromhex(x) for x in case["proof"]]
        assert inclusion_proof(size, index, reader) == want, (index, size)
        leaf, root = bytes.fromhex(case["leaf_hash"]), bytes.fromhex(case["root"])
        verify_inclusion(index, size, leaf, want, root)
        assert tree_hash(size, reader) == root


def test_reference_consistency_proofs(reference: dict[str, Any]) -> None:
    reader = _reference_reader(reference)
    assert len(reference["consistency_proofs"]) == 5
    for case in reference["consistency_proofs"]:
        old, new = case["size1"], case["size2"]
        want = [bytes.fromhex(x) for x in case["proof"]]
        assert consistency_proof(old, new, reader) == want, (old, new)
        root1, root2 = bytes.fromhex(case["root1"]), bytes.fromhex(case["root2"])
        verify_consistency(old, new, root1, root2, want)
        assert (tree_hash(old, reader), tree_hash(new, reader)) == (root1, root2)


# -- the stored-hash layout ---------------------------------------------------------------------


@given(st.integers(0, MAX_LEAVES))
def test_tree_hash_of_the_stored_layout_is_the_rfc_root(size: int) -> None:
    entries, reader, counts = tree()
    assert tree_hash(size, reader) == root_of(entries[:size])
    assert stored_count(size) == counts[size]


@given(st.lists(st.binary(max_size=40), max_size=70))
def test_tree_hash_of_any_leaves(leaves: list[bytes]) -> None:
    store: list[bytes] = []
    reader = ListReader(store)
    for n, data in enumerate(leaves):
        store.extend(hashes_to_store(n, leaf_hash(data), reader))
    assert len(store) == stored_count(len(leaves))
    for size in range(len(leaves) + 1):
        assert tree_hash(size, reader) == root_of(leaves[:size])


@given(st.integers(0, 40), st.integers(0, 1 << 40))
def test_split_stored_index_inverts_stored_index(level: int, n: int) -> None:
    assert split_stored_index(stored_index(level, n)) == (level, n)


@given(st.integers(0, 1 << 50))
def test_every_stored_index_is_one_hash(index: int) -> None:
    assert stored_index(*split_stored_index(index)) == index


def test_stored_indexes_are_dense() -> None:
    """The first 10,000 indexes are each some (level, n), in order of the leaves."""
    seen = [split_stored_index(i) for i in range(10_000)]
    assert len(set(seen)) == 10_000
    assert [stored_index(level, n) for level, n in seen] == list(range(10_000))


@given(st.integers(0, MAX_LEAVES), st.data())
def test_appender_matches_the_full_layout(size: int, data: st.DataObject) -> None:
    entries, reader, counts = tree()
    start = data.draw(st.integers(0, size), label="start")
    edge = {i: reader.hashes[i] for i in Appender.edge_indexes(start)}
    given_edge = dict(edge)
    appender = Appender(start, edge)
    written = []
    for n in range(start, size):
        written.extend(appender.append(leaf_hash(entries[n])))
    assert [i for i, _ in written] == list(range(counts[start], counts[size]))
    assert [h for _, h in written] == reader.hashes[counts[start] : counts[size]]
    assert appender.size == size
    assert appender.root() == root_of(entries[:size])
    assert edge == given_edge  # the caller's dict is not changed under it


def test_appender_keeps_only_the_right_edge() -> None:
    appender = Appender(0, {})
    assert appender.root() == EMPTY_ROOT
    for n in range(1000):
        appender.append(leaf_hash(b"%d" % n))
        assert sorted(appender._edge) == sorted(Appender.edge_indexes(n + 1))


# -- proofs verify -------------------------------------------------------------------------


def test_every_proof_of_small_trees_verifies() -> None:
    _, reader, _ = tree()
    for new in range(1, 65):
        root = _root(new)
        for i in range(new):
            proof = inclusion_proof(new, i, reader)
            verify_inclusion(i, new, _leaf_of(i), proof, root)
            assert root_from_inclusion(i, new, _leaf_of(i), proof) == root
        for old in range(1, new + 1):
            verify_consistency(old, new, _root(old), root, consistency_proof(old, new, reader))


@given(sizes, st.data())
def test_inclusion_proofs_verify(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(size, index, tree()[1])
    assert len(proof) == len(_path_shape(index, size))
    verify_inclusion(index, size, _leaf_of(index), proof, _root(size))


@given(sizes, st.data())
def test_consistency_proofs_verify(new: int, data: st.DataObject) -> None:
    old = data.draw(st.integers(1, new), label="old")
    proof = consistency_proof(old, new, tree()[1])
    # SUBPROOF's "old root" is the verifier's to add (RFC 9162 §2.1.4.2 step 2), not sent.
    assert len(proof) == len([s for s in _subproof_shape(old, new) if s != "old root"])
    verify_consistency(old, new, _root(old), _root(new), proof)


def test_proofs_out_of_the_tree_are_refused() -> None:
    reader = tree()[1]
    for size, index in [(0, 0), (5, 5), (5, -1), (1, 1)]:
        with pytest.raises(ProofInvalid):
            inclusion_proof(size, index, reader)
    for old, new in [(0, 0), (0, 5), (6, 5), (-1, 3)]:
        with pytest.raises(ProofInvalid):
            consistency_proof(old, new, reader)


# -- mutations are refused ---------------------------------------------------------------------
#
# The shapes below follow the RFC's recursive definitions (§2.1.3.1 PATH, §2.1.4.1
# SUBPROOF), not the verifier's bit loop: which side each proof hash joins on, bottom up.


def _largest_power_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _path_shape(m: int, n: int) -> tuple[str, ...]:
    if n == 1:
        return ()
    k = _largest_power_below(n)
    if m < k:
        return (*_path_shape(m, k), "right")
    return (*_path_shape(m - k, n - k), "left")


def _subproof_shape(m: int, n: int, whole: bool = True) -> tuple[str, ...]:
    if m == n:
        return ("old root",) if whole else ("seed",)
    k = _largest_power_below(n)
    if m <= k:
        return (*_subproof_shape(m, k, whole), "right")
    return (*_subproof_shape(m - k, n - k, False), "left")


def _refused_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    try:
        verify_inclusion(index, size, leaf, proof, root)
    except ProofInvalid as exc:
        return exc.kind == "inclusion"
    return False


def _refused_consistency(old: int, new: int, r1: bytes, r2: bytes, proof: list[bytes]) -> bool:
    try:
        verify_consistency(old, new, r1, r2, proof)
    except ProofInvalid as exc:
        return exc.kind == "consistency"
    return False


@given(sizes, st.data())
def test_inclusion_bit_flips_are_refused(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(size, index, tree()[1])
    leaf, root = _leaf_of(index), _root(size)
    bit = data.draw(st.integers(0, 8 * HASH_SIZE - 1), label="bit")
    for at in range(len(proof)):
        bad = list(proof)
        bad[at] = _flip(bad[at], bit)
        assert _refused_inclusion(index, size, leaf, bad, root)
    assert _refused_inclusion(index, size, _flip(leaf, bit), proof, root)
    assert _refused_inclusion(index, size, leaf, proof, _flip(root, bit))


def test_every_bit_flip_of_one_inclusion_proof_is_refused() -> None:
    size, index = 3000, 1717
    proof = inclusion_proof(size, index, tree()[1])
    leaf, root = _leaf_of(index), _root(size)
    assert len(proof) == 12
    for bit in range(8 * HASH_SIZE):
        for at in range(len(proof)):
            bad = list(proof)
            bad[at] = _flip(bad[at], bit)
            assert _refused_inclusion(index, size, leaf, bad, root)
        assert _refused_inclusion(index, size, _flip(leaf, bit), proof, root)
        assert _refused_inclusion(index, size, leaf, proof, _flip(root, bit))


@given(sizes, st.data())
def test_inclusion_position_truncation_and_extension_are_refused(
    size: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(size, index, tree()[1])
    leaf, root = _leaf_of(index), _root(size)
    # Another index always changes the side some hash joins on.
    for other in (index - 1, index + 1, index ^ 2):
        assert _refused_inclusion(other, size, leaf, proof, root)
    # The proof does not bind the size (the signed checkpoint does): another size is
    # accepted exactly when the path has the same shape (leaf 0 of 5 and of 6 leaves).
    for other in (size - 1, size + 1, size * 2, size // 2):
        same = index < other and _path_shape(index, other) == _path_shape(index, size)
        assert _refused_inclusion(index, other, leaf, proof, root) is not same
    if proof:
        assert _refused_inclusion(index, size, leaf, proof[:-1], root)
        assert _refused_inclusion(index, size, leaf, proof[1:], root)
    extra = data.draw(st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE), label="extra")
    assert _refused_inclusion(index, size, leaf, [*proof, extra], root)
    assert _refused_inclusion(index, size, leaf, [extra, *proof], root)
    for wrong in (HASH_SIZE - 1, HASH_SIZE + 1):
        assert _refused_inclusion(index, size, (leaf + b"\0")[:wrong], proof, root)


@given(sizes, st.data())
def test_consistency_bit_flips_are_refused(new: int, data: st.DataObject) -> None:
    old = data.draw(st.integers(1, new), label="old")
    proof = consistency_proof(old, new, tree()[1])
    r1, r2 = _root(old), _root(new)
    bit = data.draw(st.integers(0, 8 * HASH_SIZE - 1), label="bit")
    for at in range(len(proof)):
        bad = list(proof)
        bad[at] = _flip(bad[at], bit)
        assert _refused_consistency(old, new, r1, r2, bad)
    assert _refused_consistency(old, new, _flip(r1, bit), r2, proof)
    assert _refused_consistency(old, new, r1, _flip(r2, bit), proof)


def test_every_bit_flip_of_one_consistency_proof_is_refused() -> None:
    for old, new in [(1000, 3000), (1024, 3001), (7, 4096)]:
        proof = consistency_proof(old, new, tree()[1])
        r1, r2 = _root(old), _root(new)
        for bit in range(8 * HASH_SIZE):
            for at in range(len(proof)):
                bad = list(proof)
                bad[at] = _flip(bad[at], bit)
                assert _refused_consistency(old, new, r1, r2, bad)
            assert _refused_consistency(old, new, _flip(r1, bit), r2, proof)
            assert _refused_consistency(old, new, r1, _flip(r2, bit), proof)


@given(sizes, st.data())
def test_consistency_sizes_truncation_and_extension_are_refused(
    new: int, data: st.DataObject
) -> None:
    old = data.draw(st.integers(1, new), label="old")
    proof = consistency_proof(old, new, tree()[1])
    r1, r2 = _root(old), _root(new)
    # As for inclusion, the sizes are bound by the checkpoints, not by the proof: other
    # sizes pass exactly when SUBPROOF has the same shape for them (4 -> 5 and 4 -> 6).
    for o, n in [(old - 1, new), (old + 1, new), (old, new - 1), (old, new + 1)]:
        same = 1 <= o <= n and _subproof_shape(o, n) == _subproof_shape(old, new)
        assert _refused_consistency(o, n, r1, r2, proof) is not same
    if proof:
        assert _refused_consistency(old, new, r1, r2, proof[:-1])
        assert _refused_consistency(old, new, r1, r2, proof[1:])
    extra = data.draw(st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE), label="extra")
    assert _refused_consistency(old, new, r1, r2, [*proof, extra])
    assert _refused_consistency(old, new, r1, r2, [extra, *proof])
    assert _refused_consistency(new, old, r2, r1, proof) is not (old == new)
    if old < new:
        assert _refused_consistency(old, new, r2, r1, proof)  # swapped roots


hashes = st.one_of(
    st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE), st.binary(max_size=2 * HASH_SIZE)
)
positions = st.one_of(st.integers(-3, 70), st.integers(-(1 << 70), 1 << 70))


@settings(max_examples=300)
@given(positions, positions, hashes, st.lists(hashes, max_size=70), hashes)
def test_inclusion_of_anything_raises_only_proof_invalid(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> None:
    # A one-leaf tree's root is its leaf hash: the only way through without SHA-256 inputs.
    accepted = (index, size, proof) == (0, 1, []) and len(leaf) == HASH_SIZE and leaf == root
    assert _refused_inclusion(index, size, leaf, proof, root) is not accepted


@settings(max_examples=300)
@given(positions, positions, hashes, hashes, st.lists(hashes, max_size=70))
def test_consistency_of_anything_raises_only_proof_invalid(
    old: int, new: int, r1: bytes, r2: bytes, proof: list[bytes]
) -> None:
    # Equal sizes with an empty proof and equal roots are the only way through.
    assert _refused_consistency(old, new, r1, r2, proof) is not (
        1 <= old == new and not proof and r1 == r2
    )
