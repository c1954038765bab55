"""Egress: the one place every way out of the node asks what may leave, and in what form.

TAXII reads (objects, object, versions, manifest), pushes to peers, exports
for a member and ``accord policy preview`` all open a `Gate` for one
recipient and one collection and pass the stored versions through it. The gate
holds the agreement that covers the pair (see `accord.policy`); each version
is shared as stored, shared as a redacted copy, or withheld.

Agreements are the TOML files in ``<ACCORD_HOME>/agreements/``. They are
read again whenever a file changes (a change takes effect with the next
request), and every version put in force, refused or removed is recorded in
the store's agreement log with its time. An invalid file is refused and
logged; its last valid version stays in force, and where it never had one,
nothing leaves the node to anybody until it is fixed (an agreement that
cannot be read must not widen what is shared).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from accord.community import Floor, embargo_for
from accord.exceptions import AgreementInvalid, ConfigError, NotFound
from accord.policy import (
    REFERRING_TYPES,
    Agreement,
    Context,
    Decision,
    Inbound,
    Origin,
    Recipient,
    Screen,
    Verdict,
    Withholds,
    check_book,
    decide,
    drop_references,
    parse_agreement,
    referenced,
    withholds,
)
from accord.service import _egress_norms, community
from accord.service.node import Node
from accord.store import (
    AgreementEvent,
    Collection,
    Member,
    PageItem,
    PageQuery,
    Query,
    StoredObject,
)

AGREEMENTS_DIR = "agreements"
_RESIDENCY_RE = re.compile(r"\s*residency\s*:\s*([A-Za-z][A-Za-z0-9-]{0,15})\s*\Z", re.IGNORECASE)
Mode = Literal["policy", "open", "closed"]
_GIVERS = ("peer", "taxii")  # provenance kinds naming who gave us a version


# -- the agreements in force --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Book:
    """The node's agreements in force.

    Attributes:
        agreements: outbound agreements, by name order.
        inbound: the inbound terms for each peer.
        problems: files refused as invalid (each names file, key and fault).
        closed: an invalid file has no earlier valid version (or two clash):
            nothing leaves until it is fixed.
        digests: each agreement's SHA-256 (of the file's bytes in force), by name:
            what the transparency log names for a share.
    """

    agreements: tuple[Agreement, ...] = ()
    inbound: dict[str, Inbound] = field(default_factory=dict)
    problems: tuple[AgreementInvalid, ...] = ()
    closed: bool = False
    digests: dict[str, str] = field(default_factory=dict)

    def covering(self, member: str | None, collection: Collection) -> Agreement | None:
        """The agreement for a member (``None``: anonymous) on a collection, most specific first."""
        best: tuple[int, Agreement] | None = None
        for a in self.agreements:
            rank = a.covers(member, (collection.id, collection.title))
            if rank and (best is None or rank > best[0]):
                best = (rank, a)
        return best[1] if best else None


_lock = threading.Lock()
_cache: dict[str, tuple[tuple[tuple[str, int, int], ...], Book]] = {}


def agreements_dir(node: Node) -> Path:
    """Where the node's agreement files live."""
    return node.settings.home / AGREEMENTS_DIR


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".toml" and p.is_file())


def _source(path: Path) -> str:
    return f"{AGREEMENTS_DIR}/{path.name}"


def _parse(text: str, source: str, stem: str) -> Agreement | Inbound:
    return parse_agreement(text, source, stem)


def load_book(node: Node) -> Book:
    """The agreements in force now: the files as they are, changes recorded in the log.

    Reading is cheap when nothing changed (one ``stat`` per file); a changed
    directory is parsed again and what changed is appended to the log.
    """
    folder = agreements_dir(node)
    files = _files(folder)
    signature = tuple((p.name, *_stat(p)) for p in files)
    key = str(folder.resolve()) + "|" + node.store.url
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        book = _read_book(node, files)
        _cache[key] = (signature, book)
        return book


def _stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


def _read_book(node: Node, files: list[Path]) -> Book:
    latest = node.store.latest_agreements()
    events: list[AgreementEvent] = []
    good: list[Agreement | Inbound] = []
    digests: dict[str, str] = {}
    problems: list[AgreementInvalid] = []
    closed = False
    seen: set[str] = set()
    for path in files:
        source = _source(path)
        seen.add(source)
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        text = raw.decode("utf-8", errors="replace")
        last = latest.get(source)
        try:
            parsed = _parse(text, source, path.stem)
        except AgreementInvalid as exc:
            problems.append(exc)
            if last is None or last.digest != digest:
                events.append(
                    AgreementEvent(path.stem, source, "invalid", digest, text, str(exc), 0)
                )
            found = _last_valid(node, source)
            if found is None:
                closed = True
            else:
                earlier, earlier_digest = found
                digests[earlier.name] = earlier_digest
                good.append(earlier)
            continue
        good.append(parsed)
        digests[parsed.name] = digest
        if last is None or last.action == "removed":
            events.append(AgreementEvent(parsed.name, source, "added", digest, text, "", 0))
        elif last.digest != digest:
            events.append(AgreementEvent(parsed.name, source, "changed", digest, text, "", 0))
    for source, last in latest.items():
        if source not in seen and last.action != "removed":
            events.append(AgreementEvent(last.name, source, "removed", last.digest, "", "", 0))
    node.store.record_agreements(events)
    try:
        check_book(good)
    except AgreementInvalid as exc:
        problems.append(exc)
        closed = True
    outbound = tuple(sorted((a for a in good if isinstance(a, Agreement)), key=lambda a: a.name))
    inbound = {a.peer: a for a in good if isinstance(a, Inbound)}
    return Book(outbound, inbound, tuple(problems), closed, digests)


def _last_valid(node: Node, source: str) -> tuple[Agreement | Inbound, str] | None:
    for event in reversed(node.store.agreement_log()):
        if event.source != source or event.action not in ("added", "changed"):
            continue
        try:
            return _parse(event.body, source, Path(source).stem), event.digest
        except AgreementInvalid:
            return None
    return None


def check_files(node: Node) -> tuple[list[Agreement | Inbound], list[AgreementInvalid]]:
    """Parse every agreement file without putting anything in force or logging.

    Returns:
        The valid agreements and the errors (one per invalid file, and clashes).
    """
    good: list[Agreement | Inbound] = []
    errors: list[AgreementInvalid] = []
    for path in _files(agreements_dir(node)):
        try:
            good.append(_parse(path.read_text(errors="replace"), _source(path), path.stem))
        except AgreementInvalid as exc:
            errors.append(exc)
    try:
        check_book(good)
    except AgreementInvalid as exc:
        errors.append(exc)
    return good, errors


# -- the gate ---------------------------------------------------------------------------


@dataclass(slots=True)
class Counts:
    """What a gate let through."""

    shared: int = 0
    redacted: int = 0
    withheld: int = 0


def residency_markings(node: Node) -> dict[str, str]:
    """Marking-definition id -> residency code, for statement markings ``residency: XX``."""
    found: dict[str, str] = {}
    for mid, data in node.store.marking_definitions():
        if b"residency" not in data.lower():
            continue
        definition = orjson.loads(data).get("definition")
        statement = definition.get("statement") if isinstance(definition, dict) else None
        if isinstance(statement, str):
            m = _RESIDENCY_RE.match(statement)
            if m:
                found[mid] = m.group(1).upper()
    return found


@dataclass(slots=True)
class Gate:
    """What one recipient may receive from one collection, now.

    ``mode``: ``policy`` (an agreement decides), ``open`` (no agreement covers
    the pair and ACCORD_POLICY_UNCOVERED=share: everything the grant allows) or
    ``closed`` (nothing: uncovered under ``withhold``, or an unreadable agreement).
    """

    node: Node
    recipient: Recipient
    collection: Collection
    mode: Mode
    agreement: Agreement | None
    context: Context
    inbound: dict[str, Inbound]
    now: datetime
    why_closed: str = ""
    counts: Counts = field(default_factory=Counts)
    floor: Floor | None = None  # the community's norms, when they tighten this gate
    norm_notes: tuple[str, ...] = ()  # what the norms made stricter, each naming its norm
    _origins_matter: bool | None = None
    _screen: Screen | None = None
    _refs: dict[str, bool] = field(default_factory=dict)  # id -> withheld, as referenced

    def _needs_origins(self) -> bool:
        if self._origins_matter is None:
            kinds = self.node.store.source_kinds()
            self._origins_matter = bool(kinds & {"peer", "taxii"})
        return self._origins_matter

    def _origin(self, sources: list[tuple[str, str]] | None) -> Origin:
        if not sources:
            return Origin()
        peer = next((n for k, n in sources if k == "peer"), None)
        member = next((n for k, n in sources if k == "taxii"), None)
        return Origin(peer, self.inbound.get(peer) if peer else None, member)

    def decide(
        self,
        obj: StoredObject,
        sources: list[tuple[str, str]] | None = None,
        every_reason: bool = True,
    ) -> Decision:
        """The decision for one stored version (``sources``: its provenance, if known)."""
        if self.mode == "open":
            return Decision(Verdict.SHARE, ["no agreement covers it; the grant alone decides"])
        if self.mode == "closed" or self.agreement is None:
            return Decision(Verdict.WITHHOLD, [self.why_closed])
        if sources is None and self._needs_origins():
            sources = self.node.store.origins([obj.added]).get(obj.added, [])
        text = obj.data.decode()
        stored = orjson.loads(text)
        held = self._norm_embargo(obj.type, stored)
        if held is not None:
            return Decision(Verdict.WITHHOLD, [held])
        d = decide(
            stored,
            self.agreement,
            self.recipient,
            self.context,
            self.now,
            self._origin(sources),
            # Explaining names the property of each removal: the object is walked.
            None if every_reason else text,
            every_reason,
            self._standings([obj]).get(obj.id),
        )
        if obj.type not in REFERRING_TYPES or d.verdict is Verdict.WITHHOLD:
            return d
        return self._without_hidden_refs(d, stored if d.copy is None else d.copy)

    def _norm_embargo(self, otype: str, obj: dict[str, Any] | bytes) -> str | None:
        """Why a community norm's minimum embargo for the type holds the object (None: it does not).

        The agreement's own embargo is one for every type; a norm's is per type
        (see accord.community.embargo_for), so it is checked here, before the agreement's rules.
        """
        if self.floor is None or not self.floor.embargo or self.agreement is None:
            return None
        found = embargo_for(self.floor, otype, self.agreement)
        if found is None:
            return None
        if isinstance(obj, bytes):
            obj = orjson.loads(obj)
        created = obj.get("created") if isinstance(obj, dict) else None
        if not isinstance(created, str):
            return None
        hours, src = found
        until = _egress_norms.embargo_end(created, self.now, hours)
        return None if until is None else f"under embargo until {until}: {src}"

    def _standings(self, objs: Iterable[StoredObject]) -> dict[str, float]:
        """The standings of the indicators among these, when the agreement sets a minimum."""
        if self.agreement is None or self.agreement.min_standing is None:
            return {}
        ids = [o.id for o in objs if o.type == "indicator"]
        if not ids:
            return {}
        held = self.node.store.standings(ids)
        return {i: h.standing.score for i, h in held.items()}

    def _without_hidden_refs(self, d: Decision, outgoing: dict[str, Any]) -> Decision:
        """A decision to share, after the references to withheld objects (`accord.policy`)."""
        hidden = self._withheld_refs(referenced(outgoing))
        copy, removed, why = drop_references(outgoing, hidden.__contains__)
        if copy is None:
            return Decision(Verdict.WITHHOLD, [why], removed)
        if copy is outgoing:
            return d
        reason = f"references to {len(removed)} object(s) withheld from this recipient removed"
        data = orjson.dumps(copy, option=orjson.OPT_SORT_KEYS)
        return Decision(
            Verdict.SHARE_REDACTED, [*d.reasons, reason], [*d.removed, *removed], copy, data
        )

    def _withheld_refs(self, ids: Iterable[str]) -> set[str]:
        """Of these ids, those of stored objects this gate withholds (each decided once).

        An id the node does not hold is not withheld: repeating it reveals nothing;
        nor is an object the recipient itself gave us (a sighting of a peer's AMBER
        indicator goes back to that peer, which may not receive the indicator again).
        """
        wanted = set(ids)
        known = self._refs
        missing = sorted(wanted - known.keys())
        me = self.recipient.name
        for start in range(0, len(missing), 500):
            chunk = tuple(missing[start : start + 500])
            found = list(self.node.store.query(Query(ids=chunk, include_revoked=True)))
            origins = self.node.store.origins([o.added for o in found])
            for obj in found:
                sources = origins.get(obj.added, [])
                if me is not None and any(n == me for k, n in sources if k in _GIVERS):
                    known[obj.id] = False
                    continue
                verdict = self.decide(obj, sources, every_reason=False).verdict
                known[obj.id] = verdict is Verdict.WITHHOLD
            for ref in chunk:
                known.setdefault(ref, False)
        return {ref for ref in wanted if known[ref]}

    def _references(self, out: list[PageItem]) -> tuple[list[PageItem], int]:
        """``out`` without references to what this gate withholds; how many it withheld."""
        parsed = {id(i): orjson.loads(i.obj.data) for i in out if i.obj.type in REFERRING_TYPES}
        hidden = self._withheld_refs(r for obj in parsed.values() for r in referenced(obj))
        if not hidden:
            return out, 0
        kept: list[PageItem] = []
        for item in out:
            obj = parsed.get(id(item))
            if obj is not None:
                copy, _, _ = drop_references(obj, hidden.__contains__)
                if copy is None:
                    continue
                if copy is not obj:
                    item = _sent(item, orjson.dumps(copy, option=orjson.OPT_SORT_KEYS))
            kept.append(item)
        return kept, len(out) - len(kept)

    def withheld(self) -> Withholds | None:
        """The rows a page may leave out: the agreement withholds them whatever else holds.

        Told by the store's type, tlp and created columns (`accord.policy.Withholds`);
        the rows kept still pass `filter`.
        """
        if self.mode != "policy" or self.agreement is None:
            return None
        return withholds(self.agreement, self.now)

    def filter(self, items: Sequence[PageItem]) -> list[PageItem]:
        """The items that may go, as they go (a redacted copy's bytes in place of the stored)."""
        if self.mode == "open":
            self.counts.shared += len(items)
            return list(items)
        if self.mode == "closed" or self.agreement is None:
            self.counts.withheld += len(items)
            return []
        if self.floor is not None and self.floor.embargo:
            kept = [
                i
                for i in items
                if i.obj.type not in self.floor.embargo
                or self._norm_embargo(i.obj.type, i.obj.data) is None
            ]
            self.counts.withheld += len(items) - len(kept)
            items = kept
        origins: dict[int, list[tuple[str, str]]] = {}
        if self._needs_origins():
            origins = self.node.store.origins([i.obj.added for i in items])
        agreement, recipient, context, now = self.agreement, self.recipient, self.context, self.now
        screen = self._screen
        if screen is None:
            screen = self._screen = Screen(agreement, recipient, context, now)
        if not items:
            return []
        scores: dict[str, float] | None = None
        low = agreement.min_standing
        if low is not None:
            # Members' judgement (accord.standing): indicators below the minimum stay,
            # each decided with its standing where it is decided in full.
            scores = self._standings(i.obj for i in items)
            kept_items = [
                i for i in items if i.obj.type != "indicator" or scores.get(i.obj.id, 0.0) >= low
            ]
            self.counts.withheld += len(items) - len(kept_items)
            items = kept_items
            if not items:
                return []
        # The hot path of every gated page. Most versions are settled by their columns
        # and bytes (see accord.policy.Screen): served as stored, withheld, or redacted
        # from the bytes where only their free text can change. (The columns of the
        # page's StoredObject tuples, transposed at once.)
        _, _, types, versions, _, _, datas = zip(*(i.obj for i in items), strict=True)
        quicks = screen.verdicts(types, versions, datas)
        out: list[PageItem] = []
        keep = out.append
        redacted = withheld = 0
        share, withhold, text_only = Verdict.SHARE, Verdict.WITHHOLD, Verdict.SHARE_REDACTED
        for item, quick in zip(items, quicks, strict=True):
            sources = origins.get(item.obj.added) if origins else None
            if sources:
                verdict, sent = self._decided(item, sources, scores)
            elif quick is share:
                keep(item)
                continue
            elif quick is withhold:
                withheld += 1
                continue
            elif quick is text_only:
                data = screen.outgoing(item.obj.data)
                verdict, sent = (share, item) if data is None else (text_only, _sent(item, data))
            else:
                verdict, sent = self._decided(item, None, scores)
            if verdict is withhold:
                withheld += 1
            else:
                redacted += verdict is text_only
                keep(sent)
        if out and not REFERRING_TYPES.isdisjoint(types):
            # Relationships, sightings, reports: no reference to a withheld object.
            as_stored = {id(i) for i in items}
            out, lost = self._references(out)
            withheld += lost
            redacted = sum(1 for i in out if id(i) not in as_stored)
        counts = self.counts
        counts.shared += len(out) - redacted
        counts.redacted += redacted
        counts.withheld += withheld
        return out

    def _decided(
        self,
        item: PageItem,
        sources: list[tuple[str, str]] | None,
        scores: dict[str, float] | None = None,
    ) -> tuple[Verdict, PageItem]:
        """`Gate.decide` inlined (first reason only): the verdict and the item that goes."""
        assert self.agreement is not None  # `filter` decides only in policy mode
        obj = item.obj
        text = obj.data.decode()
        origin = self._origin(sources) if sources else None
        d = decide(
            orjson.loads(text),
            self.agreement,
            self.recipient,
            self.context,
            self.now,
            origin,
            text,
            False,
            scores.get(obj.id) if scores else None,
        )
        if d.verdict is Verdict.SHARE_REDACTED and d.data is not None:
            return d.verdict, _sent(item, d.data)
        if d.verdict is Verdict.SHARE:
            return d.verdict, item
        return Verdict.WITHHOLD, item

    def objects(self, objects: Iterable[StoredObject], chunk: int = 1000) -> Iterator[StoredObject]:
        """Stored versions through the gate (exports, pushes)."""
        batch: list[PageItem] = []
        for obj in objects:
            batch.append(PageItem(obj.added, obj))
            if len(batch) >= chunk:
                yield from (i.obj for i in self.filter(batch))
                batch = []
        if batch:
            yield from (i.obj for i in self.filter(batch))


def _with_data(o: StoredObject, data: bytes) -> StoredObject:
    return StoredObject(o.added, o.id, o.type, o.version, o.spec_version, o.revoked, data)


def _sent(item: PageItem, data: bytes) -> PageItem:
    """The page item of a redacted copy: the stored version with the copy's bytes."""
    return PageItem(item.date_added, _with_data(item.obj, data))


def recipient_for(node: Node, member: Member | None) -> Recipient:
    """A member (``None``: an anonymous reader) as the policy sees it."""
    if member is None:
        return Recipient(None)
    return Recipient(member.name, node.store.jurisdictions().get(member.name), member.identity_id)


def read_gate(node: Node, member: Member | None, collection: Collection) -> Gate | None:
    """The gate of a TAXII read, or None where the requester's grant alone decides.

    The common case (no agreement covers the pair, and uncovered requesters
    are served) is settled from the cached agreement book, without the store
    queries a gate's recipient and context need: every TAXII page asks.
    """
    if collection.title == community.COLLECTION:
        return None  # signed community records: every member may read them as they are
    book = load_book(node)
    name = member.name if member is not None else None
    if (
        not book.closed
        and book.covering(name, collection) is None
        and node.settings.policy_uncovered == "share"
        and _egress_norms.floor_of(node) is None
    ):
        return None
    gate = open_gate(node, member, collection)
    return None if gate.mode == "open" else gate


def open_gate(
    node: Node,
    member: Member | None,
    collection: Collection,
    *,
    now: datetime | None = None,
    recipient: Recipient | None = None,
) -> Gate:
    """The gate for one recipient and one collection, under the agreements in force now."""
    book = load_book(node)
    recipient = recipient or recipient_for(node, member)
    now = now or datetime.now(UTC)
    context = Context(
        node.info.id,
        residency_markings(node),
        frozenset(m.identity_id for m in node.store.members()),
    )
    agreement = book.covering(recipient.name, collection)
    mode: Mode = "policy"
    why = ""
    if book.closed:
        mode = "closed"
        why = "an agreement file is invalid and has no earlier valid version: " + "; ".join(
            str(p) for p in book.problems
        )
    elif agreement is None:
        if node.settings.policy_uncovered == "share":
            mode = "open"
        else:
            mode = "closed"
            why = "no agreement covers this recipient on this collection"
    if mode == "closed":  # nothing leaves: the norms can only be looser than that
        return Gate(node, recipient, collection, mode, agreement, context, book.inbound, now, why)
    floored = _egress_norms.under_norms(node, agreement, mode == "open", recipient, book.inbound)
    if floored.floor is not None:
        agreement, mode = floored.agreement, "policy"
    gate = Gate(node, recipient, collection, mode, agreement, context, floored.inbound, now, why)
    gate.floor, gate.norm_notes = floored.floor, floored.notes
    return gate


def norm_contradictions(node: Node) -> list[str]:
    """Where the node's agreement files are looser than the community's norms (the norms win)."""
    good, _ = check_files(node)
    return _egress_norms.contradicting(node, good)


# -- explain and preview ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Explanation:
    """The decision for one object, one recipient and one collection that holds it."""

    collection: Collection
    agreement: str | None
    mode: Mode
    version: str
    decision: Decision
    norms: tuple[str, ...] = ()  # the community norms that tightened the agreement


def explain(
    node: Node, object_id: str, member_name: str, collection_ref: str | None = None
) -> list[Explanation]:
    """The decision for the current version of an object in each collection that holds it.

    Raises:
        NotFound: no collection (or not the one named) holds the object.
        UnknownMember, UnknownCollection: no such member or collection.
    """
    member = node.store.member(member_name)
    collections = (
        [node.store.collection(collection_ref)] if collection_ref else node.store.collections()
    )
    recipient = recipient_for(node, member)
    out: list[Explanation] = []
    for c in collections:
        page = node.store.collection_page(PageQuery(c.pk, ids=(object_id,), limit=1))
        if not page.items:
            continue
        obj = page.items[0].obj
        gate = open_gate(node, member, c, recipient=recipient)
        name = gate.agreement.name if gate.agreement else None
        decision = gate.decide(obj)
        out.append(Explanation(c, name, gate.mode, obj.version, decision, gate.norm_notes))
    if not out:
        raise NotFound(object_id)
    return out


@dataclass(frozen=True, slots=True)
class Preview:
    """What one member would receive from one collection (current versions)."""

    collection: Collection
    agreement: str | None
    mode: Mode
    counts: Counts


def readable_collections(node: Node, member: Member) -> list[Collection]:
    """The collections a member may read: its read grants and anonymous ones."""
    grants = {g.collection_pk for g in node.store.grants(member.pk) if g.can_read}
    return [c for c in node.store.collections() if c.pk in grants or c.anonymous_read]


def preview(node: Node, member_name: str, collection_ref: str | None = None) -> list[Preview]:
    """Count what a member would receive, per collection, without sending anything."""
    member = node.store.member(member_name)
    if collection_ref:
        collections = [node.store.collection(collection_ref)]
    else:
        collections = readable_collections(node, member)
    recipient = recipient_for(node, member)
    out: list[Preview] = []
    for c in collections:
        gate = open_gate(node, member, c, recipient=recipient)
        after: int | None = None
        while True:
            page = node.store.collection_page(PageQuery(c.pk, after=after, limit=1000))
            gate.filter(page.items)
            if not page.more or not page.items:
                break
            after = page.items[-1].date_added
        name = gate.agreement.name if gate.agreement else None
        out.append(Preview(c, name, gate.mode, gate.counts))
    return out


def for_member(
    node: Node, member_name: str, collection_ref: str, objects: Iterable[StoredObject]
) -> Iterator[StoredObject]:
    """Stored versions of a collection as one member may receive them (exports).

    Raises:
        UnknownMember, UnknownCollection: no such member or collection.
    """
    collection = node.store.collection(collection_ref)
    gate = open_gate(node, node.store.member(member_name), collection)
    return gate.objects(objects)


def decision_summary(d: Decision) -> dict[str, Any]:
    """A decision as JSON-ready data (``accord policy explain --json``)."""
    return {
        "verdict": str(d.verdict),
        "reasons": d.reasons,
        "removed": [{"kind": r.kind, "path": r.path, "value": r.value} for r in d.removed],
    }


# -- the agreements as the CLI lists them ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgreementInfo:
    """One agreement in force, and since when."""

    agreement: Agreement | Inbound
    since: int | None  # microseconds since the epoch: when this version was recorded


def agreements(node: Node) -> tuple[list[AgreementInfo], Book]:
    """The agreements in force now (reading the files, logging changes), by name."""
    book = load_book(node)
    latest = node.store.latest_agreements()
    items: list[Agreement | Inbound] = [*book.agreements, *book.inbound.values()]
    out = []
    for a in sorted(items, key=lambda a: a.name):
        event = latest.get(a.source)
        out.append(AgreementInfo(a, event.recorded if event else None))
    return out, book


def agreement(node: Node, name: str) -> tuple[AgreementInfo, str, list[AgreementEvent]]:
    """One agreement in force: itself, the text in force, and its log.

    Raises:
        ConfigError: no agreement of that name is in force.
    """
    infos, _ = agreements(node)
    for info in infos:
        if info.agreement.name == name:
            log = [e for e in node.store.agreement_log() if e.source == info.agreement.source]
            text = next((e.body for e in reversed(log) if e.action in ("added", "changed")), "")
            return info, text, log
    raise ConfigError(name, "no agreement of that name is in force (see `accord agreement list`)")


def set_jurisdiction(node: Node, member_name: str, jurisdiction: str | None) -> str | None:
    """Declare a member's jurisdiction (a residency code such as EU, DE, CN; None: none).

    Raises:
        ValueError: not a residency code.
        UnknownMember: no such member.
    """
    code = check_jurisdiction(jurisdiction) if jurisdiction else None
    node.store.set_jurisdiction(member_name, code)
    return code


def check_jurisdiction(text: str) -> str:
    """A jurisdiction code, upper case.

    Raises:
        ValueError: not a code such as EU, DE or CN.
    """
    code = text.strip().upper()
    if not re.fullmatch(r"[A-Z][A-Z0-9-]{1,15}", code):
        raise ValueError(f"{text!r} is not a jurisdiction code such as EU, DE or CN")
    return code


def for_peer(
    node: Node, peer_name: str, collection_pk: int, objects: Sequence[StoredObject]
) -> list[StoredObject]:
    """Versions of one of our collections as a peer may receive them (pushes).

    A peer is covered by the agreements that name it; its jurisdiction and
    identity are those of the member with the same name, if there is one.
    """
    collection = next(c for c in node.store.collections() if c.pk == collection_pk)
    try:
        member: Member | None = node.store.member(peer_name)
    except KeyError:
        member = None
    recipient = recipient_for(node, member) if member else Recipient(peer_name)
    gate = open_gate(node, member, collection, recipient=recipient)
    return list(gate.objects(objects))
