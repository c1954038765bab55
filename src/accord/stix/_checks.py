"""Checkers for STIX property values (STIX 2.1 §2: common data types).

A checker is a plain function ``check(value) -> None`` that raises
:class:`CheckError` with a reason in plain words (and, for nested values, the path
below the property, e.g. ``[2].source_name``). The validator turns a fault into
:class:`accord.exceptions.InvalidObject`. Checkers are built once, at import,
by the factories below; none allocates anything on the success path.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Collection

from accord.stix._ids import GOOD_IDS, id_type, is_identifier
from accord.stix._timestamps import timestamp_key, timestamp_problem

__all__ = [
    "Check",
    "CheckError",
    "DictCheck",
    "any_ref",
    "any_refs",
    "any_value",
    "binary",
    "boolean",
    "created_by_ref",
    "custom_property_problem",
    "dictionary",
    "enum",
    "extensions",
    "external_references",
    "granular_markings",
    "hashes",
    "hex_string",
    "identifier",
    "identifier_list",
    "integer",
    "kill_chain_phases",
    "kind_name",
    "list_of_dicts",
    "list_of_strings_in",
    "marking_refs",
    "number",
    "string",
    "string_list",
    "timestamp",
    "timestamp_ms",
]

Check = Callable[[object], None]
DictCheck = Callable[[dict[str, object]], None]


class CheckError(Exception):
    """A property value breaks the specification (internal; becomes InvalidObject).

    Args:
        reason: what is wrong, in plain words.
        path: where below the property, e.g. ``[0].source_name`` ("" for the value itself).
    """

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def kind_name(value: object) -> str:
    """The JSON name of a Python value's kind, for messages."""
    return {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _nested(fault: CheckError, prefix: str) -> CheckError:
    return CheckError(fault.reason, prefix + fault.path)


# --- scalars -------------------------------------------------------------------------------


def string(value: object) -> None:
    """A JSON string."""
    if type(value) is not str:
        raise CheckError(f"must be a string, not {kind_name(value)}")


def boolean(value: object) -> None:
    """A JSON boolean (§2.2)."""
    if type(value) is not bool:
        raise CheckError(f"must be true or false, not {kind_name(value)}")


def integer(low: int | None = None, high: int | None = None) -> Check:
    """An integer (§2.10), optionally within ``[low, high]``."""

    def check(value: object) -> None:
        if type(value) is not int:
            raise CheckError(f"must be an integer, not {kind_name(value)}")
        if (low is not None and value < low) or (high is not None and value > high):
            shown_low = "-inf" if low is None else low
            shown_high = "inf" if high is None else high
            raise CheckError(f"{value} is out of range {shown_low}..{shown_high}")

    return check


def number(low: float, high: float) -> Check:
    """A JSON number (§2.6 float, integers accepted) within ``[low, high]``."""

    def check(value: object) -> None:
        if type(value) is not float and type(value) is not int:
            raise CheckError(f"must be a number, not {kind_name(value)}")
        if not low <= value <= high:
            raise CheckError(f"{value} is out of range {low:g}..{high:g}")

    return check


def enum(values: Collection[str]) -> Check:
    """A string from a closed enumeration (§2.4)."""
    allowed = frozenset(values)
    shown = ", ".join(sorted(allowed))

    def check(value: object) -> None:
        if type(value) is not str:
            raise CheckError(f"must be a string, not {kind_name(value)}")
        if value not in allowed:
            raise CheckError(f"{value!r} is not one of: {shown}")

    return check


def timestamp(value: object) -> None:
    """A STIX timestamp (§2.15)."""
    if type(value) is not str or timestamp_key(value) is None:
        raise CheckError(timestamp_problem(value))


def timestamp_ms(value: object) -> None:
    """A timestamp with at least millisecond precision (§3.2, ``created``/``modified``)."""
    timestamp(value)
    assert type(value) is str
    # YYYY-MM-DDTHH:MM:SS.fffZ is 24 characters: fewer means under three digits.
    if len(value) < 24:
        raise CheckError(f"{value!r} must be precise to at least the millisecond (§3.2)")


_HEX_RE = re.compile(r"(?:[0-9a-fA-F]{2})+\Z")


def hex_string(value: object) -> None:
    """Hexadecimal octets (§2.8)."""
    if type(value) is not str:
        raise CheckError(f"must be a hex string, not {kind_name(value)}")
    if _HEX_RE.match(value) is None:
        raise CheckError(f"{value[:40]!r} is not a hex string of whole octets (§2.8)")


def binary(value: object) -> None:
    """Base64 data (§2.1: binary MUST be base64 encoded, RFC 4648 alphabet and padding)."""
    if type(value) is not str:
        raise CheckError(f"must be a base64 string, not {kind_name(value)}")
    try:
        binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise CheckError(f"is not valid base64 (§2.1): {exc}") from None


def any_value(value: object) -> None:
    """A custom property's value: any JSON except null and the empty list (§2.12, §11.1)."""
    if value is None:
        raise CheckError("must not be null: omit an optional property instead")
    if value == []:
        raise CheckError("must not be an empty list: omit an optional property instead")


# --- identifiers -----------------------------------------------------------------------------


def _id_problem(value: object, types: frozenset[str] | None) -> str | None:
    if not is_identifier(value):
        if type(value) is not str:
            return f"must be an identifier string, not {kind_name(value)}"
        return f"{value[:80]!r} is not an identifier (type--UUID, RFC 4122, §2.9)"
    if types is not None:
        assert type(value) is str
        ref_type = id_type(value)
        if ref_type not in types:
            return f"must refer to {' or '.join(sorted(types))}, not {ref_type}"
    return None


def identifier(types: Collection[str] | None = None) -> Check:
    """An identifier (§2.9), optionally restricted to some object types."""
    allowed = frozenset(types) if types is not None else None

    def check(value: object) -> None:
        problem = _id_problem(value, allowed)
        if problem is not None:
            raise CheckError(problem)

    return check


def identifier_list(types: Collection[str] | None = None) -> Check:
    """A non-empty list of identifiers (§2.9; empty lists are prohibited, §2.12)."""
    allowed = frozenset(types) if types is not None else None
    prefixes = tuple(f"{t}--" for t in sorted(allowed)) if allowed is not None else ()

    def check(value: object) -> None:
        if type(value) is not list:
            raise CheckError(f"must be a list of identifiers, not {kind_name(value)}")
        if not value:
            raise CheckError("must not be an empty list (§2.12)")
        # Fast path: every member already known good (refs repeat across a bundle).
        try:
            known = GOOD_IDS.issuperset(value)
        except TypeError:  # an unhashable member; the loop below names it
            known = False
        if known and all(item.startswith(prefixes) for item in value) if prefixes else known:
            return
        for i, item in enumerate(value):
            problem = _id_problem(item, allowed)
            if problem is not None:
                raise CheckError(problem, f"[{i}]")

    return check


# --- lists and dictionaries ------------------------------------------------------------------


def string_list(value: object) -> None:
    """A non-empty list of strings (§2.12: empty lists are prohibited)."""
    if type(value) is not list:
        raise CheckError(f"must be a list of strings, not {kind_name(value)}")
    if not value:
        raise CheckError("must not be an empty list (§2.12)")
    for i, item in enumerate(value):
        if type(item) is not str:
            raise CheckError(f"must be a string, not {kind_name(item)}", f"[{i}]")


def list_of_strings_in(values: Collection[str]) -> Check:
    """A non-empty list of strings, each from a closed enumeration."""
    member = enum(values)

    def check(value: object) -> None:
        string_list(value)
        assert type(value) is list
        for i, item in enumerate(value):
            try:
                member(item)
            except CheckError as fault:
                raise _nested(fault, f"[{i}]") from None

    return check


def list_of_dicts(item_check: DictCheck | None = None) -> Check:
    """A non-empty list of JSON objects, each passed to ``item_check``."""

    def check(value: object) -> None:
        if type(value) is not list:
            raise CheckError(f"must be a list, not {kind_name(value)}")
        if not value:
            raise CheckError("must not be an empty list (§2.12)")
        for i, item in enumerate(value):
            if type(item) is not dict:
                raise CheckError(f"must be an object, not {kind_name(item)}", f"[{i}]")
            if item_check is not None:
                try:
                    item_check(item)
                except CheckError as fault:
                    raise _nested(fault, f"[{i}]") from None

    return check


# §2.3: dictionary keys are ASCII letters, digits, hyphen and underscore, 1-250 long.
_DICT_KEY_RE = re.compile(r"[a-zA-Z0-9_-]{1,250}\Z")


def dictionary(value: object) -> None:
    """A dictionary (§2.3): a JSON object whose keys follow the key rule."""
    if type(value) is not dict:
        raise CheckError(f"must be an object, not {kind_name(value)}")
    for key in value:
        if type(key) is not str or _DICT_KEY_RE.match(key) is None:
            raise CheckError(
                f"dictionary key {str(key)[:60]!r} must be 1-250 of [a-zA-Z0-9_-] (§2.3)"
            )


# §2.7 hashes: the hash-algorithm-ov names whose value has a fixed hex length.
_HASH_HEX = {
    "MD5": 32,
    "SHA-1": 40,
    "SHA-256": 64,
    "SHA-512": 128,
    "SHA3-256": 64,
    "SHA3-512": 128,
}
_HEX_ONLY_RE = re.compile(r"[0-9a-fA-F]+\Z")
# §2.7: a custom hash algorithm name is 3-250 characters of [a-zA-Z0-9_-].
_HASH_KEY_RE = re.compile(r"[a-zA-Z0-9_-]{3,250}\Z")


def _hashes(value: object) -> None:
    if type(value) is not dict:
        raise CheckError(f"must be an object of algorithm to hash, not {kind_name(value)}")
    if not value:
        raise CheckError("must not be empty (§2.7)")
    for algo, digest in value.items():
        if type(digest) is not str:
            raise CheckError(f"must be a string, not {kind_name(digest)}", f".{algo}")
        size = _HASH_HEX.get(algo)
        if size is not None:
            if len(digest) != size or _HEX_ONLY_RE.match(digest) is None:
                raise CheckError(
                    f"{digest[:140]!r} is not a {algo} hash ({size} hex digits)", f".{algo}"
                )
        elif type(algo) is not str or _HASH_KEY_RE.match(algo) is None:
            raise CheckError(
                f"hash algorithm {str(algo)[:60]!r} must be 3-250 of [a-zA-Z0-9_-] (§2.7)"
            )


hashes: Check = _hashes


# --- common compound types -------------------------------------------------------------------


_EXTREF_ANY = ("description", "url", "external_id")


def _external_reference(item: dict[str, object]) -> None:
    # §2.5 External Reference: source_name is required, plus at least one of
    # description, url, external_id; all strings but hashes.
    if type(item.get("source_name")) is not str:
        if "source_name" not in item:
            raise CheckError("is required", ".source_name")
        raise CheckError(f"must be a string, not {kind_name(item['source_name'])}", ".source_name")
    for key, value in item.items():
        if type(value) is not str:
            if key == "hashes":
                try:
                    _hashes(value)
                except CheckError as fault:
                    raise _nested(fault, ".hashes") from None
            else:
                raise CheckError(f"must be a string, not {kind_name(value)}", f".{key}")
    if "url" not in item and "external_id" not in item and "description" not in item:
        raise CheckError(
            "needs at least one of description, url, external_id besides source_name (§2.5)"
        )


def _kill_chain_phase(item: dict[str, object]) -> None:
    # §2.11 Kill Chain Phase: kill_chain_name and phase_name, both strings.
    if type(item.get("kill_chain_name")) is str and type(item.get("phase_name")) is str:
        return
    for key in ("kill_chain_name", "phase_name"):
        if key not in item:
            raise CheckError("is required", f".{key}")
        if type(item[key]) is not str:
            raise CheckError(f"must be a string, not {kind_name(item[key])}", f".{key}")


_marking_ref = identifier(("marking-definition",))


def _granular_marking(item: dict[str, object]) -> None:
    # §7.2.3 Granular Markings: selectors (required) and exactly one of lang, marking_ref.
    if "selectors" not in item:
        raise CheckError("is required", ".selectors")
    try:
        string_list(item["selectors"])
    except CheckError as fault:
        raise _nested(fault, ".selectors") from None
    has_ref = "marking_ref" in item
    if has_ref == ("lang" in item):
        raise CheckError("needs exactly one of marking_ref and lang (§7.2.3)")
    if has_ref:
        try:
            _marking_ref(item["marking_ref"])
        except CheckError as fault:
            raise _nested(fault, ".marking_ref") from None
    elif type(item["lang"]) is not str:
        raise CheckError(f"must be a string, not {kind_name(item['lang'])}", ".lang")


any_ref = identifier()
any_refs = identifier_list()
created_by_ref = identifier(("identity",))  # §3.2: the id of an identity
marking_refs = identifier_list(("marking-definition",))  # §7.2.2
external_references = list_of_dicts(_external_reference)
kill_chain_phases = list_of_dicts(_kill_chain_phase)
granular_markings = list_of_dicts(_granular_marking)

_EXT_DEF = "extension-definition--"


def extensions(value: object) -> None:
    """The ``extensions`` dictionary (§7.3): name or extension-definition id → object."""
    if type(value) is not dict:
        raise CheckError(f"must be an object, not {kind_name(value)}")
    if not value:
        raise CheckError("must not be empty")
    for key, ext in value.items():
        if type(key) is not str:
            raise CheckError(f"extension names must be strings, not {kind_name(key)}")
        if key.startswith(_EXT_DEF):
            if not is_identifier(key):
                raise CheckError(f"{key!r} is not an extension-definition identifier (§7.3)")
        elif _DICT_KEY_RE.match(key) is None:
            raise CheckError(f"extension name {key[:60]!r} must be 1-250 of [a-zA-Z0-9_-] (§2.3)")
        if type(ext) is not dict:
            raise CheckError(f"must be an object, not {kind_name(ext)}", f".{key}")


# --- property names ------------------------------------------------------------------------

# §11.1 custom properties: ASCII a-z, 0-9 and underscore, 3-250 characters. (§3.1
# allows upper case in the names the specification itself defines, none of which
# uses it; any name we do not know is a custom property, so the §11.1 rule applies.)
_CUSTOM_NAME_RE = re.compile(r"[a-z0-9_]{3,250}\Z")


def custom_property_problem(name: str) -> str | None:
    """Why ``name`` cannot be a custom property name, or None if it can."""
    if _CUSTOM_NAME_RE.match(name) is None:
        return f"{name[:60]!r} is not a valid property name: 3-250 of a-z, 0-9, '_' (§11.1)"
    return None
