"""The console's accounts: users with a role, Argon2id passwords, the session key.

Roles and what each may do (the web edge checks every route against `RIGHTS`):

==========  ==========================================================
admin       everything: members, tokens, collections, agreements, peers, users
analyst     read everything but administration; import bundles (intake)
auditor     read everything, administration included, change nothing
read-only   dashboard, search, objects, graph, detection
==========  ==========================================================

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second
recommended profile). Sessions are signed cookies (`accord.web`), keyed by a
random secret kept in the store, so that every worker process of a node signs
and checks with the same key; a user's ``epoch`` in the cookie ends its
sessions when its password or role changes, or when it is removed.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from accord.exceptions import ConfigError, StoreError, UnknownUser
from accord.service.node import Node
from accord.store import User

Role = Literal["admin", "analyst", "auditor", "read-only"]
Right = Literal["read", "import", "audit", "admin"]
ROLES: tuple[Role, ...] = ("admin", "analyst", "auditor", "read-only")
RIGHTS: dict[Role, frozenset[Right]] = {
    "admin": frozenset({"read", "import", "audit", "admin"}),
    "analyst": frozenset({"read", "import"}),
    "auditor": frozenset({"read", "audit"}),
    "read-only": frozenset({"read"}),
}
MIN_PASSWORD = 12
_SECRET_KEY = "console_secret"

_hasher = PasswordHasher()
# Verifying a login for a name that does not exist costs as much as for one that does.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


def check_role(role: str) -> Role:
    """The role, checked.

    Raises:
        ValueError: not one of admin, analyst, auditor, read-only.
    """
    for r in ROLES:
        if role == r:
            return r
    raise ValueError(f"role {role!r}: use one of {', '.join(ROLES)}")


def check_name(name: str) -> str:
    """A user name: 1-64 printable characters, no spaces at the ends."""
    if not name or len(name) > 64 or name != name.strip() or not name.isprintable():
        raise ValueError(f"user name {name!r}: 1 to 64 printable characters, not blank")
    return name


def check_password(password: str) -> str:
    """A password of at least MIN_PASSWORD characters."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def add_user(node: Node, name: str, role: str, password: str) -> User:
    """Create a console user.

    Raises:
        ValueError: a bad name, role or password.
        StoreError: the name is taken.
    """
    return node.store.create_user(
        check_name(name), check_role(role), _hasher.hash(check_password(password))
    )


def users(node: Node) -> list[User]:
    """Every console user, by name."""
    return node.store.users()


def remove_user(node: Node, name: str) -> None:
    """Remove a user (its sessions end with it).

    Raises:
        UnknownUser: no such user.
    """
    node.store.delete_user(name)


def set_password(node: Node, name: str, password: str) -> None:
    """A new password; the user's sessions end."""
    node.store.update_user(name, password_hash=_hasher.hash(check_password(password)))


def set_role(node: Node, name: str, role: str) -> None:
    """A new role; the user's sessions end."""
    node.store.update_user(name, role=check_role(role))


def authenticate(node: Node, name: str, password: str) -> User | None:
    """The user whose name and password these are, or None."""
    try:
        user = node.store.user(name)
    except UnknownUser:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY, password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def session_user(node: Node, name: str, epoch: int) -> User | None:
    """The user a session names, if it still exists at that epoch."""
    try:
        user = node.store.user(name)
    except UnknownUser:
        return None
    return user if user.epoch == epoch else None


def session_secret(node: Node) -> str:
    """The key that signs console sessions: made once, kept in the store."""
    secret = node.store.get_meta(_SECRET_KEY)
    if secret is None:
        try:
            node.store.set_meta(_SECRET_KEY, secrets.token_urlsafe(48))
        except StoreError as exc:  # pragma: no cover - the store failed
            raise ConfigError(_SECRET_KEY, f"cannot keep the console's key: {exc}") from exc
        secret = node.store.get_meta(_SECRET_KEY)
        assert secret is not None
    return secret
