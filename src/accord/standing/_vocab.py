"""What the STIX objects of members' judgement say, as voices about the objects they name.

STIX 2.1 §4.14 (opinion): ``opinion`` is one of five values on an agreement
scale, ``object_refs`` the objects it is about, ``explanation`` free text. A
false-positive report is an opinion ``strongly-disagree`` that carries the
label ``false-positive`` and the custom property ``x_accord_false_positive``
(STIX 2.1 §11.1: custom properties start with ``x_``) whose value is one of
`FP_REASONS`. Other tools see a strongly-disagreeing opinion with a label;
Accord reads the reason.

STIX 2.1 §5.6 (sighting): a sighting by a member (its ``created_by_ref``) of
an indicator (``sighting_of_ref``) with a ``count`` above zero is that
member's evidence that the indicator fires.
"""

from __future__ import annotations

from typing import Any

from accord.standing._standing import Voice
from accord.stix import parse_timestamp

# STIX 2.1 §10.7 (opinion-enum) on [-1, 1].
OPINION_VALUES: dict[str, float] = {
    "strongly-disagree": -1.0,
    "disagree": -0.5,
    "neutral": 0.0,
    "agree": 0.5,
    "strongly-agree": 1.0,
}

# Why an indicator is a false positive (the custom property's vocabulary).
FP_REASONS: dict[str, str] = {
    "benign-infrastructure": "benign infrastructure (a CDN, a resolver, a cloud service)",
    "sinkholed": "sinkholed: the name or address now points to a sinkhole",
    "expired": "expired: no longer malicious",
    "shared-hosting": "shared hosting: many unrelated sites behind one address",
    "test-value": "a test value (documentation ranges, example domains)",
}
FP_PROPERTY = "x_accord_false_positive"
FP_LABEL = "false-positive"


def fp_reason(text: str) -> str:
    """The reason code for ``text`` (a code, or its words with spaces or underscores).

    Raises:
        ValueError: not one of `FP_REASONS`.
    """
    code = text.strip().lower().replace("_", "-").replace(" ", "-")
    if code not in FP_REASONS:
        raise ValueError(f"reason {text!r}: use one of {', '.join(FP_REASONS)}")
    return code


def _epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value).timestamp()
    except ValueError:
        return None


def voices_of(obj: dict[str, Any], sighting_value: float = 0.5) -> list[tuple[str, Voice]]:
    """The voices an opinion or sighting gives, as (object id, voice) pairs.

    An object without a ``created_by_ref`` has no author and gives none; so do
    other types, sightings with a count of 0, and objects without a time. A
    revoked opinion withdraws its author's opinion (a voice of kind
    ``withdrawn``).
    """
    author = obj.get("created_by_ref")
    if not isinstance(author, str):
        return []
    otype = obj.get("type")
    at = _epoch(obj.get("modified", obj.get("created")))
    oid = obj.get("id")
    if at is None or not isinstance(oid, str):
        return []
    if otype == "opinion":
        value = OPINION_VALUES.get(str(obj.get("opinion")))
        refs = obj.get("object_refs")
        if value is None or not isinstance(refs, list):
            return []
        reason = obj.get(FP_PROPERTY)
        if not (isinstance(reason, str) and reason in FP_REASONS and value < 0):
            reason = None
        withdrawn = obj.get("revoked") is True
        voice = Voice(author, "withdrawn" if withdrawn else "opinion", value, at, reason, oid)
        return [(ref, voice) for ref in dict.fromkeys(refs) if isinstance(ref, str)]
    if otype == "sighting":
        ref = obj.get("sighting_of_ref")
        count = obj.get("count", 1)
        if not isinstance(ref, str) or obj.get("revoked") is True:
            return []
        if isinstance(count, int) and count <= 0:
            return []
        return [(ref, Voice(author, "sighting", sighting_value, at, None, oid))]
    return []


# The types whose author is a member speaking with weight: they must come from that
# member. Notes carry no weight in a standing and travel as any object does (feeds
# carry notes by many authors).
SPOKEN_TYPES = frozenset({"opinion"})


def forged(obj: object, sender: str | None, who: str) -> str | None:
    """Why an opinion received from ``who`` is refused, or None when it is not.

    A member speaks for itself only: the ``created_by_ref`` of an opinion must
    be the identity of the member or peer it came from (``sender``).
    A relayed opinion is refused: first-hand only, so that nobody can vote in
    another's name. (An Accord node relays what its members told it under its
    own identity, `accord.policy`'s attribution, so such a relay arrives as the
    relaying node's own voice.)
    """
    if not isinstance(obj, dict):
        return None
    otype = obj.get("type")
    if not isinstance(otype, str) or otype not in SPOKEN_TYPES:  # untrusted: any JSON value
        return None
    author = obj.get("created_by_ref")
    if sender is None:
        return (
            f"the {obj.get('type')} came from {who}, whose STIX identity is not bound here "
            "(bind it: accord peer identity / accord member add --identity-id)"
        )
    if author != sender:
        return (
            f"created_by_ref {author!r} is not {who}'s identity {sender}: "
            "an opinion must come from its author"
        )
    return None
