"""The transparency log over the TAXII app, in-process, on each backend."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import random
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.ledger import (
    Appender,
    Checkpoint,
    ListReader,
    Signer,
    consistency_proof,
    cosignatures,
    entry_from_receipt,
    hashes_to_store,
    leaf_hash,
    open_note,
    parse_checkpoint,
    parse_note,
    read_bundle,
    sign_note,
    tree_hash,
    verify_inclusion,
)
from accord.service import ledger, transparency
from accord.service.node import Node
from tests.taxii.helpers import Server, indicator, make_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def server(node: Node) -> Server:
    # A checkpoint whenever one is asked for: proofs cover the answers just received.
    # The witness route is anonymous and the flood test sends 300 requests at once:
    # the anonymous rate limit is off here (tests/taxii/test_limits.py has it).
    node.settings = dataclasses.replace(
        node.settings, log_checkpoint_seconds=0.0, limit_anonymous_requests_per_second=0.0
    )
    s = make_server(node)
    s.add("shared", [indicator(i) for i in range(30)])
    return s


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _page(
    client: httpx.AsyncClient, server: Server, tail: str, **params: str
) -> httpx.Response:
    r = await client.get(server.url("shared", tail), headers=server.auth("reader"), params=params)
    assert r.status_code == 200, r.text
    return r


async def test_every_read_carries_a_receipt_that_rebuilds_its_stored_entry(
    client: httpx.AsyncClient, server: Server
) -> None:
    answers = {
        "taxii-objects": await _page(client, server, "objects/", limit="7"),
        "taxii-manifest": await _page(client, server, "manifest/", limit="5"),
        "taxii-object": await _page(client, server, f"objects/{indicator(3)['id']}/"),
        "taxii-versions": await _page(client, server, f"objects/{indicator(4)['id']}/versions/"),
    }
    for channel, r in answers.items():
        index, entry = entry_from_receipt(dict(r.headers), r.content)
        assert entry.body["channel"] == channel
        assert entry.body["digest"] == hashlib.sha256(r.content).hexdigest()
        stored = server.node.store.log_entries(index, index + 1)[0]
        assert stored.entry == entry.canonical()
    objects = answers["taxii-objects"]
    assert entry_from_receipt(dict(objects.headers), objects.content)[1].body["count"] == 7
    # A body changed by one byte no longer rebuilds the logged entry.
    index, _ = entry_from_receipt(dict(objects.headers), objects.content)
    _, other = entry_from_receipt(dict(objects.headers), objects.content + b" ")
    assert server.node.store.log_entries(index, index + 1)[0].entry != other.canonical()


async def test_the_public_log_names_no_recipient_and_no_object(
    client: httpx.AsyncClient, server: Server
) -> None:
    await _page(client, server, "objects/")
    entries = b"".join(e.entry for e in server.node.store.iter_log())
    for secret in (b"reader", b"writer", b"stranger", b"indicator--", b"198.51.100"):
        assert secret not in entries
    # The owner's openings do name them.
    assert "reader" in {o.recipient for _, o in server.node.store.log_openings()}


async def test_with_the_log_off_nothing_is_logged_and_no_receipt_is_sent(node: Node) -> None:
    node.settings = dataclasses.replace(node.settings, log=False)
    s = make_server(node)
    s.add("shared", [indicator(1)])
    before = node.store.log_size()
    transport = httpx.ASGITransport(app=s.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get(s.url("shared", "objects/"), headers=s.auth("reader"))
    assert r.status_code == 200
    assert "X-Accord-Log-Index" not in r.headers
    assert node.store.log_size() == before


async def test_inclusion_and_consistency_proofs_verify_against_the_signed_checkpoint(
    client: httpx.AsyncClient, server: Server
) -> None:
    first = await _page(client, server, "objects/", limit="3")
    index, entry = entry_from_receipt(dict(first.headers), first.content)
    note = (await client.get("/log/checkpoint", headers=server.auth("reader"))).text
    vkey = (await client.get("/log/vkey", headers=server.auth("reader"))).text
    from accord.ledger import parse_vkey

    opened, _ = open_note(note, [parse_vkey(vkey)])
    cp = parse_checkpoint(opened.text, ledger.origin(server.node))
    r = await client.get(
        "/log/proof/inclusion",
        params={"size": cp.size, "index": index},
        headers=server.auth("reader"),
    )
    proof = [base64.b64decode(h) for h in r.json()["proofs"][str(index)]]
    verify_inclusion(index, cp.size, leaf_hash(entry.canonical()), proof, cp.root)
    # Consistency between two checkpoints the node signed.
    await _page(client, server, "objects/", limit="2")
    note2 = (await client.get("/log/checkpoint", headers=server.auth("reader"))).text
    cp2 = parse_checkpoint(parse_note(note2).text)
    r = await client.get(
        "/log/proof/consistency",
        params={"old": cp.size, "size": cp2.size},
        headers=server.auth("reader"),
    )
    from accord.ledger import verify_consistency

    verify_consistency(
        cp.size, cp2.size, cp.root, cp2.root, [base64.b64decode(x) for x in r.text.split()]
    )
    # Sizes beyond the checkpoint, and bad parameters, are refused.
    beyond = await client.get(
        "/log/proof/inclusion",
        params={"size": cp2.size + 5, "index": 0},
        headers=server.auth("reader"),
    )
    assert beyond.status_code == 404
    bad = await client.get(
        "/log/proof/inclusion", params={"size": "-1", "index": "x"}, headers=server.auth("reader")
    )
    assert bad.status_code == 400


async def test_tiles_rebuild_the_signed_root_and_need_a_member(
    client: httpx.AsyncClient, server: Server
) -> None:
    for _ in range(3):
        await _page(client, server, "objects/", limit="4")
    cp = parse_checkpoint(
        parse_note((await client.get("/log/checkpoint", headers=server.auth("reader"))).text).text
    )
    assert cp.size < 256
    bundle = await client.get(f"/log/tile/entries/000.p/{cp.size}", headers=server.auth("reader"))
    entries = read_bundle(bundle.content)
    assert len(entries) == cp.size
    hashes = await client.get(f"/log/tile/0/000.p/{cp.size}", headers=server.auth("reader"))
    assert hashes.content == b"".join(leaf_hash(e) for e in entries)
    appender = Appender(0, {})
    for e in entries:
        appender.append(leaf_hash(e))
    assert appender.root() == cp.root
    assert (await client.get("/log/tile/0/000")).status_code == 401
    wide = await client.get(f"/log/tile/0/000.p/{cp.size + 9}", headers=server.auth("reader"))
    assert wide.status_code == 404
    junk = await client.get("/log/tile/0/1234", headers=server.auth("reader"))
    assert junk.status_code == 404


async def test_only_auditor_members_read_the_openings(
    client: httpx.AsyncClient, server: Server
) -> None:
    await _page(client, server, "objects/")
    r = await client.get("/log/openings", headers=server.auth("admin"))
    assert r.status_code == 404
    transparency.set_auditor(server.node, "admin", True)
    r = await client.get("/log/openings", params={"member": "reader"}, headers=server.auth("admin"))
    assert r.status_code == 200
    shares = r.json()["shares"]
    assert shares and {s["recipient"] for s in shares} == {"reader"}
    assert all(s["included"] for s in shares)
    transparency.set_auditor(server.node, "admin", False)
    assert (await client.get("/log/openings", headers=server.auth("admin"))).status_code == 404


# -- tlog-witness add-checkpoint ---------------------------------------------------------


class _Log:
    """A log of our own making (another node's), with its key."""

    def __init__(self, origin: str = "example.org/other-log", leaves: str = "e") -> None:
        self.signer = Signer(origin, Ed25519PrivateKey.generate())
        self.leaves = leaves
        self.reader = ListReader()
        self.size = 0

    def grow(self, n: int) -> None:
        for _ in range(n):
            self.reader.hashes += hashes_to_store(
                self.size, leaf_hash(f"{self.leaves}{self.size}".encode()), self.reader
            )
            self.size += 1

    def note(self, size: int | None = None, root: bytes | None = None) -> str:
        size = self.size if size is None else size
        root = root or tree_hash(size, self.reader)
        text = Checkpoint(self.signer.name, size, root).text()
        return text + "\n" + sign_note(text, self.signer).line()

    def body(self, old: int, note: str | None = None, proof: list[bytes] | None = None) -> bytes:
        if proof is None:
            proof = consistency_proof(old, self.size, self.reader) if old else []
        lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
        return ("\n".join(lines) + "\n\n" + (note or self.note())).encode()


async def test_add_checkpoint_follows_the_tlog_witness_statuses(
    client: httpx.AsyncClient, server: Server
) -> None:
    log = _Log()
    log.grow(5)
    post = "/witness/add-checkpoint"
    assert (await client.post(post, content=log.body(0))).status_code == 404  # unknown log
    transparency.pin(server.node, log.signer.name, log.signer.verifier().vkey, None)
    ok = await client.post(post, content=log.body(0))
    assert ok.status_code == 200, ok.text
    witness = ledger.cosigner_verifier(server.node)
    cosigned = parse_note(log.note().split("\n\n")[0] + "\n\n" + ok.text)
    assert witness.name in cosignatures(cosigned, [witness])
    # The same old size again: 409 with the size on record.
    again = await client.post(post, content=log.body(0))
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("text/x.tlog.size") and again.text == "5\n"
    log.grow(4)
    assert (await client.post(post, content=log.body(5))).status_code == 200
    # A signature by another key: 403.
    stranger = _Log(log.signer.name)
    stranger.grow(12)
    assert (await client.post(post, content=stranger.body(9, proof=[]))).status_code == 403
    # Malformed: 400.
    for body in (
        b"old 9\n",
        b"old nine\n\n" + log.note().encode(),
        b"old 9\n" + b"AAAA\n" + b"\n" + log.note().encode(),
        b"old 9\n" + b"\n".join([base64.b64encode(b"x" * 32)] * 64) + b"\n\n" + log.note().encode(),
        log.body(11, proof=[]),
    ):
        assert (await client.post(post, content=body)).status_code == 400, body[:40]
    # A rewritten history signed by the log's own key: 422, evidence kept, no more cosigning.
    fork = _Log(log.signer.name, leaves="rewritten")
    fork.signer = log.signer
    fork.grow(12)
    bad = await client.post(post, content=fork.body(9, proof=consistency_proof(9, 12, fork.reader)))
    assert bad.status_code == 422
    evidence = server.node.store.evidence(log.signer.name)
    assert len(evidence) == 1
    log.grow(3)
    assert (await client.post(post, content=log.body(9))).status_code == 422  # stops cosigning


async def test_a_flood_of_bad_checkpoints_keeps_no_state(
    client: httpx.AsyncClient, server: Server
) -> None:
    rng = random.Random(7)
    log = _Log()
    log.grow(3)
    for i in range(300):
        note = log.note()
        kind = i % 3
        if kind == 0:
            body = rng.randbytes(rng.randrange(1, 400))
        elif kind == 1:
            body = f"old {i}\n\n".encode() + note.replace("example.org", f"x{i}.org").encode()
        else:
            body = b"old 0\n\n" + note.encode()[: rng.randrange(1, len(note))]
        r = await client.post("/witness/add-checkpoint", content=body)
        assert r.status_code in (400, 403, 404), (i, r.status_code, r.text)
    assert server.node.store.witnessed() == []
    assert server.node.store.evidence() == []
    huge = await client.post("/witness/add-checkpoint", content=b"x" * (1 << 20))
    assert huge.status_code == 400


async def test_a_cosignature_handed_back_is_published_only_when_it_verifies(
    client: httpx.AsyncClient, server: Server
) -> None:
    await _page(client, server, "objects/")
    note = (await client.get("/log/checkpoint", headers=server.auth("reader"))).text
    cp = parse_checkpoint(parse_note(note).text)
    witness = Signer("witness.example/w1", Ed25519PrivateKey.generate())
    from accord.ledger import COSIGNATURE_V1, cosign

    line = cosign(cp.text(), witness, 1_700_000_000).line()
    vkey = witness.verifier(COSIGNATURE_V1).vkey
    forged = cosign(Checkpoint(cp.origin, cp.size, b"\x01" * 32).text(), witness, 1).line()
    headers = {**server.auth("reader"), "X-Accord-Witness-Key": vkey}
    bad = await client.post(
        "/log/cosignature", content=(cp.text() + "\n" + forged).encode(), headers=headers
    )
    assert bad.status_code == 400
    good = await client.post(
        "/log/cosignature", content=(cp.text() + "\n" + line).encode(), headers=headers
    )
    assert good.status_code == 200, good.text
    published = (await client.get("/log/checkpoint", headers=server.auth("reader"))).text
    assert line in published
    # The member's key is pinned: another key for the same member is refused.
    other = Signer("witness.example/w1", Ed25519PrivateKey.generate())
    headers2 = {
        **server.auth("reader"),
        "X-Accord-Witness-Key": other.verifier(COSIGNATURE_V1).vkey,
    }
    line2 = cosign(cp.text(), other, 1_700_000_001).line()
    refused = await client.post(
        "/log/cosignature", content=(cp.text() + "\n" + line2).encode(), headers=headers2
    )
    assert refused.status_code == 400


def test_member_token_grant_and_agreement_changes_are_logged_without_names(node: Node) -> None:
    before = node.store.log_size()
    m = node.store.create_member("cert-zz")
    c = node.store.create_collection("zz-intel")
    node.store.set_grant(c.pk, m.pk, True, False)
    _, info = node.store.create_token(m.pk)
    node.store.revoke_token(info.prefix)
    rows = node.store.log_entries(before, before + 100)
    types = [r.type for r in rows]
    assert types == ["member", "grant", "token", "token"]
    assert all(b"cert-zz" not in r.entry for r in rows)
    assert [orjson.loads(r.entry).get("action") for r in rows if r.type == "token"] == [
        "created",
        "revoked",
    ]
    openings = {e.idx: o.recipient for e, o in node.store.log_openings()}
    assert all(openings[r.idx] == "cert-zz" for r in rows)
    assert dataclasses.asdict(transparency.verify_own(node))["entries"] == node.store.log_size()


async def test_sensor_and_misp_feeds_are_logged_before_they_are_sent(
    client: httpx.AsyncClient, server: Server
) -> None:
    cid = server.collections["shared"].id
    auth = {**server.auth("reader"), "Accept": "*/*"}
    for path in (f"/feeds/{cid}/zeek.intel", f"/feeds/{cid}/misp/manifest.json"):
        r = await client.get(path, headers=auth)
        assert r.status_code == 200, r.text
        index, entry = entry_from_receipt(dict(r.headers), r.content)
        assert entry.body["channel"] == "feed"
        assert server.node.store.log_entries(index, index + 1)[0].entry == entry.canonical()
    zeek = await client.get(f"/feeds/{cid}/zeek.intel", headers=auth)
    _, entry = entry_from_receipt(dict(zeek.headers), zeek.content)
    assert entry.body["count"] == 30 and b"198.51.100." in zeek.content
