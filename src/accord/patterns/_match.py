"""``match()``: one pattern against observed data, answering as the reference does.

The signature and the return value are those of ``stix2matcher.matcher.match``
(``verbose`` is accepted and ignored). Compiled patterns are kept in an LRU
cache, so evaluating the same pattern again costs only the evaluation.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from accord.exceptions import PatternMatchError
from accord.patterns._evaluate import CompiledPattern
from accord.patterns._observations import Observation, observations_of
from accord.patterns._parser import parse

__all__ = ["compile_cached", "match"]


@lru_cache(maxsize=8192)
def compile_cached(pattern: str) -> CompiledPattern:
    """The compiled form of a pattern, cached (parse errors are not cached).

    Args:
        pattern: the pattern's text.

    Raises:
        PatternSyntaxError: the text is not a STIX 2.1 pattern.
        PatternTooComplex: the pattern is over a complexity limit.
    """
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
    try:
        observations = _prepared(observed_data_sdos, stix_version)
        first_simple = compiled.first_simple
        if first_simple is not None:
            idx = first_simple(observations)
            return [] if idx is None else [observations[idx].sdo]
        simple = compiled.simple
        if simple is not None:
            # One observation expression: the first binding is its first observation
            # (in the order the reference's comparison maps keep) counted at least once.
            for i in simple(observations):
                return [observations[i].sdo]
            return []
        first = compiled.first(observations)
    except PatternMatchError as exc:
        if not exc.pattern:
            raise PatternMatchError(pattern, exc.reason) from exc
        raise
    if first is None:
        return []
    chosen = sorted({i for i, n in first if n == 0})
    return [observations[i].sdo for i in chosen]


# The prepared form of recent inputs, by identity. Preparing (finding each
# observed-data's objects, reading its times) costs more than evaluating a
# compiled pattern, and callers evaluate many patterns against the same
# observations. An entry is used only while the input list, each bundle and each
# bundle's ``objects`` list are the same objects with the same length; values
# inside objects are always read live. Replacing an object's type, id, refs or
# times in place between two calls is not seen: pass a new list then.
_PREPARED: dict[int, tuple[Any, tuple[Any, ...], str, list[Observation]]] = {}
_PREPARED_MAX = 2_048  # inputs
_PREPARED_MAX_OBJECTS = 200_000  # objects in them all: big inputs are not kept long
_held = [0]


def _fingerprint(sdos: list[Any]) -> tuple[Any, ...]:
    out: list[Any] = []
    for sdo in sdos:
        objects = sdo.get("objects") if type(sdo) is dict else None
        out.append((id(sdo), id(objects), len(objects) if objects is not None else -1))
    return tuple(out)


def _prepared(sdos: list[Any], stix_version: str) -> list[Observation]:
    key = id(sdos)
    entry = _PREPARED.get(key)
    fingerprint = _fingerprint(sdos) if type(sdos) is list else None
    if (
        entry is not None
        and entry[0] is sdos
        and entry[1] == fingerprint
        and entry[2] == stix_version
    ):
        return entry[3]
    observations = observations_of(sdos, stix_version)
    if fingerprint is not None:
        size = sum(n for _, _, n in fingerprint if n > 0)
        if len(_PREPARED) >= _PREPARED_MAX or _held[0] + size > _PREPARED_MAX_OBJECTS:
            _PREPARED.clear()
            _held[0] = 0
        _held[0] += size
        # the entry keeps `sdos` alive, so its id cannot be reused while cached
        _PREPARED[key] = (sdos, fingerprint, stix_version, observations)
    return observations
