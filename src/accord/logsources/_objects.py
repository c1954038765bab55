"""STIX cyber-observables from an event's keys, and the observed-data that carries them.

A log source knows an event as ``(object path, value)`` pairs (the keys the
matcher indexes). The STIX form is built from those same pairs, and only when
the matcher asks for it, so that the two can never disagree and the hot path
builds no dictionaries.

How the pairs become objects (STIX 2.1 §9.4 object paths, read backwards):

- ``T:value`` (``ipv4-addr:value``, ``domain-name:value``, ...): one object of
  type ``T`` per distinct value;
- ``T:a.b.c``: property ``a`` of the first object of type ``T`` (made if
  needed), nested dictionaries for ``b`` and ``c`` (``file:hashes.SHA-256``,
  ``network-traffic:extensions.http-request-ext.request_method``);
- ``T:a[*]``: a list property, each pair adds one element;
- ``T:x_ref.value`` / ``T:x_refs[*].value``: a reference to the object whose
  ``value`` it is (an ``ipv4-addr``, ``ipv6-addr`` or ``domain-name`` by its
  shape), made if the pairs did not already make it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

__all__ = [
    "addr_key",
    "endpoint_keys",
    "is_addr",
    "objects_from_keys",
    "observed_data",
    "stix_time",
    "value_type",
]

Keys = list[tuple[str, object]]


def addr_key(value: str) -> str:
    """The object path of an IP address's value: IPv6 where it has a colon."""
    return "ipv6-addr:value" if ":" in value else "ipv4-addr:value"


def is_addr(value: str) -> bool:
    """Whether a log's host field holds an IP address rather than a name."""
    if ":" in value:
        return all(c in "0123456789abcdefABCDEF:." for c in value)
    parts = value.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)


def endpoint_keys(keys: Keys, src: str | None, dst: str | None) -> None:
    """The keys of a connection's two addresses, as objects and as network-traffic refs."""
    if src:
        keys.append((addr_key(src), src))
        keys.append(("network-traffic:src_ref.value", src))
    if dst:
        keys.append((addr_key(dst), dst))
        keys.append(("network-traffic:dst_ref.value", dst))


def value_type(value: str) -> str:
    """The SCO type a bare value of a ``_ref.value`` path is: IPv4, IPv6 or a domain name."""
    if ":" in value:
        return "ipv6-addr"
    head = value.split("/", 1)[0]
    if head.replace(".", "").isdigit() and head.count(".") == 3:
        return "ipv4-addr"
    return "domain-name"


def stix_time(epoch: float) -> str:
    """Epoch seconds as a STIX 2.1 timestamp (§3.2: UTC, ``Z``), to the microsecond."""
    whole = int(epoch // 1)
    micros = round((epoch - whole) * 1_000_000)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micros:06d}Z"


class _Builder:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.by_value: dict[tuple[str, str], str] = {}
        self.first: dict[str, str] = {}

    def new(self, otype: str) -> str:
        ref = str(len(self.objects))
        self.objects[ref] = {"type": otype}
        self.first.setdefault(otype, ref)
        return ref

    def valued(self, otype: str, value: str) -> str:
        ref = self.by_value.get((otype, value))
        if ref is None:
            ref = self.first.get(otype)
            if ref is None or "value" in self.objects[ref]:
                ref = self.new(otype)
            self.objects[ref]["value"] = value
            self.by_value[(otype, value)] = ref
        return ref

    def main(self, otype: str) -> dict[str, Any]:
        ref = self.first.get(otype)
        if ref is None:
            ref = self.new(otype)
        return self.objects[ref]


def _put(target: dict[str, Any], steps: list[str], value: object) -> None:
    for step in steps[:-1]:
        inner = target.get(step)
        if not isinstance(inner, dict):
            inner = target[step] = {}
        target = inner
    last = steps[-1]
    if last.endswith("[*]"):
        name = last[:-3]
        items = target.get(name)
        if not isinstance(items, list):
            items = target[name] = []
        if value not in items:
            items.append(value)
    else:
        target.setdefault(last, value)


def objects_from_keys(keys: Iterable[tuple[str, object]]) -> dict[str, dict[str, Any]]:
    """The embedded ``objects`` dictionary of an observed-data made of these pairs."""
    b = _Builder()
    rest: list[tuple[str, str, object]] = []
    # Values first, so that properties and references attach to the objects they name.
    for path, value in keys:
        otype, _, prop = path.partition(":")
        if prop == "value" and isinstance(value, str):
            b.valued(otype, value)
        else:
            rest.append((otype, prop, value))
    for otype, prop, value in rest:
        steps = prop.split(".")
        if len(steps) == 2 and steps[1] == "value" and steps[0].endswith(("_ref", "_refs[*]")):
            if not isinstance(value, str):
                continue
            ref = b.valued(value_type(value), value)
            _put(b.main(otype), [steps[0]], ref)
            continue
        _put(b.main(otype), steps, value)
    return b.objects


def observed_data(
    first: float, keys: Iterable[tuple[str, object]], last: float | None = None, number: int = 1
) -> dict[str, Any]:
    """One STIX 2.1 observed-data SDO with embedded objects (the input of stix2-matcher).

    Each call makes a new observation (a new UUIDv4 id, STIX 2.1 §2.9): it is built
    only for the events a pattern needs to see whole, and kept only with
    ``--keep-observed``.
    """
    first_ts = stix_time(first)
    last_ts = first_ts if last is None or last == first else stix_time(last)
    return {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": f"observed-data--{uuid.uuid4()}",
        "created": first_ts,
        "modified": first_ts,
        "first_observed": first_ts,
        "last_observed": last_ts,
        "number_observed": number,
        "objects": objects_from_keys(keys),
    }
