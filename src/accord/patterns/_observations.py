"""Observed data as the evaluator sees it: one :class:`Observation` per observed-data.

Two input forms are read, as ``stix2matcher.matcher.match`` reads them:

- STIX 2.1 (``stix_version="2.1"``): a list of bundles, merged into one; each
  ``observed-data`` in it is one observation over the SCOs its
  ``object_refs`` name; ``match()`` returns, for each matching observation, the
  merged bundle with ``objects`` = that observed-data and its SCOs;
- STIX 2.0 (``stix_version="2.0"``) and the deprecated 2.1 form: a list of
  ``observed-data`` SDOs each with an embedded ``objects`` dictionary, whose keys
  the references name. Accord also reads this form under ``"2.1"`` (the
  reference fails on it): it is what :class:`accord.patterns.Event` builds.
"""

from __future__ import annotations

import datetime
from typing import Any

from accord.exceptions import PatternMatchError
from accord.patterns._values import parse_timestamp

__all__ = ["Observation", "observations_of"]


class Observation:
    """One observed-data: its objects, its interval and its count."""

    __slots__ = (
        "_by_id",
        "_by_type",
        "_sdo",
        "_unique",
        "count",
        "first",
        "last",
        "merged",
        "objects",
        "v21",
    )

    def __init__(
        self,
        sdo: dict[str, Any] | None,
        objects: Any,
        meta: dict[str, Any],
        *,
        v21: bool,
        merged: dict[str, Any] | None = None,
    ) -> None:
        self._sdo = sdo
        self.merged = merged
        self.objects = objects
        self._unique: Any = None
        self.v21 = v21
        self._by_type: dict[str, list[tuple[Any, Any]]] | None = None
        self._by_id: dict[Any, list[Any]] | None = None
        if not ("number_observed" in meta and "first_observed" in meta and "last_observed" in meta):
            raise PatternMatchError(
                "", "observed-data needs number_observed, first_observed and last_observed"
            )
        count = meta["number_observed"]
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise PatternMatchError("", f"number_observed must be an integer >= 1, not {count!r}")
        self.count: int = count
        # Observed data is untrusted (a log's JSON lines): a bad time is the data's fault.
        try:
            self.first: datetime.datetime = parse_timestamp(meta["first_observed"])
            self.last: datetime.datetime = parse_timestamp(meta["last_observed"])
        except (TypeError, ValueError) as exc:
            raise PatternMatchError(
                "", f"observed-data with a bad observation time: {exc}"
            ) from None

    @property
    def sdo(self) -> dict[str, Any]:
        """What ``match()`` returns for this observation (2.1: the bundle of its objects)."""
        if self._sdo is None:
            self._sdo = dict(self.merged or {})
            self._sdo["objects"] = self.objects
        return self._sdo

    def roots(self, type_: str) -> list[tuple[Any, Any]]:
        """(root id, object) for the objects of one type, in input order."""
        by_type = self._by_type
        if by_type is None:
            by_type = self._by_type = {}
        found = by_type.get(type_)
        if found is None:
            items = self._unique
            if items is None:
                if self.v21:  # one object per id, the last of that id (as the reference)
                    items = list({o["id"]: o for o in self.objects}.items())
                else:
                    items = list(self.objects.items())
                self._unique = items
            found = by_type[type_] = [
                (key, obj) for key, obj in items if type(obj) is dict and obj.get("type") == type_
            ]
        return found

    def resolve(self, ref: str) -> list[Any]:
        """The objects a reference names in this observation (none if it dangles)."""
        if not self.v21:
            objects = self.objects
            return [objects[ref]] if isinstance(objects, dict) and ref in objects else []
        by_id = self._by_id
        if by_id is None:
            by_id = self._by_id = {}
            for o in self.objects:
                by_id.setdefault(o["id"], []).append(o)
        return by_id.get(ref, [])


def _merge(base: Any, other: Any) -> Any:
    """Deep merge as the reference does it: dicts merge, lists concatenate, else replace."""
    if isinstance(base, dict) and isinstance(other, dict):
        out = dict(base)
        for k, v in other.items():
            out[k] = _merge(out[k], v) if k in out else v
        return out
    if isinstance(base, list) and isinstance(other, list):
        return base + other
    return other


def _embedded(sdo: Any) -> bool:
    return (
        isinstance(sdo, dict)
        and sdo.get("type") == "observed-data"
        and isinstance(sdo.get("objects"), dict)
    )


def observations_of(sdos: list[Any], stix_version: str) -> list[Observation]:
    """The observations in ``match()``'s input (see the module docstring).

    Raises:
        PatternMatchError: the input is not observed data in the expected form.
    """
    if stix_version != "2.1" or (sdos and all(_embedded(s) for s in sdos)):
        out = []
        for sdo in sdos:
            if not isinstance(sdo, dict):
                raise PatternMatchError("", "an observed-data must be a JSON object")
            objects = sdo.get("objects", {})
            if not isinstance(objects, dict) or not all(
                isinstance(o, dict) for o in objects.values()
            ):
                raise PatternMatchError("", "an observed-data's 'objects' must map keys to objects")
            out.append(Observation(sdo, objects, sdo, v21=False))
        return out
    if not sdos:
        merged: dict[str, Any] = {}
    elif len(sdos) == 1:
        merged = sdos[0]
    else:
        merged = {}
        for bundle in sdos:
            merged = _merge(merged, bundle)
    if not isinstance(merged, dict) or "objects" not in merged:
        raise PatternMatchError("", "a STIX 2.1 bundle needs 'objects'")
    if not isinstance(merged["objects"], list):
        raise PatternMatchError("", "a STIX 2.1 bundle's 'objects' must be a list")
    observed: list[dict[str, Any]] = []
    scos: dict[Any, Any] = {}
    for obj in merged["objects"]:
        # Observed data is untrusted (a log's JSON lines): its shape is checked here.
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise PatternMatchError("", "each object of a bundle needs a 'type'")
        if not isinstance(obj.get("id"), str):
            raise PatternMatchError("", f"a {obj['type']} in a STIX 2.1 bundle needs an 'id'")
        if obj["type"] == "observed-data":
            observed.append(obj)
        else:
            scos[obj["id"]] = obj
    result = []
    for od in observed:
        refs = od.get("object_refs")
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise PatternMatchError("", "a STIX 2.1 observed-data needs 'object_refs' (ids)")
        objs = [od, *(scos[r] for r in refs if r in scos)]
        result.append(Observation(None, objs, od, v21=True, merged=merged))
    return result
