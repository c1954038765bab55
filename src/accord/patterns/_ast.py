"""The syntax tree of a STIX 2.1 pattern (STIX 2.1 §9).

Nodes are small immutable tuples. Literals keep their kind and source text:
turning a literal into a Python value can fail in ways the grammar allows (a
timestamp of 30 February, a REPEATS count of 0), and the reference matcher
reports those when it matches, not when it parses; so does Accord.

Binary operators stay binary, left-associative as the grammar makes them, so
that the order in which bindings are produced (and therefore which SDOs
``match()`` returns) is the reference's.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "STAR",
    "Comparison",
    "CompoundComparison",
    "Exists",
    "Group",
    "Literal",
    "ObjectPath",
    "ObservationOp",
    "Pattern",
    "Qualified",
    "SimpleObservation",
    "Step",
]

STAR = "*"
"""The ``[*]`` list step."""


class Step(NamedTuple):
    """One step of an object path after the object type.

    ``key`` is a property name (``list_index`` None); or ``key`` is None
    and ``list_index`` is a list index (an int) or :data:`STAR`.
    """

    key: str | None
    list_index: int | str | None = None


class ObjectPath(NamedTuple):
    """``type:prop.key[0]...``: the object type and its steps (at least one)."""

    object_type: str
    steps: tuple[Step, ...]
    pos: int

    def key(self) -> str:
        """The path as ``Event.keys`` writes it: no quotes, ``[n]`` as ``[*]``."""
        out = [self.object_type, ":"]
        first = True
        for step in self.steps:
            if step.key is not None:
                if not first:
                    out.append(".")
                out.append(step.key)
            else:
                out.append("[*]")
            first = False
        return "".join(out)

    def text(self) -> str:
        """The path as a pattern writes it (keys quoted where they need it)."""
        out = [self.object_type, ":"]
        first = True
        for step in self.steps:
            if step.key is not None:
                if not first:
                    out.append(".")
                plain = step.key.isidentifier() and step.key.isascii()
                out.append(step.key if plain else "'" + _escape(step.key) + "'")
            else:
                out.append(f"[{step.list_index}]")
            first = False
        return "".join(out)


class Literal(NamedTuple):
    """A constant: ``kind`` is one of int, float, str, bool, hex, bin, ts."""

    kind: str
    text: str
    pos: int


class Comparison(NamedTuple):
    """``path [NOT] op value``; ``value`` is a tuple of literals for IN."""

    path: ObjectPath
    op: str  # = != < > <= >= IN LIKE MATCHES ISSUBSET ISSUPERSET
    negated: bool
    value: Literal | tuple[Literal, ...]


class Exists(NamedTuple):
    """``EXISTS path`` (STIX 2.1 §9, Comparison Operators)."""

    path: ObjectPath


class CompoundComparison(NamedTuple):
    """``lhs AND rhs`` or ``lhs OR rhs`` inside one observation expression."""

    op: str  # AND / OR
    lhs: ComparisonExpr
    rhs: ComparisonExpr


ComparisonExpr = Comparison | Exists | CompoundComparison


class SimpleObservation(NamedTuple):
    """``[ comparison expression ]``."""

    expr: ComparisonExpr
    pos: int


class ObservationOp(NamedTuple):
    """``lhs AND|OR|FOLLOWEDBY rhs`` between observation expressions."""

    op: str
    lhs: ObservationExpr
    rhs: ObservationExpr


class Qualified(NamedTuple):
    """An observation expression with one qualifier.

    ``kind`` WITHIN (``args`` the number of seconds), REPEATS (the count) or
    START (the start and stop timestamps). ``grouped`` is True when the
    qualified expression was a parenthesised group (the grammar's compound
    observation expression), which the duplicate-qualifier check needs.
    """

    kind: str
    expr: ObservationExpr
    args: tuple[Literal, ...]
    pos: int


class Group(NamedTuple):
    """``( observation expressions )``: kept for the duplicate-qualifier check."""

    expr: ObservationExpr


ObservationExpr = SimpleObservation | ObservationOp | Qualified | Group


class Pattern(NamedTuple):
    """A parsed pattern: the tree and its source text."""

    root: ObservationExpr
    text: str


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("'", "\\'")
