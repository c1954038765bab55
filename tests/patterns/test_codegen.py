"""``match()``'s generated functions answer as the evaluator does, errors included.

The generated code (``accord.patterns._codegen``) is checked against the
interpreted evaluator it stands for, on generated patterns and observations
where the reference cannot serve as the oracle (references that are not
strings, ``_hex`` values that are not hex, several observations in one or
several bundles, the STIX 2.0 form): the same SDOs, or the same error with the
same message.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.exceptions import PatternError, PatternMatchError
from accord.patterns import compile_cached, match
from accord.patterns._ast import ComparisonExpr, SimpleObservation
from accord.patterns._codegen import compile_expression
from accord.patterns._match import _interpreted, _prepare
from accord.patterns._parser import parse
from tests.patterns.strategies import comparisons


def _answer(fn: Any) -> tuple[Any, ...]:
    try:
        found = fn()
    except (PatternError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("ok", [s.get("id") for s in found])


def _evaluator(pattern: str, sdos: list[Any], version: str) -> tuple[Any, ...]:
    def run() -> list[dict[str, Any]]:
        try:
            return _interpreted(compile_cached(pattern))(_prepare(sdos, version))
        except PatternError as exc:  # match() names the pattern in input errors
            if not exc.pattern:
                raise type(exc)(pattern, exc.reason) from exc
            raise

    return _answer(run)


_SCALARS = st.sampled_from(["a", "ab", "10.0.0.1", "2020-01-01T00:00:00Z", "é", 1, 1.5, True])


@st.composite
def _object(draw: st.DrawFn, type_: str, i: int) -> dict[str, Any]:
    refs = st.sampled_from(["t--0", "t--1", "u--0", "u--1", "nothing--0", 7])
    obj: dict[str, Any] = {"type": type_, "id": f"{type_}--{i}", "p": draw(_SCALARS)}
    for prop in draw(st.sets(st.sampled_from(["q", "x_ref", "x_refs", "p_hex"]))):
        if prop == "q":
            obj[prop] = draw(st.lists(_SCALARS, max_size=3))
        elif prop == "x_ref":
            obj[prop] = draw(refs)
        elif prop == "x_refs":
            obj[prop] = draw(st.one_of(st.lists(refs, max_size=3), refs))
        else:
            obj[prop] = draw(st.sampled_from(["61", "6162", "zz"]))
    return obj


@st.composite
def _bundles(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One to three observed-data in one or two bundles; ids may repeat across them."""
    objects: list[dict[str, Any]] = []
    for n in range(draw(st.integers(1, 3))):
        scos = [
            draw(_object(draw(st.sampled_from(["t", "u"])), i))
            for i in range(draw(st.integers(1, 3)))
        ]
        objects.append(
            {
                "type": "observed-data",
                "id": f"observed-data--{n}",
                "first_observed": "2020-01-01T00:00:00Z",
                "last_observed": "2020-01-01T00:00:01Z",
                "number_observed": 1,
                "object_refs": [o["id"] for o in scos],
            }
        )
        objects.extend(scos)
    if len(objects) > 1 and draw(st.booleans()):
        half = len(objects) // 2
        return [
            {"type": "bundle", "id": "bundle--1", "objects": objects[:half]},
            {"type": "bundle", "id": "bundle--2", "objects": objects[half:]},
        ]
    return [{"type": "bundle", "id": "bundle--1", "objects": objects}]


@st.composite
def _embedded(draw: st.DrawFn) -> list[dict[str, Any]]:
    """STIX 2.0 observed-data with their objects inside, keyed "t--0", "u--1", ..."""
    out = []
    for n in range(draw(st.integers(1, 2))):
        objs = [draw(_object(draw(st.sampled_from(["t", "u"])), i)) for i in range(3)]
        out.append(
            {
                "type": "observed-data",
                "id": f"observed-data--{n}",
                "first_observed": "2020-01-01T00:00:00Z",
                "last_observed": "2020-01-01T00:00:00Z",
                "number_observed": 1,
                "objects": {o.pop("id"): o for o in objs},
            }
        )
    return out


_PATHS = [
    "t:p",
    "u:p",
    "t:q[*]",
    "t:q[1]",
    "t:x_ref.p",
    "t:x_ref.q[*]",
    "t:x_refs[*].p",
    "t:x_refs[0].p",
    "t:x_refs.p",
    "t:x_ref.x_ref.p",
    "t:p_hex",
    "t:x_ref.p_hex",
    "observed-data:id",
]
_LITERALS = ["'a'", "'ab'", "1", "1.5", "true", "h'61'", "t'2020-01-01T00:00:00Z'"]


_comparison = partial(
    comparisons,
    _PATHS,
    _LITERALS,
    orderings=["<", ">="],
    members=["'a'", "'ab'", "1", "2"],
    min_members=1,
    likes=["%", "a_", "A%", "%b", "é"],
    subsets=["10.0.0.0/8"],
    exists=True,
)


@st.composite
def _pattern(draw: st.DrawFn) -> str:
    body = draw(_comparison())
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["AND", "OR"]))
        rhs = draw(_comparison())
        body = f"({body}) {op} {rhs}" if draw(st.booleans()) else f"{body} {op} {rhs}"
    return f"[{body}]"


@settings(max_examples=400, deadline=None)
@given(_pattern(), st.one_of(_bundles(), _embedded()))
def test_generated_code_answers_as_the_evaluator(pattern: str, sdos: list[dict[str, Any]]) -> None:
    version = "2.1"
    expected = _evaluator(pattern, sdos, version)
    assert _answer(lambda: match(pattern, sdos, False, version)) == expected, (pattern, sdos)
    # again, from the prepared input
    assert _answer(lambda: match(pattern, sdos, False, version)) == expected


def _od(n: int, refs: list[str]) -> dict[str, Any]:
    return {
        "type": "observed-data",
        "id": f"observed-data--{n}",
        "first_observed": "2020-01-01T00:00:00Z",
        "last_observed": "2020-01-01T00:00:00Z",
        "number_observed": 1,
        "object_refs": refs,
    }


_OBJECTS: list[dict[str, Any]] = [
    {
        "type": "t",
        "id": "t--0",
        "p": "ab",
        "q": ["a", 1, "10.0.0.1"],
        "p_hex": "61",
        "x_ref": "t--1",
    },
    {"type": "t", "id": "t--1", "p": "a", "q": [], "x_refs": ["t--0", "u--0"], "p_hex": "6162"},
    {"type": "u", "id": "u--0", "p": 1, "q": [1.5, True], "x_ref": "t--0"},
    {"type": "t", "id": "t--2", "p": "10.0.0.1", "x_ref": "nothing--0", "x_refs": ["t--1"]},
]
_INPUTS = {
    "one observation": [
        {
            "type": "bundle",
            "id": "bundle--1",
            "objects": [_od(0, [str(o["id"]) for o in _OBJECTS]), *_OBJECTS],
        }
    ],
    "three observations": [
        {
            "type": "bundle",
            "id": "bundle--1",
            "objects": [
                _od(0, ["u--0", "t--0"]),
                _od(1, ["t--1", "t--2"]),
                _od(2, ["t--0", "t--1"]),
                *_OBJECTS,
            ],
        }
    ],
}
_TABLE_PATHS = [
    "t:p",
    "u:p",
    "t:q[*]",
    "t:q[1]",
    "t:x_ref.p",
    "t:x_refs[*].p",
    "t:p_hex",
    "t:x_ref.q[*]",
]
_TABLE_TESTS = [
    "= 'a'",
    "!= 'a'",
    "NOT = 'ab'",
    "= 1",
    "!= 1",
    "= 1.5",
    "= h'61'",
    "> 'a'",
    "<= 'a'",
    "NOT >= 1",
    "< 2",
    "> 1.0",
    "IN ('a', 'ab')",
    "NOT IN ('a')",
    "IN (1, 2)",
    "LIKE 'a%'",
    "NOT LIKE '_b'",
    "LIKE '10.%'",
    "MATCHES '^a'",
    "NOT MATCHES 'b$'",
    "ISSUBSET '10.0.0.0/8'",
]


@pytest.mark.parametrize("name", list(_INPUTS))
def test_every_comparison_on_fixed_inputs(name: str) -> None:
    sdos = _INPUTS[name]
    patterns = [f"[{path} {test}]" for path in _TABLE_PATHS for test in _TABLE_TESTS]
    patterns += [f"[EXISTS {path}]" for path in _TABLE_PATHS]
    patterns += [
        "[t:p = 'x' OR t:q[*] = 1]",
        "[u:p = 1 OR t:p = 'a']",
        "[t:p = 'a' OR u:p = 1]",
        "[t:p = 'a' AND t:q[*] = 'a']",
        "[t:p = 'ab' AND t:q[*] = 'a']",
        "[t:p LIKE 'a%' AND t:p_hex = h'6162']",
        "[t:p = 'a' AND u:p = 1]",
        "[t:x_ref.p = 'a' OR t:p = 'ab']",
        "[t:p = 'ab' OR t:x_ref.p = 'zz']",
        "[t:p = 'ab' AND t:x_ref.p = 'a' OR u:p = 1]",
    ]
    answers = set()
    for pattern in patterns:
        expected = _evaluator(pattern, sdos, "2.1")
        assert _answer(lambda p=pattern: match(p, sdos)) == expected, pattern
        answers.add(str(expected[:2]))
    assert len(answers) >= 3  # matches, non-matches and errors, not one answer throughout


def _expr(pattern: str) -> ComparisonExpr:
    root = parse(pattern).root
    assert isinstance(root, SimpleObservation)
    return root.expr


@pytest.mark.parametrize(
    "pattern",
    [
        "[t:p = 'a']",
        "[t:p = 'a' OR u:p = 1]",
        "[t:p = 'a' AND t:q[*] = 'b']",
        "[t:x_ref.p = 'a']",
        "[t:x_refs[*].p LIKE 'a%']",
        "[t:p_hex = h'61' OR t:p ISSUBSET '10.0.0.0/8']",
        "[EXISTS t:p AND t:p != 'b']",
    ],
)
def test_the_common_shapes_are_generated(pattern: str) -> None:
    assert compile_expression(_expr(pattern), pattern, lambda p: []) is not None


@pytest.mark.parametrize(
    "pattern",
    [
        "[(t:p = 'a' OR t:p = 'b') AND t:q[*] = 'c']",  # OR under AND: the evaluator's order
        "[t:x_ref.p ISSUBSET '10.0.0.0/8']",  # the path and the test can both raise
    ],
)
def test_other_shapes_are_left_to_the_evaluator(pattern: str) -> None:
    assert compile_expression(_expr(pattern), pattern, lambda p: []) is None


def test_an_input_of_objects_without_ids_is_refused_by_both_paths() -> None:
    # Observed data is untrusted: a STIX 2.1 bundle's objects need ids (found by fuzzing)
    od = {
        "type": "observed-data",
        "first_observed": "2020-01-01T00:00:00Z",
        "last_observed": "2020-01-01T00:00:00Z",
        "number_observed": 1,
        "object_refs": [],
    }
    sdos = [{"type": "bundle", "id": "bundle--1", "objects": [od]}]
    with pytest.raises(PatternMatchError, match="needs an 'id'"):
        _prepare(sdos, "2.1")
    answer = _answer(lambda: match("[t:p = 'a']", sdos))
    assert answer[:2] == ("error", "PatternMatchError")
    assert answer == _evaluator("[t:p = 'a']", sdos, "2.1")


def test_one_shape_is_written_once_and_takes_each_pattern_s_values() -> None:
    from accord.patterns import _codegen

    sdos = _INPUTS["three observations"]
    assert match("[t:p = 'a' OR t:q[*] = 1]", sdos)
    shapes, factories = len(_codegen._SHAPES), len(_codegen._FACTORIES)
    # the same shape: other types, keys and values
    assert not match("[u:q = 'zz' OR u:p[*] = 7]", sdos)
    assert [s["objects"][0]["id"] for s in match("[t:p = 'a' OR t:q[*] = 2]", sdos)] == [
        "observed-data--1"
    ]
    assert (len(_codegen._SHAPES), len(_codegen._FACTORIES)) == (shapes, factories)
    # which names are equal is part of the shape: one key twice is another shape
    assert match("[t:p = 'zz' OR t:p = 'a']", sdos)
    assert len(_codegen._SHAPES) == shapes + 1


def test_a_changed_input_is_prepared_again() -> None:
    first: dict[str, Any] = {"type": "bundle", "id": "bundle--1"}
    first["objects"] = [_od(0, ["t--0"]), _OBJECTS[0]]
    second: dict[str, Any] = {"type": "bundle", "id": "bundle--2"}
    second["objects"] = [_od(1, ["t--1"]), _OBJECTS[1]]
    sdos = [first, second]  # two bundles: the general reuse check
    assert [s["objects"][0]["id"] for s in match("[t:p = 'a']", sdos)] == ["observed-data--1"]
    second["objects"] = [_od(1, ["t--2"]), _OBJECTS[3]]  # a new objects list
    assert match("[t:p = 'a']", sdos) == []
    sdos.append({"type": "bundle", "id": "bundle--3", "objects": [_od(2, ["t--1"]), _OBJECTS[1]]})
    assert [s["objects"][0]["id"] for s in match("[t:p = 'a']", sdos)] == ["observed-data--2"]
    one: list[dict[str, Any]] = [{"type": "bundle", "id": "bundle--1"}]
    one[0]["objects"] = [_od(0, ["t--0"]), _OBJECTS[0]]
    assert match("[t:p = 'ab']", one)
    one[0]["objects"].append(_OBJECTS[1])  # the same list, longer
    one[0]["objects"][0]["object_refs"] = ["t--1"]
    assert not match("[t:p = 'ab']", one)
    one[0] = {"type": "bundle", "id": "bundle--1", "objects": [_od(0, ["t--0"]), _OBJECTS[0]]}
    assert match("[t:p = 'ab']", one)  # another bundle in the same list
    # the same list read as STIX 2.0 (observed-data SDOs) is another input: a bundle is none
    as_20 = _answer(lambda: match("[t:p = 'ab']", one, False, "2.0"))
    assert as_20[:2] == ("error", "PatternMatchError")
    assert as_20 == _evaluator("[t:p = 'ab']", one, "2.0")
