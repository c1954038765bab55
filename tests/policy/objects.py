"""STIX objects the egress and TAXII policy tests share."""

from __future__ import annotations

import uuid
from typing import Any

from accord.policy import TLP2_ID_OF, Tlp

TS = "2024-05-01T00:00:00.000Z"
RESIDENCY_EU = "marking-definition--3a0d5c39-5b42-4b8b-9c1b-4d3e2a1f0e11"


def oid(kind: str, n: int) -> str:
    """A deterministic id for the n-th object of a kind."""
    return f"{kind}--{uuid.UUID(int=n + (5 << 80), version=4)}"


def indicator(n: int, level: Tlp | None = Tlp.GREEN, **extra: Any) -> dict[str, Any]:
    """An indicator marked with a TLP 2.0 level (``None``: unmarked)."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid("indicator", n),
        "created": TS,
        "modified": TS,
        "name": f"indicator {n}",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": TS,
    }
    if level is not None:
        obj["object_marking_refs"] = [TLP2_ID_OF[level]]
    obj.update(extra)
    return obj


def residency_marking(code: str = "EU", mid: str = RESIDENCY_EU) -> dict[str, Any]:
    """A statement marking ``residency: CODE`` (STIX 2.1 §7.2.1.3)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": mid,
        "created": TS,
        "definition_type": "statement",
        "definition": {"statement": f"residency: {code}"},
    }


def email_addr(value: str) -> dict[str, Any]:
    """An e-mail address SCO."""
    return {
        "type": "email-addr",
        "spec_version": "2.1",
        "id": f"email-addr--{uuid.uuid5(uuid.NAMESPACE_URL, value)}",
        "value": value,
    }
