"""Ingest: inputs → parse → validate and lift → store each version once → index.

Atomicity: each input file is one transaction. A file that turns out to be
unreadable half-way (malformed JSON, not UTF-8, too large) leaves the store as
it was before that file; an invalid *object* is rejected with its id, property
and reason while the rest of its file is stored. With ``strict`` the whole
input (every file) is one transaction and one invalid object rejects it all.
Reruns are idempotent: a version already stored is a duplicate, not a copy.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from accord.exceptions import InputError, InvalidObject, StrictImportFailed, UnknownCollection
from accord.service import _prepare, _readers
from accord.service.node import Node
from accord.standing import forged
from accord.stix import Record, prepare
from accord.store import Collection, Conflict, Writer

# Details kept per kind of problem; counts are always exact.
MAX_DETAILS = 1000

Progress = Callable[[int, int], None]  # (objects read so far, inputs finished)


@dataclass(frozen=True, slots=True)
class Rejected:
    """An object refused by validation, and where it was."""

    source: str
    position: str
    error: InvalidObject

    def __str__(self) -> str:
        return f"{self.source} ({self.position}): {self.error}"


@dataclass(slots=True)
class ImportReport:
    """What an import did; counts are exact, detail lists keep the first MAX_DETAILS."""

    inputs: int = 0
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    lifted: int = 0
    invalid_count: int = 0
    invalid: list[Rejected] = field(default_factory=list)
    conflict_count: int = 0
    conflicts: list[tuple[str, Conflict]] = field(default_factory=list)
    bad_records: list[InputError] = field(default_factory=list)
    failed_inputs: list[InputError] = field(default_factory=list)
    collection: Collection | None = None
    created_collection: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Nothing was refused."""
        return not (
            self.invalid_count or self.conflict_count or self.bad_records or self.failed_inputs
        )

    def summary(self) -> str:
        rate = self.read / self.seconds if self.seconds > 0 else 0.0
        parts = [
            f"{self.read:,} objects read from {self.inputs} input(s)",
            f"{self.stored:,} stored",
            f"{self.duplicates:,} already stored",
        ]
        if self.lifted:
            parts.append(f"{self.lifted:,} lifted from STIX 2.0")
        if self.invalid_count:
            parts.append(f"{self.invalid_count:,} invalid")
        if self.conflict_count:
            parts.append(f"{self.conflict_count:,} conflicting")
        if self.bad_records:
            parts.append(f"{len(self.bad_records):,} malformed lines")
        if self.failed_inputs:
            parts.append(f"{len(self.failed_inputs)} input(s) failed and were rolled back")
        return ", ".join(parts) + f" in {self.seconds:.2f} s ({rate:,.0f} objects/s)"


class _Run:
    """One import run: the batch loop shared by the strict and per-file modes."""

    def __init__(
        self,
        node: Node,
        report: ImportReport,
        collection_pks: list[int],
        strict: bool,
        progress: Progress | None,
    ) -> None:
        self.node = node
        self.report = report
        self.collection_pks = collection_pks
        self.strict = strict
        self.progress = progress
        self.strict_errors: list[InvalidObject] = []

    def load(
        self,
        writer: Writer,
        name: str,
        source_pk: int,
        batches: Iterator[_prepare.Prepared],
    ) -> None:
        report = self.report
        for batch in batches:
            report.read += batch.read
            report.lifted += batch.lifted
            if batch.bad:
                if self.strict:
                    raise batch.bad[0]
                room = MAX_DETAILS - len(report.bad_records)
                report.bad_records.extend(batch.bad[:room])
            for position, err in batch.rejected:
                report.invalid_count += 1
                if self.strict:
                    self.strict_errors.append(err)
                elif len(report.invalid) < MAX_DETAILS:
                    report.invalid.append(Rejected(name, position, err))
            self.flush(writer, batch.records, source_pk, name)

    def flush(self, writer: Writer, batch: list[Record], source_pk: int, name: str) -> None:
        if not batch:
            return
        result = writer.add(batch, source_pk=source_pk, collection_pks=self.collection_pks)
        report = self.report
        report.stored += result.stored
        report.duplicates += result.duplicates
        report.conflict_count += len(result.conflicts)
        room = MAX_DETAILS - len(report.conflicts)
        report.conflicts.extend((name, c) for c in result.conflicts[:room])
        if self.progress:
            self.progress(report.read, report.inputs)


def _events(node: Node, inputs: list[_readers.Input]) -> Generator[_prepare.Event, None, None]:
    settings = node.settings
    limits = _prepare.Limits(
        settings.stream_threshold_bytes, settings.max_object_bytes, settings.batch_size
    )
    threshold = settings.parser_process_bytes
    if threshold and sum(inp.size() for inp in inputs) > threshold:
        return _prepare.parallel_events(inputs, limits)
    return _prepare.events(inputs, limits)


def _batches_of(events: Iterator[_prepare.Event], index: int) -> Iterator[_prepare.Prepared]:
    """The batches of input ``index``, up to its end; its InputError is raised."""
    for at, payload in events:
        assert at == index, f"parser sent input {at} while input {index} was expected"
        if payload is None:
            return
        if isinstance(payload, InputError):
            raise payload
        yield payload


def _load_one(
    node: Node, run: _Run, name: str, source_pk: int, batches: Iterator[_prepare.Prepared]
) -> None:
    """One input in one transaction; an unreadable input is rolled back and reported."""
    report = run.report
    snapshot = (
        report.read,
        report.stored,
        report.duplicates,
        report.lifted,
        report.invalid_count,
        len(report.invalid),
        report.conflict_count,
        len(report.conflicts),
        len(report.bad_records),
    )
    try:
        with node.store.writer() as writer:
            run.load(writer, name, source_pk, batches)
    except InputError as err:
        # The input's transaction was rolled back: so are its counts.
        (
            report.read,
            report.stored,
            report.duplicates,
            report.lifted,
            report.invalid_count,
            n_invalid,
            report.conflict_count,
            n_conflicts,
            n_bad,
        ) = snapshot
        del report.invalid[n_invalid:]
        del report.conflicts[n_conflicts:]
        del report.bad_records[n_bad:]
        report.failed_inputs.append(err)
    report.inputs += 1
    if run.progress:
        run.progress(report.read, report.inputs)


def _source(inp: _readers.Input) -> tuple[str, str]:
    if inp.name == "<stdin>":
        return "stdin", "<stdin>"
    return "file", str(inp.path.resolve())


def resolve_collection(node: Node, ref: str | None, report: ImportReport) -> list[int]:
    """The collection to import into, created when no collection has that id or title."""
    if ref is None:
        return []
    try:
        collection = node.store.collection(ref)
    except UnknownCollection:
        collection = node.store.create_collection(ref)
        report.created_collection = True
    report.collection = collection
    return [collection.pk]


def import_paths(
    node: Node,
    paths: list[str],
    *,
    collection: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import files, directories and ``-`` (stdin) into the node's store.

    Args:
        node: the open node.
        paths: what to import.
        collection: id or title of the collection to add every stored version to
            (created if no collection has that id or title).
        strict: any invalid object or malformed line rejects the whole input.
        progress: called after each written batch and each finished input.

    Raises:
        InputError: a path does not exist; in strict mode, any unreadable input.
        StrictImportFailed: in strict mode, when any object was invalid.
    """
    started = time.perf_counter()
    report = ImportReport()
    with tempfile.TemporaryDirectory(prefix="accord-import-") as spool:
        inputs = _readers.expand(paths, Path(spool))
        collection_pks = resolve_collection(node, collection, report)
        run = _Run(node, report, collection_pks, strict, progress)
        # Sources first: they are written outside the inputs' transactions.
        source_pks = [node.store.ensure_source(*_source(inp)) for inp in inputs]
        events = _events(node, inputs)
        try:
            if strict:
                with node.store.writer() as writer:
                    for index, inp in enumerate(inputs):
                        run.load(writer, inp.name, source_pks[index], _batches_of(events, index))
                        report.inputs += 1
                    if run.strict_errors:
                        # Raising inside the writer rolls the whole input back.
                        raise StrictImportFailed(run.strict_errors[:MAX_DETAILS])
            else:
                for index, inp in enumerate(inputs):
                    _load_one(node, run, inp.name, source_pks[index], _batches_of(events, index))
        finally:
            events.close()
    report.seconds = time.perf_counter() - started
    return report


# -- objects converted from other formats (MISP events, IOC lists) -------------------


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit of converted input, stored in one transaction (a MISP event, a list).

    ``objects`` is called inside the transaction: an `InputError` it raises
    rolls the unit back and is reported as a failed input.
    """

    name: str
    source: tuple[str, str]  # provenance (kind, name)
    objects: Callable[[], Iterable[object]]


def _object_batches(objects: Iterable[object], batch_size: int) -> Iterator[_prepare.Prepared]:
    batch = _prepare.Prepared()
    for position, obj in enumerate(objects, 1):
        batch.read += 1
        try:
            batch.records.append(prepare(obj))
        except InvalidObject as err:
            batch.rejected.append((f"object {position}", err))
            continue
        if len(batch.records) >= batch_size:
            yield batch
            batch = _prepare.Prepared()
    yield batch


def import_units(
    node: Node,
    units: Iterable[Unit],
    *,
    collection: str | None = None,
    report: ImportReport | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Store converted inputs, each in its own transaction, on the path of `import_paths`.

    Invalid objects are rejected one by one (with the unit's name and the
    object's position); a unit that fails as a whole changes nothing.
    """
    started = time.perf_counter()
    report = report if report is not None else ImportReport()
    collection_pks = resolve_collection(node, collection, report)
    run = _Run(node, report, collection_pks, False, progress)
    batch_size = node.settings.batch_size
    for unit in units:
        source_pk = node.store.ensure_source(*unit.source)

        def batches(unit: Unit = unit) -> Iterator[_prepare.Prepared]:
            yield from _object_batches(unit.objects(), batch_size)

        _load_one(node, run, unit.name, source_pk, batches())
    report.seconds += time.perf_counter() - started
    return report


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one object handed to `ingest_objects` (a TAXII status entry)."""

    id: str | None
    version: str | None  # the object's `modified` (or `created`) as given
    ok: bool
    message: str


def _given_version(obj: object) -> str | None:
    if isinstance(obj, dict):
        v = obj.get("modified", obj.get("created"))
        return v if isinstance(v, str) else None
    return None


def ingest_objects(
    node: Node,
    objects: list[object],
    *,
    source: tuple[str, str],
    collection_pks: list[int],
    speaker: tuple[str, str | None] | None = None,
) -> list[Outcome]:
    """Store already-parsed objects (a TAXII envelope) in one transaction, on the CLI's path.

    Invalid objects and conflicting versions fail one by one; the valid ones
    are stored (a version already stored counts as a success, TAXII 2.1 §5.4).
    With a ``speaker`` (the member's name and STIX identity), an opinion that
    another identity claims to have written fails too
    (`accord.standing.forged`).

    Returns:
        One outcome per object, in order.
    """
    outcomes: list[Outcome | None] = [None] * len(objects)
    records: list[tuple[int, Record]] = []
    first_seen: dict[tuple[str, str], bytes] = {}
    clash = "a different object with this id and version is already stored"
    for i, obj in enumerate(objects):
        refused = forged(obj, speaker[1], speaker[0]) if speaker is not None else None
        if refused is not None:
            oid = obj.get("id") if isinstance(obj, dict) else None
            outcomes[i] = Outcome(
                oid if isinstance(oid, str) else None, _given_version(obj), False, refused
            )
            continue
        try:
            rec = prepare(obj)
        except InvalidObject as err:
            oid = obj.get("id") if isinstance(obj, dict) else None
            outcomes[i] = Outcome(
                oid if isinstance(oid, str) else None, _given_version(obj), False, str(err)
            )
            continue
        key = (rec.id, rec.version)
        seen = first_seen.get(key)
        if seen is None:
            first_seen[key] = rec.data
            records.append((i, rec))
        elif seen == rec.data:  # the same version twice in one envelope
            outcomes[i] = Outcome(rec.id, _given_version(obj), True, "stored")
        else:
            message = "a different object with this id and version came earlier in the envelope"
            outcomes[i] = Outcome(rec.id, _given_version(obj), False, message)
    source_pk = node.store.ensure_source(*source)
    batch_size = node.settings.batch_size
    conflicts: set[tuple[str, str]] = set()
    with node.store.writer() as writer:
        for start in range(0, len(records), batch_size):
            chunk = [rec for _, rec in records[start : start + batch_size]]
            result = writer.add(chunk, source_pk=source_pk, collection_pks=collection_pks)
            conflicts.update((c.id, c.version) for c in result.conflicts)
    for i, rec in records:
        ok = (rec.id, rec.version) not in conflicts
        given = _given_version(objects[i])
        outcomes[i] = Outcome(rec.id, given, ok, "stored" if ok else clash)
    return [o for o in outcomes if o is not None]
