"""Object-level rules of STIX 2.1: properties that go together, and time order.

Each rule is a pair ``(trigger, check)``: the check runs only when the trigger
property is present (``None``: always), and raises :class:`._checks.CheckError`
whose ``path`` names the property at fault. The per-type table in
:mod:`._types` lists which rules apply to which type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from accord.stix import _checks as c
from accord.stix._timestamps import key_of

__all__ = [
    "Constraint",
    "Rule",
    "at_least_one",
    "contents",
    "email_body",
    "exactly_one",
    "extension_properties",
    "later",
    "location_place",
    "malware_name",
    "marking_definition",
    "observed_objects",
    "requires",
    "traffic_end",
]

Constraint = Callable[[Mapping[str, object]], None]
# A constraint with the property whose presence triggers it (None: always run).
Rule = tuple[str | None, Constraint]


def later(first: str, then: str, *, strict: bool = False) -> Rule:
    """``then`` must not be before ``first`` (strictly after it when ``strict``)."""

    def check(obj: Mapping[str, object]) -> None:
        a, b = obj.get(first), obj.get(then)
        if type(a) is str and type(b) is str:
            ka, kb = key_of(a), key_of(b)
            if strict and kb <= ka:
                raise c.CheckError(f"{b} must be later than {first} {a}", then)
            if kb < ka:
                raise c.CheckError(f"{b} must not be earlier than {first} {a}", then)

    return then, check


def at_least_one(*names: str) -> Rule:
    """At least one of ``names`` must be present."""

    def check(obj: Mapping[str, object]) -> None:
        for name in names:
            if name in obj:
                return
        raise c.CheckError(f"at least one of {', '.join(names)} is required", names[0])

    return None, check


def exactly_one(a: str, b: str) -> Rule:
    """Exactly one of ``a`` and ``b`` must be present."""

    def check(obj: Mapping[str, object]) -> None:
        if (a in obj) == (b in obj):
            word = "both" if a in obj else "neither"
            raise c.CheckError(f"exactly one of {a} and {b} is required, not {word}", a)

    return None, check


def requires(prop: str, needed: str) -> Rule:
    """When ``prop`` is present, ``needed`` must be too."""

    def check(obj: Mapping[str, object]) -> None:
        if prop in obj and needed not in obj:
            raise c.CheckError(f"is required when {prop} is present", needed)

    return prop, check


def malware_name(obj: Mapping[str, object]) -> None:
    # §4.11: name is required when is_family is true.
    if obj.get("is_family") is True and "name" not in obj:
        raise c.CheckError("is required when is_family is true (§4.11)", "name")


def location_place(obj: Mapping[str, object]) -> None:
    # §4.10: region, country, or latitude with longitude; latitude and longitude
    # go together; precision needs both.
    lat, lon = "latitude" in obj, "longitude" in obj
    if lat != lon:
        raise c.CheckError(
            "latitude and longitude must be given together (§4.10)",
            "latitude" if lon else "longitude",
        )
    if "precision" in obj and not lat:
        raise c.CheckError("needs latitude and longitude (§4.10)", "precision")
    if not (lat or "region" in obj or "country" in obj):
        raise c.CheckError(
            "at least one of region, country, or latitude and longitude is required (§4.10)",
            "region",
        )


# §7.2.1.4 defines white, green, amber and red. We also accept the TLP 2.0 names
# clear and amber+strict: OpenCTI and MISP publish TLP 2.0 markings in this
# (1.0) shape, TLP:CLEAR under the very id of TLP:WHITE, and refusing the marking
# would lose the sharing restriction it carries, which is worse for the policy
# engine than a vocabulary deviation.
_TLP_LEVELS = frozenset(("white", "green", "amber", "red", "clear", "amber+strict"))


def marking_definition(obj: Mapping[str, object]) -> None:
    # §7.2.1: without extensions, definition_type and definition MUST be present;
    # the tlp and statement definitions have fixed shapes (§7.2.1.3, §7.2.1.4).
    kind, definition = obj.get("definition_type"), obj.get("definition")
    if "extensions" not in obj:
        for name in ("definition_type", "definition"):
            if name not in obj:
                raise c.CheckError("is required when there are no extensions (§7.2.1)", name)
    if definition is None:
        return
    if kind == "tlp":
        level = definition.get("tlp") if type(definition) is dict else None
        if level not in _TLP_LEVELS:
            raise c.CheckError(
                "a tlp definition is {'tlp': white|green|amber|red} (§7.2.1.4)", "definition"
            )
    elif kind == "statement":
        text = definition.get("statement") if type(definition) is dict else None
        if type(text) is not str:
            raise c.CheckError(
                "a statement definition is {'statement': <string>} (§7.2.1.3)", "definition"
            )


def extension_properties(obj: Mapping[str, object]) -> None:
    # §7.3: extension_properties only with a toplevel-property-extension.
    types = obj.get("extension_types")
    if "extension_properties" in obj and not (
        type(types) is list and "toplevel-property-extension" in types
    ):
        raise c.CheckError(
            "is only allowed with extension type toplevel-property-extension (§7.3)",
            "extension_properties",
        )


def email_body(obj: Mapping[str, object]) -> None:
    # §6.6: body only when is_multipart is false, body_multipart only when true.
    multipart = obj.get("is_multipart")
    if multipart is True and "body" in obj:
        raise c.CheckError("must not be present when is_multipart is true (§6.6)", "body")
    if multipart is False and "body_multipart" in obj:
        raise c.CheckError(
            "must not be present unless is_multipart is true (§6.6)", "body_multipart"
        )


def traffic_end(obj: Mapping[str, object]) -> None:
    # §6.12: end MUST NOT be present when is_active is true.
    if obj.get("is_active") is True and "end" in obj:
        raise c.CheckError("must not be present when is_active is true (§6.12)", "end")


def observed_objects(value: object) -> None:
    # §4.14 (deprecated objects property): a dictionary of cyber observables.
    if type(value) is not dict:
        raise c.CheckError("must be an object mapping keys to cyber observables")
    if not value:
        raise c.CheckError("must not be empty")
    for key, item in value.items():
        if type(item) is not dict or type(item.get("type")) is not str:
            raise c.CheckError("must be a cyber observable object with a type", f".{key}")


def contents(value: object) -> None:
    # §7.1: language tag → object of translated properties.
    if type(value) is not dict:
        raise c.CheckError("must be an object mapping language tags to objects")
    if not value:
        raise c.CheckError("must not be empty")
    for key, item in value.items():
        if type(item) is not dict:
            raise c.CheckError("must be an object of translated properties", f".{key}")
