"""The decision for one object and one recipient: share, share redacted, or withhold.

`decide` is a pure function of the object, the agreement, the recipient, what
the node knows of the object's origin and of the markings it refers to, and
the time. It checks every rule, so a withheld object comes with every reason
that holds, not only the first; a shared one comes with what was redacted.
Nothing here reads a file, a clock or a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson

from accord.exceptions import InvalidObject
from accord.policy._agreement import Agreement, Inbound
from accord.policy._redact import Removal, is_internal_address, redact_object
from accord.stix import TLP_IDS, Tlp, parse_timestamp, prepare, tlp_of_refs

# Types that are nothing but personal data: with their transform on, they stay home.
PERSONAL_TYPES = {"email-addr": "email", "user-account": "user-account"}
_ADDRESS_TYPES = ("ipv4-addr", "ipv6-addr")
_NEUTRAL_NS = uuid.UUID("6f1c1b9e-7d0a-4c55-9a39-0c8a4e1d2b7f")


class Verdict(StrEnum):
    """What leaves the node."""

    SHARE = "share"
    SHARE_REDACTED = "share-redacted"
    WITHHOLD = "withhold"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who receives: a member (by name) or an anonymous reader (``name=None``)."""

    name: str | None
    jurisdiction: str | None = None
    identity_id: str | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a stored version came from, as far as the policy cares.

    Attributes:
        peer: the peer it was pulled from (provenance kind ``peer``), if any.
        terms: the inbound agreement this node holds for that peer, if any.
        member: the member that posted it over TAXII, if any.
    """

    peer: str | None = None
    terms: Inbound | None = None
    member: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What the node knows beside the object.

    Attributes:
        node_identity: this node's STIX identity id.
        residency: marking-definition id -> residency code, for the statement
            markings ``residency: XX`` the node holds.
        member_identities: identity ids of the node's members (confidential membership).
    """

    node_identity: str
    residency: Mapping[str, str] = field(default_factory=dict)
    member_identities: frozenset[str] = frozenset()


@dataclass(slots=True)
class Decision:
    """The verdict, every reason for it, and the outgoing copy when it differs.

    Attributes:
        verdict: share, share-redacted or withhold.
        reasons: why: every rule that withholds, or what redaction did.
        removed: each value the transforms took out of the copy.
        copy: the outgoing object when redacted (``None`` otherwise).
        data: the copy's canonical JSON bytes (``None`` unless redacted).
    """

    verdict: Verdict
    reasons: list[str]
    removed: list[Removal] = field(default_factory=list)
    copy: dict[str, Any] | None = None
    data: bytes | None = None


_NO_ORIGIN = Origin()


def neutral_identity(node_identity: str, agreement: str) -> str:
    """The identity anonymous copies are attributed to: one per node and agreement.

    A UUIDv5 of both, so every page and every export under the agreement names
    the same creator, and nothing in it points back at the node.
    """
    return f"identity--{uuid.uuid5(_NEUTRAL_NS, f'{node_identity} {agreement}')}"


# The last cutoff computed: a page asks for the same one a thousand times.
_last_cutoff: list[Any] = []


def _embargo_cutoff(now: datetime, hours: float) -> str:
    """``now - hours`` as ``YYYY-MM-DDTHH:MM:SS``: created at or after it is embargoed."""
    last = _last_cutoff
    if last and last[0] is now and last[1] == hours:
        return str(last[2])
    found = (now - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S")
    _last_cutoff[:] = [now, hours, found]
    return found


def _embargoed(created: str, now: datetime, hours: float) -> str | None:
    """The end of the embargo when ``created`` is inside it, else None.

    STIX 2.1 §3.2 timestamps are RFC 3339 in UTC (``...Z``), so their first 19
    characters compare as text in time order; a creation in the very second of
    the cutoff counts as embargoed (never a second early). Other forms are parsed.
    """
    if len(created) >= 20 and created[10] == "T" and created.endswith("Z"):
        if created[:19] < _embargo_cutoff(now, hours):
            return None
    else:
        try:
            if parse_timestamp(created) + timedelta(hours=hours) <= now:
                return None
        except (ValueError, OverflowError):
            pass  # unreadable, or ending after 9999: embargoed (it cannot be shown over)
    try:
        until = parse_timestamp(created) + timedelta(hours=hours)
    except ValueError:
        return "an unreadable created time"
    except OverflowError:  # a created time within the embargo of the year 9999
        return "after 9999-12-31T23:59:59Z"
    return until.strftime("%Y-%m-%dT%H:%M:%SZ")


def _residencies(obj: dict[str, Any], ctx: Context) -> set[str]:
    refs = obj.get("object_marking_refs")
    if not refs or not ctx.residency:
        return set()
    return {ctx.residency[r] for r in refs if isinstance(r, str) and r in ctx.residency}


def _jurisdiction_ok(codes: set[str], agreement: Agreement, recipient: Recipient) -> list[str]:
    reasons = []
    for code in sorted(codes):
        allowed = agreement.jurisdiction.get(code, frozenset({code}))
        if recipient.jurisdiction is None or recipient.jurisdiction.upper() not in allowed:
            who = recipient.jurisdiction or "no declared jurisdiction"
            reasons.append(
                f"residency {code}: goes only to {', '.join(sorted(allowed))}; "
                f"the recipient has {who}"
            )
    return reasons


def _onward(level: Tlp, origin: Origin, recipient: Recipient) -> list[str]:
    """The originator's TLP for an object received from a peer (FIRST TLP 2.0)."""
    if origin.peer is None:
        return []
    terms = origin.terms
    where = f"received from peer {origin.peer}"
    if terms is not None and not terms.reshare:
        return [f"{where}, whose agreement forbids re-sharing ({terms.name})"]
    if level == Tlp.CLEAR:
        return []
    if level == Tlp.GREEN:
        if recipient.name is None:
            return [f"{where} as {level.label}: within the community, not to anonymous readers"]
        return []
    if level in (Tlp.AMBER, Tlp.AMBER_STRICT):
        return [f"{where} as {level.label}: never beyond the receiving member"]
    named = terms.red_recipients if terms is not None else frozenset()
    if recipient.name is None or recipient.name not in named:
        return [f"{where} as {level.label}: only to recipients the originator named"]
    return []


def _drop_path(obj: Any, parts: list[str]) -> bool:
    """Remove the property a granular-marking selector names; False when it is absent."""
    head, rest = parts[0], parts[1:]
    if isinstance(obj, dict):
        if head not in obj:
            return False
        if not rest:
            del obj[head]
            return True
        return _drop_path(obj[head], rest)
    if isinstance(obj, list) and head.startswith("[") and head.endswith("]"):
        try:
            index = int(head[1:-1])
        except ValueError:
            return False
        if not 0 <= index < len(obj):
            return False
        if not rest:
            obj[index] = None  # positions of other selectors stay; cleaned up after
            return True
        return _drop_path(obj[index], rest)
    return False


def _strip_nones(value: Any) -> Any:
    if isinstance(value, list):
        return [_strip_nones(v) for v in value if v is not None]
    if isinstance(value, dict):
        return {k: _strip_nones(v) for k, v in value.items()}
    return value


def _granular(
    copy: dict[str, Any], agreement: Agreement, recipient: Recipient, ctx: Context
) -> list[Removal]:
    """STIX 2.1 §7.2.3: a property marked above the ceiling (or outside the
    recipient's jurisdiction) leaves the copy; the rest of the object goes."""
    markings = copy.get("granular_markings")
    if not isinstance(markings, list):
        return []
    keep: list[Any] = []
    removed: list[Removal] = []
    for gm in markings:
        ref = gm.get("marking_ref") if isinstance(gm, dict) else None
        level = TLP_IDS.get(ref) if isinstance(ref, str) else None
        code = ctx.residency.get(ref) if isinstance(ref, str) else None
        above = level is not None and level > agreement.ceiling
        outside = code is not None and bool(_jurisdiction_ok({code}, agreement, recipient))
        if not (above or outside):
            keep.append(gm)
            continue
        why = f"marked {level.label}" if above and level is not None else f"residency {code}"
        for selector in gm.get("selectors", []):
            if isinstance(selector, str) and _drop_path(copy, selector.split(".")):
                removed.append(Removal("granular-marking", selector, why))
    if len(keep) != len(markings):
        if keep:
            copy["granular_markings"] = keep
        else:
            del copy["granular_markings"]
    return removed


def _drop_personal_refs(copy: dict[str, Any], kinds: frozenset[str]) -> list[Removal]:
    """References to objects that stay home (e-mail addresses, user accounts) leave the copy."""
    prefixes = tuple(f"{t}--" for t, k in PERSONAL_TYPES.items() if k in kinds)
    if not prefixes:
        return []
    removed: list[Removal] = []
    for key in list(copy):
        value = copy[key]
        if key.endswith("_ref") and isinstance(value, str) and value.startswith(prefixes):
            removed.append(Removal("reference", key, value))
            del copy[key]
        elif key.endswith("_refs") and isinstance(value, list):
            kept = [v for v in value if not (isinstance(v, str) and v.startswith(prefixes))]
            if len(kept) != len(value):
                for v in value:
                    if v not in kept:
                        removed.append(Removal("reference", key, str(v)))
                if kept:
                    copy[key] = kept
                else:
                    del copy[key]
    return removed


def decide(
    obj: dict[str, Any],
    agreement: Agreement,
    recipient: Recipient,
    ctx: Context,
    now: datetime,
    origin: Origin | None = None,
    text: str | None = None,
    every_reason: bool = True,
    standing: float | None = None,
) -> Decision:
    """Decide what of one stored object version goes to one recipient.

    Args:
        obj: the stored object, parsed (not changed).
        agreement: the agreement that covers the recipient and the collection.
        recipient: who would receive it.
        ctx: the node's identity, residency markings and members' identities.
        now: the time of the decision (embargoes).
        origin: where the version came from (onward sharing, members' posts).
        text: the object's JSON text, when the caller has it (the stored bytes):
            lets redaction skip objects none of its patterns can match.
        every_reason: give every rule that withholds (explain); False stops at
            the first one (the verdict and the copy are the same either way).
        standing: the object's standing as the node holds it (None: nobody
            spoke of it, which stands at 0), for the agreement's ``min_standing``.

    Returns:
        The decision; for ``share-redacted`` its ``copy`` is what is sent.
    """
    origin = origin or _NO_ORIGIN
    otype = obj.get("type")
    why: list[str] = []
    meta = otype == "marking-definition"

    # Confidential membership: nothing names another member.
    oid = obj.get("id")
    if otype == "identity" and oid in ctx.member_identities and oid != recipient.identity_id:
        why.append("the identity of another member (membership is confidential)")
    if (
        otype == "sighting"
        and origin.member is not None
        and origin.member != recipient.name
        and not agreement.share_sightings
    ):
        why.append("a sighting another member reported (the agreement does not share them)")
    if agreement.attribution == "anonymous" and otype == "identity" and oid == ctx.node_identity:
        why.append("this node's own identity, under an anonymous agreement")

    # Types.
    if agreement.types_allowed and otype not in agreement.types_allowed:
        why.append(f"type {otype} is not among the types the agreement allows")
    if otype in agreement.types_excluded:
        why.append(f"type {otype} is excluded by the agreement")

    # Standing: members' judgement of an indicator (accord.standing).
    if agreement.min_standing is not None and otype == "indicator":
        score = 0.0 if standing is None else standing
        if score < agreement.min_standing:
            why.append(f"standing {score:+.2f} is below the minimum {agreement.min_standing:+.2f}")

    if why and not every_reason:
        return Decision(Verdict.WITHHOLD, why)

    # TLP ceiling (marking definitions are the markings themselves: no level of their own).
    level = tlp_of_refs(obj.get("object_marking_refs") or ())
    effective = agreement.unmarked if level is None else level
    if not meta and effective > agreement.ceiling:
        shown = effective.label + (" (unmarked)" if level is None else "")
        why.append(f"{shown} is above the ceiling {agreement.ceiling.label}")

    if why and not every_reason:
        return Decision(Verdict.WITHHOLD, why)

    # Labels.
    labels = obj.get("labels") or ()
    if agreement.labels_required:
        missing = sorted(agreement.labels_required.difference(labels))
        if missing:
            why.append(f"lacks the required label(s) {', '.join(missing)}")
    if agreement.labels_excluded:
        bad = sorted(agreement.labels_excluded.intersection(labels))
        if bad:
            why.append(f"carries the excluded label(s) {', '.join(bad)}")

    if why and not every_reason:
        return Decision(Verdict.WITHHOLD, why)

    # Confidence and embargo apply to objects with a `created` (SDOs, SROs), not SCOs.
    created = obj.get("created")
    if agreement.min_confidence is not None and created is not None and not meta:
        confidence = obj.get("confidence")
        if not isinstance(confidence, int) or confidence < agreement.min_confidence:
            shown = "none" if confidence is None else str(confidence)
            why.append(f"confidence {shown} is below the minimum {agreement.min_confidence}")
    if agreement.embargo_hours and isinstance(created, str) and not meta:
        until = _embargoed(created, now, agreement.embargo_hours)
        if until is not None:
            why.append(f"under embargo until {until}")

    if why and not every_reason:
        return Decision(Verdict.WITHHOLD, why)

    # Jurisdiction of a residency statement.
    if ctx.residency:
        codes = _residencies(obj, ctx)
        if codes:
            why.extend(_jurisdiction_ok(codes, agreement, recipient))

    # Onward sharing of what a peer sent: the originator's TLP rules.
    if origin.peer is not None:
        why.extend(_onward(effective, origin, recipient))

    # Objects that are only personal data stay home.
    kinds = agreement.redact
    personal = PERSONAL_TYPES.get(otype) if isinstance(otype, str) else None
    if personal is not None and personal in kinds:
        why.append(f"a {otype} is personal data (redaction {personal})")
    if otype in _ADDRESS_TYPES and "internal-address" in kinds:
        value = obj.get("value")
        if isinstance(value, str) and is_internal_address(value):
            why.append(f"an internal address (redaction internal-address): {otype}")

    if why:
        return Decision(Verdict.WITHHOLD, why)

    # The outgoing copy.
    copy, removed = redact_object(obj, kinds, agreement.redact_fields, text)
    if copy is obj:
        copy = dict(obj) if _needs_copy(obj, agreement, ctx, recipient, text) else obj
    # Named fields may be any property (a pattern, say): their copies are validated.
    text_only = bool(removed) and all(r.kind != "field" for r in removed)
    if copy is not obj:
        structural = _granular(copy, agreement, recipient, ctx)
        if structural:
            copy = _strip_nones(copy)
        if text is None or any(f'"{t}--' in text for t in PERSONAL_TYPES):
            structural += _drop_personal_refs(copy, kinds)
        text_only = text_only and not structural
        removed += structural
        removed += _attribute(copy, agreement, ctx, recipient)
    if not removed:
        return Decision(Verdict.SHARE, [])
    if text_only and "created" in obj:
        # Only free text of an SDO or SRO changed (identifiers, references, timestamps
        # and hashes are never touched): it is as valid as the stored object was.
        data = orjson.dumps(copy, option=orjson.OPT_SORT_KEYS)
    else:
        try:
            data = prepare(copy).data
        except InvalidObject as exc:
            return Decision(
                Verdict.WITHHOLD,
                [f"redaction would leave it invalid STIX ({exc.prop}: {exc.reason})"],
                removed,
            )
    reasons = sorted({f"{r.kind}: {r.path}" for r in removed})
    return Decision(Verdict.SHARE_REDACTED, reasons, removed, copy, data)


def _needs_copy(
    obj: dict[str, Any], agreement: Agreement, ctx: Context, r: Recipient, text: str | None
) -> bool:
    """Whether granular markings, references or attribution might change the object."""
    if "granular_markings" in obj:
        return True
    for t, kind in PERSONAL_TYPES.items():
        # A reference to an object of that type shows as '"TYPE--' in the JSON text.
        if kind in agreement.redact and (text is None or f'"{t}--' in text):
            return True
    creator = obj.get("created_by_ref")
    if creator is None:
        return False
    return agreement.attribution == "anonymous" or (
        creator in ctx.member_identities and creator != r.identity_id
    )


def _attribute(
    copy: dict[str, Any], agreement: Agreement, ctx: Context, recipient: Recipient
) -> list[Removal]:
    creator = copy.get("created_by_ref")
    if not isinstance(creator, str):
        return []
    if agreement.attribution == "anonymous":
        neutral = neutral_identity(ctx.node_identity, agreement.name)
        if creator != neutral:
            copy["created_by_ref"] = neutral
            return [Removal("attribution", "created_by_ref", creator)]
        return []
    if creator in ctx.member_identities and creator != recipient.identity_id:
        copy["created_by_ref"] = ctx.node_identity
        return [Removal("attribution", "created_by_ref", creator)]
    return []
