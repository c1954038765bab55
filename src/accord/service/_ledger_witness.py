"""Witnessing: the checks of c2sp.org/tlog-witness, on the logs of the peers we pull.

A node witnesses the log of every peer it pulls from. Each sync fetches the
peer's signed checkpoint, checks it is consistent with the last one this node
cosigned for that log (the proof comes from the peer; the roots from the two
signed checkpoints), cosigns it (cosignature/v1, the node's Ed25519 key with
type 0x04) and hands the cosignature back. The same checks answer the
standard ``POST /witness/add-checkpoint`` of a log that submits to us.

The log's key is pinned on first contact (the peer's ``/log/vkey``), as SSH
pins a host key; ``accord log status`` shows it. Two signed checkpoints of one
log that are not consistent (a fork, a rewrite, a split view) are kept as
evidence, and the log is not cosigned again until its owner looks into it.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass

from accord.exceptions import NoteInvalid, ProofInvalid, WitnessRefused
from accord.ledger import (
    EMPTY_ROOT,
    HASH_SIZE,
    Checkpoint,
    cosign,
    cosignatures,
    open_note,
    parse_checkpoint,
    parse_note,
    parse_vkey,
    verify_consistency,
)
from accord.service import ledger
from accord.service.node import Node
from accord.store._ledger import Witnessed

MAX_PROOF_LINES = 63  # tlog-witness: a client MUST NOT send more
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Submission:
    """A parsed add-checkpoint request."""

    old: int
    proof: list[bytes]
    note: str


def parse_submission(body: bytes) -> Submission:
    """Read an add-checkpoint body: ``old N``, proof lines, a blank line, the checkpoint.

    Raises:
        WitnessRefused: 400, with what is malformed.
    """
    if len(body) > MAX_BODY_BYTES:
        raise WitnessRefused(400, f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessRefused(400, "the body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessRefused(400, "no blank line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    size = first.removeprefix("old ")
    if first == size or not size.isdigit() or (size != "0" and size.startswith("0")):
        raise WitnessRefused(400, f"the first line {first[:40]!r} is not 'old SIZE'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRefused(400, f"over {MAX_PROOF_LINES} consistency proof lines")
    proof: list[bytes] = []
    for line in lines[1:]:
        try:
            h = base64.b64decode(line, validate=True)
        except binascii.Error:
            raise WitnessRefused(400, f"proof line {line[:50]!r} is not base64") from None
        if len(h) != HASH_SIZE:
            raise WitnessRefused(400, f"a proof hash is {len(h)} bytes, not {HASH_SIZE}")
        proof.append(h)
    return Submission(int(size), proof, note)


def submission(old: int, proof: list[bytes], note: str) -> bytes:
    """An add-checkpoint body."""
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def _origin_of(note: str) -> str:
    return note.split("\n", 1)[0]


def pin(node: Node, origin: str, vkey: str, peer: str | None) -> Witnessed:
    """Start witnessing a log (idempotent: an origin pinned to another key is refused).

    Raises:
        NoteInvalid: the key is malformed, or the origin is pinned to another key.
    """
    verifier = parse_vkey(vkey)
    if verifier.name != origin:
        raise NoteInvalid(f"the log key is named {verifier.name!r}, its origin is {origin!r}")
    held = node.store.witnessed(origin)
    if held:
        if held[0].vkey != vkey:
            raise NoteInvalid(f"log {origin!r} is pinned to another key ({held[0].vkey})")
        return held[0]
    node.store.advance_witnessed(origin, vkey, peer, 0, 0, EMPTY_ROOT, "")
    return node.store.witnessed(origin)[0]


def add_checkpoint(node: Node, body: bytes, *, now: int | None = None) -> str:
    """Check a submitted checkpoint and cosign it (c2sp.org/tlog-witness add-checkpoint).

    Returns:
        The cosignature line(s) to answer with.

    Raises:
        WitnessRefused: with the status the specification gives for each case.
    """
    sub = parse_submission(body)
    origin = _origin_of(sub.note)
    held_rows = node.store.witnessed(origin)
    if not held_rows:
        raise WitnessRefused(404, f"this witness does not know the log {origin!r}")
    held = held_rows[0]
    try:
        note, _ = open_note(sub.note, [parse_vkey(held.vkey)])
    except NoteInvalid as exc:
        raise WitnessRefused(403, f"the checkpoint is not signed by the log's key: {exc}") from exc
    try:
        cp = parse_checkpoint(note.text, origin)
    except NoteInvalid as exc:
        raise WitnessRefused(400, str(exc)) from exc
    if sub.old > cp.size:
        raise WitnessRefused(400, f"old size {sub.old} is larger than the checkpoint's {cp.size}")
    if held.forked:
        raise WitnessRefused(422, f"log {origin!r} forked before: this witness cosigns it no more")
    if sub.old != held.size:
        raise WitnessRefused(409, f"the size on record is {held.size}", held.size)
    if cp.size == 0 and cp.root != EMPTY_ROOT:
        raise WitnessRefused(422, "a checkpoint of size 0 must have the empty tree's root")
    if sub.old == 0 and sub.proof:
        raise WitnessRefused(422, "from size 0 the consistency proof must be empty")
    if sub.old > 0:
        try:
            verify_consistency(sub.old, cp.size, held.root, cp.root, sub.proof)
        except ProofInvalid as exc:
            # The log signed a checkpoint that does not extend the one we cosigned.
            node.store.record_fork(origin, held.note, sub.note, str(exc))
            raise WitnessRefused(422, f"not consistent with size {held.size}: {exc}") from exc
    stale = node.store.advance_witnessed(
        origin, held.vkey, held.peer, sub.old, cp.size, cp.root, sub.note
    )
    if stale is not None:
        raise WitnessRefused(409, f"the size on record is {stale}", stale)
    line = cosign(note.text, ledger.signer(node), now or int(time.time())).line()
    return line


# -- receiving cosignatures of our own checkpoints -----------------------------------------


def witness_key(node: Node, member: str, vkey: str | None) -> str:
    """The cosigner key of a member (pinned the first time it sends one).

    Raises:
        NoteInvalid: none known and none given, or another one than pinned.
    """
    meta = f"witness-key:{member}"
    pinned = node.store.get_meta(meta)
    if pinned is None:
        if vkey is None:
            raise NoteInvalid(f"no cosigner key is known for member {member!r}")
        parse_vkey(vkey)
        node.store.set_meta(meta, vkey)
        return vkey
    if vkey is not None and vkey != pinned:
        raise NoteInvalid(f"member {member!r} is pinned to another cosigner key")
    return pinned


def accept_cosignature(node: Node, member: str, body: bytes, vkey: str | None) -> Checkpoint:
    """Keep a member's cosignature of one of our checkpoints.

    ``body`` is the checkpoint text, a blank line and the cosignature line(s).

    Raises:
        NoteInvalid: not a cosignature by the member's key of a checkpoint we signed.
    """
    note = parse_note(body)
    cp = parse_checkpoint(note.text, ledger.origin(node))
    signed = node.store.checkpoint_note(cp.size)
    if signed is None or parse_note(signed).text != note.text:
        raise NoteInvalid(f"this node signed no checkpoint {cp.size} with that root")
    witness = parse_vkey(witness_key(node, member, vkey))
    found = cosignatures(note, [witness])
    if witness.name not in found:
        raise NoteInvalid(f"no valid cosignature by {witness.name} on checkpoint {cp.size}")
    line = next(s for s in note.signatures if s.name == witness.name).line()
    node.store.add_cosignature(cp.size, witness.name, line, found[witness.name])
    return cp
