"""References to withheld objects: an outgoing copy never names what its recipient may not see.

A relationship, a sighting, a report (and the other objects whose purpose is to
point at objects) names other objects by id. Where the recipient may not receive
the named object, the id alone tells it that the object exists, and a
relationship to it says what it is about. So, on the outgoing copy:

- a relationship whose ``source_ref`` or ``target_ref`` is withheld is withheld,
  and so is a sighting whose ``sighting_of_ref`` is;
- withheld ids are removed from the reference lists (``object_refs``,
  ``observed_data_refs``, ``where_sighted_refs``); a report, grouping, note or
  opinion left with no ``object_refs`` (which STIX requires) is withheld.

Which ids are withheld is the caller's to say (the service layer decides each
named object the node holds under the same agreement); ids the node does not
hold are not withheld: nothing is revealed by repeating what the sender wrote.
The common properties (``created_by_ref``, ``object_marking_refs``) are left
to the attribution and marking rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accord.policy._redact import Removal

__all__ = ["REFERRING_TYPES", "drop_references", "referenced"]

# Properties naming one object, whose loss withholds the whole object.
_SINGLE: dict[str, tuple[str, ...]] = {
    "relationship": ("source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
}
# Lists of references; those in _REQUIRED may not end up empty.
_LISTS: dict[str, tuple[str, ...]] = {
    "sighting": ("observed_data_refs", "where_sighted_refs"),
    "report": ("object_refs",),
    "grouping": ("object_refs",),
    "note": ("object_refs",),
    "opinion": ("object_refs",),
    "observed-data": ("object_refs",),
}
_REQUIRED = frozenset({"report", "grouping", "note", "opinion", "observed-data"})

REFERRING_TYPES = frozenset(_SINGLE) | frozenset(_LISTS)
"""The object types whose copies may name other objects this module checks."""


def referenced(obj: dict[str, Any]) -> list[str]:
    """The ids an object of a `REFERRING_TYPES` type names (empty for other types).

    Args:
        obj: a STIX object.
    """
    otype = obj.get("type")
    found: list[str] = []
    for prop in _SINGLE.get(otype, ()) if isinstance(otype, str) else ():
        value = obj.get(prop)
        if isinstance(value, str):
            found.append(value)
    for prop in _LISTS.get(otype, ()) if isinstance(otype, str) else ():
        values = obj.get(prop)
        if isinstance(values, list):
            found.extend(v for v in values if isinstance(v, str))
    return found


def drop_references(
    obj: dict[str, Any], withheld: Callable[[str], bool]
) -> tuple[dict[str, Any] | None, list[Removal], str]:
    """The outgoing copy without references to withheld objects.

    Args:
        obj: the outgoing object (not changed).
        withheld: whether the recipient may not receive the object with this id.

    Returns:
        (copy, removals, reason): the copy is ``obj`` itself when nothing names a
        withheld object, a new dictionary without the withheld ids, or ``None``
        when the object must be withheld (``reason`` says why).
    """
    otype = obj.get("type")
    if not isinstance(otype, str):
        return obj, [], ""
    for prop in _SINGLE.get(otype, ()):
        value = obj.get(prop)
        if isinstance(value, str) and withheld(value):
            return None, [], f"its {prop} names an object withheld from this recipient"
    copy: dict[str, Any] | None = None
    removed: list[Removal] = []
    for prop in _LISTS.get(otype, ()):
        values = obj.get(prop)
        if not isinstance(values, list):
            continue
        kept = [v for v in values if not (isinstance(v, str) and withheld(v))]
        if len(kept) == len(values):
            continue
        removed += [Removal("reference", prop, str(v)) for v in values if v not in kept]
        copy = dict(obj) if copy is None else copy
        if kept:
            copy[prop] = kept
        elif otype in _REQUIRED and prop == "object_refs":
            return None, removed, "every object it refers to is withheld from this recipient"
        else:
            del copy[prop]
    return (obj if copy is None else copy), removed, ""
