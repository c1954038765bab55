"""Private lookup (RFC 9497 VOPRF, ristretto255-SHA512): the pure core, no I/O.

A holder evaluates an oblivious pseudorandom function on its indicators'
values and publishes a filter of the outputs; a querier blinds its own
values, has the holder evaluate them blind (with a DLEQ proof that the
announced key was used), unblinds, and tests the filter. The holder learns
how many values were checked; the querier learns which of its own values the
holder holds, and nothing about the others.

- `_canon`: the canonical form of a value per observable kind, and the OPRF input;
- `_oprf`: the protocol's bytes around the ``voprf`` package;
- `_filter`: the Bloom filter of truncated outputs (rbloom, exported hash);
- `_context`: the optional hit context, sealed under a key from the output;
- `_messages`: the offer document and the log announcement;
- `_announce`: the querier's check of the holder's log before it trusts an offer.
"""

from accord.privacy._announce import check_announcements
from accord.privacy._canon import (
    KINDS,
    canonical,
    canonical_pair,
    kind_of_path,
    oprf_input,
    read_value,
)
from accord.privacy._context import ContextTable, build_table, context_keys, seal
from accord.privacy._filter import (
    TAG,
    Filter,
    build_filter,
    digest,
    expected_fpr,
    filter_hash,
    size_class,
    tag,
)
from accord.privacy._messages import ANNOUNCEMENT, SUITE, Offer, announcement, epoch_info
from accord.privacy._oprf import (
    ELEMENT,
    MAX_BATCH,
    OUTPUT,
    PROOF,
    Blinded,
    EpochKey,
    blind,
    check_public_key,
    finalize,
    split_elements,
)

__all__ = [
    "ANNOUNCEMENT",
    "ELEMENT",
    "KINDS",
    "MAX_BATCH",
    "OUTPUT",
    "PROOF",
    "SUITE",
    "TAG",
    "Blinded",
    "ContextTable",
    "EpochKey",
    "Filter",
    "Offer",
    "announcement",
    "blind",
    "build_filter",
    "build_table",
    "canonical",
    "canonical_pair",
    "check_announcements",
    "check_public_key",
    "context_keys",
    "digest",
    "epoch_info",
    "expected_fpr",
    "filter_hash",
    "finalize",
    "kind_of_path",
    "oprf_input",
    "read_value",
    "seal",
    "size_class",
    "split_elements",
    "tag",
]
