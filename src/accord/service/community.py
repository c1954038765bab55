"""Community governance on a node: the genesis it joined, its records, its state and norms.

Files, in ``<ACCORD_HOME>/community/``::

    genesis.json      the complete genesis file of the community this node joined
    member.key        this node's community signing key (Ed25519, PKCS#8 PEM, 0600)
    member.key.next   a successor key while a rotate-key proposal is open
    left              present once this node has withdrawn

Collections: ``community`` holds the records this node accepted (and the
extension definition); it is what the node serves to its peers. Peers'
community collections are pulled into ``community-inbox``; after each pull
`absorb` checks every new record there (signature, membership of its base
state, the rules of `accord.community.replay`) and moves the ones it accepts
into ``community``, appending each to the transparency log. A record that
waits for its base state or its proposal stays in the inbox and is checked
again after the next pull; a refused one never reaches ``community``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.community import (
    Charter,
    Floor,
    ProposalView,
    Record,
    View,
    check_member,
    complete_genesis,
    genesis_file,
    make_charter,
    make_floor,
    proposal,
    public_hex,
    read_all,
    read_record,
    replay_records,
    rotate_action,
    sign_genesis,
    vote,
    withdrawal,
)
from accord.community import Member as CommunityMember
from accord.exceptions import CommunityError, RecordRefused
from accord.ledger import Entry
from accord.service import _community_wire as wire
from accord.service.node import Node
from accord.stix import prepare
from accord.store import Collection, Query
from accord.store._ledger import Append

COMMUNITY_DIR = "community"
GENESIS = "genesis.json"
KEY = "member.key"
NEXT_KEY = "member.key.next"
LEFT = "left"
COLLECTION = "community"
INBOX = "community-inbox"
LOG_ENTRY_TYPE = "community-record"
_NOT_JOINED = "this node has joined no community (accord community join FILE)"


def folder(node: Node) -> Path:
    return node.settings.home / COMMUNITY_DIR


def now_stamp() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- keys and cards ---------------------------------------------------------------------


def _write_key(path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def _read_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CommunityError(str(path), "is not an Ed25519 private key")
    return key


def signing_key(node: Node) -> Ed25519PrivateKey:
    """This node's community key (made on first use)."""
    path = folder(node) / KEY
    if not path.exists():
        _write_key(path, Ed25519PrivateKey.generate())
    return _read_key(path)


def card(node: Node, jurisdiction: str) -> dict[str, str]:
    """This node as a member entry (for a genesis or an admit proposal)."""
    entry = {
        "id": node.info.id,
        "jurisdiction": jurisdiction.strip().upper(),
        "key": public_hex(signing_key(node)),
        "name": node.info.name,
    }
    check_member(entry, "card")
    return entry


# -- the genesis ------------------------------------------------------------------------


def create(
    node: Node,
    path: Path,
    *,
    name: str,
    jurisdiction: str,
    founders: list[dict[str, Any]],
    thresholds: dict[str, str] | None = None,
    period_hours: int = 168,
    norms: list[dict[str, Any]] | None = None,
) -> Charter:
    """Write a genesis file naming this node and the founders' cards, signed by this node.

    Raises:
        CommunityError: a card or value is not acceptable, or the file exists.
    """
    if path.exists():
        raise CommunityError(str(path), "exists already; sign it with --sign")
    me = card(node, jurisdiction)
    members = [check_member(me, "this node")]
    for i, f in enumerate(founders):
        members.append(check_member(f, f"founder {i + 1}"))
    doc = make_charter(name, now_stamp(), members, thresholds, period_hours, norms)
    data, charter, _ = sign_genesis(genesis_file(doc), str(path), node.info.id, signing_key(node))
    path.write_bytes(data)
    return charter


def sign(node: Node, path: Path) -> tuple[Charter, list[str]]:
    """Add this node's signature to a genesis file; the founders who have not signed yet."""
    data, charter, sigs = sign_genesis(
        path.read_bytes(), str(path), node.info.id, signing_key(node)
    )
    path.write_bytes(data)
    return charter, [m.name for m in charter.members if m.id not in sigs]


def join(node: Node, path: Path) -> Charter:
    """Join the community of a complete genesis file: install it and make the collections.

    Raises:
        CommunityError: the file is incomplete or wrong, or the node is in another community.
    """
    data = path.read_bytes()
    charter = complete_genesis(data, str(path))
    here = folder(node) / GENESIS
    if here.exists():
        current = complete_genesis(here.read_bytes(), str(here))
        if current.id != charter.id:
            raise CommunityError(str(path), f"this node is in community {current.name} already")
    here.parent.mkdir(parents=True, exist_ok=True)
    here.write_bytes(data)
    (folder(node) / LEFT).unlink(missing_ok=True)
    _collection(node, COLLECTION, f"the records of community {charter.name}")
    _collection(node, INBOX, "community records pulled from peers, before they are checked")
    source = node.store.ensure_source("local", "community")
    with node.store.writer() as w:
        w.add([wire.extension_record()], source_pk=source, collection_pks=[_pk(node)])
    return charter


def _collection(node: Node, title: str, description: str) -> Collection:
    try:
        return node.store.collection(title)
    except KeyError:
        return node.store.create_collection(title, description)


def _pk(node: Node, title: str = COLLECTION) -> int:
    return node.store.collection(title).pk


def joined(node: Node) -> Charter | None:
    """The charter of the community this node is in (None: none, or it left)."""
    path = folder(node) / GENESIS
    if not path.exists():
        return None
    return _charter(str(path), path.stat().st_mtime_ns)


_charters: dict[tuple[str, int], Charter] = {}


def _charter(path: str, mtime: int) -> Charter:
    found = _charters.get((path, mtime))
    if found is None:
        found = complete_genesis(Path(path).read_bytes(), path)
        _charters[(path, mtime)] = found
    return found


def require(node: Node) -> Charter:
    """The charter, or a CommunityError saying the node joined none."""
    charter = joined(node)
    if charter is None:
        raise CommunityError("community", _NOT_JOINED)
    return charter


def has_left(node: Node) -> bool:
    return (folder(node) / LEFT).exists()


# -- records and the view -----------------------------------------------------------------


def _stored(node: Node, title: str) -> list[tuple[int, str, bytes]]:
    """(date added, STIX id, record bytes) of the records in a collection."""
    out = []
    q = Query(collection_pk=_pk(node, title), types=(wire.RECORD_TYPE,), include_revoked=True)
    for obj in node.store.query(q):
        found = wire.from_stix(obj.data)
        if found is not None:
            out.append((obj.added, found[0], found[1]))
    return out


_lock = threading.Lock()
_views: dict[str, tuple[str, int, View]] = {}


def view(node: Node) -> View:
    """The community's view from the records this node accepted (cached until one is added)."""
    charter = require(node)
    key = node.store.url + "|" + str(node.settings.home)
    with _lock:
        cached = _views.get(key)
    if cached is not None and cached[0] == charter.id:
        q = Query(collection_pk=_pk(node), added_after=cached[1], limit=1, include_revoked=True)
        if not list(node.store.query(q)):  # (consumed whole: a PostgreSQL cursor closes)
            return cached[2]
    stored = _stored(node, COLLECTION)
    records, refused = read_all(charter, (d for _, _, d in stored))
    v = replay_records(charter, records, refused)
    last = max((a for a, _, _ in stored), default=0)
    with _lock:
        _views[key] = (charter.id, last, v)
    return v


@dataclass(frozen=True, slots=True)
class Norms:
    """The floor this node applies, and who is inside the community."""

    floor: Floor
    member_ids: frozenset[str]
    member_names: frozenset[str]


def norms(node: Node) -> Norms | None:
    """The adopted norms as a floor (None: the node is in no community, or left it)."""
    if joined(node) is None or has_left(node):
        return None
    state = view(node).state
    return Norms(
        make_floor(list(state.norms)),
        frozenset(m.id for m in state.members),
        frozenset(m.name for m in state.members),
    )


def _store_records(node: Node, records: list[Record]) -> None:
    """Put accepted records in the community collection and in the transparency log,
    in one transaction: a record is served if and only if it is logged."""
    charter = require(node)
    stix = [prepare(wire.to_stix(r, charter.id)) for r in records]
    entries = [Append(e.canonical(), e.type) for e in _log_entries(charter.id, records)]
    source = node.store.ensure_source("local", "community")
    with node.store.federation_tx() as ftx:
        ftx.writer.add(
            [wire.extension_record(), *stix], source_pk=source, collection_pks=[_pk(node)]
        )
        ftx.append_log(entries)


def _log_entries(community_id: str, records: list[Record]) -> list[Entry]:
    """One transparency-log entry per accepted record, holding its bytes.

    The witnesses that cosign the log see every record this node accepted: a node
    cannot hide a vote it received without a gap in its log (a consistency proof
    fails, or the record is absent from what it serves).
    """
    return [
        Entry(
            LOG_ENTRY_TYPE,
            1,
            {
                "community": community_id,
                "record_id": r.id,
                "kind": r.kind,
                "author": r.author,
                "record": r.data.decode(),
            },
        )
        for r in records
    ]


def publish(node: Node, data: bytes) -> Record:
    """Accept one record made here: checked against the state like any other, then stored.

    Raises:
        RecordRefused: refused or deferred, with the reason.
    """
    charter = require(node)
    record = read_record(data, charter.id)
    held = view(node)
    records = dict(held.accepted)
    records[record.id] = record
    v = replay_records(charter, records, {})
    if record.id not in v.accepted:
        if record.id in v.deferred:
            raise RecordRefused(record.id, v.deferred[record.id], deferred=True)
        raise RecordRefused(record.id, v.refused.get(record.id, "not accepted"))
    _store_records(node, [record])
    absorb(node)  # records pulled earlier may have waited for this one
    return record


def _me(node: Node) -> CommunityMember:
    state = view(node).state
    me = state.member(node.info.id)
    if me is None or has_left(node):
        raise CommunityError("community", "this node is not a member of the current state")
    return me


def _key_for(node: Node) -> Ed25519PrivateKey:
    """The key the state knows for this node: a successor once its rotation is adopted."""
    me = _me(node)
    key = signing_key(node)
    nxt = folder(node) / NEXT_KEY
    if me.key != public_hex(key) and nxt.exists():
        new = _read_key(nxt)
        if public_hex(new) == me.key:
            nxt.replace(folder(node) / KEY)
            return new
    return key


def propose(node: Node, action: dict[str, Any]) -> Record:
    """Sign and publish a proposal on the current state.

    Raises:
        CommunityError, RecordRefused: not a member, or the action cannot apply.
    """
    charter = require(node)
    key = _key_for(node)
    base = view(node).state.hash
    data = proposal(key, charter.id, node.info.id, now_stamp(), base, action)
    return publish(node, data)


def rotation(node: Node) -> dict[str, Any]:
    """A rotate-key action for this node's own key: a successor key, kept until adopted."""
    charter = require(node)
    key = _key_for(node)
    nxt = folder(node) / NEXT_KEY
    nxt.unlink(missing_ok=True)
    new = Ed25519PrivateKey.generate()
    _write_key(nxt, new)
    base = view(node).state.hash
    return rotate_action(key, new, charter.id, node.info.id, base)


def find_proposal(node: Node, ref: str) -> str:
    """A proposal's id from its id or a unique prefix of it.

    Raises:
        CommunityError: none or several match.
    """
    ids = [p for p in view(node).proposals if p.startswith(ref.lower())]
    if len(ids) != 1:
        found = "no proposal" if not ids else f"{len(ids)} proposals"
        raise CommunityError(ref, f"{found} with that id (accord community status lists them)")
    return ids[0]


def cast(node: Node, ref: str, choice: str) -> Record:
    """Sign and publish a vote on a proposal (id or unique prefix)."""
    charter = require(node)
    pid = find_proposal(node, ref)
    data = vote(_key_for(node), charter.id, node.info.id, now_stamp(), pid, choice)
    return publish(node, data)


def leave(node: Node) -> Record:
    """Withdraw from the community: a signed withdrawal, published; the norms stop binding."""
    charter = require(node)
    key = _key_for(node)
    data = withdrawal(key, charter.id, node.info.id, now_stamp(), view(node).state.hash)
    record = publish(node, data)
    (folder(node) / LEFT).write_text(record.id + "\n")
    return record


# -- records from peers --------------------------------------------------------------------


@dataclass(slots=True)
class AbsorbReport:
    """What one check of the inbox did."""

    accepted: int = 0
    waiting: int = 0
    refused: dict[str, str] = field(default_factory=dict)


def absorb(node: Node) -> AbsorbReport:
    """Check the records pulled into the inbox; move the accepted ones into ``community``."""
    report = AbsorbReport()
    charter = joined(node)
    if charter is None:
        return report
    held = {sid for _, sid, _ in _stored(node, COLLECTION)}
    candidates = [(sid, d) for _, sid, d in _stored(node, INBOX) if sid not in held]
    if not candidates:
        return report
    current = view(node)
    parsed: list[Record] = []
    for sid, data in candidates:
        try:
            r = read_record(data, charter.id)
        except RecordRefused as exc:
            report.refused[sid] = exc.reason
            continue
        if wire.stix_id(r) != sid:
            report.refused[sid] = "its object id is not the one its record makes"
            continue
        parsed.append(r)
    records = dict(current.accepted)
    for r in parsed:
        records.setdefault(r.id, r)
    v = replay_records(charter, records, {})
    accepted: list[Record] = []
    for r in parsed:
        if r.id in current.accepted or any(a is r for a in accepted):
            continue
        if r.id in v.accepted and v.accepted[r.id] is r:
            accepted.append(r)
        elif r.id in v.deferred:
            report.waiting += 1
        else:
            report.refused[r.id] = v.refused.get(r.id, "a copy of a record held already")
    if accepted:
        _store_records(node, accepted)
    report.accepted = len(accepted)
    return report


@dataclass(frozen=True, slots=True)
class Verified:
    """`verify`: every record replayed from the genesis."""

    records: int
    accepted: int
    refused: dict[str, str]
    state_hash: str
    height: int


def verify(node: Node) -> Verified:
    """Replay every stored record from the genesis, checking each signature and tally."""
    require(node)
    charter = complete_genesis((folder(node) / GENESIS).read_bytes(), GENESIS)  # not cached
    stored = _stored(node, COLLECTION)
    records, refused = read_all(charter, (d for _, _, d in stored))
    v = replay_records(charter, records, refused)
    problems = dict(v.refused)
    problems.update({rid: f"deferred: {why}" for rid, why in v.deferred.items()})
    return Verified(len(stored), len(v.accepted), problems, v.state.hash, v.state.height)


@dataclass(frozen=True, slots=True)
class Status:
    """What ``accord community status`` prints, for a page: the view and this node's place."""

    charter: Charter
    view: View
    me: str  # this node's member id
    left: bool
    open: list[ProposalView]  # the proposals still open, by record id
    now: str  # STIX time of the reading (an open proposal past ``expires`` has expired)


def status(node: Node) -> Status | None:
    """The community's current state, open proposals and faults (None: this node is in none)."""
    charter = joined(node)
    if charter is None:
        return None
    v = view(node)
    open_ = sorted(
        (p for p in v.proposals.values() if p.status == "open"), key=lambda p: p.record.id
    )
    return Status(charter, v, node.info.id, has_left(node), open_, now_stamp())
