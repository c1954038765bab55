"""A recursive-descent parser for STIX 2.1 patterns (STIX 2.1 §9).

It accepts exactly the language of the OASIS ANTLR grammar for STIX 2.1
(``stix2-patterns``), which is only a test-time oracle here: the ANTLR runtime
is far too slow for a million indicators. Precedence, weakest first:
``FOLLOWEDBY``, ``OR``, ``AND`` between observation expressions; qualifiers
bind to the expression just before them; ``OR`` then ``AND`` inside brackets.
All binary operators associate to the left.

Untrusted patterns are bounded before they can cost much: the length of the
text, the nesting depth, the number of comparisons and of IN-list members
and the REPEATS count (:class:`Limits`). Going over a limit raises
:class:`PatternTooComplex`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from accord.exceptions import PatternSyntaxError, PatternTooComplex
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
    Step,
)
from accord.patterns._lexer import Token, tokenize

__all__ = ["DEFAULT_LIMITS", "Limits", "parse", "parse_cached", "unquote"]


class Limits(NamedTuple):
    """Complexity limits for one pattern (an indicator from a partner is untrusted)."""

    max_length: int = 200_000
    max_depth: int = 64
    max_comparisons: int = 2_000
    max_set_size: int = 10_000
    max_repeats: int = 1_000


DEFAULT_LIMITS = Limits()

_PRIMITIVE = (
    "IntNegLiteral",
    "IntPosLiteral",
    "FloatNegLiteral",
    "FloatPosLiteral",
    "HexLiteral",
    "BinaryLiteral",
    "StringLiteral",
    "BoolLiteral",
    "TimestampLiteral",
)
_ORDERABLE = tuple(k for k in _PRIMITIVE if k != "BoolLiteral")
_KIND = {
    "IntNegLiteral": "int",
    "IntPosLiteral": "int",
    "FloatNegLiteral": "float",
    "FloatPosLiteral": "float",
    "HexLiteral": "hex",
    "BinaryLiteral": "bin",
    "StringLiteral": "str",
    "BoolLiteral": "bool",
    "TimestampLiteral": "ts",
}
_EQ_OPS = {"EQ": "=", "NEQ": "!="}
_ORDER_OPS = {"LT": "<", "GT": ">", "LE": "<=", "GE": ">="}
_STRING_OPS = ("LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET")
_COMPARISON_OPS = ("EQ", "NEQ", "LT", "GT", "LE", "GE", "IN", *_STRING_OPS)


def unquote(text: str) -> str:
    """The value of a string literal (STIX 2.1 §9, Constants: ``\\'`` and ``\\\\``)."""
    body = text[1:-1]
    if "\\" not in body:
        return body
    return body.replace("\\'", "'").replace("\\\\", "\\")


class _Parser:
    __slots__ = ("comparisons", "depth", "i", "limits", "text", "tokens")

    def __init__(self, text: str, limits: Limits) -> None:
        self.text = text
        self.limits = limits
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.comparisons = 0

    # -- helpers ---------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.i]

    def fail(self, expected: tuple[str, ...]) -> PatternSyntaxError:
        tok = self.tokens[self.i]
        shown = expected[0] if len(expected) == 1 else "{" + ", ".join(expected) + "}"
        found = tok.text
        reason = f"1:{tok.pos}: mismatched input '{found}' expecting {shown}"
        if tok.kind == "EOF" and self.i == 0:
            reason = "1:0: empty pattern"
        elif self.i == 0 and tok.kind != "LBRACK" and tok.kind != "LPAREN":
            reason = f"1:{tok.pos}: input is missing square brackets"
        return PatternSyntaxError(self.text, reason, position=tok.pos, expected=expected)

    def expect(self, *kinds: str) -> Token:
        tok = self.tokens[self.i]
        if tok.kind not in kinds:
            raise self.fail(kinds)
        self.i += 1
        return tok

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise PatternTooComplex(
                self.text, f"nesting deeper than {self.limits.max_depth} levels"
            )

    # -- observation expressions ------------------------------------------
    def pattern(self) -> Pattern:
        root = self.followed_by()
        self.expect("EOF")
        return Pattern(root, self.text)

    def followed_by(self) -> ObservationExpr:
        lhs = self.obs_or()
        while self.peek().kind == "FOLLOWEDBY":
            self.i += 1
            lhs = ObservationOp("FOLLOWEDBY", lhs, self.obs_or())
        return lhs

    def obs_or(self) -> ObservationExpr:
        lhs = self.obs_and()
        while self.peek().kind == "OR":
            self.i += 1
            lhs = ObservationOp("OR", lhs, self.obs_and())
        return lhs

    def obs_and(self) -> ObservationExpr:
        lhs = self.qualified()
        while self.peek().kind == "AND":
            self.i += 1
            lhs = ObservationOp("AND", lhs, self.qualified())
        return lhs

    def qualified(self) -> ObservationExpr:
        tok = self.peek()
        expr: ObservationExpr
        if tok.kind == "LBRACK":
            self.i += 1
            self.enter()
            expr = SimpleObservation(self.comparison_or(), tok.pos)
            self.depth -= 1
            self.expect("RBRACK")
        elif tok.kind == "LPAREN":
            self.i += 1
            self.enter()
            expr = Group(self.followed_by())
            self.depth -= 1
            self.expect("RPAREN")
        else:
            raise self.fail(("LBRACK", "LPAREN"))
        while True:
            tok = self.peek()
            if tok.kind == "WITHIN":
                self.i += 1
                n = self.expect("IntPosLiteral", "FloatPosLiteral")
                self.expect("SECONDS")
                expr = Qualified("WITHIN", expr, (_literal(n),), tok.pos)
            elif tok.kind == "REPEATS":
                self.i += 1
                n = self.expect("IntPosLiteral")
                self.expect("TIMES")
                if int(n.text) > self.limits.max_repeats:
                    raise PatternTooComplex(
                        self.text, f"REPEATS more than {self.limits.max_repeats} TIMES"
                    )
                expr = Qualified("REPEATS", expr, (_literal(n),), tok.pos)
            elif tok.kind == "START":
                self.i += 1
                start = self.expect("TimestampLiteral")
                self.expect("STOP")
                stop = self.expect("TimestampLiteral")
                expr = Qualified("START", expr, (_literal(start), _literal(stop)), tok.pos)
            else:
                return expr

    # -- comparison expressions -------------------------------------------
    def comparison_or(self) -> ComparisonExpr:
        lhs = self.comparison_and()
        while self.peek().kind == "OR":
            self.i += 1
            lhs = CompoundComparison("OR", lhs, self.comparison_and())
        return lhs

    def comparison_and(self) -> ComparisonExpr:
        lhs = self.prop_test()
        while self.peek().kind == "AND":
            self.i += 1
            lhs = CompoundComparison("AND", lhs, self.prop_test())
        return lhs

    def prop_test(self) -> ComparisonExpr:
        tok = self.peek()
        if tok.kind == "LPAREN":
            self.i += 1
            self.enter()
            inner = self.comparison_or()
            self.depth -= 1
            self.expect("RPAREN")
            return inner
        self.comparisons += 1
        if self.comparisons > self.limits.max_comparisons:
            raise PatternTooComplex(
                self.text, f"more than {self.limits.max_comparisons} comparisons"
            )
        if tok.kind == "EXISTS":
            self.i += 1
            return Exists(self.object_path())
        if tok.kind not in ("IdentifierWithoutHyphen", "IdentifierWithHyphen"):
            raise self.fail(("LPAREN", "EXISTS", "IdentifierWithoutHyphen", "IdentifierWithHyphen"))
        path = self.object_path()
        negated = self.peek().kind == "NOT"
        if negated:
            self.i += 1
        op = self.peek()
        self.i += 1
        if op.kind in _EQ_OPS:
            lit = self.expect(*_PRIMITIVE)
            return Comparison(path, _EQ_OPS[op.kind], negated, _literal(lit))
        if op.kind in _ORDER_OPS:
            lit = self.expect(*_ORDERABLE)
            return Comparison(path, _ORDER_OPS[op.kind], negated, _literal(lit))
        if op.kind == "IN":
            return Comparison(path, "IN", negated, self.set_literal())
        if op.kind in _STRING_OPS:
            lit = self.expect("StringLiteral")
            return Comparison(path, op.kind, negated, _literal(lit))
        self.i -= 1
        raise self.fail(_COMPARISON_OPS if negated else ("NOT", *_COMPARISON_OPS))

    def set_literal(self) -> tuple[Literal, ...]:
        self.expect("LPAREN")
        if self.peek().kind == "RPAREN":
            self.i += 1
            return ()
        members = [_literal(self.expect(*_PRIMITIVE))]
        while True:
            tok = self.expect("COMMA", "RPAREN")
            if tok.kind == "RPAREN":
                return tuple(members)
            members.append(_literal(self.expect(*_PRIMITIVE)))
            if len(members) > self.limits.max_set_size:
                raise PatternTooComplex(
                    self.text, f"an IN list of more than {self.limits.max_set_size} values"
                )

    def object_path(self) -> ObjectPath:
        type_tok = self.expect("IdentifierWithoutHyphen", "IdentifierWithHyphen")
        self.expect("COLON")
        first = self.expect("IdentifierWithoutHyphen", "StringLiteral")
        steps = [Step(first.text if first.kind != "StringLiteral" else unquote(first.text))]
        tokens = self.tokens
        while True:
            kind = tokens[self.i].kind
            if kind == "DOT":
                self.i += 1
                tok = self.expect("IdentifierWithoutHyphen", "StringLiteral")
                steps.append(Step(tok.text if tok.kind != "StringLiteral" else unquote(tok.text)))
            elif kind == "LBRACK":
                self.i += 1
                tok = self.expect("IntPosLiteral", "IntNegLiteral", "ASTERISK")
                self.expect("RBRACK")
                steps.append(Step(None, STAR if tok.kind == "ASTERISK" else int(tok.text)))
            else:
                return ObjectPath(type_tok.text, tuple(steps), type_tok.pos)


def _literal(tok: Token) -> Literal:
    return Literal(_KIND.get(tok.kind, tok.kind), tok.text, tok.pos)


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> Pattern:
    """Parse a STIX 2.1 pattern.

    Args:
        text: the pattern.
        limits: complexity limits.

    Raises:
        PatternSyntaxError: not the STIX 2.1 grammar (position, expected tokens).
        PatternTooComplex: over one of ``limits``.
    """
    if not isinstance(text, str):
        raise PatternSyntaxError(str(text), "a pattern is a string", expected=("string",))
    if len(text) > limits.max_length:
        raise PatternTooComplex(text[:80], f"longer than {limits.max_length} characters")
    return _Parser(text, limits).pattern()


@lru_cache(maxsize=4096)
def parse_cached(text: str) -> Pattern:
    """:func:`parse` with the default limits, remembered for repeated patterns."""
    return parse(text)
