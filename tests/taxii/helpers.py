"""Objects, members and the in-process TAXII server the TAXII tests share."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import FastAPI

from accord.service.ingest import ingest_objects
from accord.service.node import Node
from accord.store import Collection, Member
from accord.taxii import API_ROOT, create_app

TAXII = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"


def oid(kind: str, n: int) -> str:
    """A deterministic STIX id (UUIDv4 layout) for the n-th object of a kind."""
    return f"{kind}--{uuid.UUID(int=n, version=4)}"


def stamp(second: int, fraction: str = "000") -> str:
    """A STIX timestamp in 2024, ``second`` seconds after midnight of 1 January."""
    minutes, seconds = divmod(second, 60)
    hours, minutes = divmod(minutes, 60)
    return f"2024-01-01T{hours:02d}:{minutes:02d}:{seconds:02d}.{fraction}Z"


def indicator(n: int, modified: str | None = None, **extra: Any) -> dict[str, Any]:
    """A valid STIX 2.1 indicator; ``modified`` picks its version."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid("indicator", n),
        "created": stamp(0),
        "modified": modified or stamp(0),
        "name": f"indicator {n}",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": stamp(0),
    }
    obj.update(extra)
    return obj


def malware(n: int) -> dict[str, Any]:
    """A valid STIX 2.1 malware object."""
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": oid("malware", n),
        "created": stamp(0),
        "modified": stamp(0),
        "name": f"malware {n}",
        "is_family": True,
    }


def basic(name: str, token: str) -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    """A Bearer Authorization header."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Server:
    """A node behind the TAXII app, with a collection and members of each kind.

    ``shared``: ``writer`` may read and write, ``reader`` may only read,
    ``dropbox``: ``writer`` may only write; ``public``: open to anonymous reading;
    ``hidden``: nobody but ``admin`` (read and write) has a grant.
    """

    node: Node
    app: FastAPI
    collections: dict[str, Collection]
    tokens: dict[str, str]
    members: dict[str, Member] = field(default_factory=dict)

    def url(self, collection: str, tail: str = "") -> str:
        """The URL of a collection (by its title here), plus a tail."""
        return f"{API_ROOT}collections/{self.collections[collection].id}/{tail}"

    def auth(self, member: str) -> dict[str, str]:
        """TAXII headers with the member's Bearer token."""
        return {"Accept": TAXII, **bearer(self.tokens[member])}

    def add(self, collection: str, objects: list[dict[str, Any]]) -> None:
        """Store objects straight through the ingest service (no HTTP)."""
        outcomes = ingest_objects(
            self.node,
            list(objects),
            source=("test", "fixture"),
            collection_pks=[self.collections[collection].pk],
        )
        assert all(o.ok for o in outcomes), [o for o in outcomes if not o.ok]


def make_server(node: Node, **settings: Any) -> Server:
    """Collections, members, grants and tokens on a node, and an app over it."""
    store = node.store
    collections = {t: store.create_collection(t) for t in ("shared", "dropbox", "public", "hidden")}
    store.set_anonymous_read(collections["public"].pk, True)
    collections["public"] = store.collection("public")
    members = {n: store.create_member(n) for n in ("writer", "reader", "admin", "stranger")}
    tokens = {n: store.create_token(m.pk)[0] for n, m in members.items()}
    store.set_grant(collections["shared"].pk, members["writer"].pk, True, True)
    store.set_grant(collections["shared"].pk, members["reader"].pk, True, False)
    store.set_grant(collections["dropbox"].pk, members["writer"].pk, False, True)
    store.set_grant(collections["hidden"].pk, members["admin"].pk, True, True)
    app = create_app(dataclasses.replace(node.settings, **settings), node)
    return Server(node, app, collections, tokens, members)


def envelope(objects: list[dict[str, Any]]) -> bytes:
    """A TAXII envelope's bytes."""
    return orjson.dumps({"objects": objects})


def post_headers(server: Server, member: str = "writer") -> dict[str, str]:
    """Headers of an Add Objects request."""
    return {**server.auth(member), "Content-Type": TAXII}
