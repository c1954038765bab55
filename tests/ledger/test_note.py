"""C2SP signed notes, verifier keys and tlog-cosignature/v1.

Known answers from ../shared/data/vectors/signed-note/kats.json: the C2SP example, Go's
sumdb PeterNeumann tests (Sign gives the exact bytes; Open with one, two or no verifiers;
the malformed encodings), two real ECDSA notes, the cosignature/v1 cases and the vkey
manglings. Properties: any text or bytes parse to a Note or raise NoteInvalid; what a
key signs (or cosigns), the same key opens; a changed note never opens to another text.
"""

from __future__ import annotations

import base64
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from accord.exceptions import NoteInvalid
from accord.ledger import (
    COSIGNATURE_V1,
    ED25519,
    Note,
    Signature,
    Signer,
    cosign,
    cosignatures,
    open_note,
    parse_note,
    parse_vkey,
    sign_note,
    verify_cosignature,
)
from tests.ledger.trees import kat_count, load_json

DASH = "\u2014 "


@pytest.fixture(scope="module")
def kats(shared_data: Path) -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = load_json(shared_data / "vectors/signed-note/kats.json")
    return data


def signer_from_skey(skey: str, name: str | None = None) -> Signer:
    """A Go note private key, ``PRIVATE+KEY+name+id+base64(0x01 || seed)`` (renamed if asked)."""
    private, key, key_name, hex_id, material = skey.split("+", 4)
    assert (private, key) == ("PRIVATE", "KEY")
    raw = base64.b64decode(material)
    assert raw[0] == ED25519 and len(raw) == 33
    signer = Signer(key_name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    assert signer.verifier().key_id.hex() == hex_id  # the id is of the public key, as Go's
    return Signer(name or key_name, signer.key)


def _note_bytes(case: dict[str, Any]) -> bytes:
    if "note_b64" in case:
        return base64.b64decode(case["note_b64"])
    text: str = case["note"]
    return text.encode()


# -- notes ---------------------------------------------------------------------------------


def test_sign_gives_go_sumdb_bytes(kats: dict[str, list[dict[str, Any]]]) -> None:
    """golang.org/x/mod sumdb/note TestSign: Ed25519 is deterministic, so the bytes are known."""
    (case,) = [c for c in kats["note"] if "want_signed_note" in c]
    signer = signer_from_skey(case["skey"])
    assert signer.verifier().vkey == case["vkeys"][0]
    sig = sign_note(case["text"], signer)
    assert Note(case["text"], (sig,)).encode() == case["want_signed_note"]
    note, verified = open_note(case["want_signed_note"], [parse_vkey(case["vkeys"][0])])
    assert note.text == case["text"]
    assert [v.name for v in verified] == ["PeterNeumann"]


@pytest.mark.parametrize("at", range(kat_count("note")))
def test_open_note_vectors(kats: dict[str, list[dict[str, Any]]], at: int) -> None:
    case = kats["note"][at]
    verifiers = [parse_vkey(v) for v in case["vkeys"]]
    if "want" not in case:  # TestSign (test_sign_gives_go_sumdb_bytes): its note opens
        case = {**case, "note": case["want_signed_note"], "want": {"valid": True}}
        case["want"]["verified"] = ["PeterNeumann"]
    data = _note_bytes(case)
    want = case["want"]
    if not want["valid"]:
        with pytest.raises(NoteInvalid) as caught:
            open_note(data, verifiers)
        if want["error"] != "malformed note" and "too many" not in case["source"]:
            assert want["error"] in str(caught.value)
        return
    note, verified = open_note(data, verifiers)
    assert [v.name for v in verified] == want["verified"]
    if "unverified" in want:
        names = [s.name for s in note.signatures if s.name not in want["verified"]]
        assert names == want["unverified"]
    assert note.encode().encode() == data  # a parsed note writes back its own bytes


def test_every_note_vector_is_read(kats: dict[str, list[dict[str, Any]]]) -> None:
    cases = kats["note"]
    assert len(cases) == 16
    assert sum(1 for c in cases if c.get("want", {}).get("valid")) == 5
    assert sum(1 for c in cases if "note_b64" in c) == 7
    assert [len(kats[k]) for k in ("checkpoint", "cosignature_v1", "vkey_parsing")] == [1, 6, 6]


def test_over_one_hundred_signatures_are_refused(kats: dict[str, list[dict[str, Any]]]) -> None:
    (case,) = [c for c in kats["note"] if "too many" in c["source"]]
    note = case["note"]
    assert note.count(DASH) == 101
    with pytest.raises(NoteInvalid, match="over 100 signatures"):
        parse_note(note)
    one_less = note[: note.rfind(DASH)]
    assert len(parse_note(one_less).signatures) == 100


@pytest.mark.parametrize("at", range(kat_count("vkey_parsing")))
def test_vkey_vectors(kats: dict[str, list[dict[str, Any]]], at: int) -> None:
    case = kats["vkey_parsing"][at]
    if case["want"]["valid"]:
        verifier = parse_vkey(case["vkey"])
        assert (verifier.name, verifier.kind, verifier.vkey) == ("PeterNeumann", 1, case["vkey"])
    else:
        with pytest.raises(NoteInvalid):
            parse_vkey(case["vkey"])


# -- cosignature/v1 -----------------------------------------------------------------------------


def _cosign_case(kats: dict[str, list[dict[str, Any]]], starts: str) -> dict[str, Any]:
    (case,) = [c for c in kats["cosignature_v1"] if c["case"].startswith(starts)]
    return case


def test_cosignature_valid(kats: dict[str, list[dict[str, Any]]]) -> None:
    case = _cosign_case(kats, "valid")
    log_v, witness_v = parse_vkey(case["log_vkey"]), parse_vkey(case["witness_vkey"])
    assert witness_v.kind == COSIGNATURE_V1
    note, verified = open_note(case["note"], [log_v, witness_v])
    assert [v.name for v in verified] == [log_v.name]  # a cosignature is no log signature
    assert note.text == case["checkpoint_body"]
    assert cosignatures(note, [witness_v]) == {witness_v.name: 1679315147}
    line = note.signatures[1]
    assert verify_cosignature(note.text, line, witness_v) == case["want"]["timestamp"]
    # The signed message, byte for byte (tlog-cosignature: "cosignature/v1\ntime T\n" || body).
    Ed25519PublicKey.from_public_bytes(witness_v.public).verify(
        line.signature[8:], case["signed_message"].encode()
    )
    # Both lines rebuilt from the seeds: Ed25519 is deterministic.
    log = signer_from_skey(case["log_skey_seed_from"], log_v.name)
    witness = signer_from_skey(case["witness_skey_seed_from"], witness_v.name)
    assert witness.verifier(COSIGNATURE_V1) == witness_v
    assert sign_note(note.text, log) == note.signatures[0]
    assert cosign(note.text, witness, 1679315147) == line


@pytest.mark.parametrize(
    "starts", ["checkpoint root altered", "timestamp field", "key ID computed", "plain note"]
)
def test_cosignature_must_fail(kats: dict[str, list[dict[str, Any]]], starts: str) -> None:
    case = _cosign_case(kats, starts)
    assert not case["want"]["valid"]
    witness_v = parse_vkey(case["witness_vkey"])
    note = parse_note(case["note"])
    assert cosignatures(note, [witness_v]) == {}
    (line,) = [s for s in note.signatures if s.name == witness_v.name]
    with pytest.raises(NoteInvalid) as caught:
        verify_cosignature(note.text, line, witness_v)
    if case["want"].get("ignored_line"):  # another key id: not this cosigner's line at all
        assert "not by cosigner" in str(caught.value)


def test_cosignature_spec_example_parses(kats: dict[str, list[dict[str, Any]]]) -> None:
    case = _cosign_case(kats, "parse")
    note = parse_note(f"example.com/log\n1\n\n{DASH}witness {case['signature_b64']}\n")
    (sig,) = note.signatures
    want = case["want"]
    assert sig.key_id.hex() == want["key_id_hex"]
    assert struct.unpack(">Q", sig.signature[:8]) == (want["timestamp"],)
    assert len(sig.signature) - 8 == want["signature_len"]


def test_a_log_key_is_no_cosigner_key() -> None:
    witness = Signer("w", Ed25519PrivateKey.from_private_bytes(bytes(32)))
    line = cosign("o\n1\nx\n", witness, 5)
    with pytest.raises(NoteInvalid, match="not a cosigner key"):
        verify_cosignature("o\n1\nx\n", line, witness.verifier(ED25519))
    for bad in (0, -1, 1 << 63):
        with pytest.raises(NoteInvalid, match="out of range"):
            cosign("o\n1\nx\n", witness, bad)


# -- properties --------------------------------------------------------------------------------

names = st.text(
    st.characters(blacklist_categories=["Cc", "Cs", "Zs", "Zl", "Zp"], blacklist_characters="+"),
    min_size=1,
    max_size=20,
).filter(lambda s: not any(c.isspace() for c in s))
lines = st.text(st.characters(blacklist_categories=["Cc", "Cs"]), max_size=30)
texts = st.lists(lines, min_size=1, max_size=5).map(lambda ls: "\n".join(ls) + "\n")
seeds = st.binary(min_size=32, max_size=32)


@given(texts, names, seeds)
def test_what_a_key_signs_it_opens(text: str, name: str, seed: bytes) -> None:
    signer = Signer(name, Ed25519PrivateKey.from_private_bytes(seed))
    encoded = Note(text, (sign_note(text, signer),)).encode()
    note, verified = open_note(encoded, [parse_vkey(signer.verifier().vkey)])
    assert note.text == text
    assert verified == [signer.verifier()]
    other = Signer(name, Ed25519PrivateKey.from_private_bytes(bytes(b ^ 1 for b in seed)))
    with pytest.raises(NoteInvalid):
        open_note(encoded, [other.verifier()])


@given(texts, names, seeds, st.integers(1, (1 << 63) - 1))
def test_what_a_witness_cosigns_verifies(text: str, name: str, seed: bytes, when: int) -> None:
    witness = Signer(name, Ed25519PrivateKey.from_private_bytes(seed))
    line = cosign(text, witness, when)
    verifier = parse_vkey(witness.verifier(COSIGNATURE_V1).vkey)
    assert verify_cosignature(text, line, verifier) == when
    note = parse_note(Note(text, (line,)).encode())
    assert cosignatures(note, [verifier]) == {name: when}
    with pytest.raises(NoteInvalid):
        verify_cosignature(text + "x\n", line, verifier)


@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_parse_note_raises_only_note_invalid(data: bytes | str) -> None:
    try:
        note = parse_note(data)
    except NoteInvalid:
        return
    assert note.text.endswith("\n") and note.signatures


@given(st.text(max_size=120))
def test_parse_vkey_raises_only_note_invalid(text: str) -> None:
    try:
        verifier = parse_vkey(text)
    except NoteInvalid:
        return
    assert parse_vkey(verifier.vkey) == verifier


_SEED = bytes(range(32))
_SIGNER = Signer("log.example", Ed25519PrivateKey.from_private_bytes(_SEED))
_TEXT = "log.example\n42\nq83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8M=\n"
_SIGNED = Note(_TEXT, (sign_note(_TEXT, _SIGNER),)).encode()


@given(st.integers(0, len(_SIGNED)), st.integers(0, len(_SIGNED)), st.text(max_size=3))
def test_a_changed_note_never_opens_to_another_text(start: int, length: int, put: str) -> None:
    changed = _SIGNED[:start] + put + _SIGNED[start + length :]
    try:
        note, _ = open_note(changed, [_SIGNER.verifier()])
    except NoteInvalid:
        return
    assert note.text == _TEXT


@given(st.binary(max_size=200), st.lists(st.sampled_from(["", "\n", DASH, "x", " "])))
def test_open_note_raises_only_note_invalid(data: bytes, pieces: list[str]) -> None:
    for candidate in (data, _TEXT + "\n" + "".join(pieces), b"\n\n" + data):
        with pytest.raises(NoteInvalid):
            open_note(candidate, [_SIGNER.verifier()])


def test_non_ascii_in_a_signature_is_a_note_invalid() -> None:
    """Regression: base64 of a non-ASCII str raised a bare ValueError."""
    with pytest.raises(NoteInvalid, match="not base64"):
        parse_note(f"x\n\n{DASH}name \u00e9t\u00e9\n")


def test_signature_line_round_trip() -> None:
    sig = Signature("n", b"\x01\x02\x03\x04", b"\x05" * 64)
    assert parse_note("t\n\n" + sig.line()).signatures == (sig,)
    for bad_name in ("a+b", "a\u00a0b"):
        with pytest.raises(NoteInvalid, match="key name"):
            parse_note("t\n\n" + Signature(bad_name, sig.key_id, sig.signature).line())
    with pytest.raises(NoteInvalid, match="too short"):
        parse_note("t\n\n" + Signature("n", b"\x01\x02\x03", b"").line())
