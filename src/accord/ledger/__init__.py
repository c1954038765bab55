"""The transparency log's pure core: no I/O.

- `_merkle`: RFC 9162 §2.1 tree hashes, the stored-hash layout, inclusion and
  consistency proofs (make and verify).
- `_note`: C2SP signed notes (Ed25519, ECDSA), verifier keys, tlog-cosignature/v1.
- `_checkpoint`: C2SP tlog-checkpoint.
- `_entry`: typed entries in RFC 8785 canonical JSON, the share entry and the
  recipient commitment.
- `_tiles`: the C2SP tlog-tiles paths and bundles.
"""

from accord.ledger._checkpoint import Checkpoint, parse_checkpoint
from accord.ledger._entry import (
    CHANNELS,
    SHARE,
    Entry,
    commitment,
    parse_entry,
    share_entry,
)
from accord.ledger._merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    Appender,
    HashReader,
    ListReader,
    consistency_proof,
    hashes_to_store,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    root_of,
    split_stored_index,
    stored_count,
    stored_index,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from accord.ledger._note import (
    COSIGNATURE_V1,
    ED25519,
    Note,
    Signature,
    Signer,
    Verifier,
    cosign,
    cosignatures,
    open_note,
    parse_note,
    parse_vkey,
    sign_note,
    verify_cosignature,
)
from accord.ledger._tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    bundle,
    parse_tile_path,
    read_bundle,
    tile_hash_indexes,
    tile_path,
    tile_width,
)

__all__ = [
    "CHANNELS",
    "COSIGNATURE_V1",
    "ED25519",
    "EMPTY_ROOT",
    "HASH_SIZE",
    "SHARE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Appender",
    "Checkpoint",
    "Entry",
    "HashReader",
    "ListReader",
    "Note",
    "Signature",
    "Signer",
    "Verifier",
    "bundle",
    "commitment",
    "consistency_proof",
    "cosign",
    "cosignatures",
    "hashes_to_store",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "open_note",
    "parse_checkpoint",
    "parse_entry",
    "parse_note",
    "parse_tile_path",
    "parse_vkey",
    "read_bundle",
    "root_from_inclusion",
    "root_of",
    "share_entry",
    "sign_note",
    "split_stored_index",
    "stored_count",
    "stored_index",
    "tile_hash_indexes",
    "tile_path",
    "tile_width",
    "tree_hash",
    "verify_consistency",
    "verify_cosignature",
    "verify_inclusion",
]
