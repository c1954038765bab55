"""Properties of the parsers a partner's bytes reach: canonical forms, requests, offers."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.exceptions import PrivateLookupError
from accord.privacy import KINDS, Offer, canonical, read_value, split_elements


@given(st.sampled_from(sorted(KINDS)), st.text(max_size=80))
def test_canonical_forms_are_fixed_points(kind: str, text: str) -> None:
    canon = canonical(kind, text)
    if canon is not None:
        assert canonical(kind, canon) == canon


@given(st.text(max_size=80))
def test_a_bare_value_reads_to_a_fixed_point(text: str) -> None:
    found = read_value(text)
    if found is not None:
        assert read_value(found[1]) == found


@given(st.binary(max_size=200))
def test_a_request_body_splits_or_is_refused_by_name(body: bytes) -> None:
    if body and len(body) % 32 == 0 and len(body) <= 4 * 32:
        parts = split_elements(body, limit=4)
        assert b"".join(parts) == body and all(len(p) == 32 for p in parts)
    else:
        with pytest.raises(PrivateLookupError, match=r"element|body"):
            split_elements(body, limit=4)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(_json)
def test_an_offer_document_parses_or_is_refused(doc: object) -> None:
    """Any JSON value: an offer or PrivateLookupError, never another exception."""
    with contextlib.suppress(PrivateLookupError):
        Offer.from_json(doc)


def test_an_offer_round_trips() -> None:
    offer = Offer(
        "c",
        3,
        10,
        20,
        bytes(range(32)),
        "sha256:" + "a" * 64,
        1024,
        1e-6,
        None,
        10,
        100,
        1,
        "m",
        7,
        bytes(32),
    )
    assert Offer.from_json(offer.to_json()) == offer
