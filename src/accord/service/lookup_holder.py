"""Private lookup as the holder sees it: every epoch kept, each member's offer, the
batches answered (for the console's lookup page; `accord.service.lookup` makes them)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from accord.service.node import Node


@dataclass(frozen=True, slots=True)
class OfferRow:
    """One member's offer in one epoch, as the holder sees it."""

    member: str
    values: int
    size_class: int
    fpr: float
    filter_digest: str
    context: bool
    log_index: int | None
    batches: int  # answered evaluation requests
    used: int  # evaluations answered, of the quota


@dataclass(frozen=True, slots=True)
class EpochRow:
    """One collection's key for one epoch, and the offers made under it."""

    collection: str  # the collection's title
    collection_id: str
    epoch: int
    not_before: int
    not_after: int
    ended: bool  # the key and filters are deleted
    public_key: str  # hex
    offers: list[OfferRow]
    batches: int
    used: int


def holder_view(node: Node, now: float | None = None) -> list[EpochRow]:
    """Every epoch this node keeps, newest first, with each member's offer (while the key
    lives) and the batches answered under it."""
    now = time.time() if now is None else now
    store = node.store
    by_pk = {c.pk: c for c in store.collections()}
    members = store.members()
    batches: dict[tuple[int, int], int] = {}
    for b in store.lookup_batches():
        batches[(b.epoch_pk, b.member_pk)] = batches.get((b.epoch_pk, b.member_pk), 0) + 1
    offers: dict[int, list[OfferRow]] = {}
    for m in members:
        for ep, o in store.lookup_offers(m.pk):
            offers.setdefault(ep.pk, []).append(
                OfferRow(
                    m.name,
                    o.values,
                    o.size_class,
                    o.fpr,
                    o.filter_digest,
                    o.context_digest is not None,
                    o.log_index,
                    batches.get((ep.pk, m.pk), 0),
                    o.used,
                )
            )
    out = []
    for ep in store.lookup_epochs():
        c = by_pk.get(ep.collection_pk)
        rows = sorted(offers.get(ep.pk, []), key=lambda r: r.member)
        out.append(
            EpochRow(
                c.title if c else "?",
                c.id if c else "?",
                ep.epoch,
                ep.not_before,
                ep.not_after,
                ep.seed_sealed is None or ep.not_after <= now,
                ep.public_key.hex(),
                rows,
                sum(n for (e, _), n in batches.items() if e == ep.pk),
                sum(r.used for r in rows),
            )
        )
    return out
