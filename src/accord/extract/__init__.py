"""Reports to intelligence: IOCs, ATT&CK techniques and a STIX draft from prose.

No I/O here: functions take the document's text (or bytes) and return values.
"""

from __future__ import annotations

from accord.extract._find import find_iocs, sentence_at
from accord.extract._model import IOC_TYPES, Extraction, Finding, Mention, Technique
from accord.extract._refang import Refanged, refang, refang_value

__all__ = [
    "IOC_TYPES",
    "Extraction",
    "Finding",
    "Mention",
    "Refanged",
    "Technique",
    "find_iocs",
    "refang",
    "refang_value",
    "sentence_at",
]
