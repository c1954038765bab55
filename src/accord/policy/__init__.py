"""Sovereign sharing agreements: the decision for every object that leaves a node.

No I/O here: this package is part of Accord's pure core. It parses agreement
documents (TOML text handed in by the service layer), decides for one object
and one recipient whether the object is shared, shared redacted or withheld
(with every reason; TLP levels as `accord.stix` reads the marking
definitions), and makes the redacted outgoing copy. It also says which stored
rows an agreement withholds for certain (`Withholds`), so that the store can
leave them out of a page. The service layer (``accord.service.egress``) loads
the files, reads the store and applies the decision on every way out.
"""

from __future__ import annotations

from accord.policy._agreement import ALL, Agreement, Inbound, check_book, parse_agreement
from accord.policy._decide import (
    PERSONAL_TYPES,
    Context,
    Decision,
    Origin,
    Recipient,
    Verdict,
    decide,
    neutral_identity,
)
from accord.policy._redact import KINDS, Removal, is_internal_address, redact_object, redact_text
from accord.policy._refs import REFERRING_TYPES, drop_references, referenced
from accord.policy._screen import Screen
from accord.policy._withholds import Withholds, withholds
from accord.stix import TLP1_IDS, TLP2_ID_OF, TLP2_IDS, TLP_IDS, Tlp, tlp_of_refs

__all__ = [
    "ALL",
    "KINDS",
    "PERSONAL_TYPES",
    "REFERRING_TYPES",
    "TLP1_IDS",
    "TLP2_IDS",
    "TLP2_ID_OF",
    "TLP_IDS",
    "Agreement",
    "Context",
    "Decision",
    "Inbound",
    "Origin",
    "Recipient",
    "Removal",
    "Screen",
    "Tlp",
    "Verdict",
    "Withholds",
    "check_book",
    "decide",
    "drop_references",
    "is_internal_address",
    "neutral_identity",
    "parse_agreement",
    "redact_object",
    "redact_text",
    "referenced",
    "tlp_of_refs",
    "withholds",
]
