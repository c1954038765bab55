"""Community governance: a charter, signed proposals and votes, the state and its norms.

No I/O here: this package is part of Accord's pure core. A community starts
from a genesis charter its founders sign (`accord.community.read_genesis`);
members then sign proposals, votes and withdrawals (RFC 8785 canonical JSON,
Ed25519 under a context string per kind). `replay` computes the community's
state from the charter and any set of records, the same on every node; the
adopted norms make a `Floor` under every sharing agreement. The service layer
(``accord.service.community``) stores, serves and pulls the records.
The rules are specified in docs/community.md.
"""

from __future__ import annotations

from accord.community._canon import canonical, digest, public_hex, verify
from accord.community._charter import (
    DEFAULT_THRESHOLDS,
    KINDS_OF_DECISION,
    Charter,
    Member,
    check_charter,
    check_member,
    complete_genesis,
    genesis_file,
    make_charter,
    read_genesis,
    sign_genesis,
)
from accord.community._norms import (
    RULE_KEYS,
    Floor,
    Norm,
    Source,
    check_rule,
    contradictions,
    embargo_for,
    floor_agreement,
    floor_inbound,
    make_floor,
)
from accord.community._records import (
    ACTIONS,
    CHOICES,
    MAX_RECORD_BYTES,
    Record,
    proposal,
    read_record,
    rotate_action,
    vote,
    withdrawal,
)
from accord.community._state import (
    Fault,
    ProposalView,
    State,
    Tally,
    View,
    expiry,
    genesis_state,
    read_all,
    replay,
    replay_records,
)

__all__ = [
    "ACTIONS",
    "CHOICES",
    "DEFAULT_THRESHOLDS",
    "KINDS_OF_DECISION",
    "MAX_RECORD_BYTES",
    "RULE_KEYS",
    "Charter",
    "Fault",
    "Floor",
    "Member",
    "Norm",
    "ProposalView",
    "Record",
    "Source",
    "State",
    "Tally",
    "View",
    "canonical",
    "check_charter",
    "check_member",
    "check_rule",
    "complete_genesis",
    "contradictions",
    "digest",
    "embargo_for",
    "expiry",
    "floor_agreement",
    "floor_inbound",
    "genesis_file",
    "genesis_state",
    "make_charter",
    "make_floor",
    "proposal",
    "public_hex",
    "read_all",
    "read_genesis",
    "read_record",
    "replay",
    "replay_records",
    "rotate_action",
    "sign_genesis",
    "verify",
    "vote",
    "withdrawal",
]
