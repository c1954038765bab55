"""Hypothesis strategies for the policy tests: objects with markings and planted
personal data, agreements, recipients and origins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from accord.policy import KINDS, TLP_IDS, Agreement, Context, Inbound, Origin, Recipient, Tlp

NODE_ID = "identity--00000000-0000-4000-8000-000000000001"
MEMBER_IDS = {
    "cert-b": "identity--00000000-0000-4000-8000-0000000000b0",
    "cert-c": "identity--00000000-0000-4000-8000-0000000000c0",
    "cert-d": "identity--00000000-0000-4000-8000-0000000000d0",
}
JURISDICTIONS = ("EU", "DE", "CN", "US")
# Statement markings "residency: XX" the node holds (STIX 2.1 §7.2.1.3).
RESIDENCY = {
    f"marking-definition--{uuid.UUID(int=i + 1, version=4)}": code
    for i, code in enumerate(("EU", "CN", "US"))
}
CONTEXT = Context(NODE_ID, RESIDENCY, frozenset(MEMBER_IDS.values()))
NOW = datetime(2024, 6, 1, tzinfo=UTC)
STIX_TIME = "%Y-%m-%dT%H:%M:%S.000Z"


@dataclass
class Planted:
    """An object and the personal values planted in it, by transform kind."""

    obj: dict[str, Any]
    secrets: dict[str, list[str]] = field(default_factory=dict)


_letters = st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8)
emails = st.builds(lambda a, b: f"zq{a}@mail-{b}.example", _letters, _letters)
phones = st.builds(
    lambda cc, area, num: f"+{cc} {area} {num}",
    st.integers(1, 999),
    st.integers(10, 9999),
    st.integers(100000, 99999999),
)
internal_v4 = st.one_of(
    st.builds(lambda a, b, c: f"10.{a}.{b}.{c}", *[st.integers(0, 255)] * 3),
    st.builds(lambda a, b: f"192.168.{a}.{b}", *[st.integers(0, 255)] * 2),
    st.builds(lambda a, b, c: f"172.{a}.{b}.{c}", st.integers(16, 31), *[st.integers(0, 255)] * 2),
    st.builds(lambda a, b: f"169.254.{a}.{b}", *[st.integers(1, 254)] * 2),
    st.builds(lambda a: f"127.0.0.{a}", st.integers(1, 254)),
)
internal_v6 = st.builds(
    lambda a, b: f"fd{a:02x}:{b:x}::17", st.integers(0, 255), st.integers(1, 65535)
)
users = st.builds(lambda a: f"zu{a}", _letters)


@st.composite
def planted_text(draw: st.DrawFn, secrets: dict[str, list[str]]) -> str:
    """A sentence with some personal values in it, recorded in ``secrets``."""
    parts = ["Seen in the campaign"]
    for kind, strategy, shape in (
        ("email", emails, "mail from {}"),
        ("phone", phones, "call {} now"),
        ("internal-address", st.one_of(internal_v4, internal_v6), "beacon to {} observed"),
    ):
        if draw(st.booleans()):
            value = draw(strategy)
            secrets.setdefault(kind, []).append(value)
            parts.append(shape.format(value))
    if draw(st.booleans()):
        user = draw(users)
        secrets.setdefault("profile-path", []).append(user)
        path = draw(st.sampled_from(["C:\\Users\\{}\\AppData\\x.exe", "/home/{}/.ssh/id"]))
        parts.append("dropped in " + path.format(user))
    return ", ".join(parts) + "."


def _stamp(moment: datetime) -> str:
    return moment.strftime(STIX_TIME)


@st.composite
def markings(draw: st.DrawFn) -> list[str]:
    """object_marking_refs: none, some TLP (1.0 or 2.0), maybe a residency."""
    refs = draw(st.lists(st.sampled_from(sorted(TLP_IDS)), max_size=2, unique=True))
    if draw(st.booleans()):
        refs.append(draw(st.sampled_from(sorted(RESIDENCY))))
    return refs


@st.composite
def sdo(draw: st.DrawFn) -> Planted:
    """An indicator, malware, note or sighting with markings and planted text."""
    secrets: dict[str, list[str]] = {}
    kind = draw(st.sampled_from(["indicator", "malware", "note", "sighting"]))
    created = NOW - timedelta(hours=draw(st.integers(0, 24 * 30)))
    oid = f"{kind}--{uuid.UUID(int=draw(st.integers(1, 2**64)), version=4)}"
    obj: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": oid,
        "created": _stamp(created),
        "modified": _stamp(created),
    }
    text = draw(planted_text(secrets))
    if kind == "indicator":
        obj.update(
            name="indicator",
            description=text,
            pattern="[ipv4-addr:value = '198.51.100.7']",
            pattern_type="stix",
            valid_from=_stamp(created),
        )
    elif kind == "malware":
        obj.update(name="loader", description=text, is_family=True)
    elif kind == "note":
        obj.update(content=text, object_refs=[f"malware--{uuid.UUID(int=7, version=4)}"])
    else:
        obj.update(sighting_of_ref=f"indicator--{uuid.UUID(int=9, version=4)}", description=text)
    refs = draw(markings())
    if refs:
        obj["object_marking_refs"] = refs
    labels = draw(st.lists(st.sampled_from(["apt", "internal", "ics", "tlp-test"]), unique=True))
    if labels:
        obj["labels"] = labels
    if draw(st.booleans()):
        obj["confidence"] = draw(st.integers(0, 100))
    creator = draw(st.sampled_from([None, NODE_ID, *MEMBER_IDS.values()]))
    if creator:
        obj["created_by_ref"] = creator
    if draw(st.booleans()) and "description" in obj:
        level = draw(st.sampled_from(sorted(TLP_IDS)))
        obj["granular_markings"] = [{"marking_ref": level, "selectors": ["description"]}]
    return Planted(obj, secrets)


@st.composite
def sco(draw: st.DrawFn) -> Planted:
    """An e-mail address, user account or IP address (internal or not)."""
    kind = draw(st.sampled_from(["email-addr", "user-account", "ipv4-addr", "ipv6-addr"]))
    oid = f"{kind}--{uuid.UUID(int=draw(st.integers(1, 2**64)), version=4)}"
    obj: dict[str, Any] = {"type": kind, "spec_version": "2.1", "id": oid}
    secrets: dict[str, list[str]] = {}
    if kind == "email-addr":
        obj["value"] = draw(emails)
        secrets["email"] = [obj["value"]]
    elif kind == "user-account":
        obj["account_login"] = draw(users)
        secrets["user-account"] = [obj["account_login"]]
    elif kind == "ipv4-addr":
        obj["value"] = draw(st.one_of(internal_v4, st.just("203.0.113.9")))
        if obj["value"] != "203.0.113.9":
            secrets["internal-address"] = [obj["value"]]
    else:
        obj["value"] = draw(internal_v6)
        secrets["internal-address"] = [obj["value"]]
    return Planted(obj, secrets)


objects = st.one_of(sdo(), sdo(), sco())
levels = st.sampled_from(list(Tlp))


@st.composite
def agreements(draw: st.DrawFn) -> Agreement:
    """An outbound agreement with random rules."""
    types = ["indicator", "malware", "note", "sighting", "email-addr", "user-account", "ipv4-addr"]
    jurisdiction = draw(
        st.dictionaries(
            st.sampled_from(["EU", "CN", "US"]),
            st.frozensets(st.sampled_from(JURISDICTIONS)),
            max_size=2,
        )
    )
    return Agreement(
        name=draw(st.sampled_from(["a1", "a2"])),
        members=frozenset({"*"}),
        collections=frozenset({"*"}),
        ceiling=draw(levels),
        unmarked=draw(levels),
        types_allowed=draw(st.frozensets(st.sampled_from(types))),
        types_excluded=draw(st.frozensets(st.sampled_from(types), max_size=2)),
        labels_required=draw(st.frozensets(st.sampled_from(["apt", "ics"]), max_size=1)),
        labels_excluded=draw(st.frozensets(st.sampled_from(["internal"]), max_size=1)),
        min_confidence=draw(st.none() | st.integers(0, 100)),
        embargo_hours=draw(st.sampled_from([0, 1, 24, 24 * 7])),
        jurisdiction=jurisdiction,
        attribution=draw(st.sampled_from(["node", "anonymous"])),
        redact=draw(st.frozensets(st.sampled_from(KINDS))),
        redact_fields=draw(st.sampled_from([(), ("content",)])),
        share_sightings=draw(st.booleans()),
    )


recipients = st.builds(
    Recipient,
    st.sampled_from([None, *MEMBER_IDS]),
    st.none() | st.sampled_from(JURISDICTIONS),
).map(lambda r: Recipient(r.name, r.jurisdiction, MEMBER_IDS.get(r.name or "")))

origins = st.one_of(
    st.just(Origin()),
    st.builds(
        lambda terms, peer: Origin(peer=peer, terms=terms),
        st.none()
        | st.builds(
            Inbound,
            st.just("from-a"),
            st.just("node-a"),
            st.booleans(),
            st.frozensets(st.sampled_from(list(MEMBER_IDS))),
        ),
        st.just("node-a"),
    ),
    st.builds(lambda m: Origin(member=m), st.sampled_from(list(MEMBER_IDS))),
)


@st.composite
def lenient_agreements(draw: st.DrawFn) -> Agreement:
    """Agreements that let most objects through, so that redaction is what is tested."""
    return Agreement(
        name="open",
        members=frozenset({"*"}),
        collections=frozenset({"*"}),
        ceiling=Tlp.RED,
        unmarked=Tlp.CLEAR,
        jurisdiction={c: frozenset(JURISDICTIONS) for c in ("EU", "CN", "US")},
        attribution=draw(st.sampled_from(["node", "anonymous"])),
        redact=draw(st.frozensets(st.sampled_from(KINDS), min_size=1)),
        redact_fields=draw(st.sampled_from([(), ("content",)])),
        share_sightings=True,
    )
