"""The STIX 2.1 patterning language (STIX 2.1 §9): parser, evaluator, compiled matcher.

- :func:`parse` reads a pattern into a syntax tree (our own parser, checked
  against the OASIS grammar in tests); :func:`validate` gives the OASIS
  validator's verdict; :func:`warnings_of` the semantic warnings.
- :func:`match` has the signature and the answers of
  ``stix2matcher.matcher.match``, with compiled patterns cached.
- :class:`Matcher` compiles every active indicator into one index and is fed
  :class:`Event` s from log sources, returning :class:`Hit` s.
- :func:`pattern_observables` gives the index keys of a pattern for ingest.

No I/O here: this package is part of Accord's pure core.
"""

from __future__ import annotations

from accord.patterns._ast import Pattern
from accord.patterns._evaluate import CompiledPattern
from accord.patterns._explain import explain
from accord.patterns._index import Event, Hit, Matcher
from accord.patterns._keys import pattern_observables
from accord.patterns._match import compile_cached, match
from accord.patterns._parser import DEFAULT_LIMITS, Limits, parse
from accord.patterns._semantics import validate, warnings_of

__all__ = [
    "DEFAULT_LIMITS",
    "CompiledPattern",
    "Event",
    "Hit",
    "Limits",
    "Matcher",
    "Pattern",
    "compile_cached",
    "explain",
    "match",
    "parse",
    "pattern_observables",
    "validate",
    "warnings_of",
]
