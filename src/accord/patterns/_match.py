"""``match()``: one pattern against observed data, answering as the reference does.

The signature and the return value are those of ``stix2matcher.matcher.match``
(``verbose`` is accepted and ignored). Each pattern is compiled once (kept in a
bounded cache): a ``[...]`` of comparisons joined by OR and AND into one Python
function (:mod:`accord.patterns._codegen`), anything else into the evaluator's
closures (:mod:`accord.patterns._evaluate`). Each input is prepared once (its
observations, and their objects by type) and reused while it is the same input.
"""

from __future__ import annotations

import contextlib
import re
import sys
from functools import lru_cache
from typing import Any

from accord.exceptions import PatternMatchError
from accord.patterns._ast import SimpleObservation
from accord.patterns._codegen import Runner, compile_expression
from accord.patterns._evaluate import SDO_TYPES, CompiledPattern
from accord.patterns._observations import Observation, observations_of
from accord.patterns._parser import parse

__all__ = ["Prepared", "compile_cached", "match"]


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
    run = _RUNNERS.get(pattern)
    if run is None:
        run = _runner(pattern)
    try:
        prepared = _PREPARED.get(id(observed_data_sdos))
        if (
            prepared is None
            or prepared.sdos is not observed_data_sdos
            or prepared.version != stix_version
            or not (
                # one bundle (the common input), checked inline: Prepared.holds
                len(observed_data_sdos) == 1
                and observed_data_sdos[0] is prepared.one
                and prepared.one.get("objects") is prepared.objects
                and len(prepared.objects) == prepared.size
                if prepared.one is not None
                else prepared.holds(observed_data_sdos, stix_version)
            )
        ):
            prepared = _prepare(observed_data_sdos, stix_version)
        return run(prepared)
    except PatternMatchError as exc:
        if not exc.pattern:
            raise PatternMatchError(pattern, exc.reason) from exc
        raise


# -- patterns -------------------------------------------------------------------

_RUNNERS: dict[str, Runner] = {}
_RUNNERS_MAX = 8_192  # patterns; the oldest is dropped first


def _runner(pattern: str) -> Runner:
    parsed = parse(pattern)
    run: Runner | None = None
    if isinstance(parsed.root, SimpleObservation):
        try:
            run = compile_expression(parsed.root.expr, parsed.text, _deferred(pattern))
        except (PatternMatchError, re.error):
            run = None  # the evaluator holds the error, and raises it on every evaluation
    if run is None:
        run = _interpreted(compile_cached(pattern))
    if len(_RUNNERS) >= _RUNNERS_MAX:
        # the oldest out; another thread may have taken it first
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):
            del _RUNNERS[next(iter(_RUNNERS))]
    _RUNNERS[pattern] = run
    return run


def _deferred(pattern: str) -> Runner:
    """The evaluator's answer, compiled when first needed (inputs not prepared by type)."""

    def run(prepared: Prepared) -> list[dict[str, Any]]:
        return _interpreted(compile_cached(pattern))(prepared)

    return run


def _interpreted(compiled: CompiledPattern) -> Runner:
    """The evaluator's answer on a prepared input (patterns the generator leaves)."""

    def run(prepared: Prepared) -> list[dict[str, Any]]:
        observations = prepared.observations
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
        if first is None:
            return []
        chosen = sorted({i for i, n in first if n == 0})
        return [observations[i].sdo for i in chosen]

    return run


# -- inputs ---------------------------------------------------------------------


class Prepared:
    """An input of ``match()`` read once: its observations, their objects by type.

    Preparing (finding each observed-data's objects, reading its times) costs
    more than evaluating a compiled pattern, and callers evaluate many patterns
    against the same observations, so a prepared input is kept by the identity
    of the input list (:func:`_prepare`). It is used again only while the list,
    each of its bundles (or SDOs) and each one's ``objects`` are the same
    objects, with the same lengths (:meth:`holds`); values inside objects are
    always read live. Replacing an object's type, id, refs or times in place
    between two calls is not seen: pass a new list then.
    """

    __slots__ = (
        "by_type",
        "objects",
        "observations",
        "one",
        "sdos",
        "shape",
        "single",
        "single_obs",
        "single_sdo",
        "size",
        "version",
    )

    def __init__(self, sdos: Any, version: str, observations: list[Observation]) -> None:
        self.sdos = sdos
        self.version = version
        self.observations = observations
        shape: list[tuple[Any, Any, int]] = []
        for sdo in sdos if type(sdos) is list else ():
            objects = sdo.get("objects") if type(sdo) is dict else None
            size = len(objects) if isinstance(objects, (list, dict)) else -1
            shape.append((sdo, objects, size))
        self.shape: tuple[tuple[Any, Any, int], ...] | None = (
            tuple(shape) if type(sdos) is list else None
        )
        self.size = sum(n for _, _, n in shape if n > 0)
        self.one: dict[str, Any] | None = None
        """The input's only item, where it is a dict with a list or dict of ``objects``."""
        self.objects: Any = None
        if len(shape) == 1 and shape[0][2] >= 0:
            self.one, self.objects = shape[0][0], shape[0][1]
        by_type = _by_type(observations)
        self.by_type = by_type
        """Object type -> (observation index, root object), in the evaluator's
        order (observations, then their objects); None if the objects could not
        be read this way (the evaluator then reads them, and fails as it fails)."""
        self.single: dict[str, tuple[Any, ...]] | None = None
        """For one observation: object type -> its root objects, in order."""
        self.single_obs: Observation | None = None
        self.single_sdo: dict[str, Any] | None = None
        if by_type is not None and len(observations) == 1:
            self.single = {t: tuple(obj for _, obj in found) for t, found in by_type.items()}
            self.single_obs = observations[0]
            self.single_sdo = observations[0].sdo

    def holds(self, sdos: Any, version: str) -> bool:
        """Whether this is still the prepared form of ``sdos`` read as ``version``."""
        shape = self.shape
        if sdos is not self.sdos or version != self.version or shape is None:
            return False
        one = self.one
        if one is not None:
            return (
                len(sdos) == 1
                and sdos[0] is one
                and one.get("objects") is self.objects
                and len(self.objects) == self.size
            )
        if len(sdos) != len(shape):
            return False
        for sdo, (held, objects, size) in zip(sdos, shape, strict=True):
            if sdo is not held:
                return False
            if type(sdo) is dict:
                now = sdo.get("objects")
                if now is not objects or (size >= 0 and len(now) != size):
                    return False
        return True


def _by_type(observations: list[Observation]) -> dict[str, list[tuple[int, Any]]] | None:
    """The root objects of each type, as ``Observation.roots`` selects them."""
    by_type: dict[str, list[tuple[int, Any]]] = {}
    try:
        for idx, obs in enumerate(observations):
            v21 = obs.v21
            # 2.1: one object per id, the last of that id (as the reference)
            objects = {o["id"]: o for o in obs.objects}.values() if v21 else obs.objects.values()
            for obj in objects:
                if type(obj) is not dict:
                    continue
                type_ = obj.get("type")
                if type(type_) is not str:
                    if type_ is None:
                        continue
                    return None  # a type only the evaluator's comparison can judge
                if v21 and type_ in SDO_TYPES:
                    continue  # not an observable: patterns on it match nothing in 2.1
                found = by_type.get(type_)
                if found is None:
                    by_type[sys.intern(type_)] = [(idx, obj)]
                else:
                    found.append((idx, obj))
    except Exception:  # objects the evaluator reads lazily, and may fail on
        return None
    return by_type


# The prepared form of recent inputs, by the identity of the input list; an
# entry keeps its list alive, so its id cannot be reused while it is cached.
_PREPARED: dict[int, Prepared] = {}
_PREPARED_MAX = 2_048  # inputs
_PREPARED_MAX_OBJECTS = 200_000  # objects in them all: big inputs are not kept long
_held = [0]


def _prepare(sdos: Any, stix_version: str) -> Prepared:
    prepared = Prepared(sdos, stix_version, observations_of(sdos, stix_version))
    if prepared.shape is not None:
        size = prepared.size
        if len(_PREPARED) >= _PREPARED_MAX or _held[0] + size > _PREPARED_MAX_OBJECTS:
            _PREPARED.clear()
            _held[0] = 0
        _held[0] += size
        _PREPARED[id(sdos)] = prepared
    return prepared
