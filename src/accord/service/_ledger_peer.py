"""A peer's transparency log as this node sees it: witnessing, receipts, a full check.

After each pull from a peer (``accord sync``, ``accord serve``), this node:

1. fetches the peer's signed checkpoint and checks it against the key pinned
   for the peer's log (first contact pins ``/log/vkey``);
2. witnesses it: checks consistency with the last checkpoint it cosigned,
   cosigns and hands the cosignature back (`accord.service._ledger_witness`);
3. checks every pending receipt (the entry the peer logged for a page it sent
   us) against that checkpoint with an inclusion proof: verified, or failed
   with the reason; entries the checkpoint does not cover yet stay pending.

A peer without a transparency log (another TAXII server) answers 404: its
receipts stay absent and nothing is witnessed; that is reported, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from accord.exceptions import LedgerError, NoteInvalid, PeerError, WitnessRefused
from accord.ledger import (
    Appender,
    Checkpoint,
    leaf_hash,
    open_note,
    parse_checkpoint,
    parse_entry,
    parse_vkey,
    read_bundle,
    tile_path,
    tile_width,
    verify_consistency,
    verify_inclusion,
)
from accord.service import ledger
from accord.service._ledger_witness import add_checkpoint, pin, submission
from accord.service._sync_wire import Connect
from accord.service.node import Node
from accord.store import Peer

_PROOF_BATCH = 100


@runtime_checkable
class LogClient(Protocol):
    """The calls on a peer's transparency log (``accord.taxii.client.TaxiiClient`` has them)."""

    def log_vkey(self) -> str: ...

    def log_checkpoint(self) -> str: ...

    def log_consistency(self, old: int, size: int) -> list[bytes]: ...

    def log_inclusion(self, size: int, indexes: list[int]) -> dict[int, list[bytes]]: ...

    def log_tile(self, path: str) -> bytes: ...

    def log_cosign(self, body: bytes, vkey: str) -> None: ...


@dataclass(slots=True)
class LogReport:
    """What one look at a peer's log found."""

    size: int | None = None
    cosigned: bool = False
    forked: bool = False
    verified: int = 0
    failed: int = 0
    pending: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.size is None:
            return "log: " + ("; ".join(self.problems) or "not read")
        parts = [f"log: size {self.size:,}"]
        parts.append("cosigned" if self.cosigned else "not cosigned")
        if self.forked:
            parts.append("FORKED (evidence kept: `accord log status`)")
        parts.append(
            f"receipts {self.verified} verified, {self.failed} failed, {self.pending} pending"
        )
        return ", ".join(parts)


def peer_log_state(node: Node, peer: str) -> str:
    """A short word on a peer's log as this node witnesses it (for `accord peer list`)."""
    origin = node.store.get_meta(_meta_key(peer))
    if origin is None:
        return "-"
    held = node.store.witnessed(origin)
    if not held:
        return "-"
    if held[0].forked:
        return f"FORKED at {held[0].size}"
    failed = len(node.store.receipts(peer, "failed"))
    state = f"witnessed {held[0].size}"
    return state + (f", {failed} receipt(s) FAILED" if failed else "")


def _meta_key(peer: str) -> str:
    return f"peer-log:{peer}"


def _pinned(node: Node, peer: Peer, client: LogClient) -> tuple[str, str]:
    """(origin, vkey) of the peer's log, pinning it on first contact."""
    origin = node.store.get_meta(_meta_key(peer.name))
    if origin is not None:
        return origin, node.store.witnessed(origin)[0].vkey
    vkey = client.log_vkey().strip()
    origin = parse_vkey(vkey).name
    pin(node, origin, vkey, peer.name)
    node.store.set_meta(_meta_key(peer.name), origin)
    return origin, vkey


def signed_checkpoint(node: Node, peer: Peer, client: LogClient) -> tuple[Checkpoint, str]:
    """The peer's checkpoint, its signature checked against the pinned key.

    Raises:
        NoteInvalid: not signed by the pinned key, or not a checkpoint of its origin.
    """
    origin, vkey = _pinned(node, peer, client)
    text = client.log_checkpoint()
    note, _ = open_note(text, [parse_vkey(vkey)])
    return parse_checkpoint(note.text, origin), text


def _witness(
    node: Node, peer: Peer, client: LogClient, cp: Checkpoint, text: str, report: LogReport
) -> None:
    held = node.store.witnessed(cp.origin)[0]
    if held.forked:
        report.forked = True
        report.problems.append(f"log {cp.origin} forked before: not cosigned")
        return
    if cp.size < held.size:
        # An older checkpoint (a cache): it must still be a prefix of what we cosigned.
        try:
            proof = client.log_consistency(cp.size, held.size) if cp.size else []
            if cp.size:
                verify_consistency(cp.size, held.size, cp.root, held.root, proof)
        except LedgerError as exc:
            node.store.record_fork(cp.origin, held.note, text, str(exc))
            report.forked = True
            report.problems.append(f"checkpoint {cp.size} is not a prefix of {held.size}: {exc}")
        return
    if cp.size == held.size and held.size > 0:
        if cp.root != held.root:
            node.store.record_fork(cp.origin, held.note, text, f"two roots for size {cp.size}")
            report.forked = True
            report.problems.append(f"two different roots for size {cp.size}")
        return
    proof = client.log_consistency(held.size, cp.size) if held.size else []
    try:
        line = add_checkpoint(node, submission(held.size, proof, text))
    except WitnessRefused as exc:
        report.forked = report.forked or exc.status == 422
        report.problems.append(str(exc))
        return
    client.log_cosign((cp.text() + "\n" + line).encode(), ledger.cosigner_verifier(node).vkey)
    report.cosigned = True


def _check_receipts(
    node: Node, peer: Peer, client: LogClient, cp: Checkpoint, report: LogReport
) -> None:
    pending = node.store.receipts(peer.name, "pending")
    due = [r for r in pending if r.idx < cp.size]
    report.pending = len(pending) - len(due)
    results: list[tuple[int, str, str]] = []
    for start in range(0, len(due), _PROOF_BATCH):
        batch = due[start : start + _PROOF_BATCH]
        proofs = client.log_inclusion(cp.size, [r.idx for r in batch])
        for r in batch:
            proof = proofs.get(r.idx)
            try:
                if proof is None:
                    raise LedgerError(f"the peer gave no proof of entry {r.idx}")
                verify_inclusion(r.idx, cp.size, leaf_hash(r.entry), proof, cp.root)
            except LedgerError as exc:
                results.append((r.pk, "failed", str(exc)))
                report.failed += 1
            else:
                results.append((r.pk, "verified", f"in checkpoint {cp.size}"))
                report.verified += 1
    node.store.set_receipts(results)


def look_at_peer(node: Node, peer: Peer, client: object) -> LogReport:
    """Witness a peer's log and check our receipts of it (after a sync)."""
    report = LogReport()
    if not isinstance(client, LogClient):
        report.problems.append("this client cannot read transparency logs")
        return report
    try:
        cp, text = signed_checkpoint(node, peer, client)
        report.size = cp.size
        _witness(node, peer, client, cp, text, report)
        if not report.forked:
            _check_receipts(node, peer, client, cp, report)
    except PeerError as exc:
        if exc.status == 404:
            report.problems.append("the peer serves no transparency log")
        else:
            report.problems.append(f"reading the peer's log failed: {exc}")
    except LedgerError as exc:
        report.problems.append(f"the peer's log is not valid: {exc}")
    return report


def verify_peer_log(node: Node, peer: Peer, client: LogClient) -> tuple[Checkpoint, int]:
    """Rebuild a peer's whole tree from its entry bundles and check its signed root.

    Returns:
        The checkpoint and the number of entries checked.

    Raises:
        LogTampered, NoteInvalid, LedgerError: the bundles do not give the signed
            root, an entry is not canonical, or the checkpoint is not consistent
            with the one this node cosigned.
    """
    cp, _ = signed_checkpoint(node, peer, client)
    appender = Appender(0, {})
    n = 0
    while appender.size < cp.size:
        width = tile_width(None, n, cp.size)
        entries = read_bundle(client.log_tile(tile_path(None, n, width)))
        if len(entries) != width:
            raise LedgerError(f"entry bundle {n} holds {len(entries)} entries, not {width}")
        for data in entries:
            parse_entry(data)
            appender.append(leaf_hash(data))
        n += 1
    if appender.root() != cp.root:
        raise NoteInvalid(f"the peer's entries do not give the root of its checkpoint {cp.size}")
    held = node.store.witnessed(cp.origin)[0]
    if 0 < held.size <= cp.size:
        proof = client.log_consistency(held.size, cp.size)
        verify_consistency(held.size, cp.size, held.root, cp.root, proof)
    return cp, cp.size


def verify_peer(node: Node, name: str, connect: Connect) -> tuple[Checkpoint, int]:
    """`verify_peer_log` of the peer named ``name``, through a client ``connect`` makes.

    Raises:
        UnknownPeer: no such peer; LedgerError: its log does not verify.
    """
    from accord.service.sync import endpoint

    peer = node.store.peer(name)
    client = connect(endpoint(node, peer))
    try:
        if not isinstance(client, LogClient):
            raise LedgerError("this client cannot read transparency logs")
        return verify_peer_log(node, peer, client)
    finally:
        client.close()
