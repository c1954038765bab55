"""The transparency log: appending entries, logging shares, signing checkpoints, proofs.

Every answer that leaves the node with intelligence in it (a TAXII page, an
object, a push envelope, an export, sightings sent back) is logged by `share`
*before* it is sent: the entry's transaction commits first, and only then do
the bytes go out. A crash between the two leaves an entry for an answer that
was not delivered (harmless: it says what would have gone), never a delivered
answer without its entry. An answer the node rolled back was never logged,
since nothing is logged until its bytes are final.

Appends from concurrent requests are committed together (group commit): the
first thread to reach the log writes every entry queued by then in one
transaction, and the others find theirs written.

Other capabilities (community records, private-lookup announcements) append
their own typed entries with `append`.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

import orjson

from accord.exceptions import LedgerError, TaxiiNotFound
from accord.ledger import COSIGNATURE_V1 as COSIGNER
from accord.ledger import (
    EMPTY_ROOT,
    SHARE,
    Checkpoint,
    Entry,
    Signer,
    Verifier,
    bundle,
    commitment,
    consistency_proof,
    inclusion_proof,
    receipt_headers,
    share_entry,
    sign_note,
    tile_hash_indexes,
    tile_width,
    tree_hash,
)
from accord.policy import Agreement
from accord.service.egress import load_book
from accord.service.node import Node, load_private_key
from accord.store import Collection, Member
from accord.store._ledger import Append, Opening, SignedCheckpoint, pack_versions

ANONYMOUS = "-"  # the recipient name of an unauthenticated reader


def origin(node: Node) -> str:
    """The log's origin line (and its key name)."""
    return node.settings.log_origin or f"accord/{node.info.id}"


_signers: dict[str, Signer] = {}


def signer(node: Node) -> Signer:
    """The node's identity key under the log's origin."""
    key = f"{node.settings.home.resolve()}|{origin(node)}"
    found = _signers.get(key)
    if found is None:
        found = _signers[key] = Signer(origin(node), load_private_key(node.settings.home))
    return found


def log_verifier(node: Node) -> Verifier:
    """The key that verifies this node's checkpoints (its vkey is what peers pin)."""
    return signer(node).verifier()


def cosigner_verifier(node: Node) -> Verifier:
    """This node's key as a witness (type 0x04: cosignature/v1, the same Ed25519 key)."""
    return signer(node).verifier(COSIGNER)


# -- appending ------------------------------------------------------------------------


@dataclass(slots=True)
class _Slot:
    item: Append
    index: int = -1
    error: BaseException | None = None


@dataclass(slots=True)
class _GroupLog:
    """Group commit of appends made by the threads of one process on one store."""

    queue: list[_Slot] = field(default_factory=list)
    queue_lock: threading.Lock = field(default_factory=threading.Lock)
    write_lock: threading.Lock = field(default_factory=threading.Lock)


_groups: dict[int, _GroupLog] = {}
_groups_lock = threading.Lock()


def _group(node: Node) -> _GroupLog:
    key = id(node.store)
    with _groups_lock:
        found = _groups.get(key)
        if found is None:
            found = _groups[key] = _GroupLog()
        return found


def _append(node: Node, items: Sequence[Append]) -> list[int]:
    group = _group(node)
    slots = [_Slot(item) for item in items]
    with group.queue_lock:
        group.queue.extend(slots)
    with group.write_lock:
        if slots[-1].index < 0 and slots[-1].error is None:
            with group.queue_lock:
                batch, group.queue = group.queue, []
            try:
                indexes = node.store.append_log([s.item for s in batch])
            except BaseException as exc:
                for s in batch:
                    s.error = exc
            else:
                for s, i in zip(batch, indexes, strict=True):
                    s.index = i
    for s in slots:
        if s.error is not None:
            raise s.error
    return [s.index for s in slots]


def append(node: Node, entries: Sequence[Entry]) -> list[int]:
    """Append typed entries, durably, before returning their indexes."""
    if not entries:
        return []
    return _append(node, [Append(e.canonical(), e.type) for e in entries])


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def share(
    node: Node,
    *,
    channel: str,
    collection: Collection | str,
    member: Member | str | None,
    agreement: Agreement | None,
    added: Sequence[int],
    body: bytes = b"",
    digest: str | None = None,
) -> dict[str, str]:
    """Log one answer before it leaves; the receipt headers to send with it.

    Args:
        channel: which egress path (accord.ledger.CHANNELS).
        collection: the collection served (or a name, for exports of several).
        member: the recipient (a peer's name for pushes; None: anonymous).
        agreement: the agreement in force for it, if any.
        added: the ``date_added`` of each version sent (kept in the opening).
        body: the exact bytes sent.
        digest: their SHA-256 (hex) instead, for answers too large to hold.

    Returns:
        The receipt headers, or none when the log is off (ACCORD_LOG=off).
    """
    if not node.settings.log:
        return {}
    recipient = member.name if isinstance(member, Member) else (member or ANONYMOUS)
    coll = collection.id if isinstance(collection, Collection) else collection
    agreement_digest = None
    if agreement is not None:
        agreement_digest = load_book(node).digests.get(agreement.name)
    salt = secrets.token_bytes(32)
    entry = share_entry(
        time=_now(),
        channel=channel,
        collection=coll,
        agreement=agreement_digest,
        count=len(added),
        digest=digest or hashlib.sha256(body).hexdigest(),
        recipient=commitment(salt, recipient),
    )
    opening = Opening(recipient, salt, agreement.name if agreement else None, pack_versions(added))
    (index,) = _append(node, [Append(entry.canonical(), entry.type, opening)])
    return receipt_headers(index, origin(node), entry, recipient, salt)


# -- checkpoints ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Published:
    """The checkpoint as served: its signed note with the cosignatures held for it."""

    checkpoint: SignedCheckpoint
    note: str
    cosigners: tuple[str, ...]


def _sign(node: Node, size: int) -> SignedCheckpoint:
    with node.store.log_reader() as reader:
        root = tree_hash(size, reader) if size else EMPTY_ROOT
    text = Checkpoint(origin(node), size, root).text()
    note = text + "\n" + sign_note(text, signer(node)).line()
    node.store.save_checkpoint(size, root, note)
    found = node.store.latest_checkpoint()
    assert found is not None
    return found


def current(node: Node, *, force: bool = False) -> SignedCheckpoint:
    """The latest checkpoint, signing a new one when the log has grown.

    A new one is signed when the log is larger than the latest checkpoint and
    that one is at least ACCORD_LOG_CHECKPOINT_SECONDS old (or ``force``).
    """
    latest = node.store.latest_checkpoint()
    size = node.store.log_size()
    if latest is None:
        return _sign(node, size)
    if size > latest.size:
        age = time.time() - latest.signed / 1e6
        if force or age >= node.settings.log_checkpoint_seconds:
            return _sign(node, size)
    return latest


def publish(node: Node, *, force: bool = False) -> Published:
    """The latest checkpoint with the cosignatures the node holds for it."""
    cp = current(node, force=force)
    cosigs = node.store.cosignatures(cp.size)
    note = cp.note + "".join(line for _, line, _ in cosigs)
    return Published(cp, note, tuple(w for w, _, _ in cosigs))


def _check_size(node: Node, size: int) -> None:
    latest = node.store.latest_checkpoint()
    if latest is None or size > latest.size or size < 0:
        raise TaxiiNotFound(f"no signed checkpoint covers a tree of size {size}")


def prove_inclusion(node: Node, index: int, size: int) -> list[bytes]:
    """The inclusion proof of entry ``index`` in the tree of ``size`` (a checkpointed size).

    Raises:
        TaxiiNotFound: no checkpoint of that size, or no such entry.
    """
    _check_size(node, size)
    try:
        with node.store.log_reader() as reader:
            return inclusion_proof(size, index, reader)
    except LedgerError as exc:
        raise TaxiiNotFound(str(exc)) from exc


def prove_consistency(node: Node, old: int, size: int) -> list[bytes]:
    """The consistency proof from ``old`` to ``size`` (both no larger than a checkpoint).

    Raises:
        TaxiiNotFound: sizes out of range.
    """
    _check_size(node, size)
    try:
        with node.store.log_reader() as reader:
            return consistency_proof(old, size, reader)
    except LedgerError as exc:
        raise TaxiiNotFound(str(exc)) from exc


def tile(node: Node, level: int | None, n: int, width: int) -> bytes:
    """A tlog-tiles hash tile or entry bundle, as of the latest checkpoint.

    Raises:
        TaxiiNotFound: the tile does not exist at that width in the checkpointed tree.
    """
    latest = node.store.latest_checkpoint()
    size = latest.size if latest else 0
    have = tile_width(level, n, size)
    full = tile_width(level, n, node.store.log_size())
    # A full tile is served once it is full; a partial one only as wide as a checkpoint made it.
    if width > have and not (width == full == 256):
        raise TaxiiNotFound(f"no such tile in the tree of size {size}")
    if width == 0:
        raise TaxiiNotFound("no such tile")
    if level is None:
        start = n * 256
        entries = node.store.log_entries(start, start + width)
        return bundle([e.entry for e in entries])
    return b"".join(node.store.read_log_hashes(tile_hash_indexes(level, n, width)))


# -- auditors ---------------------------------------------------------------------------


def _auditor_key(member: str) -> str:
    return f"auditor:{member}"


def is_auditor(node: Node, member: Member | None) -> bool:
    """Whether the node's owner made this member an auditor (it may read the openings)."""
    return member is not None and node.store.get_meta(_auditor_key(member.name)) == "yes"


def set_auditor(node: Node, member_name: str, on: bool) -> None:
    """Make a member an auditor, or no longer one (logged, like every member change).

    Raises:
        UnknownMember: no such member.
    """
    node.store.member(member_name)
    node.store.set_meta(_auditor_key(member_name), "yes" if on else "no")
    append(node, [Entry("auditor", 1, {"time": _now(), "on": on})])


def shared_since(node: Node, since_us: int) -> dict[str, int]:
    """Objects shared with each recipient since a time (µs), from the log's openings."""
    totals: dict[str, int] = {}
    for row, opening in node.store.log_openings(since=since_us):
        if row.type == SHARE:
            sent = int(orjson.loads(row.entry)["count"])
            totals[opening.recipient] = totals.get(opening.recipient, 0) + sent
    return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


def spooled_share(
    node: Node,
    *,
    channel: str,
    collection: Collection | str,
    member: Member | str | None,
    agreement: Agreement | None,
    chunks: Iterable[bytes],
    added: list[int],
) -> tuple[IO[bytes], dict[str, str]]:
    """Write an answer made of chunks to a spool, log it, and hand the spool back rewound.

    For answers too large to hold (sensor exports of millions of indicators): the
    spool keeps 64 MiB in memory, then goes to a temporary file, so memory stays
    bounded, and the entry is committed before a byte leaves. ``added`` is filled
    while ``chunks`` is consumed (the versions that went into the answer).

    Returns:
        The spool at its start (the caller closes it) and the receipt headers.
    """
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)  # noqa: SIM115
    sha = hashlib.sha256()
    try:
        for chunk in chunks:
            sha.update(chunk)
            spool.write(chunk)
        receipt = share(
            node,
            channel=channel,
            collection=collection,
            member=member,
            agreement=agreement,
            added=added,
            digest=sha.hexdigest(),
        )
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, receipt


def read_spool(spool: IO[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    """A spool's bytes in chunks, closing it at the end (a streamed answer's body)."""
    try:
        while chunk := spool.read(size):
            yield chunk
    finally:
        spool.close()
