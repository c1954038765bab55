"""Search, show and export: reads over the store, with stored bytes served as they are."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

from accord.exceptions import NotFound
from accord.service import egress, ledger
from accord.service.node import Node
from accord.stix import normalize_query, parse_timestamp, version_key
from accord.store import Provenance, Query, Stats, StoredObject

ExportFormat = Literal["bundle", "jsonl"]


def _key(timestamp: str | None, what: str) -> str | None:
    if timestamp is None:
        return None
    text = timestamp if "T" in timestamp else f"{timestamp}T00:00:00Z"
    try:
        parse_timestamp(text)
    except ValueError as exc:
        raise ValueError(f"{what} {timestamp!r}: {exc}") from exc
    return version_key(text)


def epoch(timestamp: str, what: str) -> float:
    """A STIX timestamp or a plain date (``2024-01-31``) as seconds since the epoch.

    Raises:
        ValueError: it does not parse.
    """
    text = timestamp if "T" in timestamp else f"{timestamp}T00:00:00Z"
    try:
        return parse_timestamp(text).timestamp()
    except ValueError as exc:
        raise ValueError(f"{what} {timestamp!r}: {exc}") from exc


def build_query(
    node: Node,
    *,
    value: str | None = None,
    types: Iterable[str] = (),
    labels: Iterable[str] = (),
    text: str | None = None,
    since: str | None = None,
    until: str | None = None,
    collection: str | None = None,
    ids: Iterable[str] = (),
    all_versions: bool = False,
    include_revoked: bool = False,
    limit: int | None = None,
) -> Query:
    """A store query from a user's terms.

    ``value`` is normalised the way stored observables are (hashes and domains
    lowercased, ``/32`` dropped, ...). ``since``/``until`` bound ``modified``
    and take STIX timestamps or plain dates (``2024-01-31``).

    Raises:
        ValueError: a timestamp does not parse.
        UnknownCollection: no collection has that id or title.
    """
    return Query(
        value=normalize_query(value) if value is not None else None,
        types=tuple(types),
        labels=tuple(labels),
        text=text,
        modified_since=_key(since, "--since"),
        modified_until=_key(until, "--until"),
        collection_pk=node.store.collection(collection).pk if collection else None,
        ids=tuple(ids),
        all_versions=all_versions,
        include_revoked=include_revoked,
        limit=limit,
    )


def stats(node: Node) -> Stats:
    """Counts over the node's whole store."""
    return node.store.stats()


def search(node: Node, query: Query) -> Iterator[StoredObject]:
    """Stored versions that match, in date_added order."""
    return node.store.query(query)


@dataclass(frozen=True, slots=True)
class ObjectHistory:
    """Every version of one object, with where each came from."""

    id: str
    versions: list[tuple[StoredObject, list[Provenance]]]


def show(node: Node, object_id: str) -> ObjectHistory:
    """All versions of one object, oldest first, with provenance.

    Raises:
        NotFound: no version of that id is stored.
    """
    found = list(node.store.query(Query(ids=(object_id,), all_versions=True)))
    if not found:
        raise NotFound(object_id)
    found.sort(key=lambda o: o.version)
    return ObjectHistory(object_id, [(o, node.store.provenance(o.added)) for o in found])


def export(objects: Iterable[StoredObject], out: BinaryIO, fmt: ExportFormat = "bundle") -> int:
    """Write objects as a STIX 2.1 bundle or JSON lines, straight from the stored bytes.

    Returns:
        The number of objects written.
    """
    count = 0
    if fmt == "jsonl":
        for obj in objects:
            out.write(obj.data)
            out.write(b"\n")
            count += 1
        return count
    # STIX 2.1 §8: a bundle has type, id and objects; no spec_version.
    out.write(b'{"type":"bundle","id":"bundle--' + str(uuid.uuid4()).encode() + b'","objects":[')
    for obj in objects:
        if count:
            out.write(b",")
        out.write(obj.data)
        count += 1
    out.write(b"]}\n")
    return count


class _Hashing:
    """A binary writer that hashes what passes through it."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        return self.out.write(data)


def export_for(
    node: Node,
    member_name: str,
    collection_ref: str,
    objects: Iterable[StoredObject],
    out: BinaryIO,
    fmt: ExportFormat = "bundle",
) -> int:
    """Export what one member may receive of a collection, logged before it is handed out.

    The export is written to a spool first (memory, then a temporary file past
    64 MiB): its bytes and versions are logged in the transparency log, and
    only then copied to ``out``.

    Raises:
        UnknownMember, UnknownCollection: no such member or collection.
    """
    collection = node.store.collection(collection_ref)
    member = node.store.member(member_name)
    gate = egress.open_gate(node, member, collection)
    added: list[int] = []

    def tracked(objs: Iterable[StoredObject]) -> Iterator[StoredObject]:
        for o in objs:
            added.append(o.added)
            yield o

    with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as spool:
        hashing = _Hashing(spool)  # type: ignore[arg-type]
        count = export(tracked(gate.objects(objects)), hashing, fmt)  # type: ignore[arg-type]
        ledger.share(
            node,
            channel="export",
            collection=collection,
            member=member,
            agreement=gate.agreement,
            added=added,
            digest=hashing.sha.hexdigest(),
        )
        spool.seek(0)
        shutil.copyfileobj(spool, out)
    return count
