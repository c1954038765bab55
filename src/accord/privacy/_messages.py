"""The private lookup's JSON messages: an offer, and the log entry that announces it.

An **offer** is what ``GET {api_root}accord/lookup/{collection}/`` answers
to one member: the epoch, its public key, the digests of the filter (and
context table) made for that member, and the limits. An **announcement** is
the transparency log entry (type ``lookup-epoch``) the holder appends before
it answers any evaluation in that epoch. A querier takes the key and the
digests from the offer, and refuses them unless the holder's log holds the
same announcement (and no other key for the same collection and epoch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord.exceptions import PrivateLookupError

__all__ = ["ANNOUNCEMENT", "SUITE", "Offer", "announcement", "epoch_info"]

SUITE = "ristretto255-SHA512"
MODE = "VOPRF"
ANNOUNCEMENT = "lookup-epoch"  # the log entry type


def epoch_info(collection_id: str, epoch: int) -> bytes:
    """The public ``info`` of an epoch's DeriveKeyPair (RFC 9497 §3.2.1)."""
    return f"accord lookup {collection_id} epoch {epoch}".encode()


def _hex32(value: object, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise PrivateLookupError(f"{what}: expected 64 hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise PrivateLookupError(f"{what}: expected 64 hex digits") from None


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if type(value) is not int or value < 0:
        raise PrivateLookupError(f"offer.{key}: expected a non-negative integer")
    return value


def _digest(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.startswith("sha256:") or len(value) != 71:
        raise PrivateLookupError(f"{what}: expected sha256: and 64 hex digits")
    return value


@dataclass(frozen=True, slots=True)
class Offer:
    """One epoch of one collection's lookup, as offered to one member."""

    collection: str
    epoch: int
    not_before: int  # epoch seconds
    not_after: int
    public_key: bytes
    filter_digest: str
    size_class: int
    fpr: float
    context_digest: str | None
    batch_limit: int
    quota: int
    used: int
    member: str | None = None  # the requester's name at the holder
    log_index: int | None = None  # the announcement's index in the holder's log
    salt: bytes | None = None  # of the commitment to ``member`` in that entry

    def to_json(self) -> dict[str, Any]:
        """The offer as its JSON document."""
        return {
            "collection": self.collection,
            "suite": SUITE,
            "mode": MODE,
            "epoch": self.epoch,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "public_key": self.public_key.hex(),
            "filter": {
                "digest": self.filter_digest,
                "size_class": self.size_class,
                "fpr": self.fpr,
            },
            "context": None if self.context_digest is None else {"digest": self.context_digest},
            "batch_limit": self.batch_limit,
            "quota": self.quota,
            "used": self.used,
            "member": self.member,
            "announcement": None
            if self.log_index is None or self.salt is None
            else {"index": self.log_index, "salt": self.salt.hex()},
        }

    @classmethod
    def from_json(cls, body: object) -> Offer:
        """Read an offer document.

        Raises:
            PrivateLookupError: a field is missing or of the wrong shape.
        """
        if not isinstance(body, dict):
            raise PrivateLookupError("an offer is a JSON object")
        if body.get("suite") != SUITE or body.get("mode") != MODE:
            raise PrivateLookupError(f"offer: only {SUITE} {MODE} is spoken here")
        filt = body.get("filter")
        if not isinstance(filt, dict):
            raise PrivateLookupError("offer.filter: expected an object")
        ctx = body.get("context")
        if ctx is not None and not isinstance(ctx, dict):
            raise PrivateLookupError("offer.context: expected an object or null")
        fpr = filt.get("fpr")
        if not isinstance(fpr, float | int) or not 0 < fpr < 1:
            raise PrivateLookupError("offer.filter.fpr: expected a rate between 0 and 1")
        collection = body.get("collection")
        if not isinstance(collection, str):
            raise PrivateLookupError("offer.collection: expected a string")
        member = body.get("member")
        if member is not None and not isinstance(member, str):
            raise PrivateLookupError("offer.member: expected a string")
        ann = body.get("announcement")
        index, salt = None, None
        if ann is not None:
            if not isinstance(ann, dict):
                raise PrivateLookupError("offer.announcement: expected an object or null")
            index = _int(ann, "index")
            salt = _hex32(ann.get("salt"), "offer.announcement.salt")
        return cls(
            collection,
            _int(body, "epoch"),
            _int(body, "not_before"),
            _int(body, "not_after"),
            _hex32(body.get("public_key"), "offer.public_key"),
            _digest(filt.get("digest"), "offer.filter.digest"),
            _int(filt, "size_class"),
            float(fpr),
            None if ctx is None else _digest(ctx.get("digest"), "offer.context.digest"),
            _int(body, "batch_limit"),
            _int(body, "quota"),
            _int(body, "used"),
            member,
            index,
            salt,
        )


def announcement(
    collection: str,
    epoch: int,
    not_after: int,
    public_key: bytes,
    recipient: str,
    filter_digest: str,
    context_digest: str | None,
) -> dict[str, Any]:
    """The body of the ``lookup-epoch`` log entry for one member's filter.

    ``recipient`` is the salted commitment to the member's name
    (`accord.ledger.commitment`), as share entries name theirs: the log shows
    the key and the filter, not who was offered it.
    """
    return {
        "collection": collection,
        "epoch": epoch,
        "not_after": not_after,
        "suite": SUITE,
        "public_key": public_key.hex(),
        "recipient": recipient,
        "filter_digest": filter_digest,
        "context_digest": context_digest,
    }
