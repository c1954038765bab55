"""The STIX 2.1 envelope: identifiers, timestamps, versions, validation, lifting 2.0.

No I/O here: this package is part of Accord's pure core (it imports nothing from
``store``, ``service`` or the edges).

:func:`prepare` is the door every object comes in by: it validates one parsed
object against STIX 2.1 (every SDO, SRO, SCO and meta object type, custom
objects and custom properties), lifts STIX 2.0 to 2.1, and returns a
:class:`Record`: id, type, version key, canonical JSON bytes, the
observable values for the value index, and the object's TLP level and
``created`` time (the TLP 1.0 and 2.0 marking definitions are here too).

Lifting STIX 2.0 to 2.1 (each change is listed in ``Record.notes``):

====================================  ==============================================
2.0                                   2.1
====================================  ==============================================
no ``spec_version``                   ``spec_version: "2.1"``
indicator ``labels``                  ``indicator_types`` (``labels`` removed)
indicator without ``pattern_type``    ``pattern_type: "stix"``
malware ``labels``                    ``malware_types``
malware without ``is_family``         ``is_family: true``
threat-actor ``labels``               ``threat_actor_types``
tool ``labels``                       ``tool_types``
report ``labels``                     ``report_types``
identity ``identity_class`` list      its first element
``created``/``modified`` without ms   fraction padded to ``.000``
====================================  ==============================================

See ``README.md`` beside this file for the decisions behind validation.
"""

from __future__ import annotations

from accord.stix._ids import is_identifier, is_type_name
from accord.stix._normalize import normalize_query
from accord.stix._record import Record, prepare
from accord.stix._timestamps import parse_timestamp, version_key
from accord.stix._tlp import TLP1_IDS, TLP2_ID_OF, TLP2_IDS, TLP_IDS, Tlp, tlp_of_refs
from accord.stix._types import STIX_TYPES

__all__ = [
    "STIX_TYPES",
    "TLP1_IDS",
    "TLP2_IDS",
    "TLP2_ID_OF",
    "TLP_IDS",
    "Record",
    "Tlp",
    "is_identifier",
    "is_type_name",
    "normalize_query",
    "parse_timestamp",
    "prepare",
    "tlp_of_refs",
    "version_key",
]
