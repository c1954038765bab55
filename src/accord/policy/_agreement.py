"""Sharing agreements: the TOML a member signs, parsed and checked.

An agreement is one TOML document. An *outbound* agreement (it has ``members``)
says what this node shares with those members; an *inbound* one (it has
``peer``) records what the originator of objects received from that peer
allows this node to do with them (TLP onward rules, named RED recipients,
no re-sharing). Every key is checked: an unknown key, a wrong type or a bad
value is an `AgreementInvalid` naming the file, the key and what is wrong.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from accord.exceptions import AgreementInvalid
from accord.policy._redact import KINDS
from accord.stix import Tlp

ALL = "*"
Attribution = Literal["node", "anonymous"]
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
_JURISDICTION_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]{1,15}\Z")
_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,249}\Z")
# A century of embargo is "never" in practice; beyond some thousand years the
# cutoff (`now` minus the embargo) is no date at all.
MAX_EMBARGO_HOURS = 24 * 365 * 100


@dataclass(frozen=True, slots=True)
class Agreement:
    """What this node shares with some members, and in what form.

    Attributes:
        name: unique among the node's agreements (the file name by default).
        members: member names it covers; ``*`` covers every member.
        collections: collection titles or ids it covers; ``*`` covers all.
        ceiling: the most restricted TLP level that may go to these members.
        unmarked: the TLP level assumed for an object without a TLP marking.
        types_allowed: when not empty, only these object types go.
        types_excluded: these object types never go.
        labels_required: an object must carry all of them.
        labels_excluded: an object carrying any of them stays.
        min_confidence: SDOs and SROs below it (or without one) stay.
        embargo_hours: an object goes only this many hours after its ``created``.
        jurisdiction: residency code -> member jurisdictions that may receive
            objects marked with that residency (absent code: only that same one).
        attribution: ``node`` keeps ``created_by_ref`` (another member's identity
            becomes this node's); ``anonymous`` replaces it with a neutral identity.
        redact: the redaction transforms applied to outgoing copies.
        redact_fields: free-text properties whose text is replaced.
        share_sightings: sightings that other members posted may go.
        min_standing: indicators whose standing (`accord.standing`) is below it
            stay (one nobody spoke of stands at 0).
        source: the file it came from, for messages.
    """

    name: str
    members: frozenset[str]
    collections: frozenset[str]
    ceiling: Tlp
    unmarked: Tlp = Tlp.AMBER
    types_allowed: frozenset[str] = frozenset()
    types_excluded: frozenset[str] = frozenset()
    labels_required: frozenset[str] = frozenset()
    labels_excluded: frozenset[str] = frozenset()
    min_confidence: int | None = None
    embargo_hours: float = 0.0
    jurisdiction: Mapping[str, frozenset[str]] = field(default_factory=dict)
    attribution: Attribution = "node"
    redact: frozenset[str] = frozenset()
    redact_fields: tuple[str, ...] = ()
    share_sightings: bool = False
    min_standing: float | None = None
    source: str = ""

    def covers(self, member: str | None, collection: tuple[str, str]) -> int:
        """How specifically it covers a member and a collection (id, title): 0 when not.

        2: the member by name; 1: through ``*``. Collections by id, title or ``*``.
        Anonymous readers (``None``) are covered only through ``*``.
        """
        if not (self.collections & {ALL, *collection}):
            return 0
        if member is not None and member in self.members:
            return 2
        return 1 if ALL in self.members else 0


@dataclass(frozen=True, slots=True)
class Inbound:
    """What the originator behind a peer allows for the objects received from it.

    Attributes:
        name: unique among the node's agreements.
        peer: the peer (the source name of pulled objects).
        reshare: False: nothing received from that peer ever leaves this node.
        red_recipients: members to whom its TLP:RED objects may go onward.
        source: the file it came from.
    """

    name: str
    peer: str
    reshare: bool = True
    red_recipients: frozenset[str] = frozenset()
    source: str = ""


_OUTBOUND_KEYS = {
    "name",
    "members",
    "collections",
    "tlp_ceiling",
    "unmarked_tlp",
    "min_confidence",
    "embargo_hours",
    "attribution",
    "share_sightings",
    "min_standing",
    "types",
    "labels",
    "jurisdiction",
    "redact",
}
_INBOUND_KEYS = {"name", "peer", "reshare", "red_recipients"}


class _Reader:
    """Typed access to a TOML table with errors that name file and key."""

    def __init__(self, source: str, table: dict[str, Any], prefix: str = "") -> None:
        self.source = source
        self.table = table
        self.prefix = prefix

    def error(self, key: str, reason: str) -> AgreementInvalid:
        return AgreementInvalid(self.source, self.prefix + key, reason)

    def only(self, allowed: set[str]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.error(key, "unknown key; expected one of " + ", ".join(sorted(allowed)))

    def string(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            raise self.error(key, "missing")
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, not {value!r}")
        return value.strip()

    def strings(self, key: str, *, pattern: re.Pattern[str] | None = None) -> frozenset[str]:
        value = self.table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, f"must be a list of non-empty strings, not {value!r}")
        if pattern is not None:
            for v in value:
                if v != ALL and not pattern.match(v):
                    raise self.error(key, f"{v!r} is not a valid value here")
        return frozenset(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {value!r}")
        return value

    def tlp(self, key: str, default: Tlp | None = None) -> Tlp:
        value = self.table.get(key)
        if value is None:
            if default is None:
                raise self.error(key, "missing (clear, green, amber, amber+strict or red)")
            return default
        if not isinstance(value, str):
            raise self.error(key, f"must be a TLP level as a string, not {value!r}")
        try:
            return Tlp.parse(value)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None

    def sub(self, key: str) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, "must be a table")
        return _Reader(self.source, value, f"{self.prefix}{key}.")


def parse_agreement(text: str, source: str, default_name: str) -> Agreement | Inbound:
    """Parse and check one agreement document.

    Args:
        text: the TOML text.
        source: where it came from (a file name), for error messages.
        default_name: its name when the document gives none (the file's stem).

    Raises:
        AgreementInvalid: naming the source, the key and what is wrong.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AgreementInvalid(source, "", f"not valid TOML: {exc}") from None
    r = _Reader(source, doc)
    name = r.string("name", default_name)
    if not _NAME_RE.match(name):
        raise r.error("name", f"{name!r}: letters, digits, '.', '_' and '-' only")
    if ("peer" in doc) == ("members" in doc):
        raise AgreementInvalid(
            source, "", "give either `members` (what this node shares) or `peer` (inbound terms)"
        )
    if "peer" in doc:
        r.only(_INBOUND_KEYS)
        return Inbound(
            name=name,
            peer=r.string("peer"),
            reshare=r.boolean("reshare", True),
            red_recipients=r.strings("red_recipients"),
            source=source,
        )
    r.only(_OUTBOUND_KEYS)
    members = r.strings("members")
    if not members:
        raise r.error("members", 'names no member (use ["*"] for every member)')
    collections = r.strings("collections") or frozenset({ALL})
    min_conf = doc.get("min_confidence")
    if min_conf is not None and (
        not isinstance(min_conf, int) or isinstance(min_conf, bool) or not 0 <= min_conf <= 100
    ):
        raise r.error("min_confidence", f"must be an integer from 0 to 100, not {min_conf!r}")
    embargo = doc.get("embargo_hours", 0)
    if (
        isinstance(embargo, bool)
        or not isinstance(embargo, int | float)
        or not 0 <= embargo <= MAX_EMBARGO_HOURS  # NaN and inf fail here too
    ):
        reason = f"must be a number of hours >= 0 (at most {MAX_EMBARGO_HOURS}), not {embargo!r}"
        raise r.error("embargo_hours", reason)
    min_standing = doc.get("min_standing")
    if min_standing is not None and (
        isinstance(min_standing, bool)
        or not isinstance(min_standing, int | float)
        or not -1 <= min_standing <= 1
    ):
        raise r.error("min_standing", f"must be a number from -1 to 1, not {min_standing!r}")
    attribution = r.string("attribution", "node")
    if attribution not in ("node", "anonymous"):
        raise r.error("attribution", f"{attribution!r}: must be 'node' or 'anonymous'")
    types = r.sub("types")
    types.only({"allow", "exclude"})
    labels = r.sub("labels")
    labels.only({"require", "exclude"})
    jur = r.sub("jurisdiction")
    jurisdiction: dict[str, frozenset[str]] = {}
    for code in jur.table:
        if not _JURISDICTION_RE.match(code):
            raise jur.error(code, "a residency code such as EU, CN or US")
        allowed = jur.strings(code, pattern=_JURISDICTION_RE)
        jurisdiction[code.upper()] = frozenset(a.upper() for a in allowed)
    red = r.sub("redact")
    red.only({"personal", "fields"})
    personal = red.strings("personal")
    if ALL in personal or "all" in personal:
        personal = frozenset(KINDS)
    for kind in personal:
        if kind not in KINDS:
            raise red.error("personal", f"{kind!r}: the transforms are {', '.join(KINDS)} or all")
    fields = red.strings("fields", pattern=re.compile(r"[a-z0-9_]{1,250}\Z"))
    return Agreement(
        name=name,
        members=members,
        collections=collections,
        ceiling=r.tlp("tlp_ceiling"),
        unmarked=r.tlp("unmarked_tlp", Tlp.AMBER),
        types_allowed=types.strings("allow", pattern=_TYPE_RE),
        types_excluded=types.strings("exclude", pattern=_TYPE_RE),
        labels_required=labels.strings("require"),
        labels_excluded=labels.strings("exclude"),
        min_confidence=min_conf,
        embargo_hours=float(embargo),
        jurisdiction=jurisdiction,
        attribution="anonymous" if attribution == "anonymous" else "node",
        redact=personal,
        redact_fields=tuple(sorted(fields)),
        share_sightings=r.boolean("share_sightings", False),
        min_standing=None if min_standing is None else float(min_standing),
        source=source,
    )


def check_book(agreements: list[Agreement | Inbound]) -> None:
    """Check a node's agreements together: unique names, no two naming one member the same way.

    Two agreements that name the same member (not through ``*``) on the same
    collection would leave the decision ambiguous; so would two ``*`` ones on
    the same collection.

    Raises:
        AgreementInvalid: naming the later file and the clash.
    """
    names: dict[str, str] = {}
    for a in agreements:
        if a.name in names:
            reason = f"{a.name!r} is also the name in {names[a.name]}"
            raise AgreementInvalid(a.source, "name", reason)
        names[a.name] = a.source
    peers: dict[str, str] = {}
    seen: dict[tuple[str, str], str] = {}
    for a in agreements:
        if isinstance(a, Inbound):
            if a.peer in peers:
                raise AgreementInvalid(a.source, "peer", f"{a.peer!r} also has {peers[a.peer]}")
            peers[a.peer] = a.source
            continue
        for m in a.members:
            for c in a.collections:
                other = seen.get((m, c))
                if other is not None:
                    raise AgreementInvalid(
                        a.source,
                        "members",
                        f"{m!r} on collection {c!r} is already covered by {other}",
                    )
                seen[(m, c)] = a.source
