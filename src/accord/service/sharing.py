"""Who may reach the node: collections and their grants, members, tokens.

The use cases behind ``accord collection|member|token``; the TAXII edge reads
the same grants through `accord.service.taxii`.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.service import egress
from accord.service.node import Node
from accord.store import Collection, Member, TokenInfo


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """A collection and how many versions it holds."""

    collection: Collection
    versions: int


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """A member, its rights as "title (rw)" strings, and its declared jurisdiction."""

    member: Member
    rights: list[str]
    jurisdiction: str | None = None


def create_collection(
    node: Node,
    title: str,
    description: str = "",
    collection_id: str | None = None,
    anonymous_read: bool = False,
) -> Collection:
    """Make a collection, optionally open to reading without a token."""
    c = node.store.create_collection(title, description, collection_id)
    if anonymous_read:
        node.store.set_anonymous_read(c.pk, True)
    return c


def collections(node: Node) -> list[CollectionInfo]:
    """Every collection with its size."""
    sizes = node.store.collection_sizes()
    return [CollectionInfo(c, sizes.get(c.pk, 0)) for c in node.store.collections()]


def grant(
    node: Node,
    collection_ref: str,
    member_name: str,
    *,
    read: bool,
    write: bool,
    lookup: bool = False,
) -> tuple[Collection, Member]:
    """Set a member's rights on a collection (all False: take them away).

    ``lookup`` lets the member run a private lookup against the collection
    (`accord.service.lookup`) without reading it.

    Raises:
        UnknownCollection, UnknownMember: no such collection or member.
    """
    c = node.store.collection(collection_ref)
    m = node.store.member(member_name)
    node.store.set_grant(c.pk, m.pk, read, write, lookup)
    return c, m


def set_anonymous_read(node: Node, collection_ref: str, allow: bool) -> Collection:
    """Allow or deny reading a collection without authentication."""
    c = node.store.collection(collection_ref)
    node.store.set_anonymous_read(c.pk, allow)
    return c


def add_member(
    node: Node,
    name: str,
    contact: str = "",
    identity_id: str | None = None,
    jurisdiction: str | None = None,
) -> Member:
    """Add a partner organisation, with its declared jurisdiction (sharing agreements).

    Raises:
        ValueError: the jurisdiction is not a code such as EU, DE or CN.
    """
    if jurisdiction:
        egress.check_jurisdiction(jurisdiction)
    member = node.store.create_member(name, contact, identity_id)
    if jurisdiction:
        egress.set_jurisdiction(node, name, jurisdiction)
    return member


def members(node: Node) -> list[MemberInfo]:
    """Every member with its rights and jurisdiction."""
    titles = {c.pk: c.title for c in node.store.collections()}
    grants = node.store.grants()
    jurisdictions = node.store.jurisdictions()
    return [
        MemberInfo(
            m,
            [
                f"{titles[g.collection_pk]} ({'r' if g.can_read else ''}"
                f"{'w' if g.can_write else ''}{'l' if g.can_lookup else ''})"
                for g in grants
                if g.member_pk == m.pk
            ],
            jurisdictions.get(m.name),
        )
        for m in node.store.members()
    ]


def create_token(node: Node, member_name: str) -> tuple[str, TokenInfo]:
    """A new token for a member: the secret, to show once, and its listing."""
    return node.store.create_token(node.store.member(member_name).pk)


def tokens(node: Node) -> list[TokenInfo]:
    """Every token by prefix, revoked ones included."""
    return node.store.tokens()


def revoke_token(node: Node, prefix_or_token: str) -> int:
    """Revoke the live tokens with this prefix (or this secret); returns how many."""
    return node.store.revoke_token(prefix_or_token)
