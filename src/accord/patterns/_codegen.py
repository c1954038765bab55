"""One ``[...]`` observation expression written as a Python function, for ``match()``.

The interpreted evaluator (:mod:`accord.patterns._evaluate`) walks closures per
comparison, per observation and per root object; for one pattern against one
small input that walk costs more than the tests themselves. For the common
observation expressions (comparisons joined by ``OR``, and ``AND`` of
comparisons, inside one ``[...]``) this module writes one function instead:

- it loops over the prepared input's objects of the comparison's type only
  (:class:`accord.patterns._match.Prepared` keeps them by type; for an input of
  one observation, the common case, as plain tuples);
- each object path becomes nested ``if``/``for`` statements (plain keys, ``[*]``,
  ``[n]``, and one reference or ``_refs[*]`` on the root's own property), or,
  where steps can raise in another order, the evaluator's own step-by-step lists
  and helpers (`_deref`, `_suffixed`);
- the common tests are inline (a string or an integer compared with ``==``,
  membership of a string in a frozenset, an ASCII string against the compiled
  LIKE regex), each guarded by the value's exact type, and every other value goes
  through the evaluator's own test (`_predicate`), so the answers, the first
  binding and the errors are the evaluator's.

The source text depends on the expression's shape only (`_Leaf.shape`: the
operators, the kinds of the literals, the kinds of the path steps, and which
names are equal), and object types, keys and literals are arguments of a
factory, so the source is written and compiled once per shape; a pattern's
first call computes its shape and its values (by their roles) and calls the
cached factory. The values are the defaults of the generated functions (read as
local variables), and type names and keys are interned, so that dictionary
lookups find the very object the data's keys mostly are.

Where any test can raise (references that are not strings, a timestamp literal
against a string that is not one, ISSUBSET), every comparison is evaluated over
every object, in the evaluator's order, before the answer is chosen, as the
evaluator does; otherwise the function returns at the first binding. A
comparison whose path and test can both raise, and expressions with an ``OR``
inside an ``AND``, are left to the evaluator.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from typing import Any

from accord.patterns._ast import Comparison, ComparisonExpr, CompoundComparison, Exists, Literal
from accord.patterns._evaluate import (
    _INDEX,
    _KEY,
    _KEY_SUFFIXED,
    _REF,
    _REFS,
    _STAR_STEP,
    _deref,
    _deref_lists,
    _plan,
    _predicate,
    _suffixed,
)
from accord.patterns._values import like_to_regex, literal_value

__all__ = ["Runner", "compile_expression"]

Runner = Callable[[Any], list[dict[str, Any]]]
"""A compiled pattern for ``match()``: the prepared input to the matching SDOs."""

Leaf = Comparison | Exists

_HELPERS: dict[str, Any] = {
    "DEREF": _deref,
    "DEREFL": _deref_lists,
    "SUF": _suffixed,
}
_NAME = re.compile(r"\b[CF][0-9]+\b")  # the values and leaf functions a function uses
_FACTORIES: dict[str, Callable[..., Runner]] = {}
# expression shape (see _Leaf.shape) -> its factory and the roles of its values
_SHAPES: dict[tuple[Any, ...], tuple[Callable[..., Runner], list[Role]]] = {}
_FACTORIES_MAX = 1_024  # shapes


def _terms(expr: ComparisonExpr) -> list[list[Leaf]] | None:
    """The expression as ORed terms of ANDed comparisons, or None (an OR under an AND)."""
    if isinstance(expr, CompoundComparison) and expr.op == "OR":
        lhs, rhs = _terms(expr.lhs), _terms(expr.rhs)
        return None if lhs is None or rhs is None else lhs + rhs
    leaves = _conjuncts(expr)
    return None if leaves is None else [leaves]


def _conjuncts(expr: ComparisonExpr) -> list[Leaf] | None:
    if isinstance(expr, CompoundComparison):
        if expr.op != "AND":
            return None
        lhs, rhs = _conjuncts(expr.lhs), _conjuncts(expr.rhs)
        return None if lhs is None or rhs is None else lhs + rhs
    return [expr]


Role = tuple[Any, ...]
"""Where a value of the factory comes from: ("pred", leaf), ("lit", leaf),
("members", leaf), ("like", leaf), ("type", leaf), ("key", leaf, step),
("step", leaf, step) or ("pattern",); leaves are numbered in the expression's order."""


class _Source:
    """The factory's source text and where each of its values comes from, in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.roles: list[Role] = []
        self.names: dict[str, str] = {}
        self.tests: dict[tuple[int, str], str] = {}  # (leaf, variable) -> its test
        self.defs: list[tuple[int, str]] = []  # (line, name) of each inner function

    def const(self, *role: Any) -> str:
        self.roles.append(role)
        return f"C{len(self.roles) - 1}"

    def name(self, value: str, *role: Any) -> str:
        """A type name or a property key (one value for all its uses)."""
        name = self.names.get(value)
        if name is None:
            name = self.names[value] = self.const(*role)
        return name

    def line(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def define(self, name: str, args: str) -> None:
        """``def name(args, ...)``: the values and the functions before it as defaults."""
        self.defs.append((len(self.lines), name))
        self.line(1, f"def {name}({args}{{params}}):")


class _Leaf:
    """One comparison: its type, path steps, and whether its path or its test can raise."""

    def __init__(self, leaf: Leaf, pattern: str, index: int) -> None:
        self.leaf = leaf
        self.pattern = pattern
        self.index = index
        path = leaf.path
        self.type = path.object_type
        self.plan = _plan(path)
        self.path_raises = any(kind in (_REF, _REFS, _KEY_SUFFIXED) for kind, _ in self.plan)
        self.pred = None if isinstance(leaf, Exists) else _predicate(leaf, pattern, None)
        self.pred_raises = False
        if isinstance(leaf, Comparison):
            lits = (leaf.value,) if isinstance(leaf.value, Literal) else leaf.value
            self.pred_raises = (
                leaf.op in ("ISSUBSET", "ISSUPERSET")
                or any(lit.kind == "ts" for lit in lits)
                # LIKE decodes binary values (from _hex/_bin) as UTF-8
                or (leaf.op == "LIKE" and any(k == _KEY_SUFFIXED for k, _ in self.plan))
            )

    @property
    def raises(self) -> bool:
        return self.path_raises or self.pred_raises

    def shape(self, canon: Callable[[str], int]) -> tuple[Any, ...]:
        """What the generated source depends on: names only by which are equal."""
        steps = tuple(
            (kind, arg < 0 if kind == _INDEX else None if kind == _STAR_STEP else canon(arg))
            for kind, arg in self.plan
        )
        cmp = self.leaf
        if not isinstance(cmp, Comparison):
            return (canon(self.type), steps)
        if isinstance(cmp.value, Literal):
            kinds: tuple[str, ...] = (cmp.value.kind,)
        else:
            kinds = tuple(sorted({lit.kind for lit in cmp.value}))
        return (canon(self.type), steps, cmp.op, cmp.negated, kinds)


def _value(role: Role, leaves: list[_Leaf]) -> Any:
    """The value a role names, for this expression's leaves."""
    kind = role[0]
    leaf = leaves[role[1]] if len(role) > 1 else leaves[0]
    if kind == "pattern":
        return leaf.pattern
    if kind == "pred":
        return leaf.pred
    if kind == "type":
        # interned, as the data's keys mostly are: dict lookups find the very object
        return sys.intern(leaf.type)
    if kind == "key":
        return sys.intern(leaf.plan[role[2]][1])
    if kind == "step":
        return leaf.plan[role[2]][1]
    cmp = leaf.leaf
    assert isinstance(cmp, Comparison)
    if kind == "members":
        assert not isinstance(cmp.value, Literal)
        return frozenset(literal_value(lit) for lit in cmp.value)
    assert isinstance(cmp.value, Literal)
    if kind == "lit":
        return literal_value(cmp.value)
    assert kind == "like"
    operand = unicodedata.normalize("NFC", literal_value(cmp.value))
    return re.compile(like_to_regex(operand)).match


def _test(src: _Source, leaf: _Leaf, x: str) -> str:
    """An expression: whether value ``x`` passes the leaf's test (``NOT`` included).

    Each inline form is exact for values of the type it checks for; every other
    value goes through the evaluator's test.
    """
    key = (leaf.index, x)
    test = src.tests.get(key)
    if test is None:
        test = src.tests[key] = _new_test(src, leaf, x)
    return test


def _new_test(src: _Source, leaf: _Leaf, x: str) -> str:
    cmp = leaf.leaf
    if leaf.pred is None:
        return "True"
    assert isinstance(cmp, Comparison)
    pred = src.const("pred", leaf.index)
    fallback = f"{pred}({x})"
    op, neg = cmp.op, cmp.negated
    # the choices below rest on the literals' kinds only (a str literal's value is a
    # str, an int literal's an int), which _Leaf.shape keeps
    if op in ("=", "!=") and isinstance(cmp.value, Literal) and cmp.value.kind in ("str", "int"):
        flip = (op == "!=") != neg
        py_type = cmp.value.kind
        test = f"{x} {'!=' if flip else '=='} {src.const('lit', leaf.index)}"
        return f"({test} if type({x}) is {py_type} else {fallback})"
    if op == "IN" and not isinstance(cmp.value, Literal) and cmp.value:
        kinds = {lit.kind for lit in cmp.value}
        if kinds == {"str"} or kinds == {"int"}:
            py_type = "str" if kinds == {"str"} else "int"
            return (
                f"({x} {'not in' if neg else 'in'} {src.const('members', leaf.index)}"
                f" if type({x}) is {py_type} else {fallback})"
            )
    if op in ("<", ">", "<=", ">=") and isinstance(cmp.value, Literal):
        # ints with an int or float literal, strings with a string literal: Python's
        # order is the evaluator's (_cmp) for these types
        kind = cmp.value.kind
        if kind in ("int", "float", "str"):
            py_type = "str" if kind == "str" else "int"
            test = f"{x} {op} {src.const('lit', leaf.index)}"
            test = f"not ({test})" if neg else test
            return f"({test} if type({x}) is {py_type} else {fallback})"
    if op == "LIKE" and isinstance(cmp.value, Literal) and cmp.value.kind == "str":
        # an ASCII string is its own NFC form
        regex = src.const("like", leaf.index)
        return (
            f"({regex}({x}) is {'' if neg else 'not '}None"
            f" if type({x}) is str and {x}.isascii() else {fallback})"
        )
    return fallback


def _depth_first(leaf: _Leaf) -> bool:
    """Whether the path's values can be walked one at a time, as nested statements.

    So they can when no step can raise, or when the one step that can (a
    reference, ``_refs[*]``, ``_hex``/``_bin``) acts on the root's single value
    (plain keys before it): it then raises where the evaluator's step-by-step
    lists raise, and nothing after it can.
    """
    raising = [i for i, (kind, _) in enumerate(leaf.plan) if kind in (_REF, _REFS, _KEY_SUFFIXED)]
    if not raising:
        return True
    if len(raising) > 1:
        return False
    i = raising[0]
    if any(kind != _KEY for kind, _ in leaf.plan[:i]):
        return False
    # _refs without [*] gives lists of objects: left to the step-by-step form
    followed = i + 1 < len(leaf.plan) and leaf.plan[i + 1][0] == _STAR_STEP
    return leaf.plan[i][0] != _REFS or followed


def _walk(src: _Source, leaf: _Leaf, i: int, var: str, indent: int, hit: list[str]) -> None:
    """Nested statements over the values of a path (see `_depth_first`).

    The values come in the order the evaluator lists them; ``hit`` runs for the
    first that passes the test. A reference resolves in the observation ``obs``.
    """
    if i == len(leaf.plan):
        src.line(indent, f"if {_test(src, leaf, var)}:")
        for text in hit:
            src.line(indent + 1, text)
        return
    kind, arg = leaf.plan[i]
    nxt = f"v{i + 1}"
    if kind == _STAR_STEP:
        src.line(indent, f"if type({var}) is list:")
        src.line(indent + 1, f"for {nxt} in {var}:")
        _walk(src, leaf, i + 1, nxt, indent + 2, hit)
        return
    if kind == _INDEX:
        if arg < 0 or i == 0:  # nothing selected: a negative index, or a list step on the root
            src.line(indent, "pass")
            return
        index = src.const("step", leaf.index, i)
        src.line(indent, f"if type({var}) is list and len({var}) > {index}:")
        src.line(indent + 1, f"{nxt} = {var}[{index}]")
        _walk(src, leaf, i + 1, nxt, indent + 1, hit)
        return
    key = src.name(arg, "key", leaf.index, i)
    guard = f"{key} in {var}" if i == 0 else f"type({var}) is dict and {key} in {var}"
    src.line(indent, f"if {guard}:")
    if kind == _KEY:
        src.line(indent + 1, f"{nxt} = {var}[{key}]")
        _walk(src, leaf, i + 1, nxt, indent + 1, hit)
    elif kind == _KEY_SUFFIXED:
        src.line(indent + 1, f"{nxt} = SUF({key}, {var}[{key}])")
        _walk(src, leaf, i + 1, nxt, indent + 1, hit)
    elif kind == _REF:
        # the evaluator's errors, from its own helper, for a reference that is not a string
        src.line(indent + 1, f"r = {var}[{key}]")
        src.line(indent + 1, "if not isinstance(r, str):")
        src.line(indent + 2, f"DEREF(obs, [r], {key}, {src.const('pattern')})")
        src.line(indent + 1, f"for {nxt} in obs.resolve(r):")
        _walk(src, leaf, i + 1, nxt, indent + 2, hit)
    else:  # _refs[*]: the objects its references resolve to, in order
        assert kind == _REFS
        pattern = src.const("pattern")
        nxt = f"v{i + 2}"
        src.line(indent + 1, f"r = {var}[{key}]")
        src.line(indent + 1, "if not isinstance(r, list):")
        src.line(indent + 2, f"DEREFL(obs, [r], {key}, {pattern})")
        src.line(indent + 1, f"for {nxt} in DEREF(obs, r, {key}, {pattern}):")
        _walk(src, leaf, i + 2, nxt, indent + 2, hit)


def _leaf_function(src: _Source, leaf: _Leaf, name: str) -> None:
    """``def name(v0[, obs])``: whether a root object passes one comparison.

    A path that is not walked value by value (`_depth_first`) is evaluated step by
    step over lists of values, as the evaluator's selector does (every reference
    of a step resolved before the next step), and then tested. A path with
    references takes the root's observation, which resolves them.
    """
    src.define(name, "v0, obs" if leaf.path_raises else "v0")
    if _depth_first(leaf):
        _walk(src, leaf, 0, "v0", 2, ["return True"])
        src.line(2, "return False")
        return
    src.line(2, "vs = [v0]")
    for i, (kind, arg) in enumerate(leaf.plan):
        if kind == _STAR_STEP:
            src.line(2, "vs = [y for v in vs if type(v) is list for y in v]")
        elif kind == _INDEX:
            n = src.const("step", leaf.index, i)
            src.line(2, f"vs = [v[{n}] for v in vs if type(v) is list and 0 <= {n} < len(v)]")
        else:
            key = src.name(arg, "key", leaf.index, i)
            value = f"SUF({key}, v[{key}])" if kind == _KEY_SUFFIXED else f"v[{key}]"
            src.line(2, f"vs = [{value} for v in vs if type(v) is dict and {key} in v]")
            if kind in (_REF, _REFS):
                helper = "DEREF" if kind == _REF else "DEREFL"
                src.line(2, f"if vs: vs = {helper}(obs, vs, {key}, {src.const('pattern')})")
        src.line(2, "if not vs: return False")
    src.line(2, "for x in vs:")
    src.line(3, f"if {_test(src, leaf, 'x')}: return True")
    src.line(2, "return False")


class _Mode:
    """How the function body reads the prepared input: one observation, or several.

    One observation (the common input) has its objects by type as tuples
    (``Prepared.single``); several have (observation index, object) pairs
    (``Prepared.by_type``).
    """

    def __init__(self, single: bool) -> None:
        self.single = single
        self.target = "v0" if single else "idx, v0"
        self.obs = "O0" if single else "O[idx]"

    def found(self, idx: str) -> str:
        """The answer: the SDO of the observation ``idx`` (an expression) in a list."""
        return "[P.single_sdo]" if self.single else f"[O[{idx}].sdo]"


def _body(src: _Source, terms: list[list[_Leaf]], names: dict[int, str], mode: _Mode) -> None:
    exhaustive = any(leaf.raises for term in terms for leaf in term)
    if not exhaustive:
        # No test can raise: the first term to bind answers.
        for term in terms:
            if len({leaf.type for leaf in term}) > 1:
                continue  # one root object has one type: this term binds nothing
            src.line(
                2,
                f"for {mode.target} in T.get({src.name(term[0].type, 'type', term[0].index)}, E):",
            )
            if len(term) == 1:
                _walk(src, term[0], 0, "v0", 3, [f"return {mode.found('idx')}"])
            else:
                calls = " and ".join(f"{names[id(leaf)]}(v0)" for leaf in term)
                src.line(3, f"if {calls}:")
                src.line(4, f"return {mode.found('idx')}")
        src.line(2, "return []")
        return
    # Every comparison over every object, in the evaluator's order (its errors).
    results: dict[int, str] = {}
    for term in terms:
        for leaf in term:
            fn = names[id(leaf)]
            call = f"{fn}(v0, {mode.obs})" if leaf.path_raises else f"{fn}(v0)"
            objects = f"T.get({src.name(leaf.type, 'type', leaf.index)}, E)"
            if len(term) == 1:
                first = results[id(leaf)] = f"f{len(results)}"
                src.line(2, f"{first} = -1")
                src.line(2, f"for {mode.target} in {objects}:")
                if leaf.raises:
                    src.line(3, f"if {call} and {first} < 0:")
                    src.line(4, f"{first} = {'0' if mode.single else 'idx'}")
                else:
                    src.line(3, f"if {call}:")
                    src.line(4, f"{first} = {'0' if mode.single else 'idx'}")
                    src.line(4, "break")
            else:
                hits = results[id(leaf)] = f"h{len(results)}"
                src.line(2, f"{hits} = [{call} for {mode.target} in {objects}]")
    for term in terms:
        if len(term) == 1:
            first = results[id(term[0])]
            src.line(2, f"if {first} >= 0:")
            src.line(3, f"return {mode.found(first)}")
        elif len({leaf.type for leaf in term}) == 1:
            every = " and ".join(f"{results[id(leaf)]}[j]" for leaf in term)
            objects = f"T.get({src.name(term[0].type, 'type', term[0].index)}, E)"
            if mode.single:
                src.line(2, f"for j in range(len({objects})):")
            else:
                src.line(2, f"for j, (idx, _) in enumerate({objects}):")
            src.line(3, f"if {every}:")
            src.line(4, f"return {mode.found('idx')}")
    src.line(2, "return []")


def _source(terms: list[list[_Leaf]]) -> _Source:
    src = _Source()
    src.line(0, "def make(SLOW, E{params}):")
    names: dict[int, str] = {}  # id(leaf) -> its function, where it needs one
    exhaustive = any(leaf.raises for term in terms for leaf in term)
    for term in terms:
        for leaf in term:
            if exhaustive or len(term) > 1:
                names[id(leaf)] = f"F{len(names)}"
                _leaf_function(src, leaf, names[id(leaf)])
    src.define("run", "P, SLOW=SLOW, E=E")
    src.line(1, "    T = P.single")
    src.line(1, "    if T is not None:")
    if exhaustive:
        src.line(1, "        O0 = P.single_obs")
    at = len(src.lines)
    _body(src, terms, names, _Mode(single=True))
    src.lines[at:] = ["    " + line for line in src.lines[at:]]  # inside the if
    src.line(2, "T = P.by_type")
    src.line(2, "if T is None:")
    src.line(3, "return SLOW(P)")
    src.line(2, "O = P.observations")
    _body(src, terms, names, _Mode(single=False))
    src.line(1, "return run")
    return src


def compile_expression(expr: ComparisonExpr, pattern: str, slow: Runner) -> Runner | None:
    """A function evaluating one ``[...]`` expression on a prepared input, or None.

    Args:
        expr: the comparison expression inside the brackets.
        pattern: the pattern's text (for errors).
        slow: the interpreted evaluation, for inputs that could not be prepared
            by type.

    Returns:
        The function (prepared input to the SDOs of the first binding, as
        ``match()`` returns them), or None where the expression is left to the
        evaluator (see the module docstring).
    """
    terms = _terms(expr)
    if terms is None:
        return None
    flat: list[_Leaf] = []
    leaves = []
    for term in terms:
        leaves.append([_Leaf(leaf, pattern, len(flat) + i) for i, leaf in enumerate(term)])
        flat.extend(leaves[-1])
    if any(leaf.path_raises and leaf.pred_raises for leaf in flat):
        return None
    canon: dict[str, int] = {}
    shape = tuple(
        tuple(leaf.shape(lambda name: canon.setdefault(name, len(canon))) for leaf in term)
        for term in leaves
    )
    known = _SHAPES.get(shape)
    if known is None:
        if len(_SHAPES) >= _FACTORIES_MAX:
            _SHAPES.clear()
        known = _SHAPES[shape] = _factory(_source(leaves))
    factory, roles = known
    return factory(slow, (), *(_value(role, flat) for role in roles))


def _factory(src: _Source) -> tuple[Callable[..., Runner], list[Role]]:
    """The factory of one source text (compiled once), and the roles of its values."""
    # The values are the functions' defaults (locals, read without a closure cell);
    # each leaf function is a default of the functions after it.
    names = [f"C{i}" for i in range(len(src.roles))]
    src.lines[0] = src.lines[0].replace("{params}", "".join(f", {n}" for n in names))
    ends = [i for i, _ in src.defs[1:]] + [len(src.lines)]
    for (i, _), end in zip(src.defs, ends, strict=True):
        used = dict.fromkeys(_NAME.findall("\n".join(src.lines[i + 1 : end])))
        src.lines[i] = src.lines[i].replace("{params}", "".join(f", {n}={n}" for n in used))
    text = "\n".join(src.lines) + "\n"
    factory = _FACTORIES.get(text)
    if factory is None:
        if len(_FACTORIES) >= _FACTORIES_MAX:
            _FACTORIES.clear()
        namespace = dict(_HELPERS)
        # our own source text, built above
        exec(compile(text, "<accord pattern>", "exec"), namespace)
        factory = _FACTORIES[text] = namespace["make"]
    return factory, src.roles
