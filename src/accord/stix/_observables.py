"""The values an object contributes to the value index (``Record.observables``).

=========================================  =====================================
source                                     (kind, value)
=========================================  =====================================
ipv4-addr, ipv6-addr, domain-name, url,    (type, ``value``)
email-addr, mac-addr
file, artifact, x509-certificate           (``hash``, each ``hashes`` value)
file                                       (``file-name``, ``name``)
mutex                                      (``mutex``, ``name``)
windows-registry-key                       (``windows-registry-key``, ``key``)
autonomous-system                          (``autonomous-system``, ``AS`` + ``number``)
observed-data ``objects`` (2.0 style)      the same rules, for each embedded object
indicator with ``pattern_type`` stix       :func:`accord.patterns.pattern_observables`
=========================================  =====================================

Values are normalised by :mod:`._normalize`. A ``url`` value without a scheme is
indexed by its shape (a bare domain or address, as some converters emit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

# A module import, not a name import: accord.patterns imports accord.stix too, and
# a module object is usable while either package is still initialising.
from accord.patterns import _keys as _pattern_keys
from accord.stix._normalize import guess, normalize

__all__ = ["INDEXED_TYPES", "observables"]

Pairs = list[tuple[str, str]]


def _add(found: Pairs, kind: str, value: object) -> None:
    if type(value) is not str:
        return
    if kind == "url" and "://" not in value:
        guessed, norm = guess(value)
        if guessed:
            kind = guessed
    else:
        norm = normalize(kind, value)
    if norm:
        found.append((kind, norm))


def _value(obj: Mapping[str, object], found: Pairs) -> None:
    _add(found, str(obj["type"]), obj.get("value"))


def _hashes(obj: Mapping[str, object], found: Pairs) -> None:
    hashes = obj.get("hashes")
    if type(hashes) is dict:
        for digest in hashes.values():
            _add(found, "hash", digest)


def _file(obj: Mapping[str, object], found: Pairs) -> None:
    _hashes(obj, found)
    _add(found, "file-name", obj.get("name"))


def _mutex(obj: Mapping[str, object], found: Pairs) -> None:
    _add(found, "mutex", obj.get("name"))


def _registry(obj: Mapping[str, object], found: Pairs) -> None:
    _add(found, "windows-registry-key", obj.get("key"))


def _asn(obj: Mapping[str, object], found: Pairs) -> None:
    number = obj.get("number")
    if type(number) is int:
        found.append(("autonomous-system", f"AS{number}"))


_SCO: dict[str, Callable[[Mapping[str, object], Pairs], None]] = {
    "ipv4-addr": _value,
    "ipv6-addr": _value,
    "domain-name": _value,
    "url": _value,
    "email-addr": _value,
    "mac-addr": _value,
    "file": _file,
    "artifact": _hashes,
    "x509-certificate": _hashes,
    "mutex": _mutex,
    "windows-registry-key": _registry,
    "autonomous-system": _asn,
}


# The types that can contribute anything (prepare skips the call for the rest).
INDEXED_TYPES = frozenset((*_SCO, "indicator", "observed-data"))


def observables(obj: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    """The deduplicated ``(kind, normalised value)`` pairs of a validated object."""
    obj_type = obj["type"]
    found: Pairs = []
    if obj_type == "indicator":
        if obj.get("pattern_type") == "stix":
            found = _pattern_keys.pattern_observables(obj["pattern"])  # type: ignore[arg-type]
    elif obj_type == "observed-data":
        embedded = obj.get("objects")
        if type(embedded) is dict:
            for item in embedded.values():
                if type(item) is dict:
                    extract = _SCO.get(item.get("type"))  # type: ignore[arg-type]
                    if extract is not None:
                        extract(item, found)
    else:
        extract = _SCO.get(str(obj_type))
        if extract is not None:
            extract(obj, found)
    if not found:
        return ()
    if len(found) == 1:
        return (found[0],)
    return tuple(dict.fromkeys(found))
