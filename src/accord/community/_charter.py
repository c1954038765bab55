"""The genesis charter: a community's name, founders, thresholds, voting period and norms.

The charter is a JSON object; the community's id is the SHA-256 of its
canonical bytes. The genesis file holds the charter and one signature per
founder (context ``accord/community/v1/genesis``); it is complete, and the
community exists, when every founder listed has signed it. Founders sign in
turn: each adds its own signature to the same file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.community._canon import (
    TIME_RE,
    canonical,
    digest,
    is_key,
    parse_fraction,
    public_hex,
    sign,
    verify,
)
from accord.community._norms import Norm, check_norm
from accord.exceptions import CommunityError

# Kinds of decision, each with its own threshold.
KINDS_OF_DECISION = ("membership", "key", "norm", "thresholds")
DEFAULT_THRESHOLDS = {"membership": "2/3", "key": "2/3", "norm": "2/3", "thresholds": "3/4"}
_ID_RE = re.compile(r"identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}\Z")
_CODE_RE = re.compile(r"[A-Z][A-Z0-9-]{1,15}\Z")
MAX_PERIOD_HOURS = 24 * 366


@dataclass(frozen=True, slots=True, order=True)
class Member:
    """A member: its node identity id, Ed25519 public key (hex), name and jurisdiction."""

    id: str
    key: str
    name: str
    jurisdiction: str

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "jurisdiction": self.jurisdiction,
            "key": self.key,
            "name": self.name,
        }


def check_member(value: object, where: str) -> Member:
    """A member entry, checked.

    Raises:
        CommunityError: naming ``where`` and what is wrong.
    """
    if not isinstance(value, dict) or set(value) != {"id", "key", "name", "jurisdiction"}:
        raise CommunityError(where, "a member is {id, key, name, jurisdiction}")
    mid, key, name, code = value["id"], value["key"], value["name"], value["jurisdiction"]
    if not isinstance(mid, str) or not _ID_RE.match(mid):
        raise CommunityError(where, f"member id {mid!r} is not a node identity id")
    if not is_key(key):
        raise CommunityError(where, f"{mid}: key must be 64 hex digits (a raw Ed25519 key)")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise CommunityError(where, f"{mid}: name {name!r} is not a valid member name")
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise CommunityError(where, f"{mid}: jurisdiction {code!r} is not a code such as DE")
    return Member(mid, key, name, code)


def check_thresholds(value: object, where: str) -> dict[str, Fraction]:
    """One threshold per kind of decision, each above one half.

    Raises:
        CommunityError: a kind missing, unknown, or a bad fraction.
    """
    if not isinstance(value, dict) or set(value) != set(KINDS_OF_DECISION):
        raise CommunityError(where, f"thresholds: exactly {', '.join(KINDS_OF_DECISION)}")
    out: dict[str, Fraction] = {}
    for kind in KINDS_OF_DECISION:
        try:
            out[kind] = parse_fraction(value[kind])
        except ValueError as exc:
            raise CommunityError(where, f"thresholds.{kind}: {exc}") from None
    return out


def check_period(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PERIOD_HOURS:
        raise CommunityError(where, f"voting_period_hours: 1 to {MAX_PERIOD_HOURS}, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Charter:
    """A checked charter and its id (the SHA-256 of its canonical bytes)."""

    id: str
    name: str
    created: str
    members: tuple[Member, ...]
    thresholds: dict[str, Fraction]
    voting_period_hours: int
    norms: tuple[Norm, ...]
    document: dict[str, Any]


def make_charter(
    name: str,
    created: str,
    members: list[Member],
    thresholds: dict[str, str] | None = None,
    voting_period_hours: int = 168,
    norms: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A charter document (checked by `check_charter`).

    Raises:
        CommunityError: a value is not acceptable.
    """
    doc = {
        "accord_community": 1,
        "created": created,
        "members": [m.as_json() for m in sorted(members)],
        "name": name,
        "norms": norms or [],
        "thresholds": dict(thresholds or DEFAULT_THRESHOLDS),
        "voting_period_hours": voting_period_hours,
    }
    check_charter(doc)
    return doc


def check_charter(doc: object) -> Charter:
    """A charter document, checked.

    Raises:
        CommunityError: naming the field and what is wrong.
    """
    where = "charter"
    keys = {"accord_community", "created", "members", "name", "norms", "thresholds"}
    keys.add("voting_period_hours")
    if not isinstance(doc, dict) or set(doc) != keys:
        raise CommunityError(where, f"a charter has exactly the keys {', '.join(sorted(keys))}")
    if doc["accord_community"] != 1:
        raise CommunityError(where, "accord_community: this Accord reads version 1")
    name = doc["name"]
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise CommunityError(where, f"name {name!r} is not a valid community name")
    created = doc["created"]
    if not isinstance(created, str) or not TIME_RE.match(created):
        raise CommunityError(where, "created: YYYY-MM-DDTHH:MM:SS.mmmZ")
    raw = doc["members"]
    if not isinstance(raw, list) or not raw:
        raise CommunityError(where, "members: at least one founder")
    members = tuple(check_member(m, f"{where}: members[{i}]") for i, m in enumerate(raw))
    if list(members) != sorted(set(members)) or len({m.id for m in members}) != len(members):
        raise CommunityError(where, "members: sorted by id, each once")
    if len({m.key for m in members}) != len(members) or len({m.name for m in members}) != len(
        members
    ):
        raise CommunityError(where, "members: two members share a key or a name")
    thresholds = check_thresholds(doc["thresholds"], where)
    period = check_period(doc["voting_period_hours"], where)
    if not isinstance(doc["norms"], list):
        raise CommunityError(where, "norms: a list")
    norms: list[Norm] = []
    for i, raw_norm in enumerate(doc["norms"]):
        nname, rule = check_norm(raw_norm, f"{where}: norms[{i}]")
        norms.append(Norm(nname, rule, "genesis"))
    if len({n.name for n in norms}) != len(norms):
        raise CommunityError(where, "norms: two norms share a name")
    return Charter(
        digest(canonical(doc)),
        name,
        created,
        members,
        thresholds,
        period,
        tuple(sorted(norms, key=lambda n: n.name)),
        doc,
    )


# -- the genesis file ------------------------------------------------------------------


def genesis_file(charter: dict[str, Any], signatures: dict[str, str] | None = None) -> bytes:
    """The genesis file's bytes: the charter and the founders' signatures so far."""
    return orjson.dumps(
        {"charter": charter, "signatures": dict(sorted((signatures or {}).items()))},
        option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS,
    )


def read_genesis(data: bytes, source: str) -> tuple[Charter, dict[str, str]]:
    """The charter and the signatures of a genesis file (each signature checked).

    Raises:
        CommunityError: not a genesis file, or a signature that does not verify.
    """
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CommunityError(source, f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"charter", "signatures"}:
        raise CommunityError(source, 'a genesis file is {"charter": ..., "signatures": ...}')
    try:
        charter = check_charter(doc["charter"])
    except CommunityError as exc:
        raise CommunityError(source, f"{exc.what}: {exc.reason}") from None
    sigs = doc["signatures"]
    if not isinstance(sigs, dict):
        raise CommunityError(source, "signatures: member id -> hex signature")
    body = canonical(charter.document)
    keys = {m.id: m.key for m in charter.members}
    for mid, sig in sigs.items():
        if mid not in keys:
            raise CommunityError(source, f"signature by {mid}, who is not a founder")
        if not isinstance(sig, str) or not verify(keys[mid], "genesis", body, sig):
            raise CommunityError(source, f"the signature of {mid} does not verify")
    return charter, dict(sigs)


def sign_genesis(
    data: bytes, source: str, member_id: str, key: Ed25519PrivateKey
) -> tuple[bytes, Charter, dict[str, str]]:
    """Add one founder's signature to a genesis file.

    Raises:
        CommunityError: not a founder, or the key is not the founder's key.
    """
    charter, sigs = read_genesis(data, source)
    me = next((m for m in charter.members if m.id == member_id), None)
    if me is None:
        raise CommunityError(source, f"{member_id} is not among the founders")
    if me.key != public_hex(key):
        raise CommunityError(source, f"this node's key is not the key listed for {member_id}")
    sigs[member_id] = sign(key, "genesis", canonical(charter.document))
    return genesis_file(charter.document, sigs), charter, sigs


def complete_genesis(data: bytes, source: str) -> Charter:
    """The charter of a genesis file every founder has signed.

    Raises:
        CommunityError: a signature missing or wrong.
    """
    charter, sigs = read_genesis(data, source)
    missing = sorted(m.name for m in charter.members if m.id not in sigs)
    if missing:
        raise CommunityError(source, f"not signed yet by {', '.join(missing)}")
    return charter
