"""RFC 9497 VOPRF: the Appendix A vectors, RFC 9496 encodings, DLEQ proof negatives.

The reference (`rfc9497_ref`, libsodium) replays the vectors byte for byte;
the product's `accord.privacy` (the ``voprf`` package) is checked against the
vectors where its API allows (keys, outputs, encodings) and against the
reference everywhere else (its proofs verify there, and the reference's
answers verify in it), so the wire bytes are RFC 9497's.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from accord.exceptions import BadElement, DleqProofInvalid, PrivateLookupError
from accord.privacy import ELEMENT, PROOF, EpochKey, blind, check_public_key, finalize
from tests.privacy.conftest import load

pytestmark = pytest.mark.data

L = 2**252 + 27742317777372353535851937790883648493


def _voprf_set(folder: Path) -> dict[str, Any]:
    sets = load(folder, "rfc9497_ristretto255-SHA512.json")
    (voprf,) = [s for s in sets if s["mode"] == 1]
    return dict(voprf)


def _split(text: str) -> list[bytes]:
    return [bytes.fromhex(x) for x in text.split(",")]


def test_the_reference_replays_appendix_a2_byte_for_byte(voprf_vectors: Path, sodium: None) -> None:
    from tests.privacy import rfc9497_ref as ref

    v = _voprf_set(voprf_vectors)
    sk, pk = ref.derive_key_pair(bytes.fromhex(v["seed"]), bytes.fromhex(v["keyInfo"]))
    assert (sk.hex(), pk.hex()) == (v["skSm"], v["pkSm"])
    assert len(v["vectors"]) == 3 and v["vectors"][2]["Batch"] == 2
    for t in v["vectors"]:
        inputs, blinds = _split(t["Input"]), _split(t["Blind"])
        blinded = [ref.blind(x, r) for x, r in zip(inputs, blinds, strict=True)]
        assert blinded == _split(t["BlindedElement"])
        evaluated = [ref.mul(sk, b) for b in blinded]
        assert evaluated == _split(t["EvaluationElement"])
        proof = ref.generate_proof(sk, pk, blinded, evaluated, bytes.fromhex(t["Proof"]["r"]))
        assert proof.hex() == t["Proof"]["proof"]
        assert ref.verify_proof(pk, blinded, evaluated, proof)
        outputs = [ref.finalize(x, r, e) for x, r, e in zip(inputs, blinds, evaluated, strict=True)]
        assert outputs == _split(t["Output"])


def test_the_package_derives_the_appendix_keys_and_outputs(voprf_vectors: Path) -> None:
    v = _voprf_set(voprf_vectors)
    key = EpochKey(bytes.fromhex(v["seed"]), bytes.fromhex(v["keyInfo"]))
    assert key.public_key.hex() == v["pkSm"]
    for t in v["vectors"]:
        assert key.evaluate(_split(t["Input"])) == _split(t["Output"])


def test_the_proof_negatives(voprf_vectors: Path, sodium: None) -> None:
    from tests.privacy import rfc9497_ref as ref

    cases = load(voprf_vectors, "derived_voprf_proof_negatives.json")["cases"]
    assert len(cases) == 16 and sum(not c["want_valid"] for c in cases) == 13
    for c in cases:
        got = ref.verify_proof(
            bytes.fromhex(c["pkSm"]),
            _split(c["BlindedElement"]),
            _split(c["EvaluationElement"]),
            bytes.fromhex(c["Proof"]),
        )
        assert got is c["want_valid"], c["case"]


def test_every_invalid_encoding_and_the_identity_are_refused(voprf_vectors: Path) -> None:
    """RFC 9496 A.2 (29 encodings) and A.1[0]: refused as requests and as keys."""
    enc = load(voprf_vectors, "rfc9496_ristretto255_encodings.json")
    invalid = [bytes.fromhex(x["encoding"]) for x in enc["invalid_encodings"]]
    assert len(invalid) == 29
    multiples = [bytes.fromhex(m["encoding"]) for m in enc["valid_multiples_of_generator"]]
    identity, valid = multiples[0], multiples[1:]
    key = EpochKey(secrets.token_bytes(32), b"test")
    for bad in [identity, *invalid]:
        with pytest.raises(BadElement, match="blinded element 1 is not a canonical"):
            key.blind_evaluate(valid[0] + bad)
        with pytest.raises(BadElement):
            check_public_key(bad)
    n, answer = key.blind_evaluate(b"".join(valid))
    assert n == 15 and len(answer) == 15 * ELEMENT + PROOF
    for good in valid:
        check_public_key(good)


def test_the_package_s_answers_are_rfc9497_proofs(sodium: None) -> None:
    from tests.privacy import rfc9497_ref as ref

    seed = secrets.token_bytes(32)
    key = EpochKey(seed, b"accord")
    sk, pk = ref.derive_key_pair(seed, b"accord")
    assert pk == key.public_key
    inputs = [b"domain-name\x00evil.example", b"ipv4-addr\x00192.0.2.1", b"hash\x00" + b"a" * 64]
    state = blind(inputs)
    blinded = [state.body[i : i + 32] for i in range(0, len(state.body), 32)]
    n, answer = key.blind_evaluate(state.body)
    evaluated = [answer[i : i + 32] for i in range(0, n * 32, 32)]
    assert evaluated == [ref.mul(sk, b) for b in blinded]
    assert ref.verify_proof(pk, blinded, evaluated, answer[-64:])
    assert finalize(state, answer, pk) == [ref.evaluate(sk, x) for x in inputs]
    # and the other way: the reference's answer (its own proof randomness) verifies
    r = ref.random_scalar()
    theirs = b"".join(evaluated) + ref.generate_proof(sk, pk, blinded, evaluated, r)
    assert finalize(state, theirs, pk) == key.evaluate(inputs)


def _flip(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    out[at] ^= 1
    return bytes(out)


def test_a_failing_proof_is_refused_by_the_product() -> None:
    key = EpochKey(secrets.token_bytes(32), b"accord")
    other = EpochKey(secrets.token_bytes(32), b"accord")
    state = blind([b"a", b"b", b"c"])
    n, answer = key.blind_evaluate(state.body)
    assert len(finalize(state, answer, key.public_key)) == 3
    c_at, s_at = n * 32, n * 32 + 32
    swapped = answer[32:64] + answer[:32] + answer[64:]
    c = int.from_bytes(answer[c_at:s_at], "little")
    non_canonical = answer[:c_at] + (c + L).to_bytes(32, "little") + answer[s_at:]
    for bad in (_flip(answer, c_at), _flip(answer, s_at), swapped):
        with pytest.raises(DleqProofInvalid, match="does not verify"):
            finalize(state, bad, key.public_key)
    with pytest.raises(DleqProofInvalid):
        finalize(state, answer, other.public_key)
    with pytest.raises(BadElement):
        finalize(state, non_canonical, key.public_key)
    with pytest.raises(BadElement):
        finalize(state, _flip(answer, 0), key.public_key)
    with pytest.raises(PrivateLookupError, match="bytes"):
        finalize(state, answer[:-1], key.public_key)


def test_malformed_requests_name_what_is_wrong() -> None:
    key = EpochKey(secrets.token_bytes(32), b"accord")
    with pytest.raises(PrivateLookupError, match="empty"):
        key.blind_evaluate(b"")
    with pytest.raises(PrivateLookupError, match="33 bytes"):
        key.blind_evaluate(bytes(33))
    state = blind([b"x"] * 5)
    with pytest.raises(PrivateLookupError, match="at most 4"):
        key.blind_evaluate(state.body, limit=4)
    with pytest.raises(ValueError, match="32 bytes"):
        EpochKey(b"short", b"")
