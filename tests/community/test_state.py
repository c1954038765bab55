"""The community state: adoption, bad input, equivocation, key rotation, order independence."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.community import (
    canonical,
    complete_genesis,
    genesis_file,
    make_floor,
    public_hex,
    read_genesis,
    rotate_action,
    vote,
)
from accord.exceptions import CommunityError
from tests.community.harness import T1, Harness, key, norm


def test_an_unsigned_or_partly_signed_genesis_is_not_a_community() -> None:
    h = Harness(3)
    charter, sigs = read_genesis(h.genesis, "g")
    assert len(sigs) == 3
    partial = genesis_file(charter.document, {h.ids[0]: sigs[h.ids[0]]})
    with pytest.raises(CommunityError, match="not signed yet by m1, m2"):
        complete_genesis(partial, "g")
    forged = genesis_file(charter.document, {**sigs, h.ids[1]: sigs[h.ids[0]]})
    with pytest.raises(CommunityError, match="does not verify"):
        complete_genesis(forged, "g")


def test_a_charter_threshold_at_or_below_one_half_is_refused() -> None:
    with pytest.raises(CommunityError, match="above 1/2"):
        Harness(
            3, thresholds={"membership": "1/2", "key": "2/3", "norm": "2/3", "thresholds": "3/4"}
        )


def test_a_proposal_is_adopted_when_yes_votes_reach_the_threshold() -> None:
    h = Harness(3)
    p = h.propose(0, norm())
    one = h.view([p, h.vote(0, p)])
    assert one.state.height == 0 and one.proposals[h.rid(p)].status == "open"
    assert one.proposals[h.rid(p)].tally.needed == 2
    two = h.view([p, h.vote(0, p), h.vote(1, p, "yes")])
    assert two.state.height == 1 and two.state.adopted == h.rid(p)
    assert two.state.norm("no-red-onward") is not None
    assert make_floor(list(two.state.norms)).no_onward_red is not None
    assert two.state.hash != one.state.hash
    assert two.state.parent == one.state.hash
    no = h.view([p, h.vote(0, p), h.vote(1, p, "no"), h.vote(2, p, "abstain")])
    assert no.state.height == 0 and no.proposals[h.rid(p)].tally.yes == 1


def _baseline(h: Harness) -> tuple[list[bytes], str]:
    p = h.propose(0, norm())
    records = [p, h.vote(0, p)]
    return records, h.view(records).state.hash


def _fate(h: Harness, records: list[bytes], extra: bytes) -> tuple[str, str]:
    v = h.view([*records, extra])
    where = "refused" if v.refused else "deferred" if v.deferred else "accepted"
    reasons = [*v.refused.values(), *v.deferred.values()]
    return where, reasons[0] if reasons else ""


def test_bad_records_are_refused_or_deferred_and_change_nothing() -> None:
    h = Harness(3)
    records, baseline = _baseline(h)
    p = records[0]
    other = Harness(3, name="other community")
    outsider = key("outsider")
    late = "2027-06-01T00:00:00.000Z"
    forged_sig = bytearray(h.vote(1, p))
    forged_sig[-5] = ord("0") if forged_sig[-5] != ord("0") else ord("1")
    replayed = h.vote(1, p).replace(h.rid(p).encode(), b"0" * 64)
    cases = {
        "mis-signed": (bytes(forged_sig), "refused", "does not verify"),
        "signed by a non-member key": (h.vote(1, p, signer=outsider), "refused", "does not verify"),
        "another community": (
            other.vote(1, other.propose(0, norm())),
            "refused",
            "another community",
        ),
        "replayed onto an unknown proposal": (replayed, "deferred", "waiting for its proposal"),
        "after expiry": (h.vote(1, p, created=late), "refused", "after the proposal expired"),
        "unknown base": (h.propose(1, norm("x"), base="ab" * 32), "deferred", "base state"),
        "ten megabytes": (b'{"body":' + b" " * 10_000_000, "refused", "over the limit"),
        "not JSON": (b"\xff\xfe", "refused", "not a canonical"),
    }
    for name, (data, where, reason) in cases.items():
        got, why = _fate(h, records, data)
        assert got == where, (name, got, why)
        assert re.search(reason, why), (name, why)
        assert h.view([*records, data]).state.hash == baseline, name


def test_a_replayed_vote_of_another_proposal_is_not_counted() -> None:
    h = Harness(3)
    p, q = h.propose(0, norm("a")), h.propose(1, norm("b"))
    v = h.vote(1, p)
    # The same signature over the other proposal's id does not verify.
    body_sig = v.rsplit(b',"sig":', 1)
    moved = body_sig[0].replace(h.rid(p).encode(), h.rid(q).encode()) + b',"sig":' + body_sig[1]
    view = h.view([p, q, h.vote(0, q), moved])
    assert view.state.height == 0
    assert list(view.refused.values()) == ["the signature does not verify with m1's key"]


def test_records_out_of_order_or_twice_give_the_same_state() -> None:
    h = Harness(3)
    p = h.propose(0, norm())
    votes = [h.vote(0, p), h.vote(1, p)]
    early = h.view(votes)  # the votes before their proposal: deferred
    assert early.state.height == 0 and len(early.deferred) == 2
    full = h.view([*votes, p])
    assert full.state.height == 1
    assert h.view([p, p, *votes, *votes]).state.hash == full.state.hash


def test_a_non_member_and_a_removed_member_count_nowhere() -> None:
    h = Harness(4)
    remove = h.propose(0, {"type": "remove", "member": h.ids[3]})
    recs = [remove, *(h.vote(i, remove) for i in range(3))]
    after = h.view(recs)
    assert after.state.member(h.ids[3]) is None and after.state.height == 1
    p = h.propose(0, norm(), base=after.state.hash)
    later = [*recs, p, h.vote(0, p), h.vote(3, p)]
    v = h.view(later)
    assert v.state.height == 1  # m3's vote is not counted: 1 of 3 yes
    assert any("is not a member" in r for r in v.refused.values())
    by_removed = h.propose(3, norm("z"), base=after.state.hash)
    assert "is not a member" in h.view([*recs, by_removed]).refused[h.rid(by_removed)]


def test_equivocation_is_kept_as_evidence_and_neither_vote_counts() -> None:
    h = Harness(3)
    p = h.propose(0, norm())
    twice = [p, h.vote(0, p), h.vote(1, p, "yes"), h.vote(1, p, "no")]
    v = h.view(twice)
    assert v.state.height == 0
    assert [(f.member, f.kind) for f in v.faults] == [(h.ids[1], "two votes on one proposal")]
    assert set(v.faults[0].evidence) == {h.rid(twice[2]), h.rid(twice[3])}
    assert all(h.rid(r) in v.accepted for r in twice)  # kept as evidence
    q = h.propose(2, norm("other"))
    both = [p, q, h.vote(0, p), h.vote(1, p), h.vote(1, q), h.vote(2, q)]
    w = h.view(both)
    assert w.state.height == 0
    assert [(f.member, f.kind) for f in w.faults] == [(h.ids[1], "yes on competing proposals")]


def test_a_key_rotation_needs_the_old_key_and_the_threshold() -> None:
    h = Harness(3)
    new = key("m1 new")
    base = h.base()
    action = rotate_action(h.keys[1], new, h.community, h.ids[1], base)
    p = h.propose(1, action)
    recs = [p, h.vote(0, p), h.vote(1, p)]
    v = h.view(recs)
    assert v.state.member(h.ids[1]) is not None
    assert v.state.member(h.ids[1]).key == public_hex(new)  # type: ignore[union-attr]
    q = h.propose(0, norm(), base=v.state.hash)
    with_old = h.view([*recs, q, h.vote(0, q), h.vote(1, q)])
    assert with_old.state.height == 1  # m1's old key no longer counts
    with_new = h.view([*recs, q, h.vote(0, q), h.vote(1, q, signer=new)])
    assert with_new.state.height == 2
    bad = rotate_action(new, new, h.community, h.ids[1], base)  # not the old key
    forged = h.propose(0, bad)
    assert "old key" in h.view([forged]).refused[h.rid(forged)]
    unproven = dict(action, new_proof=bad["proof"])
    unproven["key"] = public_hex(key("someone else's key"))
    refused = h.propose(0, unproven)
    assert "proof" in h.view([refused]).refused[h.rid(refused)]
    stale = rotate_action(h.keys[1], new, h.community, h.ids[1], "ab" * 32)  # another base
    replayed = h.propose(1, stale)
    assert "old key" in h.view([replayed]).refused[h.rid(replayed)]
    only_proof = h.view([p, h.vote(1, p)])  # the old key alone is not the threshold
    assert only_proof.state.height == 0


def test_a_withdrawn_member_leaves_the_tally_and_the_next_state() -> None:
    h = Harness(3)
    base = h.base()
    p = h.propose(0, norm())
    recs = [h.leave(2, base), p, h.vote(0, p)]
    v = h.view(recs)
    assert v.withdrawn == {h.ids[2]} and v.proposals[h.rid(p)].tally.eligible == 2
    assert v.state.height == 0
    w = h.view([*recs, h.vote(1, p)])
    assert w.state.height == 1 and w.state.member(h.ids[2]) is None


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_the_state_does_not_depend_on_the_order_records_arrive_in(rnd: object) -> None:
    h = _HISTORY
    records = list(_RECORDS)
    rnd.shuffle(records)  # type: ignore[attr-defined]
    assert canonical(h.view(records).document()) == _EXPECTED


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_two_nodes_holding_the_same_records_never_disagree(data: st.DataObject) -> None:
    """Any subset, received in any two orders and with repeats, gives one view, byte for byte."""
    held = data.draw(st.lists(st.sampled_from(_RECORDS), unique=True), label="held")
    first = data.draw(st.permutations(held), label="first order")
    again = data.draw(st.lists(st.sampled_from(held), max_size=5), label="repeats") if held else []
    second = data.draw(st.permutations([*held, *again]), label="second order")
    h = _HISTORY
    assert canonical(h.view(first).document()) == canonical(h.view(second).document())


def _history() -> tuple[Harness, list[bytes]]:
    h = Harness(4)
    p = h.propose(0, norm())
    recs = [p, h.vote(0, p), h.vote(1, p), h.vote(2, p), h.vote(3, p, "no")]
    s1 = h.view(recs).state.hash
    q = h.propose(1, {"type": "remove", "member": h.ids[3]}, base=s1)
    r = h.propose(2, norm("b", exclude_types=["malware"]), base=s1)
    recs += [q, r, h.vote(0, q), h.vote(1, q), h.vote(2, q), h.vote(1, r), h.vote(1, r, "no")]
    recs += [h.vote(3, r), h.leave(3, s1)]
    return h, recs


_HISTORY, _RECORDS = _history()
_EXPECTED = canonical(_HISTORY.view(_RECORDS).document())


def test_the_history_used_for_the_order_property_is_not_trivial() -> None:
    v = _HISTORY.view(_RECORDS)
    assert v.state.height == 2 and v.faults and v.withdrawn == frozenset()


_FRACTIONS = ("2/3", "3/4", "3/5", "1/1")


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_two_competing_proposals_are_never_both_adopted_brute_force(n: int) -> None:
    """Every way ``n`` members can vote on two proposals of one base, for each threshold."""
    # none, yes A, yes B, yes on both (equivocation), no A, yes A and no A (two votes)
    behaviours = ("none", "yA", "yB", "yAB", "nA", "yAnA")
    checked = 0
    for frac in _FRACTIONS:
        h = Harness(n, thresholds={k: frac for k in ("membership", "key", "norm", "thresholds")})
        a, b = h.propose(0, norm("a")), h.propose(n - 1, norm("b"))
        signed = {
            (i, which, c): h.vote(i, rec, c)
            for i in range(n)
            for which, rec in (("A", a), ("B", b))
            for c in ("yes", "no")
        }
        for combo in itertools.product(behaviours, repeat=n):
            recs = [a, b]
            for i, beh in enumerate(combo):
                if "yA" in beh:
                    recs.append(signed[(i, "A", "yes")])
                if "B" in beh:
                    recs.append(signed[(i, "B", "yes")])
                if "nA" in beh:
                    recs.append(signed[(i, "A", "no")])
            v = h.view(recs)
            ta, tb = v.proposals[h.rid(a)].tally, v.proposals[h.rid(b)].tally
            assert not (ta.yes >= ta.needed and tb.yes >= tb.needed), (frac, combo)
            adopted = [p for p in v.proposals.values() if p.status == "adopted"]
            assert len(adopted) <= 1 and v.state.height == len(adopted)
            honest_a = sum(beh == "yA" for beh in combo)
            honest_b = sum(beh == "yB" for beh in combo)
            expect_a = honest_a >= ta.needed
            expect_b = honest_b >= tb.needed
            assert (v.state.height == 1) == (expect_a or expect_b), (frac, combo)
            checked += 1
    assert checked == len(_FRACTIONS) * len(behaviours) ** n


def test_a_vote_signed_by_a_member_under_another_context_is_refused() -> None:
    h = Harness(2)
    p = h.propose(0, norm())
    v = vote(h.keys[1], h.community, h.ids[1], T1, h.rid(p), "yes")
    assert h.view([p, h.vote(0, p), v]).state.height == 1
