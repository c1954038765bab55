"""The standing of an object: the weighed, decayed judgement of distinct members.

Every member counts once. Its voice is its latest opinion (a false-positive
report is an opinion), or, when it has given none, its latest sighting (a
member whose sensors saw the indicator fire agrees with it, `Rules.sighting`).
A withdrawn (revoked) opinion leaves the member's sightings to speak.

The standing is the weighted mean of the voices' values, each weighed by the
member's weight (the node's rules) and halved every ``half_life_days`` of its
age, shrunk toward 0 by ``prior`` (the weight of an imagined neutral voice: one
member alone never moves an indicator to the ends of the scale)::

    standing = sum(w_i * v_i) / (prior + sum(w_i))        in [-1, 1]

It is a pure function of the set of voices: the order they arrive in and
repeats of a voice change nothing (the tie between two voices of one member at
the same time goes to the greater object id, then the greater value, reason, kind).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["opinion", "withdrawn", "sighting"]
_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Voice:
    """What one member said (or saw) of one object, and when.

    Attributes:
        member: the member's STIX identity id (the object's ``created_by_ref``).
        kind: ``opinion``, ``withdrawn`` (a revoked opinion) or ``sighting``.
        value: on [-1, 1] (`OPINION_VALUES`; a sighting's is `Rules.sighting`).
        at: seconds since the epoch (the object's ``modified``).
        reason: the false-positive reason code, for a false-positive report.
        source: the id of the object that carries the voice (ties, listings).
    """

    member: str
    kind: Kind
    value: float
    at: float
    reason: str | None = None
    source: str = ""


def _order(v: Voice) -> tuple[float, str, float, str, str]:
    # Every field: two voices that differ in anything are never a tie (arrival order).
    return (v.at, v.source, v.value, v.reason or "", v.kind)


def newer(a: Voice, b: Voice) -> bool:
    """Whether ``a`` replaces ``b`` as the member's latest voice of that kind."""
    return _order(a) > _order(b)


@dataclass(frozen=True, slots=True)
class Rules:
    """How this node weighs its members.

    Attributes:
        weights: member identity id -> weight (>= 0; 0 ignores the member).
        default_weight: the weight of every member not in ``weights``.
        half_life_days: a voice's weight halves every this many days (0: no decay).
        prior: the weight of the imagined neutral voice (> 0 keeps |standing| < 1).
        sighting: the value of a sighting (a member that saw it fire).
    """

    weights: Mapping[str, float] = field(default_factory=dict)
    default_weight: float = 1.0
    half_life_days: float = 90.0
    prior: float = 1.0
    sighting: float = 0.5

    def __post_init__(self) -> None:
        for name, value in (
            ("default_weight", self.default_weight),
            ("half_life_days", self.half_life_days),
            ("prior", self.prior),
            *((f"weights[{k}]", w) for k, w in self.weights.items()),
        ):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
        if not -1.0 <= self.sighting <= 1.0:
            raise ValueError(f"sighting must be within [-1, 1], not {self.sighting!r}")

    def weight(self, member: str, age_seconds: float) -> float:
        w = self.weights.get(member, self.default_weight)
        if self.half_life_days and age_seconds > 0:
            w *= 0.5 ** (age_seconds / (self.half_life_days * _DAY))
        return w


@dataclass(frozen=True, slots=True)
class Standing:
    """The standing of one object and what it is made of.

    Attributes:
        score: in [-1, 1]; 0 with no voice.
        members: distinct members counted.
        agree / disagree: members whose voice is above / below 0.
        sightings: members counted through a sighting (no opinion of theirs).
        false_positives: members whose voice is a false-positive report.
        reasons: the distinct false-positive reasons, sorted.
    """

    score: float = 0.0
    members: int = 0
    agree: int = 0
    disagree: int = 0
    sightings: int = 0
    false_positives: int = 0
    reasons: tuple[str, ...] = ()


NEUTRAL = Standing()


def latest(voices: Iterable[Voice]) -> dict[str, Voice]:
    """Each member's counted voice: its latest opinion (unless withdrawn), else its sighting."""
    said: dict[str, Voice] = {}
    seen: dict[str, Voice] = {}
    for v in voices:
        book = seen if v.kind == "sighting" else said
        held = book.get(v.member)
        if held is None or newer(v, held):
            book[v.member] = v
    out = {m: v for m, v in said.items() if v.kind == "opinion"}
    for m, v in seen.items():
        out.setdefault(m, v)
    return out


def standing(voices: Iterable[Voice], rules: Rules, now: float) -> Standing:
    """The standing of one object from every voice the node holds about it.

    Args:
        voices: the voices (any order, repeats allowed).
        rules: the node's weights, decay and prior.
        now: the time of the computation, seconds since the epoch.
    """
    counted = latest(voices)
    if not counted:
        return NEUTRAL
    total = weighted = 0.0
    agree = disagree = sightings = fps = 0
    reasons: set[str] = set()
    for member in sorted(counted):  # a fixed order: float sums do not depend on arrival
        v = counted[member]
        w = rules.weight(member, now - v.at)
        total += w
        weighted += w * v.value
        agree += v.value > 0
        disagree += v.value < 0
        sightings += v.kind == "sighting"
        if v.reason is not None and v.value < 0:  # a reason on agreement is no report
            fps += 1
            reasons.add(v.reason)
    denominator = rules.prior + total
    score = weighted / denominator if denominator > 0 else 0.0
    return Standing(
        score=min(1.0, max(-1.0, score)),
        members=len(counted),
        agree=agree,
        disagree=disagree,
        sightings=sightings,
        false_positives=fps,
        reasons=tuple(sorted(reasons)),
    )
