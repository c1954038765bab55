"""The parser accepts exactly the OASIS STIX 2.1 pattern grammar (stix2-patterns as oracle)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2patterns.exceptions import ParseException
from stix2patterns.v21.pattern import Pattern as OasisPattern

from accord.exceptions import PatternError, PatternSyntaxError, PatternTooComplex
from accord.patterns import Limits, parse, validate
from accord.patterns._ast import Comparison, ObservationOp, Qualified, SimpleObservation


def _oasis_accepts(text: str) -> bool:
    try:
        OasisPattern(text)
    except ParseException:
        return False
    return True


def _accord_accepts(text: str) -> bool:
    try:
        parse(text)
    except PatternSyntaxError:
        return False
    return True


@pytest.mark.data
def test_grammar_cases_same_verdict_as_the_oasis_validator(shared_data: Path) -> None:
    cases = json.loads(
        (shared_data / "patterns" / "grammar-cases" / "stix2_patterns_v21_cases.json").read_text()
    )
    assert len(cases) == 87
    wrong = [c["pattern"] for c in cases if (not validate(c["pattern"])) != c["valid"]]
    assert wrong == []
    # and the grammar alone agrees with the reference parser on each
    for c in cases:
        assert _accord_accepts(c["pattern"]) == _oasis_accepts(c["pattern"]), c["pattern"]


@pytest.mark.data
def test_real_world_patterns_same_verdict(shared_data: Path) -> None:
    lines = (shared_data / "patterns" / "real_world_patterns.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 9788
    wrong = [r["pattern"] for r in records if (not validate(r["pattern"])) != r["valid_2_1"]]
    assert wrong == []


def test_precedence_and_associativity() -> None:
    p = parse("[a:b = 1] OR [a:c = 2] AND [a:d = 3] FOLLOWEDBY [a:e = 4]")
    root = p.root
    assert isinstance(root, ObservationOp) and root.op == "FOLLOWEDBY"
    assert isinstance(root.lhs, ObservationOp) and root.lhs.op == "OR"
    assert isinstance(root.lhs.rhs, ObservationOp) and root.lhs.rhs.op == "AND"
    q = parse("[a:b = 1] REPEATS 2 TIMES WITHIN 5 SECONDS").root
    assert isinstance(q, Qualified) and q.kind == "WITHIN"
    assert isinstance(q.expr, Qualified) and q.expr.kind == "REPEATS"


def test_paths_literals_and_quoting() -> None:
    root = parse(
        "[file:extensions.'windows-pebinary-ext'.sections[*].hashes.'SHA-256' = 'x\\'y\\\\']"
    ).root
    assert isinstance(root, SimpleObservation)
    c = root.expr
    assert isinstance(c, Comparison)
    assert c.path.key() == "file:extensions.windows-pebinary-ext.sections[*].hashes.SHA-256"
    assert c.value.text == "'x\\'y\\\\'"  # type: ignore[union-attr]
    kinds = {
        "h'0aff'": "hex",
        "b'AAE='": "bin",
        "t'2020-01-01T00:00:00.5Z'": "ts",
        "true": "bool",
        "-1": "int",
        "+.5": "float",
    }
    for text, kind in kinds.items():
        node = parse(f"[x:y = {text}]").root
        assert isinstance(node, SimpleObservation) and isinstance(node.expr, Comparison)
        assert node.expr.value.kind == kind  # type: ignore[union-attr]


def test_syntax_error_carries_position_and_expected() -> None:
    with pytest.raises(PatternSyntaxError) as info:
        parse("[file:size = ]")
    assert info.value.position == 13
    assert "StringLiteral" in info.value.expected
    assert "1:13" in str(info.value)
    with pytest.raises(PatternSyntaxError) as info:
        parse("[a:b = 1] WITHIN 5 HOURS")
    assert info.value.expected == ("SECONDS",)
    # errors survive pickling (they cross process boundaries)
    again = pickle.loads(pickle.dumps(info.value))
    assert isinstance(again, PatternSyntaxError)
    assert (again.position, again.expected) == (info.value.position, info.value.expected)
    # a caller catching what it caught from the reference (Exception) catches ours
    assert isinstance(info.value, ValueError) and isinstance(info.value, Exception)


def test_keywords_are_case_sensitive_and_timestamps_strict() -> None:
    assert not _accord_accepts("[a:b = 1] within 2 SECONDS")
    assert not _accord_accepts("[a:b = t'2024-02-30T00:00:99Z']")
    assert _accord_accepts("[a:b = t'2024-02-30T00:00:00Z']")  # lexes; no date (match time)
    assert not _accord_accepts("[a:b = b'']")  # BinaryLiteral needs at least one group


def test_complexity_limits() -> None:
    deep = "(" * 100 + "[a:b = 1]" + ")" * 100
    with pytest.raises(PatternTooComplex, match="nesting"):
        parse(deep)
    with pytest.raises(PatternTooComplex, match="IN list"):
        parse("[a:b IN (" + ", ".join(str(i) for i in range(20)) + ")]", Limits(max_set_size=10))
    with pytest.raises(PatternTooComplex, match="longer"):
        parse("[a:b = '" + "x" * 100 + "']", Limits(max_length=50))
    many = " OR ".join(f"a:b = {i}" for i in range(30))
    with pytest.raises(PatternTooComplex, match="comparisons"):
        parse(f"[{many}]", Limits(max_comparisons=20))
    # within the limits the same shapes parse
    parse("(" * 20 + "[a:b = 1]" + ")" * 20)
    assert isinstance(PatternTooComplex("p", "r"), PatternError)


# Pieces that compose into near-valid patterns; hypothesis mixes and mangles them.
_PIECES = [
    "[",
    "]",
    "(",
    ")",
    "file:name",
    "x-custom:a.'b-c'[*]",
    "a:b[0].c",
    "a:b[-1]",
    "=",
    "!=",
    "<",
    ">=",
    "NOT",
    "IN",
    "LIKE",
    "MATCHES",
    "ISSUBSET",
    "EXISTS",
    "AND",
    "OR",
    "FOLLOWEDBY",
    "WITHIN 5 SECONDS",
    "REPEATS 2 TIMES",
    "START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'",
    "'str'",
    "'a\\'b'",
    "1",
    "-2.5",
    "true",
    "h'0f'",
    "b'AAAA'",
    "t'2020-01-01T00:00:00Z'",
    "('a', 'b')",
    "()",
    ",",
    ":",
    ".",
    "*",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=12))
def test_same_verdict_as_oasis_on_generated_token_soup(pieces: list[str]) -> None:
    text = " ".join(pieces)
    assert _accord_accepts(text) == _oasis_accepts(text), text


_COMPARISONS = st.sampled_from(
    [
        "file:name = 'a'",
        "a:b[*].c != 1",
        "x:y NOT IN (1, 2)",
        "u:v LIKE 'a%'",
        "u:v NOT MATCHES '^a'",
        "i:p ISSUBSET '10.0.0.0/8'",
        "EXISTS a:b",
        "t:s > t'2020-01-01T00:00:00Z'",
    ]
)


@st.composite
def _patterns(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 2 or draw(st.booleans()):
        comps = draw(st.lists(_COMPARISONS, min_size=1, max_size=3))
        ops = draw(st.lists(st.sampled_from([" AND ", " OR "]), min_size=len(comps) - 1))
        body = comps[0] + "".join(op + c for op, c in zip(ops, comps[1:], strict=False))
        obs = f"[{body}]"
    else:
        lhs, rhs = draw(_patterns(depth + 1)), draw(_patterns(depth + 1))
        op = draw(st.sampled_from([" AND ", " OR ", " FOLLOWEDBY "]))
        obs = f"({lhs}{op}{rhs})"
    qual = draw(st.sampled_from(["", " WITHIN 10 SECONDS", " REPEATS 3 TIMES"]))
    return obs + qual


@settings(max_examples=150, deadline=None)
@given(_patterns())
def test_generated_valid_patterns_are_accepted_by_both(text: str) -> None:
    assert _oasis_accepts(text), text
    assert _accord_accepts(text), text


def test_repeats_count_is_bounded() -> None:
    parse("[a:b = 1] REPEATS 1000 TIMES")
    with pytest.raises(PatternTooComplex, match="REPEATS"):
        parse("[a:b = 1] REPEATS 1001 TIMES")
