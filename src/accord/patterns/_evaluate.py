"""Evaluate a parsed pattern against observed data, with the reference's answers.

A pattern is compiled once into closures (:class:`CompiledPattern`); matching
then costs what the data costs. The semantics are those of STIX 2.1 §9 as the
OASIS reference matcher (stix2-matcher 3.0) implements them, including the
order in which it finds bindings, because ``match()`` returns the SDOs of the
*first* binding:

- a comparison selects, per observation, the root objects with at least one
  value on the object path that passes the test (``NOT`` negates the test
  of each value, so a missing property never passes, negated or not);
- ``AND``/``OR`` inside brackets intersect/unite those root sets per observation;
- each observation counts ``number_observed`` times; ``AND``, ``FOLLOWEDBY`` and
  ``REPEATS`` bind distinct instances; ``OR`` binds one side;
- ``WITHIN``: some window of that many seconds touches every bound
  observation's [first_observed, last_observed]; ``START``/``STOP``: each bound
  interval overlaps [start, stop) ; ``FOLLOWEDBY``: the latest first_observed on
  the left is <= the earliest last_observed on the right.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from accord.exceptions import PatternMatchError, PatternTooComplex
from accord.patterns._ast import (
    STAR,
    Comparison,
    ComparisonExpr,
    CompoundComparison,
    Exists,
    Group,
    Literal,
    ObjectPath,
    ObservationExpr,
    ObservationOp,
    Pattern,
    Qualified,
    SimpleObservation,
)
from accord.patterns._observations import Observation
from accord.patterns._regex import compile_regex
from accord.patterns._values import in_subnet, like_to_regex, literal_value, parse_timestamp

__all__ = ["Binding", "CompiledPattern", "compile_pattern"]

Binding = tuple[tuple[int, int], ...]
"""Bound observation instances: (observation index, instance index) pairs."""

# STIX 2.1 object types that are not cyber-observables: a pattern on them
# matches nothing in STIX 2.1 observed data (as the reference does).
SDO_TYPES = frozenset(
    """attack-pattern bundle campaign course-of-action extension-definition grouping
    identity incident indicator infrastructure intrusion-set language-content location
    malware malware-analysis marking-definition note observed-data opinion relationship
    report threat-actor tool sighting vulnerability""".split()  # noqa: SIM905
)

Predicate = Callable[[Any], bool]
RootSets = dict[int, set[Any]]
Selector = Callable[[Observation], dict[Any, list[Any]]]
Test = Callable[[list[Observation]], RootSets]
Generator = Callable[[list[Observation], Callable[[ObservationExpr], Test]], Iterator[Binding]]

_MAX_SPAN_SECONDS = datetime.timedelta.max // datetime.timedelta(seconds=1)


# -- comparisons ------------------------------------------------------------


def _eq(a: Any, b: Any) -> bool:
    """Equality as STIX 2.1 §9 and the reference define it, by exact types."""
    ta, tb = type(a), type(b)
    if ta is tb:
        return bool(a == b) if ta in _EQ_TYPES else False
    if {ta, tb} == _INT_FLOAT:
        return bool(a == b)
    if ta is bytes and tb is str:
        return bool(_bin_str(b) == a)
    if ta is str and tb is bytes:
        return bool(_bin_str(a) == b)
    return False


_EQ_TYPES = frozenset((int, float, bytes, str, bool, datetime.datetime))
_ORDER_TYPES = frozenset((int, float, bytes, str, datetime.datetime))
_INT_FLOAT = {int, float}


def _bin_str(s: str) -> bytes | None:
    """A string as bytes when every code point is < 256 (STIX 2.1 §9), else None."""
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return None


_NO_ORDER = object()


def _cmp(a: Any, b: Any) -> Any:
    """-1/0/1, ``None`` when a string cannot be compared with binary, or _NO_ORDER."""
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta not in _ORDER_TYPES:
            return _NO_ORDER
    elif {ta, tb} == _INT_FLOAT:
        pass
    elif ta is bytes and tb is str:
        b = _bin_str(b)
        if b is None:
            return None
    elif ta is str and tb is bytes:
        a = _bin_str(a)
        if a is None:
            return None
    else:
        return _NO_ORDER
    return (a > b) - (a < b)


def _as_time(value: Any, pattern: str) -> Any:
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise PatternMatchError(pattern, f"invalid timestamp in the data: {value}") from exc
    return value


def _predicate(cmp: Comparison, pattern: str, regex_timeout: float | None) -> Predicate:
    """The test of one value, ``NOT`` included."""
    op, neg = cmp.op, cmp.negated
    if op in ("=", "!="):
        lit = literal_value(cmp.value)  # type: ignore[arg-type]
        flip = (op == "!=") != neg
        is_time = type(lit) is datetime.datetime
        if type(lit) is str and not flip:

            def eq_str(v: Any) -> bool:
                if type(v) is str:
                    return bool(v == lit)
                return _eq(v, lit)

            return eq_str

        def eq(v: Any) -> bool:
            if is_time:
                v = _as_time(v, pattern)
            return _eq(v, lit) != flip

        return eq
    if op in ("<", ">", "<=", ">="):
        lit = literal_value(cmp.value)  # type: ignore[arg-type]
        is_time = type(lit) is datetime.datetime
        check = _ORDER_CHECKS[op]

        def order(v: Any) -> bool:
            if is_time:
                v = _as_time(v, pattern)
            r = _cmp(v, lit)
            if r is _NO_ORDER:
                return False  # the reference: not comparable is false, NOT or not
            result = False if r is None else check(r)
            return result != neg

        return order
    if op == "IN":
        return _set_predicate(cmp, pattern)
    if op == "LIKE":
        operand = unicodedata.normalize("NFC", literal_value(cmp.value))  # type: ignore[arg-type]
        regex = like_to_regex(operand)
        compiled = re.compile(regex)
        binary_ok = all(ord(c) < 256 for c in regex)

        def like(v: Any) -> bool:
            if type(v) is bytes and binary_ok:
                v = v.decode("utf8")
            if type(v) is str:
                return (compiled.match(unicodedata.normalize("NFC", v)) is not None) != neg
            return neg

        return like
    if op == "MATCHES":
        source = unicodedata.normalize("NFC", literal_value(cmp.value))  # type: ignore[arg-type]
        text_re = compile_regex(source, pattern, regex_timeout)
        bin_re = None
        if all(ord(c) < 256 for c in source):
            bin_re = compile_regex(source.encode("latin-1"), pattern, regex_timeout)

        def matches(v: Any) -> bool:
            if type(v) is str:
                return (text_re(unicodedata.normalize("NFC", v))) != neg
            if type(v) is bytes and bin_re is not None:
                return bin_re(v) != neg
            return neg

        return matches
    # ISSUBSET / ISSUPERSET
    net = literal_value(cmp.value)  # type: ignore[arg-type]
    subset = op == "ISSUBSET"

    def subnet(v: Any) -> bool:
        if type(v) is not str:
            return neg
        result = in_subnet(v, net, pattern) if subset else in_subnet(net, v, pattern)
        return result != neg

    return subnet


_ORDER_CHECKS: dict[str, Callable[[int], bool]] = {
    "<": lambda r: r < 0,
    ">": lambda r: r > 0,
    "<=": lambda r: r <= 0,
    ">=": lambda r: r >= 0,
}


def _set_predicate(cmp: Comparison, pattern: str) -> Predicate:
    lits = () if isinstance(cmp.value, Literal) else cmp.value
    values = [literal_value(lit) for lit in lits]
    if values:
        types = {type(v) for v in values}
        if len(types) > 1 and not types <= _INT_FLOAT:
            raise PatternMatchError(pattern, "an IN list mixes types")
    members = set(values)
    is_time = bool(values) and type(values[0]) is datetime.datetime
    neg = cmp.negated

    def in_set(v: Any) -> bool:
        if is_time:
            v = _as_time(v, pattern)
        try:
            result = v in members
        except TypeError:  # a list or an object is in no set of literals
            result = False
        return result != neg

    return in_set


# -- object paths -------------------------------------------------------------


def _suffixed(key: str, value: Any) -> Any:
    """``*_hex`` and ``*_bin`` properties hold binary data (STIX 2.1 §2.3, §2.4)."""
    if key.endswith("_hex"):
        return binascii.a2b_hex(value)
    if key.endswith("_bin"):
        return base64.standard_b64decode(value)
    return value


_KEY, _KEY_SUFFIXED, _REF, _REFS, _STAR_STEP, _INDEX = range(6)


def _plan(path: ObjectPath) -> list[tuple[int, Any]]:
    """The steps of a path as (kind, argument), decided once per pattern."""
    plan: list[tuple[int, Any]] = []
    for step in path.steps:
        key = step.key
        if key is None:
            if step.list_index == STAR:
                plan.append((_STAR_STEP, None))
            else:
                plan.append((_INDEX, step.list_index))
        elif key.endswith("_ref"):
            plan.append((_REF, key))
        elif key.endswith("_refs"):
            plan.append((_REFS, key))
        elif key.endswith(("_hex", "_bin")):
            plan.append((_KEY_SUFFIXED, key))
        else:
            plan.append((_KEY, key))
    return plan


def _selector(path: ObjectPath, pattern: str) -> Selector:
    """Per observation: root object id -> the values the path selects (non-empty)."""
    type_ = path.object_type
    plan = _plan(path)
    if len(plan) == 1 and plan[0][0] == _KEY:
        # The common case: one plain property ("domain-name:value").
        only = plan[0][1]

        def select_one(obs: Observation) -> dict[Any, list[Any]]:
            if obs.v21 and type_ in SDO_TYPES:
                return {}
            return {rid: [obj[only]] for rid, obj in obs.roots(type_) if only in obj}

        return select_one

    if all(kind == _KEY for kind, _ in plan):
        # Plain properties only ("file:hashes.'SHA-256'"): one value at most per root.
        keys = tuple(arg for _, arg in plan)

        def select_keys(obs: Observation) -> dict[Any, list[Any]]:
            out: dict[Any, list[Any]] = {}
            if obs.v21 and type_ in SDO_TYPES:
                return out
            for root_id, obj in obs.roots(type_):
                value = obj
                for key in keys:
                    if type(value) is dict and key in value:
                        value = value[key]
                    else:
                        break
                else:
                    out[root_id] = [value]
            return out

        return select_keys

    def select(obs: Observation) -> dict[Any, list[Any]]:
        out: dict[Any, list[Any]] = {}
        if obs.v21 and type_ in SDO_TYPES:
            return out
        for root_id, obj in obs.roots(type_):
            values: list[Any] = [obj]
            for kind, arg in plan:
                if kind == _KEY:
                    values = [v[arg] for v in values if type(v) is dict and arg in v]
                elif kind == _STAR_STEP:
                    values = [x for v in values if type(v) is list for x in v]
                elif kind == _INDEX:
                    values = [v[arg] for v in values if type(v) is list and 0 <= arg < len(v)]
                else:
                    values = [
                        _suffixed(arg, v[arg]) for v in values if type(v) is dict and arg in v
                    ]
                    if values and kind == _REF:
                        values = _deref(obs, values, arg, pattern)
                    elif values and kind == _REFS:
                        values = _deref_lists(obs, values, arg, pattern)
                if not values:
                    break
            if values:
                out[root_id] = values
        return out

    return select


def _deref(obs: Observation, refs: list[Any], key: str, pattern: str) -> list[Any]:
    out: list[Any] = []
    for ref in refs:
        if not isinstance(ref, str):
            raise PatternMatchError(pattern, f"the value of reference property {key!r} is {ref!r}")
        out.extend(obs.resolve(ref))
    return out


def _deref_lists(obs: Observation, lists: list[Any], key: str, pattern: str) -> list[Any]:
    out: list[Any] = []
    for refs in lists:
        if not isinstance(refs, list):
            raise PatternMatchError(pattern, f"reference list property {key!r} is {refs!r}")
        objs = _deref(obs, refs, key, pattern)
        if objs:
            out.append(objs)
    return out


def _comparison_test(expr: ComparisonExpr, pattern: str, timeout: float | None) -> Test:
    """The root sets per observation index for one comparison expression."""
    if isinstance(expr, CompoundComparison):
        lhs = _comparison_test(expr.lhs, pattern, timeout)
        rhs = _comparison_test(expr.rhs, pattern, timeout)
        if expr.op == "AND":

            def both(observations: list[Observation]) -> RootSets:
                a, b = lhs(observations), rhs(observations)
                out: RootSets = {}
                for idx, roots in a.items():
                    other = b.get(idx)
                    if other is not None:
                        common = roots & other
                        if common:
                            out[idx] = common
                return out

            return both

        def either(observations: list[Observation]) -> RootSets:
            a, b = lhs(observations), rhs(observations)
            for idx, roots in b.items():
                if idx in a:
                    a[idx] = a[idx] | roots
                else:
                    a[idx] = roots
            return a

        return either
    select = _selector(expr.path, pattern)
    if isinstance(expr, Exists):

        def exists(observations: list[Observation]) -> RootSets:
            out: RootSets = {}
            for idx, obs in enumerate(observations):
                found = select(obs)
                if found:
                    out[idx] = set(found)
            return out

        return exists
    pred = _predicate(expr, pattern, timeout)

    def test(observations: list[Observation]) -> RootSets:
        out: RootSets = {}
        for idx, obs in enumerate(observations):
            roots = {rid for rid, values in select(obs).items() if any(map(pred, values))}
            if roots:
                out[idx] = roots
        return out

    return test


# -- observation expressions -----------------------------------------------


def _disjoint(a: Binding, b: Binding) -> bool:
    return set(a).isdisjoint(b)


class _Eval:
    """The bindings of one observation expression over one list of observations."""

    def __init__(self, observations: list[Observation]) -> None:
        self.obs = observations

    def first(self, b: Binding) -> datetime.datetime:
        return max(self.obs[i].first for i, _ in b)

    def last(self, b: Binding) -> datetime.datetime:
        return min(self.obs[i].last for i, _ in b)


def _interleave(
    lhs: Iterator[Binding], rhs: Iterator[Binding], ok: Callable[[Binding, Binding], bool]
) -> Iterator[Binding]:
    """Pairs of bindings, drawn from both sides in turn (the reference's order)."""
    lhs_seen: list[Binding] = []
    rhs_seen: list[Binding] = []
    r, left = next(rhs, None), next(lhs, None)
    if r is None or left is None:
        return
    while r is not None or left is not None:
        if r is not None:
            for lb in lhs_seen:
                if ok(lb, r):
                    yield lb + r
            rhs_seen.append(r)
            r = next(rhs, None)
        if left is not None:
            for rb in rhs_seen:
                if ok(left, rb):
                    yield left + rb
            lhs_seen.append(left)
            left = next(lhs, None)


def _either(lhs: Iterator[Binding], rhs: Iterator[Binding]) -> Iterator[Binding]:
    left, r = next(lhs, None), next(rhs, None)
    while left is not None or r is not None:
        if left is not None:
            yield left
            left = next(lhs, None)
        if r is not None:
            yield r
            r = next(rhs, None)


class _NotEnough(Exception):
    def __init__(self, missing: int) -> None:
        self.missing = missing


def _combos_upper_bound(values: list[Binding]) -> int:
    """An upper bound of the size of a set of pairwise disjoint bindings."""
    if not values:
        return 0
    biggest = max(len(v) for v in values)
    by_size: list[set[tuple[int, int]]] = [set() for _ in range(biggest + 1)]
    for v in values:
        by_size[len(v)] |= set(v)
    used: set[tuple[int, int]] = set()
    total = 0
    for size in range(1, biggest):
        free = by_size[size] - used
        total += -(-len(free) // size)
        used |= free
    total += len(by_size[biggest] - used) // biggest
    return total


def _combos_of_list(
    values: list[Binding], k: int, spend: Callable[[int], None] | None
) -> Iterator[tuple[Binding, ...]]:
    if k == 1:
        for v in values:
            yield (v,)
        return
    if spend is not None:
        spend(len(values))
    bound = _combos_upper_bound(values)
    if bound < k:
        raise _NotEnough(k - bound)
    for i in range(len(values) + 1 - k):
        head = values[i]
        rest = [c for c in values[i + 1 :] if _disjoint(head, c)]
        produced = False
        try:
            for sub in _combos_of_list(rest, k - 1, spend):
                yield (head, *sub)
                produced = True
        except _NotEnough as exc:
            if produced:
                continue
            extra = min(len(values) - i - 1 - len(rest), len(head))
            missing = exc.missing + 1 - extra
            if missing > 0:
                if i == 0:
                    raise _NotEnough(missing) from None
                return


def _combos(
    values: Iterator[Binding], k: int, spend: Callable[[int], None] | None = None
) -> Iterator[tuple[Binding, ...]]:
    """Disjoint k-combinations in the reference's order (REPEATS)."""
    seen: list[Binding] = []
    for v in values:
        if len(seen) < k - 1:
            seen.append(v)
            continue
        rest = [c for c in seen if _disjoint(c, v)]
        try:
            for sub in _combos_of_list(rest, k - 1, spend):
                yield (*sub, v)
        except _NotEnough:
            pass
        seen.append(v)


def _within(intervals: list[tuple[datetime.datetime, datetime.datetime]], span: Any) -> bool:
    start = min(last for _, last in intervals)
    # first <= start + span, without the sum (past 9999-12-31 it overflows).
    return all(first - start <= span and start <= last for first, last in intervals)


def _starts_in(
    start: datetime.datetime, stop: datetime.datetime, first: datetime.datetime, last: Any
) -> bool:
    """Interval [first, last] overlaps [start, stop), as the reference decides."""
    if start == stop == first == last:
        return False
    if stop == first:
        return False
    if last == start:
        return True
    return first <= stop and start <= last


def _first_simple(
    root: SimpleObservation, pattern: str, timeout: float | None
) -> Callable[[list[Observation]], int | None] | None:
    """The index of the first observation a ``[...]`` of ORed comparisons selects.

    The reference's first binding is then the first observation of the leftmost
    comparison that selects any (its comparison maps keep that order). Only
    where no observation can make a comparison raise (the reference tests every
    observation, so an error in a later one would otherwise be missed): paths
    of plain properties and list steps, and operators and literals whose test
    of a JSON value never fails (no timestamp literal, no ISSUBSET/ISSUPERSET).
    None for any other expression.
    """
    leaves: list[Comparison] = []

    def collect(expr: ComparisonExpr) -> bool:
        if isinstance(expr, CompoundComparison):
            return expr.op == "OR" and collect(expr.lhs) and collect(expr.rhs)
        if not isinstance(expr, Comparison) or expr.op in ("ISSUBSET", "ISSUPERSET"):
            return False
        lits = (expr.value,) if isinstance(expr.value, Literal) else expr.value
        if any(lit.kind == "ts" for lit in lits):
            return False
        if not all(kind in (_KEY, _STAR_STEP, _INDEX) for kind, _ in _plan(expr.path)):
            return False
        leaves.append(expr)
        return True

    if not collect(root.expr):
        return None
    finders = [_leaf_first(c, pattern, timeout) for c in leaves]
    if len(finders) == 1:
        return finders[0]

    def first(observations: list[Observation]) -> int | None:
        for find in finders:
            idx = find(observations)
            if idx is not None:
                return idx
        return None

    return first


def _leaf_first(
    cmp: Comparison, pattern: str, timeout: float | None
) -> Callable[[list[Observation]], int | None]:
    plan = _plan(cmp.path)
    type_ = cmp.path.object_type
    pred = _predicate(cmp, pattern, timeout)
    sdo_type = type_ in SDO_TYPES
    if all(kind == _KEY for kind, _ in plan):
        keys = tuple(arg for _, arg in plan)

        def first_plain(observations: list[Observation]) -> int | None:
            for idx, obs in enumerate(observations):
                if sdo_type and obs.v21:
                    continue
                for _rid, obj in obs.roots(type_):
                    value = obj
                    for key in keys:
                        if type(value) is dict and key in value:
                            value = value[key]
                        else:
                            break
                    else:
                        if pred(value):
                            return idx
            return None

        return first_plain

    def first(observations: list[Observation]) -> int | None:
        for idx, obs in enumerate(observations):
            if sdo_type and obs.v21:
                continue
            for _rid, obj in obs.roots(type_):
                values: list[Any] = [obj]
                for kind, arg in plan:
                    if kind == _KEY:
                        values = [v[arg] for v in values if type(v) is dict and arg in v]
                    elif kind == _STAR_STEP:
                        values = [x for v in values if type(v) is list for x in v]
                    else:
                        values = [v[arg] for v in values if type(v) is list and 0 <= arg < len(v)]
                    if not values:
                        break
                if any(map(pred, values)):
                    return idx
        return None

    return first


class CompiledPattern:
    """A pattern compiled for repeated evaluation.

    Args:
        pattern: the parsed pattern.
        regex_timeout: seconds one MATCHES evaluation may take (None: no limit).
        max_steps: how many binding steps (pairings tried in AND/FOLLOWEDBY,
            candidates in REPEATS, instances) one evaluation may take before it
            raises :class:`PatternTooComplex` (None: no limit, as the reference).
    """

    def __init__(
        self,
        pattern: Pattern,
        *,
        regex_timeout: float | None = None,
        max_steps: int | None = None,
    ) -> None:
        self.pattern = pattern
        self.text = pattern.text
        self._timeout = regex_timeout
        self._error: PatternMatchError | None = None
        self._run: Callable[[list[Observation]], Iterator[Binding]] | None = None
        self.simple: Test | None = None
        self.first_simple: Callable[[list[Observation]], int | None] | None = None
        """For ``[path op value]`` whose test cannot raise: the first matching observation."""
        self.max_steps: int | None = None
        """Bound on the binding work of one evaluation (joins, REPEATS); None: none."""
        self._left = 0
        try:
            self.max_steps = max_steps
            self._run = self._compile(pattern.root)
            if isinstance(pattern.root, SimpleObservation):
                self.simple = _comparison_test(pattern.root.expr, self.text, regex_timeout)
                self.first_simple = _first_simple(pattern.root, self.text, regex_timeout)
        except PatternMatchError as exc:
            self._error = exc
        except PatternTooComplex:
            raise
        except re.error as exc:
            self._error = PatternMatchError(self.text, f"invalid regular expression: {exc}")

    def check(self) -> None:
        """Raise the error that every evaluation of this pattern would raise, if any."""
        if self._error is not None:
            raise self._error

    def bindings(self, observations: list[Observation]) -> Iterator[Binding]:
        """All bindings, in the reference's order.

        Raises:
            PatternMatchError: the pattern cannot be evaluated on these data.
        """
        if self._error is not None:
            raise self._error
        assert self._run is not None
        if self.max_steps is not None:
            self._left = self.max_steps
        return self._run(observations)

    def _spend(self, n: int) -> None:
        """Count binding work; over ``max_steps`` the evaluation is abandoned."""
        self._left -= n
        if self._left < 0:
            raise PatternTooComplex(self.text, f"an evaluation took over {self.max_steps} steps")

    def first(self, observations: list[Observation]) -> Binding | None:
        """The first binding, or None."""
        return next(self.bindings(observations), None)

    # -- compilation ----------------------------------------------------------
    def _compile(self, node: ObservationExpr) -> Callable[[list[Observation]], Iterator[Binding]]:
        if isinstance(node, Group):
            return self._compile(node.expr)
        if isinstance(node, SimpleObservation):
            test = _comparison_test(node.expr, self.text, self._timeout)

            def simple(observations: list[Observation]) -> Iterator[Binding]:
                found = test(observations)
                return (((i, n),) for i in found for n in range(observations[i].count))

            if self.max_steps is None:
                return simple

            def simple_bounded(observations: list[Observation]) -> Iterator[Binding]:
                for b in simple(observations):
                    self._spend(1)
                    yield b

            return simple_bounded
        if isinstance(node, ObservationOp):
            lhs, rhs = self._compile(node.lhs), self._compile(node.rhs)
            if node.op == "OR":
                return lambda obs: _either(lhs(obs), rhs(obs))
            bounded = self.max_steps is not None
            if node.op == "AND":
                if not bounded:
                    return lambda obs: _interleave(lhs(obs), rhs(obs), _disjoint)

                def both(a: Binding, b: Binding) -> bool:
                    self._spend(1)
                    return _disjoint(a, b)

                return lambda obs: _interleave(lhs(obs), rhs(obs), both)

            def followed_by(observations: list[Observation]) -> Iterator[Binding]:
                ev = _Eval(observations)

                def ok(a: Binding, b: Binding) -> bool:
                    if bounded:
                        self._spend(1)
                    return _disjoint(a, b) and ev.first(a) <= ev.last(b)

                return _interleave(lhs(observations), rhs(observations), ok)

            return followed_by
        assert isinstance(node, Qualified)
        inner = self._compile(node.expr)
        if node.kind == "REPEATS":
            count = literal_value(node.args[0])
            if count < 1:
                raise PatternMatchError(self.text, f"invalid REPEATS count: {count}")
            if count == 1:
                return inner

            spend = self._spend if self.max_steps is not None else None

            def repeats(observations: list[Observation]) -> Iterator[Binding]:
                for combo in _combos(inner(observations), count, spend):
                    yield tuple(x for b in combo for x in b)

            return repeats
        if node.kind == "WITHIN":
            seconds = literal_value(node.args[0])
            if seconds <= 0:
                raise PatternMatchError(self.text, f"invalid WITHIN value: {seconds}")
            # A WITHIN longer than timedelta can hold (some 2.7 million years) takes in
            # every span between two datetimes, as the reference's float comparison does.
            big = seconds >= _MAX_SPAN_SECONDS
            span = datetime.timedelta.max if big else datetime.timedelta(seconds=seconds)

            def within(observations: list[Observation]) -> Iterator[Binding]:
                for b in inner(observations):
                    spans = [(observations[i].first, observations[i].last) for i, _ in b]
                    if _within(spans, span):
                        yield b

            return within
        start, stop = literal_value(node.args[0]), literal_value(node.args[1])

        def start_stop(observations: list[Observation]) -> Iterator[Binding]:
            if not start < stop:
                return
            for b in inner(observations):
                if all(
                    _starts_in(start, stop, observations[i].first, observations[i].last)
                    for i, _ in b
                ):
                    yield b

        return start_stop


def compile_pattern(pattern: Pattern, *, regex_timeout: float | None = None) -> CompiledPattern:
    """Compile a parsed pattern (see :class:`CompiledPattern`)."""
    return CompiledPattern(pattern, regex_timeout=regex_timeout)
