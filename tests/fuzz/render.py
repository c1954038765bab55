"""A STIX pattern tree written back as text, for the parser's round-trip invariant.

`render(parse(text))` must parse again to the same tree (positions aside):
`shape` gives a tree without its source positions, to compare two parses.
Observation groups are nodes of their own (`Group`), so they are written as
they came; parentheses inside brackets leave no node, so they are written
only where precedence (``AND`` over ``OR``, left association) needs them.
"""

from __future__ import annotations

from typing import Any

from accord.patterns._ast import (
    Comparison,
    ComparisonExpr,
    CompoundComparison,
    Exists,
    Group,
    Literal,
    ObservationExpr,
    Pattern,
    Qualified,
    SimpleObservation,
)

__all__ = ["render", "shape"]

_PRECEDENCE = {"OR": 0, "AND": 1}


def render(pattern: Pattern) -> str:
    """The pattern's tree as text (whitespace normalised)."""
    return _observation(pattern.root)


def _observation(node: ObservationExpr) -> str:
    if isinstance(node, SimpleObservation):
        return "[" + _comparison(node.expr) + "]"
    if isinstance(node, Group):
        return "(" + _observation(node.expr) + ")"
    if isinstance(node, Qualified):
        inner = _observation(node.expr)
        if node.kind == "START":
            start, stop = node.args
            return f"{inner} START {start.text} STOP {stop.text}"
        unit = "SECONDS" if node.kind == "WITHIN" else "TIMES"
        return f"{inner} {node.kind} {node.args[0].text} {unit}"
    return f"{_observation(node.lhs)} {node.op} {_observation(node.rhs)}"


def _comparison(node: ComparisonExpr) -> str:
    if isinstance(node, Exists):
        return "EXISTS " + node.path.text()
    if isinstance(node, Comparison):
        if isinstance(node.value, Literal):
            value = node.value.text
        else:
            value = "(" + ", ".join(lit.text for lit in node.value) + ")"
        negated = "NOT " if node.negated else ""
        return f"{node.path.text()} {negated}{node.op} {value}"
    lhs, rhs = _comparison(node.lhs), _comparison(node.rhs)
    mine = _PRECEDENCE[node.op]
    if isinstance(node.lhs, CompoundComparison) and _PRECEDENCE[node.lhs.op] < mine:
        lhs = "(" + lhs + ")"
    if isinstance(node.rhs, CompoundComparison) and _PRECEDENCE[node.rhs.op] <= mine:
        rhs = "(" + rhs + ")"
    return f"{lhs} {node.op} {rhs}"


def shape(node: Any) -> Any:
    """A tree as nested tuples without the source positions (``pos``) of its nodes."""
    if isinstance(node, Pattern):
        return shape(node.root)
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        fields = [f for f in node._fields if f != "pos"]
        return (type(node).__name__, *(shape(getattr(node, f)) for f in fields))
    if isinstance(node, tuple):
        return tuple(shape(item) for item in node)
    return node
