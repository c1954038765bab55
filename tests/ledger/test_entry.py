"""Log entries: RFC 8785 canonical bytes, their round trip, the share entry and the commitment."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.exceptions import EntryInvalid
from accord.ledger import CHANNELS, SHARE, Entry, commitment, leaf_hash, parse_entry, share_entry

SALT = bytes(range(32))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=["Cs"]), max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(st.characters(blacklist_categories=["Cs"]), max_size=8), inner, max_size=4
        )
    ),
    max_leaves=20,
)
bodies = st.dictionaries(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=10).filter(
        lambda k: k not in ("type", "v")
    ),
    json_values,
    max_size=6,
)
types = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12)


@given(types, st.integers(0, 2**53 - 1), bodies)
def test_canonical_bytes_round_trip(kind: str, version: int, body: dict[str, Any]) -> None:
    entry = Entry(kind, version, body)
    data = entry.canonical()
    back = parse_entry(data)
    assert (back.type, back.version) == (kind, version)
    assert back.canonical() == data
    assert back.body == body  # numbers as doubles (RFC 8785 §3.2.2.3): equal, not identical
    assert orjson.loads(data).keys() == {"type", "v", *body}


def test_canonical_is_rfc_8785() -> None:
    entry = Entry("share", 1, {"b": [1, 2.5, "\u20ac"], "a": None, "\u00e9": {"z": 1, "y": True}})
    assert entry.canonical() == (
        '{"a":null,"b":[1,2.5,"\u20ac"],"type":"share","v":1,"\u00e9":{"y":true,"z":1}}'.encode()
    )
    assert Entry("x", 1, {"n": 1.0}).canonical() == b'{"n":1,"type":"x","v":1}'


@pytest.mark.parametrize(
    "data",
    [
        b'{"type": "x", "v": 1}',  # whitespace
        b'{"v":1,"type":"x"}',  # key order
        b'{"type":"x","v":1,"a":1,"a":2}',  # a duplicate key
        b'{"a":"\\u0041","type":"x","v":1}',  # an escape JCS does not write
        b'{"a":1.50,"type":"x","v":1}',
        b'{"type":"x","v":1}\n',
    ],
)
def test_non_canonical_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(EntryInvalid, match="not its canonical JSON"):
        parse_entry(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not JSON"),
        (b"\xff", "not JSON"),
        (b"[]", "object with a type"),
        (b'{"type":1,"v":1}', "object with a type"),
        (b'{"type":"x"}', "integer version"),
        (b'{"type":"x","v":"1"}', "integer version"),
        (b'{"type":"x","v":1.5}', "integer version"),
        (b'{"type":"x","v":true}', "integer version"),  # regression: a bool is no version
        (b'{"type":"","v":1}', "ASCII name"),
        (b'{"type":"x","v":9007199254740992}', "integer version"),  # a double, not an int
        (b'{"n":9007199254740993,"type":"x","v":1}', "not its canonical JSON"),  # no double
        (b'{"n":' + b"[" * 65 + b"]" * 65 + b',"type":"x","v":1}', "deeper than 64"),
        (b'{"n":' + b"[" * 1000 + b"]" * 1000 + b',"type":"x","v":1}', "deeper than 64"),
    ],
)
def test_bad_entries_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(EntryInvalid, match=reason):
        parse_entry(data)


def test_large_doubles_round_trip() -> None:
    """Regression: the float 2^53 is written as 9007199254740992, which was read as an int."""
    for value in (2.0**53, 1e20, -(2.0**60), 1e21):
        entry = Entry("x", 1, {"n": value})
        assert parse_entry(entry.canonical()) == entry
    deep: list[object] = []
    for _ in range(63):
        deep = [deep]
    assert parse_entry(Entry("x", 1, {"n": deep}).canonical()).body == {"n": deep}
    with pytest.raises(EntryInvalid, match="deeper than 64"):
        Entry("x", 1, {"n": [deep]}).canonical()


def test_entries_that_cannot_be_canonical_are_refused() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "y"}, "reserved"),
        ({"v": 2}, "reserved"),
        ({"n": float("nan")}, "type 'x'"),
        ({"n": 2**60}, "type 'x'"),
        ({"n": object()}, "type 'x'"),
        ({"s": "x" * 70_000}, "over 65535 bytes"),
    ]
    for body, reason in cases:
        with pytest.raises(EntryInvalid, match=reason):
            Entry("x", 1, body).canonical()
    with pytest.raises(EntryInvalid, match="ASCII"):
        Entry("\u00e9", 1).canonical()


@given(st.binary(max_size=200))
def test_parse_entry_raises_only_entry_invalid(data: bytes) -> None:
    try:
        entry = parse_entry(data)
    except EntryInvalid:
        return
    assert entry.canonical() == data


@given(st.lists(st.sampled_from(['{"', '"type"', ":", '"x"', ",", '"v"', "1", "}", "[", "]"])))
def test_near_entries_raise_only_entry_invalid(pieces: list[str]) -> None:
    data = "".join(pieces).encode()
    try:
        entry = parse_entry(data)
    except EntryInvalid:
        return
    assert entry.canonical() == data


def test_share_entry() -> None:
    who = commitment(SALT, "cert-b")
    entry = share_entry(
        time="2026-12-06T20:00:00Z",
        channel="taxii-objects",
        collection="shared",
        agreement="ab" * 32,
        count=1000,
        digest="cd" * 32,
        recipient=who,
    )
    assert (entry.type, entry.version) == (SHARE, 1)
    assert parse_entry(entry.canonical()) == entry
    assert b"cert-b" not in entry.canonical()
    assert leaf_hash(entry.canonical()) == hashlib.sha256(b"\x00" + entry.canonical()).digest()
    with pytest.raises(EntryInvalid, match="unknown channel"):
        share_entry(
            time="t",
            channel="smoke-signals",
            collection="c",
            agreement=None,
            count=0,
            digest="",
            recipient=who,
        )
    assert "taxii-objects" in CHANNELS and len(set(CHANNELS)) == len(CHANNELS)


def test_commitment() -> None:
    want = hashlib.sha256(b"accord/recipient/v1\x00" + SALT + b"cert-b").hexdigest()
    assert commitment(SALT, "cert-b") == want
    assert commitment(bytes(32), "cert-b") != want
    assert commitment(SALT, "cert-c") != want
    for salt in (b"", bytes(31), bytes(33)):
        with pytest.raises(EntryInvalid, match="32 bytes"):
            commitment(salt, "cert-b")
