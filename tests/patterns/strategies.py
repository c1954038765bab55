"""Hypothesis strategies of STIX pattern comparisons, shared by the differential tests."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st


def comparisons(
    paths: Sequence[str],
    literals: Sequence[str],
    *,
    orderings: Sequence[str],
    members: Sequence[str],
    min_members: int,
    likes: Sequence[str],
    subsets: Sequence[str],
    exists: bool,
) -> st.SearchStrategy[str]:
    """Comparisons ``path op value``, ``NOT`` or not, of every operator kind.

    Args:
        paths: object paths to draw from.
        literals: constants for ``=``, ``!=`` and the orderings.
        orderings: the ordering operators drawn.
        members: constants of ``IN`` lists (up to three).
        min_members: the shortest ``IN`` list.
        likes: ``LIKE`` patterns (without quotes).
        subsets: ``ISSUBSET`` CIDRs (without quotes).
        exists: whether ``EXISTS path`` is drawn too.
    """

    constant = st.sampled_from(literals)

    @st.composite
    def comparison(draw: st.DrawFn) -> str:
        path = draw(st.sampled_from(paths))
        neg = draw(st.sampled_from(["", "NOT "]))
        kind = draw(st.integers(0, 6 if exists else 5))
        if kind == 0:
            return f"{path} {neg}{draw(st.sampled_from(['=', '!=']))} {draw(constant)}"
        if kind == 1:
            return (
                f"{path} {neg}{draw(st.sampled_from(orderings))} {draw(st.sampled_from(literals))}"
            )
        if kind == 2:
            drawn = draw(st.lists(st.sampled_from(members), min_size=min_members, max_size=3))
            return f"{path} {neg}IN ({', '.join(drawn)})"
        if kind == 3:
            return f"{path} {neg}LIKE {draw(st.sampled_from(likes))!r}"
        if kind == 4:
            return f"{path} {neg}MATCHES {draw(st.sampled_from(['^a', 'b$', '[0-9]']))!r}"
        if kind == 5:
            return f"{path} {neg}ISSUBSET {draw(st.sampled_from(subsets))!r}"
        return f"EXISTS {path}"

    return comparison()
