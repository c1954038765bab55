"""Canonical JSON (RFC 8785), digests and Ed25519 signatures under context strings.

Every signed thing in a community is the RFC 8785 canonical JSON of a body,
signed as ``CONTEXT || 0x00 || body``, where the context names what is
signed (a genesis, a proposal, a vote, a withdrawal, a key-rotation proof).
A signature made for one kind of record therefore never verifies as another.
Bodies hold strings, integers (never floats), lists and objects with ASCII
keys, so RFC 8785 and orjson with sorted keys write the same bytes; orjson
checks the canonical form quickly and `rfc8785` is the reference.
"""

from __future__ import annotations

import hashlib
import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

import orjson
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accord.ledger import canonical_json

VERSION = "accord/community/v1"
CONTEXTS = {
    "genesis": f"{VERSION}/genesis",
    "proposal": f"{VERSION}/proposal",
    "vote": f"{VERSION}/vote",
    "withdrawal": f"{VERSION}/withdrawal",
    "rotate-key": f"{VERSION}/rotate-key",
}
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_HEX128 = re.compile(r"[0-9a-f]{128}\Z")
_FRACTION = re.compile(r"([1-9][0-9]{0,3})/([1-9][0-9]{0,3})\Z")
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of a value (the transparency log's own function)."""
    return canonical_json(value)


def is_canonical(data: bytes, value: Any) -> bool:
    """Whether ``data`` is the canonical JSON of ``value`` (parsed from it)."""
    try:
        if orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == data:
            return True
    except TypeError:
        return False
    try:
        return canonical(value) == data
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        return False


def digest(data: bytes) -> str:
    """SHA-256 hex digest."""
    return hashlib.sha256(data).hexdigest()


def message(kind: str, body: bytes) -> bytes:
    """The bytes a signature of ``kind`` covers."""
    return CONTEXTS[kind].encode() + b"\x00" + body


def sign(key: Ed25519PrivateKey, kind: str, body: bytes) -> str:
    """The hex Ed25519 signature of a body under the context of ``kind``."""
    return key.sign(message(kind, body)).hex()


def public_hex(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key of a private key, as hex."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


@lru_cache(maxsize=4096)
def _public(key_hex: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex))


def verify(key_hex: str, kind: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` (hex) is the key's signature of the body under ``kind``."""
    return verify_message(key_hex, message(kind, body), signature)


def verify_message(key_hex: str, msg: bytes, signature: str) -> bool:
    """Whether ``signature`` (hex) is the key's signature of the whole message."""
    if not _HEX128.match(signature) or not _HEX64.match(key_hex):
        return False
    try:
        _public(key_hex).verify(bytes.fromhex(signature), msg)
    except (InvalidSignature, ValueError):
        return False
    return True


def is_key(text: object) -> bool:
    """A raw Ed25519 public key as 64 lower-case hex digits."""
    return isinstance(text, str) and bool(_HEX64.match(text))


def is_digest(text: object) -> bool:
    """A SHA-256 digest as 64 lower-case hex digits."""
    return isinstance(text, str) and bool(_HEX64.match(text))


def parse_fraction(text: object) -> Fraction:
    """A threshold ``N/D`` strictly above one half and at most one.

    Raises:
        ValueError: not such a fraction.
    """
    m = _FRACTION.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{text!r} is not a fraction N/D such as 2/3")
    value = Fraction(int(m.group(1)), int(m.group(2)))
    if not Fraction(1, 2) < value <= 1:
        # Above one half: two competing proposals cannot both reach it (docs/community.md).
        raise ValueError(f"{text} must be above 1/2 and at most 1/1")
    return value
