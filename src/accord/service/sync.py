"""Federation: peers, pull, push, retraction, and the background sync of `accord serve`.

A peer is any TAXII 2.1 server. Pulling brings the objects of one of its
collections into one of ours, through the store writer that imports use, with
provenance (source kind ``peer``, the peer's name, and when); pushing sends the
new versions of our chosen collections to one of its collections. Each peer
is synced on its own: one that fails or hangs is retried (`RetryPolicy`),
then its error is recorded (`accord peer list`) and the others go on.

The edges pass a `Connect` (``accord.taxii.client.TaxiiClient`` in Accord):
the service layer imports no edge.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from accord.exceptions import AccordError, ConfigError
from accord.service import _sync_pull, _sync_push, _sync_retract, _sync_secret
from accord.service import community as community_service
from accord.service._ledger_peer import LogReport, look_at_peer
from accord.service._schedule import Scheduler
from accord.service._sync_pull import PullReport
from accord.service._sync_push import PushReport, objects_for_peer
from accord.service._sync_retract import (
    EXTENSION_DEFINITION,
    RETRACTION_EXTENSION_ID,
    RetractReport,
    is_retraction,
)
from accord.service._sync_wire import Connect, PageLike, PeerClient, PeerEndpoint
from accord.service.node import Node, load_private_key
from accord.settings import Settings
from accord.stix import is_identifier
from accord.store import Peer, PushFailure, Retraction

__all__ = [
    "EXTENSION_DEFINITION",
    "RETRACTION_EXTENSION_ID",
    "Connect",
    "PageLike",
    "PeerClient",
    "PeerEndpoint",
    "PeerView",
    "PullReport",
    "PushReport",
    "RetractReport",
    "SyncReport",
    "SyncScheduler",
    "add_peer",
    "bind_identity",
    "is_retraction",
    "list_peers",
    "objects_for_peer",
    "push_failures",
    "remove_peer",
    "retract",
    "retractions",
    "sync",
    "sync_peer",
]

log = logging.getLogger("accord.sync")


@dataclass(frozen=True, slots=True)
class PeerView:
    """A peer as listed: its settings and state, our collection names, never its token."""

    peer: Peer
    into: str | None
    push_from: tuple[str, ...]
    push_failures: int


@dataclass(slots=True)
class SyncReport:
    """What one sync of one peer did."""

    peer: str
    pull: PullReport | None = None
    push: PushReport | None = None
    error: str | None = None
    seconds: float = 0.0
    retracted: list[str] = field(default_factory=list)
    log: LogReport | None = None  # the peer's transparency log: witnessed, receipts checked
    community: community_service.AbsorbReport | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        parts = [f"{self.peer}:"]
        if self.pull is not None:
            p = self.pull
            parts.append(
                f"pulled {p.received:,} in {p.pages} page(s), {p.stored:,} new,"
                f" {p.duplicates:,} already stored"
            )
            if p.invalid:
                parts.append(f"{p.invalid:,} invalid")
            if p.conflicts:
                parts.append(f"{p.conflicts:,} conflicting")
            if p.forged:
                parts.append(f"{p.forged:,} opinion(s) refused as not the peer's own")
            if p.retractions:
                parts.append(f"{p.retractions} retraction(s), {p.purged} version(s) purged")
        if self.community is not None and (self.community.accepted or self.community.refused):
            c = self.community
            parts.append(f"community: {c.accepted} record(s) accepted, {len(c.refused)} refused")
        if self.push is not None:
            q = self.push
            parts.append(f"pushed {q.sent:,} ({q.accepted:,} accepted, {q.refused:,} refused)")
        if self.log is not None:
            parts.append(self.log.summary())
        if self.error is not None:
            parts.append(f"FAILED: {self.error}")
        return " ".join(parts) + f" in {self.seconds:.2f} s"


# -- peers ---------------------------------------------------------------------


def _is_identity(value: str) -> bool:
    return value.startswith("identity--") and is_identifier(value)


def add_peer(
    node: Node,
    name: str,
    *,
    url: str,
    api_root: str,
    collection: str | None,
    token: str | None,
    username: str | None = None,
    into: str | None = None,
    push_collection: str | None = None,
    push_from: Sequence[str] = (),
    interval: int = 300,
    identity_id: str | None = None,
) -> Peer:
    """Add a peer.

    Args:
        node: the node.
        name: our name for the peer (its provenance name).
        url: the peer's server URL (``https://host:port``).
        api_root: the API root path (``/api/v21/``) or URL.
        collection: the peer's collection to pull (None: push only).
        token: the peer's token for us (sealed at rest); None: anonymous.
        username: HTTP Basic user name (None: the token is a Bearer token).
        into: our collection, by id or title, pulled objects land in; created
            when no collection has that id or title. Default: the peer's name.
        push_collection: the peer's collection to push to (None: no push).
        push_from: our collections (ids or titles) pushed to it.
        interval: seconds between syncs in `accord serve`.
        identity_id: the peer's STIX identity: its opinions must carry
            it as ``created_by_ref`` (without one, they are refused).

    Raises:
        ConfigError: a combination that cannot work.
        StoreError: a peer with that name exists.
    """
    if not url.startswith(("http://", "https://")):
        raise ConfigError("--url", f"{url!r} is not an http(s) URL")
    if "@" in urlsplit(url).netloc:
        # A URL is printed and logged; a secret in it would be too.
        raise ConfigError("--url", "must not hold credentials: give --token (and --user)")
    if collection is None and push_collection is None:
        raise ConfigError("--collection", "give a collection to pull or one to push to")
    if push_collection is not None and not push_from:
        raise ConfigError("--push-from", "name our collections to push to the peer")
    if interval < 1:
        raise ConfigError("--interval", "must be at least one second")
    if identity_id is not None and not _is_identity(identity_id):
        raise ConfigError("--identity-id", f"{identity_id!r} is not a STIX identity id")
    store = node.store
    into_pk: int | None = None
    if collection is not None:
        ref = into or name
        try:
            into_pk = store.collection(ref).pk
        except KeyError:
            into_pk = store.create_collection(ref, f"pulled from peer {name}").pk
    push_pks = [store.collection(ref).pk for ref in push_from]
    sealed = None
    if token:
        sealed = _sync_secret.seal(load_private_key(node.settings.home), token, name)
    return store.add_peer(
        name,
        url=url,
        api_root=api_root,
        collection=collection,
        into_pk=into_pk,
        push_collection=push_collection,
        push_from=push_pks,
        username=username,
        token_sealed=sealed,
        interval=interval,
        identity_id=identity_id,
    )


def bind_identity(node: Node, name: str, identity_id: str | None) -> Peer:
    """Bind a peer to its STIX identity (None: unbind; its opinions are then refused).

    Raises:
        ConfigError: not a STIX identity id.
        UnknownPeer: no peer has that name.
    """
    if identity_id is not None and not _is_identity(identity_id):
        raise ConfigError("identity", f"{identity_id!r} is not a STIX identity id")
    return node.store.set_peer_identity(name, identity_id)


def list_peers(node: Node) -> list[PeerView]:
    """Every peer with its state (never its token)."""
    store = node.store
    titles = {c.pk: c.title for c in store.collections()}
    out = []
    for peer in store.peers():
        out.append(
            PeerView(
                peer,
                titles.get(peer.into_pk) if peer.into_pk is not None else None,
                tuple(titles.get(pk, str(pk)) for pk in peer.push_from),
                len(store.push_failures(peer.pk)),
            )
        )
    return out


def remove_peer(node: Node, name: str) -> None:
    """Forget a peer (what it delivered stays, with its provenance)."""
    node.store.remove_peer(name)


def push_failures(node: Node, name: str) -> list[PushFailure]:
    """The versions a peer refused when we pushed them."""
    return node.store.push_failures(node.store.peer(name).pk)


def retractions(node: Node) -> list[Retraction]:
    """Every retraction carried out on this node."""
    return node.store.retractions()


def retract(node: Node, object_id: str) -> RetractReport:
    """Retract an object shared by mistake (see `_sync_retract` for the wire format)."""
    return _sync_retract.retract(node, object_id)


# -- syncing -------------------------------------------------------------------


def endpoint(node: Node, peer: Peer) -> PeerEndpoint:
    """How to reach a peer, its token unsealed."""
    sealed = node.store.peer_token_sealed(peer.pk)
    token = None
    if sealed is not None:
        token = _sync_secret.unseal(load_private_key(node.settings.home), sealed, peer.name)
    return PeerEndpoint(peer.url, peer.api_root, peer.username, token)


def sync_peer(node: Node, name: str, connect: Connect) -> SyncReport:
    """Pull from and push to one peer; a failure is recorded on the peer, not raised."""
    start = time.perf_counter()
    peer = node.store.peer(name)
    report = SyncReport(peer.name)
    client: PeerClient | None = None
    try:
        client = connect(endpoint(node, peer))
        if peer.collection is not None:
            report.pull = _sync_pull.pull(node, peer, client, page_size=node.settings.sync_page)
        if peer.push_collection is not None:
            report.push = _sync_push.push(node, peer, client, envelope=node.settings.sync_page)
    except (AccordError, OSError) as exc:
        # PeerError carries the URL, never credentials; its reason is the peer's answer.
        report.error = str(exc)
        log.warning("sync with peer %s failed: %s", peer.name, report.error)
    # The sync is recorded as soon as its pages are stored; what follows reads them.
    node.store.note_sync(
        peer.pk,
        error=report.error,
        pulled=report.pull is not None,
        pushed=report.push is not None,
    )
    try:
        if report.pull is not None and report.pull.stored:
            # Community records pulled into the inbox: checked, the good ones accepted.
            report.community = community_service.absorb(node)
        if client is not None and report.pull is not None and node.settings.log:
            # Every peer we pull from is witnessed, and the pages' receipts checked.
            report.log = look_at_peer(node, peer, client)
    except (AccordError, OSError) as exc:
        # Neither fails the sync: the pages are stored; the next sync tries again.
        log.warning("after the sync with peer %s: %s", peer.name, exc)
    finally:
        if client is not None:
            client.close()
    report.seconds = time.perf_counter() - start
    return report


def sync(node: Node, connect: Connect, names: Sequence[str] = ()) -> list[SyncReport]:
    """Sync the named peers (all when none is named), one after the other."""
    wanted = list(names) or [p.name for p in node.store.peers()]
    for name in wanted:
        node.store.peer(name)  # an unknown name fails before any sync starts
    return [sync_peer(node, name, connect) for name in wanted]


class SyncScheduler(Scheduler[SyncReport]):
    """Syncs each peer on its own interval, each in its own thread, until stopped."""

    def __init__(
        self,
        settings: Settings,
        connect: Connect,
        *,
        tick: float = 1.0,
        on_report: Callable[[SyncReport], None] | None = None,
    ) -> None:
        super().__init__(
            settings,
            "sync",
            lambda node: [(p.name, p.interval) for p in node.store.peers()],
            lambda node, name: sync_peer(node, name, connect),
            tick=tick,
            on_report=on_report,
        )
