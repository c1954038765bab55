"""Private lookup, the holder's side: epoch keys, the filters offered, blind evaluation.

``accord lookup offer COLLECTION`` makes (or reuses) the collection's key for
the current epoch (``ACCORD_LOOKUP_EPOCH_SECONDS``, aligned on the Unix
epoch), and for each member with a lookup grant (or those named) evaluates
the OPRF on every value of every current indicator the collection's sharing
agreement would let that member receive (the egress `Gate`, as a TAXII read
would pass them), pads the set to its size class and keeps the filter. The
key and each filter's digest are announced in the transparency log before
any evaluation is answered in the epoch.

A member then downloads its filter and posts blinded values; `evaluate`
answers with the evaluated elements and one DLEQ proof, within
``ACCORD_LOOKUP_QUOTA`` per member per collection per epoch; every answered
batch is recorded with its count (never a value: there is none to see). When
an epoch ends its key and filters are deleted.

The wire format is in `accord.privacy` and docs/lookup.md.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import orjson

from accord.exceptions import (
    ConfigError,
    PrivateLookupError,
    TaxiiBadRequest,
    TaxiiForbidden,
    TaxiiGone,
    TaxiiNotFound,
    TaxiiTooLarge,
    TaxiiTooManyRequests,
    TaxiiUnauthorized,
)
from accord.ledger import Entry, commitment, parse_entry
from accord.patterns._values import parse_timestamp
from accord.privacy import (
    ANNOUNCEMENT,
    ELEMENT,
    EpochKey,
    Offer,
    announcement,
    build_filter,
    build_table,
    canonical_pair,
    digest,
    epoch_info,
    oprf_input,
    seal,
    size_class,
    tag,
)
from accord.service import _sync_secret, ledger
from accord.service.egress import open_gate
from accord.service.node import Node, load_private_key
from accord.stix import tlp_of_refs
from accord.stix._observables import observables
from accord.store import Collection, LookupEpoch, LookupOffer, Member, PageItem, PageQuery

__all__ = [
    "MemberOffer",
    "OfferReport",
    "announcements",
    "answer",
    "blob",
    "epoch_bounds",
    "evaluate_parallel",
    "member_values",
    "offer",
    "offers_for",
]

log = logging.getLogger("accord.lookup")
BATCH = "lookup-batch"  # the log entry of one answered batch
_PARALLEL_FROM = 20_000  # values from which preparation forks one worker per core


def epoch_bounds(now: float, seconds: int) -> tuple[int, int, int]:
    """``(epoch number, not_before, not_after)`` of the epoch holding ``now`` (seconds)."""
    epoch = int(now // seconds)
    return epoch, epoch * seconds, (epoch + 1) * seconds


def _seal_name(collection: Collection, epoch: int) -> str:
    return f"lookup {collection.id} {epoch}"


def _current_epoch(node: Node, collection: Collection, now: float) -> LookupEpoch:
    epoch, not_before, not_after = epoch_bounds(now, node.settings.lookup_epoch_seconds)
    found = node.store.lookup_epoch(collection.pk, epoch)
    if found is not None and found.seed_sealed is not None:
        return found
    seed = secrets.token_bytes(32)
    key = EpochKey(seed, epoch_info(collection.id, epoch))
    sealed = _sync_secret.seal(
        load_private_key(node.settings.home), seed.hex(), _seal_name(collection, epoch)
    )
    return node.store.create_lookup_epoch(
        collection.pk, epoch, not_before, not_after, sealed, key.public_key
    )


def _seed(node: Node, collection: Collection, ep: LookupEpoch) -> bytes:
    assert ep.seed_sealed is not None
    seed = _sync_secret.unseal(
        load_private_key(node.settings.home), ep.seed_sealed, _seal_name(collection, ep.epoch)
    )
    return bytes.fromhex(seed)


def _epoch_key(node: Node, collection: Collection, ep: LookupEpoch) -> EpochKey:
    return EpochKey(_seed(node, collection, ep), epoch_info(collection.id, ep.epoch))


# -- what a member may look up --------------------------------------------------------


def _tlp_name(obj: dict[str, Any]) -> str | None:
    refs = obj.get("object_marking_refs")
    level = tlp_of_refs(refs) if isinstance(refs, list) else None
    return None if level is None else level.name.lower().replace("_", "+")


def _current(obj: dict[str, Any], now: float) -> bool:
    if obj.get("revoked") is True:
        return False
    until = obj.get("valid_until")
    if isinstance(until, str):
        try:
            return parse_timestamp(until).timestamp() > now
        except ValueError:
            return True
    return True


def member_values(
    node: Node, member: Member, collection: Collection, now: float | None = None
) -> dict[tuple[str, str], list[dict[str, object]]]:
    """Every ``(kind, canonical value)`` the member could learn from the collection.

    The current, unrevoked indicators the agreement lets the member receive
    (redacted copies as they would be sent), with the context of each value:
    the indicators that hold it (id, name, TLP).
    """
    now = time.time() if now is None else now
    gate = open_gate(node, member, collection)
    out: dict[tuple[str, str], list[dict[str, object]]] = {}
    after: int | None = None
    while True:
        page = node.store.collection_page(
            PageQuery(collection.pk, after=after, types=("indicator",), limit=1000)
        )
        items: Sequence[PageItem] = page.items
        shared = gate.filter(items)
        for item in shared:
            obj = orjson.loads(item.obj.data)
            if not _current(obj, now):
                continue
            context = {"id": obj["id"], "name": obj.get("name"), "tlp": _tlp_name(obj)}
            for kind, value in observables(obj):
                pair = canonical_pair(kind, value)
                if pair is not None:
                    out.setdefault(pair, []).append(context)
        if not page.more or not page.items:
            break
        after = page.items[-1].date_added
    return out


# -- preparation ----------------------------------------------------------------------


def _evaluate_chunk(seed: bytes, info: bytes, inputs: list[bytes]) -> list[bytes]:
    return EpochKey(seed, info).evaluate(inputs)


def evaluate_parallel(
    seed: bytes, info: bytes, inputs: Sequence[bytes], workers: int
) -> list[bytes]:
    """RFC 9497 Evaluate on many inputs, in ``workers`` processes (the package holds the GIL)."""
    if workers <= 1 or len(inputs) < _PARALLEL_FROM:
        return EpochKey(seed, info).evaluate(inputs)
    size = -(-len(inputs) // workers)
    chunks = [list(inputs[i : i + size]) for i in range(0, len(inputs), size)]
    with ProcessPoolExecutor(len(chunks), mp_context=get_context("fork")) as pool:
        parts = pool.map(_evaluate_chunk, [seed] * len(chunks), [info] * len(chunks), chunks)
        return [o for part in parts for o in part]


@dataclass(frozen=True, slots=True)
class MemberOffer:
    """The filter made for one member."""

    member: str
    values: int
    size_class: int
    filter_bytes: int
    filter_digest: str
    context_digest: str | None
    log_index: int | None


@dataclass(slots=True)
class OfferReport:
    """What one `offer` did."""

    collection: Collection
    epoch: int
    not_after: int
    public_key: bytes
    members: list[MemberOffer] = field(default_factory=list)
    ended: int = 0  # epochs whose keys were deleted by this run
    seconds: float = 0.0


def _announce(node: Node, kind: str, body: dict[str, Any]) -> int:
    """Append a lookup entry to the node's transparency log, durably; its index."""
    (index,) = ledger.append(node, [Entry(kind, 1, body)])
    return index


def _lookup_members(node: Node, collection: Collection, names: Sequence[str]) -> list[Member]:
    grants = {
        g.member_pk
        for g in node.store.grants()
        if g.collection_pk == collection.pk and g.can_lookup
    }
    if not names:
        return [m for m in node.store.members() if m.pk in grants]
    chosen = [node.store.member(n) for n in names]
    for m in chosen:
        if m.pk not in grants:
            raise ConfigError(
                "--to",
                f"member {m.name!r} has no lookup grant on {collection.title!r}: "
                f"accord collection grant {collection.title!r} --member {m.name} --lookup",
            )
    return chosen


def offer(
    node: Node,
    collection_ref: str,
    members: Sequence[str] = (),
    *,
    context: bool = False,
    now: float | None = None,
) -> OfferReport:
    """Prepare this epoch's filter for each member (see the module docstring).

    Args:
        node: the open node.
        collection_ref: the collection, by id or title.
        members: member names (default: every member with a lookup grant on it).
        context: also seal each value's context (indicator id, name, TLP) for
            the members who hold the value.
        now: the time (tests); default the clock.

    Raises:
        UnknownCollection, UnknownMember: no such collection or member.
        ConfigError: a named member has no lookup grant on the collection.
    """
    started = time.perf_counter()
    now = time.time() if now is None else now
    store = node.store
    collection = store.collection(collection_ref)
    chosen = _lookup_members(node, collection, members)
    ended = store.end_lookup_epochs(int(now))
    ep = _current_epoch(node, collection, now)
    report = OfferReport(collection, ep.epoch, ep.not_after, ep.public_key, ended=len(ended))
    seed = _seed(node, collection, ep)
    per_member = {m.pk: member_values(node, m, collection, now) for m in chosen}
    distinct = sorted({pair for values in per_member.values() for pair in values})
    workers = node.settings.lookup_workers or os.cpu_count() or 1
    outputs = dict(
        zip(
            distinct,
            evaluate_parallel(
                seed,
                epoch_info(collection.id, ep.epoch),
                [oprf_input(k, v) for k, v in distinct],
                workers,
            ),
            strict=True,
        )
    )
    fpr = node.settings.lookup_fpr
    for m in chosen:
        values = per_member[m.pk]
        capacity = size_class(len(values))
        data = build_filter((tag(outputs[p]) for p in values), capacity, fpr)
        table = (
            build_table((seal(outputs[p], ctx) for p, ctx in values.items()), capacity)
            if context
            else None
        )
        f_digest, c_digest = digest(data), None if table is None else digest(table)
        store.save_lookup_offer(
            ep.pk,
            m.pk,
            filter_bytes=data,
            filter_digest=f_digest,
            context=table,
            context_digest=c_digest,
            size_class=capacity,
            fpr=fpr,
            values=len(values),
        )
        salt = secrets.token_bytes(32)
        body = announcement(
            collection.id,
            ep.epoch,
            ep.not_after,
            ep.public_key,
            commitment(salt, m.name),
            f_digest,
            c_digest,
        )
        # Logged before it is served: `_offer_of` serves no offer without its index.
        index = _announce(node, ANNOUNCEMENT, body)
        store.set_lookup_log_index(ep.pk, m.pk, index, salt)
        report.members.append(
            MemberOffer(m.name, len(values), capacity, len(data), f_digest, c_digest, index)
        )
    report.seconds = time.perf_counter() - started
    return report


# -- the member's requests -----------------------------------------------------------


def _grant(node: Node, member: Member | None, collection_id: str) -> Collection:
    if member is None:
        raise TaxiiUnauthorized("a private lookup needs a member's credentials")
    try:
        collection = node.store.collection(collection_id)
    except KeyError:
        raise TaxiiNotFound("no collection offers you a private lookup here") from None
    grant = next(
        (g for g in node.store.grants(member.pk) if g.collection_pk == collection.pk), None
    )
    if grant is None or not (grant.can_lookup or grant.can_read or grant.can_write):
        raise TaxiiNotFound("no collection offers you a private lookup here")
    if not grant.can_lookup:
        raise TaxiiForbidden(
            "you may use this collection over TAXII but have no lookup grant on it",
            details={"collection": collection.id},
        )
    return collection


def _offer_of(
    node: Node, member: Member, collection: Collection, epoch: int | None, now: float
) -> tuple[LookupEpoch, LookupOffer]:
    if epoch is None:
        current = epoch_bounds(now, node.settings.lookup_epoch_seconds)[0]
        ep = node.store.lookup_epoch(collection.pk, current)
    else:
        ep = node.store.lookup_epoch(collection.pk, epoch)
    if ep is None:
        if epoch is not None and epoch < epoch_bounds(now, node.settings.lookup_epoch_seconds)[0]:
            raise TaxiiGone(f"epoch {epoch} has ended", details={"epoch": epoch})
        raise TaxiiNotFound("no private lookup is offered to you in this epoch")
    if ep.seed_sealed is not None and ep.not_after <= now:
        # An ended epoch's key goes at the first request that meets it (and at
        # the next `offer`), whoever runs first.
        node.store.end_lookup_epochs(int(now))
    if ep.seed_sealed is None or ep.not_after <= now:
        raise TaxiiGone(
            f"epoch {ep.epoch} ended at {ep.not_after}: fetch the current offer",
            details={"epoch": ep.epoch},
        )
    found = node.store.lookup_offer(ep.pk, member.pk)
    if found is None or found.log_index is None:
        raise TaxiiNotFound("no private lookup is offered to you in this epoch")
    return ep, found


def _document(
    node: Node, member: Member, collection: Collection, ep: LookupEpoch, o: LookupOffer
) -> Offer:
    s = node.settings
    return Offer(
        collection.id,
        ep.epoch,
        ep.not_before,
        ep.not_after,
        ep.public_key,
        o.filter_digest,
        o.size_class,
        o.fpr,
        o.context_digest,
        s.lookup_batch_limit,
        s.lookup_quota,
        o.used,
        member.name,
        o.log_index,
        o.salt,
    )


def offers_for(
    node: Node,
    member: Member | None,
    collection_id: str | None = None,
    now: float | None = None,
) -> list[Offer]:
    """The offers a member has now: of one collection, or of every one."""
    now = time.time() if now is None else now
    if collection_id is not None:
        collection = _grant(node, member, collection_id)
        assert member is not None
        ep, o = _offer_of(node, member, collection, None, now)
        return [_document(node, member, collection, ep, o)]
    if member is None:
        raise TaxiiUnauthorized("a private lookup needs a member's credentials")
    by_pk = {c.pk: c for c in node.store.collections()}
    lookup = {g.collection_pk for g in node.store.grants(member.pk) if g.can_lookup}
    out = []
    for ep, o in node.store.lookup_offers(member.pk):
        live = ep.not_before <= now < ep.not_after and o.log_index is not None
        if ep.collection_pk in lookup and live:
            out.append(_document(node, member, by_pk[ep.collection_pk], ep, o))
    return out


def blob(
    node: Node,
    member: Member | None,
    collection_id: str,
    epoch: int,
    which: str,
    *,
    now: float | None = None,
) -> bytes:
    """The bytes of a member's ``filter`` or ``context`` table for an epoch (``now``: tests)."""
    collection = _grant(node, member, collection_id)
    assert member is not None
    ep, o = _offer_of(node, member, collection, epoch, time.time() if now is None else now)
    if which == "context" and o.context_digest is None:
        raise TaxiiNotFound("this offer has no hit context")
    data = node.store.lookup_blob(ep.pk, member.pk, which)
    if data is None:
        raise TaxiiNotFound(f"no {which} in this offer")
    return data


def answer(
    node: Node,
    member: Member | None,
    collection_id: str,
    epoch: int,
    body: bytes,
    now: float | None = None,
) -> tuple[bytes, int]:
    """Evaluate a batch of blinded elements: (the answer's bytes, quota left).

    Raises:
        TaxiiUnauthorized, TaxiiNotFound, TaxiiForbidden: who asks, and for what.
        TaxiiGone: the epoch has ended.
        TaxiiTooLarge: more elements than ``ACCORD_LOOKUP_BATCH_LIMIT``.
        TaxiiBadRequest: not whole 32-byte elements, or an element that is not
            a canonical ristretto255 element (its index is named).
        TaxiiTooManyRequests: over the member's quota for the epoch (Retry-After:
            the seconds until the next epoch).
    """
    now = time.time() if now is None else now
    collection = _grant(node, member, collection_id)
    assert member is not None
    ep, o = _offer_of(node, member, collection, epoch, now)
    s = node.settings
    if len(body) > s.lookup_batch_limit * ELEMENT:
        raise TaxiiTooLarge(
            f"at most {s.lookup_batch_limit} blinded elements a request",
            details={"batch_limit": s.lookup_batch_limit},
        )
    key = _epoch_key(node, collection, ep)
    try:
        parsed = key.parse(body, s.lookup_batch_limit)
    except PrivateLookupError as exc:
        raise TaxiiBadRequest(exc.reason) from None
    used = node.store.take_lookup_quota(ep.pk, member.pk, len(parsed), s.lookup_quota)
    if used is None:
        wait = max(1, int(ep.not_after - now))
        raise TaxiiTooManyRequests(
            f"over the quota of {s.lookup_quota} evaluations in epoch {ep.epoch}",
            details={"quota": s.lookup_quota, "epoch": ep.epoch},
            headers={"Retry-After": str(wait)},
        )
    result = key.answer(parsed)
    # Every answered batch in the log with its count (and the member's commitment).
    _announce(
        node,
        BATCH,
        {
            "collection": collection.id,
            "epoch": ep.epoch,
            "recipient": commitment(o.salt or bytes(32), member.name),
            "count": len(parsed),
        },
    )
    log.info(
        "lookup: answered %d blinded values for %s on %s, epoch %d",
        len(parsed),
        member.name,
        collection.id,
        ep.epoch,
    )
    return result, s.lookup_quota - used


def announcements(
    node: Node,
    member: Member | None,
    collection_id: str,
    epoch: int,
    size: int | None = None,
) -> dict[str, Any]:
    """The ``lookup-epoch`` entries of one collection's epoch, each with its inclusion proof.

    Args:
        size: the tree size to prove against: one of this node's checkpointed
            sizes (a querier gives the one it witnessed). Default: the latest
            checkpoint, signing a new one when it does not cover the entries yet.

    Raises:
        TaxiiNotFound: no checkpoint of that size.
    """
    collection = _grant(node, member, collection_id)
    assert member is not None
    _offer_of(node, member, collection, epoch, time.time())
    found = []
    for index, data in node.store.lookup_log_entries():
        body = parse_entry(data).body
        if body.get("collection") == collection.id and body.get("epoch") == epoch:
            found.append((index, data))
    note = None
    if size is None:
        cp = ledger.current(node)
        if found and cp.size <= found[-1][0]:
            cp = ledger.current(node, force=True)
        size, note = cp.size, cp.note
    entries = [
        {
            "index": index,
            "entry": base64.b64encode(data).decode(),
            "proof": [
                base64.b64encode(h).decode() for h in ledger.prove_inclusion(node, index, size)
            ],
        }
        for index, data in found
        if index < size
    ]
    return {"checkpoint": note, "size": size, "entries": entries}


def ended_epochs(node: Node, now: float | None = None) -> Iterable[LookupEpoch]:
    """Delete the keys and filters of ended epochs; the epochs ended."""
    return node.store.end_lookup_epochs(int(time.time() if now is None else now))
