"""Search, show and export: reads over the store, with stored bytes served as they are."""

from __future__ import annotations

import shutil
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


def export_chunks(objects: Iterable[StoredObject], fmt: ExportFormat = "bundle") -> Iterator[bytes]:
    """A STIX 2.1 bundle or JSON lines of objects, as chunks of their stored bytes."""
    if fmt == "jsonl":
        for obj in objects:
            yield obj.data + b"\n"
        return
    # STIX 2.1 §8: a bundle has type, id and objects; no spec_version.
    yield b'{"type":"bundle","id":"bundle--' + str(uuid.uuid4()).encode() + b'","objects":['
    first = True
    for obj in objects:
        yield obj.data if first else b"," + obj.data
        first = False
    yield b"]}\n"


def export(objects: Iterable[StoredObject], out: BinaryIO, fmt: ExportFormat = "bundle") -> int:
    """Write objects as a STIX 2.1 bundle or JSON lines, straight from the stored bytes.

    Returns:
        The number of objects written.
    """
    counted = _Counted(objects)
    for chunk in export_chunks(counted, fmt):
        out.write(chunk)
    return counted.count


class _Counted:
    """The objects of an iterable, counted as they are read."""

    def __init__(self, objects: Iterable[StoredObject]) -> None:
        self._objects = objects
        self.count = 0
        self.added: list[int] = []

    def __iter__(self) -> Iterator[StoredObject]:
        for obj in self._objects:
            self.count += 1
            self.added.append(obj.added)
            yield obj


def export_for(
    node: Node,
    member_name: str,
    collection_ref: str,
    objects: Iterable[StoredObject],
    out: BinaryIO,
    fmt: ExportFormat = "bundle",
) -> int:
    """Export what one member may receive of a collection, logged before it is handed out.

    Spooled and logged by `ledger.spooled_share` (bounded memory), then copied to ``out``.

    Raises:
        UnknownMember, UnknownCollection: no such member or collection.
    """
    collection = node.store.collection(collection_ref)
    member = node.store.member(member_name)
    gate = egress.open_gate(node, member, collection)
    counted = _Counted(gate.objects(objects))
    spool, _ = ledger.spooled_share(
        node,
        channel="export",
        collection=collection,
        member=member,
        agreement=gate.agreement,
        chunks=export_chunks(counted, fmt),
        added=counted.added,
    )
    with spool:
        shutil.copyfileobj(spool, out)
    return counted.count
