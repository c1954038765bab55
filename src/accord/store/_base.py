"""The store's one interface, and the plain values that cross it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from accord.stix import Record


@dataclass(frozen=True, slots=True)
class Collection:
    """A named set of object versions (a TAXII collection later)."""

    pk: int
    id: str
    title: str
    description: str
    created: int  # microseconds since the epoch
    anonymous_read: bool = False


class StoredObject(NamedTuple):
    """One stored version, with its canonical JSON bytes.

    A NamedTuple, not a dataclass: a TAXII page builds a thousand of these,
    and a frozen dataclass costs several times more to construct.
    """

    added: int  # date_added, microseconds since the epoch; unique and strictly ordered
    id: str
    type: str
    version: str
    spec_version: str
    revoked: bool
    data: bytes

    @classmethod
    def from_row(cls, r: Any) -> StoredObject:
        """From a row of (added, id, type, version, spec_version, revoked, data).

        Positional: reading a SQLAlchemy row by name costs ten times more.
        """
        added, oid, otype, version, spec_version, revoked, data = r
        return cls(added, oid, otype, version, spec_version, bool(revoked), bytes(data))


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one stored version came from, and when."""

    kind: str
    name: str
    when: int  # microseconds since the epoch


@dataclass(frozen=True, slots=True)
class Conflict:
    """A version that arrived with different content than the one stored (the first stays)."""

    id: str
    version: str
    stored_added: int


@dataclass(slots=True)
class BatchResult:
    """What one written batch did."""

    stored: int = 0
    duplicates: int = 0
    conflicts: list[Conflict] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Query:
    """A search over stored versions; empty fields do not filter.

    Attributes:
        value: an observable value (already normalised) the object mentions.
        types: STIX types to keep.
        labels: labels the object must all carry.
        text: case-insensitive substring of the name or description.
        modified_since / modified_until: version keys bounding ``modified``.
        added_after: date_added bound (microseconds, exclusive).
        collection_pk: only versions in this collection.
        ids: only these object ids.
        all_versions: every version, not only the current one.
        include_revoked: keep objects whose current version is revoked.
        limit: at most this many results.
    """

    value: str | None = None
    types: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    text: str | None = None
    modified_since: str | None = None
    modified_until: str | None = None
    added_after: int | None = None
    collection_pk: int | None = None
    ids: tuple[str, ...] = ()
    all_versions: bool = False
    include_revoked: bool = False
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts over the whole store."""

    versions: int
    objects: int
    current_by_type: dict[str, int]
    revoked: int
    observables: int
    sources: int
    collections: dict[str, int]
    database_bytes: int | None


class Writer(ABC):
    """Writes inside one transaction that holds the store's single write lock."""

    @abstractmethod
    def add(
        self, records: Sequence[Record], *, source_pk: int, collection_pks: Sequence[int] = ()
    ) -> BatchResult:
        """Store each new version once, index it and put it in the collections.

        A version already stored with the same bytes is a duplicate: it gains
        this source as provenance and joins the collections. With other bytes it
        is a conflict: the stored one stays and nothing of the new one is kept.
        """


class Store(ABC):
    """One node's storage; the backends differ only in dialect details."""

    url: str

    @abstractmethod
    def writer(self) -> AbstractContextManager[Writer]:
        """A write transaction: committed on normal exit, rolled back on any exception."""

    @abstractmethod
    def ensure_source(self, kind: str, name: str) -> int:
        """The primary key of the source (kind, name), created if new."""

    @abstractmethod
    def create_collection(
        self, title: str, description: str = "", collection_id: str | None = None
    ) -> Collection:
        """Make a collection; its title must be unused."""

    @abstractmethod
    def collections(self) -> list[Collection]:
        """All collections, oldest first."""

    @abstractmethod
    def collection(self, ref: str) -> Collection:
        """The collection with this id or title (raises UnknownCollection)."""

    @abstractmethod
    def collection_sizes(self) -> dict[int, int]:
        """Number of versions in each collection, by collection pk."""

    @abstractmethod
    def query(self, query: Query) -> Iterator[StoredObject]:
        """Stored versions matching the query, in date_added order."""

    @abstractmethod
    def provenance(self, added: int) -> list[Provenance]:
        """Every source of one stored version, first one first."""

    @abstractmethod
    def stats(self) -> Stats:
        """Counts over the whole store."""

    @abstractmethod
    def get_meta(self, key: str) -> str | None:
        """A node-level value (node id, name) kept in the database."""

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Set a node-level value."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
