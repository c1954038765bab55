"""A node: its directory, identity key, settings and store.

``accord init PATH`` lays out::

    PATH/                mode 0700 (`open_node` warns when others may enter it)
    PATH/node.toml       node id (a STIX identity id), name, creation time
    PATH/identity.key    Ed25519 private key, PKCS#8 PEM, mode 0600 (refused when wider)
    PATH/identity.pub    the public key, SubjectPublicKeyInfo PEM
    PATH/accord.db       the SQLite store (unless ACCORD_DATABASE_URL names another)
"""

from __future__ import annotations

import logging
import os
import tomllib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.exceptions import ConfigError, NodeNotFound
from accord.settings import Settings, parse_weights
from accord.standing import Rules
from accord.store import SqlStore, open_store

NODE_FILE = "node.toml"
KEY_FILE = "identity.key"
PUB_FILE = "identity.pub"

log = logging.getLogger("accord.node")


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What node.toml says."""

    id: str
    name: str
    created: str


@dataclass(slots=True)
class Node:
    """An open node: settings, identity and store."""

    settings: Settings
    info: NodeInfo
    store: SqlStore

    @property
    def database_url(self) -> str:
        """The store's URL, password hidden."""
        return self.store.url

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def init_node(settings: Settings, name: str | None = None) -> NodeInfo:
    """Create a node in ``settings.home``: directory, identity key, store.

    Raises:
        ConfigError: the directory already holds a node, or cannot be written.
    """
    home = settings.home
    if (home / NODE_FILE).exists():
        raise ConfigError(str(home), "already holds an Accord node (node.toml exists)")
    created = not home.exists()
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        if created:
            # Owner only, whatever the umask: the directory holds the store (peers'
            # tokens, the console's signing key) and the identity key (SECURITY.md).
            os.chmod(home, 0o700)
    except OSError as exc:
        raise ConfigError(str(home), f"cannot create the directory: {exc.strerror}") from exc
    info = NodeInfo(
        id=f"identity--{uuid.uuid4()}",
        name=name or settings.node_name or home.resolve().name,
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    )
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # The identity key is readable by its owner only: created 0600, never widened.
    fd = os.open(home / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (home / PUB_FILE).write_bytes(public)
    store = open_store(settings.effective_database_url)
    try:
        store.set_meta("node_id", info.id)
        store.set_meta("node_name", info.name)
    finally:
        store.close()
    # node.toml last: its presence means the node is complete.
    (home / NODE_FILE).write_text(
        "# Accord node. Settings come from ACCORD_* environment variables (`accord settings`).\n"
        f"id = {_toml_string(info.id)}\n"
        f"name = {_toml_string(info.name)}\n"
        f"created = {_toml_string(info.created)}\n"
    )
    return info


def read_info(home: Path) -> NodeInfo:
    """Read node.toml.

    Raises:
        NodeNotFound: there is no node.toml in ``home``.
        ConfigError: node.toml is not valid.
    """
    path = home / NODE_FILE
    if not path.exists():
        raise NodeNotFound(str(home))
    try:
        data = tomllib.loads(path.read_text())
        return NodeInfo(id=str(data["id"]), name=str(data["name"]), created=str(data["created"]))
    except (tomllib.TOMLDecodeError, KeyError) as exc:
        raise ConfigError(str(path), f"not a valid node file: {exc}") from exc


def check_permissions(home: Path) -> None:
    """Refuse an identity key others may read; warn of a directory others may enter.

    The store, when it is the SQLite file of the directory, holds peers' tokens and
    the console's session key: a directory open to other local users opens them.

    Raises:
        ConfigError: the identity key is readable or writable by group or others.
    """
    if os.name != "posix":
        return
    key = home / KEY_FILE
    if key.exists() and key.stat().st_mode & 0o077:
        key_mode = oct(key.stat().st_mode & 0o777)
        raise ConfigError(
            str(key), f"the identity key is open to other users (mode {key_mode}): chmod 600 it"
        )
    home_mode = home.stat().st_mode & 0o777
    if home_mode & 0o077:
        log.warning(
            "the node directory %s is open to other local users (mode %s): chmod 700 it",
            home,
            oct(home_mode),
        )


def open_node(settings: Settings) -> Node:
    """Open the node at ``settings.home`` and its store (migrating it to the head schema).

    Raises:
        NodeNotFound: there is no node at ``settings.home``.
        ConfigError: node.toml is not valid, or the identity key is open to others.
    """
    info = read_info(settings.home)
    check_permissions(settings.home)
    store = open_store(settings.effective_database_url)
    try:
        store.standing_rules = standing_rules(settings, store)
    except ConfigError:
        store.close()
        raise
    return Node(settings, info, store)


def standing_rules(settings: Settings, store: SqlStore) -> Rules:
    """The node's `Rules` for standings, names in ACCORD_STANDING_WEIGHTS made identities.

    Raises:
        ConfigError: a name is neither a member, a peer with a bound identity, nor an id.
    """
    weights: dict[str, float] = {}
    if settings.standing_weights:
        known = {m.name: m.identity_id for m in store.members()}
        known.update({p.name: p.identity_id for p in store.peers() if p.identity_id})
        for who, weight in parse_weights(settings.standing_weights):
            ident = known.get(who, who if who.startswith("identity--") else None)
            if ident is None:
                raise ConfigError(
                    "ACCORD_STANDING_WEIGHTS",
                    f"{who!r} is no member, no peer with an identity, and no identity id",
                )
            weights[ident] = weight
    return Rules(
        weights=weights,
        default_weight=settings.standing_default_weight,
        half_life_days=settings.standing_half_life_days,
        prior=settings.standing_prior,
    )


def load_private_key(home: Path) -> Ed25519PrivateKey:
    """The node's Ed25519 identity key."""
    key = serialization.load_pem_private_key((home / KEY_FILE).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(str(home / KEY_FILE), "is not an Ed25519 private key")
    return key
