"""Scheduled feeds: fetch, import, and the lifecycle of what they list.

A feed is a URL with a format (``misp``: one MISP document; ``misp-feed``: a
MISP feed's ``manifest.json`` beside its event files; ``stix``: a bundle;
``csv``/``txt``: an IOC list) synced every ``interval`` seconds by `accord
serve` and by ``accord feed sync``. Fetching (an edge: `accord.taxii`) sends
the validators of the last answer, so an unchanged feed costs a 304; a failed
fetch, or an answer that is no feed (HTML, a 404, too large), changes nothing
stored and is recorded on the feed (`accord feed list`).

Lifecycle. The feed's entries (indicator ids, with their kind and when the
feed last listed them) are kept beside it. An indicator that a list or
bundle no longer holds gets a new version with ``valid_until`` now: it stays
stored, and the matcher stops matching it as soon as it sees the version. An
indicator that no sync has reconfirmed within its kind's lifetime
(ACCORD_FEED_LIFETIMES, or the feed's ``--expire-after``) ages out the same
way. A MISP feed resumes: an event whose manifest timestamp was imported
already is not fetched again, so a sync cut off half-way goes on where it
stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson

from accord import formats
from accord.exceptions import AccordError, ConfigError, FeedError, InputError, UnknownCollection
from accord.service import _foreign, ingest
from accord.service._foreign import ForeignReport, ListOptions
from accord.service._schedule import Scheduler
from accord.service.ingest import Unit
from accord.service.node import Node
from accord.settings import Settings, lifetimes
from accord.stix import Tlp
from accord.store import Feed, FeedEntry, now_us

log = logging.getLogger("accord.feeds")

FEED_FORMATS = ("misp", "misp-feed", "stix", "csv", "txt")
_DEFAULT_LIFETIME_DAYS = 365
_DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True, slots=True)
class Fetched:
    """One answer of a feed's server: 200 with its body and validators, or 304."""

    status: int
    body: bytes
    etag: str | None
    last_modified: str | None


# (url, etag, last_modified) -> Fetched; raises FeedError.
Fetch = Callable[[str, str | None, str | None], Fetched]


@dataclass(slots=True)
class FeedReport:
    """What one sync of one feed did."""

    feed: str
    status: str = "failed"  # fetched, not modified, failed
    imported: ForeignReport | None = None
    listed: int = 0
    vanished: int = 0
    aged: int = 0
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        parts = [f"{self.feed}: {self.status}"]
        if self.imported is not None:
            parts.append(f"{self.imported.stored:,} new version(s) stored")
            if self.imported.line_problem_count:
                parts.append(f"{self.imported.line_problem_count:,} line(s) refused")
            if self.imported.attribute_problem_count:
                parts.append(f"{self.imported.attribute_problem_count:,} attribute problem(s)")
        if self.listed:
            parts.append(f"{self.listed:,} listed")
        if self.vanished or self.aged:
            parts.append(
                f"{self.vanished:,} gone from the feed, {self.aged:,} aged out (valid_until set)"
            )
        if self.error:
            parts.append(f"FAILED: {self.error}")
        return ", ".join(parts) + f" in {self.seconds:.2f} s"


# -- feeds ----------------------------------------------------------------------------


def add_feed(
    node: Node,
    name: str,
    *,
    url: str,
    fmt: str,
    interval: int = 3600,
    tlp: str = "clear",
    expire_after: int | None = None,
    collection: str | None = None,
) -> Feed:
    """Add a feed; its objects go into ``collection`` (default: one named after the feed).

    Raises:
        ConfigError: a format, URL, interval, TLP level or lifetime that cannot be.
    """
    if fmt not in FEED_FORMATS:
        raise ConfigError("--format", f"{fmt!r}: use one of {', '.join(FEED_FORMATS)}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("--url", f"{url!r} is not an http(s) URL")
    if interval <= 0:
        raise ConfigError("--interval", "must be a positive number of seconds")
    if expire_after is not None and expire_after <= 0:
        raise ConfigError("--expire-after", "must be a positive number of days")
    try:
        level = Tlp.parse(tlp)
    except ValueError as exc:
        raise ConfigError("--tlp", str(exc)) from exc
    ref = collection or name
    try:
        coll = node.store.collection(ref)
    except UnknownCollection:
        coll = node.store.create_collection(ref)
    return node.store.add_feed(
        name,
        url=url,
        format=fmt,
        interval=interval,
        tlp=level.name.lower(),
        expire_after=expire_after,
        collection_pk=coll.pk,
    )


def list_feeds(node: Node) -> list[Feed]:
    """Every feed, oldest first."""
    return node.store.feeds()


def remove_feed(node: Node, name: str) -> None:
    """Forget a feed (what it delivered stays stored)."""
    node.store.remove_feed(name)


# -- one sync -------------------------------------------------------------------------


def _stix_now(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _plus_ms(ts: str) -> str:
    t = datetime.strptime(ts[:23].rstrip("Z").ljust(23, "0"), "%Y-%m-%dT%H:%M:%S.%f")
    return (t + timedelta(milliseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _collection_ref(node: Node, feed: Feed) -> str | None:
    for c in node.store.collections():
        if c.pk == feed.collection_pk:
            return c.id
    return None


def _indicator_kinds(objects: Iterable[Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for obj in objects:
        if (
            isinstance(obj, dict)
            and obj.get("type") == "indicator"
            and isinstance(obj.get("id"), str)
        ):
            pattern = obj.get("pattern")
            out[obj["id"]] = formats.pattern_kind(pattern) if isinstance(pattern, str) else "other"
    return out


def _list_kind(kind: str) -> str:
    return {
        "cidr4": "cidr",
        "cidr6": "cidr",
        "md5": "hash",
        "sha1": "hash",
        "sha256": "hash",
        "sha512": "hash",
    }.get(kind, kind)


class _Sync:
    """The state of one sync of one feed."""

    def __init__(self, node: Node, feed: Feed, fetch: Fetch, now: int) -> None:
        self.node = node
        self.feed = feed
        self.fetch = fetch
        self.now = now
        self.now_ts = _stix_now(now)
        self.source = ("feed", feed.name)
        self.collection = _collection_ref(node, feed)
        self.report = ForeignReport()

    def store(self, units: Iterable[Unit]) -> None:
        ingest.import_units(self.node, units, collection=self.collection, report=self.report)

    def whole(self, name: str) -> None:
        """A feed that is one document: its failure is the sync's."""
        if self.report.failed_inputs:
            err = self.report.failed_inputs[0]
            raise FeedError(self.feed.url, err.reason)

    def body(self, fetched: Fetched) -> dict[str, str]:
        """Import one fetched body; the ids and kinds of the indicators it lists."""
        fmt, url = self.feed.format, self.feed.url
        if fmt in ("csv", "txt"):
            lines, note = _foreign.decode_list(url, fetched.body)
            if note:
                self.report.notes.append(note)
            options = ListOptions(producer=self.feed.name, tlp=Tlp.parse(self.feed.tlp))
            parsed = _foreign.parse_list(lines, fmt, options)
            self.report.lists += 1
            self.report.entries += len(parsed.entries)
            self.report.add_line_problems(url, parsed.problems)
            if not parsed.entries and parsed.problems:
                raise FeedError(url, f"no entry in the list ({parsed.problems[0]})")
            objects, _ = _foreign.list_objects(
                self.node,
                parsed,
                producer=self.feed.name,
                list_name=self.feed.name,
                tlp=options.tlp,
                now=self.now_ts,
            )
            self.store([Unit(url, self.source, lambda: objects)])
            self.whole(url)
            listed: dict[str, str] = {}
            for entry in parsed.entries:
                pattern = formats.pattern_for(entry.kind, entry.value)
                listed[formats.indicator_id(self.feed.name, pattern)] = _list_kind(entry.kind)
            return listed
        doc = self._json(url, fetched.body)
        if fmt == "stix":
            objects = _stix_objects(url, doc)
            self.store([Unit(url, self.source, lambda: objects)])
            self.whole(url)
            return _indicator_kinds(objects)
        # misp: one MISP document, every event in its own transaction.
        seen: dict[str, str] = {}
        units = list(_foreign.misp_document_units(url, doc, self.report))
        self.store(self._watching(u, seen) for u in units)
        if units and len(self.report.failed_inputs) == len(units):
            self.whole(url)
        return seen

    def _json(self, url: str, body: bytes) -> Any:
        try:
            return _foreign.parse_json(url, body)
        except InputError as exc:
            raise FeedError(url, exc.reason) from exc

    @staticmethod
    def _watching(unit: Unit, seen: dict[str, str]) -> Unit:
        def objects() -> Iterable[object]:
            out = list(unit.objects())
            seen.update(_indicator_kinds(out))
            return out

        return Unit(unit.name, unit.source, objects)

    def misp_feed(self, manifest_body: bytes) -> None:
        """A MISP feed: the events whose manifest timestamp is new, each fetched and imported."""
        base = self.feed.url if self.feed.url.endswith("/") else self.feed.url + "/"
        url = urljoin(base, "manifest.json")
        uuids = _foreign.feed_manifest(url, self._json(url, manifest_body))
        manifest = orjson.loads(manifest_body)
        entries = self.node.store.feed_entries(self.feed.pk)
        done: list[FeedEntry] = []
        for uuid in uuids:
            stamp = _int(manifest[uuid].get("timestamp"))
            key = f"event:{uuid}"
            known = entries.get(key)
            if known is not None and known.seen >= stamp:
                continue  # imported already: a resumed sync does not fetch it again
            event_url = urljoin(base, f"{uuid}.json")
            try:
                got = self.fetch(event_url, None, None)
                doc = self._json(event_url, got.body)
            except FeedError as exc:
                code = f"HTTP {exc.status}: " if exc.status is not None else ""
                self.report.failed_inputs.append(InputError(event_url, code + exc.reason))
                continue
            seen: dict[str, str] = {}
            failed = len(self.report.failed_inputs)
            try:
                units = list(_foreign.misp_document_units(event_url, doc, self.report))
            except InputError as exc:
                self.report.failed_inputs.append(exc)
                continue
            self.store(self._watching(u, seen) for u in units)
            if len(self.report.failed_inputs) == failed:
                done.append(FeedEntry(key, "event", stamp, False))
                done.extend(FeedEntry(i, k, self.now, False) for i, k in seen.items())
                # Each event's state as soon as it is stored: the resume point.
                self.node.store.put_feed_entries(self.feed.pk, done)
                done = []


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _stix_objects(url: str, doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if (
        isinstance(doc, dict)
        and doc.get("type") == "bundle"
        and isinstance(doc.get("objects"), list)
    ):
        return list(doc["objects"])
    if isinstance(doc, dict) and isinstance(doc.get("objects"), list):  # a TAXII envelope
        return list(doc["objects"])
    raise FeedError(url, "not a STIX bundle, envelope or list of objects")


def lifetime_us(node: Node, feed: Feed, kind: str) -> int:
    """How long an entry of this kind stays valid without being reconfirmed."""
    if feed.expire_after is not None:
        return feed.expire_after * _DAY_US
    days = lifetimes(node.settings.feed_lifetimes).get(kind, _DEFAULT_LIFETIME_DAYS)
    return days * _DAY_US


def expire(
    node: Node, ids: Sequence[str], *, source: tuple[str, str], collection: str | None, now: str
) -> int:
    """Give each current, valid indicator of these ids a new version with ``valid_until`` now.

    Returns:
        How many new versions were stored.
    """
    current = _foreign.current_versions(node, list(ids))
    out: list[dict[str, Any]] = []
    for obj in current.values():
        until = obj.get("valid_until")
        if obj.get("revoked") or (until and until <= now):
            continue
        new = dict(obj)
        modified = str(obj.get("modified", now))
        new["modified"] = now if now > modified else _plus_ms(modified)
        valid_from = str(obj.get("valid_from", now))
        # STIX 2.1 §4.7: valid_until is after valid_from.
        new["valid_until"] = now if now > valid_from else _plus_ms(valid_from)
        out.append(new)
    if not out:
        return 0
    report = ingest.import_units(
        node, [Unit("lifecycle", source, lambda: out)], collection=collection
    )
    return report.stored


def sync_feed(node: Node, name: str, fetch: Fetch, *, now: int | None = None) -> FeedReport:
    """Fetch one feed, import what is new, expire what vanished or aged out.

    A failure (no answer, an error status, what is no feed) is recorded on the
    feed and in the report, not raised, and changes nothing stored.
    """
    started = time.perf_counter()
    feed = node.store.feed(name)
    report = FeedReport(feed.name)
    sync = _Sync(node, feed, fetch, now if now is not None else now_us())
    try:
        if feed.format == "misp-feed":
            base = feed.url if feed.url.endswith("/") else feed.url + "/"
            fetched = fetch(urljoin(base, "manifest.json"), feed.etag, feed.last_modified)
        else:
            fetched = fetch(feed.url, feed.etag, feed.last_modified)
        listed: dict[str, str] | None = None
        if fetched.status == 304:
            report.status = "not modified"
        else:
            report.status = "fetched"
            if feed.format == "misp-feed":
                sync.misp_feed(fetched.body)
            else:
                listed = sync.body(fetched)
            report.imported = sync.report
        report.listed, report.vanished, report.aged = _lifecycle(
            sync, listed, fetched.status == 304
        )
        # Something of it failed (a MISP feed's missing event): no validators, so that
        # the next sync reads the manifest again and fetches what is still missing.
        partial = bool(sync.report.failed_inputs)
        node.store.note_feed_sync(
            feed.pk,
            error=None,
            etag=None if partial else fetched.etag,
            last_modified=None if partial else fetched.last_modified,
        )
    except (AccordError, OSError, ValueError) as exc:
        report.status = "failed"
        report.error = str(exc)
        log.warning("sync of feed %s failed: %s", feed.name, report.error)
        node.store.note_feed_sync(feed.pk, error=report.error)
    report.seconds = time.perf_counter() - started
    return report


def _lifecycle(sync: _Sync, listed: dict[str, str] | None, unchanged: bool) -> tuple[int, int, int]:
    node, feed, now = sync.node, sync.feed, sync.now
    entries = node.store.feed_entries(feed.pk)
    updates: list[FeedEntry] = []
    vanished: list[str] = []
    if listed is not None:
        updates += [FeedEntry(i, k, now, False) for i, k in listed.items()]
        vanished = [
            i
            for i, e in entries.items()
            if i not in listed and not e.expired and not i.startswith("event:")
        ]
    elif unchanged and feed.format != "misp-feed":
        # 304: the feed still lists what it listed.
        updates += [FeedEntry(i, e.kind, now, False) for i, e in entries.items() if not e.expired]
    fresh = {u.object_id for u in updates}
    aged = [
        i
        for i, e in entries.items()
        if i not in fresh
        and i not in vanished
        and not e.expired
        and not i.startswith("event:")
        and now - e.seen > lifetime_us(node, feed, e.kind)
    ]
    gone = vanished + aged
    if gone:
        expire(node, gone, source=sync.source, collection=sync.collection, now=sync.now_ts)
        updates += [FeedEntry(i, entries[i].kind, entries[i].seen, True) for i in gone]
    node.store.put_feed_entries(feed.pk, updates)
    return (len(listed) if listed is not None else 0), len(vanished), len(aged)


def sync_feeds(node: Node, fetch: Fetch, names: Sequence[str] = ()) -> list[FeedReport]:
    """Sync the named feeds (all when none is named), one after the other."""
    wanted = list(names) or [f.name for f in node.store.feeds()]
    for name in wanted:
        node.store.feed(name)  # an unknown name fails before any sync starts
    return [sync_feed(node, name, fetch) for name in wanted]


class FeedScheduler(Scheduler[FeedReport]):
    """Syncs each feed on its own interval, each in its own thread, as `SyncScheduler` peers."""

    def __init__(
        self,
        settings: Settings,
        fetch: Fetch,
        *,
        tick: float = 1.0,
        on_report: Callable[[FeedReport], None] | None = None,
    ) -> None:
        super().__init__(
            settings,
            "feed",
            lambda node: [(f.name, f.interval) for f in node.store.feeds()],
            lambda node, name: sync_feed(node, name, fetch),
            tick=tick,
            on_report=on_report,
        )


def download_misp_feed(url: str, fetch: Fetch, folder: Path) -> list[InputError]:
    """A MISP feed at a URL copied into a folder (manifest, events), for `accord import`.

    An event that cannot be fetched is left out (and reported by the import as
    listed but missing); a manifest that cannot be fetched fails it all.

    Raises:
        FeedError: the manifest cannot be fetched or is no manifest.
    """
    base = url if url.endswith("/") else url + "/"
    manifest_url = urljoin(base, "manifest.json")
    got = fetch(manifest_url, None, None)
    try:
        uuids = _foreign.feed_manifest(manifest_url, _foreign.parse_json(manifest_url, got.body))
    except InputError as exc:
        raise FeedError(manifest_url, exc.reason) from exc
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_bytes(got.body)
    problems: list[InputError] = []
    for uuid in uuids:
        event_url = urljoin(base, f"{uuid}.json")
        try:
            (folder / f"{uuid}.json").write_bytes(fetch(event_url, None, None).body)
        except FeedError as exc:
            problems.append(InputError(event_url, str(exc)))
    return problems
