"""A small community in memory: deterministic keys, a signed genesis, record makers."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.community import (
    Charter,
    Member,
    View,
    complete_genesis,
    genesis_file,
    make_charter,
    proposal,
    public_hex,
    read_record,
    replay,
    sign_genesis,
    vote,
    withdrawal,
)

T0 = "2026-12-01T00:00:00.000Z"
T1 = "2026-12-01T01:00:00.000Z"


def key(seed: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())


def member_id(i: int) -> str:
    return f"identity--{uuid.UUID(int=i + 1, version=4)}"


class Harness:
    """``n`` founders ``m0 .. m(n-1)``, all in jurisdiction DE unless told."""

    def __init__(
        self,
        n: int,
        thresholds: dict[str, str] | None = None,
        period: int = 168,
        norms: list[dict[str, Any]] | None = None,
        name: str = "test community",
    ) -> None:
        self.keys = [key(f"{name} {i}") for i in range(n)]
        self.ids = [member_id(i) for i in range(n)]
        members = [Member(self.ids[i], public_hex(self.keys[i]), f"m{i}", "DE") for i in range(n)]
        doc = make_charter(name, T0, members, thresholds, period, norms)
        data = genesis_file(doc)
        for i in range(n):
            data, _, _ = sign_genesis(data, "genesis.json", self.ids[i], self.keys[i])
        self.genesis = data
        self.charter: Charter = complete_genesis(data, "genesis.json")

    @property
    def community(self) -> str:
        return self.charter.id

    def view(self, records: list[bytes]) -> View:
        return replay(self.charter, records)

    def base(self, records: list[bytes] | None = None) -> str:
        return self.view(records or []).state.hash

    def propose(
        self,
        i: int,
        action: dict[str, Any],
        base: str | None = None,
        created: str = T1,
        signer: Ed25519PrivateKey | None = None,
    ) -> bytes:
        return proposal(
            signer or self.keys[i],
            self.community,
            self.ids[i],
            created,
            base or self.base(),
            action,
        )

    def vote(
        self,
        i: int,
        proposal_record: bytes,
        choice: str = "yes",
        created: str = T1,
        signer: Ed25519PrivateKey | None = None,
    ) -> bytes:
        pid = read_record(proposal_record, self.community).id
        return vote(signer or self.keys[i], self.community, self.ids[i], created, pid, choice)

    def leave(self, i: int, base: str) -> bytes:
        return withdrawal(self.keys[i], self.community, self.ids[i], T1, base)

    def rid(self, record: bytes) -> str:
        return read_record(record, self.community).id


def norm(name: str = "no-red-onward", **rule: Any) -> dict[str, Any]:
    return {"type": "adopt-norm", "norm": {"name": name, "rule": rule or {"no_onward_red": True}}}
