"""The egress service: agreement files in force, the log, gates, explain, preview."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
import pytest

from accord.policy import Tlp, Verdict
from accord.service import egress
from accord.service.ingest import ingest_objects
from accord.service.node import Node
from accord.store import Collection, PageQuery
from tests.conftest import NodeFactory
from tests.policy.objects import RESIDENCY_EU, email_addr, indicator, residency_marking


def _put(
    node: Node,
    collection: Collection,
    objs: list[dict[str, object]],
    source: tuple[str, str] = ("test", "fixture"),
) -> None:
    outcomes = ingest_objects(node, list(objs), source=source, collection_pks=[collection.pk])
    assert all(o.ok for o in outcomes), outcomes


def _agree(node: Node, name: str, text: str) -> Path:
    folder = egress.agreements_dir(node)
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def _served(node: Node, member: str, collection: Collection) -> dict[str, bytes]:
    gate = egress.open_gate(node, node.store.member(member), collection)
    page = node.store.collection_page(PageQuery(collection.pk, limit=1000))
    return {i.obj.id: i.obj.data for i in gate.filter(page.items)}


@pytest.fixture
def shared(node: Node) -> Collection:
    c = node.store.create_collection("shared")
    for name in ("cert-b", "cert-c"):
        node.store.create_member(name)
    egress.set_jurisdiction(node, "cert-b", "de")
    _put(
        node,
        c,
        [
            indicator(1, Tlp.CLEAR),
            indicator(2, Tlp.GREEN, description="ask alice@victim.example"),
            indicator(3, Tlp.AMBER),
            indicator(4, Tlp.RED),
            indicator(5, None),
            residency_marking(),
            indicator(6, Tlp.GREEN, object_marking_refs=[RESIDENCY_EU]),
            email_addr("alice@victim.example"),
        ],
    )
    return c


def test_agreements_take_effect_at_once_and_every_change_is_logged(
    node: Node, shared: Collection
) -> None:
    ids = {n: indicator(n)["id"] for n in range(1, 7)}
    # No agreement: the grant alone decides (ACCORD_POLICY_UNCOVERED=share).
    assert len(_served(node, "cert-b", shared)) == 8
    path = _agree(
        node, "b", 'members = ["cert-b"]\ncollections = ["shared"]\ntlp_ceiling = "green"\n'
    )
    served = _served(node, "cert-b", shared)
    assert ids[1] in served and ids[2] in served
    assert ids[3] not in served and ids[4] not in served and ids[5] not in served
    path.write_text(
        'members = ["cert-b"]\ncollections = ["shared"]\ntlp_ceiling = "amber"\n# more\n'
    )
    served = _served(node, "cert-b", shared)
    assert ids[3] in served and ids[5] in served and ids[4] not in served
    path.unlink()
    assert len(_served(node, "cert-b", shared)) == 8
    log = node.store.agreement_log("b")
    assert [e.action for e in log] == ["added", "changed", "removed"]
    assert log[0].recorded < log[1].recorded < log[2].recorded
    assert "green" in log[0].body and "amber" in log[1].body


def test_an_invalid_change_keeps_the_last_valid_version(node: Node, shared: Collection) -> None:
    path = _agree(
        node, "b", 'members = ["cert-b"]\ncollections = ["shared"]\ntlp_ceiling = "green"\n'
    )
    before = _served(node, "cert-b", shared)
    path.write_text('members = ["cert-b"]\ntlp_ceiling = "ultraviolet"\n')
    assert _served(node, "cert-b", shared) == before
    book = egress.load_book(node)
    assert len(book.problems) == 1 and book.problems[0].key == "tlp_ceiling"
    assert [e.action for e in node.store.agreement_log("b")] == ["added", "invalid"]


def test_an_invalid_file_without_a_valid_past_closes_the_node(
    node: Node, shared: Collection
) -> None:
    _agree(node, "broken", 'members = ["cert-c"]\ntlp_ceiling = "ultraviolet"\n')
    assert _served(node, "cert-b", shared) == {}
    good, errors = egress.check_files(node)
    assert good == [] and len(errors) == 1 and "broken.toml" in str(errors[0])


def test_uncovered_members_get_nothing_under_withhold(make_node: NodeFactory) -> None:
    node = make_node()
    node = dataclasses.replace(
        node, settings=dataclasses.replace(node.settings, policy_uncovered="withhold")
    )
    c = node.store.create_collection("shared")
    node.store.create_member("cert-b")
    _put(node, c, [indicator(1, Tlp.CLEAR)])
    assert _served(node, "cert-b", c) == {}
    _agree(node, "b", 'members = ["cert-b"]\ntlp_ceiling = "clear"\n')
    assert list(_served(node, "cert-b", c)) == [indicator(1)["id"]]


def test_redaction_jurisdiction_and_personal_objects(node: Node, shared: Collection) -> None:
    _agree(
        node,
        "all",
        'members = ["*"]\ncollections = ["shared"]\ntlp_ceiling = "amber"\n'
        '[redact]\npersonal = ["email"]\n',
    )
    to_b = _served(node, "cert-b", shared)  # jurisdiction DE: no EU rule, so EU stays home
    to_c = _served(node, "cert-c", shared)
    eu_marked = indicator(6)["id"]
    assert eu_marked not in to_b and eu_marked not in to_c
    _agree(
        node,
        "all",
        'members = ["*"]\ncollections = ["shared"]\ntlp_ceiling = "amber"\n'
        '[redact]\npersonal = ["email"]\n[jurisdiction]\nEU = ["EU", "DE"]\n',
    )
    to_b = _served(node, "cert-b", shared)
    assert eu_marked in to_b and eu_marked not in _served(node, "cert-c", shared)
    assert email_addr("alice@victim.example")["id"] not in to_b
    everything = b"".join(to_b.values())
    assert b"alice@victim.example" not in everything and b"[redacted-email]" in everything
    # The stored object is untouched.
    stored = node.store.collection_page(PageQuery(shared.pk, ids=(indicator(2)["id"],))).items
    assert b"alice@victim.example" in stored[0].obj.data


def test_onward_sharing_of_a_peers_objects(node: Node, shared: Collection) -> None:
    _agree(node, "all", 'members = ["*"]\ncollections = ["shared"]\ntlp_ceiling = "red"\n')
    pulled = [
        indicator(n, level)
        for n, level in ((11, Tlp.CLEAR), (12, Tlp.GREEN), (13, Tlp.AMBER), (14, Tlp.RED))
    ]
    _put(node, shared, pulled, source=("peer", "node-a"))
    served = _served(node, "cert-b", shared)
    assert pulled[0]["id"] in served and pulled[1]["id"] in served
    assert pulled[2]["id"] not in served and pulled[3]["id"] not in served
    _agree(node, "from-a", 'peer = "node-a"\nred_recipients = ["cert-b"]\n')
    assert pulled[3]["id"] in _served(node, "cert-b", shared)
    assert pulled[3]["id"] not in _served(node, "cert-c", shared)
    _agree(node, "from-a", 'peer = "node-a"\nreshare = false\n')
    served = _served(node, "cert-b", shared)
    assert not {p["id"] for p in pulled} & set(served)
    assert indicator(1)["id"] in served  # this node's own objects still go


def test_explain_and_preview(node: Node, shared: Collection) -> None:
    _agree(
        node,
        "b",
        'members = ["cert-b"]\ncollections = ["shared"]\ntlp_ceiling = "green"\n'
        '[redact]\npersonal = ["email"]\n',
    )
    [red] = egress.explain(node, indicator(4)["id"], "cert-b")
    assert red.decision.verdict is Verdict.WITHHOLD and red.agreement == "b"
    assert red.decision.reasons == ["TLP:RED is above the ceiling TLP:GREEN"]
    [redacted] = egress.explain(node, indicator(2)["id"], "cert-b", "shared")
    assert redacted.decision.verdict is Verdict.SHARE_REDACTED
    assert [r.value for r in redacted.decision.removed] == ["alice@victim.example"]
    [p] = egress.preview(node, "cert-b", "shared")
    c = p.counts
    # Shared: 1 (CLEAR), the marking definition; redacted: 2; withheld: 3, 4, 5, 6 (EU), e-mail.
    assert (c.shared, c.redacted, c.withheld) == (2, 1, 5)


def test_a_change_seen_by_two_workers_is_logged_once(node: Node) -> None:
    # Two API workers that both read the log before either wrote give the same events.
    from accord.store import AgreementEvent

    added = AgreementEvent("b", "b.toml", "added", "d1", "members = []", "", 0)
    changed = AgreementEvent("b", "b.toml", "changed", "d2", "members = [1]", "", 0)
    assert node.store.record_agreements([added]) == 1
    assert node.store.record_agreements([added]) == 0
    assert node.store.record_agreements([added, changed]) == 1
    assert node.store.record_agreements([changed, changed]) == 0
    other = AgreementEvent("c", "c.toml", "added", "d1", "members = []", "", 0)
    back = dataclasses.replace(changed, digest="d1")  # b went back to its first text
    assert node.store.record_agreements([other, back]) == 2
    assert [(e.source, e.action, e.digest) for e in node.store.agreement_log()] == [
        ("b.toml", "added", "d1"),
        ("b.toml", "changed", "d2"),
        ("c.toml", "added", "d1"),
        ("b.toml", "changed", "d1"),
    ]


def _sro(kind: str, n: int, **props: object) -> dict[str, object]:
    from accord.policy import TLP2_ID_OF

    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{n:08x}-1111-4111-8111-111111111111",
        "created": "2024-05-01T00:00:00.000Z",
        "modified": "2024-05-01T00:00:00.000Z",
        "object_marking_refs": [TLP2_ID_OF[Tlp.GREEN]],
        **props,
    }


def test_references_to_withheld_objects_never_leave(node: Node, shared: Collection) -> None:
    red, green, other = indicator(4)["id"], indicator(1)["id"], indicator(2)["id"]
    unknown = (
        "malware--6b1f0c2a-3d4e-4f50-8a9b-0c1d2e3f4a5b"  # not held: repeating it hides nothing
    )
    objs = [
        _sro("relationship", 1, relationship_type="related-to", source_ref=green, target_ref=red),
        _sro("relationship", 2, relationship_type="related-to", source_ref=green, target_ref=other),
        _sro(
            "relationship", 3, relationship_type="related-to", source_ref=green, target_ref=unknown
        ),
        _sro("sighting", 4, sighting_of_ref=red),
        _sro("report", 5, name="r", published="2024-05-01T00:00:00Z", object_refs=[green, red]),
        _sro("grouping", 6, context="suspicious-activity", object_refs=[red]),
    ]
    _put(node, shared, objs)
    _agree(node, "b", 'members = ["cert-b"]\ncollections = ["shared"]\ntlp_ceiling = "green"\n')
    served = _served(node, "cert-b", shared)
    ids = [str(o["id"]) for o in objs]
    assert ids[1] in served and ids[2] in served and ids[4] in served
    assert ids[0] not in served and ids[3] not in served and ids[5] not in served
    assert red not in served and all(red.encode() not in data for data in served.values())
    assert orjson.loads(served[ids[4]])["object_refs"] == [green]
    # explain and preview say the same.
    [rel] = egress.explain(node, ids[0], "cert-b", "shared")
    assert rel.decision.verdict is Verdict.WITHHOLD
    assert "target_ref names an object withheld" in rel.decision.reasons[0]
    [report] = egress.explain(node, ids[4], "cert-b", "shared")
    assert report.decision.verdict is Verdict.SHARE_REDACTED
    assert [r.value for r in report.decision.removed] == [red]
    [group] = egress.explain(node, ids[5], "cert-b", "shared")
    assert group.decision.verdict is Verdict.WITHHOLD
    [p] = egress.preview(node, "cert-b", "shared")
    # The fixture's objects: 3 shared (CLEAR, GREEN, the marking), 5 withheld; these six
    # add 2 shared, the report redacted and 3 withheld.
    c = p.counts
    assert (c.shared, c.redacted, c.withheld) == (3 + 2, 0 + 1, 5 + 3)


def test_a_sighting_of_a_peers_amber_indicator_goes_back_to_that_peer_only(
    node: Node, shared: Collection
) -> None:
    theirs = indicator(40, Tlp.AMBER)
    _put(node, shared, [theirs], source=("peer", "cert-b"))
    seen = _sro("sighting", 41, sighting_of_ref=theirs["id"])
    _put(node, shared, [seen])
    text = 'collections = ["shared"]\ntlp_ceiling = "amber"\nmembers = '
    _agree(node, "b", text + '["cert-b"]\n')
    _agree(node, "c", text + '["cert-c"]\n')
    # The indicator itself goes to neither (AMBER: never beyond the receiving member);
    # cert-b gave it, so naming it to cert-b reveals nothing.
    assert theirs["id"] not in _served(node, "cert-b", shared)
    assert seen["id"] in _served(node, "cert-b", shared)
    assert seen["id"] not in _served(node, "cert-c", shared)
