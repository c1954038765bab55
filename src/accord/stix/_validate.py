"""Structural validation of one STIX 2.1 object against :data:`._types.STIX_TYPES`.

:func:`validate` runs on every object at ingest, so it is one function with the
common checks written inline (in CPython a call costs more than most checks).
It first checks what tells what the object is (a JSON object, its ``type`` and
``id``), then lifts STIX 2.0 to 2.1 where needed, then checks the rest.
"""

from __future__ import annotations

import operator

from accord.exceptions import InvalidObject
from accord.stix import _checks as c
from accord.stix._ids import CACHE_LIMIT as _IDS_LIMIT
from accord.stix._ids import GOOD_IDS as _GOOD_IDS
from accord.stix._ids import TYPE_RE, UUID_RE, is_identifier
from accord.stix._lift import is_stix20, lift
from accord.stix._timestamps import GOOD as _GOOD_TS
from accord.stix._timestamps import timestamp_key
from accord.stix._types import CUSTOM_COMMON, SKIP, STIX_TYPES, TypeRule

__all__ = ["CUSTOM_RULE", "validate"]

# A type the specification does not define (§11.2 custom objects, or a new
# object type defined by an extension-definition, §7.3). Only id and type are
# required up front; SDO-like ones (with created or modified) need spec_version,
# created and modified too.
CUSTOM_RULE = TypeRule("custom", CUSTOM_COMMON, frozenset(("type", "id")), ())
_CUSTOM_SDO_REQUIRED = frozenset(("type", "id", "spec_version", "created", "modified"))
_STRING, _SKIP, _TS, _TS_MS = c.string, SKIP, c.timestamp, c.timestamp_ms
_REF, _CREATED_BY, _MARKINGS, _STRINGS = c.any_ref, c.created_by_ref, c.marking_refs, c.string_list
_ANY = c.any_value
_NOT_OBJECTS = {"bundle": "a bundle is a container of objects, not an object (§8)"}

# Required properties as C-level getters: a KeyError means one is missing.
_GETTERS = {name: operator.itemgetter(*rule.required) for name, rule in STIX_TYPES.items()}
_CUSTOM_GETTER = operator.itemgetter(*CUSTOM_RULE.required)
_CUSTOM_SDO_GETTER = operator.itemgetter(*_CUSTOM_SDO_REQUIRED)

_CUSTOM_CHECKS: dict[str, c.Check] = {}
_CUSTOM_LIMIT = 10_000


def _reject_head(obj: object) -> None:
    """Raise the error for an object whose type or id failed the fast checks."""
    if type(obj) is not dict:
        raise InvalidObject(
            None, None, f"a STIX object must be a JSON object, not {c.kind_name(obj)}"
        )
    oid = obj.get("id")
    shown = oid if type(oid) is str else None
    obj_type = obj.get("type")
    if obj_type is None:
        raise InvalidObject(shown, "type", "is required")
    if type(obj_type) is not str:
        raise InvalidObject(shown, "type", f"must be a string, not {c.kind_name(obj_type)}")
    if obj_type not in STIX_TYPES:
        if obj_type in _NOT_OBJECTS:
            raise InvalidObject(shown, "type", _NOT_OBJECTS[obj_type])
        if TYPE_RE.match(obj_type) is None:
            raise InvalidObject(
                shown,
                "type",
                f"{obj_type[:80]!r} is not a type name: 3-250 of a-z, 0-9 and single hyphens,"
                " starting and ending with a letter or digit (§11.2)",
            )
    if oid is None:
        raise InvalidObject(None, "id", "is required")
    if type(oid) is not str:
        raise InvalidObject(None, "id", f"must be a string, not {c.kind_name(oid)}")
    if not is_identifier(oid):
        raise InvalidObject(
            oid, "id", "is not an identifier: type--UUID, with an RFC 4122 UUID (§2.9)"
        )
    raise InvalidObject(oid, "id", f"must start with the object's type: {obj_type}--")


def _custom_check(name: object) -> c.Check:
    """The checker for a property the type does not define (a custom property, §11.1)."""
    if type(name) is not str:
        raise c.CheckError(f"property names must be strings, not {c.kind_name(name)}")
    check = _CUSTOM_CHECKS.get(name)
    if check is None:
        problem = c.custom_property_problem(name)
        if problem is not None:
            raise c.CheckError(problem)
        # A custom property holds what its producer defined (§11.1). The _ref
        # naming convention is not enforced on them: MITRE ATT&CK ships
        # x_mitre_data_source_ref = "" on data components, and the OASIS stix2
        # library accepts that; refusing official ATT&CK objects helps nobody.
        check = c.any_value
        if len(_CUSTOM_CHECKS) >= _CUSTOM_LIMIT:
            _CUSTOM_CHECKS.clear()
        _CUSTOM_CHECKS[name] = check
    return check


def validate(
    obj: object, bundle_spec_version: str | None = None
) -> tuple[dict[str, object], str, tuple[str, ...]]:
    """Validate one object, lifting it from STIX 2.0 first where needed.

    Args:
        obj: the parsed JSON value.
        bundle_spec_version: the enclosing bundle's ``spec_version``, if any.

    Returns:
        The object in its 2.1 form (a lifted copy, or ``obj`` itself), its id,
        and the lifting notes.

    Raises:
        InvalidObject: naming the object, the property at fault and the reason.
    """
    # --- what the object is: a dict, its type and its id
    if type(obj) is not dict:
        _reject_head(obj)
    assert type(obj) is dict
    obj_type = obj.get("type")
    oid = obj.get("id")
    if type(obj_type) is not str:
        _reject_head(obj)
    assert type(obj_type) is str
    rule = STIX_TYPES.get(obj_type)
    if rule is None:
        if obj_type in _NOT_OBJECTS or TYPE_RE.match(obj_type) is None:
            _reject_head(obj)
        rule = CUSTOM_RULE
    # id = the type (known good by now), "--", and a 36-character UUID.
    n = len(obj_type)
    if (
        type(oid) is not str
        or len(oid) != n + 38
        or not oid.startswith(obj_type)
        or oid[n : n + 2] != "--"
        or (oid not in _GOOD_IDS and UUID_RE.match(oid, n + 2) is None)
    ):
        _reject_head(obj)
    assert type(oid) is str
    # Remember it: relationships and reports will refer to it.
    if len(_GOOD_IDS) >= _IDS_LIMIT:
        _GOOD_IDS.clear()
    _GOOD_IDS.add(oid)

    # --- STIX 2.0 in, STIX 2.1 out
    notes: tuple[str, ...] = ()
    if obj.get("spec_version") != "2.1" and is_stix20(obj, rule.category, bundle_spec_version):
        obj, notes = lift(obj)

    # --- required properties
    getter = _GETTERS.get(obj_type)
    if getter is None:
        custom_sdo = "created" in obj or "modified" in obj
        getter = _CUSTOM_SDO_GETTER if custom_sdo else _CUSTOM_GETTER
    try:
        getter(obj)
    except KeyError:
        required = _CUSTOM_SDO_REQUIRED if getter is _CUSTOM_SDO_GETTER else rule.required
        missing = sorted(required - obj.keys())[0]
        raise InvalidObject(oid, missing, "is required") from None
    spec_version = obj.get("spec_version", "2.1")
    if spec_version != "2.1":
        raise InvalidObject(
            oid, "spec_version", f"must be '2.1' (or absent on an SCO), not {spec_version!r}"
        )

    # The hot loop. The commonest checks are done inline for the value that
    # passes (a call costs more than the check); anything that fails the inline
    # test goes to the full checker, which explains the fault or, for a value
    # not yet in a cache, finds it good after all.
    props = rule.props
    name = ""
    try:
        for name, value in obj.items():
            check = props.get(name)
            if check is None:
                check = _CUSTOM_CHECKS.get(name) or _custom_check(name)
            # Each branch: this checker, and the value passes its inline test.
            if check is _STRING and type(value) is str:
                continue
            if check is _SKIP:
                continue
            if check is _TS and type(value) is str and value in _GOOD_TS:
                continue
            if check is _TS_MS and type(value) is str and value in _GOOD_TS and len(value) >= 24:
                continue
            if check is _REF and type(value) is str and value in _GOOD_IDS:
                continue
            if (
                check is _CREATED_BY
                and type(value) is str
                and value in _GOOD_IDS
                and value.startswith("identity--")
            ):
                continue
            if (
                check is _MARKINGS
                and type(value) is list
                and len(value) == 1
                and type(first := value[0]) is str
                and first in _GOOD_IDS
                and first.startswith("marking-definition--")
            ):
                continue
            if (
                check is _STRINGS
                and type(value) is list
                and len(value) == 1
                and type(value[0]) is str
            ):
                continue
            if check is _ANY and (type(value) is str or (value is not None and value != [])):
                continue
            check(value)
    except c.CheckError as fault:
        raise InvalidObject(oid, f"{name}{fault.path}", fault.reason) from None

    try:
        for trigger, constraint in rule.constraints:
            if trigger is None or trigger in obj:
                constraint(obj)
    except c.CheckError as fault:
        raise InvalidObject(oid, fault.path or None, fault.reason) from None

    created, modified = obj.get("created"), obj.get("modified")
    if modified != created and type(created) is str and type(modified) is str:
        # Both passed as timestamps above, so both have keys (the cache may have
        # been emptied in between, hence the fallback).
        later = _GOOD_TS.get(modified) or timestamp_key(modified) or ""
        if later < (_GOOD_TS.get(created) or timestamp_key(created) or ""):
            # §3.2: modified MUST be later than or equal to created.
            raise InvalidObject(
                oid, "modified", f"{modified} must not be earlier than created {created}"
            )
    return obj, oid, notes
