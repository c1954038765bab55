"""Semantic warnings, the validator's verdict, and ``accord pattern check``."""

from __future__ import annotations

from typer.testing import CliRunner

from accord.cli import app
from accord.patterns import explain, parse, validate, warnings_of

runner = CliRunner()


def test_warnings_name_paths_outside_stix_2_1_only() -> None:
    assert warnings_of(parse("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']")) == []
    assert warnings_of(parse("[x-acme:anything = 1 AND file:x_acme_prop = 2]")) == []
    w = warnings_of(parse("[file:colour = 'red' OR fiel:name = 'a']"))
    assert len(w) == 2
    assert "'colour' is not a property of file" in w[0]
    assert "'fiel' is not a STIX 2.1 cyber-observable type" in w[1]
    assert warnings_of(parse("[file:hashes.'SHA-256' = 'abc']")) == [
        "'abc' is not a valid SHA-256 hash"
    ]


def test_validate_is_the_oasis_verdict() -> None:
    assert validate("[file:name = 'a']") == []
    assert validate("[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS") == [
        "Duplicate qualifier type encountered: WITHIN"
    ]
    assert validate("([a:b = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS") == []
    assert validate("[a:b = ]")[0].startswith("1:7:")


def test_explain_shows_the_tree() -> None:
    text = explain(parse("[a:b = 1 AND a:c LIKE 'x%'] FOLLOWEDBY [d:e = 'f'] REPEATS 2 TIMES"))
    lines = text.splitlines()
    assert lines[0] == "FOLLOWEDBY (left before right)"
    assert "  observation [ ]" in lines
    assert any("REPEATS: repeated 2 times" in line for line in lines)
    assert any("a:c LIKE 'x%' (str)" in line for line in lines)


def test_cli_pattern_check() -> None:
    ok = runner.invoke(app, ["pattern", "check", "[fiel:name = 'a.exe']"])
    assert ok.exit_code == 0, ok.output
    assert "fiel:name = 'a.exe' (str)" in ok.output
    assert "warning: fiel:name: 'fiel' is not a STIX 2.1 cyber-observable type" in ok.output
    assert "valid STIX 2.1 pattern" in ok.output
    bad = runner.invoke(app, ["pattern", "check", "[file:size = ]"])
    assert bad.exit_code == 1
    assert "error: 1:13: mismatched input ']'" in bad.output
    assert "expected:" in bad.output and "StringLiteral" in bad.output
    dup = runner.invoke(app, ["pattern", "check", "[a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES"])
    assert dup.exit_code == 1
    assert "Duplicate qualifier type encountered: REPEATS" in dup.output
