"""The holder's service on SQLite and PostgreSQL: agreements, grants, epochs, quotas."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from accord.exceptions import (
    ConfigError,
    TaxiiBadRequest,
    TaxiiForbidden,
    TaxiiGone,
    TaxiiNotFound,
    TaxiiTooManyRequests,
)
from accord.policy import Tlp
from accord.privacy import Filter, blind, finalize, oprf_input
from accord.service import egress, lookup
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from accord.service.sharing import grant
from accord.service.taxii import collections_for
from accord.store import Collection
from tests.policy.objects import indicator

DAY = 86_400
T0 = 1_796_515_200.0 + 3600  # one hour into an epoch


@pytest.fixture
def shared(node: Node) -> Collection:
    c = node.store.create_collection("shared")
    for name in ("cert-b", "cert-c", "reader"):
        node.store.create_member(name)
    objects: list[object] = [
        indicator(n, level) for n, level in ((1, Tlp.GREEN), (2, Tlp.RED), (3, None))
    ]
    objects.append(indicator(4, Tlp.GREEN, revoked=True))
    outcomes = ingest_objects(node, objects, source=("test", "fixture"), collection_pks=[c.pk])
    assert all(o.ok for o in outcomes)
    grant(node, "shared", "cert-b", read=False, write=False, lookup=True)
    grant(node, "shared", "cert-c", read=False, write=False, lookup=True)
    grant(node, "shared", "reader", read=True, write=False)
    return c


def _values(node: Node, member: str, c: Collection) -> set[str]:
    return {v for _, v in lookup.member_values(node, node.store.member(member), c, T0)}


def test_a_lookup_grant_is_not_a_read(node: Node, shared: Collection) -> None:
    b = node.store.member("cert-b")
    assert collections_for(node, b) == []
    assert [a.collection.id for a in collections_for(node, node.store.member("reader"))] == [
        shared.id
    ]


def test_the_agreement_decides_what_each_member_s_filter_holds(
    node: Node, shared: Collection
) -> None:
    all_current = {"198.51.100.1", "198.51.100.2", "198.51.100.3"}  # not the revoked 4
    assert _values(node, "cert-b", shared) == all_current
    folder = egress.agreements_dir(node)
    folder.mkdir(exist_ok=True)
    (folder / "b.toml").write_text(
        'members = ["cert-b"]\ncollections = ["shared"]\ntlp_ceiling = "green"\n'
    )
    assert _values(node, "cert-b", shared) == {"198.51.100.1"}
    assert _values(node, "cert-c", shared) == all_current


def test_offer_answer_and_the_end_of_an_epoch(node: Node, shared: Collection) -> None:
    report = lookup.offer(node, "shared", now=T0)
    assert sorted(m.member for m in report.members) == ["cert-b", "cert-c"]
    assert all(m.log_index is not None and m.size_class == 1024 for m in report.members)
    b = node.store.member("cert-b")
    (offer,) = lookup.offers_for(node, b, shared.id, now=T0)
    data = lookup.blob(node, b, shared.id, offer.epoch, "filter", now=T0)
    state = blind([oprf_input("ipv4-addr", "198.51.100.2"), oprf_input("ipv4-addr", "192.0.2.1")])
    answer, left = lookup.answer(node, b, shared.id, offer.epoch, state.body, now=T0)
    assert left == node.settings.lookup_quota - 2
    outputs = finalize(state, answer, offer.public_key)
    assert Filter(data, offer.filter_digest).hits(outputs) == [True, False]
    with pytest.raises(TaxiiForbidden, match="no lookup grant"):
        lookup.answer(node, node.store.member("reader"), shared.id, offer.epoch, state.body)
    with pytest.raises(TaxiiBadRequest, match="blinded element 1"):
        lookup.answer(node, b, shared.id, offer.epoch, state.body[:32] + bytes(32), now=T0)
    # the next epoch: a new key, the old one deleted with its filters
    later = lookup.offer(node, "shared", ["cert-b"], now=T0 + DAY)
    assert later.epoch == report.epoch + 1 and later.ended == 1
    assert later.public_key != report.public_key
    old = node.store.lookup_epoch(shared.pk, report.epoch)
    assert old is not None and old.seed_sealed is None
    with pytest.raises(TaxiiGone, match="ended"):
        lookup.answer(node, b, shared.id, report.epoch, state.body, now=T0 + DAY)
    with pytest.raises(TaxiiNotFound):
        lookup.offers_for(node, node.store.member("cert-c"), shared.id, now=T0 + DAY)


def test_an_offer_to_a_member_without_a_lookup_grant_is_refused(
    node: Node, shared: Collection
) -> None:
    with pytest.raises(ConfigError, match="no lookup grant"):
        lookup.offer(node, "shared", ["reader"], now=T0)


def test_the_quota_holds_under_concurrent_batches(node: Node) -> None:
    c = node.store.create_collection("q")
    m = node.store.create_member("m")
    node.store.set_grant(c.pk, m.pk, False, False, True)
    ingest_objects(node, [indicator(1)], source=("test", "q"), collection_pks=[c.pk])
    lookup.offer(node, "q", now=T0)
    (offer,) = lookup.offers_for(node, m, c.id, now=T0)
    quota = node.settings.lookup_quota
    ep = node.store.lookup_epoch(c.pk, offer.epoch)
    assert ep is not None
    # 16 threads race for the last 10 evaluations, 3 at a time: exactly 3 batches win
    assert node.store.take_lookup_quota(ep.pk, m.pk, quota - 10, quota) == quota - 10
    with ThreadPoolExecutor(16) as pool:
        results = list(
            pool.map(lambda _: node.store.take_lookup_quota(ep.pk, m.pk, 3, quota), range(16))
        )
    assert sorted(r for r in results if r is not None) == [quota - 7, quota - 4, quota - 1]
    body = blind([b"x"]).body
    lookup.answer(node, m, c.id, offer.epoch, body, now=T0)
    with pytest.raises(TaxiiTooManyRequests) as info:
        lookup.answer(node, m, c.id, offer.epoch, body, now=T0)
    assert info.value.headers["Retry-After"] == str(DAY - 3600)
    assert sum(b.count for b in node.store.lookup_batches(m.pk)) == quota


def test_the_first_request_after_an_epoch_ends_deletes_its_key(
    node: Node, shared: Collection
) -> None:
    report = lookup.offer(node, "shared", now=T0)
    b = node.store.member("cert-b")
    with pytest.raises(TaxiiGone):
        lookup.answer(node, b, shared.id, report.epoch, blind([b"x"]).body, now=T0 + DAY)
    ep = node.store.lookup_epoch(shared.pk, report.epoch)
    assert ep is not None and ep.seed_sealed is None
    assert node.store.lookup_offer(ep.pk, b.pk) is None
