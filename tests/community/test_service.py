"""Community governance on real nodes in-process: the CLI, the records, the norms' floor."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from accord.cli import app
from accord.community import canonical
from accord.service import community
from accord.service.node import Node, open_node
from accord.settings import load_settings
from accord.store import Query
from tests.cli_run import run, runner
from tests.conftest import NodeFactory

INDICATOR = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--0b7c3c2e-1d35-4a55-9a0e-54f1f1f0c001",
    "created": "2024-01-01T00:00:00.000Z",
    "modified": "2024-01-01T00:00:00.000Z",
    "pattern": "[ipv4-addr:value = '198.51.100.7']",
    "pattern_type": "stix",
    "valid_from": "2024-01-01T00:00:00.000Z",
}
MALWARE = {
    "type": "malware",
    "spec_version": "2.1",
    "id": "malware--0b7c3c2e-1d35-4a55-9a0e-54f1f1f0c002",
    "created": "2024-01-01T00:00:00.000Z",
    "modified": "2024-01-01T00:00:00.000Z",
    "name": "x",
    "is_family": False,
}


def _ok(home: Path, *args: str) -> str:
    code, out, err = run(home, *args)
    assert code == 0, (args, out, err)
    return out


def _carry(src: Path, dst: Path) -> community.AbsorbReport:
    """What a pull does: the source's community objects into the destination's inbox."""
    with open_node(load_settings(home=src)) as a:
        pk = a.store.collection(community.COLLECTION).pk
        objs = [orjson.loads(o.data) for o in a.store.query(Query(collection_pk=pk))]
    from accord.service.ingest import ingest_objects

    with open_node(load_settings(home=dst)) as b:
        inbox = b.store.collection(community.INBOX).pk
        ingest_objects(b, objs, source=("peer", "carry"), collection_pks=[inbox])
        return community.absorb(b)


@pytest.fixture
def three(tmp_path: Path) -> list[Path]:
    homes = []
    for i in range(3):
        h = tmp_path / f"n{i}"
        assert runner.invoke(app, ["init", str(h), "--name", f"n{i}"]).exit_code == 0
        homes.append(h)
    cards = []
    for i, h in enumerate(homes[1:], 1):
        card = tmp_path / f"card{i}.json"
        card.write_text(_ok(h, "community", "card", "--jurisdiction", "FR" if i == 2 else "DE"))
        cards.append(card)
    genesis = tmp_path / "genesis.json"
    founders = [a for c in cards for a in ("--founder", str(c))]
    _ok(homes[0], "community", "create", str(genesis), "--name", "cert-net",
        "--jurisdiction", "DE", *founders)  # fmt: skip
    code, _, err = run(homes[0], "community", "join", str(genesis))
    assert code == 1 and "not signed yet by n1, n2" in err
    for h in homes[1:]:
        _ok(h, "community", "create", str(genesis), "--sign")
    for h in homes:
        _ok(h, "community", "join", str(genesis))
    return homes


def test_a_norm_proposed_on_one_node_is_adopted_on_all_once_votes_travel(
    three: list[Path], tmp_path: Path
) -> None:
    n0, n1, n2 = three
    status = _ok(n0, "community", "status")
    assert "n0 DE" in status and "n2 FR" in status and "norms: none" in status
    out = _ok(n0, "propose", "adopt-norm", "no-malware", "--rule", '{"exclude_types":["malware"]}')
    pid = out.split()[1]
    assert "yes 1 of 2" in _ok(n0, "vote", pid[:12], "--yes")
    assert _carry(n0, n1).accepted == 2
    _ok(n1, "vote", pid, "--yes")
    for a, b in ((n1, n0), (n1, n2), (n0, n2)):
        _carry(a, b)
    hashes = set()
    for h in three:
        s = _ok(h, "community", "status")
        assert "no-malware" in s and f"adopted by {pid}" in s
        hashes.add(s.splitlines()[0])
        assert "3 record(s) replayed, 3 valid" in _ok(h, "community", "verify")
    assert len(hashes) == 1
    for h in three:  # every accepted record is in each node's transparency log
        with open_node(load_settings(home=h)) as node:
            logged = [orjson.loads(e.entry) for e in node.store.iter_log()]
            ids = {e["record_id"] for e in logged if e["type"] == "community-record"}
            assert ids == set(community.view(node).accepted)
            assert len(ids) == 3
    # The norm is a floor under every agreement: malware no longer leaves n0.
    bundle = tmp_path / "b.json"
    bundle.write_bytes(
        orjson.dumps(
            {
                "type": "bundle",
                "id": "bundle--0b7c3c2e-1d35-4a55-9a0e-54f1f1f0c003",
                "objects": [INDICATOR, MALWARE],
            }
        )
    )
    _ok(n0, "import", str(bundle), "--collection", "shared")
    _ok(n0, "member", "add", "partner")
    (n0 / "agreements").mkdir()
    (n0 / "agreements" / "partner.toml").write_text('members = ["partner"]\ntlp_ceiling = "red"\n')
    explained = _ok(n0, "policy", "explain", str(MALWARE["id"]), "--to", "partner")
    assert explained.startswith("withhold") and "type malware is excluded" in explained
    assert f"community norm no-malware (adopted by {pid[:16]})" in explained
    assert _ok(n0, "policy", "explain", str(INDICATOR["id"]), "--to", "partner").startswith("share")
    checked = _ok(n0, "agreement", "check")
    assert "contradicts a community norm (the norm wins): agreements/partner.toml" in checked
    assert "type malware may go, but community norm no-malware" in checked


def test_a_node_that_left_is_shown_withdrawn_and_cannot_propose(three: list[Path]) -> None:
    n0, _, n2 = three
    _ok(n2, "community", "leave")
    _carry(n2, n0)
    s = _ok(n0, "community", "status")
    assert "n2 FR" in s and "(withdrawn)" in s
    code, _, err = run(n2, "propose", "repeal-norm", "x")
    assert code == 1 and "not a member of the current state" in err


def test_a_forged_record_in_the_inbox_is_refused_and_not_served(three: list[Path]) -> None:
    n0, n1, _ = three
    out = _ok(n0, "propose", "adopt-norm", "red", "--rule", '{"no_onward_red": true}')
    pid = out.split()[1]
    with open_node(load_settings(home=n0)) as a:
        pk = a.store.collection(community.COLLECTION).pk
        objs = [orjson.loads(o.data) for o in a.store.query(Query(collection_pk=pk))]
    prop = next(o for o in objs if o["type"] == "accord-community-record")
    forged = dict(prop, record=prop["record"].replace('"red"', '"rot"'))
    from accord.service.ingest import ingest_objects

    with open_node(load_settings(home=n1)) as b:
        inbox = b.store.collection(community.INBOX).pk
        ingest_objects(b, [forged], source=("peer", "n0"), collection_pks=[inbox])
        report = community.absorb(b)
        assert report.accepted == 0 and report.refused
        assert pid not in community.view(b).proposals
        served = b.store.query(Query(collection_pk=b.store.collection("community").pk))
        assert all(o.type != "accord-community-record" for o in served)


def test_the_records_and_the_log_on_both_backends(make_node: NodeFactory, backend: str) -> None:
    """A node on SQLite and one on ``backend`` (SQLite or PostgreSQL) reach one state."""
    a, b = make_node(name="alpha"), make_node(backend, name="beta")
    genesis = a.settings.home.parent / "genesis.json"
    community.create(a, genesis, name="pair", jurisdiction="DE", founders=[community.card(b, "AT")])
    community.sign(b, genesis)
    for node in (a, b):
        community.join(node, genesis)
    rule = {"min_embargo_hours": {"indicator": 48}, "redact": ["email"]}
    p = community.propose(a, {"type": "adopt-norm", "norm": {"name": "slow", "rule": rule}})
    community.cast(a, p.id, "yes")
    _carry_nodes(a, b)
    assert community.view(b).proposals[p.id].tally.yes == 1
    community.cast(b, p.id, "yes")
    _carry_nodes(b, a)
    va, vb = community.view(a), community.view(b)
    assert va.state.height == vb.state.height == 1
    assert canonical(va.document()) == canonical(vb.document())
    for node in (a, b):
        logged = [orjson.loads(e.entry) for e in node.store.iter_log()]
        assert sum(e["type"] == "community-record" for e in logged) == 3
        assert community.verify(node).refused == {}
    norms = community.norms(b)
    assert norms is not None and norms.floor.embargo["indicator"][0] == 48


def _carry_nodes(src: Node, dst: Node) -> None:
    from accord.service.ingest import ingest_objects

    pk = src.store.collection(community.COLLECTION).pk
    objs = [orjson.loads(o.data) for o in src.store.query(Query(collection_pk=pk))]
    inbox = dst.store.collection(community.INBOX).pk
    ingest_objects(dst, objs, source=("peer", "carry"), collection_pks=[inbox])
    community.absorb(dst)


def test_the_gate_applies_a_genesis_norm_per_type_and_outside_the_community(
    make_node: NodeFactory,
) -> None:
    from datetime import UTC, datetime, timedelta

    from accord.service import egress
    from accord.service.ingest import ingest_objects
    from accord.service.sharing import create_collection, grant

    a, b = make_node(name="alpha"), make_node(name="beta")
    genesis = a.settings.home.parent / "genesis.json"
    rule = {"min_embargo_hours": {"indicator": 72}, "tlp_ceiling_outside": "green"}
    community.create(
        a,
        genesis,
        name="pair",
        jurisdiction="DE",
        founders=[community.card(b, "AT")],
        norms=[{"name": "slow-and-green", "rule": rule}],
    )
    community.sign(b, genesis)
    community.join(a, genesis)
    recent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fresh = dict(INDICATOR, id="indicator--0b7c3c2e-1d35-4a55-9a0e-54f1f1f0c009")
    fresh.update(created=recent, modified=recent, valid_from=recent)
    amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    marked = dict(MALWARE, object_marking_refs=[amber])
    c = create_collection(a, "shared")
    outcomes = ingest_objects(
        a, [INDICATOR, fresh, marked], source=("file", "t"), collection_pks=[c.pk]
    )
    assert all(o.ok for o in outcomes)
    a.store.create_member("outsider")
    a.store.create_member("beta", identity_id=b.info.id)  # the community member beta
    for m in ("outsider", "beta"):
        grant(a, "shared", m, read=True, write=False)

    def verdict(oid: str, to: str) -> tuple[str, list[str], tuple[str, ...]]:
        (x,) = egress.explain(a, oid, to)
        return str(x.decision.verdict), x.decision.reasons, x.norms

    v, why, norms = verdict(str(fresh["id"]), "beta")
    assert v == "withhold" and "community norm slow-and-green (adopted by genesis)" in why[0]
    assert any("embargo of at least 72 h" in n for n in norms)
    assert verdict(str(INDICATOR["id"]), "beta")[0] == "share"
    assert verdict(str(marked["id"]), "beta")[0] == "share"  # inside the community: no ceiling
    v, why, norms = verdict(str(marked["id"]), "outsider")
    assert v == "withhold" and "above the ceiling TLP:GREEN" in why[0]
    assert any("TLP ceiling TLP:GREEN outside the community" in n for n in norms)
    counts = {p.collection.title: p.counts for p in egress.preview(a, "outsider")}
    assert (counts["shared"].shared, counts["shared"].withheld) == (1, 2)
    community.leave(a)  # the norms no longer bind a node that left
    assert verdict(str(marked["id"]), "outsider")[0] == "share"


def test_a_member_voting_twice_is_shown_as_a_fault_with_its_evidence(three: list[Path]) -> None:
    n0, n1, _ = three
    code, _, err = run(n0, "propose", "repeal-norm", "none-yet")
    assert code == 1 and "there is no norm none-yet to repeal" in err
    pid = _ok(n0, "propose", "adopt-norm", "x", "--rule", '{"redact": ["email"]}').split()[1]
    _carry(n0, n1)
    yes = _ok(n1, "vote", pid, "--yes").split()[1]
    no = _ok(n1, "vote", pid, "--no").split()[1]
    _carry(n1, n0)
    for h in (n0, n1):
        status = _ok(h, "community", "status")
        fault = next(line for line in status.splitlines() if "two votes on one proposal" in line)
        assert yes in fault and no in fault
        assert "yes 0, no 0, abstain 0; needs 2 of 3" in status
