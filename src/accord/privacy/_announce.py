"""The check a querier makes of a holder's transparency log before it trusts an offer.

The holder serves, for one collection and epoch, every ``lookup-epoch`` entry
of its log with an RFC 9162 inclusion proof to one of its signed checkpoints
(`announcements` document). The querier requires:

- every proof to lead from its entry to the checkpoint's root;
- every entry to be canonical (RFC 8785) and of that collection and epoch;
- exactly one public key among them, and it is the offer's: a holder that
  gave one member a key of its own would have to log it beside the others;
- its own entry (at the offer's index, with the commitment to its name under
  the salt the offer gave it alone) to name the offer's filter and context digests.
"""

from __future__ import annotations

import base64
from typing import Any

from accord.exceptions import AccordError, KeyNotAnnounced
from accord.ledger import commitment, leaf_hash, parse_checkpoint, parse_entry, verify_inclusion
from accord.privacy._messages import ANNOUNCEMENT, Offer

__all__ = ["check_announcements"]


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise KeyNotAnnounced(f"the log document's {what} is not base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise KeyNotAnnounced(f"the log document's {what} is not base64") from None


def check_announcements(offer: Offer, doc: Any, witnessed: tuple[int, bytes] | None = None) -> int:
    """Check an offer against the holder's log document; the tree size checked against.

    Args:
        offer: the offer.
        doc: the ``log`` document.
        witnessed: ``(size, root)`` of the holder's checkpoint as this node
            witnessed it (signature and consistency checked); the proofs must
            lead to that root. None: to the document's own checkpoint.

    Raises:
        KeyNotAnnounced: the key or digests are not (alone) in the log, or the
            document does not prove what it claims.
    """
    if offer.log_index is None or offer.salt is None or offer.member is None:
        raise KeyNotAnnounced(f"epoch {offer.epoch}: the offer names no log entry")
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise KeyNotAnnounced("the log document has no list of entries")
    if witnessed is not None:
        size, root = witnessed
        if doc.get("size") != size:
            raise KeyNotAnnounced(f"the log document is not of the witnessed size {size}")
        if offer.log_index >= size:
            raise KeyNotAnnounced(
                f"the offer's entry {offer.log_index} is not in the witnessed checkpoint"
                f" of size {size} yet: try again when the holder has signed a newer one"
            )
    else:
        note = doc.get("checkpoint")
        if not isinstance(note, str) or "\n\n" not in note:
            raise KeyNotAnnounced("the log document has no signed checkpoint")
        try:
            cp = parse_checkpoint(note.split("\n\n", 1)[0] + "\n")
        except AccordError as exc:
            raise KeyNotAnnounced(f"the log's checkpoint is not valid: {exc}") from None
        size, root = cp.size, cp.root
    keys: set[str] = set()
    mine = None
    for i, item in enumerate(doc["entries"]):
        if not isinstance(item, dict) or type(item.get("index")) is not int:
            raise KeyNotAnnounced(f"log entry {i} of the document has no index")
        data = _b64(item.get("entry"), f"entry {i}")
        proof = item.get("proof")
        if not isinstance(proof, list):
            raise KeyNotAnnounced(f"log entry {item['index']} has no inclusion proof")
        try:
            verify_inclusion(
                item["index"], size, leaf_hash(data), [_b64(h, "proof") for h in proof], root
            )
            entry = parse_entry(data)
        except AccordError as exc:
            raise KeyNotAnnounced(f"log entry {item['index']}: {exc}") from None
        body = entry.body
        if entry.type != ANNOUNCEMENT or body.get("collection") != offer.collection:
            raise KeyNotAnnounced(f"log entry {item['index']} is not of this collection")
        if body.get("epoch") != offer.epoch:
            raise KeyNotAnnounced(f"log entry {item['index']} is not of epoch {offer.epoch}")
        keys.add(str(body.get("public_key")))
        if item["index"] == offer.log_index:
            mine = body
    if mine is None:
        raise KeyNotAnnounced(
            f"the log holds no entry {offer.log_index} for epoch {offer.epoch} of this collection"
        )
    if len(keys) > 1:
        raise KeyNotAnnounced(
            f"the log holds {len(keys)} keys for epoch {offer.epoch} of this collection:"
            " a key was switched for some member"
        )
    if keys != {offer.public_key.hex()}:
        raise KeyNotAnnounced(
            f"the offer's key for epoch {offer.epoch} is not the one the log announced"
        )
    if mine.get("recipient") != commitment(offer.salt, offer.member):
        raise KeyNotAnnounced(f"log entry {offer.log_index} is not the one made for this member")
    if (
        mine.get("filter_digest") != offer.filter_digest
        or mine.get("context_digest") != offer.context_digest
    ):
        raise KeyNotAnnounced(
            f"log entry {offer.log_index} announces another filter than the one offered"
        )
    return size
