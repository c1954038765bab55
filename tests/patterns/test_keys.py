"""Index keys of STIX patterns: every non-negated equality, nothing else."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2patterns.v21.pattern import Pattern

from accord.patterns import pattern_observables
from accord.patterns._keys import _key

_MD5 = "d41d8cd98f00b204e9800998ecf8427e"

_CASES: list[tuple[str, list[tuple[str, str]]]] = [
    ("[domain-name:value = 'evil.example']", [("domain-name", "evil.example")]),
    ("[domain-name:value='Evil.Example.']", [("domain-name", "evil.example")]),
    ("[ipv4-addr:value = '10.0.0.1/32']", [("ipv4-addr", "10.0.0.1")]),
    ("[ipv6-addr:value = '2001:DB8::1']", [("ipv6-addr", "2001:db8::1")]),
    ("[url:value = 'http://evil.example/a b']", [("url", "http://evil.example/a b")]),
    ("[url:value = 'evil.example']", [("domain-name", "evil.example")]),  # no scheme: by shape
    ("[email-addr:value = 'A@B.example']", [("email-addr", "a@b.example")]),
    ("[mac-addr:value = 'D2:FB:49:24:37:18']", [("mac-addr", "d2:fb:49:24:37:18")]),
    ("[file:hashes.'SHA-256' = 'AB']", [("hash", "ab")]),
    ("[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']", [("hash", _MD5)]),
    ("[artifact:hashes.'SHA-1' = 'AA']", [("hash", "aa")]),
    (
        "[file:extensions.'windows-pebinary-ext'.sections[*].hashes.MD5 = 'AA']",
        [("hash", "aa")],
    ),
    ("[file:name = 'Evil.EXE']", [("file-name", "Evil.EXE")]),
    ("[mutex:name = 'Global\\\\x']", [("mutex", "Global\\x")]),
    (
        "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Run']",
        [("windows-registry-key", "hkey_local_machine\\software\\run")],
    ),
    ("[network-traffic:dst_ref.value = '10.0.0.1']", [("ipv4-addr", "10.0.0.1")]),
    ("[email-message:from_ref.value = 'Boss@Evil.Example']", [("email-addr", "boss@evil.example")]),
    ("[domain-name:resolves_to_refs[*].value = '10.0.0.2']", [("ipv4-addr", "10.0.0.2")]),
    ("[network-traffic:dst_ref.value = 'not a shape']", []),
    ("[process:command_line = 'evil.exe -x']", []),  # not an indexed path
    ("[file:size = 1024]", []),  # not a string
    ("[file:name LIKE 'evil%']", []),
    ("[file:name MATCHES '^evil']", []),
    ("[file:name != 'good.exe']", []),
    ("[file:name NOT = 'good.exe']", []),
    ("[ipv4-addr:value NOT IN ('10.0.0.1', '10.0.0.2')]", []),
    ("[file:hashes.MD5 = h'D41D8CD98F00B204E9800998ECF8427E']", []),  # not a plain string literal
    (
        "[ipv4-addr:value IN ('10.0.0.1', '10.0.0.2')]",
        [("ipv4-addr", "10.0.0.1"), ("ipv4-addr", "10.0.0.2")],
    ),
    ("[ipv4-addr:value in ('10.0.0.1','10.0.0.1')]", [("ipv4-addr", "10.0.0.1")]),  # deduplicated
    (
        "[file:name = 'a.exe' AND file:hashes.'SHA-256' = 'CC']"
        " OR [domain-name:value = 'x.example']",
        [("file-name", "a.exe"), ("hash", "cc"), ("domain-name", "x.example")],
    ),
    (
        "([file:name = 'a.exe'] FOLLOWEDBY [url:value = 'http://x/']) WITHIN 300 SECONDS",
        [("file-name", "a.exe"), ("url", "http://x/")],
    ),
    (
        "[domain-name:value = 'a.example']"
        " START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
        [("domain-name", "a.example")],
    ),
    # Text inside a string literal is never read as a comparison.
    (
        "[file:name = 'domain-name:value = \\'z.example\\'']",
        [("file-name", "domain-name:value = 'z.example'")],
    ),
    ("[process:command_line = 'x [domain-name:value = \\'z.example\\']']", []),
    ("[file:name = 'it\\'s']", [("file-name", "it's")]),
    ("[file:name = '']", []),
    # garbage
    ("", []),
    ("[", []),
    ("[domain-name:value = 'unterminated]", []),
    ("'''''", []),
    ("[x:y = 'a'] [[[ ((( IN (", []),
    ("[file:name = 'unterminated\\']", []),
    ("[file:name IN ('a', 'b\\')]", [("file-name", "a")]),
    ("[file:name = 'a'] OR [file:name = 'b", [("file-name", "a")]),
]


@pytest.mark.parametrize(("pattern", "expected"), _CASES)
def test_pattern_observables(pattern: str, expected: list[tuple[str, str]]) -> None:
    assert pattern_observables(pattern) == expected


def test_not_a_string() -> None:
    assert pattern_observables(None) == []  # type: ignore[arg-type]
    assert pattern_observables(["[file:name = 'a']"]) == []  # type: ignore[arg-type]


@settings(max_examples=2000, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("[]()'\\ =!:.-_*abcINOTfile:name domain-name:value 01"),
        max_size=80,
    )
)
def test_never_raises_on_pattern_like_garbage(text: str) -> None:
    keys = pattern_observables(text)
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in keys)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_never_raises_on_any_text(text: str) -> None:
    assert isinstance(pattern_observables(text), list)


@pytest.mark.parametrize(
    "hostile",
    [
        "[file:hashes." + "a." * 20_000 + " = " + "'\\" * 20_000,  # unterminated escapes
        " x:y = '" * 10_000 + "\\'" * 10_000,  # many comparisons into one endless literal
        " x:y IN ('a', " * 10_000 + "'\\'" * 10_000,
        "x:y" + "[z:w" * 20_000,  # paths inside paths
        "[" * 50_000,
        "'" * 50_000,
        " a:b" * 20_000,
    ],
)
def test_time_is_linear_on_hostile_input(hostile: str) -> None:
    """No quadratic rescanning: 50-100 kB of hostile input comes back at once."""
    started = time.perf_counter()
    assert isinstance(pattern_observables(hostile), list)
    assert time.perf_counter() - started < 0.5


def test_many_comparisons() -> None:
    many = " OR ".join(f"[ipv4-addr:value = '10.0.{i // 256}.{i % 256}']" for i in range(5_000))
    assert len(pattern_observables(many)) == 5_000


# --- differential: the OASIS grammar's own view of the comparisons --------------------------

_LIT_RE = re.compile(r"'(?:[^'\\]|\\.)*'")
_VALUE_TYPES = {"ipv4-addr", "ipv6-addr", "domain-name", "email-addr", "mac-addr", "url"}
_NAMED = {
    ("file", "name"): "file-name",
    ("mutex", "name"): "mutex",
    ("windows-registry-key", "key"): "windows-registry-key",
}


def _path_kind(obj_type: str, steps: list[str]) -> str:
    """The kind an object path indexes under, written from the module's table."""
    if "hashes" in steps:
        return "hash"
    if steps == ["value"] and obj_type in _VALUE_TYPES:
        return obj_type
    if len(steps) >= 2 and steps[-1] == "value" and steps[-2].endswith(("_ref", "_refs")):
        return "?"
    return _NAMED.get((obj_type, ".".join(steps)), "")


def _oracle(pattern: str) -> set[tuple[str, str]]:
    """Expected keys, from stix2-patterns' inspector (an ANTLR parse of the pattern).

    The grammar decides which comparisons there are, their operators (negation
    included) and their literals; only the value normalisation is ours (_key).
    """
    expected: set[tuple[str, str]] = set()
    for obj_type, comparisons in Pattern(pattern).inspect().comparisons.items():
        for path, op, literal in comparisons:
            if op not in ("=", "IN") or not literal.startswith(("'", "(")):
                continue
            kind = _path_kind(obj_type, [p for p in path if isinstance(p, str)])
            if not kind:
                continue
            for quoted in _LIT_RE.findall(literal):
                key = _key(kind, quoted[1:-1])
                if key is not None:
                    expected.add(key)
    return expected


@pytest.mark.data
def test_agrees_with_the_oasis_grammar_on_real_patterns(shared_data: Path) -> None:
    lines = (
        (shared_data / "patterns" / "real_world_patterns.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    cases = [json.loads(line) for line in lines]
    valid = [c["pattern"] for c in cases if c["valid_2_1"]]
    assert len(valid) > 9_000
    with_keys = 0
    for pattern in valid:
        ours = pattern_observables(pattern)
        assert set(ours) == _oracle(pattern), pattern
        with_keys += bool(ours)
    assert with_keys > 9_000


@pytest.mark.data
def test_oasis_grammar_cases(shared_data: Path) -> None:
    cases = json.loads(
        (shared_data / "patterns" / "grammar-cases" / "stix2_patterns_v21_cases.json").read_text()
    )
    assert len(cases) == 87
    for case in cases:
        keys = pattern_observables(case["pattern"])
        if case["valid"]:
            assert set(keys) == _oracle(case["pattern"]), case["pattern"]
        else:
            assert isinstance(keys, list)
