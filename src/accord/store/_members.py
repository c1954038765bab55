"""Members, their tokens and their per-collection grants; TAXII status resources.

Tokens are random (256 bits), shown once by ``accord token create`` and kept
only as their SHA-256 digest, so a copy of the database gives no credential.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from accord.exceptions import StoreError, UnknownMember
from accord.store import _schema as s
from accord.store._clock import now_us
from accord.store._ledger import Append, event

TOKEN_PREFIX = "acc_"


@dataclass(frozen=True, slots=True)
class Member:
    """A partner organisation that reaches this node."""

    pk: int
    name: str
    identity_id: str
    contact: str
    created: int


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: never the secret itself."""

    pk: int
    member: str
    prefix: str
    created: int
    revoked: int | None


@dataclass(frozen=True, slots=True)
class Grant:
    """What one member may do with one collection."""

    collection_pk: int
    member_pk: int
    can_read: bool
    can_write: bool
    can_lookup: bool = False  # private lookup only (accord.service.lookup), never a read


def _member(r: Any) -> Member:
    return Member(r.pk, r.name, r.identity_id, r.contact, r.created)


def token_digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class MemberStore(ABC):
    """Members, tokens, grants and statuses on a SQLAlchemy engine (a mixin of SqlStore)."""

    engine: Engine
    reads: Engine

    @abstractmethod
    def write_tx(self) -> AbstractContextManager[Connection]:
        """A transaction holding the store's single write lock (SqlStore gives it)."""

    @abstractmethod
    def append_log_in(self, conn: Connection, items: Sequence[Append]) -> list[int]:
        """Append to the transparency log inside ``conn``'s transaction (LedgerStore gives it)."""

    def create_member(self, name: str, contact: str = "", identity_id: str | None = None) -> Member:
        """Add a member; its name must be unused."""
        ident = identity_id or f"identity--{uuid.uuid4()}"
        created = now_us()
        with self.write_tx() as conn:
            if conn.execute(select(s.members.c.pk).where(s.members.c.name == name)).first():
                raise StoreError(f"a member named {name!r} exists")
            pk = conn.execute(
                insert(s.members)
                .values(name=name, identity_id=ident, contact=contact, created=created)
                .returning(s.members.c.pk)
            ).scalar_one()
            self.append_log_in(conn, [event("member", {"action": "created"}, name)])
        return Member(int(pk), name, ident, contact, created)

    def members(self) -> list[Member]:
        """All members, oldest first."""
        t = s.members
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.pk)).all()
        return [_member(r) for r in rows]

    def member(self, name: str) -> Member:
        """The member with this name (raises UnknownMember)."""
        t = s.members
        with self.engine.connect() as conn:
            r = conn.execute(select(t).where(t.c.name == name)).first()
        if r is None:
            raise UnknownMember(name)
        return _member(r)

    def create_token(self, member_pk: int) -> tuple[str, TokenInfo]:
        """A new token for a member: the secret (to show once) and its listing."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        prefix = secret[: len(TOKEN_PREFIX) + 6]
        created = now_us()
        with self.write_tx() as conn:
            pk = conn.execute(
                insert(s.tokens)
                .values(
                    member_pk=member_pk,
                    digest=token_digest(secret),
                    prefix=prefix,
                    created=created,
                    revoked=None,
                )
                .returning(s.tokens.c.pk)
            ).scalar_one()
            name = conn.execute(
                select(s.members.c.name).where(s.members.c.pk == member_pk)
            ).scalar_one()
            entry = event("token", {"action": "created", "token": int(pk)}, str(name))
            self.append_log_in(conn, [entry])
        return secret, TokenInfo(int(pk), str(name), prefix, created, None)

    def tokens(self) -> list[TokenInfo]:
        """Every token, revoked ones included."""
        t, m = s.tokens, s.members
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.pk, m.c.name, t.c.prefix, t.c.created, t.c.revoked)
                .join(m, m.c.pk == t.c.member_pk)
                .order_by(t.c.pk)
            ).all()
        return [TokenInfo(r.pk, r.name, r.prefix, r.created, r.revoked) for r in rows]

    def revoke_token(self, prefix_or_token: str) -> int:
        """Revoke the tokens named by their prefix (or by the whole secret); returns how many."""
        t = s.tokens
        if prefix_or_token.startswith(TOKEN_PREFIX) and len(prefix_or_token) > 20:
            match = t.c.digest == token_digest(prefix_or_token)
        else:
            match = t.c.prefix == prefix_or_token
        with self.write_tx() as conn:
            rows = conn.execute(
                select(t.c.pk, s.members.c.name)
                .join(s.members, s.members.c.pk == t.c.member_pk)
                .where(match, t.c.revoked.is_(None))
            ).all()
            conn.execute(update(t).where(match, t.c.revoked.is_(None)).values(revoked=now_us()))
            entries = [event("token", {"action": "revoked", "token": int(pk)}, n) for pk, n in rows]
            self.append_log_in(conn, entries)
        return len(rows)

    def member_for_token(self, token: str) -> Member | None:
        """The member a live token belongs to, or None (unknown or revoked).

        The token is never compared itself: its SHA-256 digest is looked up by
        equality in the digest column's index. Timing can tell an attacker at
        most how much of a *digest* its guess shares with a stored one, and with
        256 random bits behind each token no digest prefix brings it closer to a
        token (finding a preimage is the only way), so this is as good as
        ``hmac.compare_digest`` on the secret (SECURITY.md).
        """
        t, m = s.tokens, s.members
        with self.reads.connect() as conn:
            r = conn.execute(
                select(m)
                .join(t, t.c.member_pk == m.c.pk)
                .where(t.c.digest == token_digest(token), t.c.revoked.is_(None))
            ).first()
        return None if r is None else _member(r)

    def set_grant(
        self,
        collection_pk: int,
        member_pk: int,
        can_read: bool,
        can_write: bool,
        can_lookup: bool = False,
    ) -> None:
        """Give (or, with all False, take away) a member's rights on a collection."""
        g = s.grants
        with self.write_tx() as conn:
            conn.execute(
                g.delete().where(g.c.collection_pk == collection_pk, g.c.member_pk == member_pk)
            )
            if can_read or can_write or can_lookup:
                conn.execute(
                    insert(g).values(
                        collection_pk=collection_pk,
                        member_pk=member_pk,
                        can_read=can_read,
                        can_write=can_write,
                        can_lookup=can_lookup,
                    )
                )
            member = conn.execute(
                select(s.members.c.name).where(s.members.c.pk == member_pk)
            ).scalar_one()
            collection = conn.execute(
                select(s.collections.c.id).where(s.collections.c.pk == collection_pk)
            ).scalar_one()
            rights = {"collection": collection, "read": can_read, "write": can_write}
            if can_lookup:  # only then: grant entries without one keep their old bytes
                rights["lookup"] = True
            self.append_log_in(conn, [event("grant", rights, member)])

    def grants(self, member_pk: int | None = None) -> list[Grant]:
        """Grants, of one member or of all."""
        g = s.grants
        stmt = select(g).order_by(g.c.collection_pk, g.c.member_pk)
        if member_pk is not None:
            stmt = stmt.where(g.c.member_pk == member_pk)
        with self.reads.connect() as conn:
            rows = conn.execute(stmt).all()
        return [
            Grant(
                r.collection_pk,
                r.member_pk,
                bool(r.can_read),
                bool(r.can_write),
                bool(r.can_lookup),
            )
            for r in rows
        ]

    def set_anonymous_read(self, collection_pk: int, allowed: bool) -> None:
        """Let unauthenticated clients read a collection, or stop them."""
        c = s.collections
        with self.write_tx() as conn:
            conn.execute(update(c).where(c.c.pk == collection_pk).values(anonymous_read=allowed))

    def save_status(
        self, status_id: str, collection_pk: int, member_pk: int | None, body: bytes
    ) -> None:
        """Keep (or replace) a TAXII status resource."""
        t = s.statuses
        with self.write_tx() as conn:
            conn.execute(t.delete().where(t.c.id == status_id))
            conn.execute(
                insert(t).values(
                    id=status_id,
                    collection_pk=collection_pk,
                    member_pk=member_pk,
                    created=now_us(),
                    body=body,
                )
            )

    def status(self, status_id: str) -> tuple[int | None, bytes] | None:
        """A status resource: (member pk that asked, body), or None."""
        t = s.statuses
        with self.engine.connect() as conn:
            r = conn.execute(select(t.c.member_pk, t.c.body).where(t.c.id == status_id)).first()
        return None if r is None else (r.member_pk, bytes(r.body))
