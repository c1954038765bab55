"""Pull: a peer's collection into ours, incrementally, each page with its cursor.

The cursor is the ``X-TAXII-Date-Added-Last`` of the last page stored, and it
commits in the same transaction as that page's objects: a crash loses at most
the page in flight, and the next pull asks again from the cursor. The next pull
asks for ``added_after`` = cursor - 1 µs, so the last version stored comes once
more (a duplicate, which changes nothing): a server whose ``date_added`` values
tie (several objects of one POST) can then never make us skip the rest of a tie
that a page boundary cut. Within one pull, pages follow ``next``.

Pages are fetched by a second thread while the first stores the page before,
so the network and the database work at the same time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from accord.exceptions import InvalidObject
from accord.service import _sync_retract
from accord.service._sync_wire import PageLike, PeerClient
from accord.service.node import Node
from accord.stix import Record, parse_timestamp, prepare
from accord.store import Peer


@dataclass(slots=True)
class PullReport:
    """What one pull did."""

    pages: int = 0
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    invalid: int = 0
    conflicts: int = 0
    retractions: int = 0  # tombstones honoured
    purged: int = 0  # versions they deleted here
    refused_retracted: int = 0  # versions older than a retraction, not stored
    cursor: str | None = None


def resume_after(cursor: str | None) -> str | None:
    """The ``added_after`` that resumes from a cursor (one microsecond before it)."""
    if cursor is None:
        return None
    moment = parse_timestamp(cursor) - timedelta(microseconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_DONE = object()


def _prefetch(pages: Iterator[PageLike], depth: int = 2) -> Iterator[PageLike]:
    """The pages of an iterator, fetched ahead by a thread (errors re-raised here)."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for page in pages:
                if not put(page):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(exc)
            return
        put(_DONE)

    thread = threading.Thread(target=run, name="accord-pull-fetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=5)


def _store_page(node: Node, peer: Peer, page: PageLike, source_pk: int, report: PullReport) -> None:
    """Store one page, honour its retractions and save the cursor, in one transaction."""
    records: list[Record] = []
    tombstones: list[Record] = []
    for obj in page.objects:
        try:
            rec = prepare(obj)
        except InvalidObject:
            report.invalid += 1
            continue
        (tombstones if _sync_retract.is_retraction(obj) else records).append(rec)
    into = [peer.into_pk] if peer.into_pk is not None else []
    with node.store.federation_tx() as ftx:
        ids = {r.id for r in records} | {t.id for t in tombstones}
        blocked = ftx.retracted_versions(ids) if ids else {}
        fresh: list[Record] = []
        for t in tombstones:
            if blocked.get(t.id, "") >= t.version:
                records.append(t)  # a retraction already carried out: an ordinary duplicate
            else:
                fresh.append(t)
                blocked[t.id] = t.version
        kept = [r for r in records if not (r.id in blocked and r.version < blocked[r.id])]
        report.refused_retracted += len(records) - len(kept)
        result = ftx.writer.add(kept, source_pk=source_pk, collection_pks=into)
        report.stored += result.stored
        report.duplicates += result.duplicates
        report.conflicts += len(result.conflicts)
        for t in fresh:
            purged = _sync_retract.apply_pulled(
                ftx, t, peer_name=peer.name, source_pk=source_pk, into_pk=peer.into_pk
            )
            if purged is not None:
                report.retractions += 1
                report.purged += purged
        if page.added_last:
            ftx.set_pull_cursor(peer.pk, page.added_last)
            report.cursor = page.added_last


def pull(node: Node, peer: Peer, client: PeerClient, *, page_size: int) -> PullReport:
    """Pull every page the peer added after our cursor into the peer's mapped collection."""
    report = PullReport(cursor=peer.pull_cursor)
    if peer.collection is None:
        return report
    source_pk = node.store.ensure_source("peer", peer.name)
    pages = client.pages(
        peer.collection, added_after=resume_after(peer.pull_cursor), limit=page_size
    )
    for page in _prefetch(pages):
        report.pages += 1
        report.received += len(page.objects)
        _store_page(node, peer, page, source_pk, report)
    return report
