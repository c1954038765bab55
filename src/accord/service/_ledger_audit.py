"""Checking our own log, and the auditor's view of what was shared with whom.

`verify_own` rebuilds the tree from the stored entries alone, in one pass and
constant memory: each entry's leaf and the hashes it completes must equal the
stored hashes, in order, with no gap; each signed checkpoint's root must equal
the rebuilt root at its size, and its signature must verify. The first
disagreement is reported by entry index (a hand-edited or deleted row).

`audit` lists the shares to a member with their openings, each entry checked
against the stored tree (its leaf included in the latest signed checkpoint).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from accord.exceptions import LedgerError, LogTampered, NoteInvalid
from accord.ledger import (
    Appender,
    HashReader,
    Verifier,
    commitment,
    hashes_to_store,
    inclusion_proof,
    leaf_hash,
    open_note,
    parse_checkpoint,
    parse_entry,
    split_stored_index,
    stored_index,
    verify_inclusion,
)
from accord.service import ledger
from accord.service.node import Node
from accord.store._ledger import Evidence, LoggedEntry, Opening, Receipt, Witnessed


@dataclass(frozen=True, slots=True)
class Verified:
    """What `verify_own` checked."""

    entries: int
    checkpoints: int
    root: bytes


def _leaf_index(stored: int) -> int:
    """The entry whose append wrote stored hash ``stored``."""
    level, n = split_stored_index(stored)
    return ((n + 1) << level) - 1


def verify_own(node: Node) -> Verified:
    """Rebuild the log from its entries and check every stored hash and checkpoint.

    Raises:
        LogTampered: the first entry (index) at which the stored log disagrees.
    """
    checkpoints = {c.size: c for c in node.store.checkpoints()}
    verifier = ledger.log_verifier(node)
    appender = Appender(0, {})
    hashes: Iterator[tuple[int, bytes]] = node.store.iter_log_hashes()
    expected_idx = 0
    for row in node.store.iter_log():
        if row.idx != expected_idx:
            raise LogTampered(expected_idx, "the entry is missing")
        try:
            parse_entry(row.entry)
        except LedgerError as exc:
            raise LogTampered(row.idx, f"the entry is not canonical: {exc}") from exc
        written = hashes_to_store(row.idx, leaf_hash(row.entry), appender)
        for offset, want in enumerate(written):
            where = stored_index(0, row.idx) + offset
            got = next(hashes, None)
            if got is None or got[0] != where:
                raise LogTampered(row.idx, f"stored hash {where} is missing")
            if got[1] != want:
                bad = _leaf_index(where) if offset else row.idx
                what = "leaf" if offset == 0 else "subtree"
                raise LogTampered(bad, f"the stored {what} hash {where} does not match the entry")
        appender.append(leaf_hash(row.entry))
        expected_idx += 1
        cp = checkpoints.get(expected_idx)
        if cp is not None:
            _check_checkpoint(cp.note, cp.root, appender.root(), expected_idx, verifier)
    if next(hashes, None) is not None:
        raise LogTampered(expected_idx, "stored hashes follow the last entry")
    for size in checkpoints:
        if size > expected_idx:
            raise LogTampered(expected_idx, f"a checkpoint of size {size} covers missing entries")
    if 0 in checkpoints:
        _check_checkpoint(checkpoints[0].note, checkpoints[0].root, appender.root(), 0, verifier)
    return Verified(expected_idx, len(checkpoints), appender.root())


def _check_checkpoint(
    note: str, stored_root: bytes, root: bytes, size: int, verifier: Verifier
) -> None:
    try:
        opened, _ = open_note(note, [verifier])
        cp = parse_checkpoint(opened.text)
    except NoteInvalid as exc:
        reason = f"the checkpoint of size {size} is not validly signed: {exc}"
        raise LogTampered(None, reason) from exc
    if cp.size != size or cp.root != root or stored_root != root:
        raise LogTampered(
            max(size - 1, 0), f"the signed checkpoint of size {size} does not match the entries"
        )


# -- the auditor's view ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditedShare:
    """One share to a member, opened and checked."""

    index: int
    recorded: int
    entry: dict[str, object]
    recipient: str
    agreement: str | None
    versions: tuple[int, ...]
    included: bool  # its leaf is in the latest signed checkpoint (proof checked)
    problem: str


def audit(node: Node, member: str | None = None, since: int | None = None) -> list[AuditedShare]:
    """Every share (to ``member``; recorded at or after ``since``, µs), each verified.

    An entry whose commitment does not open to its recipient, or whose leaf is
    not in the latest checkpoint's tree, is listed with the problem.
    """
    latest = ledger.current(node)
    out: list[AuditedShare] = []
    rows = node.store.log_openings(member, since)
    with node.store.log_reader() as reader:
        for row, opening in rows:
            if row.type != "share":
                continue
            out.append(_audited(row, opening, latest.size, latest.root, reader))
    return out


def _audited(
    row: LoggedEntry, opening: Opening, size: int, root: bytes, reader: HashReader
) -> AuditedShare:
    body = orjson.loads(row.entry)
    problem = ""
    if commitment(opening.salt, opening.recipient) != body.get("recipient"):
        problem = "the commitment does not open to this recipient"
    included = False
    if row.idx < size:
        try:
            proof = inclusion_proof(size, row.idx, reader)
            verify_inclusion(row.idx, size, leaf_hash(row.entry), proof, root)
            included = True
        except LedgerError as exc:
            problem = problem or f"not in the signed tree: {exc}"
    versions = opening.added
    return AuditedShare(
        row.idx,
        row.recorded,
        body,
        opening.recipient,
        opening.agreement,
        tuple(versions),
        included,
        problem,
    )


# -- what the `accord log` commands show ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogStatus:
    """The log as ``accord log status`` shows it."""

    origin: str
    vkey: str
    size: int
    published: ledger.Published
    witnessed: list[Witnessed]
    evidence: list[Evidence]


def status(node: Node) -> LogStatus:
    """Our log's size, latest checkpoint and cosigners; the logs we witness and forks seen."""
    return LogStatus(
        ledger.origin(node),
        ledger.log_verifier(node).vkey,
        node.store.log_size(),
        ledger.publish(node),
        node.store.witnessed(),
        node.store.evidence(),
    )


def evidence(node: Node) -> list[Evidence]:
    """The forks this node saw as a witness."""
    return node.store.evidence()


@dataclass(frozen=True, slots=True)
class ShownEntry:
    """One entry, its inclusion in the latest checkpoint (verified), and its opening."""

    row: LoggedEntry
    included_in: int | None
    opening: Opening | None


def entry(node: Node, index: int) -> ShownEntry:
    """Entry ``index`` of our log.

    Raises:
        LedgerError: the log has no such entry.
    """
    rows = node.store.log_entries(index, index + 1)
    if not rows:
        raise LedgerError(f"the log has no entry {index} (it holds {node.store.log_size():,})")
    row = rows[0]
    cp = ledger.current(node)
    included = None
    if row.idx < cp.size:
        with node.store.log_reader() as reader:
            proof = inclusion_proof(cp.size, row.idx, reader)
        verify_inclusion(row.idx, cp.size, leaf_hash(row.entry), proof, cp.root)
        included = cp.size
    opening = next((o for e, o in node.store.log_openings() if e.idx == index), None)
    return ShownEntry(row, included, opening)


def receipts(node: Node, peer: str | None = None, state: str | None = None) -> list[Receipt]:
    """Receipts of what peers sent us."""
    return node.store.receipts(peer, state)
