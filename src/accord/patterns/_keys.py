"""Index keys of a STIX pattern: the values it tests for equality (STIX 2.1 §9).

:func:`pattern_observables` runs on every indicator at ingest, so it is one
compiled regular expression, not a parser (the parser is elsewhere). It finds
each comparison ``<object path> = '<string>'`` and ``<object path> IN ('a', 'b')``
that is not negated (``NOT =``, ``NOT IN``, ``!=`` are skipped, as are ``LIKE``,
``MATCHES`` and the ordering operators), and maps the object path to a kind of
the value index:

==================================================  ==========================================
object path                                         kind
==================================================  ==========================================
``ipv4-addr:value``, ``ipv6-addr:value``,           the object type
``domain-name:value``, ``email-addr:value``,
``mac-addr:value``, ``url:value``
any path through ``hashes`` (``file:hashes.MD5``,   ``hash``
``artifact:hashes.'SHA-256'``, extension hashes)
``file:name``                                       ``file-name``
``mutex:name``                                      ``mutex``
``windows-registry-key:key``                        ``windows-registry-key``
``...*_ref.value``, ``...*_refs[*].value``          guessed from the value's shape
==================================================  ==========================================

A ``url:value`` without a scheme (``evil.example``, seen in real feeds) is
indexed by its shape too, so a search for the domain finds it.

String literals are consumed whole by the scanner, so text inside a quoted
string (``'x = \\'y\\''``) is never read as a comparison. Only plain string
literals are keys: numbers, booleans and ``b''``/``h''``/``t''`` literals are not.
The function never raises; on a malformed pattern it returns what it could find.
"""

from __future__ import annotations

import re

from accord.stix import _normalize

__all__ = ["pattern_observables"]

# Possessive quantifiers throughout, so nothing is ever re-scanned by
# backtracking. A string literal is a quote, characters or backslash escapes,
# and a quote; the scanner also accepts one that runs to the end of the input (a
# malformed pattern), so that every alternative entering a literal either
# matches or consumes the rest: no position is scanned twice, and the time stays
# linear in the pattern's length whatever the input.
_BODY = r"[^'\\]*+(?:\\.[^'\\]*+)*+"
_LIT_OR_REST = "'" + _BODY + r"(?:'|\\?\Z)"
# An object path: type, colon, then properties, 'quoted keys' and [n] or [*].
_PATH = r"[a-z0-9][a-z0-9-]*+:[\w-]++(?:\.(?:[\w-]++|'[^'\\]*+')|\[(?:\d++|\*)\])*+"
# One comparison (an object path comes after "[", "(" or white space), or any
# string literal, consumed whole so that its contents are never read as syntax.
# Groups: path, NOT, the "=" literal, the IN list.
_SCAN_RE = re.compile(
    r"[\[(\s](" + _PATH + r")\s*+(?:((?i:NOT))\s++)?+"
    r"(?:=\s*+(" + _LIT_OR_REST + r")"
    r"|(?i:IN)\s*+\(\s*+((?:" + _LIT_OR_REST + r"\s*+,\s*+)*+" + _LIT_OR_REST + "))"
    r"|" + _LIT_OR_REST
)
# The common case (94 % of 9,788 real patterns): one equality, one match, no scan.
_SIMPLE_RE = re.compile(r"\[\s*+(" + _PATH + r")\s*+=\s*+'(" + _BODY + r")'\s*+\]\Z")
_LIT_RE = re.compile(_LIT_OR_REST)
_UNESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_REF_VALUE_RE = re.compile(r"_ref\.value\Z|_refs\[(?:\d+|\*)\]\.value\Z")

_VALUE_TYPES = frozenset(("ipv4-addr", "ipv6-addr", "domain-name", "email-addr", "mac-addr", "url"))
_NAMED = {
    "file:name": "file-name",
    "mutex:name": "mutex",
    "windows-registry-key:key": "windows-registry-key",
}
_GUESS = "?"  # the kind is guessed from the value

# Kinds whose values are normalised without guessing (url is not: a url without
# a scheme is guessed), with their normaliser.
_DIRECT = {
    kind: _normalize.normalizer(kind)
    for kind in ("ipv4-addr", "ipv6-addr", "domain-name", "email-addr", "mac-addr", "hash")
} | {kind: _normalize.normalizer(kind) for kind in _NAMED.values()}

_KINDS: dict[str, str] = {}
_KINDS_LIMIT = 10_000


def _kind_of(path: str) -> str:
    """The value-index kind for an object path; "" when the path is not indexed."""
    kind = _KINDS.get(path)
    if kind is not None:
        return kind
    obj_type, _, prop = path.partition(":")
    if prop == "value" and obj_type in _VALUE_TYPES:
        kind = obj_type
    elif prop.startswith("hashes") or ".hashes" in prop or "].hashes" in prop:
        kind = "hash"
    elif _REF_VALUE_RE.search(prop):
        kind = _GUESS
    else:
        kind = _NAMED.get(path, "")
    if len(_KINDS) >= _KINDS_LIMIT:
        _KINDS.clear()
    _KINDS[path] = kind
    return kind


def _key(kind: str, literal: str) -> tuple[str, str] | None:
    """Turn a literal's body (no quotes) found under ``kind`` into an index key."""
    if "\\" in literal:
        literal = _UNESCAPE_RE.sub(r"\1", literal)
    if kind == _GUESS or (kind == "url" and "://" not in literal):
        guessed, value = _normalize.guess(literal)
        if not guessed:
            return ("url", value) if kind == "url" and value else None
        return (guessed, value) if value else None
    value = _normalize.normalize(kind, literal)
    return (kind, value) if value else None


def _closed(literal: str) -> bool:
    """Whether a scanned literal ends with its own (unescaped) closing quote."""
    if len(literal) < 2 or literal[-1] != "'":
        return False
    body = literal[1:-1]
    return (len(body) - len(body.rstrip("\\"))) % 2 == 0


def pattern_observables(pattern: str) -> list[tuple[str, str]]:
    """The ``(kind, normalised value)`` pairs a STIX pattern tests for equality.

    Args:
        pattern: a STIX pattern, e.g. ``[domain-name:value = 'evil.example']``.

    Returns:
        The keys in order of appearance, without duplicates; ``[]`` when there
        are none or the input is not a string.
    """
    if type(pattern) is not str:
        return []
    m = _SIMPLE_RE.match(pattern)
    if m is not None:
        path, literal = m.groups()
        kind = _KINDS.get(path)
        if kind is None:
            kind = _kind_of(path)
        if not kind:
            return []
        normalize = _DIRECT.get(kind)
        if normalize is not None and "\\" not in literal:  # the common case, inline
            value = normalize(literal.strip())
            return [(kind, value)] if value else []
        key = _key(kind, literal)
        return [key] if key is not None else []
    found: list[tuple[str, str]] = []
    for path, negated, literal, members in _SCAN_RE.findall(pattern):
        if not path or negated:  # a bare literal, or a negated comparison
            continue
        kind = _kind_of(path)
        if not kind:
            continue
        for lit in (literal,) if literal else _LIT_RE.findall(members):
            if _closed(lit):
                key = _key(kind, lit[1:-1])
                if key is not None:
                    found.append(key)
    if len(found) > 1:
        found = list(dict.fromkeys(found))
    return found
