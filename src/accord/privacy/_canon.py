"""The one canonical form of an observable value, on both sides of a private lookup.

A holder evaluates the OPRF on its indicators' values and a querier on its
observations; they meet only if both wrote the value the same way. The rules
extend the value index's (`accord.stix._normalize`), which the matcher reads:

==========================  ==========================================================
kind                        canonical value
==========================  ==========================================================
``domain-name``             lower case, one trailing dot removed, each label IDNA
                            (RFC 3490, Python's ``idna`` codec): ``bücher.example`` is
                            ``xn--bcher-kva.example``
``ipv4-addr``               dotted quad (any ``inet_aton`` form the matcher reads, e.g.
                            ``010.1``, becomes ``8.0.0.1``); ``/32`` removed; a CIDR as
                            network/prefix (``10.1.2.3/8`` is ``10.0.0.0/8``)
``ipv6-addr``               RFC 5952 compressed; ``/128`` removed; a CIDR as network/prefix
``url``                     as given (stripped): the matcher compares ``url:value``
                            exactly; a value without a scheme is read by its shape
``hash``                    lower-case hex (32, 40, 64 or 128 digits), else refused
``email-addr``              lower case
others                      as the value index stores them
==========================  ==========================================================

The OPRF input is ``kind || 0x00 || value`` in UTF-8 (`oprf_input`), so the
same text under two kinds (a file name and a domain) never meets.
"""

from __future__ import annotations

import ipaddress
import re

from accord.patterns._values import inet_aton
from accord.stix._normalize import guess, normalize

__all__ = ["KINDS", "canonical", "canonical_pair", "kind_of_path", "oprf_input", "read_value"]

# The kinds a private lookup knows (the value index's, without the guessed ones).
KINDS = frozenset(
    (
        "domain-name",
        "ipv4-addr",
        "ipv6-addr",
        "url",
        "hash",
        "email-addr",
        "mac-addr",
        "file-name",
        "mutex",
        "windows-registry-key",
        "autonomous-system",
    )
)
_HEX_RE = re.compile(r"[0-9a-f]+\Z")
_HASH_LENGTHS = frozenset((32, 40, 64, 128))
_MAX_VALUE = 4096  # bytes of UTF-8: longer values are not looked up


def _domain(value: str) -> str | None:
    value = value.lower().removesuffix(".")
    if not value or len(value) > 253:
        return None
    try:
        return ".".join(
            label.encode("idna").decode("ascii") if not label.isascii() else label
            for label in value.split(".")
        )
    except UnicodeError:
        return None


def _ipv4(value: str) -> str | None:
    addr, slash, prefix = value.partition("/")
    number = inet_aton(addr)
    if number is None:
        return None
    if not slash or prefix == "32":
        return str(ipaddress.IPv4Address(number))
    if not (prefix.isascii() and prefix.isdigit()) or int(prefix) > 32:
        return None
    return str(ipaddress.IPv4Network((number, int(prefix)), strict=False))


def _ipv6(value: str) -> str | None:
    try:
        net = ipaddress.IPv6Network(value, strict=False)
    except ValueError:
        return None
    if "/" not in value or net.prefixlen == 128:
        return net.network_address.compressed
    return net.compressed


def _hash(value: str) -> str | None:
    value = value.lower()
    return value if len(value) in _HASH_LENGTHS and _HEX_RE.match(value) else None


def canonical(kind: str, value: str) -> str | None:
    """The canonical form of ``value`` read as ``kind``, or None where it is not one.

    Args:
        kind: one of `KINDS`.
        value: the text as found in a log, an indicator or on the command line.
    """
    value = value.strip()
    if not value or len(value) > _MAX_VALUE:
        return None
    if kind == "domain-name":
        return _domain(value)
    if kind == "ipv4-addr":
        return _ipv4(value)
    if kind == "ipv6-addr":
        return _ipv6(value)
    if kind == "hash":
        return _hash(value)
    if kind not in KINDS:
        return None
    return normalize(kind, value) or None


def read_value(text: str) -> tuple[str, str] | None:
    """A bare value (from the command line) as ``(kind, canonical value)``, or None.

    The shape decides, as a search of the value index does
    (`accord.stix._normalize.guess`); a shape it does not know is refused.
    """
    kind, _ = guess(text)
    if not kind:
        return None
    value = canonical(kind, text)
    return None if value is None else (kind, value)


def canonical_pair(kind: str, value: str) -> tuple[str, str] | None:
    """``(kind, canonical value)`` of a value found under ``kind``, or None.

    ``kind`` ``"?"`` (a ``*_ref.value`` path) and a ``url`` without a scheme
    are read by their shape, as the value index reads them.
    """
    if kind == "?" or (kind == "url" and "://" not in value):
        found = read_value(value)
        if found is not None or kind == "?":
            return found
    canon = canonical(kind, value)
    return None if canon is None else (kind, canon)


def oprf_input(kind: str, value: str) -> bytes:
    """The bytes the OPRF is evaluated on: ``kind``, a zero byte, the canonical value."""
    return kind.encode("ascii") + b"\x00" + value.encode("utf-8")


_PATH_KINDS = {
    "ipv4-addr:value": "ipv4-addr",
    "ipv6-addr:value": "ipv6-addr",
    "domain-name:value": "domain-name",
    "url:value": "url",
    "email-addr:value": "email-addr",
    "mac-addr:value": "mac-addr",
    "file:name": "file-name",
    "mutex:name": "mutex",
    "windows-registry-key:key": "windows-registry-key",
}


def kind_of_path(path: str) -> str | None:
    """The kind of an object path in a log event (``file:hashes.MD5`` is ``hash``)."""
    kind = _PATH_KINDS.get(path)
    if kind is not None:
        return kind
    _, _, prop = path.partition(":")
    if prop.startswith("hashes") or ".hashes" in prop:
        return "hash"
    if prop.endswith("_ref.value"):
        return "?"
    return None
