"""The transparency log's use cases, as the edges (CLI, TAXII, web) call them.

- `accord.service.ledger`: appending, logging shares, checkpoints, proofs, tiles.
- `_ledger_witness`: the tlog-witness checks, and cosignatures handed back to us.
- `_ledger_peer`: a peer's log after each pull: witnessing, receipts, a full check.
- `_ledger_audit`: rebuilding our own log; the auditor's view of every share.
"""

from __future__ import annotations

from accord.service._ledger_audit import (
    AuditedShare,
    LogStatus,
    ShownEntry,
    Verified,
    audit,
    entry,
    evidence,
    receipts,
    status,
    verify_own,
)
from accord.service._ledger_peer import (
    LogClient,
    LogReport,
    look_at_peer,
    peer_log_state,
    signed_checkpoint,
    verify_peer,
    verify_peer_log,
)
from accord.service._ledger_witness import accept_cosignature, add_checkpoint, pin
from accord.service.ledger import (
    Published,
    append,
    cosigner_verifier,
    current,
    is_auditor,
    log_verifier,
    origin,
    prove_consistency,
    prove_inclusion,
    publish,
    set_auditor,
    share,
    tile,
)

__all__ = [
    "AuditedShare",
    "LogClient",
    "LogReport",
    "LogStatus",
    "Published",
    "ShownEntry",
    "Verified",
    "accept_cosignature",
    "add_checkpoint",
    "append",
    "audit",
    "cosigner_verifier",
    "current",
    "entry",
    "evidence",
    "is_auditor",
    "log_verifier",
    "look_at_peer",
    "origin",
    "peer_log_state",
    "pin",
    "prove_consistency",
    "prove_inclusion",
    "publish",
    "receipts",
    "set_auditor",
    "share",
    "signed_checkpoint",
    "status",
    "tile",
    "verify_own",
    "verify_peer",
    "verify_peer_log",
]
