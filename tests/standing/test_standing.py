"""The standing as a pure function: order, repeats, bounds, one voice per member."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.standing import (
    FP_LABEL,
    FP_PROPERTY,
    NEUTRAL,
    OPINION_VALUES,
    Rules,
    Voice,
    forged,
    fp_reason,
    make_false_positive,
    make_note,
    make_opinion,
    standing,
    voices_of,
)
from accord.stix import prepare

NOW = 1_800_000_000.0
MEMBERS = [f"identity--{i:08d}-0000-4000-8000-000000000000" for i in range(6)]

voice = st.builds(
    Voice,
    member=st.sampled_from(MEMBERS),
    kind=st.sampled_from(["opinion", "withdrawn", "sighting"]),
    value=st.sampled_from(sorted(OPINION_VALUES.values())),
    at=st.floats(NOW - 400 * 86_400, NOW + 86_400),
    reason=st.sampled_from([None, "sinkholed", "expired"]),
    source=st.sampled_from(["opinion--a", "opinion--b", "sighting--c"]),
)
rules = st.builds(
    Rules,
    weights=st.dictionaries(st.sampled_from(MEMBERS), st.floats(0, 10), max_size=6),
    default_weight=st.floats(0, 10),
    half_life_days=st.sampled_from([0.0, 1.0, 90.0]),
    prior=st.floats(0, 5),
)


@given(st.lists(voice, max_size=30), rules, st.randoms())
def test_the_order_of_arrival_changes_nothing(voices: list[Voice], r: Rules, rnd: object) -> None:
    shuffled = list(voices)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert standing(shuffled, r, NOW) == standing(voices, r, NOW)


@given(st.lists(voice, min_size=1, max_size=20), rules, st.integers(2, 50))
def test_repeated_voices_count_once(voices: list[Voice], r: Rules, times: int) -> None:
    flood = voices + [voices[0]] * times
    assert standing(flood, r, NOW) == standing(voices, r, NOW)


@given(st.lists(voice, max_size=40), rules)
def test_it_stays_within_bounds_and_counts_each_member_once(voices: list[Voice], r: Rules) -> None:
    s = standing(voices, r, NOW)
    assert -1.0 <= s.score <= 1.0 and math.isfinite(s.score)
    assert s.members <= len({v.member for v in voices})
    assert s.agree + s.disagree <= s.members
    assert s.false_positives <= s.disagree


@given(st.integers(1, 200))
def test_one_member_flooding_opinions_is_one_voice(n: int) -> None:
    flood = [Voice(MEMBERS[0], "opinion", -1.0, NOW - i, "sinkholed", f"o{i}") for i in range(n)]
    other = Voice(MEMBERS[1], "opinion", 1.0, NOW)
    s = standing([*flood, other], Rules(), NOW)
    assert s.members == 2 and s.false_positives == 1
    assert s.score == pytest.approx(0.0)


def test_the_latest_opinion_of_a_member_counts_and_beats_its_sighting() -> None:
    m = MEMBERS[0]
    old = Voice(m, "opinion", 1.0, NOW - 100)
    new = Voice(m, "opinion", -1.0, NOW - 10, "sinkholed")
    seen = Voice(m, "sighting", 0.5, NOW)
    s = standing([new, old, seen], Rules(half_life_days=0), NOW)
    assert s.members == 1 and s.false_positives == 1 and s.reasons == ("sinkholed",)
    assert s.score == pytest.approx(-0.5)  # -1 / (prior 1 + weight 1)
    # Withdrawing the opinion leaves the sighting to speak.
    gone = Voice(m, "withdrawn", -1.0, NOW - 5)
    s = standing([new, old, seen, gone], Rules(half_life_days=0), NOW)
    assert s.false_positives == 0 and s.sightings == 1
    assert s.score == pytest.approx(0.25)


def test_weights_and_decay() -> None:
    a, b = MEMBERS[:2]
    voices = [Voice(a, "opinion", 1.0, NOW), Voice(b, "opinion", -1.0, NOW - 90 * 86_400)]
    r = Rules(weights={a: 2.0}, half_life_days=90.0, prior=1.0)
    # a weighs 2, b 1 halved by one half-life: (2 - 0.5) / (1 + 2 + 0.5)
    assert standing(voices, r, NOW).score == pytest.approx(1.5 / 3.5)
    assert standing(voices, Rules(weights={a: 0.0, b: 0.0}), NOW).score == 0.0
    assert standing([], Rules(), NOW) == NEUTRAL
    with pytest.raises(ValueError, match="default_weight"):
        Rules(default_weight=-1)


def test_objects_are_valid_stix_and_give_their_voices() -> None:
    author, target = MEMBERS[0], "indicator--3f0e1bb5-0b5e-4f4e-8b27-9a3a4a3c5e11"
    now = "2027-01-15T08:00:00.000Z"
    fp = make_false_positive(author, target, "shared hosting", now)
    assert fp["opinion"] == "strongly-disagree" and fp[FP_PROPERTY] == "shared-hosting"
    assert fp["labels"] == [FP_LABEL]
    for obj in (
        fp,
        make_opinion(author, target, "agree", now, "seen in IR-42"),
        make_note(author, target, "a CDN", now),
    ):
        prepare(obj)  # valid STIX 2.1, or this raises
    [(ref, v)] = voices_of(fp)
    assert ref == target and v.member == author and v.value == -1.0 and v.reason == "shared-hosting"
    assert voices_of(make_note(author, target, "text", now)) == []
    assert voices_of(fp | {"revoked": True})[0][1].kind == "withdrawn"
    # A reason on an agreeing opinion is no false-positive report.
    assert voices_of(fp | {"opinion": "agree"})[0][1].reason is None
    # No author: no voice.
    assert voices_of({k: v for k, v in fp.items() if k != "created_by_ref"}) == []
    sighting = {
        "type": "sighting",
        "id": "sighting--x",
        "modified": now,
        "created_by_ref": author,
        "sighting_of_ref": target,
        "count": 3,
    }
    assert voices_of(sighting)[0][1].kind == "sighting"
    assert voices_of(sighting | {"count": 0}) == []


def test_bad_values_are_refused_with_the_vocabulary() -> None:
    with pytest.raises(ValueError, match="sinkholed"):
        fp_reason("because")
    with pytest.raises(ValueError, match="strongly-agree"):
        make_opinion(MEMBERS[0], "indicator--x", "maybe", "2027-01-01T00:00:00.000Z")
    with pytest.raises(ValueError, match="text"):
        make_note(MEMBERS[0], "indicator--x", "  ", "2027-01-01T00:00:00.000Z")


def test_a_full_tie_but_the_kind_does_not_depend_on_arrival() -> None:
    said = Voice(MEMBERS[0], "opinion", -1.0, NOW, "sinkholed", "opinion--a")
    gone = Voice(MEMBERS[0], "withdrawn", -1.0, NOW, "sinkholed", "opinion--a")
    assert standing([said, gone], Rules(), NOW) == standing([gone, said], Rules(), NOW)


def test_forged_reads_any_json_value_and_checks_opinions_only() -> None:
    op = make_opinion(MEMBERS[0], "indicator--x", "agree", "2027-01-01T00:00:00.000Z")
    assert forged(op, MEMBERS[0], "member b") is None
    why = forged(op, MEMBERS[1], "member b")
    assert why is not None and MEMBERS[0] in why and MEMBERS[1] in why
    assert "not bound" in str(forged(op, None, "peer x"))
    # Untrusted input: a type that is no string, a list, a note (no weight).
    odd: list[object] = [{"type": {}}, {"type": ["opinion"]}, [], "opinion", {"type": "note"}]
    for other in odd:
        assert forged(other, MEMBERS[1], "member b") is None
