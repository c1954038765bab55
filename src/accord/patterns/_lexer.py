"""Tokens of the STIX 2.1 patterning language (STIX 2.1 §9, the OASIS grammar).

The OASIS grammar's lexer takes the longest token at each position, and among
tokens of equal length the rule written first. One regular expression with its
alternatives ordered so that the first that matches is also the longest does
the same here: a ``t'...'`` that is not a valid timestamp is the identifier
``t`` followed by a string (and a parse error), exactly as in the reference.
Keywords are case-sensitive in STIX 2.1 (``within`` is an identifier).
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["KEYWORDS", "Token", "tokenize"]

KEYWORDS = frozenset(
    """AND OR NOT FOLLOWEDBY LIKE MATCHES ISSUPERSET ISSUBSET EXISTS LAST IN START
    STOP SECONDS WITHIN REPEATS TIMES""".split()  # noqa: SIM905
)


class Token(NamedTuple):
    """A token: its kind (the grammar's symbolic name), text and offset."""

    kind: str
    text: str
    pos: int


_WS = "[ \t\r\n\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
_TS = (
    r"t'[0-9]{4}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z'"
)
_B64 = "[A-Za-z0-9+/]"
_BIN = f"b'(?:{_B64}{{4}})*(?:{_B64}{{4}}|{_B64}{{3}}=|{_B64}{{2}}==)'"
_SCAN = re.compile(
    "|".join(
        (
            f"(?P<WS>{_WS})",
            r"(?P<COMMENT>/\*.*?\*/|//[^\r\n]*)",
            f"(?P<TimestampLiteral>{_TS})",
            r"(?P<HexLiteral>h'(?:[0-9A-Fa-f]{2})*')",
            f"(?P<BinaryLiteral>{_BIN})",
            r"(?P<StringLiteral>'(?:[^'\\]|\\'|\\\\)*')",
            r"(?P<WORD>[a-zA-Z_][a-zA-Z0-9_-]*)",
            r"(?P<FLOAT>[+-]?[0-9]*\.[0-9]+)",
            r"(?P<INT>[+-]?(?:0|[1-9][0-9]*))",
            r"(?P<OP>==|!=|<>|<=|>=|[=<>'[\]():.,+\-^/*])",
            r"(?P<InvalidCharacter>.)",
        )
    ),
    re.DOTALL,
)
_OPS = {
    "=": "EQ",
    "==": "EQ",
    "!=": "NEQ",
    "<>": "NEQ",
    "<": "LT",
    "<=": "LE",
    ">": "GT",
    ">=": "GE",
    "'": "QUOTE",
    ":": "COLON",
    ".": "DOT",
    ",": "COMMA",
    ")": "RPAREN",
    "(": "LPAREN",
    "]": "RBRACK",
    "[": "LBRACK",
    "+": "PLUS",
    "-": "HYPHEN",
    "^": "POWER_OP",
    "/": "DIVIDE",
    "*": "ASTERISK",
}


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, white space and comments dropped, ending with EOF."""
    tokens: list[Token] = []
    append = tokens.append
    for m in _SCAN.finditer(text):
        kind = m.lastgroup
        value = m.group()
        pos = m.start()
        if kind == "WS" or kind == "COMMENT":
            continue
        if kind == "WORD":
            if value in KEYWORDS:
                kind = value
            elif value == "true" or value == "false":
                kind = "BoolLiteral"
            elif "-" in value:
                kind = "IdentifierWithHyphen"
            else:
                kind = "IdentifierWithoutHyphen"
        elif kind == "FLOAT":
            kind = "FloatNegLiteral" if value[0] == "-" else "FloatPosLiteral"
        elif kind == "INT":
            kind = "IntNegLiteral" if value[0] == "-" else "IntPosLiteral"
        elif kind == "OP":
            kind = _OPS[value]
        append(Token(kind or "InvalidCharacter", value, pos))
    append(Token("EOF", "<EOF>", len(text)))
    return tokens
