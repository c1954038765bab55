"""Values of the patterning language: literals, timestamps, IP ranges, LIKE.

The rules follow the OASIS reference matcher wherever the specification leaves
room (STIX 2.1 §9, Comparison Operators): which types compare, how a string compares with
binary data, how a timestamp string in the data is read.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import ipaddress
import re
from functools import lru_cache
from typing import Any

from accord.exceptions import PatternMatchError
from accord.patterns._ast import Literal
from accord.patterns._parser import unquote

__all__ = [
    "in_subnet",
    "inet_aton",
    "like_to_regex",
    "literal_value",
    "parse_timestamp",
]

_UTC = datetime.UTC
_CANONICAL = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?Z"
)


@lru_cache(maxsize=65536)
def parse_timestamp(text: str) -> datetime.datetime:
    """A STIX timestamp (``YYYY-MM-DDTHH:MM:SS[.s+]Z``) as an aware datetime.

    Upper-case ``T`` and ``Z`` are required; more than six fractional digits
    are cut to six (Python's datetimes hold microseconds).

    Raises:
        ValueError: not such a timestamp.
    """
    found = _CANONICAL.fullmatch(text) if type(text) is str else None
    if found is not None:
        # The usual form, read without strptime (which costs more than the rest
        # of preparing an observation); anything else, and any value out of
        # range, goes the strptime way below, which decides (and words the error).
        year, month, day, hour, minute, second, frac = found.groups()
        try:
            return datetime.datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second),
                int(frac[:6].ljust(6, "0")) if frac else 0,
                _UTC,
            )
        except ValueError:
            pass
    if any(c.islower() for c in text):
        raise ValueError(f"invalid timestamp (upper case T and Z required): {text}")
    if "." in text:
        head, _, frac = text.partition(".")
        if len(frac) > 7 and frac.endswith("Z"):
            text = f"{head}.{frac[:6]}Z"
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    else:
        fmt = "%Y-%m-%dT%H:%M:%SZ"
    return datetime.datetime.strptime(text, fmt).replace(tzinfo=_UTC)


def literal_value(lit: Literal) -> Any:
    """The Python value of a literal: int, float, str, bool, bytes or datetime.

    Raises:
        PatternMatchError: a literal the grammar accepts but that has no value
            (a timestamp of 30 February).
    """
    kind, text = lit.kind, lit.text
    try:
        if kind == "str":
            return unquote(text)
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            return text == "true"
        if kind == "hex":
            return binascii.a2b_hex(text[2:-1])
        if kind == "bin":
            return base64.standard_b64decode(text[2:-1])
        if kind == "ts":
            return parse_timestamp(text[2:-1])
    except ValueError as exc:
        raise PatternMatchError(text, f"invalid {kind} literal: {text}") from exc
    raise PatternMatchError(text, f"unsupported literal {text}")  # pragma: no cover


def like_to_regex(like: str) -> str:
    """A LIKE operand as an anchored regular expression (STIX 2.1 §9: ``%``, ``_``)."""
    # SQL LIKE (which STIX 2.1 §9 names): "%" and "_" match any character, newlines
    # included, and the whole value must match (the reference's "$" also lets a
    # value with one more trailing newline match, and its "." stops at newlines).
    out = ["(?s)^"]
    for c in like:
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        elif c.isalnum():
            out.append(c)
        else:
            out.append(re.escape(c) if c.isascii() else c)
    out.append(r"\Z")
    return "".join(out)


_HEX = "0123456789abcdefABCDEF"
_SPACE = " \t\n\v\f\r"


def inet_aton(text: str) -> int | None:
    """An IPv4 address as the C library's ``inet_aton`` reads it, or None.

    The reference matcher reads addresses with ``socket.inet_aton``: one to four
    parts, each decimal, octal (``0`` prefix) or hex (``0x``), the last part
    filling the remaining bytes, anything after white space ignored. The core
    does no I/O (``socket`` included), so this is the same rule in Python.
    """
    if "\x00" in text or not text.isascii():
        return None
    parts: list[int] = []
    i, n = 0, len(text)
    while True:
        if i >= n or not text[i].isdigit():
            return None
        base, digits = 10, False
        if text[i] == "0":
            i += 1
            if i < n and text[i] in "xX":
                base = 16
                i += 1
            else:
                base, digits = 8, True
        value = 0
        while i < n:
            c = text[i]
            if c.isdigit() and not (base == 8 and c in "89"):
                value = value * base + int(c)
            elif c.isdigit():
                return None
            elif base == 16 and c in _HEX:
                value = value * 16 + int(c, 16)
            else:
                break
            digits = True
            i += 1
            if value > 0xFFFFFFFF:
                return None
        if not digits:
            return None
        if i < n and text[i] == ".":
            if len(parts) >= 3:
                return None
            parts.append(value)
            i += 1
            continue
        break
    if i < n and text[i] not in _SPACE:
        return None
    limit = (0xFFFFFFFF, 0xFFFFFF, 0xFFFF, 0xFF)[len(parts)]
    if value > limit or any(p > 0xFF for p in parts):
        return None
    for k, p in enumerate(parts):
        value |= p << (24 - 8 * k)
    return value


def _ipv4_int(text: str, pattern: str) -> int:
    value = inet_aton(text)
    if value is None:
        raise PatternMatchError(pattern, f"invalid IPv4 address: {text}")
    return value


def _cidr4(text: str, pattern: str, *, host_ok: bool) -> tuple[int, int]:
    addr, slash, prefix = text.partition("/")
    if not slash:
        if host_ok:
            return _ipv4_int(text, pattern), 32
        raise PatternMatchError(pattern, f"invalid CIDR subnet: {text}")
    if not prefix.isdigit() or not prefix.isascii():
        raise PatternMatchError(pattern, f"invalid CIDR subnet: {text}")
    size = int(prefix)
    # 0..32: "0.0.0.0/0" is a CIDR (the reference refuses /0; docs/patterns.md).
    if size > 32:
        raise PatternMatchError(pattern, f"invalid CIDR subnet: {text}")
    return _ipv4_int(addr, pattern), size


def _net6(text: str) -> ipaddress.IPv6Network | None:
    try:
        return ipaddress.IPv6Network(text, strict=False)
    except ValueError:
        return None


def in_subnet(inner: str, outer: str, pattern: str = "") -> bool:
    """Whether the address or CIDR ``inner`` lies in the CIDR ``outer`` (ISSUBSET, STIX 2.1 §9).

    IPv4 follows the reference matcher exactly (``inet_aton`` forms, prefix
    1..32). IPv6, which the reference cannot read (it raises), is compared as
    the specification says: ISSUBSET/ISSUPERSET apply to IPv4 and IPv6.

    Raises:
        PatternMatchError: an operand is not an address or subnet.
    """
    if ":" in inner and ":" in outer and "/" in outer:
        a, b = _net6(inner), _net6(outer)
        if a is not None and b is not None:
            return a.prefixlen >= b.prefixlen and a.subnet_of(b)
    # anything else is read as IPv4, as the reference reads it (and fails as it fails)
    inner_ip, inner_size = _cidr4(inner, pattern, host_ok=True)
    outer_ip, outer_size = _cidr4(outer, pattern, host_ok=False)
    if outer_size > inner_size:
        return False
    mask = ((1 << outer_size) - 1) << (32 - outer_size)
    return (inner_ip & mask) == (outer_ip & mask)
