"""Peer tokens at rest: sealed with a key derived from the node's identity key.

A peer's token must be sent to the peer, so it cannot be stored hashed like
the members' tokens. It is sealed with AES-256-GCM under a key derived
(HKDF-SHA256) from the node's Ed25519 identity key, which lives in the node's
directory with mode 0600. A copy of the database alone (a PostgreSQL dump, a
backup of ``accord.db``) therefore gives no usable token; the identity key
and the database together do, as they would for any process running the node.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from accord.exceptions import ConfigError

_INFO = b"accord peer tokens v1"
_VERSION = b"\x01"


def _key(identity: Ed25519PrivateKey) -> bytes:
    raw = identity.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(raw)


def seal(identity: Ed25519PrivateKey, token: str, peer_name: str) -> bytes:
    """The token sealed for storage; bound to the peer's name (the associated data)."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(identity)).encrypt(nonce, token.encode("utf-8"), peer_name.encode())
    return _VERSION + nonce + sealed


def unseal(identity: Ed25519PrivateKey, blob: bytes, peer_name: str) -> str:
    """The token back from its sealed form.

    Raises:
        ConfigError: the blob was sealed by another identity key, or altered.
    """
    if blob[:1] != _VERSION:
        raise ConfigError(f"peer {peer_name}", "stored token has an unknown format")
    try:
        plain = AESGCM(_key(identity)).decrypt(blob[1:13], blob[13:], peer_name.encode())
    except InvalidTag:
        raise ConfigError(
            f"peer {peer_name}", "stored token cannot be opened with this node's identity key"
        ) from None
    return plain.decode("utf-8")
