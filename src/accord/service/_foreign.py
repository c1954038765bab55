"""Importing what is not STIX: MISP events and feeds, CSV and text IOC lists.

Each MISP event and each list is one unit of `ingest.import_units`: converted
inside its own transaction, so an event the converter refuses, a feed event
file that is missing or a list that cannot be read changes nothing, while
the others are stored. Problems are reported per attribute (MISP) and per
line (lists); the rest of the event or list is imported.

A list's entries are the indicators of `accord.formats.indicator`, with ids
derived from producer and pattern. An entry already stored and still valid
is not written again; one stored with ``valid_until`` in the past (aged out,
or gone from a feed) that appears again gets a new version without it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from accord import formats
from accord.exceptions import InputError
from accord.formats import AttributeProblem, ListProblem, MispFormatError, ParsedList
from accord.service import ingest
from accord.service.ingest import ImportReport, Unit
from accord.service.node import Node
from accord.stix import Tlp
from accord.store import Query

Format = Literal["stix", "misp", "misp-feed", "csv", "txt"]
FORMATS: tuple[str, ...] = ("auto", "stix", "misp", "misp-feed", "csv", "txt")
_LIST_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "txt", ".list": "txt", ".lst": "txt"}
_MISP_HINT = re.compile(rb'"(Event|response|Attribute)"\s*:')
_SNIFF = 64 * 1024
MAX_DETAILS = ingest.MAX_DETAILS


@dataclass(slots=True)
class ForeignReport(ImportReport):
    """An import of MISP events or lists: STIX counts, problems per attribute or line."""

    events: int = 0
    attributes: int = 0
    attribute_problems: list[AttributeProblem] = field(default_factory=list)
    attribute_problem_count: int = 0
    lists: int = 0
    entries: int = 0
    line_problems: list[tuple[str, ListProblem]] = field(default_factory=list)
    line_problem_count: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        head: list[str] = []
        if self.events:
            head.append(f"{self.events:,} MISP event(s), {self.attributes:,} attributes")
            if self.attribute_problem_count:
                head.append(f"{self.attribute_problem_count:,} attribute problem(s)")
        if self.lists:
            head.append(f"{self.lists} list(s), {self.entries:,} entries")
            if self.line_problem_count:
                head.append(f"{self.line_problem_count:,} line(s) refused")
        text = ImportReport.summary(self)
        return "; ".join([*head, text]) if head else text

    def add_attribute_problems(self, problems: list[AttributeProblem]) -> None:
        self.attribute_problem_count += len(problems)
        room = MAX_DETAILS - len(self.attribute_problems)
        self.attribute_problems.extend(problems[: max(room, 0)])

    def add_line_problems(self, name: str, problems: list[ListProblem]) -> None:
        self.line_problem_count += len(problems)
        room = MAX_DETAILS - len(self.line_problems)
        self.line_problems.extend((name, p) for p in problems[: max(room, 0)])


# -- what a path holds ----------------------------------------------------------------


def classify(path: str, fmt: str = "auto") -> Format:
    """The format of one import path (``fmt`` other than ``auto`` wins).

    A directory with ``manifest.json`` is a MISP feed; ``.csv``/``.tsv`` files are
    CSV lists and ``.txt``/``.list`` text lists; a JSON file whose first 64 KiB
    has an ``Event``, ``response`` or ``Attribute`` key is MISP; anything else STIX.
    """
    if fmt != "auto":
        if fmt not in FORMATS:
            raise ValueError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt  # type: ignore[return-value]
    p = Path(path)
    if path == "-":
        return "stix"
    if p.is_dir():
        if (p / "manifest.json").is_file():
            return "misp-feed"
        files = [f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")]
        if not any(".json" in f.suffixes for f in files) and any(
            f.suffix.lower() in _LIST_SUFFIXES for f in files
        ):
            return "txt"  # a directory of lists: each file read by its own suffix
        return "stix"
    suffix = p.suffix.lower()
    if suffix in _LIST_SUFFIXES:
        return _LIST_SUFFIXES[suffix]  # type: ignore[return-value]
    if suffix == ".json" and p.is_file():
        with p.open("rb") as f:
            head = f.read(_SNIFF)
        if _MISP_HINT.search(head) and b'"type"' not in head[:200]:
            return "misp"
    return "stix"


# -- MISP -----------------------------------------------------------------------------


def _load_json(path: Path, max_bytes: int) -> Any:
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(name, f"cannot read it: {exc.strerror}") from exc
    if size > max_bytes:
        raise InputError(name, f"larger than {max_bytes:,} bytes (ACCORD_FEED_MAX_BYTES)")
    return parse_json(name, path.read_bytes())


def parse_json(name: str, data: bytes) -> Any:
    """A JSON document, or an InputError saying what is wrong and where."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if data.lstrip()[:1] == b"<":
            raise InputError(name, "HTML (or XML), not JSON") from exc
        raise InputError(name, f"not JSON: {exc.msg}", offset=exc.pos) from exc


def event_unit(
    name: str, source: tuple[str, str], event: dict[str, Any], report: ForeignReport
) -> Unit:
    """One MISP event as a unit of import."""

    def objects() -> Iterable[object]:
        try:
            converted = formats.event_to_stix(event)
        except MispFormatError as exc:
            raise InputError(name, str(exc)) from exc
        report.events += 1
        report.attributes += converted.attributes
        report.add_attribute_problems(converted.problems)
        return converted.objects

    uuid = str(event.get("uuid") or "?")
    return Unit(f"{name} (event {uuid})", source, objects)


def misp_document_units(name: str, doc: Any, report: ForeignReport) -> Iterator[Unit]:
    """The events of a parsed MISP document, each a unit."""
    try:
        events = list(formats.misp_events(doc, name))
    except MispFormatError as exc:
        raise InputError(name, str(exc)) from exc
    for event in events:
        yield event_unit(name, ("file", name), event, report)


def _misp_file_units(path: Path, report: ForeignReport, max_bytes: int) -> Iterator[Unit]:
    name = str(path.resolve())
    try:
        doc = _load_json(path, max_bytes)
        units = list(misp_document_units(name, doc, report))
    except InputError as err:
        report.failed_inputs.append(err)
        report.inputs += 1
        return
    yield from units


def feed_manifest(name: str, doc: Any) -> list[str]:
    """The event uuids a MISP feed's manifest.json lists.

    Raises:
        InputError: it is not a manifest (an object of uuid -> event summary).
    """
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise InputError(name, "not a MISP feed manifest (an object of event uuid -> summary)")
    uuids = [str(k) for k in doc]
    bad = [u for u in uuids if not re.fullmatch(r"[0-9a-fA-F-]{36}", u)]
    if bad:
        raise InputError(name, f"not an event uuid: {bad[0]!r}")
    return uuids


def _misp_feed_units(folder: Path, report: ForeignReport, max_bytes: int) -> Iterator[Unit]:
    manifest = folder / "manifest.json"
    try:
        uuids = feed_manifest(str(manifest), _load_json(manifest, max_bytes))
    except InputError as err:
        report.failed_inputs.append(err)
        report.inputs += 1
        return
    for uuid in uuids:
        path = folder / f"{uuid}.json"
        if not path.is_file():
            missing = InputError(str(path), "listed in manifest.json but missing from the feed")
            report.failed_inputs.append(missing)
            report.inputs += 1
            continue
        yield from _misp_file_units(path, report, max_bytes)


# -- lists ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListOptions:
    """How to read a list and whose it is."""

    producer: str | None = None  # default: the file's name
    tlp: Tlp = Tlp.CLEAR
    kind: str | None = None  # every value of this type (else detected)
    value_column: str = "0"
    type_column: str | None = None


def decode_list(name: str, data: bytes) -> tuple[list[str], str | None]:
    """A list's lines; and a note when it was not UTF-8 (read as UTF-16 or Latin-1)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        note = f"{name}: UTF-16 (by its byte order mark)"
        try:
            return data.decode("utf-16").splitlines(), note
        except UnicodeDecodeError as exc:  # a cut or corrupt file: its bad units replaced
            note += f", not all of it (byte {exc.start}: {exc.reason})"
            return data.decode("utf-16", errors="replace").splitlines(), note
    try:
        return data.decode("utf-8-sig").splitlines(), None
    except UnicodeDecodeError as exc:
        note = f"{name}: not UTF-8 (byte {exc.start}), read as Latin-1"
        return data.decode("latin-1").splitlines(), note


def parse_list(lines: list[str], fmt: str, options: ListOptions) -> ParsedList:
    """A list's entries by its format (``csv`` or ``txt``)."""
    if options.kind is not None and options.kind not in formats.KINDS:
        raise ValueError(f"--type {options.kind!r}: use one of {', '.join(formats.KINDS)}")
    if fmt == "csv":
        sample = "\n".join(lines[:20])
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        return formats.parse_csv(
            lines,
            value_column=options.value_column,
            type_column=options.type_column,
            kind=options.kind,
            delimiter=delimiter,
        )
    return formats.parse_text(lines, options.kind)


def now_timestamp() -> str:
    """Now as a STIX timestamp (milliseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def current_versions(node: Node, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The current stored version of each of these ids that is stored."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = tuple(ids[start : start + 500])
        for obj in node.store.query(Query(ids=chunk, include_revoked=True)):
            found[obj.id] = orjson.loads(obj.data)
    return found


def list_objects(
    node: Node,
    parsed: ParsedList,
    *,
    producer: str,
    list_name: str,
    tlp: Tlp,
    now: str,
) -> tuple[list[dict[str, Any]], list[str]]:
    """What a list adds to the store now, and the ids of all its indicators.

    An entry whose indicator is stored and valid adds nothing; one stored with
    ``valid_until`` passed comes back as a new version without it.
    """
    made: dict[str, dict[str, Any]] = {}
    for entry in parsed.entries:
        obj = formats.indicator(
            entry,
            producer=producer,
            list_name=list_name,
            tlp=tlp,
            now=now,
            references=parsed.references,
        )
        made.setdefault(obj["id"], obj)
    ids = list(made)
    stored = current_versions(node, ids)
    out: list[dict[str, Any]] = []
    identity = formats.producer_identity(producer, now)
    if not current_versions(node, [identity["id"]]):
        out.append(identity)
    for oid, obj in made.items():
        old = stored.get(oid)
        if old is not None:
            until = old.get("valid_until")
            if not old.get("revoked") and (not until or until > now):
                continue
            obj["created"] = old.get("created", obj["created"])
            obj["valid_from"] = now
        out.append(obj)
    return out, ids


def _list_unit(
    path: Path, fmt: str, options: ListOptions, report: ForeignReport, node: Node
) -> Unit:
    name = str(path.resolve())
    producer = options.producer or path.stem
    max_bytes = node.settings.feed_max_bytes

    def objects() -> Iterable[object]:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(name, f"cannot read it: {exc.strerror}") from exc
        if size > max_bytes:
            raise InputError(name, f"larger than {max_bytes:,} bytes (ACCORD_FEED_MAX_BYTES)")
        lines, note = decode_list(name, path.read_bytes())
        if note:
            report.notes.append(note)
        parsed = parse_list(lines, fmt, options)
        report.lists += 1
        report.entries += len(parsed.entries)
        report.add_line_problems(name, parsed.problems)
        out, _ = list_objects(
            node,
            parsed,
            producer=producer,
            list_name=path.stem,
            tlp=options.tlp,
            now=now_timestamp(),
        )
        return out

    return Unit(name, ("file", name), objects)


def _list_paths(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in _LIST_SUFFIXES
        )
    return [path]


# -- the import -----------------------------------------------------------------------


def import_foreign(
    node: Node,
    paths: Sequence[tuple[str, Format]],
    *,
    collection: str | None = None,
    lists: ListOptions | None = None,
    progress: ingest.Progress | None = None,
) -> ForeignReport:
    """Import MISP events, MISP feed directories and IOC lists.

    Args:
        paths: each path with its format (see `classify`).
        collection: id or title of the collection to add everything to.
        lists: how to read the lists, and whose they are.
    """
    report = ForeignReport()
    options = lists or ListOptions()
    max_bytes = node.settings.feed_max_bytes

    def units() -> Iterator[Unit]:
        for p, fmt in paths:
            path = Path(p)
            if not path.exists():
                raise InputError(p, "no such file or directory")
            if fmt == "misp":
                yield from _misp_file_units(path, report, max_bytes)
            elif fmt == "misp-feed":
                yield from _misp_feed_units(path, report, max_bytes)
            elif fmt in ("csv", "txt"):
                for f in _list_paths(path):
                    own = _LIST_SUFFIXES.get(f.suffix.lower(), fmt) if path.is_dir() else fmt
                    yield _list_unit(f, own, options, report, node)
            else:
                raise ValueError(f"{p}: {fmt} is not a format of import_foreign")

    for p, _ in paths:
        if not Path(p).exists():
            raise InputError(p, "no such file or directory")
    ingest.import_units(node, units(), collection=collection, report=report, progress=progress)
    return report
