"""Normalising observable values for the value index, and guessing a value's kind.

The value index stores ``(kind, value)`` pairs; a search normalises the user's
string the same way, so ``WHERE value = ?`` finds it. The rules:

==========================  ==========================================================
kind                        normalised value
==========================  ==========================================================
``hash``                    lower case
``domain-name``             lower case, one trailing dot removed
``email-addr``              lower case
``ipv4-addr``               as given; ``/32`` removed (other CIDRs kept as given)
``ipv6-addr``               :mod:`ipaddress` compressed form; ``/128`` removed
``mac-addr``                lower case, ``-`` separators turned into ``:`` (§6.10)
``url``                     as given
``autonomous-system``       ``AS`` and the number, e.g. ``AS64500``
``windows-registry-key``    lower case (the registry is case-insensitive), ``HKLM``
                            and the other hive abbreviations spelled out
others (``file-name``,      as given
``mutex``)
==========================  ==========================================================

Every value is first stripped of surrounding white space.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

__all__ = ["guess", "normalize", "normalize_query", "normalizer"]

_IPV4_RE = re.compile(r"(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?\Z")
_HEX_RE = re.compile(r"[0-9a-fA-F]+\Z")
_HASH_LENGTHS = frozenset((32, 40, 64, 128))  # MD5, SHA-1, SHA-256, SHA-512
# Possessive, so that a long hostile value cannot make them backtrack.
_EMAIL_RE = re.compile(r"[^@\s]++@[^@\s.]++(?:\.[^@\s.]++)++\Z")
_SCHEME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")
_MAC_RE = re.compile(r"[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(?:\1[0-9a-fA-F]{2}){4}\Z")
_AS_RE = re.compile(r"(?i:AS)\s?(\d{1,10})\Z")
_DOMAIN_RE = re.compile(
    r"(?:[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?\.)+"
    r"(?:[a-zA-Z]{2,63}|xn--[a-zA-Z0-9-]{1,59})\.?\Z"
)
_MAX_DOMAIN = 254  # RFC 1035: 253 characters, plus a trailing dot
_MAX_EMAIL = 320  # RFC 3696: 64 + "@" + 255
_HIVES = {
    "hklm": "hkey_local_machine",
    "hkcu": "hkey_current_user",
    "hkcr": "hkey_classes_root",
    "hku": "hkey_users",
    "hkcc": "hkey_current_config",
}
_REGISTRY_RE = re.compile(r"(?i)(hkey_[a-z_]+|hklm|hkcu|hkcr|hku|hkcc)(?:\\|\Z)")


def _ipv4(value: str) -> str:
    return value[:-3] if value.endswith("/32") else value


def _ipv6(value: str) -> str:
    addr, slash, prefix = value.partition("/")
    try:
        compressed = ipaddress.IPv6Address(addr).compressed
    except ValueError:
        return value.lower()
    if not slash or prefix == "128":
        return compressed
    return f"{compressed}/{prefix}"


def _domain(value: str) -> str:
    value = value.lower()
    return value[:-1] if value.endswith(".") else value


def _mac(value: str) -> str:
    return value.lower().replace("-", ":")


def _autonomous_system(value: str) -> str:
    m = _AS_RE.match(value)
    if m is not None:
        return "AS" + m[1]
    return "AS" + value if value.isdigit() else value


def _registry(value: str) -> str:
    lowered = value.lower()
    head, sep, rest = lowered.partition("\\")
    full = _HIVES.get(head)
    return full + sep + rest if full is not None else lowered


def _same(value: str) -> str:
    return value


_BY_KIND: dict[str, Callable[[str], str]] = {
    "hash": str.lower,
    "domain-name": _domain,
    "email-addr": str.lower,
    "ipv4-addr": _ipv4,
    "ipv6-addr": _ipv6,
    "mac-addr": _mac,
    "url": _same,
    "autonomous-system": _autonomous_system,
    "windows-registry-key": _registry,
}


def normalizer(kind: str) -> Callable[[str], str]:
    """The function that normalises a stripped value of ``kind``."""
    return _BY_KIND.get(kind, _same)


def normalize(kind: str, value: str) -> str:
    """Normalise ``value`` known to be of ``kind`` (see the module table)."""
    return _BY_KIND.get(kind, _same)(value.strip())


def guess(value: str) -> tuple[str, str]:
    """Guess the kind of a bare value by its shape and normalise it.

    Args:
        value: e.g. ``"Evil.Example."``, ``"10.0.0.1/32"``, ``"D41D8CD9..."``.

    Returns:
        ``(kind, normalised value)``; the kind is ``""`` when the shape is unknown,
        and the value is then only stripped.
    """
    s = value.strip()
    if _SCHEME_RE.match(s):
        return "url", s
    if "@" in s and len(s) <= _MAX_EMAIL and _EMAIL_RE.match(s):
        return "email-addr", s.lower()
    if _IPV4_RE.match(s):
        return "ipv4-addr", _ipv4(s)
    if len(s) in _HASH_LENGTHS and _HEX_RE.match(s):
        return "hash", s.lower()
    if ":" in s and len(s) <= 64:  # the longest IPv6 text with a prefix is 47
        if _MAC_RE.match(s):
            return "mac-addr", _mac(s)
        addr = s.partition("/")[0]
        try:
            ipaddress.IPv6Address(addr)
        except ValueError:
            pass
        else:
            return "ipv6-addr", _ipv6(s)
    if "-" in s and _MAC_RE.match(s):
        return "mac-addr", _mac(s)
    if len(s) <= _MAX_DOMAIN and _DOMAIN_RE.match(s):
        return "domain-name", _domain(s)
    if _AS_RE.match(s):
        return "autonomous-system", _autonomous_system(s)
    if _REGISTRY_RE.match(s):
        return "windows-registry-key", _registry(s)
    return "", s


def normalize_query(value: str) -> str:
    """Normalise a user's search string exactly as stored observable values are.

    The shape decides: URL (with a scheme), e-mail address, IPv4 (or CIDR), hash
    (32, 40, 64 or 128 hex digits), MAC address, IPv6, domain name, ``AS`` number,
    registry key. Anything else is returned stripped.

    Args:
        value: what the user typed.

    Returns:
        The value as the value index stores it.
    """
    return guess(value)[1]
