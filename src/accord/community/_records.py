"""Signed community records: proposals, votes and withdrawals.

A record is the canonical JSON ``{"body": BODY, "sig": HEX}``; the signature
covers ``CONTEXT || 0x00 || canonical(BODY)`` with the context of its kind.
Since ``body`` sorts before ``sig``, the body's canonical bytes are a slice of
the record's bytes. A record's id is the SHA-256 of the signed message, so the
same body is the same record whichever valid signature carries it.

Every body has ``community`` (the charter id: a record of another community
never counts here), ``kind``, ``author`` (a member id) and ``created``
(``YYYY-MM-DDTHH:MM:SS.mmmZ``, the signer's clock). Then:

- proposal: ``base`` (the hash of the state it amends) and ``action``;
- vote: ``proposal`` (a proposal's record id) and ``choice`` (yes, no, abstain);
- withdrawal: ``base`` (the member leaves from that state on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.community._canon import (
    TIME_RE,
    canonical,
    digest,
    is_canonical,
    is_digest,
    is_key,
    message,
    public_hex,
    sign,
)
from accord.community._charter import check_member, check_period, check_thresholds
from accord.community._norms import check_norm
from accord.exceptions import RecordRefused

MAX_RECORD_BYTES = 64 * 1024
RECORD_KINDS = ("proposal", "vote", "withdrawal")
CHOICES = ("yes", "no", "abstain")
ACTIONS = {
    "admit": "membership",
    "remove": "membership",
    "rotate-key": "key",
    "adopt-norm": "norm",
    "change-norm": "norm",
    "repeal-norm": "norm",
    "change-thresholds": "thresholds",
}
_SIG_TAIL = re.compile(rb',"sig":"([0-9a-f]{128})"}\Z')
_HEAD = b'{"body":'
_KEYS = {
    "proposal": {"community", "kind", "author", "created", "base", "action"},
    "vote": {"community", "kind", "author", "created", "proposal", "choice"},
    "withdrawal": {"community", "kind", "author", "created", "base"},
}


@dataclass(frozen=True, slots=True)
class Record:
    """A record, read and checked in its form (signature and membership not yet).

    Attributes:
        id: SHA-256 of the signed message.
        kind: proposal, vote or withdrawal.
        author: the signing member's id.
        created: the signer's time.
        body: the parsed body.
        signed: the signed message (context, NUL, canonical body).
        sig: the hex signature.
        data: the record's canonical bytes.
    """

    id: str
    kind: str
    author: str
    created: str
    body: dict[str, Any]
    signed: bytes
    sig: str
    data: bytes

    @property
    def base(self) -> str:
        return str(self.body.get("base", ""))

    @property
    def action(self) -> dict[str, Any]:
        action: dict[str, Any] = self.body["action"]
        return action

    @property
    def decision(self) -> str:
        """The kind of decision a proposal asks (its threshold)."""
        return ACTIONS[self.action["type"]]


def _refuse(what: str, reason: str) -> RecordRefused:
    return RecordRefused(what, reason)


def read_record(data: bytes, community: str) -> Record:
    """A record from its bytes, checked in form (not its signature: see `accord.community.replay`).

    Raises:
        RecordRefused: too large, not canonical, of another community, or malformed.
    """
    if len(data) > MAX_RECORD_BYTES:
        raise _refuse("record", f"{len(data):,} bytes, over the limit of {MAX_RECORD_BYTES:,}")
    tail = _SIG_TAIL.search(data)
    if not data.startswith(_HEAD) or tail is None:
        raise _refuse("record", 'not a canonical {"body": ..., "sig": ...} record')
    body_bytes = data[len(_HEAD) : tail.start()]
    try:
        body = orjson.loads(body_bytes)
    except orjson.JSONDecodeError:
        raise _refuse("record", "its body is not JSON") from None
    if not isinstance(body, dict) or not is_canonical(body_bytes, body):
        raise _refuse("record", "its body is not canonical JSON (RFC 8785)")
    kind = body.get("kind")
    if kind not in RECORD_KINDS:
        raise _refuse("record", f"kind {kind!r}: proposal, vote or withdrawal")
    signed = message(str(kind), body_bytes)
    rid = digest(signed)
    if set(body) != _KEYS[str(kind)]:
        raise _refuse(rid, f"a {kind} has exactly {', '.join(sorted(_KEYS[str(kind)]))}")
    if body["community"] != community:
        raise _refuse(rid, f"belongs to another community ({str(body['community'])[:16]}...)")
    author, created = body["author"], body["created"]
    if not isinstance(author, str) or not author.startswith("identity--"):
        raise _refuse(rid, "author is not a member id")
    if not isinstance(created, str) or not TIME_RE.match(created):
        raise _refuse(rid, "created: YYYY-MM-DDTHH:MM:SS.mmmZ")
    if kind == "vote":
        if not is_digest(body["proposal"]):
            raise _refuse(rid, "proposal: a proposal's record id (64 hex digits)")
        if body["choice"] not in CHOICES:
            raise _refuse(rid, f"choice {body['choice']!r}: yes, no or abstain")
    else:
        if not is_digest(body["base"]):
            raise _refuse(rid, "base: a state hash (64 hex digits)")
    if kind == "proposal":
        check_action(body["action"], rid)
    return Record(rid, str(kind), author, created, body, signed, tail.group(1).decode(), data)


def check_action(action: object, where: str) -> None:
    """A proposal's action, checked in form.

    Raises:
        RecordRefused: naming what is wrong.
    """
    if not isinstance(action, dict) or action.get("type") not in ACTIONS:
        raise _refuse(where, f"action type: one of {', '.join(ACTIONS)}")
    kind = action["type"]
    keys = {
        "admit": {"type", "member"},
        "remove": {"type", "member"},
        "rotate-key": {"type", "member", "key", "proof", "new_proof"},
        "adopt-norm": {"type", "norm"},
        "change-norm": {"type", "norm"},
        "repeal-norm": {"type", "name"},
        "change-thresholds": {"type", "thresholds", "voting_period_hours"},
    }[kind]
    if set(action) != keys:
        raise _refuse(where, f"a {kind} action has exactly {', '.join(sorted(keys))}")
    try:
        if kind == "admit":
            check_member(action["member"], where)
        elif kind in ("remove", "rotate-key"):
            if not isinstance(action["member"], str):
                raise _refuse(where, "member: a member id")
            if kind == "rotate-key" and not (
                is_key(action["key"])
                and isinstance(action["proof"], str)
                and isinstance(action["new_proof"], str)
            ):
                raise _refuse(where, "rotate-key: key (64 hex), proof and new_proof (signatures)")
        elif kind in ("adopt-norm", "change-norm"):
            check_norm(action["norm"], where)
        elif kind == "repeal-norm":
            if not isinstance(action["name"], str):
                raise _refuse(where, "name: the norm to repeal")
        else:
            check_thresholds(action["thresholds"], where)
            check_period(action["voting_period_hours"], where)
    except RecordRefused:
        raise
    except ValueError as exc:  # CommunityError from the checks
        raise _refuse(where, str(exc)) from None


# -- making records ---------------------------------------------------------------------


def make_record(key: Ed25519PrivateKey, body: dict[str, Any]) -> bytes:
    """Sign a body; the record's canonical bytes."""
    body_bytes = canonical(body)
    sig = sign(key, str(body["kind"]), body_bytes)
    return _HEAD + body_bytes + b',"sig":"' + sig.encode() + b'"}'


def proposal(
    key: Ed25519PrivateKey,
    community: str,
    author: str,
    created: str,
    base: str,
    action: dict[str, Any],
) -> bytes:
    """A signed proposal."""
    body: dict[str, Any] = {"community": community, "kind": "proposal", "author": author}
    body.update(created=created, base=base, action=action)
    return make_record(key, body)


def vote(
    key: Ed25519PrivateKey, community: str, author: str, created: str, proposal_id: str, choice: str
) -> bytes:
    """A signed vote."""
    body = {"community": community, "kind": "vote", "author": author, "created": created}
    body.update(proposal=proposal_id, choice=choice)
    return make_record(key, body)


def withdrawal(
    key: Ed25519PrivateKey, community: str, author: str, created: str, base: str
) -> bytes:
    """A signed withdrawal: the author leaves the community."""
    body = {"community": community, "kind": "withdrawal", "author": author, "created": created}
    body["base"] = base
    return make_record(key, body)


def rotation_proof_body(community: str, member: str, new_key: str, base: str) -> bytes:
    """What the old key signs to consent to its replacement (bound to the base state)."""
    return canonical({"base": base, "community": community, "key": new_key, "member": member})


def rotate_action(
    old_key: Ed25519PrivateKey,
    new_key: Ed25519PrivateKey,
    community: str,
    member: str,
    base: str,
) -> dict[str, Any]:
    """A rotate-key action: the old key consents (``proof``), the new key proves possession
    (``new_proof``), both over the same statement bound to the base state."""
    new = public_hex(new_key)
    body = rotation_proof_body(community, member, new, base)
    return {
        "type": "rotate-key",
        "member": member,
        "key": new,
        "proof": sign(old_key, "rotate-key", body),
        "new_proof": sign(new_key, "rotate-key", body),
    }
