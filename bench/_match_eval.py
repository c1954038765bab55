"""Part (b) of the match benchmark: one pattern against one observation, Accord and the reference.

A seeded sample of pairs (`sample_pairs`): half are patterns made from the
observation's own keys (equality, IN, LIKE, OR, ordering: they match), half are
real indicator patterns (Unit 42's shapes: hashes, domains, URLs, addresses, LIKE,
AND/OR; and maltrail's) paired with a random replayed Zeek observation (they
mostly do not match). Each pair is evaluated through ``stix2matcher.matcher.match`` and through
``accord.patterns.match``, both with the same arguments; the answers must agree
(the same matching SDOs, or both an error), and the time of each is summed.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from accord.patterns import Event
from accord.patterns import match as accord_match


@dataclass
class EvalResult:
    pairs: int = 0
    matched: int = 0
    errors: int = 0
    disagreements: list[str] = field(default_factory=list)
    reference_seconds: float = 0.0
    accord_seconds: float = 0.0  # first evaluation of each pattern: its parse included
    accord_warm_seconds: float = 0.0  # the same again, each pattern already compiled
    floor_seconds: float = 0.0  # a function that does nothing, called the same way

    @property
    def ratio(self) -> float:
        return self.reference_seconds / self.accord_seconds if self.accord_seconds else 0.0

    @property
    def warm_ratio(self) -> float:
        warm = self.accord_warm_seconds
        return self.reference_seconds / warm if warm else 0.0

    @property
    def floor_ratio(self) -> float:
        """The ratio of a function that does nothing: the most any Python function can get."""
        return self.reference_seconds / self.floor_seconds if self.floor_seconds else 0.0


_NS = uuid.UUID("8f0b3c1e-2d4a-4e6b-9c7d-1a2b3c4d5e6f")


def as_bundle(sdo: dict[str, Any]) -> dict[str, Any]:
    """An observed-data with embedded ``objects`` as the STIX 2.1 bundle form.

    The reference matcher reads STIX 2.1 observations as bundles: the SCOs as
    objects of their own with ids, the observed-data pointing at them with
    ``object_refs`` (its embedded ``objects`` it reads only as STIX 2.0).
    """
    ids = {
        key: f"{obj['type']}--{uuid.uuid5(_NS, sdo['id'] + key)}"
        for key, obj in sdo["objects"].items()
    }

    def rewrite(value: Any, prop: str = "") -> Any:
        if prop.endswith("_ref") and isinstance(value, str):
            return ids.get(value, value)
        if prop.endswith("_refs") and isinstance(value, list):
            return [ids.get(v, v) for v in value]
        if isinstance(value, dict):
            return {k: rewrite(v, k) for k, v in value.items()}
        return value

    scos = [
        {**rewrite(obj), "id": ids[key], "spec_version": "2.1"}
        for key, obj in sdo["objects"].items()
    ]
    observed = {k: v for k, v in sdo.items() if k != "objects"}
    observed["object_refs"] = list(ids.values())
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid5(_NS, sdo['id'])}",
        "objects": [observed, *scos],
    }


def _path(key: str) -> str:
    """An event key's path as a pattern writes it: steps with a hyphen quoted."""
    otype, _, prop = key.partition(":")
    steps = []
    for step in prop.split("."):
        suffix = "[*]" if step.endswith("[*]") else ""
        name = step[: -len(suffix)] if suffix else step
        steps.append((f"'{name}'" if "-" in name else name) + suffix)
    return f"{otype}:{'.'.join(steps)}"


def _literal(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _derived(rng: random.Random, event: Event) -> str:
    """A pattern made from one of the event's keys, in one of several shapes."""
    key, value = rng.choice(event.keys)
    path, lit = _path(key), _literal(value)
    shape = rng.randrange(4)
    if shape == 0:
        return f"[{path} = {lit}]"
    if shape == 1:
        other = "'no.such.example'" if isinstance(value, str) else "0"
        return f"[{path} IN ({other}, {lit})]"
    if shape == 2 and isinstance(value, str) and len(value) > 3:
        tail = _literal(value[-3:])[1:-1].replace("%", "").replace("_", "")
        return f"[{path} LIKE '%{tail}']"
    return (
        f"[{path} = {lit} OR {path} = 'no.such.example']"
        if isinstance(value, str)
        else (f"[{path} >= {lit}]")
    )


def sample_pairs(
    patterns: Sequence[str], events: Sequence[Event], n: int, seed: int
) -> list[tuple[str, list[dict[str, Any]]]]:
    """``n`` (pattern, [STIX 2.1 bundle]) pairs: half matching, half drawn at random.

    The matching half is made from the observation's own keys (equality, IN,
    LIKE, OR, ordering); the other half pairs a real indicator pattern (Unit 42,
    maltrail) with a random observation.
    """
    rng = random.Random(seed)
    pairs: list[tuple[str, list[dict[str, Any]]]] = []
    for k in range(n):
        event = rng.choice(events)
        pattern = _derived(rng, event) if k % 2 == 0 else rng.choice(patterns)
        pairs.append((pattern, [as_bundle(sdo) for sdo in event.observed()]))
    return pairs


def nothing(
    pattern: str, sdos: list[dict[str, Any]], verbose: bool = False, stix_version: str = "2.1"
) -> list[dict[str, Any]]:
    """The floor: `match`'s signature, no work (the answer of every pair that does not match)."""
    return []


def _outcome(fn: Any, pattern: str, sdos: list[dict[str, Any]]) -> tuple[str, object]:
    try:
        return "ok", [s.get("id") for s in fn(pattern, sdos, False, "2.1")]
    except Exception as exc:
        return "error", type(exc).__name__


def evaluate(pairs: list[tuple[str, list[dict[str, Any]]]]) -> EvalResult:
    """Run every pair through both matchers; time each and compare the answers."""
    from stix2matcher.matcher import match as reference_match

    result = EvalResult(pairs=len(pairs))
    clock = time.perf_counter
    for pattern, sdos in pairs:
        started = clock()
        ref = _outcome(reference_match, pattern, sdos)
        result.reference_seconds += clock() - started
        started = clock()
        ours = _outcome(accord_match, pattern, sdos)
        result.accord_seconds += clock() - started
        if ref[0] == "error":
            result.errors += 1
        elif ref[1]:
            result.matched += 1
        if (ref[0], ref[1] if ref[0] == "ok" else None) != (
            ours[0],
            ours[1] if ours[0] == "ok" else None,
        ):
            result.disagreements.append(f"{pattern}: reference {ref}, accord {ours}")
    # Again: every pattern is now compiled (as in the matcher, which compiles each
    # indicator once and evaluates it on every observation its keys bring).
    started = clock()
    for pattern, sdos in pairs:
        _outcome(accord_match, pattern, sdos)
    result.accord_warm_seconds = clock() - started
    # The floor, the same way: one pass, through the same wrapper.
    started = clock()
    for pattern, sdos in pairs:
        _outcome(nothing, pattern, sdos)
    result.floor_seconds = clock() - started
    return result
