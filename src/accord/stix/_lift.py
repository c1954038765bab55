"""Lifting STIX 2.0 objects to STIX 2.1.

An object is STIX 2.0 when it says ``spec_version: "2.0"``, or when it has no
``spec_version`` and is an SDO, SRO or meta object (2.1 requires the property
there, §3.2; 2.0 only had it on the bundle), or a custom object with
``created`` (an SDO-like custom object), or when the caller says the bundle it
came in is 2.0 (``bundle_spec_version="2.0"``). An object that carries
``spec_version: "2.1"`` is never lifted, whatever its bundle says. SCOs have no
2.0 top-level form and are never lifted.

The changes, each recorded in ``Record.notes`` as ``lifted from STIX 2.0: ...``:

====================================  ==============================================================
2.0                                   2.1
====================================  ==============================================================
no ``spec_version``                   ``spec_version: "2.1"`` (§3.2: required on SDOs, SROs, meta)
indicator ``labels``                  ``indicator_types`` (labels removed, as the OASIS elevator)
indicator without ``pattern_type``    ``pattern_type: "stix"`` (§4.7: required in 2.1)
malware ``labels``                    ``malware_types``
malware without ``is_family``         ``is_family: true`` (§4.11: required in 2.1; 2.0 malware
                                      was described as a family or sample alike, elevator default)
threat-actor ``labels``               ``threat_actor_types``
tool ``labels``                       ``tool_types``
report ``labels``                     ``report_types``
identity ``identity_class`` as a      its first element (a real-world wart: Unit 42 playbooks; 2.0
list                                  and 2.1 both define a single string)
``created``/``modified`` without      fraction padded to ``.000`` (§3.2 of both versions requires
milliseconds                          millisecond precision)
====================================  ==============================================================

Left alone: an observed-data's embedded ``objects`` dictionary (deprecated in 2.1
but valid, §4.14), indicator patterns (the 2.0 patterning language is a subset
of 2.1's for everything real feeds use), custom properties and custom objects
(only ``spec_version`` is added).
"""

from __future__ import annotations

from accord.stix._timestamps import fraction_digits

__all__ = ["is_stix20", "lift"]

_TYPES_FROM_LABELS = {
    "indicator": "indicator_types",
    "malware": "malware_types",
    "threat-actor": "threat_actor_types",
    "tool": "tool_types",
    "report": "report_types",
}
_NOTE = "lifted from STIX 2.0: "


def is_stix20(obj: dict[str, object], category: str, bundle_spec_version: str | None) -> bool:
    """Whether ``obj`` (not yet validated) should be lifted from STIX 2.0.

    Args:
        obj: the object.
        category: its category (``sdo``, ``sro``, ``sco``, ``meta`` or ``custom``).
        bundle_spec_version: the enclosing bundle's ``spec_version``, if any.
    """
    spec_version = obj.get("spec_version")
    if spec_version == "2.0":
        return True
    if spec_version is not None or category == "sco":
        return False
    if bundle_spec_version == "2.0":
        return True
    if category == "custom":
        return "created" in obj
    return True


def _pad_ms(value: object) -> object:
    """A timestamp with fewer than three fraction digits, padded to milliseconds."""
    if type(value) is not str:
        return value
    digits = fraction_digits(value)
    if digits < 0 or digits >= 3:
        return value
    if digits == 0:
        return value[:-1] + ".000Z"
    return value[:-1] + "0" * (3 - digits) + "Z"


_ADDED = (_NOTE + "spec_version '2.1' added",)
_SPECIAL = frozenset((*_TYPES_FROM_LABELS, "identity"))


def lift(obj: dict[str, object]) -> tuple[dict[str, object], tuple[str, ...]]:
    """Lift a STIX 2.0 object to 2.1.

    Args:
        obj: the 2.0 object; it is not modified.

    Returns:
        The lifted copy and the notes saying what changed.
    """
    # Fast path, most objects (relationships above all): only spec_version to add.
    created, modified = obj.get("created"), obj.get("modified")
    if (
        obj.get("type") not in _SPECIAL
        and "spec_version" not in obj
        and (type(created) is not str or len(created) >= 24)
        and (type(modified) is not str or len(modified) >= 24)
    ):
        out = dict(obj)
        out["spec_version"] = "2.1"
        return out, _ADDED
    out = dict(obj)
    notes: list[str] = []
    obj_type = out.get("type")
    if out.get("spec_version") == "2.0":
        notes.append(_NOTE + "spec_version '2.0' → '2.1'")
    else:
        notes.append(_NOTE + "spec_version '2.1' added")
    out["spec_version"] = "2.1"

    types_prop = _TYPES_FROM_LABELS.get(obj_type) if type(obj_type) is str else None
    if types_prop is not None and "labels" in out and types_prop not in out:
        out[types_prop] = out.pop("labels")
        notes.append(f"{_NOTE}labels → {types_prop}")
    if obj_type == "indicator" and "pattern_type" not in out:
        out["pattern_type"] = "stix"
        notes.append(_NOTE + "pattern_type 'stix' added")
    elif obj_type == "malware" and "is_family" not in out:
        out["is_family"] = True
        notes.append(_NOTE + "is_family true added")
    elif obj_type == "identity":
        klass = out.get("identity_class")
        if type(klass) is list and klass and type(klass[0]) is str:
            out["identity_class"] = klass[0]
            dropped = f" ({len(klass) - 1} more dropped)" if len(klass) > 1 else ""
            notes.append(f"{_NOTE}identity_class list → its first element {klass[0]!r}{dropped}")

    for prop in ("created", "modified"):
        value = out.get(prop)
        if type(value) is str and len(value) < 24:  # shorter than YYYY-MM-DDTHH:MM:SS.fffZ
            padded = _pad_ms(value)
            if padded is not value:
                out[prop] = padded
                notes.append(f"{_NOTE}{prop} padded to millisecond precision")
    return out, tuple(notes)
