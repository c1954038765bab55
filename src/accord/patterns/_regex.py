"""MATCHES regular expressions, bounded (STIX 2.1 §9, Comparison Operators: PCRE, searched).

Two guards keep a hostile regex from stalling a matcher:

- :func:`check_regex`, at ``Matcher.add``: nested unbounded repetition
  (``(a+)+``, ``(a|b*)*``: star height 2, the classic catastrophic shapes),
  back-references and over-long expressions are refused;
- :func:`compile_regex` with a time limit: each search runs in the ``regex``
  module with a timeout, and going over it raises :class:`PatternTooComplex`
  (the compiled matcher then flags the indicator and skips it). Without a
  limit (``match()``, the reference-exact path) Python's ``re`` is used.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from accord.exceptions import PatternTooComplex

# CPython's own regular-expression parser (private, and absent from newer typeshed stubs).
_sre_parser: Any = importlib.import_module("re._parser")

try:  # the regex module has per-call timeouts; re does not
    import regex as _regex_mod  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - a declared dependency
    _regex_mod = None

__all__ = ["MAX_REGEX_LENGTH", "check_regex", "compile_regex", "required_literal"]

MAX_REGEX_LENGTH = 4_096

_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


def _walk(items: Any, inside_repeat: bool) -> str | None:
    """Why a parsed regex is risky, or None."""
    for op, arg in items:
        name = str(op)
        if name in _REPEATS:
            _lo, hi, sub = arg
            unbounded = hi > 1
            if unbounded and inside_repeat and name != "POSSESSIVE_REPEAT":
                return "nested repetition (catastrophic backtracking)"
            reason = _walk(sub, inside_repeat or (unbounded and name != "POSSESSIVE_REPEAT"))
            if reason:
                return reason
        elif name in ("GROUPREF", "GROUPREF_EXISTS"):
            return "back-references"
        elif name == "SUBPATTERN":
            reason = _walk(arg[-1], inside_repeat)
            if reason:
                return reason
        elif name == "BRANCH":
            for branch in arg[1]:
                reason = _walk(branch, inside_repeat)
                if reason:
                    return reason
        elif name in ("ASSERT", "ASSERT_NOT", "ATOMIC_GROUP"):
            sub = arg[-1] if isinstance(arg, tuple) else arg
            reason = _walk(sub, inside_repeat)
            if reason:
                return reason
    return None


def check_regex(source: str, pattern: str = "") -> None:
    """Refuse a MATCHES operand that could backtrack catastrophically.

    Raises:
        PatternTooComplex: too long, nested repetition, or back-references.
        re.error: not a regular expression.
    """
    if len(source) > MAX_REGEX_LENGTH:
        raise PatternTooComplex(pattern, f"a MATCHES expression over {MAX_REGEX_LENGTH} chars")
    parsed = _sre_parser.parse(source)
    reason = _walk(parsed.data, False)
    if reason:
        raise PatternTooComplex(pattern, f"MATCHES {source!r}: {reason}")


def compile_regex(
    source: str | bytes, pattern: str, timeout: float | None
) -> Callable[[Any], bool]:
    """A search function for ``source``; with ``timeout`` each search is bounded.

    Raises:
        re.error: not a regular expression.
    """
    compiled = re.compile(source)
    if timeout is None or _regex_mod is None:
        search = compiled.search
        return lambda value: search(value) is not None
    try:
        bounded = _regex_mod.compile(source)
    except _regex_mod.error:  # a construct only re reads: no time limit for it
        search = compiled.search
        return lambda value: search(value) is not None
    bounded_search = bounded.search

    def timed(value: Any) -> bool:
        try:
            return bounded_search(value, timeout=timeout) is not None
        except TimeoutError as exc:
            raise PatternTooComplex(pattern, f"a MATCHES evaluation took over {timeout} s") from exc

    return timed


def required_literal(source: str) -> str | None:
    """The longest run of literal characters every match of ``source`` contains, or None.

    Only the top level counts (not inside groups, alternatives or repetitions),
    and nothing is claimed for case-insensitive expressions. The compiled
    matcher tests it with ``in`` before running the regex: most values fail.
    """
    try:
        parsed = _sre_parser.parse(source)
    except re.error:
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    best, run = "", []
    for op, arg in parsed.data:
        if str(op) == "LITERAL":
            run.append(chr(arg))
            continue
        if str(op) == "BRANCH":
            return None
        best = max(best, "".join(run), key=len)
        run = []
    best = max(best, "".join(run), key=len)
    return best if len(best) >= 2 else None
