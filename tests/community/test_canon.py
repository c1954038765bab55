"""The canonical JSON of records and states is RFC 8785's, whichever writer made it."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.community import canonical
from accord.community._canon import is_canonical

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.text(max_size=12),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=12),
)
values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_canonical_is_rfc8785(value: Any) -> None:
    data = rfc8785.dumps(value)
    assert canonical(value) == data
    assert is_canonical(data, value)
