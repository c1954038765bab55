"""Members' judgement of intelligence: opinions, false-positive reports, sightings, standing.

No I/O here: this package is part of Accord's pure core. It reads STIX 2.1
``opinion`` and ``sighting`` objects (parsed dicts handed in by the store and
the service layer) as the *voices* of members about the objects they refer to,
and computes the *standing* of an object from them: a number in [-1, 1], a
pure function of the voices, the node's rules (member weights, decay with age)
and the time. It also makes the ``note`` and ``opinion`` objects a member
speaks with, including the false-positive report (``strongly-disagree`` with a
reason from `FP_REASONS`, carried in the custom property `FP_PROPERTY` and the
label ``false-positive``).
"""

from __future__ import annotations

from accord.standing._objects import make_false_positive, make_note, make_opinion
from accord.standing._standing import (
    NEUTRAL,
    Rules,
    Standing,
    Voice,
    latest,
    newer,
    standing,
)
from accord.standing._vocab import (
    FP_LABEL,
    FP_PROPERTY,
    FP_REASONS,
    OPINION_VALUES,
    SPOKEN_TYPES,
    forged,
    fp_reason,
    voices_of,
)

__all__ = [
    "FP_LABEL",
    "FP_PROPERTY",
    "FP_REASONS",
    "NEUTRAL",
    "OPINION_VALUES",
    "SPOKEN_TYPES",
    "Rules",
    "Standing",
    "Voice",
    "forged",
    "fp_reason",
    "latest",
    "make_false_positive",
    "make_note",
    "make_opinion",
    "newer",
    "standing",
    "voices_of",
]
