"""Cheap keys of a pattern: what an event must carry for the pattern to possibly match.

For each pattern the compiler derives *triggers*, a necessary condition
checked with a dictionary lookup (or a CIDR or regex test) per event key:

- ``path = 'v'`` and ``path IN ('a', 'b')`` (not negated): equality keys;
- ``path ISSUBSET 'cidr'``: a CIDR key (IPv4 and IPv6);
- ``path LIKE``/``MATCHES``: a regex key, tested on the values of that path;
- ``A AND B`` in brackets: the keys of one side suffice (the more selective:
  equality over regexes, strings over numbers, not ports or protocols);
- ``A OR B``: both sides need keys (their union), else there is none;
- between observation expressions (AND, OR, FOLLOWEDBY) every side needs keys.

A pattern without triggers is evaluated on every event that carries its
object type. ``[n]`` list steps are keyed as ``[*]`` (a necessary condition).
"""

from __future__ import annotations

import ipaddress
from typing import Any, NamedTuple

from accord.patterns._ast import (
    Comparison,
    ComparisonExpr,
    CompoundComparison,
    Group,
    Literal,
    ObservationExpr,
    ObservationOp,
    Qualified,
    SimpleObservation,
)
from accord.patterns._values import like_to_regex, literal_value

__all__ = ["Triggers", "confirm_of", "is_direct", "norm_value", "triggers_of"]

HASH_MARK = "hashes"


class Triggers(NamedTuple):
    """Equality keys (path, value), CIDRs (path, network) and regexes (path, source)."""

    eq: tuple[tuple[str, Any], ...] = ()
    cidr: tuple[tuple[str, Any], ...] = ()
    regex: tuple[tuple[str, str], ...] = ()

    def __add__(self, other: object) -> Triggers:
        assert isinstance(other, Triggers)
        return Triggers(self.eq + other.eq, self.cidr + other.cidr, self.regex + other.regex)


def norm_value(path: str, value: Any) -> Any:
    """The index form of a value: hash hex is case-insensitive (STIX 2.1 hash-algorithm-ov)."""
    if type(value) is str and HASH_MARK in path:
        return value.lower()
    return value


def _comparison(c: Comparison) -> Triggers | None:
    if c.negated or c.op in ("!=", "<", ">", "<=", ">=", "ISSUPERSET"):
        return None
    key = c.path.key()
    if c.op == "=" or c.op == "IN":
        lits = (c.value,) if isinstance(c.value, Literal) else c.value
        keys = []
        for lit in lits:
            if lit.kind not in ("str", "int"):
                return None
            value = literal_value(lit)
            keys.append((key, norm_value(key, value)))
        return Triggers(eq=tuple(keys)) if keys else None
    value = literal_value(c.value)  # type: ignore[arg-type]
    if c.op == "ISSUBSET":
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return None
        return Triggers(cidr=((key, net),))
    if c.op == "LIKE":
        return Triggers(regex=((key, like_to_regex(value)),))
    return Triggers(regex=((key, value),))  # MATCHES


# Paths whose values many events share: a poor trigger for one side of an AND.
_WEAK = ("_port", "protocols[*]", "request_method", "is_active", "number_observed")


def _selectivity(t: Triggers) -> tuple[bool, bool, bool, int]:
    """How few events a trigger set lets through, roughly (greater is fewer)."""
    strong = all(not path.endswith(_WEAK) for path, _ in t.eq)
    strings = all(type(value) is str for _, value in t.eq)
    return (bool(t.eq), strong, strings, -len(t.eq) - len(t.cidr) - len(t.regex))


def _comparison_expr(expr: ComparisonExpr) -> Triggers | None:
    if isinstance(expr, CompoundComparison):
        lhs, rhs = _comparison_expr(expr.lhs), _comparison_expr(expr.rhs)
        if expr.op == "OR":
            return lhs + rhs if lhs is not None and rhs is not None else None
        if lhs is None or rhs is None:
            return lhs or rhs
        return lhs if _selectivity(lhs) >= _selectivity(rhs) else rhs
    if isinstance(expr, Comparison):
        return _comparison(expr)
    return None  # EXISTS


def triggers_of(root: ObservationExpr) -> Triggers | None:
    """The triggers of a pattern, or None when it has none (see the module docstring)."""
    if isinstance(root, SimpleObservation):
        return _comparison_expr(root.expr)
    if isinstance(root, Group | Qualified):
        return triggers_of(root.expr)
    assert isinstance(root, ObservationOp)
    lhs, rhs = triggers_of(root.lhs), triggers_of(root.rhs)
    if lhs is None or rhs is None:
        return None
    return lhs + rhs


def is_direct(root: ObservationExpr) -> bool:
    """Whether an equality key hit alone proves a match (no evaluation needed).

    True for one observation expression, no qualifier, made of ``=`` and ``IN``
    on string or integer values joined by ``OR``, with no ``[n]`` step in its
    paths. ``ISSUBSET`` is never proof alone: a value of the same path that is
    not an address (in another object of the event) makes the reference raise
    instead of matching, and an error is no match here either; the CIDR index
    still finds the candidates, the evaluator confirms them.
    """
    if not isinstance(root, SimpleObservation):
        return False

    def direct(expr: ComparisonExpr) -> bool:
        if isinstance(expr, CompoundComparison):
            return expr.op == "OR" and direct(expr.lhs) and direct(expr.rhs)
        if not isinstance(expr, Comparison) or expr.negated:
            return False
        if expr.op not in ("=", "IN"):
            return False
        if any(s.key is None and s.list_index != "*" for s in expr.path.steps):
            return False
        lits = (expr.value,) if isinstance(expr.value, Literal) else expr.value
        return bool(lits) and all(lit.kind in ("str", "int") for lit in lits)

    return direct(root.expr)


def _ops(expr: ComparisonExpr) -> set[str]:
    if isinstance(expr, CompoundComparison):
        return _ops(expr.lhs) | _ops(expr.rhs)
    return {expr.op} if isinstance(expr, Comparison) else set()


def confirm_of(root: ObservationExpr) -> tuple[tuple[str, Any], ...] | None:
    """For ``[A AND B]``: the equality keys of the side that is not the trigger.

    The event must carry one of them too before the pattern is evaluated (both
    sides of an AND must hold). None when that side has other kinds of keys.
    """
    if not isinstance(root, SimpleObservation):
        return None
    expr = root.expr
    if not isinstance(expr, CompoundComparison) or expr.op != "AND":
        return None
    lhs, rhs = _comparison_expr(expr.lhs), _comparison_expr(expr.rhs)
    if lhs is None or rhs is None:
        return None
    other = rhs if _selectivity(lhs) >= _selectivity(rhs) else lhs
    if other.cidr or other.regex or not other.eq:
        return None
    return other.eq
