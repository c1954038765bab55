"""Exports for sensors (Zeek intel, Suricata, CSV) and MISP feeds, for the CLI and HTTP.

Sensor exports stream: the store's query is read with a server-side cursor,
each indicator passes the member's `Gate` (when exported for a member) in
chunks of a thousand, and each becomes lines written at once. Memory holds a
chunk, the producers' names and (Suricata) the sids given.

A MISP feed has one event per ``report`` or ``grouping`` of the collection:
the report and every object it references (as the member may receive them)
are converted by ``misp-stix`` and written by PyMISP (`MISPEvent.to_feed`),
with ``manifest.json`` and ``hashes.csv`` beside them.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from accord import formats
from accord.service import egress, ledger
from accord.service.egress import Gate
from accord.service.node import Node
from accord.store import Collection, PageQuery, Query, StoredObject

SENSOR_FORMATS = formats.SENSOR_FORMATS
EXPORT_FORMATS = ("bundle", "jsonl", *SENSOR_FORMATS, "misp")
_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class SensorCounts:
    """What a sensor export wrote."""

    indicators: int  # written
    lines: int  # lines or rules written
    skipped: int  # indicators with nothing a sensor can look for, or expired


def producer_names(node: Node) -> dict[str, str]:
    """Identity id -> name, for ``meta.source`` (identities are few)."""
    names: dict[str, str] = {}
    for obj in node.store.query(Query(types=("identity",))):
        name = orjson.loads(obj.data).get("name")
        if isinstance(name, str):
            names[obj.id] = name
    return names


def stix_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class SensorExport:
    """One sensor export: indicators in, lines out (`formats.SENSOR_FORMATS`).

    Args:
        out: the text stream of the file (rules for Suricata).
        lists: Suricata only: name -> stream of its hash lists and datasets.
    """

    def __init__(
        self, node: Node, fmt: str, out: IO[str], lists: dict[str, IO[str]] | None = None
    ) -> None:
        self.names = producer_names(node)
        self.now = stix_now()
        self.writer: formats.ZeekWriter | formats.SuricataWriter | formats.CsvWriter
        if fmt == "zeek-intel":
            self.writer = formats.ZeekWriter(out)
        elif fmt == "suricata":
            self.writer = formats.SuricataWriter(out, lists or {})
        elif fmt == "csv":
            self.writer = formats.CsvWriter(out)
        else:
            raise ValueError(f"{fmt!r} is not a sensor format ({', '.join(SENSOR_FORMATS)})")

    def write(self, objects: Iterable[StoredObject]) -> None:
        """Write these stored versions (those not indicators are skipped, uncounted)."""
        write, sense, names, now = self.writer.write, formats.sensed, self.names, self.now
        for obj in objects:
            if obj.type == "indicator":
                write(sense(obj.data, names, now))

    def finish(self) -> SensorCounts:
        if isinstance(self.writer, formats.SuricataWriter):
            self.writer.finish()
        c = self.writer.counts
        return SensorCounts(c.indicators, c.lines, c.skipped)


def write_sensor(
    node: Node,
    fmt: str,
    objects: Iterable[StoredObject],
    out: IO[str],
    lists: dict[str, IO[str]] | None = None,
) -> SensorCounts:
    """Write indicators in a sensor format to a stream (see `SensorExport`)."""
    export = SensorExport(node, fmt, out, lists)
    export.write(objects)
    return export.finish()


class _Null(io.StringIO):
    def write(self, s: str) -> int:
        return len(s)


SURICATA_FILES = {**formats.HASH_FILES, **formats.DATASET_FILES}


def sensor_chunks(
    node: Node, fmt: str, objects: Iterable[StoredObject], part: str | None = None
) -> Iterator[bytes]:
    """A sensor export as chunks of bytes, for an HTTP answer that streams.

    Args:
        part: Suricata only: a key of `SURICATA_FILES` (a hash list, the domains
            dataset or its rules) instead of the rules.
    """
    buf = io.StringIO()
    if part is None:
        export = SensorExport(node, fmt, buf)
    else:
        export = SensorExport(node, "suricata", _Null(), {part: buf})

    def drain() -> bytes:
        data = buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()
        return data

    batch: list[StoredObject] = []
    for obj in objects:
        batch.append(obj)
        if len(batch) >= _CHUNK:
            export.write(batch)
            batch = []
            chunk = drain()
            if chunk:
                yield chunk
    export.write(batch)
    export.finish()
    chunk = drain()
    if chunk:
        yield chunk


def collection_objects(
    node: Node, collection: Collection, gate: Gate | None, types: tuple[str, ...] = ()
) -> Iterator[StoredObject]:
    """The current versions of a collection, through a gate (None: none applies), streamed."""
    after: int | None = None
    withheld = gate.withheld() if gate is not None else None
    while True:
        page = node.store.collection_page(
            PageQuery(collection.pk, after=after, types=types, limit=_CHUNK, withheld=withheld)
        )
        items = gate.filter(page.items) if gate is not None else page.items
        for item in items:
            yield item.obj
        if not page.more or not page.items:
            return
        after = page.items[-1].date_added


def member_gate(node: Node, member_name: str, collection: Collection) -> Gate | None:
    """The gate of a member's export (None: its grant alone decides)."""
    member = node.store.member(member_name)
    return egress.read_gate(node, member, collection)


# -- MISP feeds -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MispFeed:
    """A MISP feed: event files by uuid, the manifest, the hashes."""

    events: dict[str, bytes]
    manifest: dict[str, Any]
    hashes: list[tuple[str, str]]  # (md5 of a value, event uuid)
    problems: list[str]

    def manifest_bytes(self) -> bytes:
        return orjson.dumps(self.manifest)

    def hashes_csv(self) -> bytes:
        return "".join(f"{h},{u}\n" for h, u in self.hashes).encode()


def _resolve(node: Node, ids: list[str], collection: Collection, gate: Gate | None) -> list[Any]:
    """The current versions of these ids in the collection, as the member may have them."""
    out: list[Any] = []
    for start in range(0, len(ids), 500):
        chunk = tuple(ids[start : start + 500])
        page = node.store.collection_page(PageQuery(collection.pk, ids=chunk, limit=len(chunk) + 1))
        items = gate.filter(page.items) if gate is not None else page.items
        out.extend(orjson.loads(i.obj.data) for i in items)
    return out


def _referenced(objects: list[dict[str, Any]]) -> set[str]:
    refs: set[str] = set()
    for obj in objects:
        for key, value in obj.items():
            if key.endswith("_refs") and isinstance(value, list):
                refs.update(v for v in value if isinstance(v, str))
            elif key.endswith("_ref") and isinstance(value, str):
                refs.add(value)
    return refs


def event_objects(
    node: Node, report: dict[str, Any], collection: Collection, gate: Gate | None
) -> list[dict[str, Any]]:
    """A report and what it references (two levels: observed-data's observables)."""
    objects = [report]
    seen = {report["id"]}
    wanted = _referenced(objects) - seen
    for _ in range(2):
        if not wanted:
            break
        found = _resolve(node, sorted(wanted), collection, gate)
        seen |= wanted
        objects.extend(found)
        wanted = _referenced(found) - seen
    return objects


def misp_feed(node: Node, collection: Collection, gate: Gate | None) -> MispFeed:
    """The collection as a MISP feed: one event per report or grouping."""
    events: dict[str, bytes] = {}
    manifest: dict[str, Any] = {}
    hashes: list[tuple[str, str]] = []
    problems: list[str] = []
    org = _org(node.info.name, node.info.id.rpartition("--")[2])
    for stored in collection_objects(node, collection, gate, ("report", "grouping")):
        report = orjson.loads(stored.data)
        try:
            converted = formats.stix_to_events(
                event_objects(node, report, collection, gate), org=org
            )
            for event in converted:
                fe = formats.feed_event(event)
                events[fe.uuid] = fe.data
                manifest[fe.uuid] = fe.manifest
                hashes.extend((h, fe.uuid) for h in fe.hashes)
        except formats.MispFormatError as exc:
            problems.append(f"{stored.id}: {exc}")
    return MispFeed(events, manifest, hashes, problems)


def _org(name: str, ident: str) -> tuple[str, str]:
    import uuid as _uuid

    try:
        return name, str(_uuid.UUID(ident))
    except ValueError:
        return name, str(_uuid.uuid5(_uuid.NAMESPACE_URL, "accord:" + ident))


def text_stream(raw: IO[bytes]) -> io.TextIOWrapper:
    """A UTF-8 text stream over a binary one (newlines as written)."""
    return io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=False)


def export_sensor(
    node: Node,
    fmt: str,
    objects: Iterable[StoredObject],
    output: Path | None,
    stdout: IO[bytes] | None = None,
) -> SensorCounts:
    """A sensor export to ``stdout``, a file, or (Suricata) a directory with its lists.

    Written under a ``.partial`` name and renamed at the end: a failed export
    never leaves a half-written file under the real name.
    """
    if output is None:
        if stdout is None:
            raise ValueError("a sensor export needs an output file or stream")
        out = text_stream(stdout)
        try:
            return write_sensor(node, fmt, objects, out)
        finally:
            out.flush()
            out.detach()
    if fmt == "suricata" and (output.is_dir() or output.suffix == ""):
        return _suricata_dir(node, objects, output)
    tmp = output.with_name(output.name + ".partial")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        counts = write_sensor(node, fmt, objects, f)
    tmp.replace(output)
    return counts


SURICATA_RULES = "accord.rules"


def _suricata_dir(node: Node, objects: Iterable[StoredObject], folder: Path) -> SensorCounts:
    folder.mkdir(parents=True, exist_ok=True)
    files = SURICATA_FILES
    with ExitStack() as stack:
        streams: dict[str, IO[str]] = {
            k: stack.enter_context((folder / (f + ".partial")).open("w", encoding="utf-8"))
            for k, f in files.items()
        }
        rules = stack.enter_context((folder / (SURICATA_RULES + ".partial")).open("w"))
        counts = write_sensor(node, "suricata", objects, rules, streams)
    for f in [*files.values(), SURICATA_RULES]:
        (folder / (f + ".partial")).replace(folder / f)
    return counts


def export_misp_feed(
    node: Node, collection_ref: str, folder: Path, member_name: str | None = None
) -> MispFeed:
    """Write a collection as a MISP feed directory (what `accord serve` serves over HTTP)."""
    collection = node.store.collection(collection_ref)
    gate = member_gate(node, member_name, collection) if member_name else None
    feed = misp_feed(node, collection, gate)
    folder.mkdir(parents=True, exist_ok=True)
    for uuid, data in feed.events.items():
        (folder / f"{uuid}.json").write_bytes(data)
    (folder / "hashes.csv").write_bytes(feed.hashes_csv())
    # The manifest last: a MISP that reads it finds every event it lists.
    (folder / "manifest.json").write_bytes(feed.manifest_bytes())
    return feed


def reader_gate(node: Node, access: Any) -> Gate | None:
    """The gate of an HTTP read (``access``: `accord.service.taxii.Access`), as TAXII's."""
    return egress.read_gate(node, access.member, access.collection)


def misp_feed_event(
    node: Node, collection: Collection, gate: Gate | None, uuid: str
) -> bytes | None:
    """One event of the collection's MISP feed (its report's or grouping's uuid), or None."""
    ids = (f"report--{uuid}", f"grouping--{uuid}")
    page = node.store.collection_page(PageQuery(collection.pk, ids=ids, limit=3))
    items = gate.filter(page.items) if gate is not None else page.items
    org = _org(node.info.name, node.info.id.rpartition("--")[2])
    for item in items:
        report = orjson.loads(item.obj.data)
        try:
            events = formats.stix_to_events(event_objects(node, report, collection, gate), org=org)
        except formats.MispFormatError:
            return None
        for event in events:
            fe = formats.feed_event(event)
            if fe.uuid == uuid:
                return fe.data
    return None


# -- exports for a member: logged in the transparency log before they are handed out ----


def export_sensor_for(
    node: Node,
    member_name: str,
    collection_ref: str,
    fmt: str,
    objects: Iterable[StoredObject],
    output: Path | None,
    stdout: IO[bytes] | None = None,
) -> int:
    """A sensor export of what one member may receive, logged before it is written out.

    The export is spooled (bounded memory), logged as a share, then copied to the
    file (under a ``.partial`` name, renamed at the end) or to ``stdout``.

    Returns:
        The number of indicators that went into it.

    Raises:
        UnknownMember, UnknownCollection: no such member or collection.
    """
    collection = node.store.collection(collection_ref)
    gate = egress.open_gate(node, node.store.member(member_name), collection)
    added: list[int] = []

    def tracked() -> Iterator[StoredObject]:
        for obj in gate.objects(objects):
            added.append(obj.added)
            yield obj

    spool, _ = ledger.spooled_share(
        node,
        channel="export",
        collection=collection,
        member=member_name,
        agreement=gate.agreement,
        chunks=sensor_chunks(node, fmt, tracked()),
        added=added,
    )
    with spool:
        if output is None:
            if stdout is None:
                raise ValueError("a sensor export needs an output file or stream")
            shutil.copyfileobj(spool, stdout)
        else:
            tmp = output.with_name(output.name + ".partial")
            with tmp.open("wb") as f:
                shutil.copyfileobj(spool, f)
            tmp.replace(output)
    return len(added)


def export_misp_feed_for(
    node: Node, collection_ref: str, folder: Path, member_name: str
) -> MispFeed:
    """`export_misp_feed` for one member, logged before the directory appears.

    The feed is written beside ``folder`` (``.partial``), logged as one share whose
    digest is the SHA-256 of manifest.json, hashes.csv and then each event file in
    uuid order, and only then renamed to ``folder``.
    """
    if folder.exists():
        raise ValueError(f"{folder} exists: a member's MISP feed is written to a new directory")
    tmp = folder.with_name(folder.name + ".partial")
    feed = export_misp_feed(node, collection_ref, tmp, member_name)
    sha = hashlib.sha256(feed.manifest_bytes() + feed.hashes_csv())
    for uuid in sorted(feed.events):
        sha.update(feed.events[uuid])
    collection = node.store.collection(collection_ref)
    gate = member_gate(node, member_name, collection)
    ledger.share(
        node,
        channel="export",
        collection=collection,
        member=member_name,
        agreement=gate.agreement if gate is not None else None,
        added=[],
        digest=sha.hexdigest(),
    )
    tmp.replace(folder)
    return feed


def logged_sensor_feed(
    node: Node, access: Any, fmt: str, part: str | None = None
) -> tuple[IO[bytes], dict[str, str]]:
    """A sensor feed served over HTTP (``access``: `accord.service.taxii.Access`), spooled
    and logged in the transparency log: the spool to send, rewound, and the receipt."""
    gate = reader_gate(node, access)
    objects = collection_objects(node, access.collection, gate, ("indicator",))
    added: list[int] = []

    def tracked() -> Iterator[StoredObject]:
        for obj in objects:
            added.append(obj.added)
            yield obj

    return ledger.spooled_share(
        node,
        channel="feed",
        collection=access.collection,
        member=access.member,
        agreement=gate.agreement if gate is not None else None,
        chunks=sensor_chunks(node, fmt, tracked(), part),
        added=added,
    )
