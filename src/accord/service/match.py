"""Detection: match log files against every indicator the node holds, and record sightings.

The flow: log lines (`accord.logsources`) → events → the compiled `Matcher`
over all current, non-revoked STIX-pattern indicators (`_match_indicators`)
→ hits → one `sighting` per (indicator, this node) with a count
(`_match_sightings`), stored through the normal ingest path into the
sightings collection (``ACCORD_SIGHTINGS_COLLECTION``).

While following a growing log, the indicators stay current without a
rebuild (the store is polled for versions added since the last look) and the
sightings are written every ``ACCORD_MATCH_FLUSH_SECONDS``.

Sending sightings back to the producers of the indicators rides on
federation: `sightings_by_producer` tells, for each producer (the indicator's
``created_by_ref``, or the source it came from), which sightings are due to
it; the push itself is federation's, under the sharing agreement with that
peer.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from accord.exceptions import InputError
from accord.logsources import Format, LogParser, SourceStats
from accord.patterns import Hit, Matcher
from accord.service import _match_files, _match_fork
from accord.service._match_indicators import IndicatorFeed
from accord.service._match_sightings import SightingBook, sighting_id
from accord.service._match_standing import StandingGate
from accord.service.node import Node
from accord.store import Provenance, Query, StoredObject

__all__ = [
    "MatchReport",
    "ProducerSightings",
    "default_workers",
    "match_paths",
    "parse_mapping",
    "producer_of",
    "scan",
    "sighting_id",
    "sightings_by_producer",
]

Progress = Callable[[int, int, int], None]  # (bytes read, events, hits) so far
BIG_MATCHER = 100_000  # indicators from which the compiled set is frozen out of the GC
FORK_BYTES = 8 << 20  # inputs from this size are matched by forked workers, one per core
MAX_WORKERS = 8


@dataclass(slots=True)
class MatchReport:
    """What one `match_paths` run did."""

    inputs: int = 0
    indicators: int = 0  # held by the matcher at the start
    indicator_updates: int = 0  # versions applied while running (follow mode)
    pattern_errors: dict[str, str] = field(default_factory=dict)  # indicator id -> reason
    flagged: dict[str, str] = field(default_factory=dict)  # flagged by the matcher
    stats: SourceStats = field(default_factory=SourceStats)
    hits: Counter[str] = field(default_factory=Counter)  # indicator id -> hits of this run
    # Hits dropped by standing (no sighting made): indicator id -> hits, and why.
    suppressed: Counter[str] = field(default_factory=Counter)
    suppressed_why: dict[str, str] = field(default_factory=dict)
    standings: dict[str, float] = field(default_factory=dict)  # hit indicator id -> standing
    names: dict[str, str] = field(default_factory=dict)  # indicator id -> name
    producers: dict[str, str] = field(default_factory=dict)  # indicator id -> its producer
    counts: dict[str, int] = field(default_factory=dict)  # indicator id -> sighting count
    sightings_written: int = 0
    errors: list[str] = field(default_factory=list)
    failed_inputs: list[InputError] = field(default_factory=list)
    compile_seconds: float = 0.0
    seconds: float = 0.0
    interrupted: bool = False  # ended by Ctrl-C (the sightings counted so far are stored)

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())

    def summary(self) -> str:
        s = self.stats
        rate = s.lines / self.seconds if self.seconds > 0 else 0.0
        parts = [
            f"{s.lines:,} lines from {self.inputs} input(s)",
            f"{s.events:,} events",
            f"{self.total_hits:,} hits of {len(self.hits):,} indicator(s)",
            f"{self.sightings_written:,} sighting version(s) stored",
        ]
        if self.suppressed:
            parts.append(
                f"{sum(self.suppressed.values()):,} hits of {len(self.suppressed):,} "
                "indicator(s) suppressed by standing"
            )
        if s.skipped_total:
            parts.append(f"{s.skipped_total:,} lines skipped")
        parts.append(f"{self.indicators:,} indicators")
        return ", ".join(parts) + f" in {self.seconds:.2f} s ({rate:,.0f} lines/s)"


def parse_mapping(items: Sequence[str]) -> list[tuple[str, str]]:
    """``COLUMN=PATH`` strings as pairs.

    Raises:
        ValueError: an item has no ``=``.
    """
    pairs: list[tuple[str, str]] = []
    for item in items:
        column, sep, path = item.partition("=")
        if not sep or not column.strip() or not path.strip():
            raise ValueError(f"--map {item!r}: expected COLUMN=PATH (e.g. dst=ipv4-addr:value)")
        pairs.append((column.strip(), path.strip()))
    return pairs


def scan(
    matcher: Matcher,
    paths: Sequence[Path],
    *,
    fmt: Format | None = None,
    mapping: Sequence[tuple[str, str]] = (),
    stats: SourceStats,
    on_hits: Callable[[list[Hit]], None],
    failed: list[InputError],
    tick: Callable[[int], None] | None = None,
    workers: int = 1,
    default_time: float | None = None,
) -> int:
    """Feed every event of the files to the matcher; returns how many events there were.

    With ``workers`` above 1 (and ``fork`` on this system), each input whose lines
    can be parsed apart is read by that many forked worker processes
    (`_match_fork`), with the same answers. Inputs that cannot be read at all go
    to ``failed``; bad lines to ``stats``.
    """
    wall = time.time() if default_time is None else default_time
    events = 0
    feed = matcher.feed
    forked = workers > 1 and _match_fork.fork_available()
    for path in paths:
        parser = LogParser(str(path), fmt, mapping, stats, default_time=wall)
        if forked and _match_fork.splittable(path, fmt, mapping):
            events += _match_fork.scan_forked(
                matcher,
                path,
                parser,
                workers=workers,
                stats=stats,
                on_hits=on_hits,
                failed=failed,
                tick=tick,
            )
            continue
        try:
            for event in _match_files.read_file(path, parser, tick):
                events += 1
                found = feed(event)
                if found:
                    on_hits(found)
        except InputError as err:
            failed.append(err)
    return events


def default_workers(paths: Sequence[Path]) -> int:
    """Worker processes for these inputs: one per core from `FORK_BYTES` of input, else 1."""
    size = 0
    for path in paths:
        with contextlib.suppress(OSError):
            size += path.stat().st_size
    if size < FORK_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def match_paths(
    node: Node,
    paths: Sequence[str | Path],
    *,
    fmt: Format | None = None,
    mapping: Sequence[tuple[str, str]] = (),
    follow: bool = False,
    collection: str | None = None,
    keep_observed: int = 0,
    progress: Progress | None = None,
    stop: Callable[[], bool] | None = None,
    matcher: Matcher | None = None,
    workers: int | None = None,
    min_standing: float | None = None,
) -> MatchReport:
    """Match log files against the node's indicators and store the sightings.

    Args:
        node: the open node.
        paths: log files (plain or gzip).
        fmt: the log format, or None to detect it per file.
        mapping: CSV column mapping, ``(column, object path)`` pairs.
        follow: keep reading the (single) file as it grows, until ``stop()``.
        collection: where sightings go (default: ``ACCORD_SIGHTINGS_COLLECTION``).
        keep_observed: observed-data objects stored per sighting (0: none).
        progress: called now and then with (bytes read, events, hits).
        stop: in follow mode, ends the run when it returns true (default: never;
            Ctrl-C ends the CLI).
        matcher: a matcher to use instead of a new one (it is loaded from the store).
        workers: processes that parse and probe the inputs (default: one per core
            from `FORK_BYTES` of input, else 1: this process alone).
        min_standing: hits of indicators whose standing is below it make no sighting.
            Those reported as false positives by ``ACCORD_FP_SUPPRESS_MEMBERS``
            members never do (`_match_standing`).

    Raises:
        InputError: follow mode on more than one file, or on a file that cannot be opened.
        ValueError: a bad mapping or format.
    """
    started = time.perf_counter()
    settings = node.settings
    report = MatchReport()
    if follow and len(paths) != 1:
        raise InputError(", ".join(map(str, paths)), "--follow takes exactly one file")
    matcher = matcher if matcher is not None else Matcher()
    feed = IndicatorFeed(node, matcher)
    report.indicators = feed.load()
    gate = StandingGate(
        node, min_standing=min_standing, suppress_members=settings.fp_suppress_members
    )
    gate.load()
    report.compile_seconds = time.perf_counter() - started
    if report.indicators > BIG_MATCHER:
        # The compiled indicators live as long as the run: keep the collector from
        # walking their millions of objects on every full collection (events make
        # garbage fast). Process-wide, so only where it pays.
        gc.freeze()
    book = SightingBook(
        node, collection or settings.sightings_collection, keep_observed=keep_observed
    )
    read = hits = 0

    def tick(n: int) -> None:
        nonlocal read
        read += n
        if progress is not None:
            progress(read, report.stats.events, hits)

    last_flush = time.monotonic()

    def idle() -> None:
        nonlocal last_flush
        if time.monotonic() - last_flush < settings.match_flush_seconds:
            return
        report.indicator_updates += feed.poll()
        gate.poll()
        book.flush()
        last_flush = time.monotonic()

    def on_hits(found: list[Hit]) -> None:
        nonlocal hits
        found = gate.keep(found, report.suppressed, report.suppressed_why)
        hits += len(found)
        report.hits.update(h.indicator_id for h in found)
        book.add(found)

    files = [Path(p) for p in paths]
    try:
        if follow:
            parser = LogParser(str(files[0]), fmt, mapping, report.stats, default_time=time.time())
            stream = _match_files.follow_file(
                files[0], parser, stop=stop or (lambda: False), idle=idle, tick=tick
            )
            report.inputs = 1
            for event in stream:
                found = matcher.feed(event)
                if found:
                    on_hits(found)
        else:
            report.inputs = len(files)
            scan(
                matcher,
                files,
                fmt=fmt,
                mapping=mapping,
                stats=report.stats,
                on_hits=on_hits,
                failed=report.failed_inputs,
                tick=tick,
                workers=default_workers(files) if workers is None else workers,
            )
    except KeyboardInterrupt:
        # Ctrl-C ends a follow (and cuts a long run short): the hits counted so far
        # are real, so they are written before returning.
        report.interrupted = True
    book.flush()
    report.sightings_written = book.written
    report.errors = book.errors
    report.pattern_errors = dict(feed.errors)
    report.flagged = dict(matcher.flagged)
    report.names = {i: feed.loaded[i].name for i in report.hits if i in feed.loaded}
    report.counts = {i: book.count(i) for i in report.hits}
    for ind in report.suppressed:
        if ind in feed.loaded:
            report.names.setdefault(ind, feed.loaded[ind].name)
    held = node.store.standings([*report.hits, *report.suppressed])
    for ind in (*report.hits, *report.suppressed):
        report.standings[ind] = held[ind].standing.score if ind in held else 0.0
    for ind in report.hits:
        loaded = feed.loaded.get(ind)
        if loaded is not None:
            report.producers[ind] = producer_of(node, loaded.created_by_ref, loaded.added)[0]
    report.seconds = time.perf_counter() - started
    return report


@dataclass(slots=True)
class ProducerSightings:
    """The sightings due to one producer of indicators."""

    producer: str  # the indicators' created_by_ref, else "KIND:NAME" of their first source
    sources: list[Provenance]  # where those indicators came from (a peer, a file, ...)
    sightings: list[StoredObject]


def producer_of(node: Node, created_by_ref: str | None, added: int) -> tuple[str, list[Provenance]]:
    """The producer of an indicator version, and every source it came from.

    The producer is its ``created_by_ref`` when it has one, else ``KIND:NAME`` of
    the first source the version was stored from (a peer, a file), else "unknown".
    """
    sources = node.store.provenance(added)
    if created_by_ref:
        return created_by_ref, sources
    if sources:
        return f"{sources[0].kind}:{sources[0].name}", sources
    return "unknown", sources


def sightings_by_producer(
    node: Node, *, collection: str | None = None
) -> dict[str, ProducerSightings]:
    """This node's current sightings, grouped by the producer of the sighted indicator.

    A sighting's producer is read from its indicator: ``created_by_ref`` when the
    indicator has one, else the first source it was stored from (its provenance).
    Federation pushes each group back to the peer it belongs to, under the
    sharing agreement with that peer (this function sends nothing).

    Args:
        node: the open node.
        collection: the sightings collection (default: ``ACCORD_SIGHTINGS_COLLECTION``).
    """
    name = collection or node.settings.sightings_collection
    store = node.store
    try:
        pk = store.collection(name).pk
    except KeyError:
        return {}
    mine: list[tuple[StoredObject, str]] = []
    for obj in store.query(Query(types=("sighting",), collection_pk=pk)):
        data = orjson.loads(obj.data)
        if data.get("created_by_ref") == node.info.id and isinstance(
            data.get("sighting_of_ref"), str
        ):
            mine.append((obj, data["sighting_of_ref"]))
    indicator_ids = tuple(sorted({ref for _, ref in mine}))
    producers: dict[str, tuple[str, list[Provenance]]] = {}
    for start in range(0, len(indicator_ids), 500):
        chunk = indicator_ids[start : start + 500]
        for ind in store.query(Query(ids=chunk, include_revoked=True)):
            creator = orjson.loads(ind.data).get("created_by_ref")
            producers[ind.id] = producer_of(
                node, creator if isinstance(creator, str) else None, ind.added
            )
    groups: dict[str, ProducerSightings] = {}
    for obj, ref in mine:
        producer, sources = producers.get(ref, ("unknown", []))
        group = groups.setdefault(producer, ProducerSightings(producer, [], []))
        group.sightings.append(obj)
        for src in sources:
            if all((s.kind, s.name) != (src.kind, src.name) for s in group.sources):
                group.sources.append(src)
    return groups
