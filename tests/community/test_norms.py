"""Norms: their rules checked, the floor they make, and that it never loosens an agreement."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.community import (
    Norm,
    check_rule,
    contradictions,
    floor_agreement,
    floor_inbound,
    make_floor,
)
from accord.exceptions import CommunityError
from accord.policy import KINDS, Agreement, Inbound, Origin, Tlp, Verdict, decide
from tests.policy.strategies import CONTEXT, NOW, agreements, objects, origins, recipients


def _agreement(**kw: Any) -> Agreement:
    base: dict[str, Any] = {
        "name": "a",
        "members": frozenset({"*"}),
        "collections": frozenset({"*"}),
        "ceiling": Tlp.RED,
        "source": "agreements/a.toml",
    }
    base.update(kw)
    return Agreement(**base)


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ({}, "at least one"),
        ({"tlp": "red"}, "unknown rule 'tlp'"),
        ({"tlp_ceiling_outside": "red"}, "clear, green or amber"),
        ({"tlp_ceiling_outside": "purple"}, "clear, green or amber"),
        ({"redact": ["phone", "dna"]}, "redact 'dna'"),
        ({"min_embargo_hours": {"indicator": 1.5}}, "whole hours"),
        ({"min_embargo_hours": {"Indicator!": 2}}, "not a STIX type"),
        ({"exclude_types": []}, "empty"),
        ({"jurisdiction": {"eu": ["DE"]}}, "not a code"),
        ({"no_onward_red": False}, "no_onward_red: true"),
    ],
)
def test_a_bad_rule_is_refused_with_its_reason(rule: dict[str, Any], reason: str) -> None:
    with pytest.raises(CommunityError, match=reason):
        check_rule(rule, "norm x")


def test_the_floor_takes_the_strictest_of_every_norm_and_names_it() -> None:
    norms = [
        Norm(
            "a",
            check_rule({"tlp_ceiling_outside": "amber", "exclude_types": ["malware"]}, ""),
            "p1",
        ),
        Norm("b", check_rule({"tlp_ceiling_outside": "green", "redact": ["email"]}, ""), "p2"),
        Norm(
            "c",
            check_rule(
                {"min_embargo_hours": {"indicator": 72}, "jurisdiction": {"EU": ["EU", "DE"]}}, ""
            ),
            "p3",
        ),
        Norm(
            "d",
            check_rule(
                {
                    "min_embargo_hours": {"indicator": 24},
                    "jurisdiction": {"EU": ["EU"]},
                    "no_onward_red": True,
                },
                "",
            ),
            "p4",
        ),
    ]
    floor = make_floor(norms)
    assert floor.ceiling_outside is not None and floor.ceiling_outside[0] == Tlp.GREEN
    assert floor.ceiling_outside[1].norm == "b" and floor.ceiling_outside[1].proposal == "p2"
    assert floor.embargo["indicator"][0] == 72 and floor.embargo["indicator"][1].norm == "c"
    assert floor.jurisdiction["EU"][0] == frozenset({"EU"})
    own = _agreement(ceiling=Tlp.AMBER, redact=frozenset({"phone"}))
    outside, notes = floor_agreement(own, floor, inside=False)
    assert outside.ceiling == Tlp.GREEN and outside.redact == {"phone", "email"}
    assert "malware" in outside.types_excluded
    assert "EU" not in outside.jurisdiction  # absent: only EU already, as strict as the norm
    wide = _agreement(jurisdiction={"EU": frozenset({"EU", "CN"})})
    assert floor_agreement(wide, floor, inside=True)[0].jurisdiction["EU"] == {"EU"}
    assert any("community norm b (adopted by p2)" in n for n in notes)
    inside, _ = floor_agreement(own, floor, inside=True)
    assert inside.ceiling == Tlp.AMBER  # the ceiling norm is for recipients outside
    stricter = _agreement(ceiling=Tlp.CLEAR, types_excluded=frozenset({"malware"}))
    kept, _ = floor_agreement(stricter, floor, inside=False)
    assert kept.ceiling == Tlp.CLEAR  # an agreement may be stricter
    terms = {"peer-a": Inbound("in", "peer-a", True, frozenset({"m1"}))}
    assert floor_inbound(terms, floor)["peer-a"].red_recipients == frozenset()
    lines = contradictions(own, floor)
    assert any("above TLP:GREEN" in line for line in lines)
    assert any("does not redact email" in line for line in lines)
    assert any("embargo 0 h for indicator is below 72 h" in line for line in lines)
    assert any("type malware may go" in line for line in lines)
    assert any("names RED recipients" in line for line in contradictions(terms["peer-a"], floor))
    assert (
        contradictions(
            _agreement(
                ceiling=Tlp.CLEAR,
                types_excluded=frozenset({"malware", "indicator"}),
                redact=frozenset({"email"}),
                jurisdiction={"EU": frozenset({"EU"})},
            ),
            floor,
        )
        == []
    )


_rules = st.fixed_dictionaries(
    {},
    optional={
        "tlp_ceiling_outside": st.sampled_from(["clear", "green", "amber", "amber+strict"]),
        "redact": st.lists(st.sampled_from(list(KINDS)), min_size=1, unique=True),
        "exclude_types": st.lists(
            st.sampled_from(["malware", "note", "email-addr"]), min_size=1, unique=True
        ),
        "jurisdiction": st.dictionaries(
            st.sampled_from(["EU", "CN", "US"]),
            st.lists(st.sampled_from(["EU", "DE", "CN", "US"]), unique=True),
            min_size=1,
            max_size=2,
        ),
        "no_onward_red": st.just(True),
    },
).filter(bool)


@settings(max_examples=300, deadline=None)
@given(
    objects,
    agreements(),
    recipients,
    origins,
    st.lists(_rules, min_size=1, max_size=3),
    st.booleans(),
)
def test_the_floor_never_lets_through_what_the_agreement_withholds(
    planted: Any,
    agreement: Agreement,
    recipient: Any,
    origin: Origin,
    rules: list[Any],
    inside: bool,
) -> None:
    norms = [Norm(f"n{i}", check_rule(r, ""), f"p{i}") for i, r in enumerate(rules)]
    floor = make_floor(norms)
    floored, _ = floor_agreement(agreement, floor, inside)
    terms = origin.terms
    if terms is not None:
        origin = Origin(origin.peer, floor_inbound({"x": terms}, floor)["x"], origin.member)
    before = decide(planted.obj, agreement, recipient, CONTEXT, NOW, Origin(*_plain(origin, terms)))
    after = decide(planted.obj, floored, recipient, CONTEXT, NOW, origin)
    if before.verdict is Verdict.WITHHOLD:
        assert after.verdict is Verdict.WITHHOLD, (before.reasons, after.reasons)
    if after.verdict is Verdict.SHARE:
        assert before.verdict is not Verdict.WITHHOLD


def _plain(origin: Origin, terms: Inbound | None) -> tuple[str | None, Inbound | None, str | None]:
    return origin.peer, terms, origin.member
