"""A pattern's syntax tree as indented text, for ``accord pattern check``."""

from __future__ import annotations

from accord.patterns._ast import (
    Comparison,
    ComparisonExpr,
    CompoundComparison,
    Exists,
    Group,
    ObservationExpr,
    ObservationOp,
    Pattern,
    Qualified,
    SimpleObservation,
)

__all__ = ["explain"]

_QUALIFIER = {
    "WITHIN": "within {0} seconds of each other",
    "REPEATS": "repeated {0} times (distinct observations)",
    "START": "observed from {0} until before {1}",
}


def _comparison(node: ComparisonExpr, depth: int, out: list[str]) -> None:
    pad = "  " * depth
    if isinstance(node, CompoundComparison):
        out.append(f"{pad}{node.op} (same object)")
        _comparison(node.lhs, depth + 1, out)
        _comparison(node.rhs, depth + 1, out)
    elif isinstance(node, Exists):
        out.append(f"{pad}EXISTS {node.path.text()}")
    else:
        assert isinstance(node, Comparison)
        value = node.value
        shown = (
            "(" + ", ".join(v.text for v in value) + ")"
            if not hasattr(value, "kind")
            else f"{value.text} ({value.kind})"  # type: ignore[union-attr]
        )
        neg = "NOT " if node.negated else ""
        out.append(f"{pad}{node.path.text()} {neg}{node.op} {shown}")


def _observation(node: ObservationExpr, depth: int, out: list[str]) -> None:
    pad = "  " * depth
    if isinstance(node, SimpleObservation):
        out.append(f"{pad}observation [ ]")
        _comparison(node.expr, depth + 1, out)
    elif isinstance(node, Group):
        _observation(node.expr, depth, out)
    elif isinstance(node, ObservationOp):
        label = {"FOLLOWEDBY": "FOLLOWEDBY (left before right)"}.get(node.op, node.op)
        out.append(f"{pad}{label}")
        _observation(node.lhs, depth + 1, out)
        _observation(node.rhs, depth + 1, out)
    else:
        assert isinstance(node, Qualified)
        args = [a.text for a in node.args]
        out.append(f"{pad}{node.kind}: " + _QUALIFIER[node.kind].format(*args))
        _observation(node.expr, depth + 1, out)


def explain(pattern: Pattern) -> str:
    """The tree of a parsed pattern, one node a line.

    Args:
        pattern: a pattern from `parse`.
    """
    out: list[str] = []
    _observation(pattern.root, 0, out)
    return "\n".join(out)
