"""``match()``: one pattern against observed data, answering as the reference does.

The signature and the return value are those of ``stix2matcher.matcher.match``
(``verbose`` is accepted and ignored). Compiled patterns are kept in an LRU
cache, so evaluating the same pattern again costs only the evaluation.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from accord.exceptions import PatternMatchError
from accord.patterns._ast import SimpleObservation
from accord.patterns._evaluate import CompiledPattern
from accord.patterns._observations import observations_of
from accord.patterns._parser import parse

__all__ = ["compile_cached", "match"]


@lru_cache(maxsize=8192)
def compile_cached(pattern: str) -> CompiledPattern:
    """The compiled form of a pattern, cached (parse errors are not cached)."""
    return CompiledPattern(parse(pattern))


def match(
    pattern: str,
    observed_data_sdos: list[dict[str, Any]],
    verbose: bool = False,
    stix_version: str = "2.1",
) -> list[dict[str, Any]]:
    """Match a STIX pattern against observed data (STIX 2.1 §9).

    Args:
        pattern: the STIX pattern.
        observed_data_sdos: STIX 2.1 bundles of observed-data and SCOs, or (2.0
            and the deprecated 2.1 form) observed-data SDOs with ``objects``.
        verbose: accepted for compatibility with stix2-matcher; ignored.
        stix_version: "2.1" (default) or "2.0".

    Returns:
        The SDOs of the first binding found (for 2.1 bundles: one bundle per
        matching observed-data), or ``[]`` when the pattern does not match.

    Raises:
        PatternSyntaxError: not the STIX 2.1 grammar (the reference's ParseException).
        PatternTooComplex: over a complexity limit.
        PatternMatchError: cannot be evaluated on these data (MatcherException).
    """
    del verbose
    compiled = compile_cached(pattern)
    observations = observations_of(observed_data_sdos, stix_version)
    root = compiled.pattern.root
    if type(root) is SimpleObservation and compiled._run is not None:
        # One observation expression: the first binding is the first match.
        for binding in compiled._run(observations):
            return [observations[binding[0][0]].sdo]
        return []
    try:
        first = compiled.first(observations)
    except PatternMatchError as exc:
        if not exc.pattern:
            raise PatternMatchError(pattern, exc.reason) from exc
        raise
    if first is None:
        return []
    chosen = sorted({i for i, n in first if n == 0})
    return [observations[i].sdo for i in chosen]
