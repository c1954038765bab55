"""What the sync service needs from a TAXII client, without importing the edge.

The service layer does not import ``accord.taxii`` (imports point inward); the
edges hand it a `Connect` that builds a client, ``accord.taxii.client.TaxiiClient``
in Accord, which satisfies `PeerClient` as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class PeerEndpoint:
    """Where and how to reach a peer. ``token`` is never part of the repr."""

    url: str
    api_root: str
    username: str | None
    token: str | None = field(repr=False)


class PageLike(Protocol):
    """One page of a collection's objects."""

    @property
    def objects(self) -> list[dict[str, Any]]: ...
    @property
    def more(self) -> bool: ...
    @property
    def next(self) -> str | None: ...
    @property
    def added_last(self) -> str | None: ...


def envelope_body(objects: list[bytes]) -> bytes:
    """The TAXII envelope a push POSTs, byte for byte (what the transparency log digests)."""
    return b'{"objects":[' + b",".join(objects) + b"]}"


class PeerClient(Protocol):
    """The TAXII 2.1 calls a sync makes."""

    def pages(
        self,
        collection_id: str,
        *,
        added_after: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Iterator[PageLike]: ...

    def add_objects(self, collection_id: str, objects: list[bytes]) -> dict[str, Any]: ...

    def wait_status(
        self, status: dict[str, Any], *, timeout: float = 300.0, poll: float = 0.5
    ) -> dict[str, Any]: ...

    def close(self) -> None: ...


Connect = Callable[[PeerEndpoint], PeerClient]
