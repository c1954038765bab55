"""C2SP tlog-checkpoint: the sum.golang.org checkpoint, malformed texts, round trips."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from accord.exceptions import NoteInvalid
from accord.ledger import (
    HASH_SIZE,
    Checkpoint,
    Note,
    Signer,
    open_note,
    parse_checkpoint,
    parse_vkey,
    sign_note,
)
from tests.ledger.trees import load_json

ROOT = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(scope="module")
def golang(shared_data: Path) -> dict[str, Any]:
    (case,) = load_json(shared_data / "vectors/signed-note/kats.json")["checkpoint"]
    assert isinstance(case, dict)
    return case


def test_sum_golang_org_checkpoint(golang: dict[str, Any]) -> None:
    note, verified = open_note(golang["note"], [parse_vkey(v) for v in golang["vkeys"]])
    assert [v.name for v in verified] == ["sum.golang.org"]
    checkpoint = parse_checkpoint(note.text, golang["origin"])
    want = golang["want"]
    assert (checkpoint.origin, checkpoint.size) == ("go.sum database tree", want["size"])
    assert checkpoint.root == base64.b64decode(want["root_b64"])
    assert checkpoint.extensions == ()
    assert checkpoint.text() == note.text
    assert parse_checkpoint(note.text) == checkpoint  # no origin expected: any is read


def test_another_origin_is_refused(golang: dict[str, Any]) -> None:
    text = golang["note"][: golang["note"].index("\n\n") + 1]
    with pytest.raises(NoteInvalid, match="not 'Go rocks but I might have the wrong ID'"):
        parse_checkpoint(text, "Go rocks but I might have the wrong ID")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"o\n1\n{ROOT}", "newline"),
        ("o\n1\n", "three lines"),
        (f"\n1\n{ROOT}\n", "origin is empty"),
        (f"o\n01\n{ROOT}\n", "not a decimal"),
        (f"o\n+1\n{ROOT}\n", "not a decimal"),
        (f"o\n 1\n{ROOT}\n", "not a decimal"),
        (f"o\n-1\n{ROOT}\n", "not a decimal"),
        (f"o\n\u0661\n{ROOT}\n", "not a decimal"),  # an Arabic-Indic one: isdigit() alone takes it
        (f"o\n\n{ROOT}\n", "not a decimal"),
        ("o\n1\nAAAA\n", "3 bytes"),
        (f"o\n1\n{ROOT[:-1]}\n", "not base64"),
        (f"o\n1\n{ROOT} \n", "not base64"),
        ("o\n1\n\u00e9\n", "not base64"),  # regression: a bare ValueError
        (f"o\n1\n{ROOT}\n\n", "empty extension"),
        (f"o\n1\n{ROOT}\next\n\nmore\n", "empty extension"),
    ],
)
def test_malformed_checkpoints_are_refused(text: str, reason: str) -> None:
    with pytest.raises(NoteInvalid, match=reason):
        parse_checkpoint(text)


def test_size_zero_and_extensions_are_read() -> None:
    checkpoint = parse_checkpoint(f"example.com/log\n0\n{ROOT}\nfirst ext\nsecond\n")
    assert checkpoint.size == 0
    assert checkpoint.extensions == ("first ext", "second")
    assert len(checkpoint.root) == HASH_SIZE


origins = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\n"), min_size=1)
extension = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\n"), min_size=1, max_size=40
)
checkpoints = st.builds(
    Checkpoint,
    origins,
    st.integers(0, (1 << 64) - 1),
    st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE),
    st.lists(extension, max_size=4).map(tuple),
)


@given(checkpoints)
def test_checkpoint_text_round_trips(checkpoint: Checkpoint) -> None:
    text = checkpoint.text()
    assert parse_checkpoint(text, checkpoint.origin) == checkpoint
    assert parse_checkpoint(text).text() == text


@given(checkpoints.filter(lambda c: all(ord(ch) >= 0x20 for ch in c.text().replace("\n", ""))))
def test_a_signed_checkpoint_opens_and_parses(checkpoint: Checkpoint) -> None:
    signer = Signer("log.example", Ed25519PrivateKey.from_private_bytes(b"\x07" * 32))
    encoded = Note(checkpoint.text(), (sign_note(checkpoint.text(), signer),)).encode()
    note, _ = open_note(encoded.encode(), [signer.verifier()])
    assert parse_checkpoint(note.text, checkpoint.origin) == checkpoint


@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=10)))
def test_parse_checkpoint_raises_only_note_invalid(text: str, origin: str | None) -> None:
    try:
        checkpoint = parse_checkpoint(text, origin)
    except NoteInvalid:
        return
    assert checkpoint.text() == text


@given(
    st.lists(st.sampled_from(["o", "1", "0", "01", ROOT, "AAAA", "", "\u00e9", " "]), max_size=6)
)
def test_near_checkpoints_raise_only_note_invalid(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    try:
        checkpoint = parse_checkpoint(text)
    except NoteInvalid:
        return
    assert checkpoint.text() == text
