"""Fuzz targets: one function per target, one input as bytes, Accord's contract checked.

Each target hands its bytes to one of Accord's doors for untrusted input and
holds it to its contract: bad input raises only the errors Accord documents
for that door (`accord.exceptions`), never another exception; where an
invariant holds, it is asserted. Anything else escaping is a crash.

The same functions serve atheris (``python -m tests.fuzz run TARGET``, `make
fuzz`) and pytest (tests/fuzz/test_corpus.py replays every corpus input,
tests/fuzz/test_regressions.py the crashes found). docs/fuzzing.md lists what
each target asserts.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.datastructures import QueryParams

from accord import formats
from accord.exceptions import (
    AgreementInvalid,
    InvalidObject,
    NotStix,
    PatternError,
    PeerError,
    TaxiiBadRequest,
    TaxiiUnprocessable,
    TaxiiUnsupportedMediaType,
)
from accord.logsources import LogParser, SourceStats, from_wire, to_wire
from accord.logsources._stixlines import observed_keys
from accord.patterns import Event, Matcher, explain, match, parse, pattern_observables, warnings_of
from accord.policy import (
    Agreement,
    Context,
    Recipient,
    check_book,
    decide,
    parse_agreement,
    withholds,
)
from accord.service import taxii as taxii_service
from accord.service._foreign import ListOptions, decode_list, parse_list
from accord.service._readers import _document_items
from accord.service._sync_pull import prepare_page, resume_after
from accord.service.node import Node
from accord.standing import forged
from accord.stix import Record, prepare
from accord.taxii._client_retry import parse_retry_after
from accord.taxii._media import accepts_taxii, require_taxii_body
from accord.taxii.client import MEDIA_TYPE, TaxiiClient
from tests.fuzz import samples
from tests.fuzz.render import render, shape
from tests.logsources.helpers import assert_consistent

__all__ = ["TARGETS", "Target"]

Target = Callable[[bytes], None]
MAX_OBJECTS = 64  # objects of one input looked at: the contract is per object
NOW = datetime(2026, 12, 1, tzinfo=UTC)


# -- STIX: the validator and the lifter ------------------------------------------------


def _check_record(rec: Record) -> None:
    """A validated (maybe lifted) object is a fixpoint: its bytes validate to themselves.

    The observables are a set for the value index: their order follows the
    input's property order, which the canonical bytes sort.
    """
    assert rec.spec_version == "2.1"
    again = prepare(orjson.loads(rec.data))
    assert set(again.observables) == set(rec.observables), (rec, again)
    assert again._replace(notes=(), observables=()) == rec._replace(notes=(), observables=())


def stix(data: bytes) -> None:
    """`accord.stix.prepare` over a document as the importer reads it (bundle, object, list)."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    try:
        items = list(_document_items("fuzz", doc))
    except NotStix:
        return
    for obj, spec_version, _ in items[:MAX_OBJECTS]:
        try:
            rec = prepare(obj, bundle_spec_version=spec_version)
        except InvalidObject:
            continue
        _check_record(rec)


# -- patterns: the parser and the evaluator --------------------------------------------


def pattern_parse(data: bytes) -> None:
    """`parse`; an accepted pattern written back as text parses again to the same tree."""
    text = data.decode("utf-8", "replace")
    try:
        tree = parse(text)
    except PatternError:
        return
    again = render(tree)
    try:
        second = parse(again)
    except PatternError as exc:
        raise AssertionError(f"{text!r} written back as {again!r} does not parse: {exc}") from exc
    assert shape(second) == shape(tree), (text, again)
    warnings_of(tree)
    explain(tree)
    with contextlib.suppress(PatternError):
        pattern_observables(text)


def _sdos(doc: object) -> list[dict[str, Any]]:
    items = doc if isinstance(doc, list) else [doc]
    return [item for item in items if isinstance(item, dict)]


def pattern_match(data: bytes) -> None:
    """A pattern (first line) against observed data (the rest, JSON): `match` and `Matcher`.

    Both may refuse the pattern or the data with a `PatternError` only; the
    compiled matcher is fed each observed-data's keys as a log source would.
    """
    head, _, rest = data.partition(b"\n")
    pattern = head.decode("utf-8", "replace")
    try:
        sdos = _sdos(orjson.loads(rest))
    except orjson.JSONDecodeError:
        sdos = []
    for version in ("2.1", "2.0"):
        try:
            found = match(pattern, sdos, stix_version=version)
        except PatternError:
            continue
        assert isinstance(found, list)
    matcher = Matcher(regex_timeout=0.05)
    try:
        matcher.add("indicator--00000000-0000-4000-8000-000000000001", pattern)
    except PatternError:
        return
    for n, sdo in enumerate(sdos[:MAX_OBJECTS], 1):
        keys = observed_keys(sdo)
        if keys:
            matcher.feed(Event(float(n), tuple(keys), functools.partial(list, [sdo]), n))


# -- sharing agreements ------------------------------------------------------------------


def agreement(data: bytes) -> None:
    """`parse_agreement` (as the service reads a file); a parsed one decides every sample."""
    text = data.decode("utf-8", errors="replace")  # as accord.service.egress reads files
    try:
        parsed = parse_agreement(text, "fuzz.toml", "fuzz")
    except AgreementInvalid:
        return
    check_book([parsed])
    if not isinstance(parsed, Agreement):
        return
    withholds(parsed, NOW)
    ctx = Context(samples.NODE_IDENTITY)
    for recipient in (Recipient("partner", "EU"), Recipient(None)):
        parsed.covers(recipient.name, ("collection--x", "intel"))
        for obj in samples.OBJECTS:
            decision = decide(obj, parsed, recipient, ctx, NOW, standing=0.5)
            if decision.data is not None:
                _check_record(prepare(orjson.loads(decision.data)))


# -- TAXII: query filters, headers, envelopes --------------------------------------------

_OBJECT_FILTERS = frozenset(
    (
        taxii_service.ADDED_AFTER,
        taxii_service.LIMIT,
        taxii_service.NEXT,
        taxii_service.M_ID,
        taxii_service.M_TYPE,
        taxii_service.M_VERSION,
        taxii_service.M_SPEC,
    )
)
MAX_PAGE = 50


@functools.cache
def _node() -> tuple[Node, int]:
    """A SQLite node with the sample objects in one collection, for the filters to query."""
    home = Path(tempfile.mkdtemp(prefix="accord-fuzz-"))
    atexit.register(shutil.rmtree, home, True)
    node, collection_pk = samples.make_node(home)
    atexit.register(node.close)
    return node, collection_pk


def taxii_query(data: bytes) -> None:
    """A header line (Accept, Content-Type, Retry-After) and a query string (the rest).

    `parse_filters` refuses with `TaxiiBadRequest` only; filters it takes are
    answered by the store, a page no longer than ``limit``.
    """
    head, _, query = data.partition(b"\n")
    header = head.decode("latin-1")  # as HTTP header values are read
    assert isinstance(accepts_taxii(header), bool)
    with contextlib.suppress(TaxiiUnsupportedMediaType):
        require_taxii_body(header)
    wait = parse_retry_after(header, NOW)
    assert wait is None or wait >= 0
    params = QueryParams(query).multi_items()  # what starlette hands the routes
    try:
        filters = taxii_service.parse_filters(params, _OBJECT_FILTERS, max_page=MAX_PAGE)
    except TaxiiBadRequest:
        return
    assert 1 <= filters.limit <= MAX_PAGE
    node, collection_pk = _node()
    page = node.store.collection_page(filters.query(collection_pk))
    assert len(page.items) <= filters.limit


class _Peer:
    """One client on a mock transport answering with the body and status set last."""

    def __init__(self) -> None:
        self.body, self.status = b"", 200
        transport = httpx.MockTransport(self.answer)
        self.client = TaxiiClient(
            "http://peer.invalid", "/api/", transport=transport, sleep=lambda s: None
        )

    def answer(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(self.status, content=self.body, headers={"Content-Type": MEDIA_TYPE})


@functools.cache
def _peer() -> _Peer:
    return _Peer()


def _peer_page(data: bytes, status: int) -> object:
    peer = _peer()
    peer.body, peer.status = data, status
    return peer.client.get_objects("collection--fuzz", limit=10)


def taxii_envelope(data: bytes) -> None:
    """One body as a TAXII envelope: posted to this node, and answered by a peer.

    Posted: `read_envelope` refuses with `TaxiiBadRequest` or
    `TaxiiUnprocessable` only, each object as an Add Objects does. Answered by
    a peer: the client refuses with `PeerError` only, and the page is prepared
    as a pull does; an error answer (400) is a `PeerError` whatever its body.
    """
    try:
        objects = taxii_service.read_envelope(data)
    except (TaxiiBadRequest, TaxiiUnprocessable):
        objects = []
    for obj in objects[:MAX_OBJECTS]:
        forged(obj, samples.NODE_IDENTITY, "member fuzz")
        with contextlib.suppress(InvalidObject):
            _check_record(prepare(obj))
    try:
        page = _peer_page(data, 200)
    except PeerError:
        pass
    else:
        prepared = prepare_page(page)  # type: ignore[arg-type]
        assert prepared.received == len(page.objects)  # type: ignore[attr-defined]
        resume_after(prepared.added_last)
    try:
        _peer_page(data, 400)
    except PeerError:
        pass
    else:  # pragma: no cover - an assertion
        raise AssertionError("a 400 answer was taken as a page")


# -- log readers ---------------------------------------------------------------------------

CSV_MAPPING = (
    ("1", "time"),
    ("2", "ipv4-addr:value"),
    ("3", "network-traffic:dst_port"),
    ("4", "domain-name:value"),
    ("5", "url:value"),
)


@functools.cache
def _matcher() -> Matcher:
    # One matcher for every input: compiling the indicators costs more than an input.
    # Its windows keep the last events (bounded), which only the next inputs see.
    return samples.matcher()


def _logs(data: bytes, fmt: Any, mapping: tuple[tuple[str, str], ...] = ()) -> None:
    """Every line fed to a `LogParser`: it never raises, and counts every line."""
    stats = SourceStats()
    parser = LogParser("fuzz", fmt, mapping, stats=stats)
    matcher = _matcher()
    lines = data.splitlines(keepends=True)
    events = 0
    for n, raw in enumerate(lines, 1):
        event = parser.feed(raw, n)
        if event is None:
            continue
        events += 1
        if fmt != "jsonl":
            assert_consistent(event)
        again = from_wire(to_wire(event))
        assert again.keys == event.keys and again.time == event.time
        matcher.feed(event)
    assert stats.lines == len(lines)
    assert stats.events == events
    assert events + stats.ignored + stats.skipped_total <= len(lines)


def zeek(data: bytes) -> None:
    """Zeek logs (TSV with their header, or JSON lines)."""
    _logs(data, "zeek")


def eve(data: bytes) -> None:
    """Suricata eve.json lines."""
    _logs(data, "eve")


def csv(data: bytes) -> None:
    """CSV with a column mapping; and the same lines with the format detected."""
    _logs(data, "csv", CSV_MAPPING)
    _logs(data, None, CSV_MAPPING)


def lists(data: bytes) -> None:
    """IOC lists (text and CSV): each entry taken becomes a valid indicator."""
    lines, _ = decode_list("fuzz.txt", data)
    for fmt in ("txt", "csv"):
        parsed = parse_list(lines, fmt, ListOptions())
        for entry in parsed.entries[:MAX_OBJECTS]:
            obj = formats.indicator(
                entry, producer="fuzz", list_name="fuzz", tlp=ListOptions().tlp, now=samples.NOW
            )
            _check_record(prepare(obj))
            parse(obj["pattern"])


TARGETS: dict[str, Target] = {
    "stix": stix,
    "pattern_parse": pattern_parse,
    "pattern_match": pattern_match,
    "agreement": agreement,
    "taxii_query": taxii_query,
    "taxii_envelope": taxii_envelope,
    "zeek": zeek,
    "eve": eve,
    "csv": csv,
    "lists": lists,
}
