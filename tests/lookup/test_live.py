"""Private lookup between real nodes on loopback: a holder served by `accord serve`, queriers.

The holder holds the indicators (three that the real Zeek logs of
../shared/data/zeek/zat hit, decoys, a revoked one); the querier checks
values and matches the logs privately; a third node holding the same
indicators matches the logs in the plain way, and the answers must agree.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from accord.exceptions import DleqProofInvalid, FilterMismatch, KeyNotAnnounced, PeerError
from accord.ledger import Entry, commitment, parse_entry
from accord.privacy import ANNOUNCEMENT, EpochKey, announcement, blind, epoch_info
from accord.service import ledger, lookup_check, match, sync
from accord.service._sync_secret import seal
from accord.service.lookup import _seal_name
from accord.service.node import load_private_key
from accord.service.sharing import grant
from accord.store import _schema as s
from accord.taxii.client import connector
from accord.taxii.lookup_client import lookup_connector
from tests.cli_run import run
from tests.federation.nodes import LiveNode, indicator, live_nodes

TS = "2012-01-01T00:00:00.000Z"  # before the Zeek logs: the plain matcher reads valid_from
HELD = {
    "54.245.228.191": f"indicator--{uuid.UUID(int=1 + (21 << 80), version=4)}",
    "guyspy.com": f"indicator--{uuid.UUID(int=2 + (21 << 80), version=4)}",
}
REVOKED_VALUE = "203.0.113.77"
NOT_HELD = ["192.0.2.99", "unheld-domain.example", "e" * 64]
BATCH_LIMIT, QUOTA = 64, 3000


def _ind(n: int, pattern: str, **extra: Any) -> dict[str, Any]:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n + (21 << 80), version=4)}",
        "created": TS,
        "modified": TS,
        "name": f"lookup test {n}",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": TS,
    }
    obj.update(extra)
    return obj


def _bundle(path: Path) -> Path:
    objects = [
        _ind(1, "[ipv4-addr:value = '54.245.228.191']"),
        _ind(
            2,
            "[domain-name:value = 'guyspy.com']",
            object_marking_refs=["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],
        ),
        _ind(3, f"[ipv4-addr:value = '{REVOKED_VALUE}']", revoked=True),
        *(indicator(n) for n in range(10, 210)),  # 198.51.0.10 ... decoys
    ]
    path.write_bytes(
        orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
    )
    return path


@dataclass
class World:
    holder: LiveNode
    querier: LiveNode
    second: LiveNode
    plain: LiveNode
    collection_id: str
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("lookup")
    bundle = _bundle(root / "indicators.json")
    with live_nodes(root) as make:
        holder = make(
            "holder",
            ACCORD_LOOKUP_BATCH_LIMIT=str(BATCH_LIMIT),
            ACCORD_LOOKUP_QUOTA=str(QUOTA),
            # a checkpoint whenever asked and the log grew: the queriers witness at once
            ACCORD_LOG_CHECKPOINT_SECONDS="0",
        )
        # The machine is shared: a generous timeout, so that load is not a failure.
        slow = {"ACCORD_PEER_TIMEOUT": "60"}
        querier, second, plain = make("querier", **slow), make("second", **slow), make("plain")
        for live in (holder, plain):
            code, _, err = run(live.home, "import", str(bundle), "--collection", "intel")
            assert code == 0, err
        tokens = {}
        with holder.open() as node:
            cid = node.store.collection("intel").id
            for name in ("querier", "second", "burst", "reader"):
                m = node.store.create_member(name)
                tokens[name] = node.store.create_token(m.pk)[0]
            grant(node, "intel", "querier", read=False, write=False, lookup=True)
            grant(node, "intel", "burst", read=False, write=False, lookup=True)
            grant(node, "intel", "second", read=False, write=False, lookup=True)
            grant(node, "intel", "reader", read=True, write=False)
        code, out, err = run(holder.home, "lookup", "offer", "intel", "--context")
        assert code == 0, err
        assert "querier" in out and "burst" in out and "reader" not in out
        holder.serve()
        for live, name in ((querier, "querier"), (second, "second")):
            with live.open() as node:
                sync.add_peer(
                    node,
                    "holder",
                    url=holder.url,
                    api_root="/api/v21/",
                    collection=cid,
                    token=tokens[name],
                )
        yield World(holder, querier, second, plain, cid, tokens)


def _check(w: World, values: list[str], on: LiveNode | None = None) -> lookup_check.CheckReport:
    with (on or w.querier).open() as node:
        return lookup_check.check(
            node,
            "holder",
            values,
            lookup_connector(node.settings),
            log_connect=connector(node.settings),
        )


def _url(w: World, tail: str = "") -> str:
    return f"{w.holder.url}/api/v21/accord/lookup/{w.collection_id}/{tail}"


def _auth(w: World, member: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {w.tokens[member]}"}


def test_a_check_finds_exactly_the_held_values(world: World) -> None:
    values = ["54.245.228.191", "GUYSPY.com.", REVOKED_VALUE, *NOT_HELD, "not a value at all"]
    report = _check(world, values)
    assert {(h.kind, h.value) for h in report.hits} == {
        ("ipv4-addr", "54.245.228.191"),
        ("domain-name", "guyspy.com"),
    }
    assert [t for t, _ in report.refused] == ["not a value at all"]
    by_value = {h.value: h for h in report.hits}
    assert all(h.confirmed for h in report.hits)
    (ctx,) = by_value["guyspy.com"].contexts or ()
    assert ctx == {"id": HELD["guyspy.com"], "name": "lookup test 2", "tlp": "red"}
    assert report.sent == 32 * 6 and report.received > 0  # the refused value is not sent


def test_more_values_than_a_batch_go_in_batches_with_a_proof_each(world: World) -> None:
    decoys = [f"198.51.0.{n}" for n in range(10, 110)]  # 100 held values
    report = _check(world, [*decoys, *NOT_HELD])
    assert sorted(h.value for h in report.hits) == sorted(decoys)
    with world.holder.open() as node:
        m = node.store.member("querier")
        counts = [b.count for b in node.store.lookup_batches(m.pk)]
    assert BATCH_LIMIT in counts and 103 - BATCH_LIMIT in counts


@pytest.mark.data
def test_a_private_match_gives_the_plain_match_s_sightings(world: World, shared_data: Path) -> None:
    zat = shared_data / "zeek" / "zat"
    logs = [str(zat / "conn.log"), str(zat / "dns.log")]
    with world.plain.open() as node:
        plain = match.match_paths(node, logs, workers=1)
    assert set(plain.hits) == set(HELD.values())
    code, out, err = run(world.querier.home, "match", *logs, "--private-peer", "holder")
    assert code == 0, err
    assert "2 sighting version(s) stored" in out.splitlines()[-1]
    code, out, _ = run(world.querier.home, "search", "--type", "sighting", "--json")
    sighted = {orjson.loads(line)["sighting_of_ref"] for line in out.splitlines()}
    assert sighted == set(plain.hits)


def test_the_holder_keeps_and_logs_no_queried_value(world: World) -> None:
    _check(world, NOT_HELD)
    db = (world.holder.home / "accord.db").read_bytes()
    wal = world.holder.home / "accord.db-wal"
    stored = db + (wal.read_bytes() if wal.exists() else b"")
    served = world.holder.log.read_bytes() if world.holder.log else b""
    assert b"198.51.0.10" in stored  # the probe can find what is there
    for value in NOT_HELD:
        assert value.encode() not in stored and value.encode() not in served


def test_the_querier_receives_no_value_it_did_not_query(world: World) -> None:
    report = _check(world, ["54.245.228.191"])
    assert [h.value for h in report.hits] == ["54.245.228.191"]
    offer = report.offers[0]
    headers = _auth(world, "querier")
    got = b"".join(
        httpx.get(_url(world, f"{offer.epoch}/{w}"), headers=headers).content
        for w in ("filter", "context")
    )
    db = (world.querier.home / "accord.db").read_bytes()
    never_queried = ("198.51.0.150", "indicator 150", str(indicator(150)["id"]))
    for held in never_queried:
        assert held.encode() not in got and held.encode() not in db


def test_bad_requests_get_clear_errors_that_leak_nothing(world: World) -> None:
    offer = httpx.get(_url(world), headers=_auth(world, "querier")).json()
    epoch = offer["epoch"]
    evaluate = _url(world, f"{epoch}/evaluate")
    q = _auth(world, "querier")
    one = blind([b"domain-name\x00guyspy.com"]).body
    cases = [
        (httpx.post(evaluate, content=one), 401, "credentials"),
        (httpx.post(evaluate, content=one, headers=_auth(world, "reader")), 403, "no lookup grant"),
        (httpx.get(_url(world), headers=_auth(world, "reader")), 403, "no lookup grant"),
        (httpx.post(evaluate, content=one[:31], headers=q), 400, "32 bytes each"),
        (httpx.post(evaluate, content=bytes(32), headers=q), 400, "blinded element 0"),
        (httpx.post(evaluate, content=one[:-1] + b"\xff", headers=q), 400, "blinded element 0"),
        (
            httpx.post(evaluate, content=one * (BATCH_LIMIT + 1), headers=q),
            413,
            f"at most {BATCH_LIMIT}",
        ),
        (httpx.post(_url(world, f"{epoch - 1}/evaluate"), content=one, headers=q), 410, "ended"),
        (httpx.get(_url(world, f"{epoch - 1}/filter"), headers=q), 410, "ended"),
    ]
    for response, status, words in cases:
        assert response.status_code == status, (status, response.text)
        body = response.json()
        assert body["http_status"] == str(status) and words in body["description"], body
        assert one.hex() not in response.text and "guyspy" not in response.text


def test_quotas_hold_under_concurrent_batches(world: World) -> None:
    epoch = httpx.get(_url(world), headers=_auth(world, "burst")).json()["epoch"]
    body = blind([b"ipv4-addr\x00192.0.2.%d" % i for i in range(BATCH_LIMIT)]).body
    statuses: list[int] = []
    retry_after: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(headers=_auth(world, "burst"), timeout=30) as client:
            for _ in range(10):
                r = client.post(_url(world, f"{epoch}/evaluate"), content=body)
                with lock:
                    statuses.append(r.status_code)
                    if r.status_code == 429:
                        retry_after.append(r.headers["Retry-After"])

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) == QUOTA // BATCH_LIMIT
    assert statuses.count(429) == 60 - QUOTA // BATCH_LIMIT
    assert all(int(r) > 0 for r in retry_after)
    with world.holder.open() as node:
        m = node.store.member("burst")
        assert sum(b.count for b in node.store.lookup_batches(m.pk)) == (QUOTA // BATCH_LIMIT) * 64


def test_a_failing_proof_and_a_filter_not_announced_are_refused(world: World) -> None:
    with world.holder.open() as node:
        c = node.store.collection("intel")
        ep = node.store.lookup_epochs(c.pk)[0]
        member = node.store.member("querier")
        original_seed, original_filter = (
            ep.seed_sealed,
            node.store.lookup_blob(ep.pk, member.pk, "filter"),
        )
        assert original_seed is not None and original_filter is not None
        other = seal(load_private_key(node.settings.home), "11" * 32, _seal_name(c, ep.epoch))
        e, o = s.lookup_epochs, s.lookup_offers
        try:
            with node.store.write_tx() as conn:
                conn.execute(e.update().where(e.c.pk == ep.pk).values(seed_sealed=other))
            with pytest.raises(DleqProofInvalid, match="does not verify"):
                _check(world, ["guyspy.com"])
            with node.store.write_tx() as conn:
                conn.execute(e.update().where(e.c.pk == ep.pk).values(seed_sealed=original_seed))
                conn.execute(
                    o.update()
                    .where(o.c.epoch_pk == ep.pk, o.c.member_pk == member.pk)
                    .values(filter=original_filter[:-1] + b"\x00")
                )
            with pytest.raises(FilterMismatch, match="not the announced"):
                _check(world, ["guyspy.com"])
        finally:
            with node.store.write_tx() as conn:
                conn.execute(e.update().where(e.c.pk == ep.pk).values(seed_sealed=original_seed))
                conn.execute(
                    o.update()
                    .where(o.c.epoch_pk == ep.pk, o.c.member_pk == member.pk)
                    .values(filter=original_filter)
                )
    assert [h.value for h in _check(world, ["guyspy.com"]).hits] == ["guyspy.com"]


def test_a_peer_that_offers_nothing_is_a_clear_error(world: World) -> None:
    with world.querier.open() as node:
        sync.add_peer(
            node,
            "reader-view",
            url=world.holder.url,
            api_root="/api/v21/",
            collection=world.collection_id,
            token=world.tokens["reader"],
        )
        with pytest.raises(Exception, match="offers this node no private lookup"):
            lookup_check.check(node, "reader-view", ["guyspy.com"], lookup_connector(node.settings))
        with pytest.raises(PeerError, match="no lookup grant") as info:
            lookup_check.check(
                node,
                "reader-view",
                ["guyspy.com"],
                lookup_connector(node.settings),
                collection=world.collection_id,
            )
        assert info.value.status == 403


def test_the_lookup_grant_on_the_command_line(world: World) -> None:
    home = world.holder.home
    assert run(home, "member", "add", "late")[0] == 0
    code, out, err = run(home, "collection", "grant", "intel", "--member", "late", "--lookup")
    assert code == 0 and "late may look up 'intel'" in out, err
    code, out, _ = run(home, "member", "list")
    assert code == 0 and "intel (l)" in out
    code, _, err = run(home, "lookup", "offer", "intel", "--to", "nobody")
    assert code == 1 and "no member named 'nobody'" in err


def test_a_third_party_with_voprf_alone_runs_the_protocol(world: World) -> None:
    """The example of docs/lookup.md ("Wire format"), as written there."""
    import hashlib

    import rbloom
    from voprf import ristretto

    base = _url(world)
    auth = _auth(world, "querier")
    offer = httpx.get(base, headers=auth).json()
    pk = ristretto.PublicKey.deserialize(bytes.fromhex(offer["public_key"]))
    inputs = [b"domain-name\x00guyspy.com", b"ipv4-addr\x00192.0.2.1"]
    clients, blinded = zip(*(ristretto.Client.blind(x) for x in inputs), strict=True)
    body = b"".join(b.serialize() for b in blinded)
    answer = httpx.post(f"{base}{offer['epoch']}/evaluate", content=body, headers=auth).content
    batch = ristretto.VerifiableBatchOutput.deserialize(answer[-64:] + answer[:-64])
    outputs = ristretto.Client.finalize_batch(list(clients), batch, pk)
    data = httpx.get(f"{base}{offer['epoch']}/filter", headers=auth).content
    assert "sha256:" + hashlib.sha256(data).hexdigest() == offer["filter"]["digest"]
    bloom = rbloom.Bloom.load_bytes(data, lambda t: int.from_bytes(t[:16], "little", signed=True))
    assert [y[:16] in bloom for y in outputs] == [True, False]


def test_the_log_holds_each_answered_batch_with_its_count_and_no_value(world: World) -> None:
    _check(world, ["guyspy.com", *NOT_HELD])
    with world.holder.open() as node:
        entries = [parse_entry(e.entry) for e in node.store.iter_log()]
    batches = [e.body for e in entries if e.type == "lookup-batch"]
    announced = [e.body for e in entries if e.type == "lookup-epoch"]
    assert batches and all(b["count"] > 0 for b in batches)
    assert batches[-1]["count"] == 4 and batches[-1]["collection"] == world.collection_id
    assert {a["public_key"] for a in announced} and all("recipient" in a for a in announced)
    text = b"".join(e.canonical() for e in entries)
    for value in [*NOT_HELD, "querier", "second"]:
        assert value.encode() not in text


def test_an_announcement_edited_in_the_holder_s_log_is_refused(world: World) -> None:
    """The proofs lead to the checkpoint the querier witnessed, not to what the holder says."""
    with world.holder.open() as node:
        c = node.store.collection("intel")
        ep = node.store.lookup_epochs(c.pk)[0]
        offer = node.store.lookup_offer(ep.pk, node.store.member("querier").pk)
        assert offer is not None and offer.log_index is not None
        t = s.log_entries
        with node.store.engine.connect() as conn:
            original = conn.execute(t.select().where(t.c.idx == offer.log_index)).one().entry
        edited = bytes(original).replace(b'"filter_digest":"sha256:', b'"filter_digest":"sha256:0')
        try:
            with node.store.write_tx() as conn:
                conn.execute(t.update().where(t.c.idx == offer.log_index).values(entry=edited))
            with pytest.raises(KeyNotAnnounced, match="does not give the root"):
                _check(world, ["guyspy.com"])
        finally:
            with node.store.write_tx() as conn:
                conn.execute(t.update().where(t.c.idx == offer.log_index).values(entry=original))
    assert [h.value for h in _check(world, ["guyspy.com"]).hits] == ["guyspy.com"]


def test_a_holder_that_switches_keys_for_one_member_is_caught(world: World) -> None:
    """Three nodes: the holder gives `second` a key of its own; `second` refuses it."""
    assert [h.value for h in _check(world, ["guyspy.com"], world.second).hits] == ["guyspy.com"]
    other_seed = "22" * 32
    with world.holder.open() as node:
        c = node.store.collection("intel")
        ep = node.store.lookup_epochs(c.pk)[0]
        member = node.store.member("second")
        before = node.store.lookup_offer(ep.pk, member.pk)
        assert before is not None and before.log_index is not None and before.salt is not None
        other = EpochKey(bytes.fromhex(other_seed), epoch_info(c.id, ep.epoch))
        sealed = seal(load_private_key(node.settings.home), other_seed, _seal_name(c, ep.epoch))
        e = s.lookup_epochs
        try:
            # 1. a key of its own, not logged: the offer's key is not the log's
            with node.store.write_tx() as conn:
                conn.execute(
                    e.update()
                    .where(e.c.pk == ep.pk)
                    .values(seed_sealed=sealed, public_key=other.public_key)
                )
            with pytest.raises(KeyNotAnnounced, match="not the one the log announced"):
                _check(world, ["guyspy.com"], world.second)
            # 2. and logged for it alone: two keys for one epoch in the log
            salt = bytes(range(32))
            body = announcement(
                c.id,
                ep.epoch,
                ep.not_after,
                other.public_key,
                commitment(salt, "second"),
                before.filter_digest,
                before.context_digest,
            )
            (index,) = ledger.append(node, [Entry(ANNOUNCEMENT, 1, body)])
            node.store.set_lookup_log_index(ep.pk, member.pk, index, salt)
            with pytest.raises(KeyNotAnnounced, match=r"2 keys for epoch .*: a key was switched"):
                _check(world, ["guyspy.com"], world.second)
        finally:
            with node.store.write_tx() as conn:
                conn.execute(
                    e.update()
                    .where(e.c.pk == ep.pk)
                    .values(seed_sealed=ep.seed_sealed, public_key=ep.public_key)
                )
            node.store.set_lookup_log_index(ep.pk, member.pk, before.log_index, before.salt)
    # the second key stays in the append-only log: nobody trusts this epoch any more
    with pytest.raises(KeyNotAnnounced, match="2 keys"):
        _check(world, ["guyspy.com"])
