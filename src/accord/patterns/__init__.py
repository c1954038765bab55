"""The STIX patterning language (STIX 2.1 §9): for now, index keys of a pattern.

No I/O here: this package is part of Accord's pure core.
"""

from __future__ import annotations

from accord.patterns._keys import pattern_observables

__all__ = ["pattern_observables"]
