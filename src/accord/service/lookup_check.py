"""Private lookup, the querier's side: which of our values a peer holds, and nothing more.

For each offer the peer makes us (or the one collection named): check the
offer against the peer's transparency log, download the filter (and the
sealed hit context) and check their digests, blind our values in batches of
the offer's limit, have the peer evaluate them, verify the DLEQ proof of
every batch against the epoch's key, unblind, and test the filter. A hit
whose context opens is certain (a Bloom false positive has no record), and
names the peer's indicators; a hit without context is a filter hit, at the
filter's false-positive rate.

The service does not import the edge: the CLI hands it a `LookupConnect`
(``accord.taxii.lookup_client.LookupClient``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from accord.exceptions import ConfigError, KeyNotAnnounced
from accord.logsources import Format, LogParser, SourceStats
from accord.patterns import Hit
from accord.privacy import (
    ContextTable,
    Filter,
    Offer,
    blind,
    canonical_pair,
    check_announcements,
    finalize,
    kind_of_path,
    oprf_input,
    read_value,
)
from accord.service import _ledger_peer, _match_files
from accord.service._ledger_peer import look_at_peer
from accord.service._match_sightings import SightingBook
from accord.service._sync_wire import PeerEndpoint
from accord.service.node import Node
from accord.service.sync import endpoint
from accord.store import Peer

__all__ = [
    "CheckReport",
    "LogConnect",
    "LookupConnect",
    "LookupWire",
    "PeerHit",
    "PrivateMatchReport",
    "check",
    "check_pairs",
    "event_pairs",
    "match_private",
]


class LookupWire(Protocol):
    """The HTTP calls of a private lookup (``accord.taxii.lookup_client.LookupClient``)."""

    def offers(self) -> list[dict[str, Any]]: ...
    def offer(self, collection_id: str) -> dict[str, Any]: ...
    def log(self, collection_id: str, epoch: int, size: int | None = None) -> Any: ...
    def blob(self, collection_id: str, epoch: int, which: str) -> bytes: ...
    def evaluate(self, collection_id: str, epoch: int, body: bytes) -> bytes: ...
    def close(self) -> None: ...

    @property
    def sent(self) -> int: ...
    @property
    def received(self) -> int: ...


LookupConnect = Callable[[PeerEndpoint], LookupWire]
# A TAXII client with the transparency-log calls (``accord.taxii.client.TaxiiClient``).
LogConnect = Callable[[PeerEndpoint], object]


@dataclass(frozen=True, slots=True)
class PeerHit:
    """One of our values found in one of the peer's collections."""

    kind: str
    value: str
    collection: str
    epoch: int
    contexts: tuple[dict[str, object], ...] | None  # None: no context offered or opened
    confirmed: bool  # its context opened: certainly held, not a filter false positive


@dataclass(slots=True)
class CheckReport:
    """What one `check` did."""

    peer: str
    values: int = 0
    offers: list[Offer] = field(default_factory=list)
    hits: list[PeerHit] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (text, why)
    sent: int = 0
    received: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"checked {self.values:,} value(s) against {len(self.offers)} offer(s) of "
            f"{self.peer}: {len(self.hits):,} hit(s), {len(self.refused)} refused, "
            f"{self.sent:,} bytes sent, {self.received:,} received in {self.seconds:.2f} s"
        )


def _witnessed(node: Node, peer: Peer, log_connect: LogConnect) -> tuple[int, bytes]:
    """Witness the peer's log now: ``(size, root)`` of its checkpoint as this node verified it.

    `look_at_peer` pins the log's key on first contact, checks the checkpoint's
    signature and its consistency with the one this node cosigned before, and
    hands our cosignature back (so every witness's view is tied to the others').

    Raises:
        KeyNotAnnounced: the log is missing, forked or refused.
    """
    client = log_connect(endpoint(node, peer))
    try:
        seen = look_at_peer(node, peer, client)
    finally:
        close = getattr(client, "close", None)
        if callable(close):
            close()
    origin = node.store.get_meta(_ledger_peer._meta_key(peer.name))
    if seen.forked or seen.size is None or seen.problems or origin is None:
        why = "; ".join(seen.problems) or "it forked"
        raise KeyNotAnnounced(f"{peer.name}: its transparency log cannot be relied on: {why}")
    held = node.store.witnessed(origin)[0]
    return held.size, held.root


def _announced(
    peer: str, wire: LookupWire, offer: Offer, witnessed: tuple[int, bytes] | None
) -> None:
    """Refuse an offer whose key and filter the peer's transparency log does not announce.

    The peer's log entries of the epoch, each with an inclusion proof to the
    checkpoint this node witnessed (`accord.privacy.check_announcements`).
    """
    size = None if witnessed is None else witnessed[0]
    try:
        check_announcements(offer, wire.log(offer.collection, offer.epoch, size), witnessed)
    except KeyNotAnnounced as exc:
        raise KeyNotAnnounced(f"{peer}: {exc.reason}") from None


def _one_offer(
    peer: str,
    wire: LookupWire,
    offer: Offer,
    pairs: Sequence[tuple[str, str]],
    report: CheckReport,
    witnessed: tuple[int, bytes] | None,
) -> None:
    _announced(peer, wire, offer, witnessed)
    filt = Filter(wire.blob(offer.collection, offer.epoch, "filter"), offer.filter_digest)
    table = None
    if offer.context_digest is not None:
        table = ContextTable(
            wire.blob(offer.collection, offer.epoch, "context"), offer.context_digest
        )
    step = max(1, offer.batch_limit)
    for start in range(0, len(pairs), step):
        chunk = pairs[start : start + step]
        state = blind([oprf_input(k, v) for k, v in chunk])
        answer = wire.evaluate(offer.collection, offer.epoch, state.body)
        outputs = finalize(state, answer, offer.public_key)
        for (kind, value), output, hit in zip(chunk, outputs, filt.hits(outputs), strict=True):
            if not hit:
                continue
            contexts = table.open(output) if table is not None else None
            if table is not None and contexts is None:
                continue  # a filter false positive: the holder sealed context for every value
            report.hits.append(
                PeerHit(
                    kind,
                    value,
                    offer.collection,
                    offer.epoch,
                    None if contexts is None else tuple(contexts),
                    contexts is not None,
                )
            )


def check_pairs(
    node: Node,
    peer_name: str,
    pairs: Sequence[tuple[str, str]],
    connect: LookupConnect,
    collection: str | None = None,
    log_connect: LogConnect | None = None,
) -> CheckReport:
    """Look canonical ``(kind, value)`` pairs up in a peer's offers.

    With ``log_connect``, the peer's transparency log is witnessed first and
    every offer is checked against the checkpoint witnessed; without it, only
    against the checkpoint the peer's answer names (tests, and peers whose log
    cannot be reached).

    Raises:
        UnknownPeer: no such peer.
        PeerError: the peer refused or failed (a 429 names its Retry-After).
        PrivateLookupError: a proof, key, filter or answer that is wrong.
    """
    started = time.perf_counter()
    peer = node.store.peer(peer_name)
    report = CheckReport(peer.name, values=len(pairs))
    wire = connect(endpoint(node, peer))
    try:
        bodies = [wire.offer(collection)] if collection else wire.offers()
        report.offers = [Offer.from_json(b) for b in bodies]
        if not report.offers:
            raise ConfigError(peer.name, "offers this node no private lookup (no lookup grant?)")
        unique = list(dict.fromkeys(pairs))
        witnessed = _witnessed(node, peer, log_connect) if log_connect is not None else None
        for offer in report.offers:
            if unique:
                _one_offer(peer.name, wire, offer, unique, report, witnessed)
        report.sent, report.received = wire.sent, wire.received
    finally:
        wire.close()
    report.seconds = time.perf_counter() - started
    return report


def check(
    node: Node,
    peer_name: str,
    values: Sequence[str],
    connect: LookupConnect,
    collection: str | None = None,
    log_connect: LogConnect | None = None,
) -> CheckReport:
    """Look bare values (typed by their shape) up in a peer's offers.

    A value whose shape is not known is refused (listed in the report), not sent.
    """
    pairs: list[tuple[str, str]] = []
    refused: list[tuple[str, str]] = []
    for text in values:
        pair = read_value(text)
        if pair is None:
            refused.append((text, "not a domain, address, URL, hash, e-mail or other known shape"))
        else:
            pairs.append(pair)
    report = check_pairs(node, peer_name, pairs, connect, collection, log_connect)
    report.values = len(values)
    report.refused = refused
    return report


def event_pairs(keys: Sequence[tuple[str, object]]) -> list[tuple[str, str]]:
    """The canonical pairs of a log event's ``(object path, value)`` keys."""
    out = []
    for path, value in keys:
        kind = kind_of_path(path)
        if kind is None or not isinstance(value, str):
            continue
        pair = canonical_pair(kind, value)
        if pair is not None:
            out.append(pair)
    return out


@dataclass(slots=True)
class PrivateMatchReport:
    """What `match_private` did: the lookup, and the sightings it made."""

    check: CheckReport
    events: int = 0
    sightings_written: int = 0
    unnamed_hits: int = 0  # filter hits without context: no indicator id to sight
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"private lookup at {self.check.peer}: {self.events:,} events, "
            f"{len(self.check.hits):,} value(s) held there, {self.sightings_written:,} "
            f"sighting version(s) stored, {self.unnamed_hits:,} hit(s) without context "
            f"({self.check.summary()})"
        )


def match_private(
    node: Node,
    paths: Sequence[str | Path],
    peer_name: str,
    connect: LookupConnect,
    *,
    log_connect: LogConnect | None = None,
    fmt: Format | None = None,
    mapping: Sequence[tuple[str, str]] = (),
    collection: str | None = None,
) -> PrivateMatchReport:
    """Match log files against a peer's indicators this node never receives.

    Every distinct value of the logs is looked up once; a hit whose context
    opens becomes a sighting of the peer's indicator, stored as local matches
    are (`SightingBook`), with the first and last time the value was seen.

    Raises:
        InputError: a file cannot be opened.
        PeerError, PrivateLookupError: as `check_pairs`.
    """
    seen: dict[tuple[str, str], list[float]] = {}
    events = 0
    for path in paths:
        parser = LogParser(str(path), fmt, mapping, SourceStats(), default_time=time.time())
        for event in _match_files.read_file(Path(path), parser):
            events += 1
            for pair in event_pairs(event.keys):
                span = seen.get(pair)
                if span is None:
                    seen[pair] = [event.time, event.time]
                else:
                    span[0] = min(span[0], event.time)
                    span[1] = max(span[1], event.time)
    report = PrivateMatchReport(
        check_pairs(node, peer_name, list(seen), connect, log_connect=log_connect), events
    )
    book = SightingBook(node, collection or node.settings.sightings_collection)
    hits: list[Hit] = []
    for hit in report.check.hits:
        first, last = seen[(hit.kind, hit.value)]
        if not hit.contexts:
            report.unnamed_hits += 1
            continue
        for ctx in hit.contexts:
            indicator = ctx.get("id")
            if isinstance(indicator, str) and indicator.startswith("indicator--"):
                hits.append(Hit(indicator, first, last, ()))
    book.add(hits)
    book.flush()
    report.sightings_written = book.written
    report.errors = book.errors
    return report
